//! Challenges and escalation: a first committee's result is provisional until its challenge
//! window closes, and anyone who doubts it can have a larger, independent committee run the
//! job again.
//!
//! 1. A job's first committee decides it as before (a result, an error or resource failure
//!    by quorum, or no quorum), and the job is settled at once: fees paid, bad reveals and
//!    misses slashed, [`Event::JobCompleted`] or [`Event::JobFailed`]. The result is
//!    provisional: for [`Config::ChallengeWindow`] blocks anyone may [`Pallet::challenge`]
//!    it, holding [`Config::ChallengeBond`] and paying the second round's upkeep fee
//!    ([`Pallet::challenge_fee`]). A job that failed for too few commits, or for want of a
//!    committee, decided nothing and cannot be challenged.
//! 2. A challenged job gets a committee of `2k + 1` (at most `MaxCommittee`) drawn
//!    `DrawDelay` blocks later from the drawable executors outside the first committee, and
//!    goes through its commit and reveal phases again. Its quorum is final: there is no third
//!    round, so a job is final at most `ChallengeWindow + DrawDelay + CommitWindow +
//!    RevealWindow` blocks after its first committee decided it (plus the hook's backlog).
//! 3. When the window closes unchallenged, or the second committee decides, the result is
//!    final: [`Event::JobFinalized`], and [`OnJobCompleted`] is told (only then, and only for
//!    a completed job). A dApp that must not act on a result that can still change waits for
//!    it; `inference_job` says `is_final`.
//!
//! When the second committee reaches a quorum on result `R` (see [`ChallengeVerdict`]):
//! - Every member of either round that revealed another result than `R` is slashed
//!   [`Config::WrongResultSlash`] ([`Offence::WrongResult`]), unless `R` or its own reveal is a
//!   resource failure (a machine may run out where another does not). Second-round members
//!   that rejected or missed their votes are slashed as in any job.
//! - Each second-round member that revealed `R`, and each first-round member that revealed `R`
//!   but was not paid for it then, is paid the job's executor fee from what the job's
//!   offenders were slashed and, when that is not enough, from the challenger's bond.
//! - **Overturned** (`R` is not the first round's result): the requester gets back, from the
//!   same funds, the executor fees it paid to first-round members found wrong, and the model
//!   fee when the first round completed the job and `R` is a failure. The challenger's bond
//!   comes back (less what it paid second-round members), and the challenger shares
//!   [`Config::SlashRewardShare`] of what is left of the slashes with the members that revealed
//!   `R`; the rest stays with the treasury. The job's result becomes `R`. When the first round
//!   failed (no quorum, or a false error) and `R` completes the job, the requester, refunded
//!   then, gets the result without paying the model fee or the executor fees again: the model
//!   owner goes unpaid for it, and the second committee is paid from the slashes and the bond.
//! - **Confirmed**: the bond goes to the treasury, pays the second-round members, and shares
//!   the reward as the slashes do. The first round's result stands.
//!
//! With no quorum in the second round, too few of its commits, or no committee to draw, the
//! challenge is **undecided**: the first round's result is final, the bond comes back, and the
//! second committee is unpaid (rejected reveals are still slashed).
//!
//! A reveal agrees with `R` when it has `R`'s hash or, with both outcomes on chain, is within
//! the model's tolerance of it. A member that revealed only a hash (its outcome larger than
//! `MaxOutputBytes`) must therefore match `R`'s hash exactly: for such models tolerance cannot be
//! shown on chain, and honest nodes agree bit for bit under the engine's fixed settings (see
//! `docs/determinism.md`).
//!
//! Limits: a second-round member sees the first round's revealed hashes, so it may copy one
//! instead of running the job; it then bets its bond that the first round was right, and
//! loses `WrongResultSlash` when the honest part of its committee reaches the quorum. A
//! challenge needs `3k + 1` drawable executors for a first committee of `k`, and a first
//! committee smaller than half of `MaxCommittee` gets the full `2k + 1` (the second is never
//! larger than `MaxCommittee`, and must be larger than the first).

