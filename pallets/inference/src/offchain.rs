//! The executor's off-chain worker: runs the jobs this node's `infr` keys are assigned, commits
//! to their results, and reveals them once the reveal phase opens.
//!
//! For each executor whose key is in the local keystore, on each imported block:
//! - every job of its committees in the commit phase that it has not committed to is run once
//!   through the `inference` host functions (a lock in off-chain storage keeps overlapping
//!   workers from running it twice); the outcome and a random salt are kept in off-chain
//!   storage, and the commitments go out in one `commit_results` batch;
//! - every job in the reveal phase that it committed to and has not revealed is revealed in one
//!   `reveal_results` batch.
//!
//! A batch that does not make it into a block is sent again after [`RESEND_AFTER`] blocks. A job
//! the node cannot run (no engine, model unavailable) is skipped: the member misses it.

use super::*;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::Get;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::BlockNumberFor};
use polkadot_sdk::{
	sp_io::{hashing::blake2_256, offchain},
	sp_runtime::{
		offchain::storage::{MutateStorageError, StorageRetrievalError, StorageValueRef},
		traits::Saturating,
		RuntimeAppPublic,
	},
};
use verity_primitives::{canonical::Outcome, executor::ExecutorId, inference::inference, Tensor};

/// Blocks after which an unanswered batch item is sent again.
pub const RESEND_AFTER: u32 = 3;

/// What this node computed for a job: kept until the job is revealed.
#[derive(Encode, Decode)]
struct Computed {
	outcome: Outcome,
	salt: [u8; 32],
}

fn key(kind: &[u8], job: JobId, executor: &impl Encode) -> Vec<u8> {
	(b"verity::inference::", kind, job, executor).encode()
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's work for block `now`.
	pub fn run_offchain_worker(now: BlockNumberFor<T>) {
		let local = ExecutorId::all();
		if local.is_empty() {
			return;
		}
		for (executor, id) in Executors::<T>::get() {
			if local.contains(&id) {
				Self::serve(&executor, &id, now);
			}
		}
	}

	fn serve(executor: &T::AccountId, id: &ExecutorId, now: BlockNumberFor<T>) {
		let max = T::MaxBatch::get() as usize;
		let mut commits = Vec::new();
		let mut reveals = Vec::new();
		for job_id in PendingByExecutor::<T>::iter_key_prefix(executor) {
			let Some(job) = Jobs::<T>::get(job_id) else { continue };
			let Some(index) = job.committee.iter().position(|m| m == executor) else { continue };
			match job.phase {
				Phase::Commit if job.commits[index].is_none() && commits.len() < max => {
					if !Self::due_to_send(b"commit", job_id, executor, now) {
						continue;
					}
					if let Some(computed) = Self::compute(job_id, &job, executor) {
						let commitment = blake2_256(
							&(computed.outcome.hash(), computed.salt, executor.clone()).encode(),
						);
						commits.push((job_id, commitment));
					}
				},
				Phase::Reveal
					if job.commits[index].is_some()
						&& job.reveals[index] == RevealSlot::Pending
						&& reveals.len() < max =>
				{
					if !Self::due_to_send(b"reveal", job_id, executor, now) {
						continue;
					}
					if let Some(computed) = Self::computed(job_id, executor) {
						// The result hash is `blake2_256` of this encoding (`Outcome::hash`).
						let encoded = computed.outcome.encode();
						reveals.push(RevealItem {
							job: job_id,
							result_hash: blake2_256(&encoded),
							salt: computed.salt,
							outcome: encoded.try_into().ok(),
						});
					}
				},
				_ => {},
			}
		}
		if !commits.is_empty() {
			let commits: CommitsOf<T> = commits.try_into().unwrap_or_default();
			let payload = (b"verity/commit", executor, &commits).encode();
			if let Some(signature) = id.sign(&payload) {
				Self::send(Call::commit_results { executor: executor.clone(), commits, signature });
			}
		}
		if !reveals.is_empty() {
			let reveals: RevealsOf<T> = reveals.try_into().unwrap_or_default();
			let payload = (b"verity/reveal", executor, &reveals).encode();
			if let Some(signature) = id.sign(&payload) {
				Self::send(Call::reveal_results { executor: executor.clone(), reveals, signature });
			}
		}
	}

	/// Whether to send (again) an item for `job`: not sent, or sent `RESEND_AFTER` blocks ago.
	/// Marks it sent at `now`.
	fn due_to_send(
		kind: &[u8],
		job: JobId,
		executor: &T::AccountId,
		now: BlockNumberFor<T>,
	) -> bool {
		let sent_key = key(kind, job, executor);
		let sent = StorageValueRef::persistent(&sent_key);
		let result = sent.mutate(
			|last: Result<Option<BlockNumberFor<T>>, StorageRetrievalError>| match last {
				Ok(Some(at)) if now < at.saturating_add(RESEND_AFTER.into()) => Err(()),
				_ => Ok(now),
			},
		);
		result.is_ok()
	}

	/// The job's outcome and salt: computed once (under a lock) and kept in off-chain storage.
	fn compute(job_id: JobId, job: &Job<T>, executor: &T::AccountId) -> Option<Computed> {
		if let Some(computed) = Self::computed(job_id, executor) {
			return Some(computed);
		}
		// Decoded before taking the lock, so that no early return leaves it held.
		let inputs = Vec::<Tensor>::decode(&mut &job.inputs[..]).ok()?;
		let running_key = key(b"running", job_id, executor);
		let running = StorageValueRef::persistent(&running_key);
		let claimed =
			running.mutate(|state: Result<Option<bool>, StorageRetrievalError>| match state {
				Ok(Some(true)) => Err(()),
				_ => Ok(true),
			});
		if let Err(MutateStorageError::ValueFunctionFailed(())) = claimed {
			return None;
		}
		let result = inference::run(job.model.id, inputs, job.model.output_decimals);
		running.set(&false);
		let outcome = match result {
			Ok(outcome) => outcome,
			Err(e) => {
				log::warn!(target: "verity::inference", "job {job_id}: cannot run: {e:?}");
				return None;
			},
		};
		let computed = Computed { outcome, salt: offchain::random_seed() };
		let stored_key = key(b"computed", job_id, executor);
		StorageValueRef::persistent(&stored_key).set(&computed);
		Some(computed)
	}

	/// What this node computed for `job` as `executor`, if it has run it.
	fn computed(job_id: JobId, executor: &T::AccountId) -> Option<Computed> {
		let stored_key = key(b"computed", job_id, executor);
		StorageValueRef::persistent(&stored_key).get::<Computed>().ok().flatten()
	}

	fn send(call: Call<T>) {
		let xt = T::create_authorized_transaction(call.into());
		if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_err() {
			log::warn!(target: "verity::inference", "the transaction pool refused a batch");
		}
	}
}
