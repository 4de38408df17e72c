//! # Inference jobs pallet
//!
//! A dApp pays for an inference; a committee of executors computes it independently; the runtime
//! accepts a result only when a quorum agrees.
//!
//! 1. [`Pallet::submit_job`]: the committee size is checked against the chain's minimum
//!    ([`MinCommittee`]: 3 on `local`) and `MaxCommittee`, the inputs against the model's spec, the block's
//!    admission bounds are checked (committee seats and declared CPU time: beyond them the
//!    submission is refused), and the fee ([`FeeQuote`]: the model's fee + an executor fee per member + a base
//!    fee, the last two times the demand-driven [`FeeMultiplier`]) is held from the requester.
//!    The job gets a [`JobKey`] bound to its parent block and its content.
//! 2. Draw, [`Config::DrawDelay`] blocks later (see "Randomness"): a committee of executors
//!    on fewer than [`Config::MaxOpenPerExecutor`] open jobs each.
//! 3. Commit phase: each member's off-chain worker runs the job (in the node's sandboxed
//!    inference workers, under the model's declared limits) and submits
//!    `blake2_256(result_hash ++ salt ++ executor ++ job key)` with
//!    [`Pallet::commit_results`] (unsigned, signed with the member's `infr` key over a
//!    payload bound to the chain's genesis hash, authorized by this pallet: no fee, no nonce).
//! 4. Reveal phase, once every member committed or the commit window closed:
//!    [`Pallet::reveal_results`] with the result hash, the salt and, when it fits, the canonical
//!    outcome. A reveal that does not match its commitment is rejected, counted against the
//!    member and slashed.
//! 5. Resolution, once every committed member revealed or the reveal window closed: a quorum
//!    ([`quorum`]: ⌈2k/3⌉ of a committee of k, so 2 of 3) of equal result hashes decides. Failing that, revealed
//!    outcomes equal within the model's tolerance count as agreeing. A quorum on a canonical
//!    error outcome fails the job with that error, whichever agreeing member carried the
//!    outcome's bytes (a member may reveal the hash alone).
//! 6. The job is settled at once (see "Who is paid"), and its result is provisional for
//!    [`Config::ChallengeWindow`] blocks: anyone may [`Pallet::challenge`] it, and a committee
//!    of `2k + 1` without the first's members runs it again and decides for good, slashing
//!    whoever revealed another result. [`Event::JobFinalized`] says a result is final;
//!    [`OnJobCompleted`] hears of it then. See [`escalation`](crate::escalation).
//!
//! Each member's record ([`ExecutorStats`]) counts every job it was drawn into once it is
//! settled: agreed, disagreed (another result, or a reveal that did not match its commitment),
//! missed (no commit, or no reveal), or voided (it committed, but the job failed for too few
//! commits from the others); and the jobs it was slashed on.
//!
//! ## Who is paid
//!
//! | outcome | model owner | each agreeing member | fee collector | requester gets back |
//! |---|---|---|---|---|
//! | completed | model fee | executor fee | base fee | the executor fees of members who did not agree |
//! | failed by a quorum on an error outcome | — | executor fee | base fee | the model fee and the executor fees of members who did not agree |
//! | failed by a quorum on a resource failure (`Timeout`, `OutOfMemory`, `WorkerCrashed`) | — | resource-failure fee | base fee | the model fee, the executor fees of members who did not agree, and the rest of the agreeing members' executor fees |
//! | failed: not enough commits, or no quorum | — | — | — | everything but the hook's fees |
//! | failed: no committee could be drawn | — | — | — | everything but the upkeep fee |
//!
//! In every outcome the fee collector also takes the job's **upkeep fee** (the work the job
//! certainly gives `on_initialize`: drawing its committee, visiting its deadline entries and
//! pruning it) and one
//! **deadline fee** for each deadline at which `on_initialize` moved the job on (opening its
//! reveal phase, failing it, or resolving it: at most two); both are priced as the runtime
//! prices transaction weight ([`Config::WeightToFee`]), and two deadline fees are held at
//! submission, the unused ones coming back. A job whose committee votes in time pays only the
//! upkeep; a job that runs into its deadlines (a model no executor can fetch, a member offline)
//! pays for the hook's work at them, so cheap jobs that are bound to fail cannot fill the hook
//! for free. They are fees rather than weight charged to `submit_job`: that weight would count
//! against the submission's block as well as, later, the hook's, and lower how many jobs a
//! block admits.
//!
//! Resource failures depend on the executor's machine as well as the job, so they are settled
//! apart: a model declares what one inference may use ([`ModelLimits`]: CPU time and memory on
//! the reference validator, within the chain's bounds), executors stop it there, and a quorum
//! on the failure pays the requester's model fee back and each agreeing member only the
//! resource-failure fee, which is less than the executor fee: a committee that claims a
//! timeout without running the job earns less than one that runs it. The registry deprecates a
//! model whose jobs keep failing for resources.
//!
//! [`ModelLimits`]: verity_primitives::model::ModelLimits
//!
//! Payments move held funds; a payment the recipient's account cannot take (below its existential
//! deposit) goes back to the requester. No balance is created or lost.
//!
//! Apart from the fee, a job holds a **storage deposit** from the requester
//! ([`Config::JobDepositBase`], and [`Config::JobDepositPerByte`] of its encoded inputs and of
//! the outcomes its reveals and result may hold: [`Pallet::job_deposit`]) while it is stored,
//! returned in full when it is pruned: the job and its inputs stay in every node's state for the
//! retention period, and whoever puts them there pays for holding them.
//!
//! ## Executors and slashing
//!
//! Executors register without permission by bonding at least [`Config::MinBond`] with a key
//! they prove they hold; see [`executors`](crate::executors) for registration, unbonding and
//! the draw. Settlement slashes a member's bond for what the job itself proves
//! ([`Offence`]): a reveal that does not open its commitment, or a vote missed on a job the
//! others settled in time; a share of it rewards the agreeing members, the rest goes to
//! [`Config::Treasury`]. See [`slashing`](crate::slashing) for what is not slashed, and why.
//!
//! ## Reputation
//!
//! Every slash adds penalty points to the executor's [`Standing`] (1 for a miss, 4 for a bad
//! reveal, 8 for a wrong result), which halve every [`Config::StandingHalfLife`] blocks; a
//! drawn committee is kept only if each of its members passes a draw of `1 / (1 + points)`, on
//! every attempt but the last: recent misbehaviour makes an executor less likely to be drawn,
//! and no job fails for it. See [`reputation`](crate::reputation); the runtime API's
//! `reputation` shows an executor's record and points.
//!
//! ## Randomness
//!
//! A committee is drawn [`Config::DrawDelay`] blocks after its job's submission, from a beacon
//! that the executors' revealed salts feed (RANDAO style) and the job's key: the requester
//! cannot know it when it submits, and the author of one block can only choose which of the
//! reveals it has to include. See [`draw`](crate::draw) for the scheme and its limits, and
//! `docs/economics.md` for what grinding costs and buys.
//!
//! ## Deadlines
//!
//! Every job is due at a block: to be drawn, then at the end of its commit window, then of its
//! reveal window, and once finished, after [`Config::RetentionPeriod`], to be pruned.
//! `on_initialize` handles the jobs due: it draws their committees, moves them to the reveal
//! phase, resolves them, or prunes them. A job that moved
//! on early (its committee committed or revealed in time) leaves an entry behind, skipped at the
//! cost of one read and one removal. Each entry is charged for what it did (see the weights), up
//! to [`Config::MaxHookWeight`] a block; entries beyond that wait for the next block, oldest
//! first. No job stays open forever.
//!
//! Commits and reveals are operational transactions: a block full of submissions still has
//! room for the votes that settle the jobs already paid for.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use draw::DRAW_ATTEMPTS;
pub use executors::RecordOf;
pub use pallet::*;
use polkadot_sdk::{frame_support, frame_system};
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod draw;
#[cfg(test)]
mod draw_tests;
pub mod escalation;
#[cfg(test)]
mod escalation_tests;
pub mod executors;
pub mod migrations;
#[cfg(test)]
mod mock;
mod offchain;
#[cfg(test)]
mod offchain_tests;
pub mod reputation;
#[cfg(test)]
mod reputation_tests;
pub mod slashing;
#[cfg(test)]
mod slashing_tests;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

/// The log target of the jobs pallet and its off-chain worker.
pub const LOG_TARGET: &str = "verity::inference";

/// Called when a job's result is final (its challenge window closed, or the larger committee
/// of a challenge decided), for pallets that act on results: once per job, and only for a
/// completed job.
pub trait OnJobCompleted<AccountId> {
	/// `outcome` is the SCALE-encoded canonical outcome when it was revealed on chain.
	fn on_job_completed(
		job: JobId,
		requester: &AccountId,
		model: &verity_primitives::ModelId,
		result_hash: &[u8; 32],
		outcome: Option<&[u8]>,
	);
}

impl<AccountId> OnJobCompleted<AccountId> for () {
	fn on_job_completed(
		_: JobId,
		_: &AccountId,
		_: &verity_primitives::ModelId,
		_: &[u8; 32],
		_: Option<&[u8]>,
	) {
	}
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// A runnable model, and inputs it accepts that are as large as `MaxInputBytes` allows.
	fn model_and_inputs() -> (verity_primitives::ModelId, alloc::vec::Vec<verity_primitives::Tensor>);
}

/// The smallest number of agreeing members that accepts a result: ⌈2k/3⌉ (1 of 1, 2 of 2,
/// 2 of 3, 3 of 4, 4 of 5, 4 of 6, 5 of 7). At least two thirds, always more than half, so two
/// different results can never both reach it; and a committee of 3 tolerates one dissenting or
/// silent member.
pub fn quorum(committee: u32) -> u32 {
	(committee * 2).div_ceil(3).max(1)
}

