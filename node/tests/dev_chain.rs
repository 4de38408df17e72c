//! A real dev-chain node: it produces and finalizes blocks, answers JSON-RPC, and its chain can
//! be purged.

mod common;

use common::{run_node, stderr, RunningNode};
use std::time::Duration;

#[test]
fn dev_node_produces_and_finalizes_blocks_and_purge_chain_removes_them() {
	let dir = tempfile::tempdir().unwrap();
	let node = RunningNode::start_dev(dir.path());

	let chain =
		node.wait_for(Duration::from_secs(60), |n| n.rpc("system_chain", serde_json::json!([])));
	assert_eq!(chain, "Verity Development");

	let version = node.rpc("state_getRuntimeVersion", serde_json::json!([])).unwrap();
	assert_eq!(version["specName"], "verity");

	let properties = node.rpc("system_properties", serde_json::json!([])).unwrap();
	assert_eq!(properties["tokenSymbol"], "VRT");
	assert_eq!(properties["tokenDecimals"], 12);

	// 3 s blocks: block 3 arrives about 9 s after the first slot.
	node.wait_for(Duration::from_secs(60), |n| n.best_number().filter(|&b| b >= 3));
	node.wait_for(Duration::from_secs(60), |n| n.finalized_number().filter(|&f| f >= 2));
	node.stop();

	let db = dir.path().join("chains/verity_dev/paritydb");
	assert!(db.exists(), "the node keeps its chain in ParityDB at {}", db.display());

	let output = run_node(&[
		"purge-chain",
		"--chain",
		"dev",
		"-y",
		"--base-path",
		dir.path().to_str().unwrap(),
	]);
	assert!(output.status.success(), "{}", stderr(&output));
	assert!(!db.exists(), "purge-chain removes the database");
}
