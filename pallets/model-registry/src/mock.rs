//! A runtime for the registry's tests: System and Balances, a 64-byte chunk size and a 1 KiB
//! on-chain limit so that chunk boundaries are easy to reach.

use crate as pallet_model_registry;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

#[polkadot_sdk::frame_support::runtime]
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
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type ModelRegistry = pallet_model_registry;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub const DepositBase: Balance = 100;
	pub const DepositPerByte: Balance = 1;
	pub const ChunkSize: u32 = 64;
	pub const MaxOnChainModelSize: u32 = 1024;
	pub const MaxUriModelSize: u64 = 1 << 30;
	pub const MaxVersions: u32 = 3;
	pub const MaxModelCpuMillis: u32 = 1_000;
	pub const MaxModelMemoryMib: u32 = 512;
	pub const ResourceFailuresToDeprecate: u32 = 3;
	pub const ClaimDelay: u64 = 2;
	pub const ClaimDeposit: Balance = 5;
}

impl pallet_model_registry::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ForceOrigin = EnsureRoot<AccountId>;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type ChunkSize = ChunkSize;
	type MaxOnChainModelSize = MaxOnChainModelSize;
	type MaxUriModelSize = MaxUriModelSize;
	type MaxVersions = MaxVersions;
	type MaxModelCpuMillis = MaxModelCpuMillis;
	type MaxModelMemoryMib = MaxModelMemoryMib;
	type ResourceFailuresToDeprecate = ResourceFailuresToDeprecate;
	type ClaimDelay = ClaimDelay;
	type ClaimDeposit = ClaimDeposit;
	type WeightInfo = ();
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
/// Can pay a deposit for small models only.
pub const POOR: AccountId = 3;
pub const ENDOWMENT: Balance = 1_000_000;

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT), (POOR, 150)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
