//! The governed validator set on the real runtime: genesis, governance changes at session
//! boundaries, key rotation, GRANDPA equivocation reports and the migration from a chain
//! without sessions.

use crate::{
	migrations::IntoSessions, opaque::SessionKeys, tests::chain_from_preset, AccountId,
	AllPalletsWithSystem, Grandpa, Historical, Runtime, RuntimeEvent, RuntimeOrigin, Session,
	System, ValidatorSet,
};
use pallet_validator_set::{Error, Event, Removal, RotationsPending, Validators};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{
			GetStorageVersion, KeyOwnerProofSystem, OnFinalize, OnInitialize, OnRuntimeUpgrade,
		},
	},
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_consensus_grandpa::{self as grandpa_primitives, AuthorityId as GrandpaId},
	sp_core::{crypto::ByteArray, H256},
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_io::{hashing::twox_128, TestExternalities},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
	sp_keystore::{testing::MemoryKeystore, KeystoreExt},
	sp_runtime::{traits::OpaqueKeys, DispatchError},
	*,
};

fn local() -> TestExternalities {
	let mut ext = chain_from_preset(LOCAL_TESTNET_RUNTIME_PRESET);
	// `SessionKeys::generate` makes keys in the keystore, as `author_rotateKeys` does.
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn account(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

/// Runs the hooks of the blocks after the current one up to `n`, as block import does
/// (without extrinsics).
fn run_to(n: u32) {
	for block in System::block_number() + 1..=n {
		System::set_block_number(block);
		AllPalletsWithSystem::on_initialize(block);
		// The timestamp inherent's mark, without its slot check (these blocks have no slot).
		let did_update = [twox_128(b"Timestamp"), twox_128(b"DidUpdate")].concat();
		frame_support::storage::unhashed::put(&did_update, &true);
		AllPalletsWithSystem::on_finalize(block);
	}
}

fn aura() -> Vec<AuraId> {
	pallet_aura::Authorities::<Runtime>::get().into_inner()
}

fn grandpa() -> Vec<GrandpaId> {
	Grandpa::grandpa_authorities().into_iter().map(|(id, _)| id).collect()
}

fn events() -> Vec<Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::ValidatorSet(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// `who` makes session keys and sets them with `session.setKeys`, with the ownership proof
/// `author_rotateKeysWithOwner` gives.
fn set_new_keys(who: &AccountId) -> SessionKeys {
	use codec::Encode;
	let generated = SessionKeys::generate(&who.encode(), None);
	let proof = generated.proof.encode();
	assert_ok!(Session::set_keys(
		RuntimeOrigin::signed(who.clone()),
		generated.keys.clone(),
		proof
	));
	generated.keys
}

#[test]
fn genesis_validators_are_the_session_validators_and_consensus_authorities() {
	for (preset, count) in [(DEV_RUNTIME_PRESET, 1), (LOCAL_TESTNET_RUNTIME_PRESET, 3)] {
		chain_from_preset(preset).execute_with(|| {
			let keyring = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie];
			let expected: Vec<_> = keyring[..count].iter().map(|k| account(*k)).collect();
			assert_eq!(Validators::<Runtime>::get().into_inner(), expected);
			assert_eq!(pallet_session::Validators::<Runtime>::get(), expected);
			let aura_keys: Vec<AuraId> =
				keyring[..count].iter().map(|k| k.public().into()).collect();
			assert_eq!(aura(), aura_keys);
			let grandpa_keys: Vec<GrandpaId> =
				[Ed25519Keyring::Alice, Ed25519Keyring::Bob, Ed25519Keyring::Charlie][..count]
					.iter()
					.map(|k| k.public().into())
					.collect();
			assert_eq!(grandpa(), grandpa_keys);
			// Session 0 and the queued session 1 have roots to prove membership against.
			assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(0).is_some());
			assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(1).is_some());
			assert_eq!(ValidatorSet::on_chain_storage_version(), 1);
		});
	}
}

#[test]
fn root_adds_a_validator_with_keys_and_it_authors_two_blocks_later() {
	local().execute_with(|| {
		let dave = account(Sr25519Keyring::Dave);
		// Only root, and only an account with session keys.
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(dave.clone()), dave.clone()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), dave.clone()),
			Error::<Runtime>::NoSessionKeys
		);
		let keys = set_new_keys(&dave);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), dave.clone()));
		assert_eq!(events(), vec![Event::ValidatorAdded { who: dave.clone() }]);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), dave.clone()),
			Error::<Runtime>::AlreadyValidator
		);
		let session = Session::current_index();

		// The next block queues the new set, the one after makes it active.
		run_to(2);
		assert_eq!(Session::current_index(), session + 1);
		assert_eq!(aura().len(), 3);
		run_to(3);
		assert_eq!(Session::current_index(), session + 2);
		assert_eq!(RotationsPending::<Runtime>::get(), 0);
		assert!(pallet_session::Validators::<Runtime>::get().contains(&dave));
		assert_eq!(aura().len(), 4);
		assert_eq!(aura()[3], keys.aura);
		assert_eq!(grandpa()[3], keys.grandpa);
		// And no more rotations until the period ends.
		run_to(10);
		assert_eq!(Session::current_index(), session + 2);
		run_to(crate::configs::SessionPeriod::get());
		assert_eq!(Session::current_index(), session + 3);
		assert_eq!(aura().len(), 4);
	});
}

