//! Settlement: paying and refunding a decided job's held fee, and slashing what the job proves
//! (see the table in the crate docs).

use super::*;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use polkadot_sdk::sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Pays and refunds a job's held fee (see the table in the crate docs), slashes the
	/// members whose offences the job proves (see [`Offence`]) and rewards the agreeing
	/// members from it, and records each member's stats. `agreeing` is the quorum on the
	/// result or the error outcome, or empty. Returns the weight of the slashes and rewards
	/// it tried (each at most `WeightInfo::slash`) and of the misses it noted.
	pub(crate) fn settle(
		job_id: JobId,
		job: &Job<T>,
		agreeing: &[usize],
		settlement: Settlement,
	) -> Weight {
		let fee = job.fee;
		// `agreeing` are members of the committee: never more of them than the seats paid
		// for, drawn or not.
		let others = job.size.saturating_sub(agreeing.len() as u32);
		let mut refund = fee.executor_fee.saturating_mul(others.into());
		let member_fee = match settlement {
			Settlement::ResourceFailure => {
				// The rest of each agreeing member's executor fee goes back.
				let kept = fee.executor_fee.saturating_sub(fee.resource_fee);
				refund = refund.saturating_add(kept.saturating_mul((agreeing.len() as u32).into()));
				fee.resource_fee
			},
			_ => fee.executor_fee,
		};
		if settlement == Settlement::Completed {
			Self::pay(&job.requester, &job.model.owner, fee.model_fee);
		} else {
			refund = refund.saturating_add(fee.model_fee);
		}
		// The hook's work: its upkeep is kept whatever the outcome, deadline fees it did
		// not take come back. One payment to the fee collector, one refund.
		let mut collected = fee.upkeep_fee;
		if agreeing.is_empty() {
			refund = refund.saturating_add(fee.base_fee);
		} else {
			collected = collected.saturating_add(fee.base_fee);
		}
		Self::pay(&job.requester, &T::FeeCollector::get(), collected);
		refund = refund.saturating_add(fee.deadline_held);
		// A miss is proven only when the others settled the job in time with a result or
		// an execution error: it could be run and voted on in its windows.
		let misses_proven = !agreeing.is_empty() && settlement != Settlement::ResourceFailure;
		let (mut slashed, mut slashes, mut misses) = (BalanceOf::<T>::zero(), 0u32, 0u32);
		for (i, seat) in job.seats.iter().enumerate() {
			let member = &seat.member;
			PendingByExecutor::<T>::remove(member, job_id);
			let agreed = agreeing.contains(&i);
			if agreed {
				Self::pay(&job.requester, member, member_fee);
			}
			// A member that committed in time, on a job failed for too few commits, missed
			// nothing: the job is void for it.
			let committed_in_time = job.phase == Phase::Commit && seat.commit.is_some();
			let offence = match (&seat.reveal, agreed) {
				(RevealSlot::Rejected, _) => Some(Offence::BadReveal),
				(RevealSlot::Pending, false) if !committed_in_time && misses_proven => {
					Some(Offence::Missed)
				},
				_ => None,
			};
			// Each attempt is charged, whether or not it found anything to take.
			slashes.saturating_accrue(offence.is_some() as u32);
			let taken = offence.and_then(|offence| Self::slash(member, job_id, offence));
			if let Some(to_treasury) = taken {
				slashed = slashed.saturating_add(to_treasury);
			}
			Stats::<T>::mutate(member, |s| {
				match (&seat.reveal, agreed) {
					(_, true) => s.agreed.saturating_inc(),
					(RevealSlot::Revealed(_) | RevealSlot::Rejected, false) => {
						s.disagreed.saturating_inc()
					},
					(RevealSlot::Pending, false) if committed_in_time => s.voided.saturating_inc(),
					(RevealSlot::Pending, false) => s.missed.saturating_inc(),
				}
				if taken.is_some() {
					s.slashed.saturating_inc();
				}
			});
			if offence == Some(Offence::Missed) {
				Self::note_miss(member, job.submitted_at);
				misses.saturating_inc();
			}
		}
		Self::refund(&job.requester, refund);
		let rewards = Self::reward(job_id, job, agreeing, slashed);
		Self::slash_weight()
			.saturating_mul(slashes.saturating_add(rewards).into())
			.saturating_add(Self::miss_weight().saturating_mul(misses.into()))
	}

	/// Moves `amount` of the requester's held fee to `to`; back to the requester if `to`
	/// cannot take it.
	pub(crate) fn pay(requester: &T::AccountId, to: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		let moved = T::Currency::transfer_on_hold(
			&HoldReason::JobFee.into(),
			requester,
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		);
		if moved.is_err() {
			Self::refund(requester, amount);
		}
	}

	pub(crate) fn refund(requester: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		if T::Currency::release(&HoldReason::JobFee.into(), requester, amount, Precision::Exact)
			.is_err()
		{
			defensive!("a job's fee stays held until it is settled");
		}
	}
}

/// How a job's fee is settled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Settlement {
	/// A quorum accepted a result.
	Completed,
	/// A quorum agreed on an error outcome (or there was none).
	Failed,
	/// A quorum agreed the job ran out of its model's resources.
	ResourceFailure,
}
