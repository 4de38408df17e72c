//! Deadlines: the queue of jobs due at each block, what `on_initialize` does with each (draw,
//! open the reveal phase, resolve, finalize, prune), within [`Config::MaxHookWeight`] a block,
//! and the pause while a multi-block migration runs (see the crate docs, "Deadlines").

use super::*;
use frame_support::{
	migrations::MultiStepMigrator,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
	weights::WeightMeter,
};
use frame_system::pallet_prelude::*;
use polkadot_sdk::sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Handles the jobs due by `now`, oldest first, spending at most `limit`; the weight
	/// spent.
	pub(crate) fn handle_due(now: BlockNumberFor<T>, limit: Weight) -> Weight {
		// The backlog and the first queue looked into are spent; its update is kept room for.
		let update = T::DbWeight::get().writes(1);
		let mut meter = WeightMeter::with_consumed_and_limit(
			T::WeightInfo::on_initialize(0),
			limit.saturating_sub(update),
		);
		let backlog = DueBacklog::<T>::get();
		// Read once for every entry (charged with the hook's own reads in `on_initialize`).
		let pause = LastPause::<T>::get();
		let mut block = backlog.unwrap_or(now);
		let left = loop {
			if !Self::advance_due(block, now, pause, &mut meter) {
				break Some(block);
			}
			if block >= now {
				break None;
			}
			block = block.saturating_add(1u32.into());
			if meter.try_consume(T::DbWeight::get().reads(1)).is_err() {
				break Some(block);
			}
		};
		let mut spent = meter.consumed();
		if left != backlog {
			spent.saturating_accrue(update);
			match left {
				Some(block) => DueBacklog::<T>::put(block),
				None => DueBacklog::<T>::kill(),
			}
		}
		spent
	}

	/// Whether the hooks wait: a multi-block migration is under way (`pallet-migrations`),
	/// which may be translating jobs, and blocks carry no transactions.
	pub fn paused() -> bool {
		<T as frame_system::Config>::MultiBlockMigrator::ongoing()
	}

	/// The first block after a pause: records it ([`LastPause`]) and has `on_initialize`
	/// visit the entries due in the blocks it skipped. The weight.
	pub(crate) fn end_pause(now: BlockNumberFor<T>) -> Weight {
		let Some(since) = PausedSince::<T>::take() else {
			return T::DbWeight::get().reads(1);
		};
		LastPause::<T>::put((since, now));
		let backlog = DueBacklog::<T>::get().map_or(since, |b| b.min(since));
		DueBacklog::<T>::put(backlog);
		T::DbWeight::get().reads_writes(2, 3)
	}

	/// The window an open job at its deadline is given again because it was open during
	/// the last pause, when no vote (or challenge) could be sent: its commit, reveal or
	/// challenge window, when it was open at any block of the pause. `None` otherwise.
	pub(crate) fn reopened(
		job_id: JobId,
		job: &Job<T>,
		pause: Option<(BlockNumberFor<T>, BlockNumberFor<T>)>,
	) -> Option<BlockNumberFor<T>> {
		let (since, resumed) = pause?;
		let window = match job.phase {
			Phase::Commit => T::CommitWindow::get(),
			Phase::Reveal => T::RevealWindow::get(),
			Phase::Completed | Phase::Failed if Challengeable::<T>::contains_key(job_id) => {
				T::ChallengeWindow::get()
			},
			_ => return None,
		};
		// A second round whose reveals are all in is only waiting for its resolution.
		if job.phase == Phase::Reveal && job.seats.iter().all(Seat::revealed_if_committed) {
			return None;
		}
		// Open from `due - window` (votes land before `due`) to `due`.
		(job.due > since && job.due < resumed.saturating_add(window)).then_some(window)
	}

	/// Makes `job` due at `at`; returns `at`.
	pub(crate) fn schedule(at: BlockNumberFor<T>, job: JobId) -> BlockNumberFor<T> {
		Due::<T>::insert(at, job, ());
		at
	}

	/// The most moving a job of a committee of `k` on at a deadline weighs: its resolution,
	/// and taking its deadline fee (one more payment from the requester's hold, bounded by
	/// what one more member's settlement costs).
	pub fn deadline_weight(k: u32) -> Weight {
		Self::resolution_weight(k)
			.saturating_add(
				T::WeightInfo::resolve(k.saturating_add(1))
					.saturating_sub(T::WeightInfo::resolve(k)),
			)
			// Whether it is a challenged job's second round.
			.saturating_add(T::DbWeight::get().reads(1))
	}

	/// What `on_initialize` spends on every entry it reaches: finding it, reading its job,
	/// removing it.
	pub(crate) fn entry_weight() -> Weight {
		T::WeightInfo::on_initialize(1).saturating_sub(T::WeightInfo::on_initialize(0))
	}

	/// Handles the jobs due at `block` (`now` or before) while `meter` has room for them;
	/// whether all were handled. Each entry is charged for what it did.
	pub(crate) fn advance_due(
		block: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
		pause: Option<(BlockNumberFor<T>, BlockNumberFor<T>)>,
		meter: &mut WeightMeter,
	) -> bool {
		let entry = Self::entry_weight();
		for job_id in Due::<T>::iter_key_prefix(block) {
			if meter.try_consume(entry).is_err() {
				return false;
			}
			let job = Jobs::<T>::get(job_id).filter(|job| job.due == block);
			let job = match job {
				Some(mut job) if job.phase == Phase::Draw => {
					// Room for the worst case (a second committee is drawn from `k2 + k1`);
					// charged what it did.
					let escalation = Escalations::<T>::get(job_id);
					let first = escalation.as_ref().map_or(0, |e| e.seats.len() as u32);
					let size = job.size.saturating_add(first);
					if !meter.can_consume(Self::draw_weight(size)) {
						return false;
					}
					Due::<T>::remove(block, job_id);
					meter.consume(Self::draw(job_id, &mut job, escalation, now));
					Jobs::<T>::insert(job_id, job);
					continue;
				},
				other => other,
			};
			let work = match &job {
				// Moved on early: nothing left to do.
				None => Weight::zero(),
				Some(job) if matches!(job.phase, Phase::Completed | Phase::Failed) => {
					if Challengeable::<T>::contains_key(job_id) {
						Self::finalize_weight()
					} else {
						Self::prune_weight().saturating_sub(entry)
					}
				},
				// Opening the reveal phase or failing weighs less than resolving.
				Some(job) => {
					let k = job.seats.len() as u32;
					let weight = Self::deadline_weight(k);
					if Escalations::<T>::contains_key(job_id) {
						weight.saturating_add(Self::escalation_extra_weight(k))
					} else {
						weight
					}
				},
			};
			if meter.try_consume(work).is_err() {
				return false;
			}
			Due::<T>::remove(block, job_id);
			if let Some(job) = job {
				Self::advance(job_id, job, now, pause);
			}
		}
		true
	}

	/// Moves a due job on: commit → reveal (or failure), reveal → resolution, finished →
	/// pruned.
	pub(crate) fn advance(
		job_id: JobId,
		mut job: Job<T>,
		now: BlockNumberFor<T>,
		pause: Option<(BlockNumberFor<T>, BlockNumberFor<T>)>,
	) {
		if let Some(window) = Self::reopened(job_id, &job, pause) {
			job.due = Self::schedule(now.saturating_add(window), job_id);
			if Challengeable::<T>::contains_key(job_id) {
				Challengeable::<T>::insert(job_id, job.due);
			}
			Jobs::<T>::insert(job_id, job);
			return;
		}
		match job.phase {
			Phase::Draw => {
				let _ = Self::draw(job_id, &mut job, Escalations::<T>::get(job_id), now);
				Jobs::<T>::insert(job_id, job);
			},
			Phase::Commit => {
				Self::take_deadline_fee(&mut job);
				if job.committed() >= quorum(job.seats.len() as u32) {
					Self::open_reveal(job_id, &mut job, now);
				} else if let Some(escalation) = Escalations::<T>::take(job_id) {
					let _ = Self::abandon_escalation(job_id, &mut job, escalation, now);
				} else {
					// Charged its worst case before (`advance_due`).
					let _ = Self::fail(job_id, &mut job, FailureReason::NotEnoughCommits, &[], now);
				}
				Jobs::<T>::insert(job_id, job);
			},
			Phase::Reveal => {
				Self::take_deadline_fee(&mut job);
				// Charged its worst case before (`advance_due`).
				let _ = Self::resolve(job_id, &mut job, now);
				Jobs::<T>::insert(job_id, job);
			},
			Phase::Completed | Phase::Failed if Challengeable::<T>::take(job_id).is_some() => {
				Self::finalize(job_id, &mut job, now);
				Jobs::<T>::insert(job_id, job);
			},
			Phase::Completed | Phase::Failed => {
				Jobs::<T>::remove(job_id);
				JobInputs::<T>::remove(job_id);
				if let Some(deposit) = JobDeposits::<T>::take(job_id) {
					let reason = HoldReason::JobDeposit.into();
					if T::Currency::release(&reason, &job.requester, deposit, Precision::Exact)
						.is_err()
					{
						defensive!("a job's deposit stays held until it is pruned");
					}
				}
				JobsByRequester::<T>::remove(&job.requester, job_id);
				Self::deposit_event(Event::JobPruned { job: job_id });
			},
		}
	}

	/// The fee collector takes one of the job's held deadline fees: `on_initialize` is
	/// moving it on.
	pub(crate) fn take_deadline_fee(job: &mut Job<T>) {
		let fee = job.fee.deadline_fee.min(job.fee.deadline_held);
		Self::pay(&job.requester, &T::FeeCollector::get(), fee);
		job.fee.deadline_held = job.fee.deadline_held.saturating_sub(fee);
		job.fee.total = job.fee.total.saturating_sub(fee);
	}

	pub(crate) fn open_reveal(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) {
		job.phase = Phase::Reveal;
		job.due = Self::schedule(now.saturating_add(T::RevealWindow::get()), job_id);
		Self::deposit_event(Event::RevealPhase { job: job_id, due: job.due });
	}
}
