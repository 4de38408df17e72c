//! Configuration of every pallet in the runtime.

use crate::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Hash, Historical, MultiBlockMigrations,
	Nonce, Offences, PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, System, ValidatorSet,
	EXISTENTIAL_DEPOSIT, MAXIMUM_BLOCK_WEIGHT, NORMAL_DISPATCH_RATIO, SLOT_DURATION, SS58_PREFIX,
	VERSION,
};
use polkadot_sdk::{
	frame_support::{
		derive_impl,
		dispatch::DispatchClass,
		parameter_types,
		traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
		weights::{constants::ParityDbWeight, IdentityFee},
	},
	frame_system::limits::{BlockLength, BlockWeights},
	pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier},
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_runtime::traits::One,
	*,
};

/// At most this many validators can author and finalize blocks.
pub const MAX_AUTHORITIES: u32 = 32;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: polkadot_sdk::sp_version::RuntimeVersion = VERSION;

	/// 5 MiB blocks, of which the normal share is what user transactions may fill.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	pub RuntimeBlockWeights: BlockWeights =
		BlockWeights::with_sensible_defaults(MAXIMUM_BLOCK_WEIGHT, NORMAL_DISPATCH_RATIO);
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// The node stores state in ParityDB, so its read and write costs apply.
	type DbWeight = ParityDbWeight;
	// Substrate's reference weights of the transaction extensions, with the database costs above
	// (the default `()` charges RocksDB's).
	type ExtensionsWeightInfo = frame_system::SubstrateExtensionsWeight<Runtime>;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
	// While a multi-block migration runs, blocks carry inherents only.
	type MultiBlockMigrator = MultiBlockMigrations;
}

parameter_types! {
	/// What multi-block migrations may take of a block: most of it, since blocks carry no
	/// transactions while they run.
	pub MbmServiceWeight: polkadot_sdk::frame_support::weights::Weight =
		polkadot_sdk::sp_runtime::Perbill::from_percent(80) * RuntimeBlockWeights::get().max_block;
}

/// Multi-block migrations: storage translations too large for one block (see
/// `pallet_inference::migrations::v6`). A migration that fails freezes the chain for
/// governance (`FreezeChainOnFailedMigration`) rather than leaving storage half translated.
impl pallet_migrations::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Migrations = crate::migrations::MultiBlock;
	type CursorMaxLen = ConstU32<65_536>;
	type IdentifierMaxLen = ConstU32<256>;
	type MigrationStatusHandler = ();
	type FailedMigrationHandler =
		polkadot_sdk::frame_support::migrations::FreezeChainOnFailedMigration;
	type MaxServiceWeight = MbmServiceWeight;
	type WeightInfo = pallet_migrations::weights::SubstrateWeight<Runtime>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	// A validator reported for an offence is disabled for the rest of the session.
	type DisabledValidators = Session;
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	// One authority set per session, and every session of the history kept.
	type MaxSetIdSessionEntries = ConstU64<{ SESSION_HISTORY_DEPTH as u64 }>;
	// An equivocation is proved against the session's historical root and reported to the
	// offences pallet, whose handler (the validator set) removes the offender.
	type KeyOwnerProof = polkadot_sdk::sp_session::MembershipProof;
	type EquivocationReportSystem = pallet_grandpa::EquivocationReportSystem<
		Self,
		pallet_validator_set::OnlyCurrentValidators<Self, Offences>,
		Historical,
		EquivocationReportLongevity,
	>;
}

/// GRANDPA has an authority change still to enact (a forced change after a stall, which takes
/// effect blocks later).
pub struct GrandpaChangePending;
impl polkadot_sdk::frame_support::traits::Get<bool> for GrandpaChangePending {
	fn get() -> bool {
		pallet_grandpa::PendingChange::<Runtime>::exists()
	}
}

/// Sessions whose validators stay provable, and so equivocations reportable: a day of
/// undisturbed sessions.
pub const SESSION_HISTORY_DEPTH: u32 = 144;

