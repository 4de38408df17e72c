//! Runtime-level migrations: those that span several pallets.

use crate::{
	opaque::SessionKeys, AccountId, Grandpa, Historical, Offences, Runtime, Session, ValidatorSet,
};
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::{
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
		weights::Weight,
		BoundedVec,
	},
	sp_core::{crypto::ByteArray, sr25519},
	*,
};
use verity_primitives::executor::ExecutorId;

/// Brings a chain that ran Aura and GRANDPA without sessions (spec 108 and before) under
/// `pallet-session` and the governed validator set, keeping its authorities.
///
/// Those chains' validators are the accounts of their Aura keys (as in every Verity genesis:
/// one development seed gives a validator its account, its Aura key and its inference key), so
/// the validator of the Aura key `a` and the GRANDPA key at the same position is the account
/// `a`, with session keys `(a, grandpa, a)` (the two lists were built from one list of
/// authorities, so positions pair them). The set becomes the validator set and session 0's
/// validators, session 1 gets its historical root, and the session ends at the next two blocks,
/// each starting a GRANDPA set mapped to its session. Runs once: it does nothing on a chain
/// whose session has validators (every chain started with sessions, and this one after it).
///
/// Keys set this way hold no deposit; a migrated validator that later calls `session.setKeys`
/// needs an account with funds for the 1 VRT deposit.
pub struct IntoSessions;

impl IntoSessions {
	fn validators() -> Option<Vec<(AccountId, SessionKeys)>> {
		let aura = pallet_aura::Authorities::<Runtime>::get();
		let grandpa = Grandpa::grandpa_authorities();
		if aura.is_empty() || aura.len() != grandpa.len() {
			return None;
		}
		Some(
			aura.into_iter()
				.zip(grandpa)
				.map(|(aura, (grandpa, _weight))| {
					let raw: [u8; 32] =
						aura.as_slice().try_into().expect("sr25519 keys are 32 bytes");
					let inference: ExecutorId = sr25519::Public::from_raw(raw).into();
					(AccountId::from(raw), SessionKeys { aura, grandpa, inference })
				})
				.collect(),
		)
	}
}