use super::*;
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
	weights::WeightToFee,
};
use frame_system::pallet_prelude::BlockNumberFor;
use polkadot_sdk::sp_runtime::traits::{Saturating, Zero};
use verity_primitives::canonical::Outcome;

impl<T: Config> Pallet<T> {
	/// The committee that runs a challenged job of a first committee of `k` again: `2k + 1`, at
	/// most `MaxCommittee`.
	pub fn escalation_size(k: u32) -> u32 {
		k.saturating_mul(2).saturating_add(1).min(T::MaxCommittee::get())
	}

	/// What a second round's resolution weighs beyond resolving a job of its committee of `k2`
	/// ([`Pallet::resolution_weight`]): reading the first round, judging its members again (a
	/// slash each, at most `k2 / 2`), and the payments from the slashes and the bond (each
	/// member of both rounds, the requester, the challenger, and the bond's two movements).
	pub fn escalation_extra_weight(k2: u32) -> Weight {
		Self::slash_weight()
			.saturating_mul(u64::from(k2).saturating_mul(2).saturating_add(4))
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// What `on_initialize` may do for a challenged job of a first committee of `k1`: visit
	/// its entries (draw, commit and reveal deadlines, and the block after its last reveal),
	/// draw the second committee (from `k1 + k2` drawn), and move it on twice (open its reveal
	/// phase, resolve it: a second round is always resolved by the hook).
	pub fn escalation_upkeep_weight(k1: u32) -> Weight {
		let k2 = Self::escalation_size(k1);
		let at_deadline =
			Self::deadline_weight(k2).saturating_add(Self::escalation_extra_weight(k2));
		Self::entry_weight()
			.saturating_mul(4)
			.saturating_add(Self::draw_weight(k1.saturating_add(k2)))
			.saturating_add(at_deadline.saturating_mul(2))
	}

	/// The upkeep fee a challenge of a job of a first committee of `k1` pays to the fee
	/// collector, priced as transaction weight is: the hook's work for the second round.
	pub fn challenge_fee(k1: u32) -> BalanceOf<T> {
		T::WeightToFee::weight_to_fee(&Self::escalation_upkeep_weight(k1))
	}

	/// The weight of [`Pallet::challenge`]: the benchmarked challenge of a job of the largest
	/// committee, and the draw when it happens there (`DrawDelay` 0).
	pub fn challenge_weight() -> Weight {
		let max = T::MaxCommittee::get();
		let weight = T::WeightInfo::challenge(max);
		if T::DrawDelay::get().is_zero() {
			weight.saturating_add(Self::draw_weight(max.saturating_mul(2).saturating_sub(1)))
		} else {
			weight
		}
	}

	pub(crate) fn do_challenge(challenger: T::AccountId, job_id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::NotChallengeable)?;
		let now = frame_system::Pallet::<T>::block_number();
		let until = Challengeable::<T>::get(job_id).ok_or(Error::<T>::NotChallengeable)?;
		ensure!(now < until, Error::<T>::NotChallengeable);
		let k1 = job.seats.len() as u32;
		let k2 = Self::escalation_size(k1);
		ensure!(
			k2 > k1 && DrawableCount::<T>::get() >= k1.saturating_add(k2),
			Error::<T>::CannotEscalate
		);
		// The second committee's seats and CPU time count against this block's admission, as a
		// new job's would.
		let load =
			Self::admit(now, k2, job.model.limits.cpu_millis).ok_or(Error::<T>::ChainBusy)?;
		Load::<T>::put((now, load));
		let bond = T::ChallengeBond::get();
		T::Currency::transfer(
			&challenger,
			&T::FeeCollector::get(),
			Self::challenge_fee(k1),
			Preservation::Preserve,
		)
		.map_err(|_| Error::<T>::CannotPayBond)?;
		T::Currency::hold(&HoldReason::ChallengeBond.into(), &challenger, bond)
			.map_err(|_| Error::<T>::CannotPayBond)?;
		Challengeable::<T>::remove(job_id);

		let escalation = Escalation {
			seats: core::mem::take(&mut job.seats),
			phase: job.phase,
			result: job.result.clone(),
			challenger: challenger.clone(),
			bond,
		};
		Escalations::<T>::insert(job_id, &escalation);
		job.size = k2;
		// The first round was settled: nothing of the requester's is held for the second.
		job.fee.deadline_held = Zero::zero();
		job.fee.total = Zero::zero();
		job.phase = Phase::Draw;
		let draw_at = now.saturating_add(T::DrawDelay::get());
		job.due = draw_at;
		Self::deposit_event(Event::JobChallenged {
			job: job_id,
			challenger,
			bond,
			committee_size: k2,
			draw_at,
		});
		// At once, charged its worst case (`challenge_weight`), when `DrawDelay` is 0.
		Self::draw_at(job_id, &mut job, Some(escalation), draw_at, now);
		Jobs::<T>::insert(job_id, job);
		Ok(())
	}

