//! The determinism report behind `docs/determinism.md` (run by `scripts/determinism-report.sh`).
//!
//! Runs every bundled model on its fixture inputs and on generated inputs under every session
//! setting the engine could vary — intra-op threads 1, 2 and 4; each graph optimisation level;
//! deterministic compute on and off; sequential and concurrent calls — and compares each run
//! with the engine's defaults run sequentially: how many output elements differ in their bits,
//! the largest difference, and whether the canonical result hash at the default
//! `output_decimals` (6) ever differs. Prints a Markdown table.
//!
//! Usage: determinism <models dir>

use std::{path::PathBuf, sync::Arc, thread};
use verity_engine::{Engine, EngineConfig, ModelStore, Optimization, SessionSettings};
use verity_primitives::{json::tensor_from_json, DType, Dim, ModelId, Tensor};

const MODELS: [&str; 4] =
	["linear_regressor", "mlp_classifier", "cnn_mnist", "tree_ensemble_classifier"];
/// Generated inputs per model, beside the fixture cases.
const GENERATED: usize = 40;
const DECIMALS: u8 = 6;

/// A small deterministic generator (SplitMix64), so every run of the report uses the same inputs.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	/// Uniform in [-3, 3).
	fn value(&mut self) -> f32 {
		((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 6.0 - 3.0
	}
}

fn generated_inputs(
	engine: &Engine,
	store: &ModelStore,
	id: &ModelId,
	rng: &mut Rng,
) -> Vec<Tensor> {
	let specs = engine.input_specs(store, id).expect("model in store").expect("valid model");
	specs
		.iter()
		.map(|spec| {
			assert_eq!(spec.dtype, DType::F32, "the bundled models take f32 inputs");
			let shape: Vec<u32> = spec
				.shape
				.iter()
				.map(|d| match d {
					Dim::Fixed(n) => *n,
					Dim::Dynamic => 3,
				})
				.collect();
			let count: u32 = shape.iter().product();
			let data = (0..count).flat_map(|_| rng.value().to_le_bytes()).collect();
			let name = String::from_utf8(spec.name.to_vec()).expect("utf-8 name");
			verity_primitives::tensor::tensor(&name, DType::F32, &shape, data).expect("bounded")
		})
		.collect()
}

struct Run {
	outputs: Vec<Tensor>,
	hash: [u8; 32],
}

fn run_one(engine: &Engine, store: &ModelStore, (id, inputs): &(ModelId, Vec<Tensor>)) -> Run {
	let execution = engine.run(store, id, inputs, DECIMALS).expect("model in store");
	Run { outputs: execution.outputs, hash: execution.result_hash }
}

fn run_all(
	settings: SessionSettings,
	concurrent: bool,
	store: &Arc<ModelStore>,
	work: &Arc<Vec<(ModelId, Vec<Tensor>)>>,
) -> Vec<Run> {
	let engine = Arc::new(
		Engine::new(EngineConfig { session: settings, ..Default::default() }).expect("engine"),
	);
	if !concurrent {
		return work.iter().map(|item| run_one(&engine, store, item)).collect();
	}
	// Four threads, each taking every fourth item, all models at once.
	let threads: Vec<_> = (0..4)
		.map(|t| {
			let (engine, work, store) = (engine.clone(), work.clone(), store.clone());
			thread::spawn(move || {
				work.iter()
					.enumerate()
					.filter(|(i, _)| i % 4 == t)
					.map(|(i, item)| (i, run_one(&engine, &store, item)))
					.collect::<Vec<_>>()
			})
		})
		.collect();
	let mut results: Vec<(usize, Run)> =
		threads.into_iter().flat_map(|t| t.join().expect("no panic")).collect();
	results.sort_by_key(|(i, _)| *i);
	results.into_iter().map(|(_, run)| run).collect()
}

fn floats(tensor: &Tensor) -> Vec<f64> {
	match tensor.dtype {
		DType::F32 => tensor
			.data
			.chunks_exact(4)
			.map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
			.collect(),
		DType::F64 => tensor
			.data
			.chunks_exact(8)
			.map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
			.collect(),
		_ => Vec::new(),
	}
}

fn main() {
	let models = PathBuf::from(std::env::args().nth(1).expect("usage: determinism <models dir>"));
	let dir = tempfile::tempdir().expect("temp dir");
	let store = Arc::new(ModelStore::open(dir.path()).expect("store"));
	let reference_engine = Engine::new(EngineConfig::default()).expect("engine");
	let mut rng = Rng(20261124);
	let mut work = Vec::new();
	let mut owner = Vec::new();
	for model in MODELS {
		let id = store.import_file(&models.join(format!("{model}.onnx"))).expect("model file");
		let fixtures: serde_json::Value = serde_json::from_slice(
			&std::fs::read(models.join(format!("{model}.fixtures.json"))).expect("fixtures"),
		)
		.expect("fixture JSON");
		for case in fixtures["cases"].as_array().expect("cases") {
			let inputs = case["inputs"]
				.as_array()
				.expect("inputs")
				.iter()
				.map(|t| tensor_from_json(t.clone()).expect("tensor"))
				.collect();
			work.push((id, inputs));
			owner.push(model);
		}
		for _ in 0..GENERATED {
			work.push((id, generated_inputs(&reference_engine, &store, &id, &mut rng)));
			owner.push(model);
		}
	}
	let work = Arc::new(work);
	let reference = run_all(SessionSettings::default(), false, &store, &work);

	println!("| model | intra-op threads | optimisation | deterministic compute | calls | runs | output elements with other bits | largest difference | runs with another result hash |");
	println!("|---|---:|---|---|---|---:|---:|---:|---:|");
	let mut any_hash_differs = false;
	for threads in [1, 2, 4] {
		for optimization in
			[Optimization::Disabled, Optimization::Basic, Optimization::Extended, Optimization::All]
		{
			for deterministic_compute in [true, false] {
				for concurrent in [false, true] {
					let settings = SessionSettings {
						intra_threads: threads,
						optimization,
						deterministic_compute,
					};
					let runs = run_all(settings, concurrent, &store, &work);
					for model in MODELS {
						let (mut count, mut differing, mut largest, mut hashes) = (0, 0, 0f64, 0);
						for (i, run) in runs.iter().enumerate().filter(|(i, _)| owner[*i] == model)
						{
							count += 1;
							if run.hash != reference[i].hash {
								hashes += 1;
							}
							for (a, b) in run.outputs.iter().zip(&reference[i].outputs) {
								let elements = a.dtype.size().max(1);
								differing += a
									.data
									.chunks(elements)
									.zip(b.data.chunks(elements))
									.filter(|(x, y)| x != y)
									.count();
								for (x, y) in floats(a).iter().zip(floats(b)) {
									largest = f64::max(largest, (x - y).abs());
								}
							}
						}
						any_hash_differs |= hashes > 0;
						println!(
							"| {model} | {threads} | {optimization:?} | {} | {} | {count} | {differing} | {largest:.3e} | {hashes} |",
							if deterministic_compute { "on" } else { "off" },
							if concurrent { "concurrent (4 threads)" } else { "sequential" },
						);
					}
				}
			}
		}
	}
	println!();
	println!(
		"Canonical result hash at output_decimals = {DECIMALS} differs from the defaults' in any run: {}",
		if any_hash_differs { "YES" } else { "no" }
	);
}
