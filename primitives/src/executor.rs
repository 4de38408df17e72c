//! Executors' inference keys: sr25519 keys of key type `infr`, with which validators sign the
//! commits and reveals their off-chain workers submit.

use polkadot_sdk::sp_core::crypto::KeyTypeId;

/// The key type of inference keys (`verity-node key insert --key-type infr`).
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"infr");

mod app {
	use polkadot_sdk::sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::KEY_TYPE);
}

/// An executor's inference public key.
pub type ExecutorId = app::Public;
/// A signature by an inference key.
pub type ExecutorSignature = app::Signature;
