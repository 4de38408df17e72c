//! Prometheus metrics of the node's inference work, served with Substrate's own on the
//! `--prometheus-port` endpoint (`docs/validator.md` lists them and what to watch).

use polkadot_sdk::substrate_prometheus_endpoint::{
	exponential_buckets, register, CounterVec, Gauge, Histogram, HistogramOpts, MetricSource, Opts,
	PrometheusError, Registry, SourcedGauge, U64,
};
use std::sync::{Arc, Mutex};
use verity_engine::{
	pool::Ended,
	service::{JobStats, Observer},
	InferenceService,
};
use verity_primitives::{
	inference::{InferenceHost, JobKey, JobRequest, JobStatus, OffchainEvent, VoteKind},
	HostError, ModelId, Outcome, Tensor,
};

/// Where a model's bytes came from when a job needed them.
#[derive(Clone, Copy, Debug)]
pub enum ModelFrom {
	/// The node's model store already had it.
	Store,
	/// The registry's on-chain chunks.
	Chain,
	/// One of the URIs the registry lists.
	Uri,
	/// No source gave it.
	Unavailable,
}

impl ModelFrom {
	fn label(self) -> &'static str {
		match self {
			Self::Store => "store",
			Self::Chain => "chain",
			Self::Uri => "uri",
			Self::Unavailable => "unavailable",
		}
	}
}

/// The inference metrics, registered once per node.
#[derive(Clone)]
pub struct InferenceMetrics {
	executed: CounterVec<U64>,
	latency: Histogram,
	votes_submitted: CounterVec<U64>,
	votes_dropped: CounterVec<U64>,
	model_loads: CounterVec<U64>,
	sessions: CounterVec<U64>,
	workers_started: CounterVec<U64>,
	worker_deaths: CounterVec<U64>,
	worker_peak_memory: Gauge<U64>,
	queue: Arc<Mutex<Option<InferenceService>>>,
}

fn counter(
	registry: &Registry,
	name: &str,
	help: &str,
	labels: &[&str],
) -> Result<CounterVec<U64>, PrometheusError> {
	register(CounterVec::new(Opts::new(name, help), labels)?, registry)
}

impl InferenceMetrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let queue: Arc<Mutex<Option<InferenceService>>> = Arc::default();
		register(
			SourcedGauge::new(
				&Opts::new(
					"verity_inference_queue",
					"Jobs in the node's inference queue (waiting for their model or a worker, or \
					 running), and this node's own resident memory in bytes (node_memory)",
				)
				.variable_label("what"),
				QueueAndMemory(queue.clone()),
			)?,
			registry,
		)?;
		Ok(Self {
			executed: counter(
				registry,
				"verity_inference_jobs_executed_total",
				"Jobs the node ran, by outcome: success, failure (a canonical error outcome, \
				 resource failures included) or unavailable (the node could not run it and \
				 misses it)",
				&["outcome"],
			)?,
			latency: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"verity_inference_latency_seconds",
						"Time a worker took for a job, model loading included",
					)
					.buckets(exponential_buckets(0.000_1, 4.0, 10)?),
				)?,
				registry,
			)?,
			votes_submitted: counter(
				registry,
				"verity_inference_votes_submitted_total",
				"Commits and reveals the off-chain workers put into the transaction pool",
				&["kind"],
			)?,
			votes_dropped: counter(
				registry,
				"verity_inference_votes_dropped_total",
				"Commits and reveals the transaction pool refused (refused) or that did not \
				 reach a block in time and were sent again (not_included)",
				&["kind", "reason"],
			)?,
			model_loads: counter(
				registry,
				"verity_model_store_loads_total",
				"Models jobs needed, by where the bytes came from: the model store (a hit), \
				 the chain or a URI (misses, then kept in the store), or none",
				&["source"],
			)?,
			sessions: counter(
				registry,
				"verity_inference_session_cache_total",
				"Jobs whose worker had their model's ONNX Runtime session loaded (hit) or \
				 had to load it (miss)",
				&["result"],
			)?,
			workers_started: counter(
				registry,
				"verity_inference_workers_started_total",
				"Inference worker processes started, by whether their filesystem sandbox \
				 (Landlock) is enforced",
				&["sandboxed"],
			)?,
			worker_deaths: counter(
				registry,
				"verity_inference_worker_deaths_total",
				"Inference workers lost in the middle of a job: killed at the job's deadline \
				 (timeout), out of memory, or crashed",
				&["reason"],
			)?,
			worker_peak_memory: register(
				Gauge::new(
					"verity_inference_worker_peak_memory_bytes",
					"The highest resident memory any inference worker reached",
				)?,
				registry,
			)?,
			queue,
		})
	}

	/// Reports the size of `service`'s queue from now on.
	pub fn watch_queue(&self, service: Option<InferenceService>) {
		*self.queue.lock().unwrap_or_else(|e| e.into_inner()) = service;
	}

	/// Counts a model load.
	pub fn model_loaded(&self, from: ModelFrom) {
		self.model_loads.with_label_values(&[from.label()]).inc();
	}

	fn noted(&self, event: OffchainEvent) {
		let kind = |kind: VoteKind| match kind {
			VoteKind::Commit => "commit",
			VoteKind::Reveal => "reveal",
		};
		match event {
			OffchainEvent::Submitted { kind: k, items } => {
				self.votes_submitted.with_label_values(&[kind(k)]).inc_by(items.into())
			},
			OffchainEvent::Refused { kind: k, items } => {
				self.votes_dropped.with_label_values(&[kind(k), "refused"]).inc_by(items.into())
			},
			OffchainEvent::Resent { kind: k, items } => self
				.votes_dropped
				.with_label_values(&[kind(k), "not_included"])
				.inc_by(items.into()),
		}
	}
}

