//! The node's inference: command-line options and start-up. Inference itself runs in worker
//! processes (`verity-inference-worker`) that `verity-engine` starts and supervises; this module
//! configures them and the queue from the command line.

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
	fetch::FetchPolicy,
	host::EngineHost,
	library,
	pool::{PoolConfig, WORKER_BINARY},
	store::hex_id,
	Backend, InferenceService, ModelSource, ModelStore, ServiceConfig, StoreError,
};
use verity_primitives::{
	inference::InferenceHost,
	model::{ModelHosting, ModelLimits, ModelRegistryApi},
	ModelId,
};
use verity_runtime::{opaque::Block, AccountId, Balance, BlockNumber};

/// Options for the inference workers the off-chain workers and `inference_simulate` use.
#[derive(Debug, Clone, clap::Args)]
pub struct InferenceParams {
	/// The ONNX Runtime 1.31.1 shared library (libonnxruntime.so.1.31.1). Default:
	/// `ORT_DYLIB_PATH`, then where `scripts/setup.sh` installs it
	/// (~/.cache/verity/onnxruntime-1.31.1/).
	#[arg(long, value_name = "PATH")]
	pub onnxruntime: Option<PathBuf>,

	/// The inference worker executable. Default: `verity-inference-worker` next to this node's
	/// executable.
	#[arg(long, value_name = "PATH")]
	pub inference_worker: Option<PathBuf>,

	/// Inference worker processes: jobs that run at once. At least 2, so that one worker is
	/// always free for short jobs.
	#[arg(long, value_name = "COUNT", default_value_t = 2)]
	pub inference_workers: usize,

	/// Each inference worker's memory cap (address space), in MiB: it cannot take more. Keep it
	/// at least 512 MiB above the chain's `MaxModelMemoryMib` (2048 on Verity's chains), or jobs
	/// other validators run will fail here.
	#[arg(long, value_name = "MIB", default_value_t = 2560)]
	pub inference_memory_limit: u64,

	/// Wall-clock time a worker may take to load a model, in milliseconds, on top of the run's
	/// own allowance (three times the model's declared CPU time plus 2 s). A worker past its
	/// deadline is killed and the job's outcome is `Timeout`.
	#[arg(long, value_name = "MS", default_value_t = 30_000)]
	pub inference_load_time: u64,

	/// The model store's directory. Default: `models/` under the base path.
	#[arg(long, value_name = "DIR")]
	pub model_store: Option<PathBuf>,

	/// The model store's disk budget, in MiB: the least recently used models no job needs are
	/// removed to stay within it.
	#[arg(long, value_name = "MIB", default_value_t = 16_384)]
	pub model_store_budget: u64,

	/// Let model URIs point at loopback, private and link-local addresses. Only for local test
	/// networks: on a public network a model owner could make the node fetch from its own
	/// private services.
	#[arg(long)]
	pub allow_private_model_uris: bool,

	/// Serve `inference_simulate` on safe RPC too. Without this flag it is an unsafe method,
	/// available only where unsafe RPC methods are (by default, on localhost).
	#[arg(long)]
	pub rpc_inference_simulate: bool,
}

/// The model store directory for a node whose data lives in `base_path`.
pub fn store_dir(params: &InferenceParams, base_path: &std::path::Path) -> PathBuf {
	params.model_store.clone().unwrap_or_else(|| base_path.join("models"))
}

/// The worker executable: the one given, or the one beside this node's executable.
fn worker_binary(params: &InferenceParams) -> PathBuf {
	params.inference_worker.clone().unwrap_or_else(|| {
		std::env::current_exe()
			.ok()
			.and_then(|exe| exe.parent().map(|dir| dir.join(WORKER_BINARY)))
			.unwrap_or_else(|| PathBuf::from(WORKER_BINARY))
	})
}

