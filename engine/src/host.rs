//! The node's side of the `inference` host functions.
//!
//! The node registers an `InferenceExt` holding an [`EngineHost`] for its off-chain workers only
//! (`OffchainWorkerOptions::custom_extensions`); the runtime's calls to
//! `verity_primitives::inference::{start, poll, run}` then reach the node's inference queue.

use crate::{service::InferenceService, RunError};
use verity_primitives::{
	inference::{InferenceHost, JobKey, JobRequest, JobStatus},
	model::ModelLimits,
	HostError, ModelId, Outcome, Tensor,
};

/// Limits of a probe (`run`): what a model may use when the caller names none.
pub const PROBE_LIMITS: ModelLimits = ModelLimits { cpu_millis: 10_000, memory_mib: 2048 };

/// Runs the runtime's inference requests on the node's queue.
pub struct EngineHost {
	service: Option<InferenceService>,
}

impl EngineHost {
	/// `service` is `None` on a node that could not load ONNX Runtime or start its workers:
	/// every request then gets [`HostError::EngineUnavailable`].
	pub fn new(service: Option<InferenceService>) -> Self {
		Self { service }
	}
}

impl InferenceHost for EngineHost {
	fn run(
		&self,
		model: ModelId,
		inputs: Vec<Tensor>,
		output_decimals: u8,
	) -> Result<Outcome, HostError> {
		let service = self.service.as_ref().ok_or(HostError::EngineUnavailable)?;
		match service.run(model, inputs, output_decimals, PROBE_LIMITS) {
			Ok(execution) => Ok(execution.outcome),
			Err(RunError::ModelUnavailable(e)) => {
				log::warn!(target: "verity-engine", "off-chain inference: {e}");
				Err(HostError::ModelUnavailable)
			},
			Err(RunError::Host(e)) => Err(e),
		}
	}

	fn start(&self, request: JobRequest) -> Result<(), HostError> {
		self.service.as_ref().ok_or(HostError::EngineUnavailable)?.start_job(request)
	}

	fn poll(&self, key: JobKey) -> JobStatus {
		match &self.service {
			Some(service) => service.poll(&key),
			None => JobStatus::Unavailable(HostError::EngineUnavailable),
		}
	}
}
