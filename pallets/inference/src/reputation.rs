//! Reputation: what an executor did lately changes its chance of being drawn.
//!
//! Each executor has its lifetime record ([`ExecutorStats`]: agreed, disagreed, missed,
//! voided, slashed) and a [`Standing`]: penalty points that every slash adds to
//! ([`Offence::penalty`]: 1 for a miss, 4 for a bad reveal, 8 for a wrong result) and that halve
//! every [`Config::StandingHalfLife`] blocks. Points follow evidence only: they come with a slash,
//! so nothing the chain cannot prove lowers an executor's standing.
//!
//! A committee drawn on any attempt but the last ([`crate::DRAW_ATTEMPTS`]) is kept only if each
//! member with `p` points passes a draw of `1 / (1 + p)` from the attempt's seed; otherwise the
//! next attempt is drawn. The last attempt ignores standing, and when it cannot be used (a
//! member behind on its open jobs) the first attempt that could is, so a job never fails for
//! its committee's reputation: on a chain where many executors misbehave, they are drawn less,
//! not never. How much less depends on how large committees are against the executors: with
//! `q = k / n` and `a = 1 / (1 + p)`, an executor is on a committee
//! `a + (1 - a)·q·a + (1 - a)²·q²` times as often as one without points (for 4 points, about a
//! fifth when committees are a tenth of the executors, a third when they are a third; on a
//! chain whose committees take every executor, not at all).

use super::*;
use codec::Encode;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use polkadot_sdk::{
	sp_io::hashing::blake2_256,
	sp_runtime::traits::{SaturatedConversion, Saturating},
};

impl<T: Config> Pallet<T> {
	/// `who`'s penalty points at block `now`: halved once for every `StandingHalfLife` blocks
	/// since they were last added to.
	pub fn penalty_at(who: &T::AccountId, now: BlockNumberFor<T>) -> u32 {
		let Some(standing) = Standings::<T>::get(who) else { return 0 };
		let half_life = T::StandingHalfLife::get().max(1u32.into());
		let halvings: u32 = (now.saturating_sub(standing.at) / half_life).saturated_into();
		standing.points.checked_shr(halvings).unwrap_or(0)
	}

	/// Adds `offence`'s penalty to `who`'s standing. The half-life clock keeps running: the
	/// points are halved for the half-lives passed, and counted from the last of them, so that
	/// offences more often than once a half-life do not stop the decay.
	pub(crate) fn penalize(who: &T::AccountId, offence: Offence) {
		let now = frame_system::Pallet::<T>::block_number();
		let half_life = T::StandingHalfLife::get().max(1u32.into());
		let (points, at) = match Standings::<T>::get(who) {
			Some(standing) => {
				let halvings = now.saturating_sub(standing.at) / half_life;
				let points = standing.points.checked_shr(halvings.saturated_into()).unwrap_or(0);
				let at = if points == 0 {
					now
				} else {
					standing.at.saturating_add(halvings.saturating_mul(half_life))
				};
				(points, at)
			},
			None => (0, now),
		};
		Standings::<T>::insert(
			who,
			Standing { points: points.saturating_add(offence.penalty()), at },
		);
	}

	/// Whether `member` stays in a committee drawn with `seed` at `now`: always without penalty
	/// points; with `p` of them, when `blake2_256(("verity/standing", seed, member))` (as a
	/// number) is a multiple of `1 + p`.
	pub(crate) fn kept(member: &T::AccountId, seed: &[u8; 32], now: BlockNumberFor<T>) -> bool {
		let points = Self::penalty_at(member, now);
		if points == 0 {
			return true;
		}
		let random = blake2_256(&(b"verity/standing", seed, member).encode());
		let mut word = [0u8; 8];
		word.copy_from_slice(&random[..8]);
		u64::from_le_bytes(word) % (u64::from(points) + 1) == 0
	}

	/// What a slash weighs: the benchmarked slash and reward, and the standing it updates.
	pub fn slash_weight() -> Weight {
		T::WeightInfo::slash().saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// `executor`'s record and penalty points now, for the runtime API; none for an account
	/// that is not a registered executor.
	pub fn reputation(executor: T::AccountId) -> Option<ExecutorReputation> {
		Executors::<T>::get(&executor)?;
		let penalty = Self::penalty_at(&executor, frame_system::Pallet::<T>::block_number());
		Some(ExecutorReputation {
			stats: Stats::<T>::get(&executor),
			penalty,
			kept_per_million: 1_000_000 / penalty.saturating_add(1),
		})
	}
}
