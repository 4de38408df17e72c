//! The node's inference queue: jobs run in the background on a pool of workers, and the
//! off-chain worker polls for their outcomes.
//!
//! - [`InferenceService::start_job`] queues a job under its key (once: starting a known key does
//!   nothing) and returns at once. Its model's bytes are fetched first if the node does not have
//!   them, on a fetcher thread, never on a worker's.
//! - Each of [`ServiceConfig::workers`] threads drives one worker process (or, in tests, runs
//!   in this process) and takes the next job: the one with the smallest declared CPU limit,
//!   oldest first among equals, so that a cheap job never waits behind an expensive one. Jobs
//!   whose limit is at least [`ServiceConfig::long_job`] may occupy all workers but one: one
//!   always remains for the others.
//! - [`InferenceService::poll`] tells where a job is; outcomes stay for
//!   [`ServiceConfig::keep_results`] (a model that could not be had, for
//!   [`RETRY_UNAVAILABLE_AFTER`], after which starting the job tries again).
//!
//! The queue is bounded, by jobs and by the bytes of their inputs: beyond that, `start_job`
//! answers [`HostError::Busy`] and the off-chain worker asks again a block later.

use crate::{
	engine::{failure, Engine, Execution, RunStats},
	pool::{Ended, NotRun, PoolConfig, PoolError, WorkerProcess, WorkerRun},
	protocol::RunRequest,
	store::ModelSource,
	RunError,
};
use codec::Encode;
use std::{
	collections::{BTreeMap, HashMap, VecDeque},
	sync::{mpsc, Arc, Condvar, Mutex, MutexGuard},
	thread,
	time::{Duration, Instant},
};
use verity_primitives::{
	inference::{JobKey, JobRequest, JobStatus},
	model::ModelLimits,
	ErrorCode, HostError, ModelId, Outcome, Tensor,
};

/// How long a job whose model could not be had stays `Unavailable` before starting it again
/// tries again.
pub const RETRY_UNAVAILABLE_AFTER: Duration = Duration::from_secs(30);

/// How long a model whose loading killed a worker (out of time or memory) fails its jobs at
/// once, with the same outcome, instead of costing a worker again.
pub const REMEMBER_LOAD_FAILURE: Duration = Duration::from_secs(3600);

/// Most models whose load failures are remembered.
const MAX_LOAD_FAILURES: usize = 1024;

/// The queue's settings.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
	/// Jobs that run at once (worker processes).
	pub workers: usize,
	/// Most jobs queued or running.
	pub max_pending: usize,
	/// Most bytes of inputs of the jobs queued or running.
	pub max_pending_bytes: usize,
	/// Jobs whose CPU limit is at least this share the long lane: all workers but one.
	pub long_job: Duration,
	/// How long finished jobs' outcomes are kept.
	pub keep_results: Duration,
	/// Most finished jobs kept.
	pub max_results: usize,
	/// Threads fetching models the node does not have.
	pub fetchers: usize,
}

impl Default for ServiceConfig {
	fn default() -> Self {
		Self {
			workers: 2,
			max_pending: 8192,
			max_pending_bytes: 256 * 1024 * 1024,
			long_job: Duration::from_millis(250),
			keep_results: Duration::from_secs(600),
			max_results: 65_536,
			fetchers: 2,
		}
	}
}

/// Where jobs run.
#[derive(Clone)]
pub enum Backend {
	/// Worker processes, each under hard limits: what a node runs.
	Workers(PoolConfig),
	/// In this process, with no memory limit and no isolation: for tests and benchmarks only.
	InProcess(Arc<Engine>),
}

/// What a finished job cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobStats {
	/// From `start_job` to a worker taking it (model fetch included).
	pub queued: Duration,
	/// The worker's time on it, loading included.
	pub wall: Duration,
	/// CPU time of the run.
	pub cpu: Duration,
	/// Whether the model had to be loaded.
	pub loaded: bool,
}

/// Told what the queue does (the node's metrics).
pub trait Observer: Send + Sync {
	/// A job finished: its outcome, or why it could not run.
	fn job_finished(&self, _result: &Result<Outcome, HostError>, _stats: &JobStats) {}
	/// A worker process started.
	fn worker_started(&self, _pid: u32, _sandboxed: bool) {}
	/// A worker process ended in the middle of a job.
	fn worker_ended(&self, _ended: Ended) {}
	/// A worker's peak resident memory so far.
	fn worker_memory(&self, _peak_rss: u64) {}
}

struct NoObserver;
impl Observer for NoObserver {}