// The authorization of `reveal_results` (seven arguments) expands to a type clippy finds complex.
#[allow(clippy::type_complexity)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{vec, vec::Vec};
	use codec::{Decode, Encode};
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
		weights::{WeightMeter, WeightToFee},
	};
	use frame_system::pallet_prelude::*;
	use polkadot_sdk::{
		sp_io::hashing::blake2_256,
		sp_runtime::{
			traits::{One, SaturatedConversion, Saturating, Zero},
			FixedPointNumber, FixedU128, Perbill, RuntimeAppPublic,
		},
	};
	use verity_primitives::{
		canonical::{CanonicalData, Outcome},
		executor::{ExecutorId, ExecutorSignature},
		inference::VoteKind,
		model::{ModelLookup, ModelUnavailable, MAX_MODEL_TENSORS},
		validate_inputs, ModelId, Tensor,
	};

	/// The in-code storage version: 1 added job keys, model limits, resource fees, the block
	/// load and the fee multiplier ([`crate::migrations::v1`]); 2 the executors' `voided` count
	/// and the jobs' upkeep and deadline fees ([`crate::migrations::v2`]); 3 bonded executors in
	/// a map, with their keys and the draw ([`crate::migrations::v3`]); 4 the executors'
	/// `slashed` count, and their statistics and open jobs keyed by a cryptographic hash of the
	/// account ([`crate::migrations::v4`]); 5 the delayed draw, challenges and escalation,
	/// and standings (new values, maps and appended variants only: [`crate::migrations::v5`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(5);

	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	pub type InputsOf = BoundedVec<Tensor, ConstU32<MAX_MODEL_TENSORS>>;
	pub type CommitsOf<T> = BoundedVec<CommitItem, <T as Config>::MaxBatch>;
	pub type RevealsOf<T> =
		BoundedVec<RevealItem<<T as Config>::MaxOutputBytes>, <T as Config>::MaxBatch>;

	/// A member's reveal slot.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		DebugNoBound,
	)]
	#[scale_info(skip_type_params(MaxOutput))]
	#[codec(mel_bound())]
	pub enum RevealSlot<MaxOutput: Get<u32>> {
		Pending,
		Revealed(Reveal<MaxOutput>),
		/// The reveal did not match the commitment.
		Rejected,
	}

	/// A job and everything the chain knows about it.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		Encode,
		Decode,
		MaxEncodedLen,
		TypeInfo,
		DebugNoBound,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct Job<T: Config> {
		/// The job's identity: bound to the block it was submitted on top of and its content,
		/// so that no job on another fork shares it.
		pub key: JobKey,
		pub requester: T::AccountId,
		pub model: JobModel<T::AccountId>,
		/// The members, once drawn (empty in [`Phase::Draw`]).
		pub committee: BoundedVec<T::AccountId, T::MaxCommittee>,
		/// One per seat from submission (so their number is the committee size the job asked
		/// for), `None` until its member commits.
		pub commits: BoundedVec<Option<Commitment>, T::MaxCommittee>,
		pub reveals: BoundedVec<RevealSlot<T::MaxOutputBytes>, T::MaxCommittee>,
		pub fee: FeeQuote<BalanceOf<T>>,
		pub phase: Phase,
		/// The block whose `on_initialize` moves the job on (or prunes it when finished).
		pub due: BlockNumberFor<T>,
		pub submitted_at: BlockNumberFor<T>,
		pub result: Option<JobResult<T::MaxOutputBytes>>,
	}

	/// A challenged job's first round, as it was settled, and who challenged it.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		Encode,
		Decode,
		MaxEncodedLen,
		TypeInfo,
		DebugNoBound,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct Escalation<T: Config> {
		pub committee: BoundedVec<T::AccountId, T::MaxCommittee>,
		pub commits: BoundedVec<Option<Commitment>, T::MaxCommittee>,
		pub reveals: BoundedVec<RevealSlot<T::MaxOutputBytes>, T::MaxCommittee>,
		/// [`Phase::Completed`] or [`Phase::Failed`].
		pub phase: Phase,
		pub result: Option<JobResult<T::MaxOutputBytes>>,
		pub challenger: T::AccountId,
		/// Held from the challenger ([`HoldReason::ChallengeBond`]).
		pub bond: BalanceOf<T>,
	}

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		polkadot_sdk::frame_system::Config
		+ polkadot_sdk::frame_system::offchain::CreateAuthorizedTransaction<Call<Self>>
	{
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;
		/// Holds job fees until the job is settled.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		type RuntimeHoldReason: From<HoldReason>;
		/// The model registry.
		type Models: ModelLookup<Self::AccountId, BalanceOf<Self>>;
		/// Removes executors in an emergency and sets the minimum committee.
		type ExecutorOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The least bond an executor registers with, and keeps to be drawn.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;
		/// Blocks unbonded funds stay held: longer than any job an executor can still be on
		/// when it unbonds, so that they answer for its votes until the last is settled.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;
		/// Most unlocking chunks an executor has at once (unbonding again at the same block
		/// adds to the last).
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;
		/// Slashed, as a share of `MinBond`, from an executor whose reveal does not open its
		/// own commitment ([`Offence::BadReveal`]).
		#[pallet::constant]
		type BadRevealSlash: Get<Perbill>;
		/// Slashed, as a share of `MinBond`, from an executor that missed its commit or reveal
		/// on a job the others settled in time ([`Offence::Missed`]): much less than a bad
		/// reveal, since a machine can fail without lying.
		#[pallet::constant]
		type MissSlash: Get<Perbill>;
		/// Blocks in which an executor's penalty points halve ([`Standing`]): how long an offence
		/// lowers its chance of being drawn.
		#[pallet::constant]
		type StandingHalfLife: Get<BlockNumberFor<Self>>;
		/// Slashed, as a share of `MinBond`, from an executor that revealed another result than
		/// the one a challenged job's larger committee accepted ([`Offence::WrongResult`]).
		#[pallet::constant]
		type WrongResultSlash: Get<Perbill>;
		/// The share of what a job's offenders are slashed that goes, split evenly, to the
		/// members whose result the quorum accepted; the rest, and all of it when no quorum
		/// agreed, goes to [`Config::Treasury`].
		#[pallet::constant]
		type SlashRewardShare: Get<Perbill>;
		/// Receives slashed funds: an account governance spends from.
		type Treasury: Get<Self::AccountId>;
		/// Paid to each agreeing committee member.
		#[pallet::constant]
		type ExecutorFee: Get<BalanceOf<Self>>;
		/// Prices the work a job gives `on_initialize` (its deadlines and pruning) as the
		/// runtime prices transaction weight, so that a job pays for it at submission (see
		/// [`FeeQuote::upkeep_fee`] and [`FeeQuote::deadline_fee`]).
		type WeightToFee: WeightToFee<Balance = BalanceOf<Self>>;
		/// Paid to the fee collector for every settled job.
		#[pallet::constant]
		type BaseFee: Get<BalanceOf<Self>>;
		/// Held from the requester for each job while it is stored (until it is pruned, a
		/// retention period after it finished), and returned then: the storage a job makes
		/// every node carry is paid for by whoever put it there. Plus [`Config::JobDepositPerByte`]
		/// for each byte the job may store ([`Pallet::job_deposit`]).
		#[pallet::constant]
		type JobDepositBase: Get<BalanceOf<Self>>;
		/// Held, as [`Config::JobDepositBase`], for each byte a job may store: its SCALE-encoded
		/// inputs, and an outcome of `MaxOutputBytes` for each member's reveal and the result.
		#[pallet::constant]
		type JobDepositPerByte: Get<BalanceOf<Self>>;
		/// Paid to each agreeing member, instead of the executor fee, when a quorum finds a job
		/// ran out of its model's resources: less than the executor fee, so that claiming a
		/// resource failure without running the job pays less than running it.
		#[pallet::constant]
		type ResourceFailureFee: Get<BalanceOf<Self>>;
		/// Most committee seats the jobs submitted in one block may take: each is a commit and
		/// a reveal that must fit the blocks that follow, so beyond this new jobs are refused
		/// (and the fee multiplier rises) rather than failing later for want of room.
		#[pallet::constant]
		type MaxSeatsPerBlock: Get<u32>;
		/// Most declared CPU time (ms) of the jobs submitted in one block: what the reference
		/// validator's inference workers can run in time were it on every committee.
		#[pallet::constant]
		type MaxCpuMillisPerBlock: Get<u64>;
		/// Most open jobs (not yet settled) an executor may be drawn into: a submission whose
		/// committee has a member this far behind on its votes is refused, so that a committee
		/// that falls behind (a slow or overloaded machine, a member offline) is given no more
		/// work than it can vote on before the jobs' windows close. At a latency of `L` blocks
		/// an executor on every committee takes at most this many over `L` jobs a block.
		#[pallet::constant]
		type MaxOpenPerExecutor: Get<u32>;
		/// Highest the fee multiplier goes. It scales the executor and base fees: up by up to
		/// an eighth per block while blocks admit more than half their bound, down as fast
		/// while they admit less, never below one.
		#[pallet::constant]
		type MaxFeeMultiplier: Get<FixedU128>;
		/// Receives base fees.
		type FeeCollector: Get<Self::AccountId>;
		/// Most executors.
		#[pallet::constant]
		type MaxExecutors: Get<u32>;
		/// Largest committee.
		#[pallet::constant]
		type MaxCommittee: Get<u32>;
		/// Most bytes of SCALE-encoded inputs a job takes.
		#[pallet::constant]
		type MaxInputBytes: Get<u32>;
		/// Largest canonical outcome (SCALE-encoded) kept on chain.
		#[pallet::constant]
		type MaxOutputBytes: Get<u32>;
		/// Most items in one commit or reveal batch.
		#[pallet::constant]
		type MaxBatch: Get<u32>;
		/// Most weight `on_initialize` spends on due jobs in one block; the rest waits for the
		/// next block. Must fit the heaviest single entry (a resolution by `MaxCommittee`).
		#[pallet::constant]
		type MaxHookWeight: Get<Weight>;
		/// Blocks between a job's submission and the drawing of its committee, from the beacon
		/// that the reveals of those blocks feed (see the crate docs, "Randomness"). At 2, no
		/// reveal that feeds the draw was on chain or, mostly, even sent when the job was
		/// submitted. 0 draws at submission, from the beacon as it stands: predictable by the
		/// requester, for tests and single-executor chains only.
		#[pallet::constant]
		type DrawDelay: Get<BlockNumberFor<Self>>;
		/// Blocks members have to commit, from the draw.
		#[pallet::constant]
		type CommitWindow: Get<BlockNumberFor<Self>>;
		/// Blocks members have to reveal.
		#[pallet::constant]
		type RevealWindow: Get<BlockNumberFor<Self>>;
		/// Blocks after a job's first committee decided it during which anyone may challenge
		/// the result ([`Pallet::challenge`]); the result is final when it closes. 0: results
		/// are final at once, and nothing can be challenged.
		#[pallet::constant]
		type ChallengeWindow: Get<BlockNumberFor<Self>>;
		/// Held from a challenger until the larger committee decides: it pays that committee's
		/// members, and goes to the treasury, when the challenge confirms the result.
		#[pallet::constant]
		type ChallengeBond: Get<BalanceOf<Self>>;
		/// Blocks a finished job stays in storage.
		#[pallet::constant]
		type RetentionPeriod: Get<BlockNumberFor<Self>>;
		/// Priority of commit and reveal transactions in the pool.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		type OnJobCompleted: OnJobCompleted<Self::AccountId>;
		type WeightInfo: WeightInfo;
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper;
	}

	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of a job not yet settled.
		JobFee,
		/// An executor's bond, and its unbonded funds until they are withdrawn.
		ExecutorBond,
		/// The storage deposit of a job not yet pruned ([`Config::JobDepositBase`]). Last: the
		/// variants are encoded by position in holds already stored.
		JobDeposit,
		/// A challenger's bond, until the larger committee decides ([`Config::ChallengeBond`]).
		ChallengeBond,
	}

	/// Registered executors (at most [`Config::MaxExecutors`]): their keys, bonds and status.
	#[pallet::storage]
	pub type Executors<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, RecordOf<T>>;

	/// The executor each inference key belongs to (keys are unique). Votes are checked by it.
	#[pallet::storage]
	pub type ExecutorOfKey<T: Config> = StorageMap<_, Blake2_128Concat, ExecutorId, T::AccountId>;

	/// The executors committees are drawn from (active, bonded at least `MinBond`), by slot:
	/// `0..DrawableCount`, each the `slot` of its record.
	#[pallet::storage]
	pub type Drawable<T: Config> = StorageMap<_, Twox64Concat, u32, T::AccountId>;

	/// How many executors [`Drawable`] holds.
	#[pallet::storage]
	pub type DrawableCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The smallest committee a job may ask for: a chain parameter (3 on `local`, so that no
	/// single executor decides a job; 1 on `dev`), set at genesis and by `ExecutorOrigin`. Never
	/// above `MaxCommittee`; 0 (a chain that never set it) allows 1.
	#[pallet::storage]
	pub type MinCommittee<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// What each executor did on the committees it was drawn into; removed when it leaves the
	/// registry. Hashed with `Blake2_128Concat`: anyone can register, so its accounts are
	/// chosen by whoever registers them.
	#[pallet::storage]
	pub type Stats<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ExecutorStats, ValueQuery>;

	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// The randomness committees are drawn from: every block whose reveals brought
	/// [`Entropy`] hashes it into the beacon at its successor's `on_initialize`.
	#[pallet::storage]
	pub type Beacon<T> = StorageValue<_, [u8; 32], ValueQuery>;

	/// The XOR of what this block's accepted reveals contribute, `blake2_256(("verity/entropy",
	/// salt, executor, job key))` each: independent of their order, so a block's author can
	/// choose only which reveals to include, not how they mix.
	#[pallet::storage]
	pub type Entropy<T> = StorageValue<_, [u8; 32], ValueQuery>;

	/// What the jobs submitted in a block ask of the executors, for that block (older entries
	/// are stale).
	#[pallet::storage]
	pub type Load<T: Config> = StorageValue<_, (BlockNumberFor<T>, BlockLoad)>;

	#[pallet::type_value]
	pub fn OneMultiplier() -> FixedU128 {
		FixedU128::one()
	}

	/// What the executor and base fees are multiplied by, following demand (see
	/// [`Config::MaxFeeMultiplier`]). Read by every submission, so whitelisted: `on_initialize`
	/// pays its read and its write, once a block.
	#[pallet::storage]
	#[pallet::whitelist_storage]
	pub type FeeMultiplier<T> = StorageValue<_, FixedU128, ValueQuery, OneMultiplier>;

	/// Jobs by id (ids are sequential, not chosen by users).
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, Job<T>>;

	/// Each job's inputs: SCALE-encoded `Vec<Tensor>`, checked against the model's spec. Apart
	/// from [`Jobs`], which every vote reads and writes, so that votes do not carry them.
	#[pallet::storage]
	pub type JobInputs<T: Config> =
		StorageMap<_, Twox64Concat, JobId, BoundedVec<u8, T::MaxInputBytes>>;

	/// The storage deposit held for each job until it is pruned (none for jobs submitted before
	/// deposits, or when the deposit is zero).
	#[pallet::storage]
	pub type JobDeposits<T: Config> = StorageMap<_, Twox64Concat, JobId, BalanceOf<T>>;

	/// The jobs due at each block (at most four entries per job: its draw, commit deadline,
	/// reveal deadline, pruning; each removed when `on_initialize` reaches it).
	#[pallet::storage]
	pub type Due<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, ()>;

	/// The oldest block whose due jobs are not all handled, when `on_initialize` ran out of
	/// [`Config::MaxHookWeight`]; none when it is up to date.
	#[pallet::storage]
	pub type DueBacklog<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	/// Jobs by requester (until pruned).
	#[pallet::storage]
	pub type JobsByRequester<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, JobId, ()>;

	/// Open jobs by committee member.
	#[pallet::storage]
	pub type PendingByExecutor<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, JobId, ()>;

	/// Each executor's recent offences, as decaying penalty points (see [`Standing`]); none for
	/// an executor with no offence yet. Removed when it leaves the registry.
	#[pallet::storage]
	pub type Standings<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Standing<BlockNumberFor<T>>>;

	/// Decided jobs whose result can still be challenged, and the block whose `on_initialize`
	/// makes it final ([`Config::ChallengeWindow`]).
	#[pallet::storage]
	pub type Challengeable<T: Config> = StorageMap<_, Twox64Concat, JobId, BlockNumberFor<T>>;

	/// Challenged jobs being run again by a larger committee: their first round and their
	/// challenger, until the larger committee decides.
	#[pallet::storage]
	pub type Escalations<T: Config> = StorageMap<_, Twox64Concat, JobId, Escalation<T>>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Executors registered at genesis, each with its key and bond (held from its
		/// account, at least `MinBond`), as `register_executor` would.
		pub executors: Vec<(T::AccountId, ExecutorId, BalanceOf<T>)>,
		/// [`MinCommittee`]: 0 (the default) allows committees of 1.
		pub min_committee: u32,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pallet::<T>::register_at_genesis(&self.executors);
			assert!(
				self.min_committee <= T::MaxCommittee::get(),
				"the minimum committee is within MaxCommittee"
			);
			MinCommittee::<T>::put(self.min_committee);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		JobSubmitted {
			job: JobId,
			/// The job's identity on this fork (votes name it).
			key: JobKey,
			model: ModelId,
			requester: T::AccountId,
			fee: BalanceOf<T>,
			/// The storage deposit held until the job is pruned.
			deposit: BalanceOf<T>,
			/// The block whose `on_initialize` draws the committee ([`Event::CommitteeDrawn`]).
			draw_at: BlockNumberFor<T>,
		},
		/// The job's committee was drawn; its members commit by block `due`.
		CommitteeDrawn {
			job: JobId,
			committee: Vec<T::AccountId>,
			due: BlockNumberFor<T>,
		},
		/// A member committed.
		Committed {
			job: JobId,
			executor: T::AccountId,
		},
		/// The reveal phase opened.
		RevealPhase {
			job: JobId,
			due: BlockNumberFor<T>,
		},
		/// A member revealed.
		Revealed {
			job: JobId,
			executor: T::AccountId,
		},
		/// A reveal did not match its commitment and was rejected.
		RevealRejected {
			job: JobId,
			executor: T::AccountId,
		},
		/// A quorum agreed on `result_hash`; `output` is the canonical outcome if revealed.
		JobCompleted {
			job: JobId,
			result_hash: [u8; 32],
			output: Option<Vec<u8>>,
		},
		JobFailed {
			job: JobId,
			reason: FailureReason,
		},
		/// A finished job left storage.
		JobPruned {
			job: JobId,
		},
		/// An executor registered with `key`, bonding `bond`.
		ExecutorRegistered {
			executor: T::AccountId,
			key: ExecutorId,
			bond: BalanceOf<T>,
		},
		/// An executor bonded `amount` more.
		Bonded {
			executor: T::AccountId,
			amount: BalanceOf<T>,
		},
		/// `amount` of an executor's bond unbonds: held until block `until`.
		Unbonding {
			executor: T::AccountId,
			amount: BalanceOf<T>,
			until: BlockNumberFor<T>,
		},
		/// Unbonded funds were released to the executor.
		Withdrawn {
			executor: T::AccountId,
			amount: BalanceOf<T>,
		},
		/// An executor signs its votes with a new key.
		KeyRotated {
			executor: T::AccountId,
			key: ExecutorId,
		},
		/// An executor is no longer drawn into committees.
		Chilled {
			executor: T::AccountId,
		},
		/// A chilled executor is drawn again (while bonded at least `MinBond`).
		Resumed {
			executor: T::AccountId,
		},
		/// An executor left the registry: nothing bonded, nothing unlocking, no open job.
		ExecutorLeft {
			executor: T::AccountId,
		},
		/// The executor origin removed an executor: not drawn, votes refused, bond unbonding.
		ExecutorRemoved {
			executor: T::AccountId,
		},
		/// Jobs must ask for committees of at least `size`.
		MinCommitteeSet {
			size: u32,
		},
		/// `amount` of an executor's bond was slashed for `offence` on `job`, to the treasury
		/// (some of it then rewards the members who were right: [`Event::SlashRewarded`]), or
		/// burned if the treasury could not take it.
		Slashed {
			executor: T::AccountId,
			job: JobId,
			offence: Offence,
			amount: BalanceOf<T>,
		},
		/// A member whose result the quorum accepted was paid `amount` from what `job`'s
		/// offenders were slashed (or, after a challenge, the challenger).
		SlashRewarded {
			executor: T::AccountId,
			job: JobId,
			amount: BalanceOf<T>,
		},
		/// `challenger` challenged a job's result, holding `bond`: a committee of
		/// `committee_size` without the first's members is drawn at `draw_at`.
		JobChallenged {
			job: JobId,
			challenger: T::AccountId,
			bond: BalanceOf<T>,
			committee_size: u32,
			draw_at: BlockNumberFor<T>,
		},
		/// A challenge ended: `returned` of the challenger's bond came back to it.
		ChallengeSettled {
			job: JobId,
			challenger: T::AccountId,
			verdict: ChallengeVerdict,
			returned: BalanceOf<T>,
		},
		/// The job's result (its last [`Event::JobCompleted`] or [`Event::JobFailed`]) is
		/// final: no challenge can change it. [`OnJobCompleted`] is told now.
		JobFinalized {
			job: JobId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model does not exist.
		ModelNotFound,
		/// The model is uploading or retired.
		ModelNotRunnable,
		/// The inputs do not fit the model's input spec (names, dtypes, shapes, sizes).
		InvalidInputs,
		/// The inputs are larger than `MaxInputBytes`.
		InputsTooLarge,
		/// The committee size is below the chain's minimum (`MinCommittee`, at least 1) or
		/// above `MaxCommittee`.
		InvalidCommitteeSize,
		/// There are fewer executors than the committee size.
		NotEnoughExecutors,
		/// This block admitted as many jobs as the executors can serve in time (committee
		/// seats, or declared CPU time): submit again in a later block. The fee
		/// multiplier rises while blocks are this full; `feeEstimate` quotes the current fee.
		ChainBusy,
		/// The fee is above `max_fee`.
		FeeAboveMax,
		/// The requester cannot pay the fee and the job's storage deposit.
		CannotPayFee,
		/// The account is already an executor.
		AlreadyExecutor,
		/// The account is not an executor.
		NotExecutor,
		/// `MaxExecutors` executors exist.
		TooManyExecutors,
		/// The bond is below `MinBond`.
		BondBelowMinimum,
		/// The account cannot hold the bond (its free balance is too low).
		CannotBond,
		/// The key's proof does not verify: it must be the key's signature over
		/// `("verity/executor-key", genesis hash, account, key)`.
		BadKeyProof,
		/// Another executor has this key.
		KeyInUse,
		/// The executor was removed by the executor origin: it can only withdraw.
		ExecutorRemoved,
		/// Unbonding more than is bonded, or nothing.
		NotThatMuchBonded,
		/// `MaxUnlockingChunks` chunks are unlocking: withdraw, or unbond in a later block.
		TooManyUnlockChunks,
		/// No unlocking chunk is due yet (and the executor cannot leave: something is still
		/// bonded or unlocking, or it is on an open job).
		NothingToWithdraw,
		/// The executor already has that status.
		StatusUnchanged,
		/// The job does not exist, is not decided yet, was challenged already, or its challenge
		/// window closed (or it failed for too few commits or no committee: nothing was decided).
		NotChallengeable,
		/// Too few executors outside the first committee are drawable for a larger committee.
		CannotEscalate,
		/// The challenger cannot hold the bond and pay for the second round's upkeep.
		CannotPayBond,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_offchain_worker(now);
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::update_fee_multiplier(now);
			// Before any draw of this block: the previous block's reveals feed it.
			Self::mix_beacon();
			// The whitelisted multiplier: read here, and written here or by no one; the
			// entropy, read and removed, and the beacon, read and written.
			T::DbWeight::get()
				.reads_writes(3, 3)
				.saturating_add(Self::handle_due(now, T::MaxHookWeight::get()))
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
		fn integrity_test() {
			assert!(
				!T::CommitWindow::get().is_zero()
					&& !T::RevealWindow::get().is_zero()
					&& !T::RetentionPeriod::get().is_zero(),
				"jobs are due in a later block than the one that schedules them"
			);
			let heaviest = Pallet::<T>::entry_weight()
				.saturating_add(Pallet::<T>::deadline_weight(T::MaxCommittee::get()))
				.saturating_add(T::WeightInfo::on_initialize(0))
				.saturating_add(T::DbWeight::get().writes(1));
			assert!(
				heaviest.all_lte(T::MaxHookWeight::get()),
				"MaxHookWeight fits a resolution by MaxCommittee"
			);
			let max = T::MaxCommittee::get();
			// A second committee is drawn from itself and the first (smaller than it).
			let draw = Pallet::<T>::entry_weight()
				.saturating_add(Pallet::<T>::draw_weight(max.saturating_mul(2).saturating_sub(1)))
				.saturating_add(T::WeightInfo::on_initialize(0))
				.saturating_add(T::DbWeight::get().writes(1));
			assert!(
				draw.all_lte(T::MaxHookWeight::get()),
				"MaxHookWeight fits a second committee's draw"
			);
			let escalated = Pallet::<T>::entry_weight()
				.saturating_add(Pallet::<T>::deadline_weight(max))
				.saturating_add(Pallet::<T>::escalation_extra_weight(max))
				.saturating_add(T::WeightInfo::on_initialize(0))
				.saturating_add(T::DbWeight::get().writes(1));
			assert!(
				escalated.all_lte(T::MaxHookWeight::get()),
				"MaxHookWeight fits a second round's resolution by MaxCommittee"
			);
			assert!(
				T::ResourceFailureFee::get() <= T::ExecutorFee::get(),
				"a resource failure pays no more than a result"
			);
			assert!(
				T::MaxSeatsPerBlock::get() >= T::MaxCommittee::get(),
				"a block admits at least one job of the largest committee"
			);
			assert!(T::MaxFeeMultiplier::get() >= FixedU128::one(), "the multiplier can be one");
			assert!(T::MaxOpenPerExecutor::get() > 0, "an executor can be drawn");
			assert!(!T::MinBond::get().is_zero(), "executors have something at stake");
			assert!(
				T::UnbondingPeriod::get()
					> T::CommitWindow::get()
						.saturating_add(T::RevealWindow::get())
						.saturating_mul(2u32.into()),
				"unbonded funds answer for the jobs an executor is still on"
			);
			assert!(T::MaxUnlockingChunks::get() > 0, "an executor can unbond");
			assert!(!T::StandingHalfLife::get().is_zero(), "penalty points decay");
			assert!(
				T::UnbondingPeriod::get()
					> T::ChallengeWindow::get()
						.saturating_add(T::DrawDelay::get())
						.saturating_add(T::CommitWindow::get())
						.saturating_add(T::RevealWindow::get())
						.saturating_mul(2u32.into()),
				"a first committee's members are still bonded when a challenge settles"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submits an inference job: `inputs` for `model`, run by `committee_size` executors.
		/// Holds the fee (at most `max_fee`) from the caller, and the job's storage deposit
		/// ([`Pallet::job_deposit`], outside `max_fee`) until the job is pruned.
		///
		/// Each block admits jobs up to [`Config::MaxSeatsPerBlock`] committee seats and
		/// [`Config::MaxCpuMillisPerBlock`] of declared CPU time, so that every job the chain
		/// accepts can be served in time; past that, submissions are refused with
		/// [`Error::ChainBusy`], charged only what checking them cost (submit again in a later
		/// block).
		///
		/// The committee is drawn [`Config::DrawDelay`] blocks later ([`Event::CommitteeDrawn`]),
		/// from executors on fewer than [`Config::MaxOpenPerExecutor`] open jobs; if none can be
		/// drawn then, the job fails with [`FailureReason::NoCommittee`] and everything but its
		/// upkeep fee comes back.
		///
		/// Errors: [`Error::ModelNotFound`], [`Error::ModelNotRunnable`],
		/// [`Error::InvalidInputs`], [`Error::InputsTooLarge`], [`Error::InvalidCommitteeSize`],
		/// [`Error::NotEnoughExecutors`], [`Error::ChainBusy`], [`Error::FeeAboveMax`],
		/// [`Error::CannotPayFee`].
		///
		/// Events: [`Event::JobSubmitted`] ([`Event::CommitteeDrawn`] too when `DrawDelay` is 0).
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::submission_weight(*committee_size))]
		pub fn submit_job(
			origin: OriginFor<T>,
			model: ModelId,
			inputs: InputsOf,
			committee_size: u32,
			max_fee: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let requester = ensure_signed(origin)?;
			// A refused submission costs what its checks did (reading the minimum committee, the
			// model, the executors and the block's load; checking and encoding the inputs), not a
			// whole job.
			let refused_at = |weight: Weight, error: Error<T>| {
				polkadot_sdk::sp_runtime::DispatchErrorWithPostInfo {
					post_info: Some(weight).into(),
					error: error.into(),
				}
			};
			let refused = |error| refused_at(Self::refused_submission_weight(), error);
			ensure!(
				committee_size >= MinCommittee::<T>::get().max(1)
					&& committee_size <= T::MaxCommittee::get(),
				refused(Error::<T>::InvalidCommitteeSize)
			);
			let runnable = T::Models::runnable(&model).map_err(|e| match e {
				ModelUnavailable::NotFound => refused(Error::<T>::ModelNotFound),
				ModelUnavailable::NotRunnable => refused(Error::<T>::ModelNotRunnable),
			})?;
			let encoded: BoundedVec<u8, T::MaxInputBytes> =
				inputs.encode().try_into().map_err(|_| refused(Error::<T>::InputsTooLarge))?;
			validate_inputs(&runnable.inputs, &inputs, T::MaxInputBytes::get())
				.map_err(|_| refused(Error::<T>::InvalidInputs))?;
			ensure!(
				DrawableCount::<T>::get() >= committee_size,
				refused(Error::<T>::NotEnoughExecutors)
			);
			let now = frame_system::Pallet::<T>::block_number();
			let load = Self::admit(now, committee_size, runnable.limits.cpu_millis)
				.ok_or_else(|| refused(Error::<T>::ChainBusy))?;

			let job_id = NextJobId::<T>::get();
			let parent = frame_system::Pallet::<T>::parent_hash();
			// From here a refusal has also read, at most, the requester's holds.
			let refused = |error| {
				refused_at(
					Self::refused_submission_weight().saturating_add(T::DbWeight::get().reads(1)),
					error,
				)
			};
			let fee = Self::quote(runnable.fee, committee_size);
			ensure!(fee.total <= max_fee, refused(Error::<T>::FeeAboveMax));
			T::Currency::hold(&HoldReason::JobFee.into(), &requester, fee.total)
				.map_err(|_| refused(Error::<T>::CannotPayFee))?;
			let deposit = Self::job_deposit(encoded.len() as u32, committee_size);
			if !deposit.is_zero() {
				T::Currency::hold(&HoldReason::JobDeposit.into(), &requester, deposit)
					.map_err(|_| refused(Error::<T>::CannotPayFee))?;
				JobDeposits::<T>::insert(job_id, deposit);
			}
			Load::<T>::put((now, load));
			// Another fork has another parent at this height, or another job of this number:
			// either way another key. The committee is not part of it: it is drawn later, and
			// the key names what is computed, which does not depend on who computes it.
			let key = blake2_256(
				&(
					b"verity/job",
					parent,
					job_id,
					&requester,
					model,
					blake2_256(&encoded),
					runnable.output_decimals,
					committee_size,
				)
					.encode(),
			);
			JobsByRequester::<T>::insert(&requester, job_id, ());
			JobInputs::<T>::insert(job_id, encoded);
			NextJobId::<T>::put(job_id.saturating_add(1));
			let draw_at = now.saturating_add(T::DrawDelay::get());
			let mut job = Job {
				key,
				requester: requester.clone(),
				model: JobModel {
					id: model,
					owner: runnable.owner,
					output_decimals: runnable.output_decimals,
					tolerance: runnable.tolerance,
					limits: runnable.limits,
				},
				committee: Default::default(),
				commits: vec![None; committee_size as usize]
					.try_into()
					.map_err(|_| Error::<T>::InvalidCommitteeSize)?,
				reveals: Default::default(),
				fee,
				phase: Phase::Draw,
				due: draw_at,
				submitted_at: now,
				result: None,
			};
			Self::deposit_event(Event::JobSubmitted {
				job: job_id,
				key,
				model,
				requester,
				fee: fee.total,
				deposit,
				draw_at,
			});
			// At once, charged its worst case (`submission_weight`), when `DrawDelay` is 0.
			Self::draw_at(job_id, &mut job, None, draw_at, now);
			Jobs::<T>::insert(job_id, job);
			Ok(().into())
		}

		/// Commits `executor`'s result for each job of the batch.
		///
		/// Origin: none (an authorized general transaction: no fee, no nonce). `signature` is
		/// `signer`'s (the executor's inference key) over
		/// `("verity/commit", genesis hash, executor, signer, sent_at, commits)`. Each item names
		/// its job by number and key; its commitment is
		/// `blake2_256(result_hash ++ salt ++ executor ++ key)`.
		///
		/// `InvalidTransaction` (in the pool, before any job is read): `BadProof` for a
		/// signature that does not verify, `Future` for a `sent_at` past the current block,
		/// `BadSigner` when `signer` is not `executor`'s key or `executor` not on a committee,
		/// `Call` for an empty batch or one naming a job twice, `Stale` for a job that is gone,
		/// has another key (another fork's) or is past its commit phase. A batch provides one
		/// pool tag per item, `(commit, executor, key)`, and has priority `UnsignedPriority +
		/// sent_at`: sending an item again in a later block replaces the earlier sending, and
		/// re-signing it in the same block is refused.
		///
		/// Items that went stale since the pool checked them are skipped. Events:
		/// [`Event::Committed`], [`Event::RevealPhase`].
		#[pallet::call_index(1)]
		#[pallet::weight((T::WeightInfo::commit_results(commits.len() as u32), DispatchClass::Operational))]
		#[pallet::authorize(|_source, executor, signer, commits, sent_at, signature| {
			Pallet::<T>::authorize_batch(
				VoteKind::Commit,
				executor,
				signer,
				commits,
				*sent_at,
				signature,
				commits.iter().map(|c| (c.job, c.key)),
				T::MaxCommittee::get(),
			)
		})]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_batch(commits.len() as u32))]
		pub fn commit_results(
			origin: OriginFor<T>,
			executor: T::AccountId,
			signer: ExecutorId,
			commits: CommitsOf<T>,
			sent_at: BlockNumberFor<T>,
			signature: ExecutorSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let _ = (signer, sent_at, signature);
			let now = frame_system::Pallet::<T>::block_number();
			// Items applied, and those that opened the reveal phase.
			let (items, mut applied, mut opened) = (commits.len() as u32, 0u32, 0u32);
			for item in commits {
				// Items that went stale since authorization (another batch of the same member
				// in the same block, a phase change) are skipped, not allowed to void the rest.
				let Some(mut job) = Jobs::<T>::get(item.job).filter(|j| j.key == item.key) else {
					continue;
				};
				let Some(index) = job.committee.iter().position(|m| *m == executor) else {
					continue;
				};
				if job.phase != Phase::Commit || job.commits[index].is_some() {
					continue;
				}
				job.commits[index] = Some(item.commitment);
				applied += 1;
				Self::deposit_event(Event::Committed { job: item.job, executor: executor.clone() });
				if job.commits.iter().all(Option::is_some) {
					Self::open_reveal(item.job, &mut job, now);
					opened += 1;
				}
				Jobs::<T>::insert(item.job, job);
			}
			// Charged as if every item opened the reveal phase (one more write: its deadline).
			let weight = T::WeightInfo::commit_results(applied)
				.saturating_sub(T::DbWeight::get().writes((applied - opened).into()));
			Ok(Some(Self::batch_weight(weight, items - applied)).into())
		}

		/// Reveals `executor`'s results. Origin and signature as [`Pallet::commit_results`],
		/// over `("verity/reveal", genesis hash, executor, signer, sent_at, reveals,
		/// max_committee)`; the same `InvalidTransaction` reasons, for jobs in their reveal
		/// phase that `executor` committed to, and `Call` for a job whose committee is larger
		/// than `max_committee`. A reveal that does not match its commitment (or whose outcome
		/// does not hash to its result hash) is rejected and slashed ([`Offence::BadReveal`]).
		///
		/// `max_committee`, the largest committee among the batch's jobs, bounds the weight:
		/// each item may resolve its job ([`Pallet::reveal_weight`]).
		///
		/// Events: [`Event::Revealed`], [`Event::RevealRejected`], and those of resolution
		/// ([`Event::JobCompleted`], [`Event::JobFailed`], [`Event::Slashed`],
		/// [`Event::SlashRewarded`]).
		#[pallet::call_index(2)]
		#[pallet::weight((
			Pallet::<T>::reveal_weight(reveals.len() as u32, *max_committee),
			DispatchClass::Operational,
		))]
		#[pallet::authorize(Pallet::<T>::authorize_reveals)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_batch(reveals.len() as u32))]
		pub fn reveal_results(
			origin: OriginFor<T>,
			executor: T::AccountId,
			signer: ExecutorId,
			reveals: RevealsOf<T>,
			max_committee: u32,
			sent_at: BlockNumberFor<T>,
			signature: ExecutorSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let _ = (signer, sent_at, signature);
			let now = frame_system::Pallet::<T>::block_number();
			let items = reveals.len() as u32;
			// Items applied, the resolutions they set off, and what they bring the beacon.
			let (mut applied, mut resolutions, mut entropy) = (0u32, Weight::zero(), [0u8; 32]);
			for item in reveals {
				let job_id = item.job;
				// Stale items are skipped (see `commit_results`).
				let Some(mut job) = Jobs::<T>::get(job_id)
					.filter(|j| j.key == item.key && j.committee.len() as u32 <= max_committee)
				else {
					continue;
				};
				let Some(index) = job.committee.iter().position(|m| *m == executor) else {
					continue;
				};
				let Some(commitment) = job.commits[index] else { continue };
				if job.phase != Phase::Reveal || job.reveals[index] != RevealSlot::Pending {
					continue;
				}
				let expected = commitment_of(&item.result_hash, &item.salt, &executor, &job.key);
				let outcome_matches = item
					.outcome
					.as_ref()
					.is_none_or(|outcome| blake2_256(outcome) == item.result_hash);
				if expected == commitment && outcome_matches {
					let share =
						blake2_256(&(b"verity/entropy", item.salt, &executor, job.key).encode());
					entropy.iter_mut().zip(share).for_each(|(e, s)| *e ^= s);
					job.reveals[index] = RevealSlot::Revealed(Reveal {
						result_hash: item.result_hash,
						outcome: item.outcome,
					});
					Self::deposit_event(Event::Revealed {
						job: job_id,
						executor: executor.clone(),
					});
				} else {
					job.reveals[index] = RevealSlot::Rejected;
					Self::deposit_event(Event::RevealRejected {
						job: job_id,
						executor: executor.clone(),
					});
				}
				let all_in = job
					.commits
					.iter()
					.zip(job.reveals.iter())
					.all(|(commit, reveal)| commit.is_none() || *reveal != RevealSlot::Pending);
				applied += 1;
				if all_in && Escalations::<T>::contains_key(job_id) {
					// A challenged job's second round is resolved by `on_initialize`, whose work
					// the challenger paid for: at the next block.
					job.due = Self::schedule(now.saturating_add(One::one()), job_id);
					resolutions.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
				} else if all_in {
					// Its `Escalations` read, and the resolution.
					resolutions.saturating_accrue(T::DbWeight::get().reads(1));
					resolutions
						.saturating_accrue(T::WeightInfo::resolve(job.committee.len() as u32));
					resolutions.saturating_accrue(Self::resolve_first(job_id, &mut job, now));
				}
				Jobs::<T>::insert(job_id, job);
			}
			if entropy != [0u8; 32] {
				Entropy::<T>::mutate(|e| e.iter_mut().zip(entropy).for_each(|(e, s)| *e ^= s));
				resolutions.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
			}
			// Charged as if every item resolved a committee of `max_committee`; refunded to what
			// happened.
			let weight = T::WeightInfo::reveal_results(applied).saturating_add(resolutions);
			Ok(Some(Self::batch_weight(weight, items - applied)).into())
		}

		/// Removes an executor at once, in an emergency (a leaked key, a misbehaving
		/// machine): it is no longer drawn, its votes are refused from now on (committees it
		/// is on carry on without it), and its whole bond unbonds, held for the unbonding
		/// period like any other. Origin: `ExecutorOrigin`.
		///
		/// Errors: [`Error::NotExecutor`], [`Error::ExecutorRemoved`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove_executor())]
		pub fn remove_executor(origin: OriginFor<T>, executor: T::AccountId) -> DispatchResult {
			T::ExecutorOrigin::ensure_origin(origin)?;
			Self::do_remove(&executor)
		}

		/// Sets the smallest committee a job may ask for (1 to `MaxCommittee`); jobs already
		/// submitted keep theirs. Origin: `ExecutorOrigin`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_min_committee())]
		pub fn set_min_committee(origin: OriginFor<T>, size: u32) -> DispatchResult {
			T::ExecutorOrigin::ensure_origin(origin)?;
			ensure!(size >= 1 && size <= T::MaxCommittee::get(), Error::<T>::InvalidCommitteeSize);
			MinCommittee::<T>::put(size);
			Self::deposit_event(Event::MinCommitteeSet { size });
			Ok(())
		}
		/// Registers the caller as an executor with inference key `key`, holding `bond` (at
		/// least [`Config::MinBond`]) from its account. `proof` is `key`'s signature over
		/// [`Pallet::key_proof_payload`] (`("verity/executor-key", genesis hash, caller, key)`):
		/// only the holder of a key can register it. The executor is drawn into committees
		/// from the next submission on.
		///
		/// Errors: [`Error::AlreadyExecutor`], [`Error::BondBelowMinimum`],
		/// [`Error::TooManyExecutors`], [`Error::BadKeyProof`], [`Error::KeyInUse`],
		/// [`Error::CannotBond`]. Events: [`Event::ExecutorRegistered`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::register_executor())]
		pub fn register_executor(
			origin: OriginFor<T>,
			key: ExecutorId,
			bond: BalanceOf<T>,
			proof: ExecutorSignature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Executors::<T>::contains_key(&who), Error::<T>::AlreadyExecutor);
			Self::check_key(&who, &key, &proof)?;
			Self::do_register(&who, key, bond)
		}

		/// Bonds `amount` more (held from the caller's account).
		///
		/// Errors: [`Error::NotExecutor`], [`Error::ExecutorRemoved`], [`Error::CannotBond`].
		/// Events: [`Event::Bonded`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			Self::do_bond_extra(&ensure_signed(origin)?, amount)
		}

		/// Unbonds `amount` of the caller's bond: it stays held for
		/// [`Config::UnbondingPeriod`] blocks, then `withdraw_unbonded` releases it. Below
		/// `MinBond` the executor is no longer drawn.
		///
		/// Errors: [`Error::NotExecutor`], [`Error::NotThatMuchBonded`],
		/// [`Error::TooManyUnlockChunks`]. Events: [`Event::Unbonding`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			Self::do_unbond(&ensure_signed(origin)?, amount)
		}

		/// Releases the caller's unbonded funds whose unbonding period is over. An executor
		/// with nothing bonded or unlocking, on no open job, leaves the registry.
		///
		/// Errors: [`Error::NotExecutor`], [`Error::NothingToWithdraw`]. Events:
		/// [`Event::Withdrawn`], [`Event::ExecutorLeft`].
		#[pallet::call_index(9)]
		// And removing a leaving executor's standing.
		#[pallet::weight(T::WeightInfo::withdraw_unbonded().saturating_add(T::DbWeight::get().writes(1)))]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			Self::do_withdraw(&ensure_signed(origin)?).map(|_| ())
		}

		/// Replaces the caller's inference key with `key` (`proof` as in
		/// [`Pallet::register_executor`]). Votes signed with the old key are refused from the
		/// next block; commitments already sent stay valid, so rotate on the node that made
		/// them or after its open jobs are settled.
		///
		/// Errors: [`Error::NotExecutor`], [`Error::ExecutorRemoved`], [`Error::BadKeyProof`],
		/// [`Error::KeyInUse`]. Events: [`Event::KeyRotated`].
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::rotate_key())]
		pub fn rotate_key(
			origin: OriginFor<T>,
			key: ExecutorId,
			proof: ExecutorSignature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::check_key(&who, &key, &proof)?;
			Self::do_rotate_key(&who, key)
		}

		/// Stops the caller being drawn into committees (those it is on carry on, and its
		/// votes on them count).
		///
		/// Errors: [`Error::NotExecutor`], [`Error::ExecutorRemoved`],
		/// [`Error::StatusUnchanged`]. Events: [`Event::Chilled`].
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::chill())]
		pub fn chill(origin: OriginFor<T>) -> DispatchResult {
			Self::set_status(&ensure_signed(origin)?, ExecutorStatus::Chilled)
		}

		/// Has a chilled caller drawn again (while bonded at least `MinBond`).
		///
		/// Errors: [`Error::NotExecutor`], [`Error::ExecutorRemoved`],
		/// [`Error::StatusUnchanged`]. Events: [`Event::Resumed`].
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>) -> DispatchResult {
			Self::set_status(&ensure_signed(origin)?, ExecutorStatus::Active)
		}

		/// Starts leaving: chills the caller and unbonds all its bond. After the unbonding
		/// period, `withdraw_unbonded` releases it and removes the executor.
		///
		/// Errors: [`Error::NotExecutor`], [`Error::ExecutorRemoved`],
		/// [`Error::TooManyUnlockChunks`]. Events: [`Event::Chilled`], [`Event::Unbonding`].
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::leave())]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			Self::do_leave(&ensure_signed(origin)?)
		}

		/// Challenges the result of `job`, decided by its first committee, while its challenge
		/// window is open ([`Config::ChallengeWindow`]): holds [`Config::ChallengeBond`] from
		/// the caller and charges it the second round's upkeep fee; a committee of `2k + 1`
		/// (at most `MaxCommittee`) without the first's members is drawn `DrawDelay` blocks
		/// later and runs the job again. Its quorum is final; see [`crate::escalation`] for who
		/// is paid and slashed.
		///
		/// The second committee's seats and CPU time count against the block's admission bounds
		/// as a new job's would.
		///
		/// Errors: [`Error::NotChallengeable`], [`Error::CannotEscalate`], [`Error::ChainBusy`],
		/// [`Error::CannotPayBond`].
		///
		/// Events: [`Event::JobChallenged`] ([`Event::CommitteeDrawn`] too when `DrawDelay` is
		/// 0).
		#[pallet::call_index(14)]
		#[pallet::weight(Pallet::<T>::challenge_weight())]
		pub fn challenge(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let challenger = ensure_signed(origin)?;
			Self::do_challenge(challenger, job)
		}
	}

	impl<T: Config> Pallet<T> {
		/// The fee for a job on a model with `model_fee`, with a committee of `committee_size`,
		/// at the current fee multiplier.
		pub fn quote(model_fee: BalanceOf<T>, committee_size: u32) -> FeeQuote<BalanceOf<T>> {
			let multiplier = FeeMultiplier::<T>::get();
			let executor_fee = multiplier.saturating_mul_int(T::ExecutorFee::get());
			let base_fee = multiplier.saturating_mul_int(T::BaseFee::get());
			let resource_fee =
				multiplier.saturating_mul_int(T::ResourceFailureFee::get()).min(executor_fee);
			let upkeep_fee = T::WeightToFee::weight_to_fee(&Self::upkeep_weight(committee_size));
			let deadline_fee =
				T::WeightToFee::weight_to_fee(&Self::deadline_weight(committee_size));
			let deadline_held = deadline_fee.saturating_mul(2u32.into());
			let total = model_fee
				.saturating_add(executor_fee.saturating_mul(committee_size.into()))
				.saturating_add(base_fee)
				.saturating_add(upkeep_fee)
				.saturating_add(deadline_held);
			FeeQuote {
				model_fee,
				executor_fee,
				base_fee,
				resource_fee,
				upkeep_fee,
				deadline_fee,
				deadline_held,
				total,
			}
		}

		/// What `on_initialize` certainly does for a job of a committee of `k`: visit its
		/// deadline entries (commit, reveal, pruning) and prune it, and, when the draw is
		/// delayed, visit its draw entry and draw its committee.
		pub fn upkeep_weight(k: u32) -> Weight {
			let mut upkeep =
				Self::entry_weight().saturating_mul(2).saturating_add(Self::prune_weight());
			if !T::DrawDelay::get().is_zero() {
				upkeep = upkeep
					.saturating_add(Self::entry_weight())
					.saturating_add(Self::draw_weight(k));
			}
			if !T::ChallengeWindow::get().is_zero() {
				upkeep = upkeep
					.saturating_add(Self::entry_weight())
					.saturating_add(Self::finalize_weight());
			}
			upkeep
		}

		/// Pruning a finished job, beyond reading its entry: the benchmarked pruning, and
		/// finding it has no challenge window open.
		fn prune_weight() -> Weight {
			T::WeightInfo::prune(1)
				.saturating_sub(T::WeightInfo::prune(0))
				.saturating_add(T::DbWeight::get().reads(1))
		}

		/// The weight of `submit_job` for a committee of `k`: the benchmarked submission, and
		/// the draw when it happens there (`DrawDelay` 0).
		pub fn submission_weight(k: u32) -> Weight {
			let weight = T::WeightInfo::submit_job(k, T::MaxExecutors::get());
			if T::DrawDelay::get().is_zero() {
				weight.saturating_add(Self::draw_weight(k))
			} else {
				weight
			}
		}

		/// The most drawing a committee of `k` weighs: the benchmarked draw, the reads of the
		/// attempts after the first ([`DRAW_ATTEMPTS`]: a draw slot and a record per member and
		/// the draw's size), and, when no attempt gives a committee, failing the job (bounded
		/// by resolving a job of one).
		pub fn draw_weight(k: u32) -> Weight {
			let retries = u64::from(DRAW_ATTEMPTS - 1) * (2 * u64::from(k) + 1);
			// Each member's standing on every attempt but the last.
			let standings = u64::from(DRAW_ATTEMPTS - 1) * u64::from(k);
			// And whether it is a challenged job's second committee.
			T::WeightInfo::draw(k, T::MaxExecutors::get())
				.saturating_add(
					T::DbWeight::get().reads(retries.saturating_add(standings).saturating_add(1)),
				)
				.saturating_add(T::WeightInfo::resolve(1))
		}

		/// The block's load with a job of `seats` and `cpu_millis` added, if it stays within
		/// the bounds.
		pub(crate) fn admit(
			now: BlockNumberFor<T>,
			seats: u32,
			cpu_millis: u32,
		) -> Option<BlockLoad> {
			let mut load = match Load::<T>::get() {
				Some((block, load)) if block == now => load,
				_ => BlockLoad::default(),
			};
			load.seats = load.seats.checked_add(seats)?;
			load.cpu_millis = load.cpu_millis.checked_add(cpu_millis.into())?;
			(load.seats <= T::MaxSeatsPerBlock::get()
				&& load.cpu_millis <= T::MaxCpuMillisPerBlock::get())
			.then_some(load)
		}

		/// How full the previous block's admission was, as the larger of its two shares.
		fn fill(now: BlockNumberFor<T>) -> FixedU128 {
			match Load::<T>::get() {
				Some((block, load)) if block.saturating_add(One::one()) == now => {
					let seats = FixedU128::saturating_from_rational(
						load.seats,
						T::MaxSeatsPerBlock::get().max(1),
					);
					let cpu = FixedU128::saturating_from_rational(
						load.cpu_millis,
						T::MaxCpuMillisPerBlock::get().max(1),
					);
					seats.max(cpu)
				},
				_ => FixedU128::zero(),
			}
		}

		/// Moves the fee multiplier by the previous block's fill: `m × (1 + (fill − ½) / 4)`,
		/// so up to an eighth per block when full and down as much when empty, kept within one
		/// and [`Config::MaxFeeMultiplier`].
		pub(crate) fn update_fee_multiplier(now: BlockNumberFor<T>) {
			let fill = Self::fill(now);
			let half = FixedU128::saturating_from_rational(1, 2);
			let quarter = FixedU128::saturating_from_rational(1, 4);
			let old = FeeMultiplier::<T>::get();
			let new = if fill >= half {
				old.saturating_add(old.saturating_mul((fill - half).saturating_mul(quarter)))
			} else {
				old.saturating_sub(old.saturating_mul((half - fill).saturating_mul(quarter)))
			}
			.clamp(FixedU128::one(), T::MaxFeeMultiplier::get());
			if new != old {
				FeeMultiplier::<T>::put(new);
			}
		}

		/// A job as the runtime API shows it.
		pub fn job_info(
			id: JobId,
		) -> Option<JobInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
			let job = Jobs::<T>::get(id)?;
			let result = job.result.clone();
			let challenge_until = Challengeable::<T>::get(id);
			Some(JobInfo {
				id,
				key: job.key,
				requester: job.requester,
				model: job.model.id,
				inputs: JobInputs::<T>::get(id).map(BoundedVec::into_inner).unwrap_or_default(),
				committee: job.committee.into_inner(),
				commits: job.commits.iter().map(Option::is_some).collect(),
				reveals: job
					.reveals
					.iter()
					.map(|r| match r {
						RevealSlot::Pending => None,
						RevealSlot::Revealed(_) => Some(true),
						RevealSlot::Rejected => Some(false),
					})
					.collect(),
				fee: job.fee,
				phase: job.phase,
				due: job.due,
				submitted_at: job.submitted_at,
				result_hash: result.as_ref().and_then(|r| r.result_hash),
				outcome: result.as_ref().and_then(|r| r.outcome.clone().map(|o| o.into_inner())),
				failure: result.and_then(|r| r.failure),
				is_final: matches!(job.phase, Phase::Completed | Phase::Failed)
					&& challenge_until.is_none(),
				challenge_until,
				first_committee: Escalations::<T>::get(id)
					.map(|e| e.committee.into_inner())
					.unwrap_or_default(),
			})
		}

		/// The invariants: every requester's held job fees are exactly what its open jobs owe,
		/// and every open job is due at a block that has it in its queue.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			use frame_support::traits::fungible::InspectHold;
			// Per requester: the fees its open jobs hold, and the deposits its stored jobs hold.
			let mut owed: alloc::collections::BTreeMap<T::AccountId, (BalanceOf<T>, BalanceOf<T>)> =
				Default::default();
			for (id, job) in Jobs::<T>::iter() {
				let (fees, deposits) = owed.entry(job.requester.clone()).or_default();
				deposits.saturating_accrue(JobDeposits::<T>::get(id).unwrap_or_default());
				if matches!(job.phase, Phase::Draw | Phase::Commit | Phase::Reveal) {
					fees.saturating_accrue(job.fee.total);
					ensure!(Due::<T>::contains_key(job.due, id), "an open job has no deadline");
				}
			}
			for (requester, _) in JobsByRequester::<T>::iter_keys() {
				let (fees, deposits) = owed.get(&requester).copied().unwrap_or_default();
				let held =
					|reason: HoldReason| T::Currency::balance_on_hold(&reason.into(), &requester);
				ensure!(
					held(HoldReason::JobFee) == fees,
					"held job fees differ from what open jobs owe"
				);
				ensure!(
					held(HoldReason::JobDeposit) == deposits,
					"held deposits differ from the stored jobs'"
				);
			}
			ensure!(
				JobDeposits::<T>::iter_keys().all(Jobs::<T>::contains_key),
				"a deposit outlives its job"
			);
			// Per challenger: the bonds of its open challenges.
			let mut bonds: alloc::collections::BTreeMap<T::AccountId, BalanceOf<T>> =
				Default::default();
			for (id, escalation) in Escalations::<T>::iter() {
				let open = Jobs::<T>::get(id).map(|job| job.phase);
				ensure!(
					matches!(open, Some(Phase::Draw | Phase::Commit | Phase::Reveal)),
					"a challenge outlives its second round"
				);
				bonds.entry(escalation.challenger).or_default().saturating_accrue(escalation.bond);
			}
			for (challenger, bond) in bonds {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ChallengeBond.into(), &challenger)
						== bond,
					"held challenge bonds differ from the open challenges'"
				);
			}
			for (id, until) in Challengeable::<T>::iter() {
				let job = Jobs::<T>::get(id).ok_or("a challenge window outlives its job")?;
				ensure!(
					matches!(job.phase, Phase::Completed | Phase::Failed) && job.due == until,
					"a challenge window is open on an undecided job"
				);
				ensure!(Due::<T>::contains_key(until, id), "a challenge window never closes");
			}
			ensure!(
				Standings::<T>::iter_keys().all(Executors::<T>::contains_key),
				"a standing outlives its executor"
			);
			for (member, stats) in Stats::<T>::iter() {
				let settled = stats.settled();
				ensure!(
					settled <= stats.assigned as u64,
					"an executor settled more jobs than drawn"
				);
				let open = PendingByExecutor::<T>::iter_key_prefix(&member).count() as u64;
				ensure!(
					open == stats.assigned as u64 - settled,
					"an executor's open jobs differ from its record"
				);
			}
			Self::executors_try_state()
		}

		/// The jobs `requester` submitted (until pruned).
		pub fn jobs_by_requester(requester: T::AccountId) -> Vec<JobId> {
			JobsByRequester::<T>::iter_key_prefix(requester).collect()
		}

		/// The open jobs on whose committee `executor` sits.
		pub fn pending_for_executor(executor: T::AccountId) -> Vec<JobId> {
			PendingByExecutor::<T>::iter_key_prefix(executor).collect()
		}

		/// The fee estimate of the runtime API.
		pub fn fee_estimate(model: ModelId, committee_size: u32) -> Option<BalanceOf<T>> {
			let runnable = T::Models::runnable(&model).ok()?;
			Some(Self::quote(runnable.fee, committee_size).total)
		}

		/// Handles the jobs due by `now`, oldest first, spending at most `limit`; the weight
		/// spent.
		pub(crate) fn handle_due(now: BlockNumberFor<T>, limit: Weight) -> Weight {
			// The backlog and the first queue looked into are spent; its update is kept room for.
			let update = T::DbWeight::get().writes(1);
			let mut meter = WeightMeter::with_consumed_and_limit(
				T::WeightInfo::on_initialize(0),
				limit.saturating_sub(update),
			);
			let backlog = DueBacklog::<T>::get();
			let mut block = backlog.unwrap_or(now);
			let left = loop {
				if !Self::advance_due(block, now, &mut meter) {
					break Some(block);
				}
				if block >= now {
					break None;
				}
				block = block.saturating_add(1u32.into());
				if meter.try_consume(T::DbWeight::get().reads(1)).is_err() {
					break Some(block);
				}
			};
			let mut spent = meter.consumed();
			if left != backlog {
				spent.saturating_accrue(update);
				match left {
					Some(block) => DueBacklog::<T>::put(block),
					None => DueBacklog::<T>::kill(),
				}
			}
			spent
		}

		/// Makes `job` due at `at`; returns `at`.
		pub(crate) fn schedule(at: BlockNumberFor<T>, job: JobId) -> BlockNumberFor<T> {
			Due::<T>::insert(at, job, ());
			at
		}

		/// The storage deposit of a job of a committee of `k` whose SCALE-encoded inputs are
		/// `bytes` long: the base, and the price of every byte it may store (its inputs, and an
		/// outcome of `MaxOutputBytes` in each member's reveal and in the result).
		pub fn job_deposit(bytes: u32, k: u32) -> BalanceOf<T> {
			let outcomes = k.saturating_add(1).saturating_mul(T::MaxOutputBytes::get());
			let stored = bytes.saturating_add(outcomes);
			T::JobDepositBase::get()
				.saturating_add(T::JobDepositPerByte::get().saturating_mul(stored.into()))
		}

		/// What a refused `submit_job` is charged: seven reads and 0.1 ms for checking the inputs.
		pub fn refused_submission_weight() -> Weight {
			T::DbWeight::get().reads(7).saturating_add(Weight::from_parts(100_000_000, 0))
		}

		/// The most resolving a job of a committee of `k` weighs: the benchmarked resolution (a
		/// completed job, its model told so), the registry's bookkeeping of a resource failure
		/// ([`Pallet::resource_failure_weight`]), and a slash or a reward for each member (a
		/// member is slashed, or rewarded for being right, or neither).
		pub fn resolution_weight(k: u32) -> Weight {
			T::WeightInfo::resolve(k)
				.saturating_add(Self::resource_failure_weight())
				.saturating_add(Self::slash_weight().saturating_mul(k.into()))
		}

		/// The most moving a job of a committee of `k` on at a deadline weighs: its resolution,
		/// and taking its deadline fee (one more payment from the requester's hold, bounded by
		/// what one more member's settlement costs).
		pub fn deadline_weight(k: u32) -> Weight {
			Self::resolution_weight(k)
				.saturating_add(
					T::WeightInfo::resolve(k.saturating_add(1))
						.saturating_sub(T::WeightInfo::resolve(k)),
				)
				// Whether it is a challenged job's second round.
				.saturating_add(T::DbWeight::get().reads(1))
		}

		/// What a resource failure costs the registry beyond a completed job: counting it, and
		/// perhaps deprecating the model (two reads and two writes).
		pub fn resource_failure_weight() -> Weight {
			T::DbWeight::get().reads_writes(2, 2)
		}

		/// The most a reveal batch of `items` can weigh whose jobs' committees are at most
		/// `max_committee`: every item resolving its job, and the batch's entropy added to the
		/// block's.
		pub fn reveal_weight(items: u32, max_committee: u32) -> Weight {
			let k = max_committee.min(T::MaxCommittee::get());
			// And whether it is a second round (resolved by `on_initialize` instead).
			let resolution = Self::resolution_weight(k).saturating_add(T::DbWeight::get().reads(1));
			T::WeightInfo::reveal_results(items)
				.saturating_add(resolution.saturating_mul(items.into()))
				.saturating_add(T::DbWeight::get().reads_writes(1, 1))
		}

		/// What `on_initialize` spends on every entry it reaches: finding it, reading its job,
		/// removing it.
		pub(crate) fn entry_weight() -> Weight {
			T::WeightInfo::on_initialize(1).saturating_sub(T::WeightInfo::on_initialize(0))
		}

		/// The weight of a batch of which `skipped` items were stale: the applied items' weight
		/// and one job read for each skipped one (charged up front for all, refunded to this).
		fn batch_weight(applied: Weight, skipped: u32) -> Weight {
			applied.saturating_add(T::DbWeight::get().reads(skipped.into()))
		}

		/// Checks an authorized batch of `kind`: first its signature by `signer` over
		/// `(kind tag, genesis hash, executor, signer, sent_at, items)` (the genesis hash is the
		/// only storage read before it), then that `signer` is `executor`'s key, then each job:
		/// present under its key, in the phase `kind` votes in, with `executor` on its committee
		/// and not done yet, with a committee of at most `max_committee`. Provides one tag per
		/// item (see [`Pallet::commit_results`]).
		#[allow(clippy::too_many_arguments)]
		pub fn authorize_batch<Items: Encode>(
			kind: VoteKind,
			executor: &T::AccountId,
			signer: &ExecutorId,
			items: &Items,
			sent_at: BlockNumberFor<T>,
			signature: &ExecutorSignature,
			jobs: impl Iterator<Item = (JobId, JobKey)>,
			max_committee: u32,
		) -> TransactionValidityWithRefund {
			let payload = Self::vote_payload(kind, executor, signer, sent_at, items);
			if !signer.verify(&payload, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			let now = frame_system::Pallet::<T>::block_number();
			if sent_at > now {
				return Err(InvalidTransaction::Future.into());
			}
			if ExecutorOfKey::<T>::get(signer).as_ref() != Some(executor) {
				return Err(InvalidTransaction::BadSigner.into());
			}
			let jobs: Vec<(JobId, JobKey)> = jobs.collect();
			if jobs.is_empty()
				|| (1..jobs.len()).any(|i| jobs[..i].iter().any(|j| j.0 == jobs[i].0))
			{
				return Err(InvalidTransaction::Call.into());
			}
			let phase = match kind {
				VoteKind::Commit => Phase::Commit,
				VoteKind::Reveal => Phase::Reveal,
			};
			for (job_id, key) in &jobs {
				let job = Jobs::<T>::get(job_id)
					.filter(|job| job.key == *key)
					.ok_or(InvalidTransaction::Stale)?;
				if job.phase != phase {
					return Err(InvalidTransaction::Stale.into());
				}
				if job.committee.len() as u32 > max_committee {
					return Err(InvalidTransaction::Call.into());
				}
				let index = job
					.committee
					.iter()
					.position(|m| m == executor)
					.ok_or(InvalidTransaction::BadSigner)?;
				let done = match phase {
					Phase::Commit => job.commits[index].is_some(),
					_ => job.commits[index].is_none() || job.reveals[index] != RevealSlot::Pending,
				};
				if done {
					return Err(InvalidTransaction::Stale.into());
				}
			}
			let window: u64 = match phase {
				Phase::Commit => T::CommitWindow::get(),
				_ => T::RevealWindow::get(),
			}
			.try_into()
			.unwrap_or(u64::MAX);
			let mut valid = ValidTransaction::with_tag_prefix("VerityInference")
				// Sent again in a later block, an item replaces its earlier sending.
				.priority(T::UnsignedPriority::get().saturating_add(sent_at.saturated_into()))
				.longevity(window.max(1))
				.propagate(true);
			for (_, key) in &jobs {
				valid = valid.and_provides((kind.tag(), executor, key));
			}
			valid.build().map(|valid| (valid, Weight::zero()))
		}

		/// Authorizes a [`Pallet::reveal_results`] batch: [`Pallet::authorize_batch`] over the
		/// reveals and the batch's largest committee.
		fn authorize_reveals(
			_source: TransactionSource,
			executor: &T::AccountId,
			signer: &ExecutorId,
			reveals: &RevealsOf<T>,
			max_committee: &u32,
			sent_at: &BlockNumberFor<T>,
			signature: &ExecutorSignature,
		) -> TransactionValidityWithRefund {
			Self::authorize_batch(
				VoteKind::Reveal,
				executor,
				signer,
				&(reveals, *max_committee),
				*sent_at,
				signature,
				reveals.iter().map(|r| (r.job, r.key)),
				*max_committee,
			)
		}

		/// What an executor signs for a batch of `kind`.
		pub fn vote_payload<Items: Encode>(
			kind: VoteKind,
			executor: &T::AccountId,
			signer: &ExecutorId,
			sent_at: BlockNumberFor<T>,
			items: &Items,
		) -> Vec<u8> {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			(kind.tag(), genesis, executor, signer, sent_at, items).encode()
		}

		/// Handles the jobs due at `block` (`now` or before) while `meter` has room for them;
		/// whether all were handled. Each entry is charged for what it did.
		fn advance_due(
			block: BlockNumberFor<T>,
			now: BlockNumberFor<T>,
			meter: &mut WeightMeter,
		) -> bool {
			let entry = Self::entry_weight();
			for job_id in Due::<T>::iter_key_prefix(block) {
				if meter.try_consume(entry).is_err() {
					return false;
				}
				let job = Jobs::<T>::get(job_id).filter(|job| job.due == block);
				let job = match job {
					Some(mut job) if job.phase == Phase::Draw => {
						// Room for the worst case (a second committee is drawn from `k2 + k1`);
						// charged what it did.
						let escalation = Escalations::<T>::get(job_id);
						let first = escalation.as_ref().map_or(0, |e| e.committee.len());
						let size = job.commits.len().saturating_add(first) as u32;
						if !meter.can_consume(Self::draw_weight(size)) {
							return false;
						}
						Due::<T>::remove(block, job_id);
						meter.consume(Self::draw(job_id, &mut job, escalation, now));
						Jobs::<T>::insert(job_id, job);
						continue;
					},
					other => other,
				};
				let work = match &job {
					// Moved on early: nothing left to do.
					None => Weight::zero(),
					Some(job) if matches!(job.phase, Phase::Completed | Phase::Failed) => {
						if Challengeable::<T>::contains_key(job_id) {
							Self::finalize_weight()
						} else {
							Self::prune_weight().saturating_sub(entry)
						}
					},
					// Opening the reveal phase or failing weighs less than resolving.
					Some(job) => {
						let k = job.committee.len() as u32;
						let weight = Self::deadline_weight(k);
						if Escalations::<T>::contains_key(job_id) {
							weight.saturating_add(Self::escalation_extra_weight(k))
						} else {
							weight
						}
					},
				};
				if meter.try_consume(work).is_err() {
					return false;
				}
				Due::<T>::remove(block, job_id);
				if let Some(job) = job {
					Self::advance(job_id, job, now);
				}
			}
			true
		}

		/// Moves a due job on: commit → reveal (or failure), reveal → resolution, finished →
		/// pruned.
		fn advance(job_id: JobId, mut job: Job<T>, now: BlockNumberFor<T>) {
			match job.phase {
				Phase::Draw => {
					let _ = Self::draw(job_id, &mut job, Escalations::<T>::get(job_id), now);
					Jobs::<T>::insert(job_id, job);
				},
				Phase::Commit => {
					Self::take_deadline_fee(&mut job);
					let committed = job.commits.iter().filter(|c| c.is_some()).count() as u32;
					if committed >= quorum(job.committee.len() as u32) {
						Self::open_reveal(job_id, &mut job, now);
					} else if let Some(escalation) = Escalations::<T>::take(job_id) {
						let _ = Self::abandon_escalation(job_id, &mut job, escalation, now);
					} else {
						// Charged its worst case before (`advance_due`).
						let _ =
							Self::fail(job_id, &mut job, FailureReason::NotEnoughCommits, &[], now);
					}
					Jobs::<T>::insert(job_id, job);
				},
				Phase::Reveal => {
					Self::take_deadline_fee(&mut job);
					// Charged its worst case before (`advance_due`).
					let _ = Self::resolve(job_id, &mut job, now);
					Jobs::<T>::insert(job_id, job);
				},
				Phase::Completed | Phase::Failed if Challengeable::<T>::take(job_id).is_some() => {
					Self::finalize(job_id, &mut job, now);
					Jobs::<T>::insert(job_id, job);
				},
				Phase::Completed | Phase::Failed => {
					Jobs::<T>::remove(job_id);
					JobInputs::<T>::remove(job_id);
					if let Some(deposit) = JobDeposits::<T>::take(job_id) {
						let reason = HoldReason::JobDeposit.into();
						if T::Currency::release(&reason, &job.requester, deposit, Precision::Exact)
							.is_err()
						{
							defensive!("a job's deposit stays held until it is pruned");
						}
					}
					JobsByRequester::<T>::remove(&job.requester, job_id);
					Self::deposit_event(Event::JobPruned { job: job_id });
				},
			}
		}

		/// The fee collector takes one of the job's held deadline fees: `on_initialize` is
		/// moving it on.
		fn take_deadline_fee(job: &mut Job<T>) {
			let fee = job.fee.deadline_fee.min(job.fee.deadline_held);
			Self::pay(&job.requester, &T::FeeCollector::get(), fee);
			job.fee.deadline_held = job.fee.deadline_held.saturating_sub(fee);
			job.fee.total = job.fee.total.saturating_sub(fee);
		}

		fn open_reveal(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) {
			job.phase = Phase::Reveal;
			job.due = Self::schedule(now.saturating_add(T::RevealWindow::get()), job_id);
			Self::deposit_event(Event::RevealPhase { job: job_id, due: job.due });
		}

		/// Decides a job from its reveals, pays and refunds, slashes, and opens its challenge
		/// window (or, for a challenged job's second round, settles the challenge: see
		/// [`crate::escalation`]). Returns the weight it took beyond the benchmarked resolution
		/// (a resource failure's, and its slashes and rewards).
		pub(crate) fn resolve(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) -> Weight {
			match Escalations::<T>::take(job_id) {
				Some(escalation) => Self::resolve_escalation(job_id, job, escalation, now),
				None => Self::resolve_first(job_id, job, now),
			}
		}

		/// [`Pallet::resolve`] for a job that was not challenged: decided by its first
		/// committee, settled at once.
		fn resolve_first(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) -> Weight {
			let Some((agreeing, reveal)) = decide::<T>(&job.reveals, job.model.tolerance) else {
				return Self::fail(job_id, job, FailureReason::NoQuorum, &[], now);
			};
			let failure =
				reveal.outcome.as_ref().and_then(|bytes| match Outcome::decode(&mut &bytes[..]) {
					Ok(Outcome::Failure(code)) => Some(code),
					_ => None,
				});
			if let Some(code) = failure {
				T::Models::job_settled(&job.model.id, code.is_resource_failure());
				let settled = Self::fail(job_id, job, FailureReason::of(code), &agreeing, now);
				return if code.is_resource_failure() {
					settled.saturating_add(Self::resource_failure_weight())
				} else {
					settled
				};
			}

			T::Models::job_settled(&job.model.id, false);
			let settled = Self::settle(job_id, job, &agreeing, Settlement::Completed);
			Self::complete(job_id, job, reveal);
			Self::finish(job_id, job, now);
			settled
		}

		/// Records `reveal` as the job's result: [`Phase::Completed`], [`Event::JobCompleted`].
		pub(crate) fn complete(job_id: JobId, job: &mut Job<T>, reveal: Reveal<T::MaxOutputBytes>) {
			job.phase = Phase::Completed;
			job.result = Some(JobResult {
				result_hash: Some(reveal.result_hash),
				outcome: reveal.outcome.clone(),
				failure: None,
			});
			Self::deposit_event(Event::JobCompleted {
				job: job_id,
				result_hash: reveal.result_hash,
				output: reveal.outcome.map(|o| o.into_inner()),
			});
		}

		/// Fails a job, settling it: `agreeing` is the quorum on an error outcome (empty when
		/// there is none). Returns the weight of its slashes and rewards.
		pub(crate) fn fail(
			job_id: JobId,
			job: &mut Job<T>,
			reason: FailureReason,
			agreeing: &[usize],
			now: BlockNumberFor<T>,
		) -> Weight {
			let settlement = match reason {
				FailureReason::Resources(_) => Settlement::ResourceFailure,
				_ => Settlement::Failed,
			};
			let settled = Self::settle(job_id, job, agreeing, settlement);
			job.phase = Phase::Failed;
			let result_hash = agreeing.first().and_then(|i| match &job.reveals[*i] {
				RevealSlot::Revealed(r) => Some(r.result_hash),
				_ => None,
			});
			job.result = Some(JobResult { result_hash, outcome: None, failure: Some(reason) });
			Self::deposit_event(Event::JobFailed { job: job_id, reason });
			Self::finish(job_id, job, now);
			settled
		}

		/// Pays and refunds a job's held fee (see the table in the crate docs), slashes the
		/// members whose offences the job proves (see [`Offence`]) and rewards the agreeing
		/// members from it, and records each member's stats. `agreeing` is the quorum on the
		/// result or the error outcome, or empty. Returns the weight of the slashes and rewards
		/// it tried (each at most `WeightInfo::slash`).
		fn settle(
			job_id: JobId,
			job: &Job<T>,
			agreeing: &[usize],
			settlement: Settlement,
		) -> Weight {
			let fee = job.fee;
			// `agreeing` are members of the committee: never more of them than seats (one
			// commit slot each, drawn or not).
			let others = (job.commits.len().saturating_sub(agreeing.len())) as u32;
			let mut refund = fee.executor_fee.saturating_mul(others.into());
			let member_fee = match settlement {
				Settlement::ResourceFailure => {
					// The rest of each agreeing member's executor fee goes back.
					let kept = fee.executor_fee.saturating_sub(fee.resource_fee);
					refund =
						refund.saturating_add(kept.saturating_mul((agreeing.len() as u32).into()));
					fee.resource_fee
				},
				_ => fee.executor_fee,
			};
			if settlement == Settlement::Completed {
				Self::pay(&job.requester, &job.model.owner, fee.model_fee);
			} else {
				refund = refund.saturating_add(fee.model_fee);
			}
			// The hook's work: its upkeep is kept whatever the outcome, deadline fees it did
			// not take come back. One payment to the fee collector, one refund.
			let mut collected = fee.upkeep_fee;
			if agreeing.is_empty() {
				refund = refund.saturating_add(fee.base_fee);
			} else {
				collected = collected.saturating_add(fee.base_fee);
			}
			Self::pay(&job.requester, &T::FeeCollector::get(), collected);
			refund = refund.saturating_add(fee.deadline_held);
			// A miss is proven only when the others settled the job in time with a result or
			// an execution error: it could be run and voted on in its windows.
			let misses_proven = !agreeing.is_empty() && settlement != Settlement::ResourceFailure;
			let (mut slashed, mut slashes) = (BalanceOf::<T>::zero(), 0u32);
			for (i, member) in job.committee.iter().enumerate() {
				PendingByExecutor::<T>::remove(member, job_id);
				let agreed = agreeing.contains(&i);
				if agreed {
					Self::pay(&job.requester, member, member_fee);
				}
				// A member that committed in time, on a job failed for too few commits, missed
				// nothing: the job is void for it.
				let committed_in_time = job.phase == Phase::Commit && job.commits[i].is_some();
				let offence = match (&job.reveals[i], agreed) {
					(RevealSlot::Rejected, _) => Some(Offence::BadReveal),
					(RevealSlot::Pending, false) if !committed_in_time && misses_proven => {
						Some(Offence::Missed)
					},
					_ => None,
				};
				// Each attempt is charged, whether or not it found anything to take.
				slashes.saturating_accrue(offence.is_some() as u32);
				let taken = offence.and_then(|offence| Self::slash(member, job_id, offence));
				if let Some(to_treasury) = taken {
					slashed = slashed.saturating_add(to_treasury);
				}
				Stats::<T>::mutate(member, |s| {
					match (&job.reveals[i], agreed) {
						(_, true) => s.agreed.saturating_inc(),
						(RevealSlot::Revealed(_) | RevealSlot::Rejected, false) => {
							s.disagreed.saturating_inc()
						},
						(RevealSlot::Pending, false) if committed_in_time => {
							s.voided.saturating_inc()
						},
						(RevealSlot::Pending, false) => s.missed.saturating_inc(),
					}
					if taken.is_some() {
						s.slashed.saturating_inc();
					}
				});
			}
			Self::refund(&job.requester, refund);
			let rewards = Self::reward(job_id, job, agreeing, slashed);
			Self::slash_weight().saturating_mul(slashes.saturating_add(rewards).into())
		}

		/// A first committee decided the job: opens its challenge window, or, when there is
		/// none or nothing was decided (too few commits, no committee), makes it final.
		fn finish(job_id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) {
			let window = T::ChallengeWindow::get();
			let decided = !matches!(
				job.result.as_ref().and_then(|r| r.failure),
				Some(FailureReason::NotEnoughCommits | FailureReason::NoCommittee)
			);
			if decided && !window.is_zero() {
				let until = Self::schedule(now.saturating_add(window), job_id);
				Challengeable::<T>::insert(job_id, until);
				job.due = until;
			} else {
				Self::finalize(job_id, job, now);
			}
		}

		/// Moves `amount` of the requester's held fee to `to`; back to the requester if `to`
		/// cannot take it.
		fn pay(requester: &T::AccountId, to: &T::AccountId, amount: BalanceOf<T>) {
			if amount.is_zero() {
				return;
			}
			let moved = T::Currency::transfer_on_hold(
				&HoldReason::JobFee.into(),
				requester,
				to,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			);
			if moved.is_err() {
				Self::refund(requester, amount);
			}
		}

		fn refund(requester: &T::AccountId, amount: BalanceOf<T>) {
			if amount.is_zero() {
				return;
			}
			if T::Currency::release(&HoldReason::JobFee.into(), requester, amount, Precision::Exact)
				.is_err()
			{
				defensive!("a job's fee stays held until it is settled");
			}
		}
	}

	/// How a job's fee is settled.
	#[derive(Clone, Copy, PartialEq, Eq, Debug)]
	enum Settlement {
		/// A quorum accepted a result.
		Completed,
		/// A quorum agreed on an error outcome (or there was none).
		Failed,
		/// A quorum agreed the job ran out of its model's resources.
		ResourceFailure,
	}

	/// The commitment to `result_hash` with `salt` by `executor` for the job of `key`.
	pub fn commitment_of<AccountId: Encode>(
		result_hash: &[u8; 32],
		salt: &[u8; 32],
		executor: &AccountId,
		key: &JobKey,
	) -> Commitment {
		blake2_256(&(result_hash, salt, executor, key).encode())
	}

	impl<T: Config> polkadot_sdk::sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
		type Public = ExecutorId;
	}

	/// The inference key is one of a validator's session keys, so that `author_rotateKeys`
	/// makes it with the others; a session change does nothing here, since executors register
	/// and bond on their own ([`Pallet::register_executor`]), validators or not.
	impl<T: Config> frame_support::traits::OneSessionHandler<T::AccountId> for Pallet<T> {
		type Key = ExecutorId;

		fn on_genesis_session<'a, I>(_validators: I)
		where
			I: Iterator<Item = (&'a T::AccountId, ExecutorId)> + 'a,
		{
		}

		fn on_new_session<'a, I>(_changed: bool, _validators: I, _queued: I)
		where
			I: Iterator<Item = (&'a T::AccountId, ExecutorId)> + 'a,
		{
		}

		fn on_disabled(_validator_index: u32) {}
	}

	/// The quorum of a committee's `reveals` (one slot per seat) for a model of `tolerance`: a
	/// quorum of equal result hashes or, failing that, of revealed outcomes within the
	/// tolerance. Its members, and the reveal of one of them that carried the outcome's bytes
	/// (every member of a hash quorum revealed the same hash, so any one's bytes are the
	/// outcome; taking them from one that carried them means a member revealing the hash alone
	/// cannot turn a quorum on a failure into a completion). `None` without a quorum.
	pub(crate) fn decide<T: Config>(
		reveals: &[RevealSlot<T::MaxOutputBytes>],
		tolerance: u64,
	) -> Option<(Vec<usize>, Reveal<T::MaxOutputBytes>)> {
		let q = quorum(reveals.len() as u32) as usize;
		let revealed: Vec<(usize, &Reveal<T::MaxOutputBytes>)> = reveals
			.iter()
			.enumerate()
			.filter_map(|(i, slot)| match slot {
				RevealSlot::Revealed(r) => Some((i, r)),
				_ => None,
			})
			.collect();
		let by_hash = largest_group(&revealed, |a, b| a.result_hash == b.result_hash)
			.filter(|(_, group)| group.len() >= q);
		let (chosen, agreeing) = by_hash.or_else(|| {
			let outcomes: Vec<(usize, Outcome)> = revealed
				.iter()
				.filter_map(|(i, r)| {
					let bytes = r.outcome.as_ref()?;
					Some((*i, Outcome::decode(&mut &bytes[..]).ok()?))
				})
				.collect();
			largest_group(&outcomes, |a, b| within_tolerance(a, b, tolerance))
				.filter(|(_, group)| group.len() >= q)
		})?;
		let carrier = agreeing
			.iter()
			.copied()
			.find(|i| matches!(&reveals[*i], RevealSlot::Revealed(r) if r.outcome.is_some()))
			.unwrap_or(chosen);
		match &reveals[carrier] {
			RevealSlot::Revealed(reveal) => Some((agreeing, reveal.clone())),
			_ => None,
		}
	}

	/// Among `(member, value)` pairs, the member whose value `agree`s with the most others, and
	/// those members (itself included); the first such member on a tie.
	fn largest_group<V>(
		items: &[(usize, V)],
		agree: impl Fn(&V, &V) -> bool,
	) -> Option<(usize, Vec<usize>)> {
		let mut best: Option<(usize, Vec<usize>)> = None;
		for (i, value) in items {
			let group: Vec<usize> =
				items.iter().filter(|(_, other)| agree(value, other)).map(|(j, _)| *j).collect();
			if best.as_ref().is_none_or(|(_, b)| group.len() > b.len()) {
				best = Some((*i, group));
			}
		}
		best
	}

	/// Whether two outcomes agree within `tolerance` units of the last kept decimal: same
	/// tensors, shapes and types; raw data equal; fixed-point elements at most `tolerance` apart.
	pub fn within_tolerance(a: &Outcome, b: &Outcome, tolerance: u64) -> bool {
		let (Outcome::Success(a), Outcome::Success(b)) = (a, b) else { return a == b };
		a.len() == b.len()
			&& a.iter().zip(b).all(|(x, y)| {
				x.name == y.name
					&& x.dtype == y.dtype
					&& x.shape == y.shape
					&& match (&x.data, &y.data) {
						(CanonicalData::Fixed(p), CanonicalData::Fixed(q)) => {
							p.len() == q.len()
								&& p.iter().zip(q).all(|(u, v)| {
									(i128::from(*u) - i128::from(*v)).unsigned_abs()
										<= u128::from(tolerance)
								})
						},
						(CanonicalData::Raw(p), CanonicalData::Raw(q)) => p == q,
						_ => false,
					}
			})
	}
}
