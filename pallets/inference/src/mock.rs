//! A runtime for the jobs pallet's tests: System, Balances, a model lookup backed by a map, and
//! a consumer that records completed jobs.

use crate as pallet_inference;
use codec::Encode;
use core::cell::RefCell;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::Hooks},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_core::{sr25519, Pair},
	sp_runtime::{BuildStorage, Perbill, Weight},
};
use verity_primitives::{
	canonical::Outcome,
	executor::ExecutorId,
	model::{ModelLimits, ModelLookup, ModelUnavailable, RunnableModel},
	tensor::{DType, Dim, TensorSpec},
	ModelId,
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
	pub type Inference = pallet_inference;
}

parameter_types! {
	/// A 2-second block, like the runtime's.
	pub TestBlockWeights: frame_system::limits::BlockWeights =
		frame_system::limits::BlockWeights::simple_max(Weight::from_parts(2_000_000_000_000, u64::MAX));
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type BlockWeights = TestBlockWeights;
	type AccountData = pallet_balances::AccountData<Balance>;
	type MultiBlockMigrator = Migrator;
}

thread_local! {
	/// Whether a multi-block migration is under way ([`Migrator`]).
	pub static MIGRATING: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// A multi-block migrator the tests start and stop ([`MIGRATING`]).
pub struct Migrator;
impl polkadot_sdk::frame_support::migrations::MultiStepMigrator for Migrator {
	fn ongoing() -> bool {
		MIGRATING.with(|m| m.get())
	}

	fn step() -> Weight {
		Weight::zero()
	}
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const MODEL: ModelId = [1; 32];
pub const RETIRED_MODEL: ModelId = [2; 32];

/// The bundled `linear_regressor` model, which the off-chain worker tests run for real.
pub const LINEAR_ONNX: &[u8] = include_bytes!("../../../models/linear_regressor.onnx");

pub fn linear_model() -> ModelId {
	polkadot_sdk::sp_io::hashing::blake2_256(LINEAR_ONNX)
}
pub const MODEL_OWNER: AccountId = 100;
pub const MODEL_FEE: Balance = 50;
pub const TOLERANCE: u64 = 2;
/// What the mock's models declare.
pub const LIMITS: ModelLimits = ModelLimits { cpu_millis: 100, memory_mib: 64 };
/// A model that declares a long time: few of its jobs fit a block.
pub const SLOW_MODEL: ModelId = [3; 32];
pub const SLOW_LIMITS: ModelLimits = ModelLimits { cpu_millis: 400, memory_mib: 64 };

thread_local! {
	/// Settled jobs' models, and whether each was a resource failure (the registry's view).
	pub static SETTLED: RefCell<Vec<(ModelId, bool)>> = const { RefCell::new(Vec::new()) };
}

fn x_spec(columns: u32) -> verity_primitives::model::TensorSpecs {
	vec![TensorSpec {
		name: b"x".to_vec().try_into().unwrap(),
		dtype: DType::F32,
		shape: vec![Dim::Dynamic, Dim::Fixed(columns)].try_into().unwrap(),
	}]
	.try_into()
	.unwrap()
}

/// The registry, reduced to two models.
pub struct Models;
impl ModelLookup<AccountId, Balance> for Models {
	fn runnable(id: &ModelId) -> Result<RunnableModel<AccountId, Balance>, ModelUnavailable> {
		let model = |inputs, tolerance, limits| RunnableModel {
			owner: MODEL_OWNER,
			fee: MODEL_FEE,
			inputs,
			output_decimals: 6,
			tolerance,
			limits,
		};
		match *id {
			MODEL => Ok(model(x_spec(2), TOLERANCE, LIMITS)),
			SLOW_MODEL => Ok(model(x_spec(2), TOLERANCE, SLOW_LIMITS)),
			RETIRED_MODEL => Err(ModelUnavailable::NotRunnable),
			linear if linear == linear_model() => Ok(model(x_spec(10), 0, LIMITS)),
			_ => Err(ModelUnavailable::NotFound),
		}
	}

	fn job_settled(id: &ModelId, resource_failure: bool) {
		SETTLED.with(|s| s.borrow_mut().push((*id, resource_failure)));
	}
}

thread_local! {
	pub static COMPLETED: RefCell<Vec<(u64, [u8; 32])>> = const { RefCell::new(Vec::new()) };
}

/// Records completed jobs, as a consuming pallet would.
pub struct Consumer;
impl crate::OnJobCompleted<AccountId> for Consumer {
	fn on_job_completed(
		job: u64,
		_: &AccountId,
		_: &ModelId,
		result_hash: &[u8; 32],
		_: Option<&[u8]>,
	) {
		COMPLETED.with(|c| c.borrow_mut().push((job, *result_hash)));
	}
}

pub type TxExtension = frame_system::AuthorizeCall<Test>;
pub type Extrinsic = polkadot_sdk::sp_runtime::testing::TestXt<RuntimeCall, TxExtension>;

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = Extrinsic;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extension = TxExtension;
	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> Extrinsic {
		Extrinsic::new_transaction(call, extension)
	}
}

impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_extension() -> TxExtension {
		TxExtension::new()
	}
}

