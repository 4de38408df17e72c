//! The node's side of the `inference` host functions.
//!
//! The node registers an `InferenceExt` holding an [`EngineHost`] for its off-chain workers only
//! (`OffchainWorkerOptions::custom_extensions`); the runtime's calls to
//! `verity_primitives::inference::run` then reach [`EngineHost::run`].

use crate::{Engine, ModelSource, RunError};
use std::sync::Arc;
use verity_primitives::{inference::InferenceHost, HostError, ModelId, Outcome, Tensor};

/// Runs the runtime's inference requests on the node's engine, with models from `source`.
pub struct EngineHost {
	engine: Option<Arc<Engine>>,
	source: Arc<dyn ModelSource>,
}

impl EngineHost {
	/// `engine` is `None` on a node that could not load ONNX Runtime: every request then gets
	/// [`HostError::EngineUnavailable`].
	pub fn new(engine: Option<Arc<Engine>>, source: Arc<dyn ModelSource>) -> Self {
		Self { engine, source }
	}
}

impl InferenceHost for EngineHost {
	fn run(
		&self,
		model: ModelId,
		inputs: Vec<Tensor>,
		output_decimals: u8,
	) -> Result<Outcome, HostError> {
		let engine = self.engine.as_ref().ok_or(HostError::EngineUnavailable)?;
		match engine.run(&*self.source, &model, &inputs, output_decimals) {
			Ok(execution) => Ok(execution.outcome),
			Err(RunError::ModelUnavailable(e)) => {
				log::warn!(target: "verity-engine", "off-chain inference: {e}");
				Err(HostError::ModelUnavailable)
			},
		}
	}
}