/// A job in the queue.
struct Job {
	model: ModelId,
	inputs: Vec<Tensor>,
	output_decimals: u8,
	limits: ModelLimits,
	/// Set for [`InferenceService::run`]: where its execution goes.
	reply: Option<mpsc::Sender<Result<Execution, RunError>>>,
	started: Instant,
	input_bytes: usize,
	/// Whether it holds a place in the long lane.
	in_long_lane: bool,
}

impl Job {
	fn long(&self, config: &ServiceConfig) -> bool {
		Duration::from_millis(self.limits.cpu_millis.into()) >= config.long_job
	}
}

enum Entry {
	/// Waiting for its model's bytes.
	Fetching(Job),
	/// Waiting for a worker (its place is in `ready`).
	Ready(Job),
	Running,
	Done(Outcome),
	Unavailable(HostError),
}

#[derive(Default)]
struct State {
	jobs: HashMap<JobKey, Entry>,
	/// Jobs waiting for a worker, by (CPU limit, arrival).
	ready: BTreeMap<(u32, u64), JobKey>,
	/// Jobs waiting for each model being fetched.
	fetching: HashMap<ModelId, Vec<JobKey>>,
	fetch_queue: VecDeque<ModelId>,
	/// Finished jobs, oldest first, with when they finished.
	finished: VecDeque<(Instant, JobKey)>,
	/// Jobs that could not run, oldest first, with when.
	unavailable: VecDeque<(Instant, JobKey)>,
	load_failures: HashMap<ModelId, (ErrorCode, Instant)>,
	arrivals: u64,
	long_running: usize,
	pending: usize,
	pending_bytes: usize,
	stopping: bool,
}

struct Shared {
	config: ServiceConfig,
	backend: Backend,
	source: Arc<dyn ModelSource>,
	observer: Arc<dyn Observer>,
	state: Mutex<State>,
	/// Signalled when a job becomes ready or the service stops.
	work: Condvar,
	/// Signalled when a model is queued for fetching.
	fetch: Condvar,
}

/// The queue; its threads stop when the last handle is dropped.
#[derive(Clone)]
pub struct InferenceService {
	shared: Arc<Shared>,
	_stop: Arc<StopOnDrop>,
}

struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
	fn drop(&mut self) {
		self.0.lock().stopping = true;
		self.0.work.notify_all();
		self.0.fetch.notify_all();
	}
}

impl InferenceService {
	/// Starts the queue's threads. With worker processes, one is started (and stopped) here so
	/// that a worker that cannot start is an error now, not at the first job. Each queue thread
	/// then starts its own: a worker dies with the thread that started it (`PR_SET_PDEATHSIG`),
	/// so no worker may belong to a thread that ends.
	pub fn start(
		config: ServiceConfig,
		backend: Backend,
		source: Arc<dyn ModelSource>,
		observer: Option<Arc<dyn Observer>>,
	) -> Result<Self, PoolError> {
		let first = match &backend {
			Backend::Workers(pool) => Some(WorkerProcess::spawn(pool)?),
			Backend::InProcess(_) => None,
		};
		let observer = observer.unwrap_or_else(|| Arc::new(NoObserver));
		if let Some(worker) = &first {
			observer.worker_started(worker.pid(), worker.sandboxed());
			if !worker.sandboxed() && matches!(&backend, Backend::Workers(p) if p.sandbox) {
				log::warn!(
					target: "verity-engine",
					"this kernel does not enforce Landlock: inference workers are not shut off \
					 from the filesystem (their memory and time limits still hold)"
				);
			}
		}
		let shared = Arc::new(Shared {
			config: config.clone(),
			backend,
			source,
			observer,
			state: Mutex::new(State::default()),
			work: Condvar::new(),
			fetch: Condvar::new(),
		});
		drop(first);
		for index in 0..config.workers.max(1) {
			let shared = shared.clone();
			thread::Builder::new()
				.name(format!("verity-inference-{index}"))
				.spawn(move || executor(shared))
				.map_err(|e| PoolError::Start(format!("queue thread: {e}")))?;
		}
		for index in 0..config.fetchers.max(1) {
			let shared = shared.clone();
			thread::Builder::new()
				.name(format!("verity-model-fetch-{index}"))
				.spawn(move || fetcher(shared))
				.map_err(|e| PoolError::Start(format!("fetch thread: {e}")))?;
		}
		Ok(Self { _stop: Arc::new(StopOnDrop(shared.clone())), shared })
	}

