//! Resolution: the quorum rule that decides a job from its seats' reveals, and what a decided
//! job becomes (completed, failed, its challenge window opened).

use super::*;
use alloc::vec::Vec;
use codec::Decode;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use polkadot_sdk::sp_runtime::traits::{Saturating, Zero};
use verity_primitives::{
	canonical::{CanonicalData, Outcome},
	model::ModelLookup,
};

impl<T: Config> Pallet<T> {
	/// The most resolving a job of a committee of `k` weighs: the benchmarked resolution (a
	/// completed job, its model told so), the registry's bookkeeping of a resource failure
	/// ([`Pallet::resource_failure_weight`]), and a slash or a reward for each member (a
	/// member is slashed, or rewarded for being right, or neither) with a noted miss
	/// ([`Pallet::miss_weight`]).
	pub fn resolution_weight(k: u32) -> Weight {
		T::WeightInfo::resolve(k).saturating_add(Self::resource_failure_weight()).saturating_add(
			Self::slash_weight().saturating_add(Self::miss_weight()).saturating_mul(k.into()),
		)
	}

	/// What a resource failure costs the registry beyond a completed job: counting it, and
	/// perhaps deprecating the model (two reads and two writes).
	pub fn resource_failure_weight() -> Weight {
		T::DbWeight::get().reads_writes(2, 2)
	}

	/// Decides a job from its reveals, pays and refunds, slashes, and opens its challenge
	/// window (or, for a challenged job's second round, settles the challenge: see
	/// [`crate::escalation`]). Returns the weight it took beyond the benchmarked resolution
	/// (a resource failure's, and its slashes and rewards).
	pub(crate) fn resolve(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) -> Weight {
		match Escalations::<T>::take(job_id) {
			Some(escalation) => Self::resolve_escalation(job_id, job, escalation, now),
			None => Self::resolve_first(job_id, job, now),
		}
	}

	/// [`Pallet::resolve`] for a job that was not challenged: decided by its first
	/// committee, settled at once.
	pub(crate) fn resolve_first(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) -> Weight {
		let Some((agreeing, reveal)) = decide::<T>(&job.seats, job.model.tolerance) else {
			return Self::fail(job_id, job, FailureReason::NoQuorum, &[], now);
		};
		let failure =
			reveal.outcome.as_ref().and_then(|bytes| match Outcome::decode(&mut &bytes[..]) {
				Ok(Outcome::Failure(code)) => Some(code),
				_ => None,
			});
		if let Some(code) = failure {
			T::Models::job_settled(&job.model.id, code.is_resource_failure());
			let settled = Self::fail(job_id, job, FailureReason::of(code), &agreeing, now);
			return if code.is_resource_failure() {
				settled.saturating_add(Self::resource_failure_weight())
			} else {
				settled
			};
		}

		T::Models::job_settled(&job.model.id, false);
		let settled = Self::settle(job_id, job, &agreeing, Settlement::Completed);
		Self::complete(job_id, job, reveal);
		Self::finish(job_id, job, now);
		settled
	}

	/// Records `reveal` as the job's result: [`Phase::Completed`], [`Event::JobCompleted`].
	pub(crate) fn complete(job_id: JobId, job: &mut Job<T>, reveal: Reveal<T::MaxOutputBytes>) {
		job.phase = Phase::Completed;
		job.result = Some(JobResult {
			result_hash: Some(reveal.result_hash),
			outcome: reveal.outcome.clone(),
			failure: None,
		});
		Self::deposit_event(Event::JobCompleted {
			job: job_id,
			result_hash: reveal.result_hash,
			output: reveal.outcome.map(|o| o.into_inner()),
		});
	}

	/// Fails a job, settling it: `agreeing` is the quorum on an error outcome (empty when
	/// there is none). Returns the weight of its slashes and rewards.
	pub(crate) fn fail(
		job_id: JobId,
		job: &mut Job<T>,
		reason: FailureReason,
		agreeing: &[usize],
		now: BlockNumberFor<T>,
	) -> Weight {
		let settlement = match reason {
			FailureReason::Resources(_) => Settlement::ResourceFailure,
			_ => Settlement::Failed,
		};
		let settled = Self::settle(job_id, job, agreeing, settlement);
		job.phase = Phase::Failed;
		let result_hash = agreeing.first().and_then(|i| match &job.seats[*i].reveal {
			RevealSlot::Revealed(r) => Some(r.result_hash),
			_ => None,
		});
		job.result = Some(JobResult { result_hash, outcome: None, failure: Some(reason) });
		Self::deposit_event(Event::JobFailed { job: job_id, reason });
		Self::finish(job_id, job, now);
		settled
	}

