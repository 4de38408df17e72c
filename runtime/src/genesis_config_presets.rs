//! Genesis presets: the starting state of the `dev` and `local` chains.
//!
//! The node's chain specs are built from these presets, so `verity-node export-chain-spec
//! --chain dev` and the runtime's `GenesisBuilder` API always agree.

use crate::{
	opaque::SessionKeys, AccountId, BalancesConfig, InferenceConfig, ModelRegistryConfig,
	RuntimeGenesisConfig, SessionConfig, SudoConfig, ValidatorSetConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use pallet_model_registry::GenesisModel;
use polkadot_sdk::sp_runtime::{traits::ConstU32, BoundedVec};
use polkadot_sdk::{
	frame_support::build_struct_json_patch,
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_consensus_grandpa::AuthorityId as GrandpaId,
	sp_genesis_builder::{self, PresetId},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
};
use serde_json::Value;
use verity_primitives::{
	executor::ExecutorId,
	model::{ModelFormat, ModelHosting, ModelLimits, ModelMetadata, TensorSpecs},
	tensor::{DType, Dim, TensorSpec},
};

/// What each well-known development account starts with: one million VRT.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;

/// A validator's account and session keys from one development seed: Aura to author blocks,
/// GRANDPA to vote on finality, and the inference key.
fn authority(account: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AccountId, SessionKeys) {
	let aura: AuraId = account.public().into();
	let grandpa: GrandpaId = grandpa.public().into();
	let inference: ExecutorId = account.public().into();
	(account.to_account_id(), SessionKeys { aura, grandpa, inference })
}

/// What each genesis executor bonds: ten times the minimum.
pub const EXECUTOR_BOND: crate::Balance = 10 * crate::configs::ExecutorMinBond::get();

/// A validator's account, its inference (`infr`) key from the same development seed, and its
/// bond.
fn executor(account: Sr25519Keyring) -> (AccountId, ExecutorId, crate::Balance) {
	(account.to_account_id(), account.public().into(), EXECUTOR_BOND)
}

fn testnet_genesis(
	authorities: Vec<(AccountId, SessionKeys)>,
	executors: Vec<(AccountId, ExecutorId, crate::Balance)>,
	min_committee: u32,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		// Aura's and GRANDPA's authorities come from the session keys of the validator set.
		validator_set: ValidatorSetConfig {
			validators: authorities.iter().map(|(account, _)| account.clone()).collect::<Vec<_>>(),
		},
		session: SessionConfig {
			keys: authorities
				.iter()
				.map(|(account, keys)| (account.clone(), account.clone(), keys.clone()))
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root.clone()) },
		model_registry: ModelRegistryConfig { models: bundled_models(root) },
		inference: InferenceConfig { executors, min_committee },
	})
}

fn spec(name: &str, dtype: DType, dims: &[Dim]) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().expect("short name"),
		dtype,
		shape: dims.to_vec().try_into().expect("rank within bounds"),
	}
}

fn text<const N: u32>(s: &str) -> BoundedVec<u8, ConstU32<N>> {
	s.as_bytes().to_vec().try_into().expect("text within bounds")
}

/// The models in `models/`, registered on chain (owned by `owner`, hosted in chunks), so that a
/// new chain can run jobs at once. Fee: 0.01 VRT per inference.
pub fn bundled_models(owner: AccountId) -> Vec<GenesisModel<AccountId, crate::Balance>> {
	use Dim::{Dynamic, Fixed};
	let model = |name: &str, description: &str, inputs, outputs, bytes: &[u8]| {
		// Each runs in tens of microseconds; these leave a hundredfold margin and keep each job
		// a small share of a block's admitted CPU time.
		let cpu_millis = if name == "cnn_mnist" { 20 } else { 5 };
		GenesisModel {
			owner: owner.clone(),
			metadata: ModelMetadata {
				name: text(name),
				version: text("1.0.0"),
				description: text(description),
				format: ModelFormat::Onnx { opset: 17 },
				inputs,
				outputs,
				output_decimals: 6,
				tolerance: 2,
				fee: 10 * crate::MILLI_UNIT,
				hosting: ModelHosting::OnChain { size: bytes.len() as u32 },
				limits: ModelLimits { cpu_millis, memory_mib: 64 },
			},
			bytes: bytes.to_vec(),
		}
	};
	let specs = |list: Vec<TensorSpec>| -> TensorSpecs { list.try_into().expect("few tensors") };
	vec![
		model(
			"linear_regressor",
			"Linear regression: 10 features to 1 value",
			specs(vec![spec("x", DType::F32, &[Dynamic, Fixed(10)])]),
			specs(vec![spec("y", DType::F32, &[Dynamic, Fixed(1)])]),
			include_bytes!("../../models/linear_regressor.onnx"),
		),
		model(
			"mlp_classifier",
			"MLP classifier: 4 features to 3 class probabilities (softmax)",
			specs(vec![spec("x", DType::F32, &[Dynamic, Fixed(4)])]),
			specs(vec![spec("probabilities", DType::F32, &[Dynamic, Fixed(3)])]),
			include_bytes!("../../models/mlp_classifier.onnx"),
		),
		model(
			"cnn_mnist",
			"Small CNN on a 1x1x28x28 image to 10 class probabilities",
			specs(vec![spec("image", DType::F32, &[Fixed(1), Fixed(1), Fixed(28), Fixed(28)])]),
			specs(vec![spec("probabilities", DType::F32, &[Fixed(1), Fixed(10)])]),
			include_bytes!("../../models/cnn_mnist.onnx"),
		),
		model(
			"tree_ensemble_classifier",
			"scikit-learn random forest on iris (ai.onnx.ml): label and 3 class probabilities",
			specs(vec![spec("x", DType::F32, &[Dynamic, Fixed(4)])]),
			specs(vec![
				spec("label", DType::I64, &[Dynamic]),
				spec("probabilities", DType::F32, &[Dynamic, Fixed(3)]),
			]),
			include_bytes!("../../models/tree_ensemble_classifier.onnx"),
		),
	]
}

/// The well-known development accounts (Alice … Ferdie and their `//stash` accounts).
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

/// `dev`: Alice alone authors and finalizes blocks, executes jobs (committees of 1 allowed) and
/// holds the sudo key.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		vec![executor(Sr25519Keyring::Alice)],
		1,
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// `local`: Alice, Bob and Charlie are validators and executors, every job is run by a committee
/// of at least 3; Alice holds the sudo key.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		vec![
			executor(Sr25519Keyring::Alice),
			executor(Sr25519Keyring::Bob),
			executor(Sr25519Keyring::Charlie),
		],
		3,
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON genesis patch of the preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	// Serializing a `serde_json::Value` cannot fail: it holds no maps with non-string keys.
	serde_json::to_vec(&patch).ok()
}

/// The presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
