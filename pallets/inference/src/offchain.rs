//! The executor's off-chain worker: runs the jobs this node's `infr` keys are assigned, commits
//! to their results, and reveals them once the reveal phase opens.
//!
//! For each executor whose key is in the local keystore, on each imported block:
//! - every job of its committees in the commit phase that it has not committed to is run once
//!   through the `inference` host functions (a lock in off-chain storage keeps overlapping
//!   workers from running it twice); the outcome and a random salt are kept in off-chain
//!   storage, and the commitments go out in `commit_results` batches;
//! - every job in the reveal phase that it committed to and has not revealed is revealed, in
//!   `reveal_results` batches each declared at most [`REVEAL_BATCH_SHARE`] of a block.
//!
//! Votes go out [`SEND_DELAY_MS`] after the worker starts, so that the other validators have
//! imported the block they depend on. A batch that does not make it into a block is sent again
//! after [`RESEND_AFTER`] blocks. A job
//! the node cannot run (no engine, model unavailable) is skipped: the member misses it.

use super::*;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::Get;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::BlockNumberFor};
use polkadot_sdk::{
	sp_core::offchain::Timestamp,
	sp_io::{hashing::blake2_256, offchain},
	sp_runtime::{
		offchain::storage::{MutateStorageError, StorageRetrievalError, StorageValueRef},
		traits::Saturating,
		Perbill, RuntimeAppPublic,
	},
};
use verity_primitives::{
	canonical::Outcome,
	executor::ExecutorId,
	inference::{inference, OffchainEvent, VoteKind},
	Tensor,
};

/// Blocks after which an unanswered batch item is sent again: a vote not in the next block was
/// most likely dropped by the peers that validated it before importing the block it depends on.
pub const RESEND_AFTER: u32 = 1;

/// How long (ms) after the worker starts, once the block is imported here, its votes wait before
/// going out: long enough for the other validators to import the block too (a peer that has not
/// drops a vote for a job it does not know yet, or one not yet in the right phase), short
/// enough for the next block's author, a slot (3 s) later, to include them.
pub const SEND_DELAY_MS: u64 = 1_000;

/// Most items of each kind (commits, reveals) one executor sends per block: 16 batches of
/// `MaxBatch` items.
pub const MAX_BATCHES: usize = 16;

/// The most of a block's weight a reveal batch is declared to take. A batch is declared as if
/// each item resolved a job of `MaxCommittee`, and one that does not fit what is left of a block
/// waits for the next block: smaller batches leave less of a block unused.
pub const REVEAL_BATCH_SHARE: Perbill = Perbill::from_percent(3);

/// How long (ms) the lock on running a job holds: longer than any inference (the engine stops
/// one at its time limit) and most model downloads. A node stopped while holding it runs the job
/// again once it lapses.
pub const LOCK_LAPSES_AFTER_MS: u64 = 60_000;

/// What this node computed for a job: kept until the job is revealed.
#[derive(Encode, Decode)]
struct Computed {
	outcome: Outcome,
	salt: [u8; 32],
}

