//! Chain specifications: `dev` (Alice alone) and `local` (Alice, Bob, Charlie).

use polkadot_sdk::{sc_chain_spec::ChainType, sc_service, sp_genesis_builder};
use verity_runtime::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};

/// Verity has no chain-spec extensions.
pub type ChainSpec = sc_service::GenericChainSpec;

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"The runtime Wasm was not built (SKIP_WASM_BUILD was set): rebuild without it".to_string()
	})
}

/// Token symbol, decimals and address format, so wallets and polkadot.js Apps show balances
/// properly.
fn properties() -> sc_service::Properties {
	let mut properties = sc_service::Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

/// The single-validator development chain.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Verity Development")
		.with_id("verity_dev")
		.with_chain_type(ChainType::Development)
		.with_protocol_id("verity-dev")
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// The three-validator local test network.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Verity Local Testnet")
		.with_id("verity_local")
		.with_chain_type(ChainType::Local)
		.with_protocol_id("verity-local")
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