impl OnRuntimeUpgrade for IntoSessions {
	fn on_runtime_upgrade() -> Weight {
		use pallet_session::SessionInterface;
		let db = <Runtime as frame_system::Config>::DbWeight::get();
		// Not the validator set's storage version: `Executive` sets the versions of pallets new
		// to the chain before any migration runs. A chain under sessions has validators in them.
		if !pallet_session::Validators::<Runtime>::get().is_empty() {
			return db.reads(1);
		}
		let Some(validators) = Self::validators() else {
			log::error!(
				target: "runtime::migrations",
				"IntoSessions: Aura and GRANDPA authorities do not pair up; nothing migrated"
			);
			return db.reads(3);
		};
		let count = validators.len() as u64;
		for (account, keys) in &validators {
			// Keys set this way hold no deposit (as at genesis).
			if let Err(e) = <Session as SessionInterface>::set_keys(account, keys.clone()) {
				log::error!(target: "runtime::migrations", "IntoSessions: keys of {account:?}: {e:?}");
			}
		}
		let accounts: Vec<AccountId> = validators.iter().map(|(a, _)| a.clone()).collect();
		let set: BoundedVec<_, _> = accounts.clone().try_into().unwrap_or_else(|_| {
			// Aura holds at most MAX_AUTHORITIES, the set's bound.
			BoundedVec::truncate_from(accounts.clone())
		});
		pallet_validator_set::Validators::<Runtime>::put(set);
		pallet_validator_set::RotationsPending::<Runtime>::put(2);
		pallet_session::Validators::<Runtime>::put(accounts);
		pallet_session::QueuedKeys::<Runtime>::put(validators);
		// Session 1 is queued with the same validators: its root, as the session pallet's
		// manager would have stored it (session 0, the current one, is proved from the keys).
		let _ = <pallet_session::historical::NoteHistoricalRoot<Runtime, ValidatorSet> as
			pallet_session::SessionManager<AccountId>>::new_session_genesis(1);
		// GRANDPA checks a report of set s against the sessions of sets s - 1 and s.
		let set_id = Grandpa::current_set_id();
		pallet_grandpa::SetIdSession::<Runtime>::insert(set_id, 0);
		if let Some(previous) = set_id.checked_sub(1) {
			if !pallet_grandpa::SetIdSession::<Runtime>::contains_key(previous) {
				pallet_grandpa::SetIdSession::<Runtime>::insert(previous, 0);
			}
		}

		StorageVersion::new(1).put::<ValidatorSet>();
		<Session as GetStorageVersion>::in_code_storage_version().put::<Session>();
		<Historical as GetStorageVersion>::in_code_storage_version().put::<Historical>();
		<Offences as GetStorageVersion>::in_code_storage_version().put::<Offences>();
		log::info!(target: "runtime::migrations", "IntoSessions: {count} validators under sessions");
		// Per validator: its keys (NextKeys, three KeyOwner entries, ExternallySetKeys, read
		// and written) and its part of session 1's root; then the set, the session's two
		// lists, the root and its range, GRANDPA's set id and sessions, four versions.
		db.reads_writes(6 + 7 * count, 5 * count + 14)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		use codec::Encode;
		use polkadot_sdk::sp_consensus_aura::sr25519::AuthorityId as AuraId;
		let authorities: Vec<AuraId> = pallet_aura::Authorities::<Runtime>::get().into_inner();
		Ok(authorities.encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use codec::Decode;
		use polkadot_sdk::sp_consensus_aura::sr25519::AuthorityId as AuraId;
		let before = Vec::<AuraId>::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		let after = pallet_aura::Authorities::<Runtime>::get().into_inner();
		frame_support::ensure!(before == after, "Aura's authorities changed");
		frame_support::ensure!(
			pallet_session::Validators::<Runtime>::get().len() == after.len(),
			"every authority is a session validator"
		);
		frame_support::ensure!(
			ValidatorSet::on_chain_storage_version() == 1,
			"the validator set's storage version is set"
		);
		Ok(())
	}
}

/// The multi-block migrations `pallet-migrations` runs (its `Config::Migrations`), in order.
type Stepped = (pallet_inference::migrations::v6::MigrateV5ToV6<Runtime>,);

/// [`Stepped`], as a type of its own: `pallet-migrations` asks a runtime built with
/// `runtime-benchmarks` (as the node's default build is, for `verity-node benchmark`) for
/// `MockedMigrations`, and this type is both, so that the same migrations run either way. The
/// mock's controls do nothing: `pallet-migrations`' own benchmarks are not run on this runtime.
pub struct MultiBlock;

impl polkadot_sdk::frame_support::migrations::SteppedMigrations for MultiBlock {
	fn len() -> u32 {
		Stepped::len()
	}

	fn nth_id(n: u32) -> Option<Vec<u8>> {
		Stepped::nth_id(n)
	}

	fn nth_max_steps(n: u32) -> Option<Option<u32>> {
		Stepped::nth_max_steps(n)
	}

	fn nth_step(
		n: u32,
		cursor: Option<Vec<u8>>,
		meter: &mut polkadot_sdk::frame_support::weights::WeightMeter,
	) -> Option<Result<Option<Vec<u8>>, frame_support::migrations::SteppedMigrationError>> {
		Stepped::nth_step(n, cursor, meter)
	}

	fn nth_transactional_step(
		n: u32,
		cursor: Option<Vec<u8>>,
		meter: &mut polkadot_sdk::frame_support::weights::WeightMeter,
	) -> Option<Result<Option<Vec<u8>>, frame_support::migrations::SteppedMigrationError>> {
		Stepped::nth_transactional_step(n, cursor, meter)
	}

	fn nth_migrating_prefixes(n: u32) -> Option<Option<Vec<Vec<u8>>>> {
		Stepped::nth_migrating_prefixes(n)
	}

	#[cfg(feature = "try-runtime")]
	fn nth_pre_upgrade(n: u32) -> Option<Result<Vec<u8>, sp_runtime::TryRuntimeError>> {
		Stepped::nth_pre_upgrade(n)
	}

	#[cfg(feature = "try-runtime")]
	fn nth_post_upgrade(n: u32, state: Vec<u8>) -> Option<Result<(), sp_runtime::TryRuntimeError>> {
		Stepped::nth_post_upgrade(n, state)
	}

	fn cursor_max_encoded_len() -> usize {
		Stepped::cursor_max_encoded_len()
	}

	fn identifier_max_encoded_len() -> usize {
		Stepped::identifier_max_encoded_len()
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_migrations::MockedMigrations for MultiBlock {
	fn set_fail_after(_: u32) {}

	fn set_success_after(_: u32) {}
}
