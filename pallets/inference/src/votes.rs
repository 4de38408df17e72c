//! Votes: the commits and reveals executors send as authorized transactions, how the pool
//! checks them before any job is read (signature, key, phase, seat), and what they weigh.

use super::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use polkadot_sdk::{
	sp_io::hashing::blake2_256,
	sp_runtime::{
		traits::{One, SaturatedConversion, Saturating, Zero},
		RuntimeAppPublic,
	},
};
use verity_primitives::{
	executor::{ExecutorId, ExecutorSignature},
	inference::VoteKind,
};

impl<T: Config> Pallet<T> {
	/// [`Pallet::commit_results`] for `executor`, authorized.
	pub(crate) fn do_commit(
		executor: T::AccountId,
		commits: CommitsOf<T>,
	) -> DispatchResultWithPostInfo {
		let now = frame_system::Pallet::<T>::block_number();
		// Items applied, and those that opened the reveal phase.
		let (items, mut applied, mut opened) = (commits.len() as u32, 0u32, 0u32);
		for item in commits {
			// Items that went stale since authorization (another batch of the same member
			// in the same block, a phase change) are skipped, not allowed to void the rest.
			let Some(mut job) = Jobs::<T>::get(item.job).filter(|j| j.key == item.key) else {
				continue;
			};
			if job.phase != Phase::Commit {
				continue;
			}
			let Some(seat) = job.seat_mut(&executor).filter(|seat| seat.commit.is_none()) else {
				continue;
			};
			seat.commit = Some(item.commitment);
			applied += 1;
			Self::deposit_event(Event::Committed { job: item.job, executor: executor.clone() });
			if job.committed() as usize == job.seats.len() {
				Self::open_reveal(item.job, &mut job, now);
				opened += 1;
			}
			Jobs::<T>::insert(item.job, job);
		}
		// Charged as if every item opened the reveal phase (one more write: its deadline).
		let weight = T::WeightInfo::commit_results(applied)
			.saturating_sub(T::DbWeight::get().writes((applied - opened).into()));
		Ok(Some(Self::batch_weight(weight, items - applied)).into())
	}

	/// [`Pallet::reveal_results`] for `executor`, authorized.
	pub(crate) fn do_reveal(
		executor: T::AccountId,
		reveals: RevealsOf<T>,
		max_committee: u32,
	) -> DispatchResultWithPostInfo {
		let now = frame_system::Pallet::<T>::block_number();
		let items = reveals.len() as u32;
		// Items applied, the resolutions they set off, and what they bring the beacon.
		let (mut applied, mut resolutions, mut entropy) = (0u32, Weight::zero(), [0u8; 32]);
		for item in reveals {
			let job_id = item.job;
			// Stale items are skipped (see `commit_results`).
			let Some(mut job) = Jobs::<T>::get(job_id)
				.filter(|j| j.key == item.key && j.seats.len() as u32 <= max_committee)
			else {
				continue;
			};
			if job.phase != Phase::Reveal {
				continue;
			}
			let key = job.key;
			let Some(seat) = job.seat_mut(&executor) else { continue };
			let (Some(commitment), RevealSlot::Pending) = (seat.commit, &seat.reveal) else {
				continue;
			};
			let expected = commitment_of(&item.result_hash, &item.salt, &executor, &key);
			let outcome_matches =
				item.outcome.as_ref().is_none_or(|outcome| blake2_256(outcome) == item.result_hash);
			if expected == commitment && outcome_matches {
				let share = blake2_256(&(b"verity/entropy", item.salt, &executor, key).encode());
				entropy.iter_mut().zip(share).for_each(|(e, s)| *e ^= s);
				seat.reveal = RevealSlot::Revealed(Reveal {
					result_hash: item.result_hash,
					outcome: item.outcome,
				});
				Self::deposit_event(Event::Revealed { job: job_id, executor: executor.clone() });
			} else {
				seat.reveal = RevealSlot::Rejected;
				Self::deposit_event(Event::RevealRejected {
					job: job_id,
					executor: executor.clone(),
				});
			}
			let all_in = job.seats.iter().all(Seat::revealed_if_committed);
			applied += 1;
			if all_in && Escalations::<T>::contains_key(job_id) {
				// A challenged job's second round is resolved by `on_initialize`, whose work
				// the challenger paid for: at the next block.
				job.due = Self::schedule(now.saturating_add(One::one()), job_id);
				resolutions.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
			} else if all_in {
				// Its `Escalations` read, and the resolution.
				resolutions.saturating_accrue(T::DbWeight::get().reads(1));
				resolutions.saturating_accrue(T::WeightInfo::resolve(job.seats.len() as u32));
				resolutions.saturating_accrue(Self::resolve_first(job_id, &mut job, now));
			}
			Jobs::<T>::insert(job_id, job);
		}
		if entropy != [0u8; 32] {
			Entropy::<T>::mutate(|e| e.iter_mut().zip(entropy).for_each(|(e, s)| *e ^= s));
			resolutions.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
		}
		// Charged as if every item resolved a committee of `max_committee`; refunded to what
		// happened.
		let weight = T::WeightInfo::reveal_results(applied).saturating_add(resolutions);
		Ok(Some(Self::batch_weight(weight, items - applied)).into())
	}