	/// Queues `request` under its key; nothing if the key is known. [`HostError::Busy`] when the
	/// queue is full.
	pub fn start_job(&self, request: JobRequest) -> Result<(), HostError> {
		let JobRequest { key, model, inputs, output_decimals, limits } = request;
		let job = Job {
			model,
			input_bytes: inputs.iter().map(|t| t.data.len()).sum(),
			inputs,
			output_decimals,
			limits,
			reply: None,
			started: Instant::now(),
			in_long_lane: false,
		};
		self.shared.enqueue(key, job)
	}

	/// Where the job of `key` is.
	pub fn poll(&self, key: &JobKey) -> JobStatus {
		let mut state = self.shared.lock();
		self.shared.prune(&mut state);
		match state.jobs.get(key) {
			None => JobStatus::Unknown,
			Some(Entry::Fetching(_) | Entry::Ready(_) | Entry::Running) => JobStatus::Pending,
			Some(Entry::Done(outcome)) => JobStatus::Done(outcome.clone()),
			Some(Entry::Unavailable(e)) => JobStatus::Unavailable(*e),
		}
	}

	/// Runs one inference through the queue and waits for it: its execution, with the raw
	/// outputs. For simulations and probes.
	pub fn run(
		&self,
		model: ModelId,
		inputs: Vec<Tensor>,
		output_decimals: u8,
		limits: ModelLimits,
	) -> Result<Execution, RunError> {
		let (reply, execution) = mpsc::channel();
		let key = {
			let mut state = self.shared.lock();
			state.arrivals += 1;
			// Not a job key: no job hashes to this (it is not a 32-byte hash of anything).
			polkadot_sdk::sp_crypto_hashing::blake2_256(
				&(b"verity/simulation", state.arrivals, &model).encode(),
			)
		};
		let job = Job {
			model,
			input_bytes: inputs.iter().map(|t| t.data.len()).sum(),
			inputs,
			output_decimals,
			limits,
			reply: Some(reply),
			started: Instant::now(),
			in_long_lane: false,
		};
		self.shared.enqueue(key, job).map_err(RunError::Host)?;
		execution.recv().map_err(|_| RunError::Host(HostError::EngineUnavailable))?
	}

	/// Jobs queued or running.
	pub fn pending(&self) -> usize {
		self.shared.lock().pending
	}
}

