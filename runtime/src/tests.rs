//! The genesis presets give the chains the state the design asks for.

use crate::{
	genesis_config_presets::{self, ENDOWMENT},
	Aura, Balances, Runtime, RuntimeGenesisConfig, System, MILLI_SECS_PER_BLOCK,
};
use polkadot_sdk::{
	frame_support::genesis_builder_helper::build_state,
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_io::TestExternalities,
	sp_keyring::Sr25519Keyring,
	*,
};

pub(crate) fn chain_from_preset(id: &str) -> TestExternalities {
	// The preset is a patch over the default genesis config, applied as the node's chain spec
	// applies it.
	let patch = genesis_config_presets::get_preset(&id.into()).expect("preset exists");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, serde_json::from_slice(&patch).unwrap());
	let mut ext = TestExternalities::new_empty();
	ext.execute_with(|| {
		build_state::<RuntimeGenesisConfig>(serde_json::to_vec(&config).unwrap())
			.expect("preset builds")
	});
	ext
}

/// Recursively applies a JSON patch: objects merge key by key, anything else is replaced.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

#[test]
fn presets_are_dev_and_local_only() {
	let names = genesis_config_presets::preset_names();
	assert_eq!(names, vec![DEV_RUNTIME_PRESET.to_string(), LOCAL_TESTNET_RUNTIME_PRESET.into()]);
	assert!(genesis_config_presets::get_preset(&"staging".into()).is_none());
}

#[test]
fn dev_chain_has_alice_as_only_authority_and_sudo() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let authorities = pallet_aura::Authorities::<Runtime>::get();
		assert_eq!(authorities.len(), 1);
		assert_eq!(authorities[0], Sr25519Keyring::Alice.public().into());
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 1);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
	});
}

#[test]
fn local_chain_has_three_validators() {
	chain_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let authorities = pallet_aura::Authorities::<Runtime>::get();
		let expected: Vec<_> =
			[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
				.iter()
				.map(|k| k.public().into())
				.collect();
		assert_eq!(authorities.into_inner(), expected);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 3);
	});
}

#[test]
fn well_known_accounts_are_endowed_and_issuance_matches() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let accounts: Vec<_> = Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect();
		for account in &accounts {
			// Alice pays the deposits of the genesis models out of hers.
			assert_eq!(
				<Balances as frame_support::traits::fungible::Inspect<_>>::total_balance(account),
				ENDOWMENT
			);
		}
		assert_eq!(
			pallet_balances::TotalIssuance::<Runtime>::get(),
			ENDOWMENT * accounts.len() as u128
		);
	});
}

#[test]
fn blocks_are_three_seconds_apart() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(MILLI_SECS_PER_BLOCK, 3000);
		assert_eq!(Aura::slot_duration(), 3000);
		assert_eq!(System::block_number(), 0);
	});
}

#[test]
fn the_bundled_models_are_ready_in_genesis_with_their_deposits_held() {
	use polkadot_sdk::frame_support::traits::fungible::InspectHold;
	use verity_primitives::model::ModelStatus;
	for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		chain_from_preset(preset).execute_with(|| {
			let alice = Sr25519Keyring::Alice.to_account_id();
			let models = crate::ModelRegistry::models_by_owner(alice.clone());
			assert_eq!(models.len(), 4);
			let mut deposits = 0;
			for id in models {
				let record = crate::ModelRegistry::model(id).expect("registered");
				assert_eq!(record.status, ModelStatus::Active);
				assert_eq!(
					record.deposit,
					crate::ModelRegistry::deposit_for(&record.metadata),
					"deposit of {}",
					String::from_utf8_lossy(&record.metadata.name)
				);
				deposits += record.deposit;
			}
			let reason = pallet_model_registry::HoldReason::ModelDeposit.into();
			assert_eq!(Balances::balance_on_hold(&reason, &alice), deposits);
			// Alice is also an executor on both chains, with her bond held.
			assert_eq!(
				Balances::free_balance(&alice),
				ENDOWMENT - deposits - crate::genesis_config_presets::EXECUTOR_BOND
			);
		});
	}
}

