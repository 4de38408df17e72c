//! The engine against the bundled models: the same outputs as Python onnxruntime (the fixtures),
//! and the same result hash however often and from however many threads it runs them.

mod common;

use common::{cases, engine, model_id, store, MODELS};
use std::{collections::BTreeSet, sync::Arc, thread};
use verity_engine::EngineConfig;
use verity_primitives::{canonical::canonical_outcome, Outcome};

const DECIMALS: u8 = 6;

#[test]
fn outputs_are_bit_identical_to_python_onnxruntime() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	for model in MODELS {
		let id = model_id(&format!("{model}.onnx"));
		for (i, case) in cases(model).iter().enumerate() {
			let execution = engine.run(&store, &id, &case.inputs, DECIMALS).unwrap();
			assert_eq!(execution.outputs, case.outputs, "{model} case {i}: raw outputs");
			let expected = canonical_outcome(&case.outputs, DECIMALS);
			assert!(matches!(expected, Outcome::Success(_)), "{model} case {i}");
			assert_eq!(execution.outcome, expected, "{model} case {i}: canonical outcome");
			assert_eq!(execution.result_hash, expected.hash(), "{model} case {i}: hash");
		}
	}
}

#[test]
fn a_hundred_runs_give_one_result_hash() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	for model in MODELS {
		let id = model_id(&format!("{model}.onnx"));
		for case in cases(model) {
			let hashes: BTreeSet<[u8; 32]> = (0..100)
				.map(|_| engine.run(&store, &id, &case.inputs, DECIMALS).unwrap().result_hash)
				.collect();
			assert_eq!(hashes.len(), 1, "{model}");
			assert_eq!(
				hashes.first(),
				Some(&canonical_outcome(&case.outputs, DECIMALS).hash()),
				"{model}"
			);
		}
	}
}

#[test]
fn concurrent_callers_get_the_same_result_hash() {
	let engine = Arc::new(engine(EngineConfig::default()));
	let (_dir, store) = store();
	let store = Arc::new(store);
	let work: Vec<_> = MODELS
		.iter()
		.flat_map(|model| {
			let id = model_id(&format!("{model}.onnx"));
			cases(model).into_iter().map(move |case| {
				let expected = canonical_outcome(&case.outputs, DECIMALS).hash();
				(model.to_string(), id, case.inputs, expected)
			})
		})
		.collect();
	let work = Arc::new(work);
	let threads: Vec<_> = (0..8)
		.map(|t| {
			let (engine, store, work) = (engine.clone(), store.clone(), work.clone());
			thread::spawn(move || {
				for round in 0..10 {
					// Each thread walks the cases from a different start, so the same model
					// runs on several threads at once.
					for k in 0..work.len() {
						let (model, id, inputs, expected) = &work[(k + t + round) % work.len()];
						let got = engine.run(&*store, id, inputs, DECIMALS).unwrap();
						assert_eq!(&got.result_hash, expected, "{model} on thread {t}");
					}
				}
			})
		})
		.collect();
	for thread in threads {
		thread.join().expect("no caller panicked");
	}
	let stats = engine.stats();
	assert!(
		stats.sessions_created.load(std::sync::atomic::Ordering::Relaxed) > MODELS.len() as u64
	);
}
