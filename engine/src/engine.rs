//! The engine: runs a model on inputs and returns its canonical outcome.

use crate::{
	convert,
	library::{self, LibraryError},
	store::{ModelSource, StoreError},
	watchdog::{Clock, Watchdog},
};
use codec::Encode;
use ort::{
	environment::Environment,
	session::{builder::GraphOptimizationLevel, RunOptions, Session, SessionInputValue},
};
use std::{
	borrow::Cow,
	collections::HashMap,
	path::PathBuf,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex, MutexGuard,
	},
	time::{Duration, Instant},
};
use verity_primitives::{
	canonical::{canonicalize, MAX_OUTPUT_DECIMALS},
	inference::MAX_OUTCOME_BYTES,
	model::ModelLimits,
	onnx::{check_model, ModelCheckError},
	tensor::InputError,
	validate_inputs, ErrorCode, ModelId, Outcome, Tensor, TensorSpec,
};

/// How much ONNX Runtime may rewrite a graph before running it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optimization {
	/// No rewrites: the graph runs as written.
	Disabled,
	/// Semantics-preserving rewrites only (constant folding, redundant node removal).
	Basic,
	/// Basic plus operator fusions.
	Extended,
	/// Everything, including layout changes.
	All,
}

impl Optimization {
	fn level(self) -> GraphOptimizationLevel {
		match self {
			Self::Disabled => GraphOptimizationLevel::Disable,
			Self::Basic => GraphOptimizationLevel::Level1,
			Self::Extended => GraphOptimizationLevel::Level2,
			Self::All => GraphOptimizationLevel::All,
		}
	}
}

/// How each ONNX Runtime session is configured. The defaults are the ones every validator must
/// use; `docs/determinism.md` shows why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionSettings {
	/// Threads inside one inference. Parallelism comes from running inferences concurrently.
	pub intra_threads: usize,
	pub optimization: Optimization,
	/// ONNX Runtime's deterministic compute mode.
	pub deterministic_compute: bool,
}

impl Default for SessionSettings {
	fn default() -> Self {
		Self { intra_threads: 1, optimization: Optimization::Basic, deterministic_compute: true }
	}
}

/// The engine's limits and settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
	/// The ONNX Runtime library file; `None` looks in `ORT_DYLIB_PATH` and then setup's place.
	pub library: Option<PathBuf>,
	pub session: SessionSettings,
	/// CPU time an inference may take when the caller gives no limits ([`Engine::run`]); past
	/// it the outcome is [`ErrorCode::Timeout`].
	pub time_limit: Duration,
	/// What the watchdog measures to stop a run early (the verdict is always the run's own CPU
	/// time): wall-clock time in a process that runs several inferences at once, the process's
	/// CPU time in a worker that runs one at a time.
	pub watchdog_clock: Clock,
	/// Most bytes of input data one inference takes; above it the outcome is
	/// [`ErrorCode::InputTooLarge`].
	pub max_input_bytes: u32,
	/// Most models whose sessions stay loaded.
	pub cached_models: usize,
	/// Most bytes of model files whose sessions stay loaded (a session takes about its model's
	/// size, and more).
	pub cached_bytes: u64,
	/// Most idle sessions kept per model (one is needed per concurrent inference of it).
	pub sessions_per_model: usize,
}

impl Default for EngineConfig {
	fn default() -> Self {
		Self {
			library: None,
			session: SessionSettings::default(),
			time_limit: Duration::from_secs(10),
			watchdog_clock: Clock::Wall,
			max_input_bytes: verity_primitives::tensor::MAX_TENSOR_BYTES,
			cached_models: 32,
			cached_bytes: 1024 * 1024 * 1024,
			sessions_per_model: 4,
		}
	}
}

/// What one inference may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
	/// CPU time of the run (loading the model not included).
	pub cpu: Duration,
}

impl From<ModelLimits> for RunLimits {
	fn from(limits: ModelLimits) -> Self {
		Self { cpu: Duration::from_millis(limits.cpu_millis.into()) }
	}
}

/// What an inference cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
	/// Whether the model had to be loaded first (not in the session cache).
	pub loaded: bool,
	/// CPU time of the run itself, on the thread that ran it.
	pub cpu: Duration,
	/// Wall-clock time of the whole call, loading included.
	pub wall: Duration,
}

/// What one inference produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
	/// The canonical outcome validators vote on.
	pub outcome: Outcome,
	/// `blake2_256(SCALE(outcome))`.
	pub result_hash: [u8; 32],
	/// The model's raw outputs (empty when the outcome is a failure before or during the run).
	pub outputs: Vec<Tensor>,
	pub stats: RunStats,
}