/// The off-chain storage key of `kind` (commit, reveal, running, computed) for `job`.
pub(crate) fn key(kind: &[u8], job: JobId, executor: &impl Encode) -> Vec<u8> {
	(b"verity::inference::", kind, job, executor).encode()
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's work for block `now`.
	pub fn run_offchain_worker(now: BlockNumberFor<T>) {
		let local = ExecutorId::all();
		if local.is_empty() {
			return;
		}
		let send_from = offchain::timestamp().unix_millis().saturating_add(SEND_DELAY_MS);
		for (executor, id) in Executors::<T>::get() {
			if local.contains(&id) {
				Self::serve(&executor, &id, now, send_from);
			}
		}
	}

	fn serve(executor: &T::AccountId, id: &ExecutorId, now: BlockNumberFor<T>, send_from: u64) {
		let max = (T::MaxBatch::get() as usize).max(1);
		let most = max.saturating_mul(MAX_BATCHES);
		// As many reveals a batch as fit their share of a block (at least one).
		let share = REVEAL_BATCH_SHARE * T::BlockWeights::get().max_block;
		let max_reveals =
			(1..=max).rev().find(|n| Self::reveal_weight(*n as u32).all_lte(share)).unwrap_or(1);
		let mut commits = Vec::new();
		let mut reveals = Vec::new();
		// Whether each item was sent before.
		let (mut commits_resent, mut reveals_resent) = (Vec::new(), Vec::new());
		for job_id in PendingByExecutor::<T>::iter_key_prefix(executor) {
			let Some(job) = Jobs::<T>::get(job_id) else { continue };
			let Some(index) = job.committee.iter().position(|m| m == executor) else { continue };
			match job.phase {
				Phase::Commit if job.commits[index].is_none() && commits.len() < most => {
					let Some(resend) = Self::due_to_send(b"commit", job_id, executor, now) else {
						continue;
					};
					if let Some(computed) = Self::compute(job_id, &job, executor) {
						let commitment = blake2_256(
							&(computed.outcome.hash(), computed.salt, executor.clone()).encode(),
						);
						commits.push((job_id, commitment));
						commits_resent.push(resend);
					} else {
						// Not run (yet): not sent either, so a later try is not a resend.
						StorageValueRef::persistent(&key(b"commit", job_id, executor)).clear();
					}
				},
				Phase::Reveal
					if job.commits[index].is_some()
						&& job.reveals[index] == RevealSlot::Pending
						&& reveals.len() < most =>
				{
					let Some(resend) = Self::due_to_send(b"reveal", job_id, executor, now) else {
						continue;
					};
					if let Some(computed) = Self::computed(job_id, executor) {
						reveals_resent.push(resend);
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
		if !commits.is_empty() || !reveals.is_empty() {
			offchain::sleep_until(Timestamp::from_unix_millis(send_from));
		}
		for (batch, resent) in commits.chunks(max).zip(commits_resent.chunks(max)) {
			let commits: CommitsOf<T> = batch.to_vec().try_into().unwrap_or_default();
			let payload = (b"verity/commit", executor, &commits).encode();
			if let Some(signature) = id.sign(&payload) {
				let call = Call::commit_results { executor: executor.clone(), commits, signature };
				Self::send(call, VoteKind::Commit, batch.len() as u32, resent);
			}
		}
		for (batch, resent) in reveals.chunks(max_reveals).zip(reveals_resent.chunks(max_reveals)) {
			let reveals: RevealsOf<T> = batch.to_vec().try_into().unwrap_or_default();
			let payload = (b"verity/reveal", executor, &reveals).encode();
			if let Some(signature) = id.sign(&payload) {
				let call = Call::reveal_results { executor: executor.clone(), reveals, signature };
				Self::send(call, VoteKind::Reveal, batch.len() as u32, resent);
			}
		}
	}

	/// Whether to send an item for `job`: `None` if it was sent less than [`RESEND_AFTER`]
	/// blocks ago, else `Some(resend)`, `resend` telling whether it was sent before (and so did
	/// not make it into a block). Marks it sent at `now`.
	fn due_to_send(
		kind: &[u8],
		job: JobId,
		executor: &T::AccountId,
		now: BlockNumberFor<T>,
	) -> Option<bool> {
		let sent_key = key(kind, job, executor);
		let sent = StorageValueRef::persistent(&sent_key);
		let mut resend = false;
		let result = sent.mutate(
			|last: Result<Option<BlockNumberFor<T>>, StorageRetrievalError>| match last {
				Ok(Some(at)) if now < at.saturating_add(RESEND_AFTER.into()) => Err(()),
				Ok(Some(_)) => {
					resend = true;
					Ok(now)
				},
				_ => Ok(now),
			},
		);
		result.is_ok().then_some(resend)
	}

	/// The job's outcome and salt: computed once (under a lock) and kept in off-chain storage.
	fn compute(job_id: JobId, job: &Job<T>, executor: &T::AccountId) -> Option<Computed> {
		if let Some(computed) = Self::computed(job_id, executor) {
			return Some(computed);
		}
		// Decoded before taking the lock, so that no early return leaves it held.
		let inputs = Vec::<Tensor>::decode(&mut &JobInputs::<T>::get(job_id)?[..]).ok()?;
		// The lock holds the time (ms) it lapses at, so that a node stopped while running a job
		// runs it again after a restart.
		let running_key = key(b"running", job_id, executor);
		let running = StorageValueRef::persistent(&running_key);
		let now_ms = offchain::timestamp().unix_millis();
		let claimed =
			running.mutate(|until: Result<Option<u64>, StorageRetrievalError>| match until {
				Ok(Some(until)) if now_ms < until => Err(()),
				_ => Ok(now_ms.saturating_add(LOCK_LAPSES_AFTER_MS)),
			});
		if let Err(MutateStorageError::ValueFunctionFailed(())) = claimed {
			return None;
		}
		let result = inference::run(job.model.id, inputs, job.model.output_decimals);
		running.set(&0u64);
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

	/// Sends a batch of `items` votes, `resent` telling which were sent before, and tells the
	/// node.
	fn send(call: Call<T>, kind: VoteKind, items: u32, resent: &[bool]) {
		let resent = resent.iter().filter(|r| **r).count() as u32;
		if resent > 0 {
			inference::note(OffchainEvent::Resent { kind, items: resent });
		}
		let xt = T::create_authorized_transaction(call.into());
		if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_ok() {
			inference::note(OffchainEvent::Submitted { kind, items });
		} else {
			log::warn!(target: "verity::inference", "the transaction pool refused a {kind:?} batch");
			inference::note(OffchainEvent::Refused { kind, items });
		}
	}
}
