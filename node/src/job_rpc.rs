//! `inference_job(id)`: a job, its phase and its result, with inputs and outputs decoded to JSON.

use codec::Decode;
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::ErrorObject,
};
use pallet_inference::{FailureReason, InferenceApi, JobInfo};
use polkadot_sdk::{sp_api::ProvideRuntimeApi, sp_blockchain::HeaderBackend};
use serde_json::{json, Value};
use std::sync::Arc;
use verity_engine::store::hex_id;
use verity_primitives::model::ModelRegistryApi;
use verity_primitives::{
	canonical::{CanonicalData, Outcome},
	json::tensor_to_json,
	Tensor,
};
use verity_runtime::{opaque::Block, AccountId, Balance, BlockNumber};

#[rpc(server)]
pub trait JobRpcApi {
	/// The job `id` (until pruned, a day after it finished), or null: requester, model,
	/// committee, who committed and revealed, phase, fee, and the result with the canonical
	/// outputs decoded (fixed-point values also as numbers).
	#[method(name = "inference_job")]
	async fn job(&self, id: u64) -> RpcResult<Option<Value>>;
}

pub struct JobRpc<C> {
	client: Arc<C>,
}

impl<C> JobRpc<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

fn outcome_json(bytes: &[u8], decimals: u8) -> Value {
	match Outcome::decode(&mut &bytes[..]) {
		Ok(Outcome::Success(tensors)) => json!({ "success": tensors.iter().map(|t| {
			let (fixed, values) = match &t.data {
				CanonicalData::Fixed(v) => (
					json!(v),
					json!(v.iter().map(|x| *x as f64 / 10f64.powi(i32::from(decimals))).collect::<Vec<_>>()),
				),
				CanonicalData::Raw(b) => (Value::Null, json!(format!("0x{}", hex::encode(b)))),
			};
			json!({
				"name": String::from_utf8_lossy(&t.name),
				"dtype": t.dtype.name(),
				"shape": t.shape,
				"fixed": fixed,
				"values": values,
			})
		}).collect::<Vec<_>>() }),
		Ok(Outcome::Failure(code)) => json!({ "failure": format!("{code:?}") }),
		Err(_) => json!({ "undecodable": format!("0x{}", hex::encode(bytes)) }),
	}
}

fn job_json(job: JobInfo<AccountId, Balance, BlockNumber>, decimals: u8) -> Value {
	let inputs = Vec::<Tensor>::decode(&mut &job.inputs[..])
		.map(|tensors| json!(tensors.iter().map(tensor_to_json).collect::<Vec<_>>()))
		.unwrap_or(Value::Null);
	let reveals: Vec<Value> = job
		.reveals
		.iter()
		.map(|r| match r {
			None => json!("pending"),
			Some(true) => json!("revealed"),
			Some(false) => json!("rejected"),
		})
		.collect();
	json!({
		"id": job.id,
		"key": format!("0x{}", hex::encode(job.key)),
		"requester": job.requester.to_string(),
		"model": hex_id(&job.model),
		"inputs": inputs,
		"committee": job.committee.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
		"committed": job.commits,
		"reveals": reveals,
		"fee": {
			"model": job.fee.model_fee.to_string(),
			"perExecutor": job.fee.executor_fee.to_string(),
			"base": job.fee.base_fee.to_string(),
			"resourceFailure": job.fee.resource_fee.to_string(),
			"upkeep": job.fee.upkeep_fee.to_string(),
			"deadline": job.fee.deadline_fee.to_string(),
			"deadlineHeld": job.fee.deadline_held.to_string(),
			"total": job.fee.total.to_string(),
		},
		"phase": format!("{:?}", job.phase),
		"due": job.due,
		"submittedAt": job.submitted_at,
		"resultHash": job.result_hash.map(|h| format!("0x{}", hex::encode(h))),
		"outcome": job.outcome.as_deref().map(|o| outcome_json(o, decimals)),
		"failure": job.failure.map(|f| match f {
			FailureReason::Execution(code) => json!({ "execution": format!("{code:?}") }),
			FailureReason::Resources(code) => json!({ "resources": format!("{code:?}") }),
			other => json!(format!("{other:?}")),
		}),
		"isFinal": job.is_final,
		"challengeUntil": job.challenge_until,
		"firstCommittee": job.first_committee.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
	})
}

#[async_trait]
impl<C> JobRpcApiServer for JobRpc<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: InferenceApi<Block, AccountId, Balance, BlockNumber>
		+ ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
{
	async fn job(&self, id: u64) -> RpcResult<Option<Value>> {
		let at = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let failed = |e: polkadot_sdk::sp_api::ApiError| {
			ErrorObject::owned(9001, format!("runtime API call failed: {e}"), None::<()>)
		};
		let Some(job) = api.job(at, id).map_err(failed)? else { return Ok(None) };
		let decimals = api
			.model(at, job.model)
			.map_err(failed)?
			.map(|m| m.metadata.output_decimals)
			.unwrap_or(6);
		Ok(Some(job_json(job, decimals)))
	}
}
