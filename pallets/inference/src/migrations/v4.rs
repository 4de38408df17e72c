//! Version 3 → 4: each executor's statistics gain `slashed` (the jobs it was slashed on), and
//! the statistics and the open jobs by member ([`crate::Stats`], [`crate::PendingByExecutor`])
//! are keyed by `Blake2_128Concat` of the account instead of `Twox64Concat`: anyone may register
//! an executor now, so these accounts are chosen by whoever registers them, and a
//! non-cryptographic hash would let them be chosen to unbalance the storage trie.
//!
//! Records kept from before start at 0 slashed (nothing was slashed before). Statistics of
//! accounts that are no longer executors and sit on no open job are dropped: version 4 removes
//! them when an executor leaves.
//!
//! Runs in one block: a record per account that was ever an executor, and an entry per open
//! committee seat, each read, removed and written once. A chain holding more than a block's
//! weight of them must run it as a multi-block migration instead.

use crate::{pallet::*, ExecutorStats, JobId};
use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use polkadot_sdk::frame_support::{
	migrations::VersionedMigration,
	pallet_prelude::ValueQuery,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
	Twox64Concat,
};

/// The version-3 layout.
pub mod v3 {
	use super::*;

	/// An executor's statistics before `slashed`.
	#[derive(Clone, Copy, Default, PartialEq, Eq, Encode, Decode, MaxEncodedLen, Debug)]
	pub struct ExecutorStats {
		pub assigned: u32,
		pub agreed: u32,
		pub disagreed: u32,
		pub missed: u32,
		pub voided: u32,
	}

	/// [`crate::Stats`] as versions 2 and 3 stored it.
	#[polkadot_sdk::frame_support::storage_alias]
	pub type Stats<T: Config> = StorageMap<
		Pallet<T>,
		Twox64Concat,
		<T as polkadot_sdk::frame_system::Config>::AccountId,
		ExecutorStats,
		ValueQuery,
	>;

	/// [`crate::PendingByExecutor`] as versions up to 3 stored it.
	#[polkadot_sdk::frame_support::storage_alias]
	pub type PendingByExecutor<T: Config> = StorageDoubleMap<
		Pallet<T>,
		Twox64Concat,
		<T as polkadot_sdk::frame_system::Config>::AccountId,
		Twox64Concat,
		JobId,
		(),
	>;
}

/// The migration, run once: from version 3 to 4.
pub type MigrateV3ToV4<T> = VersionedMigration<
	3,
	4,
	InnerMigrateV3ToV4<T>,
	Pallet<T>,
	<T as polkadot_sdk::frame_system::Config>::DbWeight,
>;

/// The translation itself, unversioned (see [`MigrateV3ToV4`]).
pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
	fn on_runtime_upgrade() -> Weight {
		// Old and new keys share each map's prefix: take everything before writing.
		let stats: Vec<_> = v3::Stats::<T>::drain().collect();
		let pending: Vec<_> = v3::PendingByExecutor::<T>::drain().collect();
		let (records, seats) = (stats.len() as u64, pending.len() as u64);
		for (who, old) in stats {
			let open = old.assigned as u64
				> old.agreed as u64 + old.disagreed as u64 + old.missed as u64 + old.voided as u64;
			if !open && !Executors::<T>::contains_key(&who) {
				continue;
			}
			Stats::<T>::insert(
				&who,
				ExecutorStats {
					assigned: old.assigned,
					agreed: old.agreed,
					disagreed: old.disagreed,
					missed: old.missed,
					voided: old.voided,
					slashed: 0,
				},
			);
		}
		for (who, job, ()) in pending {
			PendingByExecutor::<T>::insert(&who, job, ());
		}
		// Each record: read and removed, its executor looked up, written; each seat: read,
		// removed, written.
		T::DbWeight::get().reads_writes(2 * records + seats, 2 * (records + seats))
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		Ok((v3::PendingByExecutor::<T>::iter_keys().count() as u64).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use polkadot_sdk::frame_support::ensure;
		let seats = u64::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		ensure!(
			seats == PendingByExecutor::<T>::iter_keys().count() as u64,
			"every open seat is kept"
		);
		Pallet::<T>::do_try_state()
	}
}
