//! The `inference` host functions: how the runtime's off-chain worker runs a model.
//!
//! The runtime cannot run ONNX Runtime, so the node does it on the runtime's behalf. The native
//! side of [`inference::run`] looks for an [`InferenceExt`] externalities extension, which the node
//! registers for off-chain workers only. Anywhere else — block import, block authoring, runtime
//! API calls made over RPC — the extension is absent and the call returns
//! [`HostError::NotInOffchainWorker`]: inference is not deterministic across machines and must
//! never influence consensus directly, only through the votes validators submit.

use crate::{canonical::Outcome, model::ModelLimits, tensor::Tensor};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
#[cfg(not(substrate_runtime))]
use polkadot_sdk::sp_externalities::ExternalitiesExt;
use polkadot_sdk::sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode, PassPointerAndReadCopy},
	runtime_interface,
};
use scale_info::TypeInfo;

/// A model's id: `blake2_256` of its ONNX bytes.
pub type ModelId = [u8; 32];

/// Why the host could not run an inference at all. Unlike a canonical
/// [`ErrorCode`](crate::canonical::ErrorCode), these are local conditions of one node: another
/// validator may well run the same job, so a validator that gets one of these does not vote.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum HostError {
	/// Called outside an off-chain worker (block import, authoring, an RPC runtime call).
	NotInOffchainWorker,
	/// This node has no inference engine: the ONNX Runtime library was not found or not loaded.
	EngineUnavailable,
	/// This node could not get the model's bytes from any source (or none matched the id).
	ModelUnavailable,
	/// The node's inference queue is full: ask again later.
	Busy,
}

/// A job's identity, bound to the chain, the fork and the job's content (see the jobs pallet):
/// no two different jobs share one, on any fork.
pub type JobKey = [u8; 32];

/// Largest canonical outcome (SCALE-encoded) an executor produces; a larger one is an
/// `OutputTooLarge` outcome. The same for every validator, since it decides outcomes.
pub const MAX_OUTCOME_BYTES: u32 = 16 * 1024 * 1024;

/// A job for the node's inference queue ([`inference::start`]).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct JobRequest {
	/// Names the job in [`inference::poll`]; starting the same key twice runs it once.
	pub key: JobKey,
	pub model: ModelId,
	pub inputs: Vec<Tensor>,
	pub output_decimals: u8,
	/// What one inference may use (the model's declared limits).
	pub limits: ModelLimits,
}

/// Where a started job is ([`inference::poll`]).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum JobStatus {
	/// The node knows no job of this key (never started, or forgotten long after it finished).
	Unknown,
	/// Waiting for its model's bytes, for a worker, or running.
	Pending,
	/// Finished with this canonical outcome.
	Done(Outcome),
	/// The node could not run it (no engine, the model's bytes are nowhere to be had).
	Unavailable(HostError),
}

/// Which of an executor's two votes a batch carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum VoteKind {
	Commit,
	Reveal,
}

impl VoteKind {
	/// What opens the payload an executor signs for a batch of this kind, and its pool tags.
	pub const fn tag(self) -> &'static [u8] {
		match self {
			Self::Commit => b"verity/commit",
			Self::Reveal => b"verity/reveal",
		}
	}
}

/// What the off-chain worker did with its votes, told to the node (for its metrics) through
/// [`inference::note`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum OffchainEvent {
	/// A batch of `items` votes went to the transaction pool.
	Submitted { kind: VoteKind, items: u32 },
	/// The transaction pool refused a batch of `items` votes.
	Refused { kind: VoteKind, items: u32 },
	/// `items` votes sent earlier were not in a block in time and are sent again.
	Resent { kind: VoteKind, items: u32 },
}

/// The node's side of the host functions, registered as [`InferenceExt`].
#[cfg(not(substrate_runtime))]
pub trait InferenceHost: Send + Sync {
	/// Runs `model` on `inputs` and returns the canonical outcome at `output_decimals`.
	fn run(
		&self,
		model: ModelId,
		inputs: Vec<Tensor>,
		output_decimals: u8,
	) -> Result<Outcome, HostError>;

