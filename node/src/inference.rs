//! The node's inference engine: command-line options and start-up. The engine itself lives in
//! `verity-engine`; this module only configures it from the command line.

use crate::metrics::{InferenceMetrics, MeteredHost, ModelFrom};
use polkadot_sdk::{
	sp_api::ProvideRuntimeApi, sp_blockchain::HeaderBackend,
	substrate_prometheus_endpoint::Registry,
};
use std::{
	collections::HashMap,
	path::PathBuf,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use verity_engine::{
	host::EngineHost, store::hex_id, Engine, EngineConfig, ModelSource, ModelStore, StoreError,
};
use verity_primitives::{
	inference::InferenceHost,
	model::{ModelHosting, ModelRegistryApi},
	ModelId,
};
use verity_runtime::{opaque::Block, AccountId, Balance, BlockNumber};

/// Options for the inference engine the off-chain workers and `inference_simulate` use.
#[derive(Debug, Clone, clap::Args)]
pub struct InferenceParams {
	/// The ONNX Runtime 1.31.1 shared library (libonnxruntime.so.1.31.1). Default:
	/// `ORT_DYLIB_PATH`, then where `scripts/setup.sh` installs it
	/// (~/.cache/verity/onnxruntime-1.31.1/).
	#[arg(long, value_name = "PATH")]
	pub onnxruntime: Option<PathBuf>,

	/// The model store's directory. Default: `models/` under the base path.
	#[arg(long, value_name = "DIR")]
	pub model_store: Option<PathBuf>,

	/// Longest one inference may run, in milliseconds; a longer run ends as a `Timeout` outcome.
	#[arg(long, value_name = "MS", default_value_t = 10_000)]
	pub inference_time_limit: u64,

	/// Most models whose ONNX Runtime sessions stay loaded.
	#[arg(long, value_name = "COUNT", default_value_t = 32)]
	pub inference_cache_models: usize,

	/// Serve `inference_simulate` on safe RPC too. Without this flag it is an unsafe method,
	/// available only where unsafe RPC methods are (by default, on localhost).
	#[arg(long)]
	pub rpc_inference_simulate: bool,
}

/// The model store directory for a node whose data lives in `base_path`.
pub fn store_dir(params: &InferenceParams, base_path: &std::path::Path) -> PathBuf {
	params.model_store.clone().unwrap_or_else(|| base_path.join("models"))
}

/// The engine, its model store and the off-chain workers' host, shared by the service and RPC.
#[derive(Clone)]
pub struct Inference {
	/// `None` when ONNX Runtime could not be loaded (allowed on nodes that are not authorities).
	pub engine: Option<Arc<Engine>>,
	/// The store, then the chain: its on-chain chunks or the model's URIs.
	pub source: Arc<dyn ModelSource>,
	/// The off-chain workers' side of the `inference` host functions (measured).
	pub host: Arc<dyn InferenceHost>,
	pub simulate_on_safe_rpc: bool,
}

impl Inference {
	/// Opens the model store and loads ONNX Runtime. An authority must be able to run models,
	/// so for it a missing library is an error; other nodes start without an engine and say so.
	/// `chain` gives the models the store does not have yet, given the store and the metrics
	/// (registered in `registry`, if the node serves Prometheus).
	pub fn start(
		params: &InferenceParams,
		base_path: &std::path::Path,
		is_authority: bool,
		registry: Option<&Registry>,
		chain: impl FnOnce(Arc<ModelStore>, Option<InferenceMetrics>) -> Arc<dyn ModelSource>,
	) -> Result<Self, String> {
		let dir = store_dir(params, base_path);
		let store = Arc::new(
			ModelStore::open(&dir).map_err(|e| format!("cannot open the model store: {e}"))?,
		);
		let config = EngineConfig {
			library: params.onnxruntime.clone(),
			time_limit: Duration::from_millis(params.inference_time_limit),
			cached_models: params.inference_cache_models,
			..EngineConfig::default()
		};
		let engine = match Engine::new(config) {
			Ok(engine) => Some(Arc::new(engine)),
			Err(e) if is_authority => return Err(format!("a validator needs ONNX Runtime: {e}")),
			Err(e) => {
				log::warn!(target: "verity", "inference disabled: {e}");
				None
			},
		};
		log::info!(target: "verity", "model store: {}", dir.display());
		let metrics = match registry.map(|r| InferenceMetrics::register(r, engine.clone())) {
			Some(Ok(metrics)) => Some(metrics),
			Some(Err(e)) => return Err(format!("cannot register the inference metrics: {e}")),
			None => None,
		};
		let source = chain(store.clone(), metrics.clone());
		let host =
			Arc::new(MeteredHost::new(EngineHost::new(engine.clone(), source.clone()), metrics));
		Ok(Self { engine, source, host, simulate_on_safe_rpc: params.rpc_inference_simulate })
	}
}

/// How long a model no source could give is not asked for again: its jobs are missed at once
/// instead of each waiting for the same failure.
pub const RETRY_UNAVAILABLE_AFTER: Duration = Duration::from_secs(30);

/// Models from the store, else from the chain at the best block: the registry's on-chain
/// chunks, or the URIs it lists. Whatever arrives is checked against the id and kept in the store.
pub struct ChainModels<C> {
	client: Arc<C>,
	store: Arc<ModelStore>,
	metrics: Option<InferenceMetrics>,
	/// Models no source gave, and when that was last found.
	unavailable: Mutex<HashMap<ModelId, Instant>>,
}

impl<C> ChainModels<C> {
	pub fn new(client: Arc<C>, store: Arc<ModelStore>, metrics: Option<InferenceMetrics>) -> Self {
		Self { client, store, metrics, unavailable: Mutex::new(HashMap::new()) }
	}

	fn count(&self, from: ModelFrom) {
		if let Some(metrics) = &self.metrics {
			metrics.model_loaded(from);
		}
	}
}

impl<C> ModelSource for ChainModels<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
{
	fn model_bytes(&self, id: &ModelId) -> Result<Vec<u8>, StoreError> {
		if let Some(bytes) = self.store.get(id)? {
			self.count(ModelFrom::Store);
			return Ok(bytes);
		}
		let recently_failed = |unavailable: &HashMap<ModelId, Instant>| {
			unavailable.get(id).is_some_and(|at| at.elapsed() < RETRY_UNAVAILABLE_AFTER)
		};
		if recently_failed(&self.unavailable.lock().unwrap_or_else(|e| e.into_inner())) {
			self.count(ModelFrom::Unavailable);
			return Err(StoreError::Fetch {
				uri: hex_id(id),
				reason: format!(
					"no source gave it in the last {} s; not asked again yet",
					RETRY_UNAVAILABLE_AFTER.as_secs()
				),
			});
		}
		let result = self.fetch(id);
		let mut unavailable = self.unavailable.lock().unwrap_or_else(|e| e.into_inner());
		match &result {
			Ok((_, from)) => {
				unavailable.remove(id);
				self.count(*from);
			},
			Err(_) => {
				unavailable.insert(*id, Instant::now());
				self.count(ModelFrom::Unavailable);
			},
		}
		result.map(|(bytes, _)| bytes)
	}
}

impl<C> ChainModels<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
{
	/// The model from the chain: its on-chain chunks or its URIs, kept in the store.
	fn fetch(&self, id: &ModelId) -> Result<(Vec<u8>, ModelFrom), StoreError> {
		let at = self.client.info().best_hash;
		let chain_error =
			|reason: String| StoreError::Fetch { uri: format!("chain at {at}"), reason };
		let api = self.client.runtime_api();
		let record = api
			.model(at, *id)
			.map_err(|e| chain_error(e.to_string()))?
			.ok_or(StoreError::NotFound(*id))?;
		if !record.status.is_runnable() {
			return Err(chain_error(format!("model {} is {:?}", hex_id(id), record.status)));
		}
		match record.metadata.hosting {
			ModelHosting::OnChain { size } => {
				let mut bytes = Vec::with_capacity(size as usize);
				let mut index = 0;
				while bytes.len() < size as usize {
					let chunk = api
						.chunk(at, *id, index)
						.map_err(|e| chain_error(e.to_string()))?
						.ok_or_else(|| chain_error(format!("chunk {index} is missing")))?;
					bytes.extend_from_slice(&chunk);
					index += 1;
				}
				self.store.insert(id, &bytes)?;
				log::info!(target: "verity", "model {} loaded from chain chunks", hex_id(id));
				Ok((bytes, ModelFrom::Chain))
			},
			ModelHosting::Uris { uris, .. } => {
				let mut last = StoreError::NotFound(*id);
				for uri in uris {
					match self.store.fetch(id, &String::from_utf8_lossy(&uri)) {
						Ok(bytes) => return Ok((bytes, ModelFrom::Uri)),
						Err(e) => {
							log::warn!(target: "verity", "{e}");
							last = e;
						},
					}
				}
				Err(last)
			},
		}
	}
}