	/// Makes a decided job's result final: [`Event::JobFinalized`], [`OnJobCompleted`] for a
	/// completed job, and its pruning after the retention period.
	pub(crate) fn finalize(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) {
		job.due = Self::schedule(now.saturating_add(T::RetentionPeriod::get()), job_id);
		Self::deposit_event(Event::JobFinalized { job: job_id });
		if job.phase == Phase::Completed {
			if let Some(JobResult { result_hash: Some(hash), outcome, .. }) = &job.result {
				T::OnJobCompleted::on_job_completed(
					job_id,
					&job.requester,
					&job.model.id,
					hash,
					outcome.as_deref().map(|o| &o[..]),
				);
			}
		}
	}

	/// What finalizing a job at the end of its challenge window weighs: taking its entry in
	/// [`Challengeable`], writing the job, scheduling its pruning (and whatever
	/// [`Config::OnJobCompleted`] does, which the runtime must keep light: it is `()` in
	/// Verity's).
	pub fn finalize_weight() -> Weight {
		T::DbWeight::get().reads_writes(1, 3)
	}

	/// Ends a challenge whose second committee decided nothing (none could be drawn, too few
	/// committed, no quorum): the first round's result is final and the bond comes back. The
	/// second committee's members are unpaid; a rejected reveal is slashed. Returns the weight
	/// of its slashes.
	pub(crate) fn abandon_escalation(
		job_id: JobId,
		job: &mut Job<T>,
		escalation: Escalation<T>,
		now: BlockNumberFor<T>,
	) -> Weight {
		let mut slashes = 0u32;
		for seat in &job.seats {
			let member = &seat.member;
			PendingByExecutor::<T>::remove(member, job_id);
			let slot = &seat.reveal;
			let committed_in_time = job.phase == Phase::Commit && seat.commit.is_some();
			let taken = if *slot == RevealSlot::Rejected {
				slashes.saturating_inc();
				Self::slash(member, job_id, Offence::BadReveal)
			} else {
				None
			};
			Stats::<T>::mutate(member, |s| {
				match slot {
					RevealSlot::Revealed(_) | RevealSlot::Rejected => s.disagreed.saturating_inc(),
					RevealSlot::Pending if committed_in_time => s.voided.saturating_inc(),
					RevealSlot::Pending => s.missed.saturating_inc(),
				}
				if taken.is_some() {
					s.slashed.saturating_inc();
				}
			});
		}
		let Escalation { seats, phase, result, challenger, bond } = escalation;
		job.size = seats.len() as u32;
		job.seats = seats;
		job.phase = phase;
		job.result = result;
		let returned = T::Currency::release(
			&HoldReason::ChallengeBond.into(),
			&challenger,
			bond,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero());
		Self::deposit_event(Event::ChallengeSettled {
			job: job_id,
			challenger,
			verdict: ChallengeVerdict::Undecided,
			returned,
		});
		Self::finalize(job_id, job, now);
		Self::slash_weight().saturating_mul(slashes.into())
	}

