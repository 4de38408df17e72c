//! # Verity runtime
//!
//! The FRAME runtime of the Verity chain: Aura block production, GRANDPA finality, balances with
//! transaction payment, and sudo for the development and local chains. The Verity pallets (model
//! registry, inference jobs) join here as they are built.
//!
//! The runtime is compiled twice: natively (feature `std`) for the node's tests and tools, and to
//! Wasm by `substrate-wasm-builder` for the chain itself. [`WASM_BINARY`] is that Wasm blob.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` and `impl_runtime_apis` need a deep recursion limit.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

// Declared first: its benchmark-list macros are used by `apis`.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod inference_probe;
pub mod migrations;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod upgrade_tests;
#[cfg(test)]
mod validator_set_tests;

use polkadot_sdk::{
	frame_support::weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
	sp_runtime::{
		generic, impl_opaque_keys,
		traits::{BlakeTwo256, IdentifyAccount, Verify},
		MultiAddress, MultiSignature, Perbill,
	},
	sp_version::RuntimeVersion,
	*,
};

pub use polkadot_sdk::{frame_support, frame_system, sp_consensus_aura, sp_consensus_grandpa};

/// Opaque types: the node knows these without knowing the runtime's call type.
pub mod opaque {
	use super::*;
	use polkadot_sdk::sp_runtime::OpaqueExtrinsic;

	/// An opaque extrinsic: SCALE bytes the node does not decode.
	pub type UncheckedExtrinsic = OpaqueExtrinsic;
	/// The block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// A block with opaque extrinsics.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// A block's id.
	pub type BlockId = generic::BlockId<Block>;

	impl_opaque_keys! {
		/// The keys a validator holds: Aura to author blocks, GRANDPA to finalize them, and its
		/// inference key.
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
			/// The `infr` key with which the validator signs its commits and reveals as an
			/// executor of inference jobs.
			pub inference: Inference,
		}
	}
}

/// The runtime's identity. `spec_version` goes up with every runtime change that reaches a
/// running chain; `transaction_version` with every change to calls or their encoding.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("verity"),
	impl_name: alloc::borrow::Cow::Borrowed("verity-node"),
	authoring_version: 1,
	spec_version: 112,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 3,
	system_version: 1,
};

/// Target block time: 3 seconds. Aura's slot duration is the same.
pub const MILLI_SECS_PER_BLOCK: u64 = 3000;
/// One Aura slot.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Blocks in a minute, hour and day at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// The chain's token, VRT, has 12 decimals.
pub const TOKEN_SYMBOL: &str = "VRT";
pub const TOKEN_DECIMALS: u8 = 12;
/// SS58 address prefix: the generic Substrate prefix.
pub const SS58_PREFIX: u16 = 42;

/// One VRT in its smallest unit.
pub const UNIT: Balance = 1_000_000_000_000;
pub const MILLI_UNIT: Balance = 1_000_000_000;
pub const MICRO_UNIT: Balance = 1_000_000;

/// The smallest balance an account may hold; below it the account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// 75% of a block is available to normal extrinsics; the rest is kept for operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// Two seconds of compute per block, leaving the rest of the 3 s slot for propagation.
const MAXIMUM_BLOCK_WEIGHT: Weight = Weight::from_parts(
	WEIGHT_REF_TIME_PER_SECOND.saturating_mul(2),
	// A solochain produces no proofs of validity, so proof size is not limited.
	u64::MAX,
);

/// An index to a block.
pub type BlockNumber = u32;
/// Signatures on extrinsics.
pub type Signature = MultiSignature;
/// An account id: the public key behind a signature.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// A balance.
pub type Balance = u128;
/// A transaction counter per account.
pub type Nonce = u32;
/// A hash of some data.
pub type Hash = polkadot_sdk::sp_core::H256;
/// An address as given in an extrinsic.
pub type Address = MultiAddress<AccountId, ()>;
/// The block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// A block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block, signed with a justification.
pub type SignedBlock = generic::SignedBlock<Block>;
/// A block's id.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions every signed extrinsic carries, in order.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// An extrinsic as it appears in a block.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations to run on the next runtime upgrade (each runs once: it checks the
/// pallet's storage version).
type Migrations =
	(pallet_model_registry::migrations::v1::MigrateV0ToV1<Runtime>, migrations::IntoSessions);

/// Dispatches extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type ModelRegistry = pallet_model_registry;

	#[runtime::pallet_index(8)]
	pub type Inference = pallet_inference;

	// The governed validator set and its sessions. The set's genesis is built before the
	// session's, which asks it for the first validators; Aura and GRANDPA take their
	// authorities from the session.
	#[runtime::pallet_index(9)]
	pub type Authorship = pallet_authorship;

	#[runtime::pallet_index(10)]
	pub type ValidatorSet = pallet_validator_set;

	#[runtime::pallet_index(11)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(12)]
	pub type Historical = pallet_session::historical;

	#[runtime::pallet_index(13)]
	pub type Offences = pallet_offences;

	#[runtime::pallet_index(14)]
	pub type MultiBlockMigrations = pallet_migrations;
}
