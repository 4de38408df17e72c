//! Version 2 → 3: executors become bonded registrations. The list of `(account, key)` pairs
//! that root kept in one storage value becomes a record per executor ([`crate::Executors`]),
//! the key index ([`crate::ExecutorOfKey`]) and the draw ([`crate::Drawable`]).
//!
//! Each executor of the old list bonds `MinBond`, held from its account as
//! `register_executor` would hold it. One that cannot pay it keeps what it could bond (possibly
//! nothing) and is registered but not drawn until it bonds up to `MinBond` (`bond_extra`). A
//! key that two old entries shared stays with the first; the second is not registered (it may
//! register with a key of its own), since a key names one executor. Nothing else changes: jobs,
//! their committees and the executors' statistics are kept.
//!
//! Runs in one block: the old list is bounded by the old `MaxExecutors` (64 in the runtime).

use crate::{pallet::*, ExecutorStatus, RecordOf};
use alloc::vec::Vec;
use polkadot_sdk::frame_support::{
	migrations::VersionedMigration,
	pallet_prelude::{ConstU32, ValueQuery},
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Preservation},
		Get, UncheckedOnRuntimeUpgrade,
	},
	weights::Weight,
	BoundedVec,
};
use verity_primitives::executor::ExecutorId;

/// The version-2 layout.
pub mod v2 {
	use super::*;

	/// The executor list as version 2 stored it (its bound, 64 in the runtime, does not matter
	/// to decoding).
	#[polkadot_sdk::frame_support::storage_alias]
	pub type Executors<T: Config> = StorageValue<
		Pallet<T>,
		BoundedVec<
			(<T as polkadot_sdk::frame_system::Config>::AccountId, ExecutorId),
			ConstU32<1024>,
		>,
		ValueQuery,
	>;
}

/// The migration, run once: from version 2 to 3.
pub type MigrateV2ToV3<T> = VersionedMigration<
	2,
	3,
	InnerMigrateV2ToV3<T>,
	Pallet<T>,
	<T as polkadot_sdk::frame_system::Config>::DbWeight,
>;

/// The translation itself, unversioned (see [`MigrateV2ToV3`]).
pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		// The old value and the new map share a prefix: take the value before writing records.
		let old: Vec<_> = v2::Executors::<T>::take().into_inner();
		let count = old.len() as u64;
		for (who, key) in old {
			if Executors::<T>::contains_key(&who) || ExecutorOfKey::<T>::contains_key(&key) {
				continue;
			}
			let can_pay =
				T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite);
			let bond = T::MinBond::get().min(can_pay);
			if T::Currency::hold(&HoldReason::ExecutorBond.into(), &who, bond).is_err() {
				continue;
			}
			let mut record = RecordOf::<T> {
				key: key.clone(),
				bond,
				unlocking: Default::default(),
				status: ExecutorStatus::Active,
				slot: None,
			};
			Pallet::<T>::update_draw(&who, &mut record);
			ExecutorOfKey::<T>::insert(&key, &who);
			Executors::<T>::insert(&who, record);
		}
		// Per executor: its account and holds read, the hold, its record, key and draw slot
		// written; and the old value.
		T::DbWeight::get().reads_writes(3 * count + 1, 5 * count + 2)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		use codec::Encode;
		Ok((v2::Executors::<T>::get().len() as u32).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use codec::Decode;
		use polkadot_sdk::frame_support::ensure;
		let before = u32::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		ensure!(Executors::<T>::count() <= before, "no executor appears from nowhere");
		Pallet::<T>::do_try_state()
	}
}
