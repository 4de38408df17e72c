//! Bad models, bad inputs and runaway runs end in canonical failure outcomes (or, for a model
//! the node does not have, a local error), never a panic or a stuck thread.

mod common;

use common::{cases, engine, model_id, store};
use std::{
	sync::atomic::Ordering,
	time::{Duration, Instant},
};
use verity_engine::{library, EngineConfig, RunError};
use verity_primitives::{tensor::tensor, DType, ErrorCode, Outcome, Tensor};

fn f32s(values: &[f32]) -> Vec<u8> {
	values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn x(shape: &[u32]) -> Tensor {
	let n: u32 = shape.iter().product();
	tensor("x", DType::F32, shape, f32s(&vec![0.5; n as usize])).unwrap()
}

fn failure(code: ErrorCode) -> Outcome {
	Outcome::Failure(code)
}

#[test]
fn corrupt_model_bytes_are_an_invalid_model() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	let id = store.import(b"\x08\x07not an onnx model at all").unwrap();
	let execution = engine.run(&store, &id, &[x(&[1, 10])], 6).unwrap();
	assert_eq!(execution.outcome, failure(ErrorCode::InvalidModel));
	assert_eq!(execution.result_hash, failure(ErrorCode::InvalidModel).hash());
}

#[test]
fn inputs_that_do_not_fit_the_model_are_invalid_input() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	let linear = model_id("linear_regressor.onnx");
	let bad_inputs: Vec<(&str, Vec<Tensor>)> = vec![
		("missing input", vec![]),
		("extra input", vec![x(&[1, 10]), tensor("z", DType::F32, &[1], f32s(&[1.0])).unwrap()]),
		("wrong dtype", vec![tensor("x", DType::F64, &[1, 10], vec![0; 80]).unwrap()]),
		("wrong rank", vec![x(&[10])]),
		("wrong fixed dimension", vec![x(&[1, 9])]),
		("data shorter than shape", vec![tensor("x", DType::F32, &[1, 10], vec![0; 36]).unwrap()]),
	];
	for (what, inputs) in bad_inputs {
		let execution = engine.run(&store, &linear, &inputs, 6).unwrap();
		assert_eq!(execution.outcome, failure(ErrorCode::InvalidInput), "{what}");
		assert!(execution.outputs.is_empty(), "{what}");
	}
}

#[test]
fn inputs_over_the_size_limit_are_input_too_large() {
	let engine = engine(EngineConfig { max_input_bytes: 1024, ..Default::default() });
	let (_dir, store) = store();
	let linear = model_id("linear_regressor.onnx");
	// 26 rows of 10 f32 = 1040 bytes: a valid shape, over the limit.
	let execution = engine.run(&store, &linear, &[x(&[26, 10])], 6).unwrap();
	assert_eq!(execution.outcome, failure(ErrorCode::InputTooLarge));
	let execution = engine.run(&store, &linear, &[x(&[25, 10])], 6).unwrap();
	assert!(matches!(execution.outcome, Outcome::Success(_)));
}

#[test]
fn a_model_that_outputs_nan_is_a_non_finite_output() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	let id = model_id("faulty/nan_output.onnx");
	let execution = engine.run(&store, &id, &[x(&[1, 4])], 6).unwrap();
	assert_eq!(execution.outcome, failure(ErrorCode::NonFiniteOutput));
	// The raw outputs are still there for whoever wants to look.
	assert!(execution.outputs[0]
		.data
		.chunks(4)
		.all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_nan()));
}

#[test]
fn infinite_inputs_give_a_non_finite_output() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	let linear = model_id("linear_regressor.onnx");
	let mut inputs = cases("linear_regressor").remove(0).inputs;
	inputs[0].data = f32s(&[f32::INFINITY; 10]).try_into().unwrap();
	let execution = engine.run(&store, &linear, &inputs, 6).unwrap();
	assert_eq!(execution.outcome, failure(ErrorCode::NonFiniteOutput));
}

#[test]
fn outputs_too_large_for_the_decimals_overflow() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	let linear = model_id("linear_regressor.onnx");
	let inputs = vec![tensor("x", DType::F32, &[1, 10], f32s(&[1.0e30; 10])).unwrap()];
	let execution = engine.run(&store, &linear, &inputs, 6).unwrap();
	assert_eq!(execution.outcome, failure(ErrorCode::OutputOverflow));
	let execution = engine.run(&store, &linear, &inputs, 19).unwrap();
	assert_eq!(execution.outcome, failure(ErrorCode::InvalidDecimals));
}

#[test]
fn a_model_that_never_finishes_times_out_and_the_engine_carries_on() {
	let time_limit = Duration::from_millis(300);
	let engine = engine(EngineConfig { time_limit, ..Default::default() });
	let (_dir, store) = store();
	let id = model_id("faulty/never_finishes.onnx");
	for _ in 0..2 {
		let started = Instant::now();
		let execution = engine.run(&store, &id, &[x(&[1, 4])], 6).unwrap();
		assert_eq!(execution.outcome, failure(ErrorCode::Timeout));
		// Stopped, not abandoned: the call returned, well before a test harness would notice.
		assert!(started.elapsed() < Duration::from_secs(30));
	}
	assert_eq!(engine.stats().timeouts.load(Ordering::Relaxed), 2);
	// Other models still run on the same engine.
	let linear = model_id("linear_regressor.onnx");
	let case = cases("linear_regressor").remove(0);
	assert_eq!(engine.run(&store, &linear, &case.inputs, 6).unwrap().outputs, case.outputs);
}

#[test]
fn a_model_the_node_does_not_have_is_an_error_not_an_outcome() {
	let engine = engine(EngineConfig::default());
	let (_dir, store) = store();
	let err = engine.run(&store, &[7; 32], &[x(&[1, 10])], 6).unwrap_err();
	let RunError::ModelUnavailable(e) = &err else { panic!("{err}") };
	assert!(err.to_string().contains("is not in the store"), "{e}");
}

#[test]
fn the_session_cache_is_bounded() {
	let engine = engine(EngineConfig { cached_models: 2, ..Default::default() });
	let (_dir, store) = store();
	let runs = [("linear_regressor", 0), ("mlp_classifier", 0), ("linear_regressor", 1)];
	let run = |model: &str| {
		let case = cases(model).remove(0);
		engine.run(&store, &model_id(&format!("{model}.onnx")), &case.inputs, 6).unwrap();
	};
	for (model, _) in runs {
		run(model);
	}
	let stats = engine.stats();
	assert_eq!(stats.cache_misses.load(Ordering::Relaxed), 2);
	assert_eq!(stats.cache_hits.load(Ordering::Relaxed), 1);
	// A third model evicts the least recently used (mlp_classifier), which then loads again.
	run("cnn_mnist");
	run("linear_regressor");
	run("mlp_classifier");
	assert_eq!(stats.cache_misses.load(Ordering::Relaxed), 4);
}

#[test]
fn a_missing_library_is_reported_with_the_fix() {
	let err = library::locate_library(Some("/nonexistent/libonnxruntime.so".as_ref())).unwrap_err();
	let message = err.to_string();
	assert!(message.contains("/nonexistent/libonnxruntime.so"), "{message}");
	assert!(message.contains("scripts/setup.sh"), "{message}");
	assert!(message.contains("ORT_DYLIB_PATH"), "{message}");
}