parameter_types! {
	/// A session lasts 10 minutes unless the validator set changes (then it ends at once).
	pub const SessionPeriod: BlockNumber = 10 * crate::MINUTES;
	pub const SessionHistoryDepth: u32 = SESSION_HISTORY_DEPTH;
	/// Blocks an equivocation report stays valid in the pool: the history's length.
	pub const EquivocationReportLongevity: u64 =
		SESSION_HISTORY_DEPTH as u64 * 10 * crate::MINUTES as u64;
	/// Held from an account that sets session keys (any account may), for the storage they
	/// take; released when it purges them.
	pub const SessionKeyDeposit: Balance = crate::UNIT;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Aura>;
	type EventHandler = ();
}

impl pallet_validator_set::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddRemoveOrigin = polkadot_sdk::frame_system::EnsureRoot<AccountId>;
	type MaxValidators = ConstU32<MAX_AUTHORITIES>;
	type MinValidators = ConstU32<1>;
	type SessionPeriod = SessionPeriod;
	type HistoryDepth = SessionHistoryDepth;
	type ConsensusChangePending = GrandpaChangePending;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	// Any account may set keys (it pays `KeyDeposit`); only the set's members validate.
	type ValidatorIdOf = polkadot_sdk::sp_runtime::traits::ConvertInto;
	type ShouldEndSession = ValidatorSet;
	type NextSessionRotation = ValidatorSet;
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, ValidatorSet>;
	type SessionHandler =
		<crate::opaque::SessionKeys as polkadot_sdk::sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = crate::opaque::SessionKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = pallet_validator_set::NoIdentification;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = ValidatorSet;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Held for every registered model, plus a per-byte part.
	pub const ModelDepositBase: Balance = crate::UNIT;
	/// Held per byte of model metadata and on-chain model bytes: 4 MiB on chain hold ~4.2 VRT.
	pub const ModelDepositPerByte: Balance = crate::MICRO_UNIT;
	/// 64 KiB chunks: a 4 MiB model uploads in 64 extrinsics, each well under the block length.
	pub const ModelChunkSize: u32 = 64 * 1024;
	pub const MaxOnChainModelSize: u32 = 4 * 1024 * 1024;
	/// Larger models are hosted by URI, up to 2 GiB.
	pub const MaxUriModelSize: u64 = 2 * 1024 * 1024 * 1024;
	pub const MaxModelVersions: u32 = 32;
	/// The reference validator gives one inference at most 2 s of CPU time...
	pub const MaxModelCpuMillis: u32 = 2_000;
	/// ...and 2 GiB of memory (its inference workers' default cap, plus ONNX Runtime itself).
	pub const MaxModelMemoryMib: u32 = 2_048;
	/// Three jobs in a row out of time or memory deprecate a model.
	pub const ResourceFailuresToDeprecate: u32 = 3;
	/// A model id claimed (`claim_model`) can be registered 3 blocks (9 s) later. Aura gives
	/// slots to the validators in turn, so an author that keeps a registration out of its own
	/// block cannot keep it out of the next two, which are other validators' (on `dev`, with one
	/// validator, this protects nothing).
	pub const ModelClaimDelay: BlockNumber = 3;
	/// Held for each claim until it is used or dropped: 0.01 VRT.
	pub const ModelClaimDeposit: Balance = 10 * crate::MILLI_UNIT;
}