/// Why the engine could not run an inference at all (a local condition, not an outcome).
#[derive(Debug)]
pub enum RunError {
	/// No source had the model's bytes, or none that hash to its id.
	ModelUnavailable(StoreError),
	/// The node could not run it: no worker, or the queue is full.
	Host(verity_primitives::HostError),
}

impl std::fmt::Display for RunError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::ModelUnavailable(e) => write!(f, "model unavailable: {e}"),
			Self::Host(verity_primitives::HostError::Busy) => {
				write!(f, "the node's inference queue is full: try again later")
			},
			Self::Host(e) => write!(f, "cannot run: {e:?}"),
		}
	}
}

impl std::error::Error for RunError {}

/// Counters for operators (cache hits and misses, runs, timeouts).
#[derive(Debug, Default)]
pub struct EngineStats {
	pub runs: AtomicU64,
	pub cache_hits: AtomicU64,
	pub cache_misses: AtomicU64,
	pub sessions_created: AtomicU64,
	pub timeouts: AtomicU64,
}

/// A model loaded into ONNX Runtime: its input specs and idle sessions.
pub(crate) struct LoadedModel {
	bytes: Arc<[u8]>,
	inputs: Vec<TensorSpec>,
	outputs: Vec<String>,
	idle: Mutex<Vec<Session>>,
}

/// The bounded cache of loaded models, evicting the least recently used.
/// A model's load result, when it was last used, and its size in bytes.
type CacheEntry = (Result<Arc<LoadedModel>, ErrorCode>, u64, u64);

#[derive(Default)]
struct ModelCache {
	entries: HashMap<ModelId, CacheEntry>,
	clock: u64,
	bytes: u64,
}

impl ModelCache {
	/// Removes the least recently used entries until one of `size` more bytes fits both bounds.
	fn make_room(&mut self, size: u64, max_models: usize, max_bytes: u64) {
		while !self.entries.is_empty()
			&& (self.entries.len() >= max_models.max(1)
				|| self.bytes.saturating_add(size) > max_bytes)
		{
			let oldest =
				self.entries.iter().min_by_key(|(_, (_, used, _))| *used).map(|(id, _)| *id);
			if let Some((_, _, freed)) = oldest.and_then(|id| self.entries.remove(&id)) {
				self.bytes = self.bytes.saturating_sub(freed);
			}
		}
	}
}

