//! `inference_simulate`: run a model on the node's engine without a job, so dApp developers can
//! try a model and see the exact canonical outcome and result hash validators would commit to.

use crate::inference::Inference;
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::{ErrorObject, ErrorObjectOwned},
	Extensions,
};
use polkadot_sdk::sc_rpc_api::check_if_safe;
use serde_json::{json, Value};
use verity_engine::{
	host::PROBE_LIMITS,
	store::{hex_id, parse_id},
};
use verity_primitives::{
	canonical::{CanonicalData, CanonicalTensor},
	json::{tensor_from_json, tensor_to_json},
	Outcome,
};

/// Most input tensors one simulation takes (the engine also bounds their total bytes).
pub const MAX_SIMULATION_INPUTS: usize = 16;

/// The default `output_decimals` when the caller gives none (the chain's default).
pub const DEFAULT_OUTPUT_DECIMALS: u8 = 6;

const INVALID_PARAMS: i32 = -32602;
const UNAVAILABLE: i32 = 9000;

#[rpc(server)]
pub trait InferenceApi {
	/// Runs `model` (a `0x` hex model id: in the node's model store, or registered on chain) on
	/// `inputs` (JSON tensors,
	/// `{"name","dtype","shape","data"}`) and returns the raw outputs, the canonical outcome at
	/// `output_decimals` (default 6) and its result hash. Unsafe unless the node runs with
	/// `--rpc-inference-simulate`.
	#[method(name = "inference_simulate", with_extensions)]
	async fn simulate(
		&self,
		model: String,
		inputs: Vec<Value>,
		output_decimals: Option<u8>,
	) -> RpcResult<Value>;
}

pub struct InferenceRpc {
	inference: Inference,
}

impl InferenceRpc {
	pub fn new(inference: Inference) -> Self {
		Self { inference }
	}
}

fn invalid(message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(INVALID_PARAMS, message.into(), None::<()>)
}

fn unavailable(message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(UNAVAILABLE, message.into(), None::<()>)
}

fn canonical_json(tensor: &CanonicalTensor) -> Value {
	let data = match &tensor.data {
		CanonicalData::Fixed(values) => json!({ "fixed": values }),
		CanonicalData::Raw(bytes) => json!({ "raw": format!("0x{}", hex::encode(bytes)) }),
	};
	json!({
		"name": String::from_utf8_lossy(&tensor.name),
		"dtype": tensor.dtype.name(),
		"shape": tensor.shape,
		"data": data,
	})
}

fn outcome_json(outcome: &Outcome) -> Value {
	match outcome {
		Outcome::Success(tensors) => {
			json!({ "success": tensors.iter().map(canonical_json).collect::<Vec<_>>() })
		},
		Outcome::Failure(code) => json!({ "failure": format!("{code:?}") }),
	}
}

#[async_trait]
impl InferenceApiServer for InferenceRpc {
	async fn simulate(
		&self,
		ext: &Extensions,
		model: String,
		inputs: Vec<Value>,
		output_decimals: Option<u8>,
	) -> RpcResult<Value> {
		if !self.inference.simulate_on_safe_rpc {
			check_if_safe(ext)?;
		}
		let model = parse_id(&model)
			.ok_or_else(|| invalid("model: expected a 0x-prefixed 32-byte hex id"))?;
		if inputs.len() > MAX_SIMULATION_INPUTS {
			return Err(invalid(format!("at most {MAX_SIMULATION_INPUTS} input tensors")));
		}
		let inputs = inputs
			.into_iter()
			.enumerate()
			.map(|(i, t)| tensor_from_json(t).map_err(|e| invalid(format!("inputs[{i}]: {e}"))))
			.collect::<Result<Vec<_>, _>>()?;
		let output_decimals = output_decimals.unwrap_or(DEFAULT_OUTPUT_DECIMALS);
		let service = self.inference.service.clone().ok_or_else(|| {
			unavailable("this node runs no inference workers: ONNX Runtime was not loaded")
		})?;
		// The model's own limits when it is registered, as validators would run it.
		let limits = self.inference.source.declared_limits(&model).unwrap_or(PROBE_LIMITS);
		// The queue blocks until a worker is done: wait off the RPC server's async threads.
		let execution = tokio::task::spawn_blocking(move || {
			service.run(model, inputs, output_decimals, limits)
		})
		.await
		.map_err(|e| unavailable(format!("inference task failed: {e}")))?
		.map_err(|e| unavailable(e.to_string()))?;
		Ok(json!({
			"model": hex_id(&model),
			"outputDecimals": output_decimals,
			"outputs": execution.outputs.iter().map(tensor_to_json).collect::<Vec<_>>(),
			"outcome": outcome_json(&execution.outcome),
			"resultHash": format!("0x{}", hex::encode(execution.result_hash)),
		}))
	}
}
