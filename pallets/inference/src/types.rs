//! The jobs pallet's data types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{CloneNoBound, DebugNoBound, DefaultNoBound, EqNoBound, PartialEqNoBound},
	sp_runtime::BoundedVec,
};
use scale_info::TypeInfo;
use verity_primitives::{canonical::ErrorCode, model::ModelLimits, ModelId};

/// Jobs are numbered from 0 in submission order. Numbers depend on transaction order, so after
/// a reorganisation the same number may name another job: votes name a job by its
/// [`JobKey`] as well.
pub type JobId = u64;

pub use verity_primitives::inference::JobKey;

/// `blake2_256(result_hash ++ salt ++ executor ++ job key)`.
pub type Commitment = [u8; 32];

/// Where a job is.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum Phase {
	/// Committee members run the job and commit to their result hashes.
	Commit,
	/// Committee members reveal their result hashes (and small outputs).
	Reveal,
	/// A quorum agreed on a result.
	Completed,
	/// The job failed (see [`FailureReason`]).
	Failed,
	/// Submitted, waiting for its committee: drawn at the job's `due` block from the beacon
	/// the reveals in between feed (see the crate docs, "Randomness"). Last, so that the
	/// other phases keep their encoding.
	Draw,
}

/// Why a job failed.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum FailureReason {
	/// A quorum agreed that executing the job fails with this canonical error.
	Execution(ErrorCode),
	/// A quorum agreed that the job went past the model's declared resources (time, memory) or
	/// killed the worker running it: this canonical error. Settled apart: the executors get the
	/// resource-failure fee only, the model fee goes back to the requester.
	Resources(ErrorCode),
	/// Fewer members than the quorum committed before the commit window closed.
	NotEnoughCommits,
	/// No result reached the quorum, by hash or within the model's tolerance.
	NoQuorum,
	/// No committee could be drawn when the job was due to be drawn: fewer drawable executors
	/// than its seats, or every committee tried had a member behind on `MaxOpenPerExecutor`
	/// open jobs. Everything but the upkeep fee comes back.
	NoCommittee,
}

impl FailureReason {
	/// The failure a quorum on the canonical error `code` is: a resource failure, or an
	/// execution error.
	pub fn of(code: ErrorCode) -> Self {
		if code.is_resource_failure() {
			FailureReason::Resources(code)
		} else {
			FailureReason::Execution(code)
		}
	}
}

/// What the requester pays, fixed at submission.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct FeeQuote<Balance> {
	/// To the model's owner.
	pub model_fee: Balance,
	/// To each committee member that agrees with the accepted result.
	pub executor_fee: Balance,
	/// To the fee collector.
	pub base_fee: Balance,
	/// To each agreeing member instead of `executor_fee` when the job ends in a resource
	/// failure (never more than `executor_fee`).
	pub resource_fee: Balance,
	/// The work the job certainly gives `on_initialize`, priced as transaction weight is: its
	/// draw, its deadline entries and its pruning. To the fee collector when the job is settled,
	/// whatever its outcome.
	pub upkeep_fee: Balance,
	/// The work of moving the job on at one deadline (opening its reveal phase, failing or
	/// resolving it), priced as transaction weight is. Two are held; the fee collector takes
	/// one each time `on_initialize` does that work, the rest comes back at settlement.
	pub deadline_fee: Balance,
	/// The deadline fees still held: `2 × deadline_fee` at submission, less each one taken.
	pub deadline_held: Balance,
	/// What is held from the requester: `model_fee + executor_fee × committee + base_fee +
	/// upkeep_fee + deadline_held`.
	pub total: Balance,
}

/// A member's reveal: the result hash, and the canonical outcome when it fits on chain.
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
pub struct Reveal<MaxOutput: polkadot_sdk::sp_core::Get<u32>> {
	pub result_hash: [u8; 32],
	/// SCALE-encoded `Outcome`, whose `blake2_256` is `result_hash`.
	pub outcome: Option<BoundedVec<u8, MaxOutput>>,
}

/// One item of a `commit_results` batch.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct CommitItem {
	pub job: JobId,
	/// The job's key: a vote for another job of the same number (on another fork) is stale.
	pub key: JobKey,
	pub commitment: Commitment,
}

/// One item of a `reveal_results` batch.
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
pub struct RevealItem<MaxOutput: polkadot_sdk::sp_core::Get<u32>> {
	pub job: JobId,
	/// The job's key (see [`CommitItem::key`]).
	pub key: JobKey,
	pub result_hash: [u8; 32],
	pub salt: [u8; 32],
	pub outcome: Option<BoundedVec<u8, MaxOutput>>,
}

