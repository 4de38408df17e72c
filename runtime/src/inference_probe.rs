//! The off-chain inference probe: a way for an operator to check that this node's off-chain
//! workers can run models, before any job depends on it.
//!
//! Put a SCALE-encoded [`ProbeRequest`] in the node's off-chain local storage (`PERSISTENT`)
//! under [`PROBE_REQUEST_KEY`] with the `offchain_localStorageSet` RPC. The off-chain worker of
//! the next imported block takes it, runs it through the `inference` host functions, and writes
//! the SCALE-encoded `Result<Outcome, HostError>` under [`PROBE_RESPONSE_KEY`], where
//! `offchain_localStorageGet` reads it.

use codec::{Decode, Encode};
use polkadot_sdk::sp_core::offchain::StorageKind;
use polkadot_sdk::sp_io::offchain;
use verity_primitives::inference::{
	inference, ProbeRequest, PROBE_REQUEST_KEY, PROBE_RESPONSE_KEY,
};

/// Answers a pending probe request, if there is one.
pub fn answer_probe() {
	let Some(raw) = offchain::local_storage_get(StorageKind::PERSISTENT, PROBE_REQUEST_KEY) else {
		return;
	};
	// Take the request atomically so that overlapping workers answer it once.
	if !offchain::local_storage_compare_and_set(
		StorageKind::PERSISTENT,
		PROBE_REQUEST_KEY,
		Some(raw.clone()),
		&[],
	) {
		return;
	}
	offchain::local_storage_clear(StorageKind::PERSISTENT, PROBE_REQUEST_KEY);
	let Ok(request) = ProbeRequest::decode(&mut &raw[..]) else {
		polkadot_sdk::sp_runtime::print("inference probe: the request is not a ProbeRequest");
		return;
	};
	let response = inference::run(request.model, request.inputs, request.output_decimals);
	offchain::local_storage_set(StorageKind::PERSISTENT, PROBE_RESPONSE_KEY, &response.encode());
}
