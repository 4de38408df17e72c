//! Committees: drawn at a later block than the job's submission, from a beacon that the
//! executors' revealed salts feed.
//!
//! Every accepted reveal adds `blake2_256(("verity/entropy", salt, executor, job key))` to the
//! block's [`Entropy`] by XOR; the next block's `on_initialize` hashes that into the [`Beacon`]
//! before it draws anything. A job submitted at block `s` is drawn at `s + DrawDelay` (or, when
//! `on_initialize` ran out of weight, at the first block after with room: oldest first), from
//! `blake2_256(("verity/draw", beacon, job key, attempt))` by Floyd's sampling over the
//! drawable executors.
//!
//! - A salt is chosen by its executor's node before it commits and is secret until the reveal,
//!   so no one knows what the reveals of blocks `s .. s + DrawDelay - 1` will bring when the
//!   job is submitted: not the requester, nor the author of block `s` (at a delay of 2 the
//!   reveals of block `s + 1` are mostly sent after block `s` was made).
//! - The author of the last block before the draw chooses which of the reveals it has to
//!   include, not how they mix (XOR does not depend on order): `2^m` beacons for `m` reveals, at
//!   the price of the ones it leaves out landing in a later block. It cannot make up a reveal,
//!   and leaving one out of every block past its window gets its executor slashed for a miss.
//!   A block hash is not mixed in: its author could try as many as it can compute.
//! - A chain where no reveal lands between a job's submission and its draw draws from the
//!   beacon as it was: then the committee is predictable. `docs/economics.md` says what each
//!   choice buys an attacker.
//!
//! An attempt whose committee has a member behind on [`Config::MaxOpenPerExecutor`] open jobs
//! is drawn again (seed `attempt + 1`), up to [`DRAW_ATTEMPTS`]: the committee is uniform among
//! those with no such member. On every attempt but the last, a member with penalty points can
//! also have the attempt drawn again ([`reputation`](crate::reputation)). With fewer drawable executors than seats, or no attempt left, the
//! job fails ([`FailureReason::NoCommittee`]).

use super::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use polkadot_sdk::{sp_io::hashing::blake2_256, sp_runtime::traits::Saturating};

/// Committees tried for a job before it fails for want of one.
pub const DRAW_ATTEMPTS: u32 = 3;

impl<T: Config> Pallet<T> {
	/// The most drawing a committee of `k` weighs: the benchmarked draw, the reads of the
	/// attempts after the first ([`DRAW_ATTEMPTS`]: a draw slot and a record per member and
	/// the draw's size), and, when no attempt gives a committee, failing the job (bounded
	/// by resolving a job of one).
	pub fn draw_weight(k: u32) -> Weight {
		let retries = u64::from(DRAW_ATTEMPTS - 1) * (2 * u64::from(k) + 1);
		// Each member's standing on every attempt but the last.
		let standings = u64::from(DRAW_ATTEMPTS - 1) * u64::from(k);
		// And whether it is a challenged job's second committee.
		T::WeightInfo::draw(k, T::MaxExecutors::get())
			.saturating_add(
				T::DbWeight::get().reads(retries.saturating_add(standings).saturating_add(1)),
			)
			.saturating_add(T::WeightInfo::resolve(1))
	}

	/// Hashes the previous block's reveals' [`Entropy`] into the [`Beacon`] (nothing when
	/// they brought none).
	pub(crate) fn mix_beacon() {
		let entropy = Entropy::<T>::take();
		if entropy != [0u8; 32] {
			Beacon::<T>::mutate(|beacon| {
				*beacon = blake2_256(&(b"verity/beacon", *beacon, entropy).encode())
			});
		}
	}

	/// The seed of `key`'s `attempt`-th draw from `beacon`.
	pub fn draw_seed(beacon: &[u8; 32], key: &JobKey, attempt: u32) -> [u8; 32] {
		blake2_256(&(b"verity/draw", beacon, key, attempt).encode())
	}

	/// Draws `job`'s committee at `draw_at`: at once when that is `now` (charged by the caller),
	/// otherwise by `on_initialize` then. `escalation` is the job's first round when it was
	/// challenged (as [`Escalations`] holds it).
	pub(crate) fn draw_at(
		job_id: JobId,
		job: &mut Job<T>,
		escalation: Option<Escalation<T>>,
		draw_at: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
	) {
		if draw_at == now {
			let _ = Self::draw(job_id, job, escalation, now);
		} else {
			Self::schedule(draw_at, job_id);
		}
	}

