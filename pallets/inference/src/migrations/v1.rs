//! Version 0 → 1: jobs gain their [`JobKey`](crate::JobKey), the limits of their model and a
//! resource-failure fee in their quote.
//!
//! Keys of migrated jobs are computed from what a version-0 job holds (its number, requester,
//! model, inputs and committee, and the block it was submitted in). Votes sent before the
//! upgrade no longer authorize (their payload changed), and commitments made before it bound no
//! key: a job open at the upgrade whose members committed before it ends `NoQuorum` and is
//! refunded in full, by the table in the crate docs. Limits come from the registry (the model's
//! declared limits), or are the chain's maxima for a model no longer runnable.
//!
//! Runs in one block: every job is read and written once. A chain holding more jobs than a
//! block's weight can translate must run it as a multi-block migration instead.

use crate::{
	migrations::v2::v1::{FeeQuote, Job, Jobs},
	pallet::*,
	BlockLoad, JobModel, JobResult, Phase,
};
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
		weights::Weight,
	},
	frame_system::pallet_prelude::BlockNumberFor,
	sp_io::hashing::blake2_256,
};
use verity_primitives::model::{ModelLimits, ModelLookup};

#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;

/// The version-0 layouts.
pub mod v0 {
	use super::*;

	#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
	pub struct JobModel<AccountId> {
		pub id: verity_primitives::ModelId,
		pub owner: AccountId,
		pub output_decimals: u8,
		pub tolerance: u64,
	}

	#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, Debug)]
	pub struct FeeQuote<Balance> {
		pub model_fee: Balance,
		pub executor_fee: Balance,
		pub base_fee: Balance,
		pub total: Balance,
	}

	#[derive(Encode, Decode)]
	pub struct Job<T: Config> {
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

/// The migration, run once: from version 0 to 1.
pub type MigrateV0ToV1<T> = VersionedMigration<
	0,
	1,
	InnerMigrateV0ToV1<T>,
	Pallet<T>,
	<T as polkadot_sdk::frame_system::Config>::DbWeight,
>;

/// The translation itself, unversioned (see [`MigrateV0ToV1`]).
pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

/// Limits for jobs whose model the registry no longer runs.
fn fallback_limits() -> ModelLimits {
	ModelLimits { cpu_millis: 10_000, memory_mib: 2048 }
}

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut jobs = 0u64;
		// Into version 1's layout, which `v2` then translates.
		Jobs::<T>::translate::<v0::Job<T>, _>(|id, old| {
			jobs += 1;
			let inputs = JobInputs::<T>::get(id).map(|i| blake2_256(&i)).unwrap_or_default();
			let key = blake2_256(
				&(
					b"verity/job/v0",
					old.submitted_at,
					id,
					&old.requester,
					old.model.id,
					inputs,
					&old.committee,
				)
					.encode(),
			);
			let limits = T::Models::runnable(&old.model.id)
				.map(|m| m.limits)
				.unwrap_or_else(|_| fallback_limits());
			let resource_fee = T::ResourceFailureFee::get().min(old.fee.executor_fee);
			Some(Job {
				key,
				requester: old.requester,
				model: JobModel {
					id: old.model.id,
					owner: old.model.owner,
					output_decimals: old.model.output_decimals,
					tolerance: old.model.tolerance,
					limits,
				},
				committee: old.committee,
				commits: old.commits,
				reveals: old.reveals,
				fee: FeeQuote {
					model_fee: old.fee.model_fee,
					executor_fee: old.fee.executor_fee,
					base_fee: old.fee.base_fee,
					resource_fee,
					total: old.fee.total,
				},
				phase: old.phase,
				due: old.due,
				submitted_at: old.submitted_at,
				result: old.result,
			})
		});
		Load::<T>::put((frame_system::Pallet::<T>::block_number(), BlockLoad::default()));
		// Per job: the job and its inputs read, the model looked up (one read), the job written.
		T::DbWeight::get().reads_writes(3 * jobs + 1, jobs + 1)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		Ok((Jobs::<T>::iter_keys().count() as u64).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		let before = u64::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		let after = Jobs::<T>::iter_values().count() as u64;
		ensure!(before == after, "every job decodes in the new layout");
		// The invariants are checked once the jobs are in today's layout (`v2`).
		Ok(())
	}
}

use polkadot_sdk::frame_system;
