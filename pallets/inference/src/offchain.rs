//! The executor's off-chain worker: has the node run the jobs this node's `infr` keys are
//! assigned, commits to their results, and reveals them once the reveal phase opens.
//!
//! For each executor whose key is in the local keystore, on each imported block:
//! - every job of its committees in the commit phase that it has not committed to is started on
//!   the node's inference queue ([`inference::start`], once per job key: the node runs it in
//!   the background on its sandboxed workers, concurrently with other jobs) unless the node has
//!   it already; a finished job's outcome and a random salt are kept in off-chain storage (set
//!   once: a second worker finding it done uses what the first kept), and its commitment goes
//!   out;
//! - every job in the reveal phase that it committed to and has not revealed is revealed, in
//!   `reveal_results` batches each declared at most [`REVEAL_BATCH_SHARE`] of a block (a
//!   batch's weight follows the largest committee among its jobs, so jobs of like committees
//!   go together);
//! - then, until [`WORK_BUDGET_MS`] after it started, it polls the jobs still running and sends
//!   each commitment as soon as its job is done: a slow job holds back no other vote.
//!
//! Votes go out [`SEND_DELAY_MS`] after the worker starts, so that the other validators have
//! imported the block they depend on. An item not in a block after [`RESEND_AFTER`] blocks is
//! sent again, replacing the earlier sending in the pool. A job the node cannot run (no engine,
//! model unavailable) is skipped: the member misses it.
//!
//! Off-chain state is keyed by the job's key, never its number alone, so that after a
//! reorganisation a job of the same number on the new fork is a new job here too. The state of
//! jobs no longer on the executor's committees is removed.