#[test]
fn root_removes_a_validator_but_never_the_last() {
	local().execute_with(|| {
		let charlie = account(Sr25519Keyring::Charlie);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), account(Sr25519Keyring::Dave)),
			Error::<Runtime>::NotValidator
		);
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), charlie.clone()));
		assert_eq!(
			events(),
			vec![Event::ValidatorRemoved { who: charlie.clone(), reason: Removal::Governance }]
		);
		run_to(3);
		assert_eq!(
			pallet_session::Validators::<Runtime>::get(),
			vec![account(Sr25519Keyring::Alice), account(Sr25519Keyring::Bob)]
		);
		assert_eq!(aura().len(), 2);
		assert_eq!(grandpa().len(), 2);
	});
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), account(Sr25519Keyring::Alice)),
			Error::<Runtime>::TooFewValidators
		);
	});
}

#[test]
fn a_validator_whose_keys_leaked_rotates_them_without_a_new_chain() {
	local().execute_with(|| {
		let bob = account(Sr25519Keyring::Bob);
		let old: AuraId = Sr25519Keyring::Bob.public().into();
		let keys = set_new_keys(&bob);
		assert_ne!(keys.aura, old);
		assert_ok!(ValidatorSet::force_rotation(RuntimeOrigin::root()));
		run_to(3);
		assert_eq!(aura()[1], keys.aura);
		assert_eq!(grandpa()[1], keys.grandpa);
		// The new keys are Bob's in the session's membership proofs; the old ones no one's.
		let owner = |key: GrandpaId| {
			let proof = Historical::prove((grandpa_primitives::KEY_TYPE, key.clone()))?;
			Historical::check_proof((grandpa_primitives::KEY_TYPE, key), proof)
		};
		assert_eq!(owner(keys.grandpa.clone()), Some((bob.clone(), ())));
		assert_eq!(owner(Ed25519Keyring::Bob.public().into()), None);
		// `setKeys` from an account that does not hold the keys is refused.
		let stolen = keys.clone();
		assert_noop!(
			Session::set_keys(
				RuntimeOrigin::signed(account(Sr25519Keyring::Eve)),
				stolen,
				vec![0; 64 * SessionKeys::key_ids().len()]
			),
			pallet_session::Error::<Runtime>::InvalidProof
		);
	});
}

/// Two prevotes of `offender` for different blocks in one round of `set_id`: the evidence a
/// GRANDPA voter collects.
fn equivocation(
	set_id: u64,
	offender: Ed25519Keyring,
) -> grandpa_primitives::EquivocationProof<H256, u32> {
	equivocation_in(1, set_id, offender)
}

/// The same in another round.
fn equivocation_in(
	round: u64,
	set_id: u64,
	offender: Ed25519Keyring,
) -> grandpa_primitives::EquivocationProof<H256, u32> {
	let vote = |hash: H256| {
		let prevote = finality_grandpa::Prevote { target_hash: hash, target_number: 1u32 };
		let message = finality_grandpa::Message::Prevote(prevote.clone());
		let payload = grandpa_primitives::localized_payload(round, set_id, &message);
		(prevote, offender.sign(&payload).into())
	};
	grandpa_primitives::EquivocationProof::new(
		set_id,
		grandpa_primitives::Equivocation::Prevote(finality_grandpa::Equivocation {
			round_number: round,
			identity: offender.public().into(),
			first: vote(H256::repeat_byte(1)),
			second: vote(H256::repeat_byte(2)),
		}),
	)
}