parameter_types! {
	pub const ExecutorFee: Balance = 10;
	pub const MinBond: Balance = 500;
	pub const BaseFee: Balance = 5;
	/// Jobs' storage deposits: none unless a test of deposits sets them.
	pub storage JobDepositBase: Balance = 0;
	pub storage JobDepositPerByte: Balance = 0;
	pub const ResourceFailureFee: Balance = 2;
	/// Admission bounds, set lower by the tests of admission.
	pub storage MaxSeatsPerBlock: u32 = 64;
	pub storage MaxCpuMillisPerBlock: u64 = 100_000;
	pub storage MaxOpenPerExecutor: u32 = 10_000;
	/// 0: committees are drawn at submission; the draw tests delay it.
	pub storage DrawDelay: u64 = 0;
	pub MaxFeeMultiplier: polkadot_sdk::sp_runtime::FixedU128 =
		polkadot_sdk::sp_runtime::FixedU128::from_u32(4);
	pub const FeeCollector: AccountId = 99;
	pub const Treasury: AccountId = 98;
	/// 10 % of `MinBond` (50) for a bad reveal, 2 % (10) for a miss; 20 % of it to the members
	/// who were right.
	pub const BadRevealSlash: Perbill = Perbill::from_percent(10);
	pub const MissSlash: Perbill = Perbill::from_percent(2);
	pub const SlashRewardShare: Perbill = Perbill::from_percent(20);
	/// Half of `MinBond` (250) for a result the larger committee found wrong.
	pub const WrongResultSlash: Perbill = Perbill::from_percent(50);
	/// Penalty points halve every 10 blocks.
	pub const StandingHalfLife: u64 = 10;
	/// Three proven misses in a row chill an executor.
	pub const MaxConsecutiveMisses: u32 = 3;
	/// 0: results are final at once; the escalation tests open a window.
	pub storage ChallengeWindow: u64 = 0;
	pub const ChallengeBond: Balance = 100;
	/// Picoseconds of weight a unit of balance buys for the upkeep and deadline fees: none
	/// (free) unless a test of those fees sets a price.
	pub storage PicosPerUnit: u64 = 0;
	/// Room for a challenged job's second round by a committee of `MaxCommittee` (the
	/// heaviest entry); the test of the hook's limit sets [`eight_deadlines`].
	pub storage MaxHookWeight: Weight = eight_deadlines().max(second_round());
}

/// Room for 8 deadlines of committees of 1 a block (and the backlog's update).
pub fn eight_deadlines() -> Weight {
	use crate::WeightInfo;
	let entry = <() as WeightInfo>::on_initialize(1) - <() as WeightInfo>::on_initialize(0);
	<() as WeightInfo>::on_initialize(0)
		+ (entry + crate::Pallet::<Test>::deadline_weight(1)) * 8
		+ polkadot_sdk::frame_support::weights::constants::RocksDbWeight::get().writes(1)
}

/// One entry of a second round's resolution by a committee of `MaxCommittee`, or of its draw.
fn second_round() -> Weight {
	use crate::WeightInfo;
	let entry = <() as WeightInfo>::on_initialize(1) - <() as WeightInfo>::on_initialize(0);
	let max = <<Test as crate::Config>::MaxCommittee as polkadot_sdk::sp_core::Get<u32>>::get();
	let resolution = crate::Pallet::<Test>::deadline_weight(max)
		+ crate::Pallet::<Test>::escalation_extra_weight(max);
	let draw = crate::Pallet::<Test>::draw_weight(2 * max - 1);
	<() as WeightInfo>::on_initialize(0)
		+ entry
		+ resolution.max(draw)
		+ polkadot_sdk::frame_support::weights::constants::RocksDbWeight::get().writes(1)
}

