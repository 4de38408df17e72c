//! Slashing: executors lose part of their bond for what the chain can prove they did wrong.
//!
//! A job's settlement ([`Pallet::settle`](crate::Pallet)) finds its members' [`Offence`]s from
//! its own storage (their commitments and reveals, and whether the others settled it), never
//! from anyone's report. Each offence costs a share of `MinBond` ([`Config::BadRevealSlash`],
//! [`Config::MissSlash`]), taken from the offender's bond and then from its unlocking funds
//! (which stay held for the unbonding period so that they answer for the jobs it was still on),
//! and moved to [`Config::Treasury`]. [`Config::SlashRewardShare`] of what a job's offenders lost
//! then goes, split evenly, to the members whose result the quorum accepted. An executor left
//! with less than `MinBond` bonded is no longer drawn, and every slash lowers the executor's
//! chance of being drawn for a while ([`reputation`](crate::reputation)).
//!
//! After a challenge, the larger committee's result is evidence too: a member of either round
//! that revealed another result loses [`Config::WrongResultSlash`] ([`Offence::WrongResult`];
//! see [`escalation`](crate::escalation)).
//!
//! What is not slashed, and why:
//! - A member outvoted by a first committee's quorum: a colluding majority would have honest
//!   members slashed. It is not paid; if it is right, it can challenge (or anyone can), and
//!   the larger committee's quorum pays it and slashes the majority.
//! - A member that missed a job that failed with no quorum, for too few commits, or by a quorum
//!   on a resource failure: nothing shows that the job could be done in time (the model may be
//!   unavailable to every node, or too large for the member's machine as for the others').
//! - A miss by a member the executor origin removed (by the time the job settles): its votes
//!   are refused from its removal on.