/// The inference queue, its model store and the off-chain workers' host, shared by the service
/// and RPC.
#[derive(Clone)]
pub struct Inference {
	/// `None` when the workers could not start (allowed on nodes that are not authorities).
	pub service: Option<InferenceService>,
	/// The store, then the chain: its on-chain chunks or the model's URIs.
	pub source: Arc<dyn ModelSource>,
	/// The off-chain workers' side of the `inference` host functions.
	pub host: Arc<dyn InferenceHost>,
	pub simulate_on_safe_rpc: bool,
}

impl Inference {
	/// Opens the model store and starts the inference workers. An authority must be able to
	/// run models, so for it a worker that cannot start is an error; other nodes start without
	/// inference and say so. `chain` gives the models the store does not have yet, given the
	/// store and the metrics (registered in `registry`, if the node serves Prometheus).
	pub fn start(
		params: &InferenceParams,
		base_path: &std::path::Path,
		is_authority: bool,
		registry: Option<&Registry>,
		chain: impl FnOnce(Arc<ModelStore>, Option<InferenceMetrics>) -> Arc<dyn ModelSource>,
	) -> Result<Self, String> {
		let dir = store_dir(params, base_path);
		let policy = FetchPolicy {
			allow_private: params.allow_private_model_uris,
			..FetchPolicy::default()
		};
		let store = Arc::new(
			ModelStore::open(&dir)
				.map_err(|e| format!("cannot open the model store: {e}"))?
				.with_budget(params.model_store_budget.saturating_mul(1024 * 1024))
				.with_fetch_policy(policy),
		);
		log::info!(target: "verity", "model store: {}", dir.display());
		let metrics = match registry.map(InferenceMetrics::register) {
			Some(Ok(metrics)) => Some(metrics),
			Some(Err(e)) => return Err(format!("cannot register the inference metrics: {e}")),
			None => None,
		};
		let source = chain(store, metrics.clone());
		let service = match Self::start_workers(params, source.clone(), metrics.clone()) {
			Ok(service) => Some(service),
			Err(e) if is_authority => {
				return Err(format!(
					"a validator needs ONNX Runtime and its inference workers: {e}"
				))
			},
			Err(e) => {
				log::warn!(target: "verity", "inference disabled: {e}");
				None
			},
		};
		if let Some(metrics) = &metrics {
			metrics.watch_queue(service.clone());
		}
		let host = Arc::new(MeteredHost::new(EngineHost::new(service.clone()), metrics));
		Ok(Self { service, source, host, simulate_on_safe_rpc: params.rpc_inference_simulate })
	}

	fn start_workers(
		params: &InferenceParams,
		source: Arc<dyn ModelSource>,
		metrics: Option<InferenceMetrics>,
	) -> Result<InferenceService, String> {
		let library =
			library::locate_library(params.onnxruntime.as_deref()).map_err(|e| e.to_string())?;
		let pool = PoolConfig {
			library: Some(library.clone()),
			memory_limit: params.inference_memory_limit.saturating_mul(1024 * 1024),
			load_time: Duration::from_millis(params.inference_load_time),
			..PoolConfig::new(worker_binary(params))
		};
		let workers = params.inference_workers.max(2);
		let service = InferenceService::start(
			ServiceConfig { workers, ..ServiceConfig::default() },
			Backend::Workers(pool.clone()),
			source,
			metrics.map(|m| Arc::new(m) as Arc<dyn verity_engine::service::Observer>),
		)
		.map_err(|e| e.to_string())?;
		log::info!(
			target: "verity",
			"ONNX Runtime {} from {}; {workers} inference workers of {} MiB each ({})",
			library::ONNXRUNTIME_VERSION,
			library.display(),
			params.inference_memory_limit,
			pool.binary.display()
		);
		Ok(service)
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
	fn has_local(&self, id: &ModelId) -> bool {
		self.store.contains(id)
	}

	fn pin(&self, id: &ModelId) {
		self.store.pin(id)
	}

	fn unpin(&self, id: &ModelId) {
		self.store.unpin(id)
	}

	fn declared_limits(&self, id: &ModelId) -> Option<ModelLimits> {
		let at = self.client.info().best_hash;
		let record = self.client.runtime_api().model(at, *id).ok()??;
		Some(record.metadata.limits)
	}

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