impl pallet_model_registry::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ForceOrigin = polkadot_sdk::frame_system::EnsureRoot<AccountId>;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type ChunkSize = ModelChunkSize;
	type MaxOnChainModelSize = MaxOnChainModelSize;
	type MaxUriModelSize = MaxUriModelSize;
	type MaxVersions = MaxModelVersions;
	type MaxModelCpuMillis = MaxModelCpuMillis;
	type MaxModelMemoryMib = MaxModelMemoryMib;
	type ResourceFailuresToDeprecate = ResourceFailuresToDeprecate;
	type ClaimDelay = ModelClaimDelay;
	type ClaimDeposit = ModelClaimDeposit;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Paid to each agreeing committee member: 0.01 VRT.
	pub const ExecutorFee: Balance = 10 * crate::MILLI_UNIT;
	/// Paid to the fee collector for each settled job: 0.001 VRT.
	pub const JobBaseFee: Balance = crate::MILLI_UNIT;
	/// Paid to each agreeing member of a job that ran out of its model's resources: a fifth of
	/// the executor fee.
	pub const ResourceFailureFee: Balance = 2 * crate::MILLI_UNIT;
	/// Committee seats a block admits: 512 jobs of 3. Their commits and reveals, and the
	/// resolutions, fit the operational share of the blocks that follow with room to spare
	/// (`scripts/bench-jobs.sh` measures ~3.1 ms of weight per job of 3 at the limit).
	pub const MaxSeatsPerBlock: u32 = 1_536;
	/// Declared CPU time a block admits: 3 s, half of what the reference validator's two
	/// inference workers run in a 3 s slot, were it on every committee.
	pub const MaxCpuMillisPerBlock: u64 = 3_000;
	/// Open jobs an executor may be on: two blocks of full admission were it on every
	/// committee (512 jobs a block at a latency of 2 blocks). An executor further behind is
	/// given no new job until its votes catch up, so that the jobs it has complete in time.
	pub const MaxOpenPerExecutor: u32 = 1_024;
	/// Fees rise with demand to at most a hundred times their base.
	pub JobMaxFeeMultiplier: polkadot_sdk::sp_runtime::FixedU128 =
		polkadot_sdk::sp_runtime::FixedU128::from_u32(100);
	/// The account that collects base fees (no one holds its key).
	pub JobFeeCollector: AccountId =
		polkadot_sdk::sp_runtime::traits::AccountIdConversion::into_account_truncating(
			&polkadot_sdk::frame_support::PalletId(*b"vrt/fees"),
		);
	/// Committees are drawn two blocks after their job's submission, from the beacon the
	/// reveals of those blocks feed.
	pub const DrawDelay: BlockNumber = 2;
	/// 5 blocks (15 s) to commit, from the draw, and 5 to reveal.
	pub const CommitWindow: BlockNumber = 5;
	pub const RevealWindow: BlockNumber = 5;
	/// Results stay queryable for a day.
	pub const JobRetention: BlockNumber = crate::DAYS;
	pub const InferenceUnsignedPriority: u64 = u64::MAX / 2;
	/// A job's storage deposit, held until it is pruned a day after it finished: 0.01 VRT, and
	/// 0.00001 VRT a byte it may store (its inputs, and a 4 KiB outcome for each member's reveal
	/// and the result: 0.17 VRT for a committee of 3 with small inputs, 1.36 VRT for 64 KiB of
	/// inputs and a committee of 16). A gibibyte of job state held for a day locks about
	/// 10,700 VRT.
	pub const JobDepositBase: Balance = 10 * crate::MILLI_UNIT;
	pub const JobDepositPerByte: Balance = 10 * crate::MICRO_UNIT;
	/// An executor bonds at least 1,000 VRT to register and to be drawn.
	pub const ExecutorMinBond: Balance = 1_000 * crate::UNIT;
	/// Unbonded funds stay held for a week: far beyond any job an executor is still on.
	pub const ExecutorUnbondingPeriod: BlockNumber = 7 * crate::DAYS;
	/// A reveal that does not open its own commitment costs 10 % of the minimum bond (100 VRT):
	/// the executor fee it could have hoped to gain is a ten-thousandth of that.
	pub const BadRevealSlash: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);
	/// A missed commit or reveal, on a job the others settled, costs 0.01 % of the minimum
	/// bond (0.1 VRT, ten times the executor fee at its base): an executor that misses more
	/// than one job in eleven loses more than it earns.
	pub const MissSlash: sp_runtime::Perbill = sp_runtime::Perbill::from_parts(100_000);
	/// A result a challenged job's larger committee found wrong costs half the minimum bond
	/// (500 VRT): a first committee of 3 needs two such members to pass off a false result, so
	/// a challenged lie costs 1,000 VRT against a job's executor fees of 0.02 VRT.
	pub const WrongResultSlash: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(50);
	/// An executor's penalty points (1 for a miss, 4 for a bad reveal, 8 for a wrong result)
	/// halve every day: an offence lowers its chance of being drawn for a few days.
	pub const StandingHalfLife: BlockNumber = crate::DAYS;
	/// Three proven misses in a row, with no vote in between, chill an executor: a node that is
	/// down stops taking seats it cannot fill (a committee of 3 with two such members fails).
	/// Its operator calls `resume` once it is back.
	pub const MaxConsecutiveMisses: u32 = 3;
	/// A first committee's result can be challenged for 20 blocks (a minute); it is final then.
	pub const ChallengeWindow: BlockNumber = 20;
	/// A challenger holds 20 VRT until the larger committee decides: enough to pay a committee of
	/// 16 at the highest fee multiplier when the challenge confirms the result.
	pub const ChallengeBond: Balance = 20 * crate::UNIT;
	/// A fifth of what a job's offenders lose goes to the members who were right.
	pub const SlashRewardShare: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(20);
	/// The account that receives slashed funds (no one holds its key; root spends from it).
	pub VerityTreasury: AccountId =
		polkadot_sdk::sp_runtime::traits::AccountIdConversion::into_account_truncating(
			&polkadot_sdk::frame_support::PalletId(*b"vrt/trsy"),
		);
	/// 30 % of the block for the hook: drawing committees (a full block's 512 jobs of 3 take
	/// about 0.43 s of weight to draw), resolving jobs whose committees did not finish, and
	/// pruning. Jobs that resolve by their last reveal cost the hook one skipped entry each.
	pub InferenceHookWeight: frame_support::weights::Weight =
		sp_runtime::Perbill::from_percent(30) * RuntimeBlockWeights::get().max_block;
}