	/// Draws the committee of `job` (in [`Phase::Draw`]): its members, its commit phase and
	/// deadline, [`Event::CommitteeDrawn`]; or fails it with [`FailureReason::NoCommittee`].
	/// `escalation` is its first round, read by the caller from [`Escalations`], when it was
	/// challenged: then the first's members are left out, and a draw that fails ends the
	/// challenge instead. The weight it took (at most [`Pallet::draw_weight`]).
	pub(crate) fn draw(
		job_id: JobId,
		job: &mut Job<T>,
		escalation: Option<Escalation<T>>,
		now: BlockNumberFor<T>,
	) -> Weight {
		let seats = job.size;
		// A challenged job's second committee is drawn without the first's members: `k1` more
		// are drawn, and those of the first left out.
		let first = escalation.as_ref().map_or(&[][..], |e| &e.seats[..]);
		let size = seats.saturating_add(first.len() as u32);
		let beacon = Beacon::<T>::get();
		let behind =
			|member: &T::AccountId| Stats::<T>::get(member).open() >= T::MaxOpenPerExecutor::get();
		let mut attempts = 0u64;
		// The first committee with no member behind, should reputation pass over every one.
		let (mut committee, mut fallback) = (None, None);
		for attempt in 0..DRAW_ATTEMPTS {
			if DrawableCount::<T>::get() < size {
				break;
			}
			attempts += 1;
			let seed = Self::draw_seed(&beacon, &job.key, attempt);
			let drawn = Self::without(Self::draw_committee(size, &seed), first, seats, &seed);
			if drawn.len() as u32 != seats || drawn.iter().any(behind) {
				continue;
			}
			// Reputation, on every attempt but the last (see `reputation`).
			if attempt + 1 == DRAW_ATTEMPTS || drawn.iter().all(|m| Self::kept(m, &seed, now)) {
				committee = Some(drawn);
				break;
			}
			fallback.get_or_insert(drawn);
		}
		let committee = committee.or(fallback);
		// The attempts after the first, and the standings of each attempt but the last.
		let standings = attempts.min(u64::from(DRAW_ATTEMPTS - 1)).saturating_mul(u64::from(seats));
		let weight = T::WeightInfo::draw(size, T::MaxExecutors::get()).saturating_add(
			T::DbWeight::get()
				.reads(attempts.saturating_sub(1).saturating_mul(2 * u64::from(size) + 1))
				.saturating_add(T::DbWeight::get().reads(standings.saturating_add(1))),
		);
		// As many members as seats, so within `MaxCommittee`.
		let bounded = committee.map(|c| {
			(SeatsOf::<T>::try_from(c.iter().cloned().map(Seat::new).collect::<Vec<_>>()), c)
		});
		let Some((Ok(seats), committee)) = bounded else {
			// Settling a job with no committee does less than resolving a job of one.
			match escalation {
				Some(escalation) => {
					Escalations::<T>::remove(job_id);
					let _ = Self::abandon_escalation(job_id, job, escalation, now);
				},
				None => {
					let _ = Self::fail(job_id, job, FailureReason::NoCommittee, &[], now);
				},
			}
			return weight.saturating_add(T::WeightInfo::resolve(1));
		};
		for member in &committee {
			Stats::<T>::mutate(member, |s| s.assigned.saturating_inc());
			PendingByExecutor::<T>::insert(member, job_id, ());
		}
		job.seats = seats;
		job.phase = Phase::Commit;
		job.due = Self::schedule(now.saturating_add(T::CommitWindow::get()), job_id);
		Self::deposit_event(Event::CommitteeDrawn { job: job_id, committee, due: job.due });
		weight
	}

	/// The `seats` of `drawn` that are not members of `first` (a first committee's seats), when
	/// there are that many: all of them
	/// when `first` is empty, otherwise those first in the order of `blake2_256((seed,
	/// member))`, so that which of them are kept does not depend on where Floyd's sampling put
	/// them.
	fn without(
		mut drawn: Vec<T::AccountId>,
		first: &[Seat<T>],
		seats: u32,
		seed: &[u8; 32],
	) -> Vec<T::AccountId> {
		if first.is_empty() {
			return drawn;
		}
		drawn.retain(|member| first.iter().all(|seat| seat.member != *member));
		drawn.sort_by_cached_key(|member| blake2_256(&(b"verity/second", seed, member).encode()));
		drawn.truncate(seats as usize);
		drawn
	}

	/// `size` distinct members drawn from [`Drawable`] with `seed` (deterministic: every node
	/// draws the same committee), by Floyd's sampling: `size` random numbers and `size + 1`
	/// reads whatever the number of executors. Fewer when fewer are drawable.
	pub fn draw_committee(size: u32, seed: &[u8]) -> Vec<T::AccountId> {
		let n = DrawableCount::<T>::get();
		let size = size.min(n);
		let mut slots: Vec<u32> = Vec::with_capacity(size as usize);
		for (i, j) in (n - size..n).enumerate() {
			let random = blake2_256(&(seed, i as u32).encode());
			let mut word = [0u8; 8];
			word.copy_from_slice(&random[..8]);
			let pick = (u64::from_le_bytes(word) % (u64::from(j) + 1)) as u32;
			slots.push(if slots.contains(&pick) { j } else { pick });
		}
		slots.into_iter().filter_map(Drawable::<T>::get).collect()
	}
}
