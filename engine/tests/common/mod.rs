//! Shared by the engine tests: the real ONNX Runtime library (from `scripts/setup.sh`), the
//! bundled models and their Python onnxruntime fixtures.

#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use verity_engine::{Engine, EngineConfig, ModelStore};
use verity_primitives::{json::tensor_from_json, ModelId, Tensor};

pub const MODELS: [&str; 4] =
	["linear_regressor", "mlp_classifier", "cnn_mnist", "tree_ensemble_classifier"];

pub fn models_dir() -> PathBuf {
	PathBuf::from(
		// Where `cargo test` runs it from: a clone sharing the target directory with another may
		// have been given the other's compiled-in path.
		std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
	)
	.join("../models")
}

pub fn engine(config: EngineConfig) -> Engine {
	Engine::new(config).unwrap_or_else(|e| panic!("{e}"))
}

/// A store in a temporary directory holding the bundled models (and the faulty ones).
pub fn store() -> (tempfile::TempDir, ModelStore) {
	let dir = tempfile::tempdir().unwrap();
	let store = ModelStore::open(dir.path().join("models")).unwrap();
	for model in MODELS {
		store.import_file(&models_dir().join(format!("{model}.onnx"))).unwrap();
	}
	for model in ["nan_output", "never_finishes"] {
		store.import_file(&models_dir().join(format!("faulty/{model}.onnx"))).unwrap();
	}
	(dir, store)
}

pub fn model_id(path: &str) -> ModelId {
	let bytes = std::fs::read(models_dir().join(path)).unwrap();
	polkadot_sdk::sp_crypto_hashing::blake2_256(&bytes)
}

pub struct Case {
	pub inputs: Vec<Tensor>,
	pub outputs: Vec<Tensor>,
}

/// The fixture cases of a bundled model.
pub fn cases(model: &str) -> Vec<Case> {
	let path = models_dir().join(format!("{model}.fixtures.json"));
	let fixtures: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
	let tensors = |v: &Value| -> Vec<Tensor> {
		v.as_array().unwrap().iter().map(|t| tensor_from_json(t.clone()).unwrap()).collect()
	};
	fixtures["cases"]
		.as_array()
		.unwrap()
		.iter()
		.map(|case| Case { inputs: tensors(&case["inputs"]), outputs: tensors(&case["outputs"]) })
		.collect()
}