impl Observer for InferenceMetrics {
	fn job_finished(&self, result: &Result<Outcome, HostError>, stats: &JobStats) {
		let outcome = match result {
			Ok(Outcome::Success(_)) => "success",
			Ok(Outcome::Failure(_)) => "failure",
			Err(_) => "unavailable",
		};
		self.executed.with_label_values(&[outcome]).inc();
		if result.is_ok() {
			self.latency.observe(stats.wall.as_secs_f64());
			let cache = if stats.loaded { "miss" } else { "hit" };
			self.sessions.with_label_values(&[cache]).inc();
		}
	}

	fn worker_started(&self, _pid: u32, sandboxed: bool) {
		self.workers_started.with_label_values(&[if sandboxed { "yes" } else { "no" }]).inc();
	}

	fn worker_ended(&self, ended: Ended) {
		let reason = match ended {
			Ended::Timeout => "timeout",
			Ended::OutOfMemory => "out_of_memory",
			Ended::Crashed => "crashed",
		};
		self.worker_deaths.with_label_values(&[reason]).inc();
	}

	fn worker_memory(&self, peak_rss: u64) {
		if peak_rss > self.worker_peak_memory.get() {
			self.worker_peak_memory.set(peak_rss);
		}
	}
}

/// The queue's size and the node's memory, read when Prometheus scrapes.
#[derive(Clone)]
struct QueueAndMemory(Arc<Mutex<Option<InferenceService>>>);

impl MetricSource for QueueAndMemory {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		if let Some(service) = &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
			set(&["pending"], service.pending() as u64);
		}
		let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
		if let Some(rss) = verity_engine::worker::parse_status_field(&status, "VmRSS:") {
			set(&["node_memory"], rss);
		}
	}
}

/// The off-chain workers' host: the queue's, and the node's metrics of their votes.
pub struct MeteredHost<H> {
	inner: H,
	metrics: Option<InferenceMetrics>,
}

impl<H> MeteredHost<H> {
	pub fn new(inner: H, metrics: Option<InferenceMetrics>) -> Self {
		Self { inner, metrics }
	}
}

impl<H: InferenceHost> InferenceHost for MeteredHost<H> {
	fn run(
		&self,
		model: ModelId,
		inputs: Vec<Tensor>,
		output_decimals: u8,
	) -> Result<Outcome, HostError> {
		self.inner.run(model, inputs, output_decimals)
	}

	fn start(&self, request: JobRequest) -> Result<(), HostError> {
		self.inner.start(request)
	}

	fn poll(&self, key: JobKey) -> JobStatus {
		self.inner.poll(key)
	}

	fn note(&self, event: OffchainEvent) {
		if let Some(metrics) = &self.metrics {
			metrics.noted(event);
		}
	}
}
