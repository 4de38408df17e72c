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
//! While a multi-block migration runs (`pallet-migrations`: blocks then carry no transactions),
//! the hooks wait ([`Pallet::paused`]): the jobs may be in a layout being translated. When it
//! ends, the hook visits the deadlines it skipped; a commit, reveal or challenge window that
//! was open during the pause ([`LastPause`]), when no vote or challenge could be sent, starts
//! again as a whole window, so that no executor is slashed and no requester loses a challenge
//! for it.
//!
//! Commits and reveals are operational transactions: a block full of submissions still has
//! room for the votes that settle the jobs already paid for.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use draw::DRAW_ATTEMPTS;
pub use executors::RecordOf;
pub use pallet::*;
use polkadot_sdk::{frame_support, frame_system};
pub(crate) use resolution::decide;
pub use resolution::within_tolerance;
pub(crate) use settlement::Settlement;
pub use types::*;
pub use votes::commitment_of;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod deadlines;
pub mod draw;
#[cfg(test)]
mod draw_tests;
pub mod escalation;
#[cfg(test)]
mod escalation_tests;
pub mod executors;
#[cfg(any(feature = "try-runtime", test))]
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
mod offchain;
#[cfg(test)]
mod offchain_tests;
mod queries;
pub mod reputation;
#[cfg(test)]
mod reputation_tests;
pub mod resolution;
pub mod settlement;
pub mod slashing;
#[cfg(test)]
mod slashing_tests;
pub mod submission;
#[cfg(test)]
mod tests;
pub mod types;
#[cfg(test)]
mod upgrade_tests;
pub mod votes;
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
	use alloc::vec::Vec;
	use codec::{Decode, Encode};
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
		weights::WeightToFee,
	};
	use frame_system::pallet_prelude::*;
	use polkadot_sdk::sp_runtime::{
		traits::{One, Zero},
		FixedU128, Perbill,
	};
	use verity_primitives::{
		executor::{ExecutorId, ExecutorSignature},
		inference::VoteKind,
		model::{ModelLookup, MAX_MODEL_TENSORS},
		ModelId, Tensor,
	};

	/// The in-code storage version: 1 added job keys, model limits, resource fees, the block
	/// load and the fee multiplier; 2 the executors' `voided` count and the jobs' upkeep and
	/// deadline fees; 3 bonded executors in a map, with their keys and the draw; 4 the executors'
	/// `slashed` count, and their statistics and open jobs keyed by a cryptographic hash of the
	/// account; 5 the delayed draw, challenges and escalation, and standings; 6 one record per
	/// committee seat ([`Seat`]), a multi-block migration ([`crate::migrations::v6`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(6);

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

	/// One seat of a committee: its member and the member's votes.
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
	pub struct Seat<T: Config> {
		pub member: T::AccountId,
		/// `None` until the member commits.
		pub commit: Option<Commitment>,
		pub reveal: RevealSlot<T::MaxOutputBytes>,
	}

	impl<T: Config> Seat<T> {
		/// A drawn member's seat, before it votes.
		pub fn new(member: T::AccountId) -> Self {
			Seat { member, commit: None, reveal: RevealSlot::Pending }
		}

		/// Whether the member committed and then revealed (or had its reveal rejected): what
		/// the reveal phase waits for.
		pub fn revealed_if_committed(&self) -> bool {
			self.commit.is_none() || self.reveal != RevealSlot::Pending
		}
	}

	/// A committee's seats, in the order its members were drawn.
	pub type SeatsOf<T> = BoundedVec<Seat<T>, <T as Config>::MaxCommittee>;

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
		/// The committee size the round asks for (and paid for): at most `MaxCommittee`.
		pub size: u32,
		/// The committee, once drawn (empty in [`Phase::Draw`]): `size` seats.
		pub seats: SeatsOf<T>,
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
		/// The first committee's seats.
		pub seats: SeatsOf<T>,
		/// [`Phase::Completed`] or [`Phase::Failed`].
		pub phase: Phase,
		pub result: Option<JobResult<T::MaxOutputBytes>>,
		pub challenger: T::AccountId,
		/// Held from the challenger ([`HoldReason::ChallengeBond`]).
		pub bond: BalanceOf<T>,
	}

	impl<T: Config> Job<T> {
		/// The seat of `member`, if it is on the committee.
		pub fn seat_of(&self, member: &T::AccountId) -> Option<&Seat<T>> {
			self.seats.iter().find(|seat| seat.member == *member)
		}

		/// [`Job::seat_of`], to record a vote in.
		pub fn seat_mut(&mut self, member: &T::AccountId) -> Option<&mut Seat<T>> {
			self.seats.iter_mut().find(|seat| seat.member == *member)
		}

		/// The committee's members, in seat order.
		pub fn members(&self) -> impl Iterator<Item = &T::AccountId> {
			self.seats.iter().map(|seat| &seat.member)
		}

		/// How many members committed.
		pub fn committed(&self) -> u32 {
			self.seats.iter().filter(|seat| seat.commit.is_some()).count() as u32
		}
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
		/// Removes executors in an emergency, sets the minimum committee and the unbonding
		/// period.
		type ExecutorOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The least bond an executor registers with, and keeps to be drawn.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;
		/// Blocks unbonded funds stay held until `ExecutorOrigin` sets another period
		/// ([`UnbondingPeriod`]): longer than any job an executor can still be on when it
		/// unbonds, so that they answer for its votes until the last is settled.
		#[pallet::constant]
		type DefaultUnbondingPeriod: Get<BlockNumberFor<Self>>;
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
		/// Proven misses in a row after which an executor is chilled ([`MissStreaks`]): an
		/// executor whose node is down stops being drawn, and `resume` has it drawn again.
		#[pallet::constant]
		type MaxConsecutiveMisses: Get<u32>;
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

	/// Blocks unbonded funds stay held: a chain parameter, [`Config::DefaultUnbondingPeriod`]
	/// until `ExecutorOrigin` sets another (`set_unbonding_period`), never below
	/// [`Pallet::min_unbonding_period`]. Funds already unbonding keep the block they were due.
	#[pallet::storage]
	pub type UnbondingPeriod<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, T::DefaultUnbondingPeriod>;

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

	/// Each executor's last run of proven misses ([`MissStreak`]), written only when it is slashed
	/// for a miss; none for an executor never slashed for one. `MaxConsecutiveMisses` in a row
	/// chill it. Removed when it leaves the registry.
	#[pallet::storage]
	pub type MissStreaks<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, MissStreak<BlockNumberFor<T>>>;

	/// Decided jobs whose result can still be challenged, and the block whose `on_initialize`
	/// makes it final ([`Config::ChallengeWindow`]).
	#[pallet::storage]
	pub type Challengeable<T: Config> = StorageMap<_, Twox64Concat, JobId, BlockNumberFor<T>>;

	/// Challenged jobs being run again by a larger committee: their first round and their
	/// challenger, until the larger committee decides.
	#[pallet::storage]
	pub type Escalations<T: Config> = StorageMap<_, Twox64Concat, JobId, Escalation<T>>;

	/// The first block whose hook a multi-block migration paused, while it runs.
	#[pallet::storage]
	pub type PausedSince<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	/// The last pause of the hooks: its first block, and the block the hooks resumed at. A
	/// window that was open in it (no vote and no challenge could be sent) starts again when
	/// its deadline comes.
	#[pallet::storage]
	pub type LastPause<T: Config> = StorageValue<_, (BlockNumberFor<T>, BlockNumberFor<T>)>;

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
		/// Funds unbonded from now on stay held for `blocks`.
		UnbondingPeriodSet {
			blocks: BlockNumberFor<T>,
		},
		/// An executor missed `misses` jobs in a row (each proven by the others settling it):
		/// chilled as if it had called `chill`, until it calls `resume`.
		ChilledForMisses {
			executor: T::AccountId,
			misses: u32,
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
		/// The unbonding period asked for is shorter than a job can last
		/// ([`Pallet::min_unbonding_period`]).
		UnbondingPeriodTooShort,
		/// Unbonded funds wait: the hook is behind on its deadlines, or a migration pause ended
		/// less than a job's lifetime ago ([`Pallet::withdrawals_open`]). Try again later.
		WithdrawalsWait,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_offchain_worker(now);
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			// While a multi-block migration runs, jobs may be in another layout: nothing is
			// read (see "Deadlines" in the crate docs).
			if Self::paused() {
				if PausedSince::<T>::get().is_none() {
					PausedSince::<T>::put(now);
				}
				return T::DbWeight::get().reads_writes(2, 1);
			}
			let resumed = Self::end_pause(now);
			Self::update_fee_multiplier(now);
			// Before any draw of this block: the previous block's reveals feed it.
			Self::mix_beacon();
			// The whitelisted multiplier: read here, and written here or by no one; the
			// entropy, read and removed; the beacon, read and written; the last pause, read.
			T::DbWeight::get()
				.reads_writes(4, 3)
				.saturating_add(resumed)
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
			assert!(T::MaxUnlockingChunks::get() > 0, "an executor can unbond");
			assert!(!T::StandingHalfLife::get().is_zero(), "penalty points decay");
			assert!(T::MaxConsecutiveMisses::get() > 0, "an executor votes before it is chilled");
			assert!(
				T::DefaultUnbondingPeriod::get() >= Pallet::<T>::min_unbonding_period(),
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
			Self::do_submit(requester, model, inputs, committee_size, max_fee)
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
			Self::do_commit(executor, commits)
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
			Self::do_reveal(executor, reveals, max_committee)
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

		/// Unbonds `amount` of the caller's bond: it stays held for [`UnbondingPeriod`]
		/// blocks, then `withdraw_unbonded` releases it. Below
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
		/// with nothing bonded or unlocking, on no open job, leaves the registry. Waits while
		/// jobs run late ([`Pallet::withdrawals_open`]).
		///
		/// Errors: [`Error::NotExecutor`], [`Error::WithdrawalsWait`],
		/// [`Error::NothingToWithdraw`]. Events:
		/// [`Event::Withdrawn`], [`Event::ExecutorLeft`].
		#[pallet::call_index(9)]
		// And reading the hook's backlog and the last pause, and removing a leaving executor's
		// standing and miss streak.
		#[pallet::weight(T::WeightInfo::withdraw_unbonded().saturating_add(T::DbWeight::get().reads_writes(2, 2)))]
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

		/// Has a chilled caller drawn again (while bonded at least `MinBond`). Its run of
		/// misses starts again: misses on jobs submitted before it resumed do not count
		/// ([`MissStreak`]).
		///
		/// Errors: [`Error::NotExecutor`], [`Error::ExecutorRemoved`],
		/// [`Error::StatusUnchanged`]. Events: [`Event::Resumed`].
		#[pallet::call_index(12)]
		// And resetting its run of misses.
		#[pallet::weight(T::WeightInfo::resume().saturating_add(T::DbWeight::get().reads_writes(1, 1)))]
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

		/// Sets how long funds unbonded from now on stay held ([`UnbondingPeriod`]); chunks
		/// already unbonding keep the block they were due. Origin: `ExecutorOrigin`.
		///
		/// Errors: [`Error::UnbondingPeriodTooShort`] below [`Pallet::min_unbonding_period`].
		/// Events: [`Event::UnbondingPeriodSet`].
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::set_unbonding_period())]
		pub fn set_unbonding_period(
			origin: OriginFor<T>,
			blocks: BlockNumberFor<T>,
		) -> DispatchResult {
			T::ExecutorOrigin::ensure_origin(origin)?;
			ensure!(blocks >= Self::min_unbonding_period(), Error::<T>::UnbondingPeriodTooShort);
			UnbondingPeriod::<T>::put(blocks);
			Self::deposit_event(Event::UnbondingPeriodSet { blocks });
			Ok(())
		}
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
}