/// Runs models with ONNX Runtime under Verity's deterministic settings.
pub struct Engine {
	env: Environment,
	config: EngineConfig,
	cache: Mutex<ModelCache>,
	watchdog: Watchdog,
	stats: EngineStats,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
	// Every critical section leaves the data consistent, so a poisoned lock is still usable.
	mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Engine {
	/// Loads ONNX Runtime and starts the engine.
	pub fn new(config: EngineConfig) -> Result<Self, LibraryError> {
		let env = library::environment(config.library.as_deref())?;
		let watchdog = Watchdog::start(config.watchdog_clock)
			.map_err(|e| LibraryError::Environment { reason: format!("watchdog thread: {e}") })?;
		Ok(Self {
			env,
			config,
			cache: Mutex::new(ModelCache::default()),
			watchdog,
			stats: EngineStats::default(),
		})
	}

	pub fn config(&self) -> &EngineConfig {
		&self.config
	}

	pub fn stats(&self) -> &EngineStats {
		&self.stats
	}

	/// Runs `model` (its bytes from `source` unless already loaded) on `inputs` within the
	/// configured time limit. Every way the model, the inputs or the run can fail is a canonical
	/// failure outcome; only a model this node cannot get is an error.
	pub fn run(
		&self,
		source: &dyn ModelSource,
		model: &ModelId,
		inputs: &[Tensor],
		output_decimals: u8,
	) -> Result<Execution, RunError> {
		self.run_limited(source, model, inputs, output_decimals, self.default_limits())
	}

	/// The limits [`Engine::run`] applies.
	pub fn default_limits(&self) -> RunLimits {
		RunLimits { cpu: self.config.time_limit }
	}

	/// Runs `model` on `inputs` within `limits`: a run whose CPU time goes past `limits.cpu` is
	/// a [`ErrorCode::Timeout`] (stopped early by the watchdog, between two operators).
	pub fn run_limited(
		&self,
		source: &dyn ModelSource,
		model: &ModelId,
		inputs: &[Tensor],
		output_decimals: u8,
		limits: RunLimits,
	) -> Result<Execution, RunError> {
		let started = Instant::now();
		let mut stats = RunStats::default();
		let mut execution =
			self.execute_job(source, model, inputs, output_decimals, limits, &mut stats)?;
		stats.wall = started.elapsed();
		execution.stats = stats;
		Ok(execution)
	}

	fn execute_job(
		&self,
		source: &dyn ModelSource,
		model: &ModelId,
		inputs: &[Tensor],
		output_decimals: u8,
		limits: RunLimits,
		stats: &mut RunStats,
	) -> Result<Execution, RunError> {
		self.stats.runs.fetch_add(1, Ordering::Relaxed);
		if output_decimals > MAX_OUTPUT_DECIMALS {
			return Ok(failure(ErrorCode::InvalidDecimals));
		}
		let (loaded, fresh) = self.load(source, model)?;
		stats.loaded = fresh;
		let loaded = match loaded {
			Ok(loaded) => loaded,
			Err(code) => return Ok(failure(code)),
		};
		if let Err(e) = validate_inputs(&loaded.inputs, inputs, self.config.max_input_bytes) {
			return Ok(failure(match e {
				InputError::TooLarge { .. } => ErrorCode::InputTooLarge,
				_ => ErrorCode::InvalidInput,
			}));
		}
		let session = match self.take_session(&loaded) {
			Ok(session) => session,
			Err(code) => return Ok(failure(code)),
		};
		let mut session = SessionGuard { session: Some(session), loaded: &loaded, engine: self };
		let outputs = match self.execute(session.get(), &loaded, inputs, limits, stats) {
			Ok(outputs) => outputs,
			Err(code) => return Ok(failure(code)),
		};
		Ok(match canonicalize(&outputs, output_decimals) {
			Ok(canonical) => {
				let outcome = Outcome::Success(canonical);
				if outcome.encoded_size() > MAX_OUTCOME_BYTES as usize {
					return Ok(failure(ErrorCode::OutputTooLarge));
				}
				Execution { result_hash: outcome.hash(), outcome, outputs, stats: *stats }
			},
			Err(code) => Execution { outputs, ..failure(code) },
		})
	}

	/// The specs of a model's inputs, as ONNX Runtime reads them from the model.
	pub fn input_specs(
		&self,
		source: &dyn ModelSource,
		model: &ModelId,
	) -> Result<Result<Vec<TensorSpec>, ErrorCode>, RunError> {
		Ok(self.load(source, model)?.0.map(|loaded| loaded.inputs.clone()))
	}

	/// Loads `model` into the session cache (a load failure is cached too, as the model's
	/// outcome) without running it.
	pub fn preload(&self, source: &dyn ModelSource, model: &ModelId) -> Result<(), RunError> {
		self.load(source, model).map(drop)
	}

	/// Whether the model's session (or its load failure) is cached.
	pub fn is_cached(&self, model: &ModelId) -> bool {
		lock(&self.cache).entries.contains_key(model)
	}

	/// Drops every cached session.
	pub fn clear_cache(&self) {
		let mut cache = lock(&self.cache);
		cache.entries.clear();
		cache.bytes = 0;
	}

	/// The model's load result from the cache, or loaded now (then `true`).
	fn load(
		&self,
		source: &dyn ModelSource,
		model: &ModelId,
	) -> Result<(Result<Arc<LoadedModel>, ErrorCode>, bool), RunError> {
		{
			let mut cache = lock(&self.cache);
			cache.clock += 1;
			let now = cache.clock;
			if let Some((loaded, used, _)) = cache.entries.get_mut(model) {
				*used = now;
				self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
				return Ok((loaded.clone(), false));
			}
		}
		self.stats.cache_misses.fetch_add(1, Ordering::Relaxed);
		let bytes: Arc<[u8]> =
			source.model_bytes(model).map_err(RunError::ModelUnavailable)?.into();
		let size = bytes.len() as u64;
		let loaded = self.open(bytes);
		let mut cache = lock(&self.cache);
		cache.make_room(size, self.config.cached_models, self.config.cached_bytes);
		let now = cache.clock;
		if let Some((_, _, replaced)) = cache.entries.insert(*model, (loaded.clone(), now, size)) {
			cache.bytes = cache.bytes.saturating_sub(replaced);
		}
		cache.bytes = cache.bytes.saturating_add(size);
		Ok((loaded, true))
	}

	/// Loads `bytes` into a first session and reads the model's inputs and outputs. Models that
	/// keep tensor data in external files are refused before ONNX Runtime sees them.
	fn open(&self, bytes: Arc<[u8]>) -> Result<Arc<LoadedModel>, ErrorCode> {
		check_model(&bytes).map_err(|e| match e {
			ModelCheckError::ExternalData => ErrorCode::ExternalData,
			ModelCheckError::Malformed | ModelCheckError::TooDeep => ErrorCode::InvalidModel,
		})?;
		let session = self.new_session(&bytes)?;
		let inputs = session
			.inputs()
			.iter()
			.map(convert::spec_of)
			.collect::<Option<Vec<_>>>()
			.ok_or(ErrorCode::InvalidModel)?;
		let outputs = session.outputs().iter().map(|o| o.name().to_string()).collect();
		Ok(Arc::new(LoadedModel { bytes, inputs, outputs, idle: Mutex::new(vec![session]) }))
	}

	/// A session with the engine's settings. Bytes ONNX Runtime cannot load are an invalid model.
	pub(crate) fn new_session(&self, bytes: &[u8]) -> Result<Session, ErrorCode> {
		let settings = self.config.session;
		let session = Session::builder(&self.env)
			.and_then(|b| Ok(b.with_optimization_level(settings.optimization.level())?))
			.and_then(|b| Ok(b.with_intra_threads(settings.intra_threads)?))
			.and_then(|b| Ok(b.with_inter_threads(1)?))
			.and_then(|b| Ok(b.with_parallel_execution(false)?))
			.and_then(|b| Ok(b.with_deterministic_compute(settings.deterministic_compute)?))
			.and_then(|mut b| b.commit_from_memory(bytes));
		match session {
			Ok(session) => {
				self.stats.sessions_created.fetch_add(1, Ordering::Relaxed);
				Ok(session)
			},
			Err(e) => {
				log::debug!(target: "verity-engine", "model rejected by ONNX Runtime: {e}");
				Err(if is_allocation_failure(&e.to_string()) {
					ErrorCode::OutOfMemory
				} else {
					ErrorCode::InvalidModel
				})
			},
		}
	}

	fn take_session(&self, loaded: &LoadedModel) -> Result<Session, ErrorCode> {
		if let Some(session) = lock(&loaded.idle).pop() {
			return Ok(session);
		}
		self.new_session(&loaded.bytes)
	}

	fn execute(
		&self,
		session: &mut Session,
		loaded: &LoadedModel,
		inputs: &[Tensor],
		limits: RunLimits,
		stats: &mut RunStats,
	) -> Result<Vec<Tensor>, ErrorCode> {
		let mut values: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
			Vec::with_capacity(inputs.len());
		for input in inputs {
			let name = core::str::from_utf8(&input.name).map_err(|_| ErrorCode::InvalidInput)?;
			let value = convert::to_value(input).map_err(|_| ErrorCode::InvalidInput)?;
			values.push((Cow::Borrowed(name), value.into()));
		}
		let options = Arc::new(RunOptions::new().map_err(|_| ErrorCode::ExecutionFailed)?);
		let cpu_before = thread_cpu_time();
		let watch = self.watchdog.watch(options.clone(), limits.cpu);
		let run = session.run_with_options(values, &*options);
		stats.cpu = thread_cpu_time().saturating_sub(cpu_before);
		// The verdict is the run's own CPU time: a run stopped by the watchdog went past it,
		// and one that finished past it is a timeout too, however fast the machine's clock
		// went otherwise.
		if watch.fired() || stats.cpu > limits.cpu {
			self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
			return Err(ErrorCode::Timeout);
		}
		drop(watch);
		let outputs = match run {
			Ok(outputs) => outputs,
			Err(e) => {
				log::debug!(target: "verity-engine", "run failed: {e}");
				let message = e.to_string();
				return Err(match e.code() {
					_ if is_allocation_failure(&message) => ErrorCode::OutOfMemory,
					ort::ErrorCode::InvalidArgument => ErrorCode::InvalidInput,
					_ => ErrorCode::ExecutionFailed,
				});
			},
		};
		loaded
			.outputs
			.iter()
			.map(|name| {
				let value = outputs.get(name).ok_or(ErrorCode::MalformedOutput)?;
				convert::from_value(name, value)
			})
			.collect()
	}
}

/// Puts a session back in its model's idle pool (up to the limit) when the run is over.
struct SessionGuard<'a> {
	session: Option<Session>,
	loaded: &'a LoadedModel,
	engine: &'a Engine,
}

impl SessionGuard<'_> {
	fn get(&mut self) -> &mut Session {
		// Set on creation and only taken in `drop`. qed
		self.session.as_mut().expect("session present until dropped")
	}
}

impl Drop for SessionGuard<'_> {
	fn drop(&mut self) {
		if let Some(session) = self.session.take() {
			let mut idle = lock(&self.loaded.idle);
			if idle.len() < self.engine.config.sessions_per_model.max(1) {
				idle.push(session);
			}
		}
	}
}

/// An execution that failed with `code`.
pub fn failure(code: ErrorCode) -> Execution {
	let outcome = Outcome::Failure(code);
	Execution {
		result_hash: outcome.hash(),
		outcome,
		outputs: Vec::new(),
		stats: RunStats::default(),
	}
}

/// Whether an ONNX Runtime error says an allocation failed (its arena's message, or a
/// `std::bad_alloc` it caught).
fn is_allocation_failure(message: &str) -> bool {
	message.contains("Failed to allocate memory")
		|| message.contains("bad_alloc")
		|| message.contains("bad allocation")
}

/// CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
	let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
	Duration::new(t.tv_sec.max(0) as u64, t.tv_nsec.clamp(0, 999_999_999) as u32)
}