	/// A first committee decided the job: opens its challenge window, or, when there is
	/// none or nothing was decided (too few commits, no committee), makes it final.
	pub(crate) fn finish(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) {
		let window = T::ChallengeWindow::get();
		let decided = !matches!(
			job.result.as_ref().and_then(|r| r.failure),
			Some(FailureReason::NotEnoughCommits | FailureReason::NoCommittee)
		);
		if decided && !window.is_zero() {
			let until = Self::schedule(now.saturating_add(window), job_id);
			Challengeable::<T>::insert(job_id, until);
			job.due = until;
		} else {
			Self::finalize(job_id, job, now);
		}
	}
}

/// The quorum of a committee's reveals (one slot per seat) for a model of `tolerance`: a
/// quorum of equal result hashes or, failing that, of revealed outcomes within the
/// tolerance. Its members, and the reveal of one of them that carried the outcome's bytes
/// (every member of a hash quorum revealed the same hash, so any one's bytes are the
/// outcome; taking them from one that carried them means a member revealing the hash alone
/// cannot turn a quorum on a failure into a completion). `None` without a quorum.
pub(crate) fn decide<T: Config>(
	seats: &[Seat<T>],
	tolerance: u64,
) -> Option<(Vec<usize>, Reveal<T::MaxOutputBytes>)> {
	let q = quorum(seats.len() as u32) as usize;
	let revealed: Vec<(usize, &Reveal<T::MaxOutputBytes>)> = seats
		.iter()
		.enumerate()
		.filter_map(|(i, seat)| match &seat.reveal {
			RevealSlot::Revealed(r) => Some((i, r)),
			_ => None,
		})
		.collect();
	let by_hash = largest_group(&revealed, |a, b| a.result_hash == b.result_hash)
		.filter(|(_, group)| group.len() >= q);
	let (chosen, agreeing) = by_hash.or_else(|| {
		let outcomes: Vec<(usize, Outcome)> = revealed
			.iter()
			.filter_map(|(i, r)| {
				let bytes = r.outcome.as_ref()?;
				Some((*i, Outcome::decode(&mut &bytes[..]).ok()?))
			})
			.collect();
		largest_group(&outcomes, |a, b| within_tolerance(a, b, tolerance))
			.filter(|(_, group)| group.len() >= q)
	})?;
	let carrier = agreeing
		.iter()
		.copied()
		.find(|i| matches!(&seats[*i].reveal, RevealSlot::Revealed(r) if r.outcome.is_some()))
		.unwrap_or(chosen);
	match &seats[carrier].reveal {
		RevealSlot::Revealed(reveal) => Some((agreeing, reveal.clone())),
		_ => None,
	}
}

/// Among `(member, value)` pairs, the member whose value `agree`s with the most others, and
/// those members (itself included); the first such member on a tie.
pub(crate) fn largest_group<V>(
	items: &[(usize, V)],
	agree: impl Fn(&V, &V) -> bool,
) -> Option<(usize, Vec<usize>)> {
	let mut best: Option<(usize, Vec<usize>)> = None;
	for (i, value) in items {
		let group: Vec<usize> =
			items.iter().filter(|(_, other)| agree(value, other)).map(|(j, _)| *j).collect();
		if best.as_ref().is_none_or(|(_, b)| group.len() > b.len()) {
			best = Some((*i, group));
		}
	}
	best
}

/// Whether two outcomes agree within `tolerance` units of the last kept decimal: same
/// tensors, shapes and types; raw data equal; fixed-point elements at most `tolerance` apart.
pub fn within_tolerance(a: &Outcome, b: &Outcome, tolerance: u64) -> bool {
	let (Outcome::Success(a), Outcome::Success(b)) = (a, b) else { return a == b };
	a.len() == b.len()
		&& a.iter().zip(b).all(|(x, y)| {
			x.name == y.name
				&& x.dtype == y.dtype
				&& x.shape == y.shape
				&& match (&x.data, &y.data) {
					(CanonicalData::Fixed(p), CanonicalData::Fixed(q)) => {
						p.len() == q.len()
							&& p.iter().zip(q).all(|(u, v)| {
								(i128::from(*u) - i128::from(*v)).unsigned_abs()
									<= u128::from(tolerance)
							})
					},
					(CanonicalData::Raw(p), CanonicalData::Raw(q)) => p == q,
					_ => false,
				}
		})
}