/// Weight to balance at [`PicosPerUnit`], rounded up (0 when it is unset).
pub struct MockWeightToFee;
impl polkadot_sdk::frame_support::weights::WeightToFee for MockWeightToFee {
	type Balance = Balance;
	fn weight_to_fee(weight: &Weight) -> Balance {
		match PicosPerUnit::get() {
			0 => 0,
			per => weight.ref_time().div_ceil(per),
		}
	}
}

impl pallet_inference::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type ExecutorOrigin = EnsureRoot<AccountId>;
	type MinBond = MinBond;
	type DefaultUnbondingPeriod = polkadot_sdk::frame_support::traits::ConstU64<20>;
	type MaxUnlockingChunks = polkadot_sdk::frame_support::traits::ConstU32<2>;
	type BadRevealSlash = BadRevealSlash;
	type MissSlash = MissSlash;
	type WrongResultSlash = WrongResultSlash;
	type StandingHalfLife = StandingHalfLife;
	type MaxConsecutiveMisses = MaxConsecutiveMisses;
	type SlashRewardShare = SlashRewardShare;
	type Treasury = Treasury;
	type ExecutorFee = ExecutorFee;
	type WeightToFee = MockWeightToFee;
	type BaseFee = BaseFee;
	type JobDepositBase = JobDepositBase;
	type JobDepositPerByte = JobDepositPerByte;
	type ResourceFailureFee = ResourceFailureFee;
	type MaxSeatsPerBlock = MaxSeatsPerBlock;
	type MaxCpuMillisPerBlock = MaxCpuMillisPerBlock;
	type MaxOpenPerExecutor = MaxOpenPerExecutor;
	type MaxFeeMultiplier = MaxFeeMultiplier;
	type FeeCollector = FeeCollector;
	type MaxExecutors = polkadot_sdk::frame_support::traits::ConstU32<16>;
	type MaxCommittee = polkadot_sdk::frame_support::traits::ConstU32<7>;
	type MaxInputBytes = polkadot_sdk::frame_support::traits::ConstU32<1024>;
	type MaxOutputBytes = polkadot_sdk::frame_support::traits::ConstU32<256>;
	type MaxBatch = polkadot_sdk::frame_support::traits::ConstU32<8>;
	type MaxHookWeight = MaxHookWeight;
	type DrawDelay = DrawDelay;
	type CommitWindow = polkadot_sdk::frame_support::traits::ConstU64<3>;
	type RevealWindow = polkadot_sdk::frame_support::traits::ConstU64<3>;
	type ChallengeWindow = ChallengeWindow;
	type ChallengeBond = ChallengeBond;
	type RetentionPeriod = polkadot_sdk::frame_support::traits::ConstU64<10>;
	type UnsignedPriority = polkadot_sdk::frame_support::traits::ConstU64<1000>;
	type OnJobCompleted = Consumer;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchmarkModel;
}

/// The mock's model with 100 rows of inputs (800 bytes of data).
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkModel;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for BenchmarkModel {
	fn model_and_inputs() -> (ModelId, Vec<verity_primitives::Tensor>) {
		let x =
			verity_primitives::tensor::tensor("x", DType::F32, &[100, 2], vec![0; 800]).unwrap();
		(MODEL, vec![x])
	}
}

pub const REQUESTER: AccountId = 1;
/// Executors are accounts 11, 12, 13, 14 with keys from seeds 11..=14.
pub const EXECUTORS: [AccountId; 4] = [11, 12, 13, 14];
pub const ENDOWMENT: Balance = 10_000;
/// What the genesis executors bond (on top of their endowment, so that their free balance is
/// the endowment).
pub const BOND: Balance = 1_000;

pub fn key_pair(executor: AccountId) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[executor as u8; 32])
}