	/// The most a reveal batch of `items` can weigh whose jobs' committees are at most
	/// `max_committee`: every item resolving its job, and the batch's entropy added to the
	/// block's.
	pub fn reveal_weight(items: u32, max_committee: u32) -> Weight {
		let k = max_committee.min(T::MaxCommittee::get());
		// And whether it is a second round (resolved by `on_initialize` instead).
		let resolution = Self::resolution_weight(k).saturating_add(T::DbWeight::get().reads(1));
		T::WeightInfo::reveal_results(items)
			.saturating_add(resolution.saturating_mul(items.into()))
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// The weight of a batch of which `skipped` items were stale: the applied items' weight
	/// and one job read for each skipped one (charged up front for all, refunded to this).
	pub(crate) fn batch_weight(applied: Weight, skipped: u32) -> Weight {
		applied.saturating_add(T::DbWeight::get().reads(skipped.into()))
	}

	/// Checks an authorized batch of `kind`: first its signature by `signer` over
	/// `(kind tag, genesis hash, executor, signer, sent_at, items)` (the genesis hash is the
	/// only storage read before it), then that `signer` is `executor`'s key, then each job:
	/// present under its key, in the phase `kind` votes in, with `executor` on its committee
	/// and not done yet, with a committee of at most `max_committee`. Provides one tag per
	/// item (see [`Pallet::commit_results`]).
	#[allow(clippy::too_many_arguments)]
	pub fn authorize_batch<Items: Encode>(
		kind: VoteKind,
		executor: &T::AccountId,
		signer: &ExecutorId,
		items: &Items,
		sent_at: BlockNumberFor<T>,
		signature: &ExecutorSignature,
		jobs: impl Iterator<Item = (JobId, JobKey)>,
		max_committee: u32,
	) -> TransactionValidityWithRefund {
		let payload = Self::vote_payload(kind, executor, signer, sent_at, items);
		if !signer.verify(&payload, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let now = frame_system::Pallet::<T>::block_number();
		if sent_at > now {
			return Err(InvalidTransaction::Future.into());
		}
		if ExecutorOfKey::<T>::get(signer).as_ref() != Some(executor) {
			return Err(InvalidTransaction::BadSigner.into());
		}
		let jobs: Vec<(JobId, JobKey)> = jobs.collect();
		if jobs.is_empty() || (1..jobs.len()).any(|i| jobs[..i].iter().any(|j| j.0 == jobs[i].0)) {
			return Err(InvalidTransaction::Call.into());
		}
		let phase = match kind {
			VoteKind::Commit => Phase::Commit,
			VoteKind::Reveal => Phase::Reveal,
		};
		for (job_id, key) in &jobs {
			let job = Jobs::<T>::get(job_id)
				.filter(|job| job.key == *key)
				.ok_or(InvalidTransaction::Stale)?;
			if job.phase != phase {
				return Err(InvalidTransaction::Stale.into());
			}
			if job.seats.len() as u32 > max_committee {
				return Err(InvalidTransaction::Call.into());
			}
			let seat = job.seat_of(executor).ok_or(InvalidTransaction::BadSigner)?;
			let done = match phase {
				Phase::Commit => seat.commit.is_some(),
				_ => seat.revealed_if_committed(),
			};
			if done {
				return Err(InvalidTransaction::Stale.into());
			}
		}
		let window: u64 = match phase {
			Phase::Commit => T::CommitWindow::get(),
			_ => T::RevealWindow::get(),
		}
		.try_into()
		.unwrap_or(u64::MAX);
		let mut valid = ValidTransaction::with_tag_prefix("VerityInference")
			// Sent again in a later block, an item replaces its earlier sending.
			.priority(T::UnsignedPriority::get().saturating_add(sent_at.saturated_into()))
			.longevity(window.max(1))
			.propagate(true);
		for (_, key) in &jobs {
			valid = valid.and_provides((kind.tag(), executor, key));
		}
		valid.build().map(|valid| (valid, Weight::zero()))
	}

	/// Authorizes a [`Pallet::reveal_results`] batch: [`Pallet::authorize_batch`] over the
	/// reveals and the batch's largest committee.
	pub(crate) fn authorize_reveals(
		_source: TransactionSource,
		executor: &T::AccountId,
		signer: &ExecutorId,
		reveals: &RevealsOf<T>,
		max_committee: &u32,
		sent_at: &BlockNumberFor<T>,
		signature: &ExecutorSignature,
	) -> TransactionValidityWithRefund {
		Self::authorize_batch(
			VoteKind::Reveal,
			executor,
			signer,
			&(reveals, *max_committee),
			*sent_at,
			signature,
			reveals.iter().map(|r| (r.job, r.key)),
			*max_committee,
		)
	}

	/// What an executor signs for a batch of `kind`.
	pub fn vote_payload<Items: Encode>(
		kind: VoteKind,
		executor: &T::AccountId,
		signer: &ExecutorId,
		sent_at: BlockNumberFor<T>,
		items: &Items,
	) -> Vec<u8> {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		(kind.tag(), genesis, executor, signer, sent_at, items).encode()
	}
}

/// The commitment to `result_hash` with `salt` by `executor` for the job of `key`.
pub fn commitment_of<AccountId: Encode>(
	result_hash: &[u8; 32],
	salt: &[u8; 32],
	executor: &AccountId,
	key: &JobKey,
) -> Commitment {
	blake2_256(&(result_hash, salt, executor, key).encode())
}