/// An executor's record.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct ExecutorStats {
	/// Committees it was drawn into.
	pub assigned: u32,
	/// Jobs where its result was the accepted one.
	pub agreed: u32,
	/// Jobs where it revealed another result (or a reveal that did not match its commit).
	pub disagreed: u32,
	/// Jobs where it did not commit or did not reveal.
	pub missed: u32,
	/// Jobs that failed for too few commits although it committed in time: it neither agreed
	/// nor missed.
	pub voided: u32,
	/// Jobs it was slashed on (see [`Offence`]).
	pub slashed: u32,
}

impl ExecutorStats {
	/// Jobs it was drawn into that are settled (every settlement counts each member once:
	/// agreed, disagreed, missed or voided).
	pub fn settled(&self) -> u64 {
		self.voted().saturating_add(u64::from(self.missed))
	}

	/// Settled jobs it voted on: agreed, disagreed or voided.
	pub fn voted(&self) -> u64 {
		u64::from(self.agreed) + u64::from(self.disagreed) + u64::from(self.voided)
	}

	/// Jobs it was drawn into that are not settled yet.
	pub fn open(&self) -> u32 {
		u64::from(self.assigned).saturating_sub(self.settled()) as u32
	}
}

/// What an executor is slashed for: each proven by what the chain holds, never by anyone's word.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum Offence {
	/// It revealed a result hash and salt that do not open its own commitment, or an outcome
	/// that does not hash to the result hash it revealed: its commitment and the reveal are on
	/// chain.
	BadReveal,
	/// It did not commit, or committed and did not reveal, on a job that a quorum of the
	/// others settled in time with a result or an execution error (so the job could be run and
	/// voted on in its windows). Not for a quorum on a resource failure: the member may have
	/// run out of the same resources.
	Missed,
	/// It revealed a result other than the one the job's final quorum accepted, after the job
	/// was challenged and run again by a larger committee (see [`crate::escalation`]): both
	/// reveals are on chain. Not when either is a resource failure. Last, so that the other
	/// offences keep their encoding.
	WrongResult,
}

impl Offence {
	/// The penalty points an offence adds to its executor's [`Standing`]: a miss may be a
	/// machine's fault, a bad reveal or a wrong result is not.
	pub fn penalty(self) -> u32 {
		match self {
			Offence::Missed => 1,
			Offence::BadReveal => 4,
			Offence::WrongResult => 8,
		}
	}
}

/// An executor's recent offences, as penalty points ([`Offence::penalty`]) that halve every
/// `StandingHalfLife` blocks: with `p` points, a drawn committee with it is kept with chance
/// `1 / (1 + p)` on each of the draw's attempts but the last (see [`crate::reputation`]).
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct Standing<BlockNumber> {
	/// Penalty points as of block `at`.
	pub points: u32,
	pub at: BlockNumber,
}

/// An executor's run of proven misses ([`crate::MissStreaks`]): `misses` in a row, the last when
/// it had settled `votes` jobs with a vote (agreed, disagreed or voided). A miss when its votes
/// are still `votes` extends the run; one after a vote starts a new run. Misses on jobs
/// submitted before `since` (the block it last resumed at) do not count: they were drawn while
/// it was down.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct MissStreak<BlockNumber> {
	pub misses: u32,
	pub votes: u64,
	pub since: BlockNumber,
}

/// An executor's record as the runtime API shows it: its statistics over all its jobs, and its
/// penalty points now.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ExecutorReputation {
	pub stats: ExecutorStats,
	/// Penalty points after decay: 0 for an executor with no recent offence.
	pub penalty: u32,
	/// The chance (per million) that a committee drawn with it is kept on each of the draw's
	/// attempts but the last: `1_000_000 / (1 + penalty)`.
	pub kept_per_million: u32,
}

/// How a challenge ended.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ChallengeVerdict {
	/// The larger committee's quorum accepted another result than the first round's (or one
	/// where the first round found none): the challenger's bond comes back, with a reward.
	Overturned,
	/// The larger committee's quorum accepted the first round's result: the challenger's bond
	/// pays the second round's members, the rest goes to the treasury.
	Confirmed,
	/// No larger committee could be drawn, too few of it committed, or it reached no quorum: the
	/// first round's result stands, and the bond comes back.
	Undecided,
}

/// Where an executor stands.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ExecutorStatus {
	/// Drawn into committees while its bond is at least the minimum.
	Active,
	/// Asked not to be drawn (`chill`, `leave`); votes on the committees it is on still count.
	Chilled,
	/// Removed by the executor origin: never drawn, its votes refused, its whole bond
	/// unbonding. The record goes once the bond is withdrawn.
	Removed,
}

/// Bonded funds on their way out: `withdraw_unbonded` releases them from block `at`. They stay
/// held (and answer for what the executor did) until then.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct UnlockChunk<Balance, BlockNumber> {
	pub amount: Balance,
	pub at: BlockNumber,
}

