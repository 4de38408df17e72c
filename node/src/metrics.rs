//! Prometheus metrics of the node's inference work, served with Substrate's own on the
//! `--prometheus-port` endpoint (`docs/validator.md` lists them and what to watch).

use polkadot_sdk::substrate_prometheus_endpoint::{
	exponential_buckets, register, CounterVec, Histogram, HistogramOpts, MetricSource, Opts,
	PrometheusError, Registry, SourcedCounter, U64,
};
use std::{
	sync::{atomic::Ordering, Arc},
	time::Instant,
};
use verity_engine::{host::EngineHost, Engine};
use verity_primitives::{
	inference::{InferenceHost, OffchainEvent, VoteKind},
	HostError, ModelId, Outcome, Tensor,
};

/// Where a model's bytes came from when the engine loaded it.
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
}

impl InferenceMetrics {
	/// Registers the metrics in `registry`, and the session cache counters of `engine`.
	pub fn register(
		registry: &Registry,
		engine: Option<Arc<Engine>>,
	) -> Result<Self, PrometheusError> {
		if let Some(engine) = engine {
			register(
				SourcedCounter::new(
					&Opts::new(
						"verity_inference_session_cache_total",
						"Inferences that found their model's ONNX Runtime session loaded (hit) \
						 or had to load it (miss)",
					)
					.variable_label("result"),
					SessionCache(engine),
				)?,
				registry,
			)?;
		}
		Ok(Self {
			executed: register(
				CounterVec::new(
					Opts::new(
						"verity_inference_jobs_executed_total",
						"Jobs the off-chain workers ran, by outcome: success, failure (a canonical \
						 error outcome) or unavailable (the node could not run it and misses it)",
					),
					&["outcome"],
				)?,
				registry,
			)?,
			latency: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"verity_inference_latency_seconds",
						"Time the off-chain workers' inferences took, model loading included",
					)
					.buckets(exponential_buckets(0.000_1, 4.0, 10)?),
				)?,
				registry,
			)?,
			votes_submitted: register(
				CounterVec::new(
					Opts::new(
						"verity_inference_votes_submitted_total",
						"Commits and reveals the off-chain workers put into the transaction pool",
					),
					&["kind"],
				)?,
				registry,
			)?,
			votes_dropped: register(
				CounterVec::new(
					Opts::new(
						"verity_inference_votes_dropped_total",
						"Commits and reveals the transaction pool refused (refused) or that did not \
						 reach a block in time and were sent again (not_included)",
					),
					&["kind", "reason"],
				)?,
				registry,
			)?,
			model_loads: register(
				CounterVec::new(
					Opts::new(
						"verity_model_store_loads_total",
						"Models the engine loaded, by where the bytes came from: the model store \
						 (a hit), the chain or a URI (misses, then kept in the store), or none",
					),
					&["source"],
				)?,
				registry,
			)?,
		})
	}

	/// Counts a model load.
	pub fn model_loaded(&self, from: ModelFrom) {
		self.model_loads.with_label_values(&[from.label()]).inc();
	}

	fn executed(&self, result: &Result<Outcome, HostError>, started: Instant) {
		let outcome = match result {
			Ok(Outcome::Success(_)) => "success",
			Ok(Outcome::Failure(_)) => "failure",
			Err(_) => "unavailable",
		};
		self.executed.with_label_values(&[outcome]).inc();
		if result.is_ok() {
			self.latency.observe(started.elapsed().as_secs_f64());
		}
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

/// The engine's session cache counters, read when Prometheus scrapes.
#[derive(Clone)]
struct SessionCache(Arc<Engine>);

impl MetricSource for SessionCache {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		let stats = self.0.stats();
		set(&["hit"], stats.cache_hits.load(Ordering::Relaxed));
		set(&["miss"], stats.cache_misses.load(Ordering::Relaxed));
	}
}

/// The off-chain workers' host: the engine's, measured.
pub struct MeteredHost {
	inner: EngineHost,
	metrics: Option<InferenceMetrics>,
}

impl MeteredHost {
	pub fn new(inner: EngineHost, metrics: Option<InferenceMetrics>) -> Self {
		Self { inner, metrics }
	}
}

impl InferenceHost for MeteredHost {
	fn run(
		&self,
		model: ModelId,
		inputs: Vec<Tensor>,
		output_decimals: u8,
	) -> Result<Outcome, HostError> {
		let started = Instant::now();
		let result = self.inner.run(model, inputs, output_decimals);
		if let Some(metrics) = &self.metrics {
			metrics.executed(&result, started);
		}
		result
	}

	fn note(&self, event: OffchainEvent) {
		if let Some(metrics) = &self.metrics {
			metrics.noted(event);
		}
	}
}
