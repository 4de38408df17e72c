//! Engine latency on the bundled models, for `scripts/bench-engine.sh` (prints numbers; not a
//! test). For each model: the full path an executor takes per job — SCALE-decode the inputs,
//! validate them, run, canonicalise, hash — over a cached session (median and p99), and the
//! cold path (load the model into a new session, then the same).
//!
//! Usage: bench <models dir> <iterations> <cold loads>
//! Prints one JSON object per model.

use codec::{Decode, Encode};
use std::{path::PathBuf, time::Instant};
use verity_engine::{Engine, EngineConfig, ModelStore};
use verity_primitives::{json::tensor_from_json, Tensor};

const MODELS: [&str; 4] =
	["linear_regressor", "mlp_classifier", "cnn_mnist", "tree_ensemble_classifier"];

fn percentile(sorted: &[f64], p: f64) -> f64 {
	let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
	sorted[rank.min(sorted.len() - 1)]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().collect();
	let models =
		PathBuf::from(args.get(1).ok_or("usage: bench <models dir> <iterations> <cold loads>")?);
	let iterations: usize = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(2000);
	let cold_loads: usize = args.get(3).map(|a| a.parse()).transpose()?.unwrap_or(20);

	let engine = Engine::new(EngineConfig::default())?;
	let dir = tempfile::tempdir()?;
	let store = ModelStore::open(dir.path())?;
	for model in MODELS {
		let id = store.import_file(&models.join(format!("{model}.onnx")))?;
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
		let full_path = |engine: &Engine| -> Result<f64, Box<dyn std::error::Error>> {
			let started = Instant::now();
			let inputs = Vec::<Tensor>::decode(&mut &encoded[..])?;
			let execution = engine.run(&store, &id, &inputs, 6)?;
			std::hint::black_box(execution.result_hash);
			Ok(started.elapsed().as_secs_f64() * 1e6)
		};

		let mut cold = Vec::with_capacity(cold_loads);
		for _ in 0..cold_loads {
			engine.clear_cache();
			cold.push(full_path(&engine)?);
		}
		for _ in 0..iterations / 10 {
			full_path(&engine)?;
		}
		let mut warm = Vec::with_capacity(iterations);
		for _ in 0..iterations {
			warm.push(full_path(&engine)?);
		}
		warm.sort_by(f64::total_cmp);
		cold.sort_by(f64::total_cmp);
		println!(
			"{}",
			serde_json::json!({
				"model": model,
				"iterations": iterations,
				"median_us": percentile(&warm, 50.0),
				"p99_us": percentile(&warm, 99.0),
				"cold_median_us": percentile(&cold, 50.0),
			})
		);
	}
	Ok(())
}