	/// Settles a challenged job by its second committee's reveals (see the module docs).
	/// Returns the weight beyond resolving a job of its committee: at most
	/// [`Pallet::escalation_extra_weight`].
	pub(crate) fn resolve_escalation(
		job_id: JobId,
		job: &mut Job<T>,
		escalation: Escalation<T>,
		now: BlockNumberFor<T>,
	) -> Weight {
		let tolerance = job.model.tolerance;
		let Some((_, accepted)) = decide::<T>(&job.seats, tolerance) else {
			return Self::abandon_escalation(job_id, job, escalation, now);
		};
		let decode = |bytes: &Option<BoundedVec<u8, T::MaxOutputBytes>>| {
			bytes.as_ref().and_then(|b| Outcome::decode(&mut &b[..]).ok())
		};
		let outcome = decode(&accepted.outcome);
		let failure = match &outcome {
			Some(Outcome::Failure(code)) => Some(*code),
			_ => None,
		};
		let resource = failure.is_some_and(|code| code.is_resource_failure());
		// Whether a reveal is the accepted result: the same hash, or an outcome within the
		// model's tolerance of it.
		let agrees = |hash: &[u8; 32], bytes: &Option<BoundedVec<u8, T::MaxOutputBytes>>| {
			*hash == accepted.result_hash
				|| match (decode(bytes), &outcome) {
					(Some(a), Some(b)) => within_tolerance(&a, b, tolerance),
					_ => false,
				}
		};
		// Another result, where neither side is a resource failure: a lie, or a fault the
		// member answers for.
		let wrong = |reveal: &Reveal<T::MaxOutputBytes>| {
			!resource
				&& !agrees(&reveal.result_hash, &reveal.outcome)
				&& !matches!(decode(&reveal.outcome), Some(Outcome::Failure(c)) if c.is_resource_failure())
		};
		let first_result = escalation.result.clone().unwrap_or_default();
		let overturned = match first_result.result_hash {
			Some(hash) => !agrees(&hash, &first_result.outcome),
			None => true,
		};
		let member_fee = if resource { job.fee.resource_fee } else { job.fee.executor_fee };
		let first_fee = match first_result.failure {
			Some(FailureReason::Resources(_)) => job.fee.resource_fee,
			_ => job.fee.executor_fee,
		};

		// What the job's offenders and the challenger bring the treasury, to pay from.
		let mut pot = BalanceOf::<T>::zero();
		let (mut actions, mut misses) = (0u32, 0u32);
		// Paid a member fee from the pot, and sharing the reward.
		let (mut to_pay, mut to_reward) = (Vec::new(), Vec::new());
		for seat in &job.seats {
			let member = &seat.member;
			PendingByExecutor::<T>::remove(member, job_id);
			let (offence, right) = match &seat.reveal {
				RevealSlot::Revealed(r) if agrees(&r.result_hash, &r.outcome) => (None, true),
				RevealSlot::Revealed(r) => (wrong(r).then_some(Offence::WrongResult), false),
				RevealSlot::Rejected => (Some(Offence::BadReveal), false),
				RevealSlot::Pending => ((!resource).then_some(Offence::Missed), false),
			};
			actions.saturating_accrue(offence.is_some() as u32);
			let taken = offence.and_then(|offence| Self::slash(member, job_id, offence));
			pot.saturating_accrue(taken.unwrap_or_default());
			if right {
				to_pay.push(member.clone());
				to_reward.push(member.clone());
			}
			Stats::<T>::mutate(member, |s| {
				match (&seat.reveal, right) {
					(_, true) => s.agreed.saturating_inc(),
					(RevealSlot::Pending, _) => s.missed.saturating_inc(),
					_ => s.disagreed.saturating_inc(),
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
		// The first round, judged again by the final result (its rejected and missing votes
		// were settled then).
		let first_paid = decide::<T>(&escalation.seats, tolerance)
			.map(|(agreeing, _)| agreeing)
			.unwrap_or_default();
		let mut wrongly_paid = 0u32;
		for (i, seat) in escalation.seats.iter().enumerate() {
			let member = &seat.member;
			let RevealSlot::Revealed(reveal) = &seat.reveal else { continue };
			let paid = first_paid.contains(&i);
			if agrees(&reveal.result_hash, &reveal.outcome) {
				to_reward.push(member.clone());
				if !paid {
					to_pay.push(member.clone());
					// Only a record still kept (an executor that left has none).
					Stats::<T>::mutate_exists(member, |s| {
						if let Some(s) = s {
							s.disagreed.saturating_dec();
							s.agreed.saturating_inc();
						}
					});
				}
			} else if wrong(reveal) {
				wrongly_paid.saturating_accrue(paid as u32);
				actions.saturating_inc();
				let taken = Self::slash(member, job_id, Offence::WrongResult);
				pot.saturating_accrue(taken.unwrap_or_default());
				Stats::<T>::mutate_exists(member, |s| {
					if let Some(s) = s {
						if paid {
							s.agreed.saturating_dec();
							s.disagreed.saturating_inc();
						}
						if taken.is_some() {
							s.slashed.saturating_inc();
						}
					}
				});
			}
		}

		// The challenger's bond: to the treasury when the result is confirmed; otherwise it
		// covers what the slashes cannot pay the members.
		let treasury = T::Treasury::get();
		let challenger = escalation.challenger.clone();
		let reason = HoldReason::ChallengeBond.into();
		let owed = member_fee.saturating_mul((to_pay.len() as u32).into());
		let forfeit = if overturned {
			owed.saturating_sub(pot).min(escalation.bond)
		} else {
			escalation.bond
		};
		let forfeited = T::Currency::transfer_on_hold(
			&reason,
			&challenger,
			&treasury,
			forfeit,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|_| Zero::zero());
		pot.saturating_accrue(forfeited);
		let returned = T::Currency::release(
			&reason,
			&challenger,
			escalation.bond.saturating_sub(forfeited),
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero());
		actions.saturating_accrue(2);

		// Pays `amount` (at most what is left of the pot) from the treasury; what it paid.
		let pay =
			|pot: &mut BalanceOf<T>, actions: &mut u32, to: &T::AccountId, amount: BalanceOf<T>| {
				let amount = amount.min(*pot);
				actions.saturating_inc();
				if amount.is_zero()
					|| T::Currency::transfer(&treasury, to, amount, Preservation::Preserve).is_err()
				{
					return Zero::zero();
				}
				pot.saturating_reduce(amount);
				amount
			};
		for member in &to_pay {
			pay(&mut pot, &mut actions, member, member_fee);
		}
		if overturned {
			let mut compensation = first_fee.saturating_mul(wrongly_paid.into());
			if escalation.phase == Phase::Completed && failure.is_some() {
				compensation.saturating_accrue(job.fee.model_fee);
			}
			pay(&mut pot, &mut actions, &job.requester, compensation);
			to_reward.push(challenger.clone());
		}
		if !to_reward.is_empty() {
			let share = (T::SlashRewardShare::get() * pot) / (to_reward.len() as u32).into();
			for who in &to_reward {
				let paid = pay(&mut pot, &mut actions, who, share);
				if !paid.is_zero() {
					Self::deposit_event(Event::SlashRewarded {
						executor: who.clone(),
						job: job_id,
						amount: paid,
					});
				}
			}
		}

		let verdict =
			if overturned { ChallengeVerdict::Overturned } else { ChallengeVerdict::Confirmed };
		Self::deposit_event(Event::ChallengeSettled { job: job_id, challenger, verdict, returned });
		if overturned {
			match failure {
				Some(code) => {
					let reason = FailureReason::of(code);
					job.phase = Phase::Failed;
					job.result = Some(JobResult {
						result_hash: Some(accepted.result_hash),
						outcome: None,
						failure: Some(reason),
					});
					Self::deposit_event(Event::JobFailed { job: job_id, reason });
				},
				None => Self::complete(job_id, job, accepted),
			}
		} else {
			job.phase = escalation.phase;
			job.result = escalation.result;
		}
		// The second committee's outcomes are not kept: the result holds the accepted one, and
		// the job's deposit paid for as many outcomes as its first committee's.
		for seat in job.seats.iter_mut() {
			if let RevealSlot::Revealed(reveal) = &mut seat.reveal {
				reveal.outcome = None;
			}
		}
		Self::finalize(job_id, job, now);
		Self::slash_weight()
			.saturating_mul(actions.into())
			.saturating_add(Self::miss_weight().saturating_mul(misses.into()))
	}
}
