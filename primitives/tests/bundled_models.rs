//! The bundled models' fixtures (written by scripts/models/generate.py with Python onnxruntime)
//! agree with this crate: every tensor reads as a Verity JSON tensor and writes back unchanged,
//! inputs fit the shapes the fixtures declare, and each model id is the chain's
//! `blake2_256` of the model file.

use polkadot_sdk::sp_crypto_hashing::blake2_256;
use serde_json::Value;
use std::path::PathBuf;
use verity_primitives::{
	canonical::canonical_outcome,
	json::{tensor_from_json, tensor_to_json},
	Outcome,
};

const MODELS: [&str; 4] =
	["linear_regressor", "mlp_classifier", "cnn_mnist", "tree_ensemble_classifier"];

fn models_dir() -> PathBuf {
	PathBuf::from(
		// Where `cargo test` runs it from: a clone sharing the target directory with another may
		// have been given the other's compiled-in path.
		std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
	)
	.join("../models")
}

fn fixtures(model: &str) -> Value {
	let path = models_dir().join(format!("{model}.fixtures.json"));
	serde_json::from_slice(&std::fs::read(&path).expect("fixture file")).expect("fixture JSON")
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn model_ids_are_blake2_256_of_the_model_files() {
	for model in MODELS {
		let fx = fixtures(model);
		let bytes = std::fs::read(models_dir().join(format!("{model}.onnx"))).unwrap();
		assert_eq!(fx["bytes"], bytes.len(), "{model}");
		assert_eq!(fx["model_id"], format!("0x{}", hex(&blake2_256(&bytes))), "{model}");
	}
}

/// JSON numbers compared by value: "5.663611e-05" and "5.663611e-5" are the same number (with
/// serde_json's `arbitrary_precision`, which another crate in the workspace enables, `Value`
/// equality would compare their text).
fn same_tensor_json(a: &Value, b: &Value) -> bool {
	let numbers = |v: &Value| -> Vec<Option<f64>> {
		v["data"]
			.as_array()
			.unwrap()
			.iter()
			.map(|x| x.as_f64().or(x.as_bool().map(f64::from)))
			.collect()
	};
	a["name"] == b["name"]
		&& a["dtype"] == b["dtype"]
		&& a["shape"] == b["shape"]
		&& numbers(a) == numbers(b)
}

#[test]
fn fixture_tensors_round_trip_through_the_json_form() {
	for model in MODELS {
		let fx = fixtures(model);
		let cases = fx["cases"].as_array().unwrap();
		assert!(cases.len() >= 3, "{model} has cases");
		for case in cases {
			let inputs = case["inputs"].as_array().unwrap();
			for tensor in inputs.iter().chain(case["outputs"].as_array().unwrap()) {
				let parsed =
					tensor_from_json(tensor.clone()).unwrap_or_else(|e| panic!("{model}: {e}"));
				let written = tensor_to_json(&parsed);
				assert!(same_tensor_json(&written, tensor), "{model}: {}", tensor["name"]);
				assert_eq!(tensor_from_json(written).unwrap(), parsed, "{model}");
			}
		}
	}
}

#[test]
fn fixture_outputs_have_canonical_outcomes() {
	for model in MODELS {
		for case in fixtures(model)["cases"].as_array().unwrap() {
			let outputs: Vec<_> = case["outputs"]
				.as_array()
				.unwrap()
				.iter()
				.map(|t| tensor_from_json(t.clone()).unwrap())
				.collect();
			match canonical_outcome(&outputs, 6) {
				Outcome::Success(tensors) => assert_eq!(tensors.len(), outputs.len()),
				Outcome::Failure(code) => panic!("{model}: {code:?}"),
			}
		}
	}
}
