//! `modelRegistry_*`: the model registry's runtime API as JSON, with names and specs readable
//! (polkadot.js can also call the runtime API itself: `api.call.modelRegistryApi.model(id)`).

use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::{ErrorObject, ErrorObjectOwned},
};
use polkadot_sdk::{sp_api::ProvideRuntimeApi, sp_blockchain::HeaderBackend};
use serde_json::{json, Value};
use std::sync::Arc;
use verity_engine::store::{hex_id, parse_id};
use verity_primitives::{
	model::{ModelFormat, ModelHosting, ModelRecord, ModelRegistryApi},
	tensor::{Dim, TensorSpec},
	ModelId,
};
use verity_runtime::{opaque::Block, AccountId, Balance, BlockNumber};

#[rpc(server)]
pub trait ModelRegistryRpcApi {
	/// The model with this id (`0x` hex), or null.
	#[method(name = "modelRegistry_model")]
	async fn model(&self, id: String) -> RpcResult<Option<Value>>;

	/// The ids of the family (`owner`, `name`), oldest first.
	#[method(name = "modelRegistry_versions")]
	async fn versions(&self, owner: AccountId, name: String) -> RpcResult<Vec<String>>;

	/// The newest runnable version of the family (`owner`, `name`), or null.
	#[method(name = "modelRegistry_latest")]
	async fn latest(&self, owner: AccountId, name: String) -> RpcResult<Option<String>>;

	/// The ids of every model `owner` owns.
	#[method(name = "modelRegistry_modelsByOwner")]
	async fn models_by_owner(&self, owner: AccountId) -> RpcResult<Vec<String>>;
}

pub struct ModelRegistryRpc<C> {
	client: Arc<C>,
}

impl<C> ModelRegistryRpc<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

fn api_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObject::owned(9001, format!("runtime API call failed: {e}"), None::<()>)
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

fn spec_json(spec: &TensorSpec) -> Value {
	let shape: Vec<Value> = spec
		.shape
		.iter()
		.map(|d| match d {
			Dim::Fixed(n) => json!(n),
			Dim::Dynamic => json!(null),
		})
		.collect();
	json!({ "name": text(&spec.name), "dtype": spec.dtype.name(), "shape": shape })
}

/// A model record as JSON: text as strings, balances as decimal strings, dynamic dims as null.
pub fn record_json(id: &ModelId, record: &ModelRecord<AccountId, Balance, BlockNumber>) -> Value {
	let meta = &record.metadata;
	let ModelFormat::Onnx { opset } = meta.format;
	let hosting = match &meta.hosting {
		ModelHosting::OnChain { size } => json!({ "onChain": { "size": size } }),
		ModelHosting::Uris { size, uris } => json!({
			"uris": { "size": size, "uris": uris.iter().map(|u| text(u)).collect::<Vec<_>>() }
		}),
	};
	json!({
		"id": hex_id(id),
		"owner": record.owner.to_string(),
		"depositor": record.depositor.to_string(),
		"deposit": record.deposit.to_string(),
		"status": format!("{:?}", record.status),
		"name": text(&meta.name),
		"version": text(&meta.version),
		"description": text(&meta.description),
		"format": { "onnx": { "opset": opset } },
		"inputs": meta.inputs.iter().map(spec_json).collect::<Vec<_>>(),
		"outputs": meta.outputs.iter().map(spec_json).collect::<Vec<_>>(),
		"outputDecimals": meta.output_decimals,
		"tolerance": meta.tolerance,
		"fee": meta.fee.to_string(),
		"hosting": hosting,
		"chunksReceived": record.chunks_received,
		"registeredAt": record.registered_at,
	})
}

#[async_trait]
impl<C> ModelRegistryRpcApiServer for ModelRegistryRpc<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
{
	async fn model(&self, id: String) -> RpcResult<Option<Value>> {
		let id = parse_id(&id).ok_or_else(|| {
			ErrorObject::owned(-32602, "id: expected a 0x-prefixed 32-byte hex id", None::<()>)
		})?;
		let at = self.client.info().best_hash;
		let record = self.client.runtime_api().model(at, id).map_err(api_error)?;
		Ok(record.map(|record| record_json(&id, &record)))
	}

	async fn versions(&self, owner: AccountId, name: String) -> RpcResult<Vec<String>> {
		let at = self.client.info().best_hash;
		let ids =
			self.client.runtime_api().versions(at, owner, name.into_bytes()).map_err(api_error)?;
		Ok(ids.iter().map(hex_id).collect())
	}

	async fn latest(&self, owner: AccountId, name: String) -> RpcResult<Option<String>> {
		let at = self.client.info().best_hash;
		let id =
			self.client.runtime_api().latest(at, owner, name.into_bytes()).map_err(api_error)?;
		Ok(id.as_ref().map(hex_id))
	}

	async fn models_by_owner(&self, owner: AccountId) -> RpcResult<Vec<String>> {
		let at = self.client.info().best_hash;
		let ids = self.client.runtime_api().models_by_owner(at, owner).map_err(api_error)?;
		Ok(ids.iter().map(hex_id).collect())
	}
}