use super::*;
use frame_support::traits::{
	fungible::{Mutate, MutateHold},
	tokens::{Fortitude, Precision, Preservation, Restriction},
	Get,
};
use frame_system::pallet_prelude::BlockNumberFor;
use polkadot_sdk::sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// What `offence` costs an executor (unless it has less held).
	pub fn slash_amount(offence: Offence) -> BalanceOf<T> {
		let rate = match offence {
			Offence::BadReveal => T::BadRevealSlash::get(),
			Offence::Missed => T::MissSlash::get(),
			Offence::WrongResult => T::WrongResultSlash::get(),
		};
		rate * T::MinBond::get()
	}

	/// Slashes `who` for `offence` on `job`: [`Self::slash_amount`], or what it has held if
	/// less, from its bond and then its unlocking funds (the last due first), to the treasury.
	/// Takes it out of the draw if its bond falls below `MinBond`. Returns, if it took anything,
	/// what the treasury received (nothing when the slash had to be burned).
	pub(crate) fn slash(who: &T::AccountId, job: JobId, offence: Offence) -> Option<BalanceOf<T>> {
		let mut record = Executors::<T>::get(who)?;
		if offence == Offence::Missed && record.status == ExecutorStatus::Removed {
			return None;
		}
		// Its standing falls whether or not anything is left to take.
		Self::penalize(who, offence);
		let amount = Self::slash_amount(offence).min(Self::held_bond(&record));
		if amount.is_zero() {
			return None;
		}
		let reason = HoldReason::ExecutorBond.into();
		let (taken, to_treasury) = match T::Currency::transfer_on_hold(
			&reason,
			who,
			&T::Treasury::get(),
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		) {
			Ok(moved) => (moved, moved),
			// The treasury cannot take it (it does not exist and this is below the existential
			// deposit): burned instead.
			Err(_) => (
				T::Currency::burn_held(
					&reason,
					who,
					amount,
					Precision::BestEffort,
					Fortitude::Force,
				)
				.unwrap_or_else(|_| Zero::zero()),
				Zero::zero(),
			),
		};
		let mut left = taken;
		let from_bond = left.min(record.bond);
		record.bond.saturating_reduce(from_bond);
		left.saturating_reduce(from_bond);
		for chunk in record.unlocking.iter_mut().rev() {
			let from_chunk = left.min(chunk.amount);
			chunk.amount.saturating_reduce(from_chunk);
			left.saturating_reduce(from_chunk);
		}
		record.unlocking.retain(|chunk| !chunk.amount.is_zero());
		Self::update_draw(who, &mut record);
		Executors::<T>::insert(who, record);
		if taken.is_zero() {
			return None;
		}
		Self::deposit_event(Event::Slashed { executor: who.clone(), job, offence, amount: taken });
		Some(to_treasury)
	}

	/// What noting a proven miss weighs beyond its slash ([`Self::note_miss`]): the run read and
	/// written, the draw's size and the minimum committee read, and the executor's record read
	/// and written to chill it. Leaving the draw is in the slash's weight: an executor leaves
	/// it once.
	pub fn miss_weight() -> frame_support::weights::Weight {
		T::DbWeight::get().reads_writes(4, 2)
	}

	/// Records a proven miss by `who` (slashed for it, or it would be had it anything left): its
	/// run of misses ([`MissStreaks`]) grows if it voted on no job since its last miss and starts
	/// again otherwise; at [`Config::MaxConsecutiveMisses`] an active executor is chilled. A node
	/// that is down misses every job it is drawn into, so it stops being drawn after a few
	/// instead of costing every committee it is on a seat; `resume` has it drawn again and
	/// starts its run again, and misses on jobs `submitted` before it resumed (drawn while it
	/// was down) do not count.
	pub(crate) fn note_miss(who: &T::AccountId, submitted: BlockNumberFor<T>) {
		let Some(mut record) = Executors::<T>::get(who) else { return };
		if record.status == ExecutorStatus::Removed {
			return;
		}
		let run = MissStreaks::<T>::get(who);
		if run.as_ref().is_some_and(|run| submitted < run.since) {
			return;
		}
		let votes = Stats::<T>::get(who).voted();
		let (misses, since) = match run {
			Some(run) if run.votes == votes => (run.misses.saturating_add(1), run.since),
			Some(run) => (1, run.since),
			None => (1, Zero::zero()),
		};
		MissStreaks::<T>::insert(who, MissStreak { misses, votes, since });
		if misses < T::MaxConsecutiveMisses::get() || record.status != ExecutorStatus::Active {
			return;
		}
		// Not when the draw would be left with fewer executors than the smallest committee:
		// every job would then fail for want of one, which costs more than a slow seat.
		if record.slot.is_some() && DrawableCount::<T>::get() <= MinCommittee::<T>::get().max(1) {
			return;
		}
		record.status = ExecutorStatus::Chilled;
		Self::update_draw(who, &mut record);
		Executors::<T>::insert(who, record);
		Self::deposit_event(Event::ChilledForMisses { executor: who.clone(), misses });
	}

	/// Pays `job`'s `agreeing` members their share of what its offenders' slashes brought the
	/// treasury (`slashed`), from the treasury; returns how many payments it tried.
	pub(crate) fn reward(
		job_id: JobId,
		job: &Job<T>,
		agreeing: &[usize],
		slashed: BalanceOf<T>,
	) -> u32 {
		if agreeing.is_empty() || slashed.is_zero() {
			return 0;
		}
		let share = (T::SlashRewardShare::get() * slashed) / (agreeing.len() as u32).into();
		if share.is_zero() {
			return 0;
		}
		let treasury = T::Treasury::get();
		let mut tried = 0u32;
		for member in agreeing.iter().filter_map(|i| job.seats.get(*i).map(|seat| &seat.member)) {
			tried.saturating_inc();
			// A share the treasury cannot pay (it would be reaped) stays there.
			if T::Currency::transfer(&treasury, member, share, Preservation::Preserve).is_ok() {
				Self::deposit_event(Event::SlashRewarded {
					executor: member.clone(),
					job: job_id,
					amount: share,
				});
			}
		}
		tried
	}
}