/// A registered executor: its inference key and its bond, all of it held from its account
/// (`HoldReason::ExecutorBond`: `bond` plus every unlocking chunk).
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
#[scale_info(skip_type_params(MaxChunks))]
#[codec(mel_bound(Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
// The derives need the bounds inline, `MaxEncodedLen` its own.
#[allow(clippy::multiple_bound_locations)]
pub struct ExecutorRecord<
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxChunks: polkadot_sdk::sp_core::Get<u32>,
> {
	/// The key its votes are signed with (unique among executors).
	pub key: verity_primitives::executor::ExecutorId,
	/// Bonded and not unbonding: at least `MinBond` for the executor to be drawn.
	pub bond: Balance,
	/// Unbonded funds, oldest first, waiting for the unbonding period to end.
	pub unlocking: BoundedVec<UnlockChunk<Balance, BlockNumber>, MaxChunks>,
	pub status: ExecutorStatus,
	/// Its place in the draw (`Drawable`), while it is drawn: active, bonded at least
	/// `MinBond`.
	pub slot: Option<u32>,
}

/// The result of a finished job.
#[derive(
	CloneNoBound,
	DefaultNoBound,
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
pub struct JobResult<MaxOutput: polkadot_sdk::sp_core::Get<u32>> {
	pub result_hash: Option<[u8; 32]>,
	/// The accepted canonical outcome (SCALE-encoded), when it was revealed on chain.
	pub outcome: Option<BoundedVec<u8, MaxOutput>>,
	pub failure: Option<FailureReason>,
}

/// The model a job runs, as submitted.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct JobModel<AccountId> {
	pub id: ModelId,
	pub owner: AccountId,
	pub output_decimals: u8,
	pub tolerance: u64,
	/// What one inference may use, as the model declared at submission.
	pub limits: ModelLimits,
}

/// What the jobs admitted in one block ask of the executors.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct BlockLoad {
	/// Committee seats: each one a commit and a reveal to include later.
	pub seats: u32,
	/// Declared CPU time of the jobs, in milliseconds: what a validator on every committee
	/// would run.
	pub cpu_millis: u64,
}

/// A job as the runtime API shows it: no bounds, so clients decode it without the runtime's
/// constants.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct JobInfo<AccountId, Balance, BlockNumber> {
	pub id: JobId,
	/// The job's identity on this chain and fork (votes name it).
	pub key: JobKey,
	pub requester: AccountId,
	pub model: ModelId,
	/// SCALE-encoded `Vec<Tensor>`.
	pub inputs: alloc::vec::Vec<u8>,
	pub committee: alloc::vec::Vec<AccountId>,
	/// Per member: committed, and revealed (`Some(true)`), rejected (`Some(false)`) or not yet.
	pub commits: alloc::vec::Vec<bool>,
	pub reveals: alloc::vec::Vec<Option<bool>>,
	pub fee: FeeQuote<Balance>,
	pub phase: Phase,
	pub due: BlockNumber,
	pub submitted_at: BlockNumber,
	pub result_hash: Option<[u8; 32]>,
	/// SCALE-encoded canonical `Outcome`, when revealed on chain.
	pub outcome: Option<alloc::vec::Vec<u8>>,
	pub failure: Option<FailureReason>,
	/// Whether the result is final: no challenge can change it any more (see
	/// [`crate::escalation`]). False while the job is open, in its challenge window or being
	/// run again by a larger committee.
	pub is_final: bool,
	/// The block whose `on_initialize` closes the challenge window, while it is open.
	pub challenge_until: Option<BlockNumber>,
	/// The first committee, when the job was challenged (`committee` is then the larger one).
	pub first_committee: alloc::vec::Vec<AccountId>,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Jobs, their results, fee estimates, and executors' reputations. Version 2: jobs say
	/// whether their result is final, and `reputation`.
	#[api_version(2)]
	pub trait InferenceApi<AccountId, Balance, BlockNumber>
	where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// A job and its result (until pruned).
		fn job(id: JobId) -> Option<JobInfo<AccountId, Balance, BlockNumber>>;
		/// The jobs `requester` submitted (until pruned).
		fn jobs_by_requester(requester: AccountId) -> alloc::vec::Vec<JobId>;
		/// The open jobs on whose committee `executor` sits.
		fn pending_for_executor(executor: AccountId) -> alloc::vec::Vec<JobId>;
		/// The fee `submit_job` would hold for `model` and `committee_size`.
		fn fee_estimate(model: ModelId, committee_size: u32) -> Option<Balance>;
		/// A registered executor's statistics and its penalty points now.
		#[api_version(2)]
		fn reputation(executor: AccountId) -> Option<ExecutorReputation>;
	}
}
