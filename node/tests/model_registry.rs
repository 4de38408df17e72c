//! The model registry on a dev node: the bundled models are registered in genesis, the
//! `modelRegistry_*` RPC finds them, and the engine loads them from their on-chain chunks.

mod common;

use common::{fixtures, RunningNode};
use serde_json::{json, Value};
use std::time::Duration;

/// Alice, the owner of the genesis models on the dev chain.
const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

#[test]
fn genesis_models_are_registered_and_run_from_their_chain_chunks() {
	let dir = tempfile::tempdir().unwrap();
	let node = RunningNode::start_dev(dir.path());
	node.wait_for(Duration::from_secs(60), |n| n.rpc("system_chain", json!([])));

	let tree = fixtures("tree_ensemble_classifier");
	let record = node.rpc("modelRegistry_model", json!([tree["model_id"]])).unwrap();
	assert_eq!(record["status"], "Active", "{record}");
	assert_eq!(record["owner"], ALICE);
	assert_eq!(record["name"], "tree_ensemble_classifier");
	assert_eq!(record["hosting"]["onChain"]["size"], tree["bytes"]);
	assert_eq!(record["outputs"][0], json!({ "name": "label", "dtype": "i64", "shape": [null] }));

	let versions = node.rpc("modelRegistry_versions", json!([ALICE, "mlp_classifier"])).unwrap();
	assert_eq!(versions, json!([fixtures("mlp_classifier")["model_id"]]));
	let latest = node.rpc("modelRegistry_latest", json!([ALICE, "mlp_classifier"])).unwrap();
	assert_eq!(latest, fixtures("mlp_classifier")["model_id"]);
	let owned = node.rpc("modelRegistry_modelsByOwner", json!([ALICE])).unwrap();
	assert_eq!(owned.as_array().unwrap().len(), 4, "{owned}");
	assert_eq!(
		node.rpc("modelRegistry_model", json!([format!("0x{}", "00".repeat(32))])),
		Some(Value::Null)
	);

	// Not in the node's store: the engine gets it from the chain's chunks.
	let store = dir.path().join("models");
	assert!(!store.exists() || std::fs::read_dir(&store).unwrap().next().is_none());
	for case in tree["cases"].as_array().unwrap() {
		let result =
			node.rpc("inference_simulate", json!([tree["model_id"], case["inputs"]])).unwrap();
		assert!(result["outcome"]["success"].is_array(), "{result}");
		let outputs: Vec<Value> = result["outputs"].as_array().unwrap().to_vec();
		assert_eq!(outputs[0]["data"], case["outputs"][0]["data"], "labels");
	}
	let id = tree["model_id"].as_str().unwrap().trim_start_matches("0x").to_string();
	assert!(store.join(format!("{id}.onnx")).is_file(), "the model is kept in the store");
}
