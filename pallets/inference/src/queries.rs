//! What the runtime API shows: a job, the jobs of a requester or an executor, a fee estimate.

use super::*;
use alloc::{vec, vec::Vec};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use verity_primitives::{model::ModelLookup, ModelId};

impl<T: Config> Pallet<T> {
	/// A job as the runtime API shows it.
	pub fn job_info(id: JobId) -> Option<JobInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let job = Jobs::<T>::get(id)?;
		let result = job.result.clone();
		let committee = job.members().cloned().collect();
		// One per seat asked for, also before the draw.
		let commits = if job.seats.is_empty() {
			vec![false; job.size as usize]
		} else {
			job.seats.iter().map(|seat| seat.commit.is_some()).collect()
		};
		let challenge_until = Challengeable::<T>::get(id);
		Some(JobInfo {
			id,
			key: job.key,
			requester: job.requester,
			model: job.model.id,
			inputs: JobInputs::<T>::get(id).map(BoundedVec::into_inner).unwrap_or_default(),
			committee,
			commits,
			reveals: job
				.seats
				.iter()
				.map(|seat| match seat.reveal {
					RevealSlot::Pending => None,
					RevealSlot::Revealed(_) => Some(true),
					RevealSlot::Rejected => Some(false),
				})
				.collect(),
			fee: job.fee,
			phase: job.phase,
			due: job.due,
			submitted_at: job.submitted_at,
			result_hash: result.as_ref().and_then(|r| r.result_hash),
			outcome: result.as_ref().and_then(|r| r.outcome.clone().map(|o| o.into_inner())),
			failure: result.and_then(|r| r.failure),
			is_final: matches!(job.phase, Phase::Completed | Phase::Failed)
				&& challenge_until.is_none(),
			challenge_until,
			first_committee: Escalations::<T>::get(id)
				.map(|e| e.seats.into_iter().map(|seat| seat.member).collect())
				.unwrap_or_default(),
		})
	}

	/// The jobs `requester` submitted (until pruned).
	pub fn jobs_by_requester(requester: T::AccountId) -> Vec<JobId> {
		JobsByRequester::<T>::iter_key_prefix(requester).collect()
	}

	/// The open jobs on whose committee `executor` sits.
	pub fn pending_for_executor(executor: T::AccountId) -> Vec<JobId> {
		PendingByExecutor::<T>::iter_key_prefix(executor).collect()
	}

	/// The fee estimate of the runtime API.
	pub fn fee_estimate(model: ModelId, committee_size: u32) -> Option<BalanceOf<T>> {
		let runnable = T::Models::runnable(&model).ok()?;
		Some(Self::quote(runnable.fee, committee_size).total)
	}
}