#[test]
fn the_validators_are_the_executors_with_their_inference_keys() {
	chain_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		use polkadot_sdk::frame_support::traits::fungible::InspectHold;
		assert_eq!(pallet_inference::Executors::<Runtime>::count(), 3);
		assert_eq!(pallet_inference::DrawableCount::<Runtime>::get(), 3);
		for k in [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
			let key = verity_primitives::executor::ExecutorId::from(k.public());
			let record = pallet_inference::Executors::<Runtime>::get(k.to_account_id())
				.expect("a genesis executor");
			assert_eq!(record.key, key);
			assert_eq!(record.bond, crate::genesis_config_presets::EXECUTOR_BOND);
			assert!(record.slot.is_some(), "drawn");
			assert_eq!(
				pallet_inference::ExecutorOfKey::<Runtime>::get(&key),
				Some(k.to_account_id())
			);
			let bond = pallet_inference::HoldReason::ExecutorBond.into();
			assert_eq!(Balances::balance_on_hold(&bond, &k.to_account_id()), record.bond);
		}
		// A job on a bundled model with a committee of 3 holds its fee + 3 executor fees + the
		// base fee + the hook's fees (its upkeep and two deadlines, priced as transactions are).
		use polkadot_sdk::frame_support::weights::WeightToFee;
		type Price = <Runtime as polkadot_sdk::pallet_transaction_payment::Config>::WeightToFee;
		let model = crate::ModelRegistry::models_by_owner(Sr25519Keyring::Alice.to_account_id())[0];
		let fee = crate::ModelRegistry::model(model).unwrap().metadata.fee;
		let quote = crate::Inference::quote(fee, 3);
		assert_eq!(quote.upkeep_fee, Price::weight_to_fee(&crate::Inference::upkeep_weight(3)));
		assert_eq!(quote.deadline_fee, Price::weight_to_fee(&crate::Inference::deadline_weight(3)));
		let hook = quote.upkeep_fee + 2 * quote.deadline_fee;
		// `cargo test -p verity-runtime -- --nocapture` shows them (README, "Jobs").
		println!(
			"committee of 3: upkeep fee {}, deadline fee {}, challenge fee {}",
			quote.upkeep_fee,
			quote.deadline_fee,
			crate::Inference::challenge_fee(3)
		);
		// The hook's fees stay a small part of a job's price: less than what a quorum of its
		// executors earns.
		assert!(hook > 0 && hook < 2 * crate::configs::ExecutorFee::get(), "hook fees {hook}");
		assert_eq!(
			crate::Inference::fee_estimate(model, 3),
			Some(
				fee + 3 * crate::configs::ExecutorFee::get()
					+ crate::configs::JobBaseFee::get()
					+ hook
			)
		);
	});
}

#[test]
fn every_model_the_registry_accepts_fits_a_blocks_admission() {
	use crate::configs::{MaxCpuMillisPerBlock, MaxModelCpuMillis, MaxSeatsPerBlock};
	use polkadot_sdk::frame_support::traits::Get;
	assert!(u64::from(MaxModelCpuMillis::get()) <= MaxCpuMillisPerBlock::get());
	let max_committee: u32 = <Runtime as pallet_inference::Config>::MaxCommittee::get();
	assert!(max_committee <= MaxSeatsPerBlock::get());
	// The bundled models are cheap enough for a block to admit hundreds of their jobs.
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		for model in crate::ModelRegistry::models_by_owner(Sr25519Keyring::Alice.to_account_id()) {
			let limits = crate::ModelRegistry::model(model).unwrap().metadata.limits;
			assert!(
				MaxCpuMillisPerBlock::get() / u64::from(limits.cpu_millis) >= 150,
				"{limits:?}"
			);
		}
	});
}
