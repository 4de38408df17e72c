//! Version 0 → 1: every model declares its limits ([`ModelLimits`]). Models registered before
//! get the chain's maxima (`MaxModelCpuMillis`, `MaxModelMemoryMib`): they keep running as they
//! did, and their owners may register a version that declares tighter limits.

use crate::pallet::*;
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
		weights::Weight,
	},
	frame_system::pallet_prelude::BlockNumberFor,
};
use verity_primitives::model::{
	Description, ModelFormat, ModelHosting, ModelLimits, ModelMetadata, ModelName, ModelRecord,
	ModelStatus, ModelVersion, TensorSpecs,
};

#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;

/// The version-0 layouts.
pub mod v0 {
	use super::*;

	#[derive(Encode, Decode)]
	pub struct ModelMetadata<Balance> {
		pub name: ModelName,
		pub version: ModelVersion,
		pub description: Description,
		pub format: ModelFormat,
		pub inputs: TensorSpecs,
		pub outputs: TensorSpecs,
		pub output_decimals: u8,
		pub tolerance: u64,
		pub fee: Balance,
		pub hosting: ModelHosting,
	}

	#[derive(Encode, Decode)]
	pub struct ModelRecord<AccountId, Balance, BlockNumber> {
		pub owner: AccountId,
		pub depositor: AccountId,
		pub deposit: Balance,
		pub metadata: ModelMetadata<Balance>,
		pub status: ModelStatus,
		pub chunks_received: u32,
		pub registered_at: BlockNumber,
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

type OldRecord<T> = v0::ModelRecord<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
>;

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let limits = ModelLimits {
			cpu_millis: T::MaxModelCpuMillis::get(),
			memory_mib: T::MaxModelMemoryMib::get(),
		};
		let mut models = 0u64;
		Models::<T>::translate::<OldRecord<T>, _>(|_, old| {
			models += 1;
			let m = old.metadata;
			Some(ModelRecord {
				owner: old.owner,
				depositor: old.depositor,
				deposit: old.deposit,
				metadata: ModelMetadata {
					name: m.name,
					version: m.version,
					description: m.description,
					format: m.format,
					inputs: m.inputs,
					outputs: m.outputs,
					output_decimals: m.output_decimals,
					tolerance: m.tolerance,
					fee: m.fee,
					hosting: m.hosting,
					limits,
				},
				status: old.status,
				chunks_received: old.chunks_received,
				registered_at: old.registered_at,
			})
		});
		T::DbWeight::get().reads_writes(models, models)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		Ok((Models::<T>::iter_keys().count() as u64).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		let before = u64::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		ensure!(Models::<T>::iter_values().count() as u64 == before, "every model decodes");
		Ok(())
	}
}