	/// Queues a job (once per key) to run in the background; [`InferenceHost::poll`] tells
	/// when it is done. A node without a queue refuses.
	fn start(&self, _request: JobRequest) -> Result<(), HostError> {
		Err(HostError::EngineUnavailable)
	}

	/// Where the job started under `key` is.
	fn poll(&self, _key: JobKey) -> JobStatus {
		JobStatus::Unknown
	}

	/// Takes note of what the off-chain worker did; nothing by default.
	fn note(&self, _event: OffchainEvent) {}
}

#[cfg(not(substrate_runtime))]
polkadot_sdk::sp_externalities::decl_extension! {
	/// Gives the off-chain worker access to the node's inference engine.
	pub struct InferenceExt(alloc::sync::Arc<dyn InferenceHost>);
}

#[cfg(not(substrate_runtime))]
impl InferenceExt {
	pub fn new(host: alloc::sync::Arc<dyn InferenceHost>) -> Self {
		Self(host)
	}
}

/// Host functions for running models from the runtime's off-chain worker.
#[runtime_interface]
pub trait Inference {
	/// Runs `model` on `inputs` and returns the canonical outcome at `output_decimals`.
	///
	/// Only available in an off-chain worker; elsewhere returns
	/// [`HostError::NotInOffchainWorker`]. A model that fails to execute is not an `Err`: it is an
	/// [`Outcome::Failure`] with its canonical error code, which validators vote on like any
	/// result.
	fn run(
		&mut self,
		model: PassPointerAndReadCopy<ModelId, 32>,
		inputs: PassFatPointerAndDecode<Vec<Tensor>>,
		output_decimals: u8,
	) -> AllocateAndReturnByCodec<Result<Outcome, HostError>> {
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.run(model, inputs, output_decimals),
			None => Err(HostError::NotInOffchainWorker),
		}
	}

	/// Tells the node what the off-chain worker did with its votes (for the node's metrics).
	/// Does nothing outside an off-chain worker.
	fn note(&mut self, event: PassFatPointerAndDecode<OffchainEvent>) {
		if let Some(ext) = self.extension::<InferenceExt>() {
			ext.0.note(event)
		}
	}

	/// Queues a job on the node's inference workers and returns at once; the job runs in the
	/// background, concurrently with others, under its model's limits. Starting a key that is
	/// already known does nothing. Only available in an off-chain worker.
	fn start(
		&mut self,
		request: PassFatPointerAndDecode<JobRequest>,
	) -> AllocateAndReturnByCodec<Result<(), HostError>> {
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.start(request),
			None => Err(HostError::NotInOffchainWorker),
		}
	}

	/// Where the job started under `key` is. Outside an off-chain worker: `Unavailable`.
	fn poll(
		&mut self,
		key: PassPointerAndReadCopy<JobKey, 32>,
	) -> AllocateAndReturnByCodec<JobStatus> {
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.poll(key),
			None => JobStatus::Unavailable(HostError::NotInOffchainWorker),
		}
	}
}

/// Off-chain local storage key (`PERSISTENT`) of a probe request: a SCALE-encoded
/// [`ProbeRequest`] that the runtime's next off-chain worker runs through [`inference::run`].
pub const PROBE_REQUEST_KEY: &[u8] = b"verity::inference-probe::request";
/// Off-chain local storage key (`PERSISTENT`) where the off-chain worker writes the probe's
/// answer: a SCALE-encoded `Result<Outcome, HostError>`.
pub const PROBE_RESPONSE_KEY: &[u8] = b"verity::inference-probe::response";

/// A request for the off-chain inference probe: lets an operator check, through the
/// `offchain_localStorageSet`/`Get` RPCs, that the node's off-chain workers can run a model.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ProbeRequest {
	pub model: ModelId,
	pub inputs: Vec<Tensor>,
	pub output_decimals: u8,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// The inference host functions, called in the runtime API's own context.
	pub trait InferenceHostApi {
		/// Calls [`inference::run`]. From an RPC (`state_call`) or during block import this
		/// returns [`HostError::NotInOffchainWorker`]: inference runs only in off-chain workers.
		fn run_inference(
			model: ModelId,
			inputs: Vec<Tensor>,
			output_decimals: u8,
		) -> Result<Outcome, HostError>;
	}
}