use super::*;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::Get;
use frame_system::{offchain::SubmitTransaction, pallet_prelude::BlockNumberFor};
use polkadot_sdk::{
	sp_core::offchain::Duration,
	sp_io::{hashing::blake2_256, offchain},
	sp_runtime::{
		offchain::storage::{StorageRetrievalError, StorageValueRef},
		traits::Saturating,
		Perbill, RuntimeAppPublic,
	},
};
use verity_primitives::{
	canonical::Outcome,
	executor::ExecutorId,
	inference::{inference, JobRequest, JobStatus, OffchainEvent, VoteKind},
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

/// How long (ms) after it starts the worker keeps polling running jobs to send their
/// commitments: most of a slot. The next block's worker picks up what is still running.
pub const WORK_BUDGET_MS: u64 = 2_500;

/// How often (ms) the worker polls the jobs still running.
pub const POLL_EVERY_MS: u64 = 50;

/// Most items of each kind (commits, reveals) one executor sends per block: 16 batches of
/// `MaxBatch` items.
pub const MAX_BATCHES: usize = 16;

/// The most of a block's weight a reveal batch is declared to take. A batch is declared as if
/// each item resolved a job of the batch's largest committee, and one that does not fit what is
/// left of a block waits for the next block: smaller batches leave less of a block unused.
pub const REVEAL_BATCH_SHARE: Perbill = Perbill::from_percent(3);

/// Most jobs with off-chain state kept per executor; past this, the oldest entries' state is
/// dropped (their jobs are long past their windows).
pub const MAX_TRACKED: usize = 16_384;

/// Blocks after a job was last open on the executor's committees that its off-chain state is
/// removed.
pub const FORGET_AFTER: u32 = 50;

/// What this node computed for a job: kept until the job leaves the executor's committees.
#[derive(Clone, Encode, Decode)]
pub(crate) struct Computed {
	pub(crate) outcome: Outcome,
	pub(crate) salt: [u8; 32],
}

impl Computed {
	/// `executor`'s commitment to this outcome for the job of `key`.
	fn commitment(&self, executor: &impl Encode, key: &JobKey) -> Commitment {
		commitment_of(&self.outcome.hash(), &self.salt, executor, key)
	}
}

/// A reveal to send, with the size of its job's committee (a batch's weight follows its largest)
/// and whether it was sent before.
struct QueuedReveal<MaxOutput: Get<u32>> {
	item: RevealItem<MaxOutput>,
	committee: u32,
	resent: bool,
}

/// The off-chain storage key of `kind` (commit, reveal, computed) for the job of `job_key`.
pub(crate) fn key(kind: &[u8], job_key: &JobKey, executor: &impl Encode) -> Vec<u8> {
	(b"verity::inference::", kind, job_key, executor).encode()
}

/// The off-chain storage key of the jobs an executor has state for.
fn tracked_key(executor: &impl Encode) -> Vec<u8> {
	(b"verity::inference::tracked", executor).encode()
}

/// One executor's votes to send.
struct Votes<T: Config> {
	executor: T::AccountId,
	id: ExecutorId,
	commits: Vec<CommitItem>,
	reveals: Vec<QueuedReveal<T::MaxOutputBytes>>,
	/// Whether each commit was sent before.
	commits_resent: Vec<bool>,
	/// Jobs running on the node, to poll.
	running: Vec<(JobId, JobKey)>,
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's work for block `now`.
	pub fn run_offchain_worker(now: BlockNumberFor<T>) {
		let local = ExecutorId::all();
		// During a multi-block migration jobs may be in another layout, and no vote is included.
		if local.is_empty() || Self::paused() {
			return;
		}
		let started = offchain::timestamp();
		let send_from = started.add(Duration::from_millis(SEND_DELAY_MS));
		let until = started.add(Duration::from_millis(WORK_BUDGET_MS));
		let mut work: Vec<Votes<T>> = local
			.into_iter()
			.filter_map(|id| ExecutorOfKey::<T>::get(&id).map(|executor| (executor, id)))
			.map(|(executor, id)| Self::gather(executor, id, now))
			.collect();
		if work.iter().any(|w| !w.commits.is_empty() || !w.reveals.is_empty()) {
			offchain::sleep_until(send_from);
		}
		for votes in &mut work {
			Self::send_votes(votes, now);
		}
		// Send each commitment as soon as its job is done.
		while work.iter().any(|w| !w.running.is_empty()) && offchain::timestamp() < until {
			offchain::sleep_until(offchain::timestamp().add(Duration::from_millis(POLL_EVERY_MS)));
			for votes in &mut work {
				Self::collect_finished(votes, now);
				if !votes.commits.is_empty() {
					offchain::sleep_until(send_from);
					Self::send_votes(votes, now);
				}
			}
		}
	}

	/// What `executor` has to send for block `now`, and the jobs it waits for; starts the jobs
	/// the node is not running yet and drops the state of jobs it is done with.
	fn gather(executor: T::AccountId, id: ExecutorId, now: BlockNumberFor<T>) -> Votes<T> {
		let most = (T::MaxBatch::get() as usize).max(1).saturating_mul(MAX_BATCHES);
		let mut votes = Votes::<T> {
			executor,
			id,
			commits: Vec::new(),
			reveals: Vec::new(),
			commits_resent: Vec::new(),
			running: Vec::new(),
		};
		let executor: T::AccountId = votes.executor.clone();
		let mut open = Vec::new();
		for job_id in PendingByExecutor::<T>::iter_key_prefix(&executor) {
			let Some(job) = Jobs::<T>::get(job_id) else { continue };
			let Some(seat) = job.seat_of(&executor) else { continue };
			open.push((job_id, job.key));
			match job.phase {
				Phase::Commit if seat.commit.is_none() => {
					if let Some(computed) = Self::computed(&job.key, &executor) {
						if votes.commits.len() < most {
							Self::queue_commit(&mut votes, job_id, &job.key, &computed, now);
						}
						continue;
					}
					match inference::poll(job.key) {
						JobStatus::Done(outcome) => {
							let computed = Self::keep_computed(&job.key, &executor, outcome);
							if votes.commits.len() < most {
								Self::queue_commit(&mut votes, job_id, &job.key, &computed, now);
							}
						},
						JobStatus::Pending => votes.running.push((job_id, job.key)),
						JobStatus::Unknown => {
							if Self::start(job_id, &job) {
								votes.running.push((job_id, job.key));
							}
						},
						JobStatus::Unavailable(e) => {
							log::debug!(
								target: LOG_TARGET,
								"job {job_id}: the node cannot run it ({e:?})"
							);
						},
					}
				},
				Phase::Reveal
					if seat.commit.is_some()
						&& seat.reveal == RevealSlot::Pending
						&& votes.reveals.len() < most =>
				{
					let Some(computed) = Self::computed(&job.key, &executor) else { continue };
					if seat.commit != Some(computed.commitment(&executor, &job.key)) {
						// Another node with this key committed with another salt (or this one's
						// state was lost): revealing would be slashed as a bad reveal.
						log::warn!(
							target: LOG_TARGET,
							"job {job_id}: the commitment on chain is not this node's; not revealing"
						);
						continue;
					}
					let Some(resend) = Self::due_to_send(b"reveal", &job.key, &executor, now)
					else {
						continue;
					};
					// The result hash is `blake2_256` of this encoding (`Outcome::hash`).
					let encoded = computed.outcome.encode();
					let item = RevealItem {
						job: job_id,
						key: job.key,
						result_hash: blake2_256(&encoded),
						salt: computed.salt,
						outcome: encoded.try_into().ok(),
					};
					let committee = job.seats.len() as u32;
					votes.reveals.push(QueuedReveal { item, committee, resent: resend });
				},
				_ => {},
			}
		}
		Self::forget_finished(&executor, &open, now);
		votes
	}

	/// Starts `job` on the node's queue; whether it runs now.
	fn start(job_id: JobId, job: &Job<T>) -> bool {
		let Some(inputs) = JobInputs::<T>::get(job_id)
			.and_then(|bytes| Vec::<Tensor>::decode(&mut &bytes[..]).ok())
		else {
			return false;
		};
		let request = JobRequest {
			key: job.key,
			model: job.model.id,
			inputs,
			output_decimals: job.model.output_decimals,
			limits: job.model.limits,
		};
		match inference::start(request) {
			Ok(()) => true,
			Err(e) => {
				log::warn!(target: LOG_TARGET, "job {job_id}: cannot start it: {e:?}");
				false
			},
		}
	}

	/// Polls the jobs `votes` waits for and queues the commitments of those done.
	fn collect_finished(votes: &mut Votes<T>, now: BlockNumberFor<T>) {
		let running = core::mem::take(&mut votes.running);
		for (job_id, job_key) in running {
			match inference::poll(job_key) {
				JobStatus::Pending => votes.running.push((job_id, job_key)),
				JobStatus::Done(outcome) => {
					let computed = Self::keep_computed(&job_key, &votes.executor, outcome);
					Self::queue_commit(votes, job_id, &job_key, &computed, now);
				},
				JobStatus::Unknown | JobStatus::Unavailable(_) => {},
			}
		}
	}

	fn queue_commit(
		votes: &mut Votes<T>,
		job_id: JobId,
		job_key: &JobKey,
		computed: &Computed,
		now: BlockNumberFor<T>,
	) {
		let Some(resend) = Self::due_to_send(b"commit", job_key, &votes.executor, now) else {
			return;
		};
		let commitment = computed.commitment(&votes.executor, job_key);
		votes.commits.push(CommitItem { job: job_id, key: *job_key, commitment });
		votes.commits_resent.push(resend);
	}

	/// Sends the votes queued in `votes`, in batches, and empties the queues.
	fn send_votes(votes: &mut Votes<T>, now: BlockNumberFor<T>) {
		let max = (T::MaxBatch::get() as usize).max(1);
		let commits = core::mem::take(&mut votes.commits);
		let commits_resent = core::mem::take(&mut votes.commits_resent);
		for (batch, resent) in commits.chunks(max).zip(commits_resent.chunks(max)) {
			// `chunks(max)` of `MaxBatch` at most. qed
			let commits: CommitsOf<T> = batch.to_vec().try_into().unwrap_or_default();
			let payload =
				Self::vote_payload(VoteKind::Commit, &votes.executor, &votes.id, now, &commits);
			if let Some(signature) = votes.id.sign(&payload) {
				let call = Call::commit_results {
					executor: votes.executor.clone(),
					signer: votes.id.clone(),
					commits,
					sent_at: now,
					signature,
				};
				Self::send(call, VoteKind::Commit, batch.len() as u32, resent);
			}
		}
		let mut reveals = core::mem::take(&mut votes.reveals);
		// Jobs of like committees together, so that small ones are not declared as large ones.
		reveals.sort_by_key(|r| r.committee);
		for batch in Self::reveal_batches(&reveals, max) {
			let max_committee = batch.last().map_or(0, |r| r.committee);
			let resent: Vec<bool> = batch.iter().map(|r| r.resent).collect();
			let items: Vec<_> = batch.iter().map(|r| r.item.clone()).collect();
			// `reveal_batches` makes batches of `MaxBatch` at most. qed
			let reveals: RevealsOf<T> = items.try_into().unwrap_or_default();
			let payload = Self::vote_payload(
				VoteKind::Reveal,
				&votes.executor,
				&votes.id,
				now,
				&(&reveals, max_committee),
			);
			if let Some(signature) = votes.id.sign(&payload) {
				let call = Call::reveal_results {
					executor: votes.executor.clone(),
					signer: votes.id.clone(),
					reveals,
					max_committee,
					sent_at: now,
					signature,
				};
				Self::send(call, VoteKind::Reveal, batch.len() as u32, &resent);
			}
		}
	}

	/// `reveals` (sorted by committee size) cut into batches of at most `max` items, each
	/// declared at most [`REVEAL_BATCH_SHARE`] of a block (at least one item).
	fn reveal_batches(
		reveals: &[QueuedReveal<T::MaxOutputBytes>],
		max: usize,
	) -> Vec<&[QueuedReveal<T::MaxOutputBytes>]> {
		let share = REVEAL_BATCH_SHARE * T::BlockWeights::get().max_block;
		let mut batches = Vec::new();
		let mut rest = reveals;
		while !rest.is_empty() {
			// Sorted: the last item of a batch has its largest committee.
			let fits = (1..=rest.len().min(max))
				.take_while(|n| {
					Self::reveal_weight(*n as u32, rest[n - 1].committee).all_lte(share)
				})
				.last()
				.unwrap_or(1);
			let (batch, tail) = rest.split_at(fits);
			batches.push(batch);
			rest = tail;
		}
		batches
	}

	/// Whether to send an item for the job of `job_key`: `None` if it was sent less than
	/// [`RESEND_AFTER`] blocks ago, else `Some(resend)`, `resend` telling whether it was sent
	/// before (and so did not make it into a block). Marks it sent at `now`.
	fn due_to_send(
		kind: &[u8],
		job_key: &JobKey,
		executor: &T::AccountId,
		now: BlockNumberFor<T>,
	) -> Option<bool> {
		let sent_key = key(kind, job_key, executor);
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

	/// Keeps `outcome` with a new random salt as what this node computed for the job, unless
	/// another worker kept one first: then that one, so that every commitment and reveal sent
	/// for the job uses the same salt.
	pub(crate) fn keep_computed(
		job_key: &JobKey,
		executor: &T::AccountId,
		outcome: Outcome,
	) -> Computed {
		let stored_key = key(b"computed", job_key, executor);
		let stored = StorageValueRef::persistent(&stored_key);
		let fresh = Computed { outcome, salt: offchain::random_seed() };
		let kept =
			stored.mutate(|old: Result<Option<Computed>, StorageRetrievalError>| match old {
				Ok(Some(existing)) => Err(existing),
				_ => Ok(fresh.clone()),
			});
		match kept {
			Ok(computed) => computed,
			Err(polkadot_sdk::sp_runtime::offchain::storage::MutateStorageError::ValueFunctionFailed(
				existing,
			)) => existing,
			Err(_) => fresh,
		}
	}

	/// What this node computed for the job of `job_key` as `executor`, if it has.
	pub(crate) fn computed(job_key: &JobKey, executor: &T::AccountId) -> Option<Computed> {
		let stored_key = key(b"computed", job_key, executor);
		StorageValueRef::persistent(&stored_key).get::<Computed>().ok().flatten()
	}

	/// Tracks the jobs `executor` has open now (`open`), and removes the off-chain state of
	/// those it tracked that have not been open for [`FORGET_AFTER`] blocks: finished, or on a
	/// fork the chain left (a short fork may come back, hence the wait).
	fn forget_finished(executor: &T::AccountId, open: &[(JobId, JobKey)], now: BlockNumberFor<T>) {
		let tracked_key = tracked_key(executor);
		let tracked = StorageValueRef::persistent(&tracked_key);
		let before: Vec<(JobId, JobKey, BlockNumberFor<T>)> =
			tracked.get().ok().flatten().unwrap_or_default();
		let forget_before = now.saturating_sub(FORGET_AFTER.into());
		let mut kept: Vec<(JobId, JobKey, BlockNumberFor<T>)> = Vec::with_capacity(before.len());
		for (job_id, job_key, seen) in &before {
			if open.iter().any(|(_, k)| k == job_key) {
				continue;
			}
			if *seen < forget_before {
				Self::clear_state(job_key, executor);
			} else {
				kept.push((*job_id, *job_key, *seen));
			}
		}
		kept.extend(open.iter().map(|(id, k)| (*id, *k, now)));
		if kept.len() > MAX_TRACKED {
			// Oldest first: their windows closed long ago.
			kept.sort_by_key(|(id, _, seen)| (*seen, *id));
			for (_, job_key, _) in kept.drain(..kept.len() - MAX_TRACKED) {
				Self::clear_state(&job_key, executor);
			}
		}
		if kept != before {
			tracked.set(&kept);
		}
	}

	fn clear_state(job_key: &JobKey, executor: &T::AccountId) {
		for kind in [&b"commit"[..], b"reveal", b"computed"] {
			StorageValueRef::persistent(&key(kind, job_key, executor)).clear();
		}
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
			log::warn!(target: LOG_TARGET, "the transaction pool refused a {kind:?} batch");
			inference::note(OffchainEvent::Refused { kind, items });
		}
	}
}
