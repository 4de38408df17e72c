//! The pallet's invariants, checked by `try_state` (and by the tests after every scenario).

use super::*;
use frame_support::pallet_prelude::*;
use polkadot_sdk::sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// The invariants: every requester's held job fees are exactly what its open jobs owe,
	/// and every open job is due at a block that has it in its queue.
	pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		// Per requester: the fees its open jobs hold, and the deposits its stored jobs hold.
		let mut owed: alloc::collections::BTreeMap<T::AccountId, (BalanceOf<T>, BalanceOf<T>)> =
			Default::default();
		for (id, job) in Jobs::<T>::iter() {
			let (fees, deposits) = owed.entry(job.requester.clone()).or_default();
			deposits.saturating_accrue(JobDeposits::<T>::get(id).unwrap_or_default());
			ensure!(
				job.seats.is_empty() || job.seats.len() as u32 == job.size,
				"a committee has another size than its job asked for"
			);
			if matches!(job.phase, Phase::Draw | Phase::Commit | Phase::Reveal) {
				fees.saturating_accrue(job.fee.total);
				ensure!(Due::<T>::contains_key(job.due, id), "an open job has no deadline");
			}
		}
		for (requester, _) in JobsByRequester::<T>::iter_keys() {
			let (fees, deposits) = owed.get(&requester).copied().unwrap_or_default();
			let held =
				|reason: HoldReason| T::Currency::balance_on_hold(&reason.into(), &requester);
			ensure!(
				held(HoldReason::JobFee) == fees,
				"held job fees differ from what open jobs owe"
			);
			ensure!(
				held(HoldReason::JobDeposit) == deposits,
				"held deposits differ from the stored jobs'"
			);
		}
		ensure!(
			JobDeposits::<T>::iter_keys().all(Jobs::<T>::contains_key),
			"a deposit outlives its job"
		);
		// Per challenger: the bonds of its open challenges.
		let mut bonds: alloc::collections::BTreeMap<T::AccountId, BalanceOf<T>> =
			Default::default();
		for (id, escalation) in Escalations::<T>::iter() {
			let open = Jobs::<T>::get(id).map(|job| job.phase);
			ensure!(
				matches!(open, Some(Phase::Draw | Phase::Commit | Phase::Reveal)),
				"a challenge outlives its second round"
			);
			bonds.entry(escalation.challenger).or_default().saturating_accrue(escalation.bond);
		}
		for (challenger, bond) in bonds {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ChallengeBond.into(), &challenger)
					== bond,
				"held challenge bonds differ from the open challenges'"
			);
		}
		for (id, until) in Challengeable::<T>::iter() {
			let job = Jobs::<T>::get(id).ok_or("a challenge window outlives its job")?;
			ensure!(
				matches!(job.phase, Phase::Completed | Phase::Failed) && job.due == until,
				"a challenge window is open on an undecided job"
			);
			ensure!(Due::<T>::contains_key(until, id), "a challenge window never closes");
		}
		ensure!(
			Standings::<T>::iter_keys().all(Executors::<T>::contains_key),
			"a standing outlives its executor"
		);
		for (who, run) in MissStreaks::<T>::iter() {
			ensure!(Executors::<T>::contains_key(&who), "a miss streak outlives its executor");
			ensure!(
				run.since <= frame_system::Pallet::<T>::block_number(),
				"a miss streak starts in the future"
			);
			ensure!(
				run.votes <= Stats::<T>::get(&who).voted(),
				"a miss streak counts future votes"
			);
		}
		for (member, stats) in Stats::<T>::iter() {
			let settled = stats.settled();
			ensure!(settled <= stats.assigned as u64, "an executor settled more jobs than drawn");
			let open = PendingByExecutor::<T>::iter_key_prefix(&member).count() as u64;
			ensure!(
				open == stats.assigned as u64 - settled,
				"an executor's open jobs differ from its record"
			);
		}
		Self::executors_try_state()
	}
}