pub fn executor_id(executor: AccountId) -> ExecutorId {
	key_pair(executor).public().into()
}

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(REQUESTER, ENDOWMENT),
			(2, 60),
			(MODEL_OWNER, ENDOWMENT),
			(FeeCollector::get(), ENDOWMENT),
			(11, ENDOWMENT + BOND),
			(12, ENDOWMENT + BOND),
			(13, ENDOWMENT + BOND),
			(14, ENDOWMENT + BOND),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_inference::GenesisConfig::<Test> {
		executors: EXECUTORS.iter().map(|e| (*e, executor_id(*e), BOND)).collect(),
		min_committee: 1,
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
	ext.register_extension(polkadot_sdk::sp_keystore::KeystoreExt::new(
		polkadot_sdk::sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	COMPLETED.with(|c| c.borrow_mut().clear());
	SETTLED.with(|s| s.borrow_mut().clear());
	MIGRATING.with(|m| m.set(false));
	ext
}

/// Moves to the next block, running `on_initialize`; returns its weight.
pub fn next_block() -> Weight {
	let next = System::block_number() + 1;
	System::set_block_number(next);
	Inference::on_initialize(next)
}

/// The salt test executors commit with.
pub fn salt(executor: AccountId) -> [u8; 32] {
	[executor as u8 ^ 0x5a; 32]
}

/// The key of job `job`.
pub fn job_key(job: crate::JobId) -> crate::JobKey {
	crate::Jobs::<Test>::get(job).expect("the job exists").key
}

/// A batch `call` signed by `pair` as the pallet expects, sent at this block.
fn signed<Items: Encode>(
	kind: verity_primitives::inference::VoteKind,
	executor: AccountId,
	pair: &sr25519::Pair,
	items: &Items,
) -> (u64, polkadot_sdk::sp_core::sr25519::Signature) {
	let sent_at = System::block_number();
	let signer: ExecutorId = pair.public().into();
	let payload = Inference::vote_payload(kind, &executor, &signer, sent_at, items);
	(sent_at, pair.sign(&payload))
}

/// `executor`'s commit of `outcome` for `job`, signed with its key.
pub fn commit_call(executor: AccountId, job: crate::JobId, outcome: &Outcome) -> RuntimeCall {
	commit_call_signed_by(executor, &key_pair(executor), job, outcome)
}

/// `executor`'s commit of `outcome` for `job`, signed with `pair`.
pub fn commit_call_signed_by(
	executor: AccountId,
	pair: &sr25519::Pair,
	job: crate::JobId,
	outcome: &Outcome,
) -> RuntimeCall {
	let key = job_key(job);
	let commitment = crate::commitment_of(&outcome.hash(), &salt(executor), &executor, &key);
	let commits: crate::CommitsOf<Test> =
		vec![crate::CommitItem { job, key, commitment }].try_into().unwrap();
	let (sent_at, signature) =
		signed(verity_primitives::inference::VoteKind::Commit, executor, pair, &commits);
	RuntimeCall::Inference(crate::Call::commit_results {
		executor,
		signer: pair.public().into(),
		commits,
		sent_at,
		signature: signature.into(),
	})
}

/// `pair`'s proof that `who` holds it, for `register_executor` and `rotate_key`.
pub fn key_proof(
	who: AccountId,
	pair: &sr25519::Pair,
) -> verity_primitives::executor::ExecutorSignature {
	pair.sign(&Inference::key_proof_payload(&who, &pair.public().into())).into()
}

/// `executor`'s reveal of `outcome` for `job`, signed with its key.
pub fn reveal_call(executor: AccountId, job: crate::JobId, outcome: &Outcome) -> RuntimeCall {
	reveal_call_carrying(executor, job, outcome, true)
}

/// `executor`'s reveal of `outcome`'s hash for `job`, with the outcome's bytes only if `carry`
/// (an executor may reveal the hash alone).
pub fn reveal_call_carrying(
	executor: AccountId,
	job: crate::JobId,
	outcome: &Outcome,
	carry: bool,
) -> RuntimeCall {
	let reveals: crate::RevealsOf<Test> = vec![crate::RevealItem {
		job,
		key: job_key(job),
		result_hash: outcome.hash(),
		salt: salt(executor),
		outcome: carry.then(|| outcome.encode().try_into().unwrap()),
	}]
	.try_into()
	.unwrap();
	let max_committee = crate::Jobs::<Test>::get(job).map_or(0, |j| j.seats.len() as u32);
	let (sent_at, signature) = signed(
		verity_primitives::inference::VoteKind::Reveal,
		executor,
		&key_pair(executor),
		&(&reveals, max_committee),
	);
	RuntimeCall::Inference(crate::Call::reveal_results {
		executor,
		signer: executor_id(executor),
		reveals,
		max_committee,
		sent_at,
		signature: signature.into(),
	})
}
