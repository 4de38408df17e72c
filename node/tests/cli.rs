//! The node's subcommands and its answers to bad input, run against the real binary.

mod common;

use common::{run_node, stderr};
use std::fs;

fn assert_clear_failure(output: &std::process::Output, expected: &str) {
	let err = stderr(output);
	assert!(!output.status.success(), "the command should fail; stderr: {err}");
	assert!(err.contains(expected), "stderr should say `{expected}`; it says: {err}");
	assert!(!err.contains("panicked"), "the node panicked: {err}");
}

#[test]
fn export_chain_spec_dev_has_token_properties_and_runtime() {
	let output = run_node(&["export-chain-spec", "--chain", "dev"]);
	assert!(output.status.success(), "{}", stderr(&output));
	let spec: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON chain spec");
	assert_eq!(spec["name"], "Verity Development");
	assert_eq!(spec["id"], "verity_dev");
	assert_eq!(spec["chainType"], "Development");
	assert_eq!(spec["protocolId"], "verity-dev");
	assert_eq!(spec["properties"]["tokenSymbol"], "VRT");
	assert_eq!(spec["properties"]["tokenDecimals"], 12);
	assert_eq!(spec["properties"]["ss58Format"], 42);
	let code = spec["genesis"]["runtimeGenesis"]["code"].as_str().expect("runtime code");
	assert!(code.len() > 1000, "the spec carries the runtime Wasm");
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	assert_eq!(patch["validatorSet"]["validators"].as_array().unwrap().len(), 1);
	assert_eq!(patch["session"]["keys"].as_array().unwrap().len(), 1);
}

#[test]
fn export_chain_spec_local_has_three_validators() {
	let output = run_node(&["export-chain-spec", "--chain", "local"]);
	assert!(output.status.success(), "{}", stderr(&output));
	let spec: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON chain spec");
	assert_eq!(spec["name"], "Verity Local Testnet");
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	// Aura's and GRANDPA's authorities come from the validators' session keys.
	assert_eq!(patch["validatorSet"]["validators"].as_array().unwrap().len(), 3);
	let keys = patch["session"]["keys"].as_array().unwrap();
	assert_eq!(keys.len(), 3);
	for (account, validator, keys) in keys.iter().map(|k| (&k[0], &k[1], &k[2])) {
		assert_eq!(account, validator);
		for key in ["aura", "grandpa", "inference"] {
			assert!(keys[key].is_string(), "{key} key of {account}");
		}
	}
}

#[test]
fn build_spec_raw_round_trips_through_a_file() {
	let dir = tempfile::tempdir().unwrap();
	let output =
		run_node(&["build-spec", "--chain", "local", "--disable-default-bootnode", "--raw"]);
	assert!(output.status.success(), "{}", stderr(&output));
	let path = dir.path().join("local-raw.json");
	fs::write(&path, &output.stdout).unwrap();
	let spec: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
	assert!(spec["genesis"]["raw"]["top"].is_object(), "a raw spec holds genesis storage");

	// The written file is a valid `--chain` argument.
	let again = run_node(&["export-chain-spec", "--chain", path.to_str().unwrap()]);
	assert!(again.status.success(), "{}", stderr(&again));
}

#[test]
fn unknown_chain_name_is_a_clear_error() {
	let output = run_node(&["export-chain-spec", "--chain", "no-such-chain"]);
	assert_clear_failure(&output, "unknown chain `no-such-chain`");
}

#[test]
fn corrupt_chain_spec_file_is_a_clear_error() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("corrupt.json");
	fs::write(&path, b"{ \"name\": \"half a spec\", ").unwrap();
	let output = run_node(&["export-chain-spec", "--chain", path.to_str().unwrap()]);
	assert_clear_failure(&output, "invalid chain spec");
}

#[test]
fn unwritable_base_path_is_a_clear_error() {
	// A base path below a regular file can never be created, whoever runs the test.
	let dir = tempfile::tempdir().unwrap();
	let file = dir.path().join("a-file");
	fs::write(&file, b"not a directory").unwrap();
	let base = file.join("base");
	let output = run_node(&["--dev", "--no-prometheus", "--base-path", base.to_str().unwrap()]);
	assert_clear_failure(&output, "cannot use base path");
}

#[test]
fn key_insert_puts_the_key_in_the_chain_keystore() {
	let dir = tempfile::tempdir().unwrap();
	let output = run_node(&[
		"key",
		"insert",
		"--chain",
		"dev",
		"--base-path",
		dir.path().to_str().unwrap(),
		"--scheme",
		"sr25519",
		"--suri",
		"//Alice",
		"--key-type",
		"aura",
	]);
	assert!(output.status.success(), "{}", stderr(&output));
	let keystore = dir.path().join("chains/verity_dev/keystore");
	let keys: Vec<_> = fs::read_dir(&keystore).expect("keystore exists").collect();
	assert_eq!(keys.len(), 1);
	let name = keys[0].as_ref().unwrap().file_name().into_string().unwrap();
	// Key files are named by key type (hex of `aura`) and public key.
	assert!(name.starts_with(&hex::encode(b"aura")), "unexpected key file {name}");
}

#[test]
fn benchmark_pallet_runs_a_real_benchmark() {
	let output = run_node(&[
		"benchmark",
		"pallet",
		"--chain",
		"dev",
		"--pallet",
		"frame_system",
		"--extrinsic",
		"remark",
		"--steps",
		"2",
		"--repeat",
		"1",
	]);
	let out = String::from_utf8_lossy(&output.stdout);
	assert!(output.status.success(), "stdout: {out}\nstderr: {}", stderr(&output));
	assert!(out.contains("remark"), "the benchmark result names the extrinsic: {out}");
}
