//! Engine latency on the bundled models, for `scripts/bench-engine.sh` (prints numbers; not a
//! test). For each model, over a cached session:
//! - `engine`: the full path an executor's job takes in one process: SCALE-decode the inputs,
//!   validate them, run, canonicalise, hash;
//! - `worker`: the same in an inference worker process (`verity-inference-worker`), as the node
//!   runs it: the request encoded and sent down a pipe, run in the worker, the response sent back
//!   and decoded;
//! - `queue`: the worker through the node's inference queue (`InferenceService::run`): a queue
//!   thread takes the job and hands the execution back;
//!
//! and the cold path (a new session: load the model, then the same) in one process.
//!
//! Usage: bench <models dir> <iterations> <cold loads> <worker binary>
//! Prints one JSON object per model.

use codec::{Decode, Encode};
use std::{path::PathBuf, sync::Arc, time::Instant};
use verity_engine::{
	protocol::RunRequest, Backend, Engine, EngineConfig, InferenceService, ModelSource, ModelStore,
	PoolConfig, ServiceConfig, WorkerProcess,
};
use verity_primitives::{json::tensor_from_json, model::ModelLimits, Tensor};

const MODELS: [&str; 4] =
	["linear_regressor", "mlp_classifier", "cnn_mnist", "tree_ensemble_classifier"];

const LIMITS: ModelLimits = ModelLimits { cpu_millis: 1_000, memory_mib: 256 };

fn percentile(sorted: &[f64], p: f64) -> f64 {
	let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
	sorted[rank.min(sorted.len() - 1)]
}

/// Times `f` `iterations` times after a tenth as many warm-up calls; sorted microseconds.
fn time(
	iterations: usize,
	mut f: impl FnMut() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
	for _ in 0..iterations / 10 {
		f()?;
	}
	let mut samples = Vec::with_capacity(iterations);
	for _ in 0..iterations {
		let started = Instant::now();
		f()?;
		samples.push(started.elapsed().as_secs_f64() * 1e6);
	}
	samples.sort_by(f64::total_cmp);
	Ok(samples)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().collect();
	let usage = "usage: bench <models dir> <iterations> <cold loads> <worker binary>";
	let models = PathBuf::from(args.get(1).ok_or(usage)?);
	let iterations: usize = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(2000);
	let cold_loads: usize = args.get(3).map(|a| a.parse()).transpose()?.unwrap_or(20);
	let worker_binary = PathBuf::from(args.get(4).ok_or(usage)?);

	let engine = Engine::new(EngineConfig::default())?;
	let dir = tempfile::tempdir()?;
	let store = Arc::new(ModelStore::open(dir.path())?);
	let pool = PoolConfig {
		library: Some(verity_engine::library::locate_library(None)?),
		..PoolConfig::new(worker_binary)
	};
	let mut worker = WorkerProcess::spawn(&pool)?;
	let service = InferenceService::start(
		ServiceConfig { workers: 2, ..ServiceConfig::default() },
		Backend::Workers(pool.clone()),
		store.clone() as Arc<dyn ModelSource>,
		None,
	)?;
	for model in MODELS {
		let id = store.import_file(&models.join(format!("{model}.onnx")))?;
		let bytes = std::fs::read(models.join(format!("{model}.onnx")))?;
		let fixtures: serde_json::Value =
			serde_json::from_slice(&std::fs::read(models.join(format!("{model}.fixtures.json")))?)?;
		let inputs: Vec<Tensor> = fixtures["cases"][0]["inputs"]
			.as_array()
			.ok_or("fixture inputs")?
			.iter()
			.map(|t| tensor_from_json(t.clone()))
			.collect::<Result<_, _>>()?;
		// What arrives from the chain: SCALE-encoded inputs.
		let encoded = inputs.encode();
		let in_process = |engine: &Engine| -> Result<(), Box<dyn std::error::Error>> {
			let inputs = Vec::<Tensor>::decode(&mut &encoded[..])?;
			let execution = engine.run_limited(&*store, &id, &inputs, 6, LIMITS.into())?;
			std::hint::black_box(execution.result_hash);
			Ok(())
		};

		let mut cold = Vec::with_capacity(cold_loads);
		for _ in 0..cold_loads {
			engine.clear_cache();
			let started = Instant::now();
			in_process(&engine)?;
			cold.push(started.elapsed().as_secs_f64() * 1e6);
		}
		cold.sort_by(f64::total_cmp);
		let warm = time(iterations, || in_process(&engine))?;
		let through_worker = time(iterations, || {
			let request = RunRequest {
				model: id,
				bytes: None,
				inputs: Vec::<Tensor>::decode(&mut &encoded[..])?,
				output_decimals: 6,
				limits: LIMITS,
				raw_outputs: false,
			};
			match worker.run(&pool, request, &mut || Some(bytes.clone())) {
				Ok(verity_engine::pool::WorkerRun::Finished(result)) => {
					std::hint::black_box(result.outcome.hash());
					Ok(())
				},
				other => Err(format!("the worker did not answer: {other:?}").into()),
			}
		})?;
		let through_queue = time(iterations, || {
			let inputs = Vec::<Tensor>::decode(&mut &encoded[..])?;
			let execution = service.run(id, inputs, 6, LIMITS)?;
			std::hint::black_box(execution.result_hash);
			Ok(())
		})?;
		println!(
			"{}",
			serde_json::json!({
				"model": model,
				"iterations": iterations,
				"median_us": percentile(&warm, 50.0),
				"p99_us": percentile(&warm, 99.0),
				"worker_median_us": percentile(&through_worker, 50.0),
				"worker_p99_us": percentile(&through_worker, 99.0),
				"queue_median_us": percentile(&through_queue, 50.0),
				"queue_p99_us": percentile(&through_queue, 99.0),
				"cold_median_us": percentile(&cold, 50.0),
			})
		);
	}
	Ok(())
}