impl Shared {
	fn lock(&self) -> MutexGuard<'_, State> {
		// Every critical section leaves the state consistent.
		self.state.lock().unwrap_or_else(|e| e.into_inner())
	}

	fn enqueue(&self, key: JobKey, job: Job) -> Result<(), HostError> {
		let mut state = self.lock();
		self.prune(&mut state);
		if state.jobs.contains_key(&key) {
			return Ok(());
		}
		if state.pending >= self.config.max_pending
			|| state.pending_bytes.saturating_add(job.input_bytes) > self.config.max_pending_bytes
		{
			return Err(HostError::Busy);
		}
		if let Some((code, _)) = state.load_failures.get(&job.model) {
			let code = *code;
			drop(state);
			self.finish(key, job, Ok(failure(code)), JobStats::default());
			return Ok(());
		}
		state.pending += 1;
		state.pending_bytes += job.input_bytes;
		self.source.pin(&job.model);
		if self.source.has_local(&job.model) {
			self.make_ready(&mut state, key, job);
		} else {
			let State { fetching, fetch_queue, .. } = &mut *state;
			let waiting = fetching.entry(job.model).or_default();
			if waiting.is_empty() {
				fetch_queue.push_back(job.model);
				self.fetch.notify_one();
			}
			waiting.push(key);
			state.jobs.insert(key, Entry::Fetching(job));
		}
		Ok(())
	}

	fn make_ready(&self, state: &mut State, key: JobKey, job: Job) {
		state.arrivals += 1;
		let place = (job.limits.cpu_millis, state.arrivals);
		state.ready.insert(place, key);
		state.jobs.insert(key, Entry::Ready(job));
		self.work.notify_one();
	}

	/// The next job for a worker: the first ready one, skipping long jobs while all workers
	/// but one run long jobs. `None` when the service stops.
	fn next(&self) -> Option<(JobKey, Job)> {
		let mut state = self.lock();
		loop {
			if state.stopping {
				return None;
			}
			let long_lane = self.config.workers.max(2) - 1;
			let long_ms = u32::try_from(self.config.long_job.as_millis()).unwrap_or(u32::MAX);
			let pick = state
				.ready
				.iter()
				.find(|((cpu, _), _)| *cpu < long_ms || state.long_running < long_lane)
				.map(|(place, key)| (*place, *key));
			if let Some((place, key)) = pick {
				state.ready.remove(&place);
				if let Some(Entry::Ready(mut job)) = state.jobs.insert(key, Entry::Running) {
					if job.long(&self.config) {
						job.in_long_lane = true;
						state.long_running += 1;
					}
					return Some((key, job));
				}
				continue;
			}
			state = self.work.wait(state).unwrap_or_else(|e| e.into_inner());
		}
	}

	/// Records a job's end and hands its execution to whoever waits for it.
	fn finish(&self, key: JobKey, job: Job, result: Result<Execution, RunError>, stats: JobStats) {
		let status = match &result {
			Ok(execution) => Ok(execution.outcome.clone()),
			Err(RunError::ModelUnavailable(_)) => Err(HostError::ModelUnavailable),
			Err(RunError::Host(e)) => Err(*e),
		};
		self.observer.job_finished(&status, &stats);
		{
			let mut state = self.lock();
			let was_pending = matches!(
				state.jobs.get(&key),
				Some(Entry::Running | Entry::Fetching(_) | Entry::Ready(_))
			);
			if was_pending {
				state.pending = state.pending.saturating_sub(1);
				state.pending_bytes = state.pending_bytes.saturating_sub(job.input_bytes);
				self.source.unpin(&job.model);
			}
			if job.in_long_lane {
				state.long_running = state.long_running.saturating_sub(1);
			}
			if job.reply.is_some() {
				// Simulations are not kept: their caller gets the execution itself.
				state.jobs.remove(&key);
			} else {
				let now = Instant::now();
				match status {
					Ok(outcome) => {
						state.jobs.insert(key, Entry::Done(outcome));
						state.finished.push_back((now, key));
					},
					Err(e) => {
						state.jobs.insert(key, Entry::Unavailable(e));
						state.unavailable.push_back((now, key));
					},
				}
			}
			// A long job leaving frees the long lane.
			self.work.notify_all();
		}
		if let Some(reply) = job.reply {
			let _ = reply.send(result);
		}
	}

	/// Drops outcomes past their time, and the oldest beyond the bound.
	fn prune(&self, state: &mut State) {
		let now = Instant::now();
		let State { jobs, finished, unavailable, load_failures, .. } = state;
		for (queue, keep, max) in [
			(finished, self.config.keep_results, self.config.max_results),
			(unavailable, RETRY_UNAVAILABLE_AFTER, self.config.max_results),
		] {
			while let Some((at, key)) = queue.front().copied() {
				if now.duration_since(at) < keep && queue.len() <= max {
					break;
				}
				queue.pop_front();
				if matches!(jobs.get(&key), Some(Entry::Done(_) | Entry::Unavailable(_))) {
					jobs.remove(&key);
				}
			}
		}
		load_failures.retain(|_, (_, at)| now.duration_since(*at) < REMEMBER_LOAD_FAILURE);
	}

	fn remember_load_failure(&self, model: ModelId, code: ErrorCode) {
		let mut state = self.lock();
		if state.load_failures.len() >= MAX_LOAD_FAILURES {
			let oldest = state.load_failures.iter().min_by_key(|(_, (_, at))| *at).map(|(m, _)| *m);
			if let Some(oldest) = oldest {
				state.load_failures.remove(&oldest);
			}
		}
		state.load_failures.insert(model, (code, Instant::now()));
	}
}

/// One worker thread: takes jobs and runs them on its worker (started anew after one dies).
fn executor(shared: Arc<Shared>) {
	let mut worker: Option<WorkerProcess> = None;
	while let Some((key, job)) = shared.next() {
		let queued = job.started.elapsed();
		let (result, mut stats) = match &shared.backend {
			Backend::InProcess(engine) => {
				let result = engine.run_limited(
					&*shared.source,
					&job.model,
					&job.inputs,
					job.output_decimals,
					job.limits.into(),
				);
				let stats = result.as_ref().map(|e| e.stats).unwrap_or_default();
				(result, job_stats(stats))
			},
			Backend::Workers(pool) => run_on_worker(&shared, pool, &mut worker, &job),
		};
		stats.queued = queued;
		shared.finish(key, job, result, stats);
	}
}

fn job_stats(run: RunStats) -> JobStats {
	JobStats { queued: Duration::ZERO, wall: run.wall, cpu: run.cpu, loaded: run.loaded }
}

