//! Version 1 → 2: each executor's record gains `voided`, the jobs that failed for too few
//! commits although it committed in time (until now counted as `missed`); each job's fee gains
//! the upkeep and deadline fees (the work it gives `on_initialize`).
//!
//! Records kept from before start at 0 voided: what was counted as missed stays missed, since
//! which of those misses were void cannot be told from storage. Jobs submitted before paid no
//! upkeep or deadline fee, so theirs are 0 and their settlement is as before.
//!
//! Runs in one block: a record per executor (at most `MaxExecutors`) and every job read and
//! written once. A chain holding more jobs than a block's weight can translate must run it as
//! a multi-block migration instead.

use super::v4::v3::{ExecutorStats, Stats};
use crate::{pallet::*, FeeQuote, JobModel, JobResult, Phase};
use codec::{Decode, Encode};
use polkadot_sdk::frame_support::{
	migrations::VersionedMigration,
	pallet_prelude::{BoundedVec, Zero},
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
use polkadot_sdk::frame_system::pallet_prelude::BlockNumberFor;

#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;

/// The version-1 layout.
pub mod v1 {
	use super::*;

	#[derive(Clone, Copy, Default, PartialEq, Eq, Encode, Decode, Debug)]
	pub struct ExecutorStats {
		pub assigned: u32,
		pub agreed: u32,
		pub disagreed: u32,
		pub missed: u32,
	}

	#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, Debug)]
	pub struct FeeQuote<Balance> {
		pub model_fee: Balance,
		pub executor_fee: Balance,
		pub base_fee: Balance,
		pub resource_fee: Balance,
		pub total: Balance,
	}

	/// [`crate::Jobs`] as version 1 stored it.
	#[polkadot_sdk::frame_support::storage_alias]
	pub type Jobs<T: Config> =
		StorageMap<Pallet<T>, polkadot_sdk::frame_support::Twox64Concat, crate::JobId, Job<T>>;

	#[derive(Encode, Decode)]
	pub struct Job<T: Config> {
		pub key: crate::JobKey,
		pub requester: T::AccountId,
		pub model: JobModel<T::AccountId>,
		pub committee: BoundedVec<T::AccountId, T::MaxCommittee>,
		pub commits: BoundedVec<Option<crate::Commitment>, T::MaxCommittee>,
		pub reveals: BoundedVec<RevealSlot<T::MaxOutputBytes>, T::MaxCommittee>,
		pub fee: FeeQuote<BalanceOf<T>>,
		pub phase: Phase,
		pub due: BlockNumberFor<T>,
		pub submitted_at: BlockNumberFor<T>,
		pub result: Option<JobResult<T::MaxOutputBytes>>,
	}
}

/// The migration, run once: from version 1 to 2.
pub type MigrateV1ToV2<T> = VersionedMigration<
	1,
	2,
	InnerMigrateV1ToV2<T>,
	Pallet<T>,
	<T as polkadot_sdk::frame_system::Config>::DbWeight,
>;

/// The translation itself, unversioned (see [`MigrateV1ToV2`]).
pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut records = 0u64;
		Stats::<T>::translate::<v1::ExecutorStats, _>(|_, old| {
			records += 1;
			Some(ExecutorStats {
				assigned: old.assigned,
				agreed: old.agreed,
				disagreed: old.disagreed,
				missed: old.missed,
				voided: 0,
			})
		});
		Jobs::<T>::translate::<v1::Job<T>, _>(|_, old| {
			records += 1;
			let fee = old.fee;
			Some(Job {
				key: old.key,
				requester: old.requester,
				model: old.model,
				committee: old.committee,
				commits: old.commits,
				reveals: old.reveals,
				fee: FeeQuote {
					model_fee: fee.model_fee,
					executor_fee: fee.executor_fee,
					base_fee: fee.base_fee,
					resource_fee: fee.resource_fee,
					upkeep_fee: Zero::zero(),
					deadline_fee: Zero::zero(),
					deadline_held: Zero::zero(),
					total: fee.total,
				},
				phase: old.phase,
				due: old.due,
				submitted_at: old.submitted_at,
				result: old.result,
			})
		});
		T::DbWeight::get().reads_writes(records, records)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		Ok((Stats::<T>::iter_keys().count() as u64, Jobs::<T>::iter_keys().count() as u64).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use polkadot_sdk::frame_support::ensure;
		let (stats, jobs) =
			<(u64, u64)>::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		ensure!(
			stats == Stats::<T>::iter_values().count() as u64,
			"every executor's record decodes in the new layout"
		);
		ensure!(
			jobs == Jobs::<T>::iter_values().count() as u64,
			"every job decodes in the new layout"
		);
		Pallet::<T>::do_try_state()
	}
}