impl pallet_inference::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = crate::ModelRegistry;
	type ExecutorOrigin = polkadot_sdk::frame_system::EnsureRoot<AccountId>;
	type MinBond = ExecutorMinBond;
	type DefaultUnbondingPeriod = ExecutorUnbondingPeriod;
	type MaxUnlockingChunks = ConstU32<16>;
	type BadRevealSlash = BadRevealSlash;
	type MissSlash = MissSlash;
	type WrongResultSlash = WrongResultSlash;
	type StandingHalfLife = StandingHalfLife;
	type MaxConsecutiveMisses = MaxConsecutiveMisses;
	type SlashRewardShare = SlashRewardShare;
	type Treasury = VerityTreasury;
	type ExecutorFee = ExecutorFee;
	/// As transactions are priced (`pallet_transaction_payment`'s `WeightToFee`).
	type WeightToFee = <Runtime as polkadot_sdk::pallet_transaction_payment::Config>::WeightToFee;
	type BaseFee = JobBaseFee;
	type JobDepositBase = JobDepositBase;
	type JobDepositPerByte = JobDepositPerByte;
	type ResourceFailureFee = ResourceFailureFee;
	type MaxSeatsPerBlock = MaxSeatsPerBlock;
	type MaxCpuMillisPerBlock = MaxCpuMillisPerBlock;
	type MaxOpenPerExecutor = MaxOpenPerExecutor;
	type MaxFeeMultiplier = JobMaxFeeMultiplier;
	type FeeCollector = JobFeeCollector;
	/// Executors register without permission, each bonding `ExecutorMinBond`; drawing a
	/// committee costs the same whatever their number.
	type MaxExecutors = ConstU32<4096>;
	type MaxCommittee = ConstU32<16>;
	/// 64 KiB of SCALE-encoded inputs per job.
	type MaxInputBytes = ConstU32<{ 64 * 1024 }>;
	/// Canonical outcomes up to 4 KiB are revealed on chain.
	type MaxOutputBytes = ConstU32<4096>;
	type MaxBatch = ConstU32<64>;
	type MaxHookWeight = InferenceHookWeight;
	type DrawDelay = DrawDelay;
	type CommitWindow = CommitWindow;
	type RevealWindow = RevealWindow;
	type ChallengeWindow = ChallengeWindow;
	type ChallengeBond = ChallengeBond;
	type RetentionPeriod = JobRetention;
	type UnsignedPriority = InferenceUnsignedPriority;
	type OnJobCompleted = ();
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::BundledLinearModel;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = crate::UncheckedExtrinsic;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extension = crate::TxExtension;
	fn create_transaction(
		call: RuntimeCall,
		extension: crate::TxExtension,
	) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_transaction(call, extension)
	}
}

/// Bare (unsigned) transactions: the GRANDPA equivocation reports validators submit.
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_bare(call)
	}
}

/// Off-chain workers' unsigned transactions (executors' commits and reveals): authorized by the
/// pallet, with no sender, no nonce and no fee.
impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_extension() -> crate::TxExtension {
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(
				polkadot_sdk::sp_runtime::generic::Era::Immortal,
			),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}
