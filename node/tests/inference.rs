//! The node's inference: the model store subcommands, the `inference` host functions (real
//! outputs in an off-chain worker, an error anywhere else) and `inference_simulate`.

mod common;

use codec::{Decode, Encode};
use common::{fixtures, models_dir, run_node, stderr, RunningNode};
use serde_json::{json, Value};
use std::{path::Path, time::Duration};
use verity_primitives::{
	canonical::canonical_outcome,
	inference::{ProbeRequest, PROBE_REQUEST_KEY, PROBE_RESPONSE_KEY},
	json::tensor_from_json,
	HostError, Outcome, Tensor,
};

fn tensors(json: &Value) -> Vec<Tensor> {
	json.as_array().unwrap().iter().map(|t| tensor_from_json(t.clone()).unwrap()).collect()
}

fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn from_hex(text: &str) -> Vec<u8> {
	hex::decode(text.trim_start_matches("0x")).unwrap()
}

fn model_id(model: &str) -> [u8; 32] {
	from_hex(fixtures(model)["model_id"].as_str().unwrap()).try_into().unwrap()
}

/// Imports the bundled models into the store at `dir` with `verity-node model import`.
fn import_models(dir: &Path) {
	for model in ["linear_regressor", "mlp_classifier"] {
		let file = models_dir().join(format!("{model}.onnx"));
		let output = run_node(&[
			"model",
			"import",
			"--model-store",
			dir.to_str().unwrap(),
			file.to_str().unwrap(),
		]);
		assert!(output.status.success(), "{}", stderr(&output));
		let printed = String::from_utf8(output.stdout).unwrap();
		assert_eq!(printed.trim(), fixtures(model)["model_id"], "import prints the model id");
	}
}

/// A dev node whose model store (outside its base path) holds models imported from the CLI.
fn dev_node_with_imported_models() -> (tempfile::TempDir, RunningNode) {
	let dir = tempfile::tempdir().unwrap();
	let store = dir.path().join("store");
	import_models(&store);
	let node = RunningNode::start_dev_with(
		&dir.path().join("node"),
		&["--model-store", store.to_str().unwrap()],
	);
	(dir, node)
}

#[test]
fn model_import_and_list_use_the_store() {
	let dir = tempfile::tempdir().unwrap();
	import_models(dir.path());
	let output = run_node(&["model", "list", "--model-store", dir.path().to_str().unwrap()]);
	assert!(output.status.success(), "{}", stderr(&output));
	let listed = String::from_utf8(output.stdout).unwrap();
	assert!(listed.contains(fixtures("mlp_classifier")["model_id"].as_str().unwrap()), "{listed}");
	assert_eq!(listed.lines().count(), 2, "{listed}");

	let output = run_node(&["model", "import", "--model-store", "/tmp", "/nonexistent.onnx"]);
	assert!(!output.status.success());
	assert!(stderr(&output).contains("/nonexistent.onnx"), "{}", stderr(&output));
}

#[test]
fn a_validator_without_onnx_runtime_refuses_to_start_and_says_how_to_fix_it() {
	let dir = tempfile::tempdir().unwrap();
	let output = run_node(&[
		"--dev",
		"--base-path",
		dir.path().to_str().unwrap(),
		"--onnxruntime",
		"/nonexistent/libonnxruntime.so",
	]);
	assert!(!output.status.success());
	let message = stderr(&output);
	assert!(message.contains("a validator needs ONNX Runtime"), "{message}");
	assert!(message.contains("scripts/setup.sh"), "{message}");
	assert!(!message.contains("panicked"), "{message}");
}