#[test]
fn an_equivocating_validator_is_reported_and_removed() {
	local().execute_with(|| {
		let charlie = account(Sr25519Keyring::Charlie);
		let set_id = Grandpa::current_set_id();
		let key: GrandpaId = Ed25519Keyring::Charlie.public().into();
		let key_owner_proof =
			Historical::prove((grandpa_primitives::KEY_TYPE, key)).expect("a validator's key");

		// A proof of someone else's key does not convict Charlie.
		let bob_proof = Historical::prove((
			grandpa_primitives::KEY_TYPE,
			GrandpaId::from(Ed25519Keyring::Bob.public()),
		))
		.unwrap();
		assert!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(equivocation(set_id, Ed25519Keyring::Charlie)),
			bob_proof
		)
		.is_err());

		assert_ok!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(equivocation(set_id, Ed25519Keyring::Charlie)),
			key_owner_proof.clone()
		));
		assert_eq!(
			events(),
			vec![Event::ValidatorRemoved { who: charlie.clone(), reason: Removal::Offence }]
		);
		assert!(!Validators::<Runtime>::get().contains(&charlie));
		// The same offence cannot be reported twice, nor another one of a removed validator
		// (votes for any round are as easy to sign): nothing more is stored.
		assert!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(equivocation(set_id, Ed25519Keyring::Charlie)),
			key_owner_proof.clone()
		)
		.is_err());
		let reports = pallet_offences::Reports::<Runtime>::iter().count();
		let later = equivocation_in(7, set_id, Ed25519Keyring::Charlie);
		assert!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(later),
			key_owner_proof
		)
		.is_err());
		assert_eq!(pallet_offences::Reports::<Runtime>::iter().count(), reports);

		run_to(3);
		assert_eq!(
			pallet_session::Validators::<Runtime>::get(),
			vec![account(Sr25519Keyring::Alice), account(Sr25519Keyring::Bob)]
		);
		assert_eq!(grandpa().len(), 2);
	});
}

#[test]
fn the_last_validator_is_kept_when_it_equivocates() {
	let mut ext = chain_from_preset(DEV_RUNTIME_PRESET);
	ext.execute_with(|| {
		System::set_block_number(1);
		let key: GrandpaId = Ed25519Keyring::Alice.public().into();
		let proof = Historical::prove((grandpa_primitives::KEY_TYPE, key)).unwrap();
		assert_ok!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(equivocation(Grandpa::current_set_id(), Ed25519Keyring::Alice)),
			proof
		));
		assert_eq!(events(), vec![Event::OffenderKept { who: account(Sr25519Keyring::Alice) }]);
		assert_eq!(Validators::<Runtime>::get().len(), 1);
	});
}

#[test]
fn a_chain_without_sessions_keeps_its_authorities_under_sessions() {
	local().execute_with(|| {
		let authorities = aura();
		let grandpa_authorities = grandpa();
		// What a spec-108 chain holds: Aura's and GRANDPA's authorities, nothing of sessions.
		for prefix in [&b"Session"[..], b"Historical", b"ValidatorSet", b"Offences"] {
			let _ = frame_support::storage::unhashed::clear_prefix(&twox_128(prefix), None, None);
		}
		assert_eq!(ValidatorSet::on_chain_storage_version(), 0);
		assert!(pallet_session::Validators::<Runtime>::get().is_empty());

		// As `Executive` runs it: after every pallet new to the chain had its storage version
		// set (the validator set's too).
		crate::Executive::execute_on_runtime_upgrade();
		let validators: Vec<_> =
			[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
				.iter()
				.map(|k| account(*k))
				.collect();
		assert_eq!(Validators::<Runtime>::get().into_inner(), validators);
		assert_eq!(pallet_session::Validators::<Runtime>::get(), validators);
		for (i, who) in validators.iter().enumerate() {
			let keys = pallet_session::NextKeys::<Runtime>::get(who).expect("keys");
			assert_eq!(keys.aura, authorities[i]);
			assert_eq!(keys.grandpa, grandpa_authorities[i]);
			assert_eq!(keys.inference.as_slice(), authorities[i].as_slice());
		}
		assert_eq!(ValidatorSet::on_chain_storage_version(), 1);
		assert_eq!(Session::on_chain_storage_version(), Session::in_code_storage_version());
		assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(1).is_some());

		// Once only.
		IntoSessions::on_runtime_upgrade();
		crate::Executive::execute_on_runtime_upgrade();
		assert_eq!(Validators::<Runtime>::get().len(), 3);

		// The next two blocks rotate; the authorities stay, and are provable.
		run_to(3);
		assert_eq!(Session::current_index(), 2);
		assert_eq!(aura(), authorities);
		assert_eq!(grandpa(), grandpa_authorities);
		let key = (grandpa_primitives::KEY_TYPE, grandpa_authorities[2].clone());
		let proof = Historical::prove(key.clone()).expect("a proof");
		assert_eq!(Historical::check_proof(key, proof), Some((validators[2].clone(), ())));
	});
}

#[test]
fn rotations_wait_for_a_forced_grandpa_change_to_be_enacted() {
	local().execute_with(|| {
		let session = Session::current_index();
		// Root notes a stall: the next boundary schedules a forced change, enacted 5 blocks on.
		assert_ok!(Grandpa::note_stalled(RuntimeOrigin::root(), 5, 0));
		assert_ok!(ValidatorSet::force_rotation(RuntimeOrigin::root()));
		run_to(2);
		assert_eq!(Session::current_index(), session + 1);
		assert!(pallet_grandpa::PendingChange::<Runtime>::exists());
		// The second rotation waits for it, so that it too starts a GRANDPA set.
		run_to(6);
		assert_eq!(Session::current_index(), session + 1);
		run_to(8);
		assert_eq!(Session::current_index(), session + 2);
		assert_eq!(RotationsPending::<Runtime>::get(), 0);
	});
}