fn run_on_worker(
	shared: &Shared,
	pool: &PoolConfig,
	worker: &mut Option<WorkerProcess>,
	job: &Job,
) -> (Result<Execution, RunError>, JobStats) {
	let started = Instant::now();
	// A worker that ended while idle (not in a job) gives no outcome: the job goes to a new one.
	for _ in 0..2 {
		if worker.is_none() {
			match WorkerProcess::spawn(pool) {
				Ok(new) => {
					shared.observer.worker_started(new.pid(), new.sandboxed());
					*worker = Some(new);
				},
				Err(e) => {
					log::error!(target: "verity-engine", "{e}");
					// Do not spin on a worker that cannot start.
					thread::sleep(Duration::from_secs(1));
					return (
						Err(RunError::Host(HostError::EngineUnavailable)),
						JobStats::default(),
					);
				},
			}
		}
		let Some(process) = worker.as_mut() else { continue };
		let request = RunRequest {
			model: job.model,
			bytes: None,
			inputs: job.inputs.clone(),
			output_decimals: job.output_decimals,
			limits: job.limits,
			raw_outputs: job.reply.is_some(),
		};
		let source = shared.source.clone();
		let model = job.model;
		let run = process.run(pool, request, &mut || match source.model_bytes(&model) {
			Ok(bytes) => Some(bytes),
			Err(e) => {
				log::warn!(target: "verity-engine", "{e}");
				None
			},
		});
		let wall = started.elapsed();
		return match run {
			Ok(WorkerRun::Finished(result)) => {
				shared.observer.worker_memory(result.peak_rss);
				let stats = JobStats {
					queued: Duration::ZERO,
					wall,
					cpu: Duration::from_micros(result.cpu_micros),
					loaded: result.loaded,
				};
				let result_hash = result.outcome.hash();
				let execution = Execution {
					outcome: result.outcome,
					result_hash,
					outputs: result.outputs,
					stats: RunStats { loaded: result.loaded, cpu: stats.cpu, wall },
				};
				(Ok(execution), stats)
			},
			Ok(WorkerRun::Lost { code, loading }) => {
				if let Some(ended) = process.ended() {
					shared.observer.worker_ended(ended);
				}
				if process.peak_rss() > 0 {
					shared.observer.worker_memory(process.peak_rss());
				}
				*worker = None;
				if loading {
					shared.remember_load_failure(job.model, code);
				}
				let stats = JobStats { wall, loaded: loading, ..JobStats::default() };
				(Ok(failure(code)), stats)
			},
			Err(NotRun::Gone) => {
				log::warn!(target: "verity-engine", "an idle inference worker had ended: starting another");
				*worker = None;
				continue;
			},
			Err(NotRun::ModelMissing) => (
				Err(RunError::Host(HostError::ModelUnavailable)),
				JobStats { wall, ..JobStats::default() },
			),
		};
	}
	(Err(RunError::Host(HostError::EngineUnavailable)), JobStats::default())
}

/// One fetcher thread: gets the bytes of models jobs wait for, then queues those jobs.
fn fetcher(shared: Arc<Shared>) {
	loop {
		let model = {
			let mut state = shared.lock();
			loop {
				if state.stopping {
					return;
				}
				if let Some(model) = state.fetch_queue.pop_front() {
					break model;
				}
				state = shared.fetch.wait(state).unwrap_or_else(|e| e.into_inner());
			}
		};
		// `model_bytes` fetches into the store: from then on the model is local.
		let fetched = shared.source.model_bytes(&model).map(drop);
		let mut state = shared.lock();
		let waiting = state.fetching.remove(&model).unwrap_or_default();
		let mut unavailable = Vec::new();
		for key in waiting {
			let Some(Entry::Fetching(job)) = state.jobs.remove(&key) else { continue };
			match &fetched {
				Ok(()) => shared.make_ready(&mut state, key, job),
				Err(_) => {
					state.jobs.insert(key, Entry::Running);
					unavailable.push((key, job));
				},
			}
		}
		drop(state);
		if let Err(e) = &fetched {
			log::warn!(target: "verity-engine", "jobs miss model {}: {e}", crate::store::hex_id(&model));
		}
		for (key, job) in unavailable {
			let error = match &fetched {
				Err(e) => RunError::ModelUnavailable(clone_store_error(e)),
				Ok(()) => continue,
			};
			shared.finish(key, job, Err(error), JobStats::default());
		}
	}
}

fn clone_store_error(e: &crate::StoreError) -> crate::StoreError {
	crate::StoreError::Fetch { uri: String::new(), reason: e.to_string() }
}