#[test]
fn inference_runs_in_the_offchain_worker_and_nowhere_else() {
	let (_dir, node) = dev_node_with_imported_models();
	node.wait_for(Duration::from_secs(60), |n| n.best_number().filter(|&b| b >= 1));

	let fx = fixtures("mlp_classifier");
	let case = &fx["cases"][0];
	let inputs = tensors(&case["inputs"]);
	let expected = canonical_outcome(&tensors(&case["outputs"]), 6);
	assert!(matches!(expected, Outcome::Success(_)));

	// A runtime API call over RPC runs like block import: no off-chain context.
	let args = (model_id("mlp_classifier"), inputs.clone(), 6u8).encode();
	let result = node
		.rpc("state_call", json!(["InferenceHostApi_run_inference", to_hex(&args)]))
		.expect("state_call answers");
	let outside =
		Result::<Outcome, HostError>::decode(&mut &from_hex(result.as_str().unwrap())[..]).unwrap();
	assert_eq!(outside, Err(HostError::NotInOffchainWorker));

	// The off-chain worker of the next block runs the probe request on the engine.
	let request = ProbeRequest { model: model_id("mlp_classifier"), inputs, output_decimals: 6 };
	let set = node.rpc_response(
		"offchain_localStorageSet",
		json!(["PERSISTENT", to_hex(PROBE_REQUEST_KEY), to_hex(&request.encode())]),
	);
	assert_eq!(set.as_ref().and_then(|r| r.get("result")), Some(&Value::Null), "{set:?}");
	let response = node.wait_for(Duration::from_secs(60), |n| {
		n.rpc("offchain_localStorageGet", json!(["PERSISTENT", to_hex(PROBE_RESPONSE_KEY)]))
			.and_then(|v| v.as_str().map(from_hex))
	});
	let inside = Result::<Outcome, HostError>::decode(&mut &response[..]).unwrap();
	assert_eq!(inside, Ok(expected));
}

#[test]
fn inference_simulate_returns_outputs_canonical_outcome_and_result_hash() {
	let (_dir, node) = dev_node_with_imported_models();
	node.wait_for(Duration::from_secs(60), |n| n.rpc("system_chain", json!([])));
	let fx = fixtures("linear_regressor");
	let model = fx["model_id"].clone();

	for case in fx["cases"].as_array().unwrap() {
		let result = node
			.rpc("inference_simulate", json!([model, case["inputs"], 6]))
			.expect("inference_simulate answers");
		let expected = canonical_outcome(&tensors(&case["outputs"]), 6);
		assert_eq!(result["resultHash"], to_hex(&expected.hash()));
		assert_eq!(tensors(&result["outputs"]), tensors(&case["outputs"]));
		assert!(result["outcome"]["success"].is_array(), "{result}");
	}

	// Inputs that do not fit the model: a canonical failure, as validators would vote it.
	let bad = json!([{ "name": "x", "dtype": "f32", "shape": [1, 3], "data": [1, 2, 3] }]);
	let result = node.rpc("inference_simulate", json!([model, bad])).unwrap();
	assert_eq!(result["outcome"]["failure"], "InvalidInput");

	// Malformed requests: errors that say what is wrong.
	let error = |params: Value| -> String {
		let response = node.rpc_response("inference_simulate", params).unwrap();
		response["error"]["message"].as_str().unwrap_or_default().to_string()
	};
	assert!(error(json!(["0x1234", []])).contains("32-byte hex id"));
	let unknown = to_hex(&[7u8; 32]);
	assert!(error(json!([unknown, []])).contains("is not in the store"));
	let malformed = json!([{ "name": "x", "dtype": "f32", "shape": [1, 10], "data": [1] }]);
	assert!(error(json!([model, malformed])).contains("inputs[0]"));
}

#[test]
fn inference_simulate_is_refused_on_safe_rpc() {
	let dir = tempfile::tempdir().unwrap();
	let node = RunningNode::start_dev_with(dir.path(), &["--rpc-methods", "safe"]);
	node.wait_for(Duration::from_secs(60), |n| n.rpc("system_chain", json!([])));
	let fx = fixtures("linear_regressor");
	let response = node
		.rpc_response("inference_simulate", json!([fx["model_id"], fx["cases"][0]["inputs"]]))
		.unwrap();
	let message = response["error"]["message"].as_str().unwrap_or_default();
	assert!(message.contains("unsafe"), "{response}");
}
