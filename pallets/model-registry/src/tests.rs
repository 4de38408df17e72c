//! Every call and every error of the registry, against the mock runtime.

use crate::{mock::*, pallet::*, Error, Event};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold},
	sp_io::hashing::blake2_256,
	sp_runtime::{BoundedVec, BuildStorage, DispatchError},
};
use verity_primitives::{
	model::{ModelFormat, ModelHosting, ModelLimits, ModelLookup, ModelMetadata, ModelStatus},
	tensor::{DType, Dim, TensorSpec},
	ModelId,
};

fn spec(name: &str, dims: &[Dim]) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		dtype: DType::F32,
		shape: dims.to_vec().try_into().unwrap(),
	}
}

fn metadata(name: &str, version: &str, hosting: ModelHosting) -> ModelMetadata<Balance> {
	ModelMetadata {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		version: version.as_bytes().to_vec().try_into().unwrap(),
		description: b"a test model".to_vec().try_into().unwrap(),
		format: ModelFormat::Onnx { opset: 17 },
		inputs: vec![spec("x", &[Dim::Dynamic, Dim::Fixed(4)])].try_into().unwrap(),
		outputs: vec![spec("y", &[Dim::Dynamic, Dim::Fixed(3)])].try_into().unwrap(),
		output_decimals: 6,
		tolerance: 2,
		fee: 10,
		hosting,
		limits: ModelLimits { cpu_millis: 100, memory_mib: 64 },
	}
}

/// `len` bytes (even) of a well-formed protobuf, different for each seed: `ir_version` fields,
/// as far as the registry's check looks.
fn bytes(len: usize, seed: u8) -> Vec<u8> {
	assert_eq!(len % 2, 0, "whole fields");
	(0..len / 2)
		.flat_map(|i| [0x08, (i as u8).wrapping_mul(31).wrapping_add(seed) & 0x7f])
		.collect()
}

fn on_chain(len: usize) -> ModelHosting {
	ModelHosting::OnChain { size: len as u32 }
}

fn uris(list: &[&str]) -> ModelHosting {
	ModelHosting::Uris {
		size: 5_000_000,
		uris: list
			.iter()
			.map(|u| u.as_bytes().to_vec().try_into().unwrap())
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
	}
}

fn chunk(data: &[u8]) -> BoundedVec<u8, ChunkSize> {
	data.to_vec().try_into().unwrap()
}

/// `who`'s claim of `id`, made `ClaimDelay` blocks before the block this leaves the chain at.
fn claimed(who: AccountId, id: ModelId) {
	assert_ok!(ModelRegistry::claim_model(
		RuntimeOrigin::signed(who),
		ModelRegistry::claim_commitment(&id, &who)
	));
	System::set_block_number(System::block_number() + ClaimDelay::get());
}

/// Registers `data` on chain as `who`'s model `name`/`version`; returns its id.
fn register(who: AccountId, name: &str, version: &str, data: &[u8]) -> ModelId {
	let id = blake2_256(data);
	claimed(who, id);
	assert_ok!(ModelRegistry::register_model(
		RuntimeOrigin::signed(who),
		id,
		metadata(name, version, on_chain(data.len()))
	));
	id
}

/// Uploads every chunk of `data`, in order.
fn upload(who: AccountId, id: ModelId, data: &[u8]) {
	for (i, part) in data.chunks(64).enumerate() {
		assert_ok!(ModelRegistry::upload_chunk(
			RuntimeOrigin::signed(who),
			id,
			i as u32,
			chunk(part)
		));
	}
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn status(id: ModelId) -> ModelStatus {
	Models::<Test>::get(id).unwrap().status
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

#[test]
fn registering_an_on_chain_model_holds_its_deposit_and_awaits_chunks() {
	new_test_ext().execute_with(|| {
		let data = bytes(200, 1);
		let id = register(ALICE, "mlp", "1.0", &data);
		let meta = metadata("mlp", "1.0", on_chain(200));
		let deposit = 100 + meta.encoded_size() as u64 + 200;
		assert_eq!(ModelRegistry::deposit_for(&meta), deposit);
		assert_eq!(held(ALICE), deposit);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - deposit);
		let record = Models::<Test>::get(id).unwrap();
		assert_eq!((record.owner, record.depositor, record.deposit), (ALICE, ALICE, deposit));
		assert_eq!(record.status, ModelStatus::Uploading);
		System::assert_last_event(
			Event::ModelRegistered {
				model: id,
				owner: ALICE,
				name: meta.name,
				version: meta.version,
				deposit,
			}
			.into(),
		);
	});
}

#[test]
fn a_uri_hosted_model_is_ready_at_once_and_its_deposit_covers_metadata_only() {
	new_test_ext().execute_with(|| {
		let id = [9; 32];
		let meta = metadata("big", "1", uris(&["https://models.example/big.onnx"]));
		claimed(ALICE, id);
		assert_ok!(ModelRegistry::register_model(RuntimeOrigin::signed(ALICE), id, meta.clone()));
		assert_eq!(status(id), ModelStatus::Active);
		assert_eq!(held(ALICE), 100 + meta.encoded_size() as u64);
		System::assert_last_event(Event::ModelReady { model: id }.into());
	});
}

#[test]
fn a_registered_id_cannot_be_registered_again() {
	new_test_ext().execute_with(|| {
		let data = bytes(10, 1);
		let id = register(ALICE, "a", "1", &data);
		claimed(BOB, id);
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(BOB),
				id,
				metadata("b", "1", on_chain(10))
			),
			Error::<Test>::ModelAlreadyRegistered
		);
	});
}

#[test]
fn malformed_metadata_is_refused_with_its_own_error() {
	new_test_ext().execute_with(|| {
		let good = metadata("m", "1", on_chain(100));
		let mut cases: Vec<(ModelMetadata<Balance>, Error<Test>)> = Vec::new();
		let mut m = good.clone();
		m.name = Default::default();
		cases.push((m, Error::EmptyName));
		let mut m = good.clone();
		m.version = Default::default();
		cases.push((m, Error::EmptyVersion));
		let mut m = good.clone();
		m.output_decimals = 19;
		cases.push((m, Error::InvalidDecimals));
		for opset in [6, 24] {
			let mut m = good.clone();
			m.format = ModelFormat::Onnx { opset };
			cases.push((m, Error::UnsupportedOpset));
		}
		let mut m = good.clone();
		m.inputs = Default::default();
		cases.push((m, Error::NoInputs));
		let mut m = good.clone();
		m.outputs = Default::default();
		cases.push((m, Error::NoOutputs));
		let mut m = good.clone();
		m.inputs = vec![spec("", &[Dim::Fixed(1)])].try_into().unwrap();
		cases.push((m, Error::EmptyTensorName));
		let mut m = good.clone();
		m.outputs = vec![spec("y", &[]), spec("y", &[])].try_into().unwrap();
		cases.push((m, Error::DuplicateTensorName));
		let mut m = good.clone();
		m.inputs = vec![spec("x", &[Dim::Fixed(0)])].try_into().unwrap();
		cases.push((m, Error::ZeroDimension));
		let mut m = good.clone();
		m.hosting = on_chain(0);
		cases.push((m, Error::EmptyModel));
		let mut m = good.clone();
		m.hosting = on_chain(1025);
		cases.push((m, Error::ModelTooLargeForChain));
		let mut m = good.clone();
		m.hosting = ModelHosting::Uris {
			size: (1 << 30) + 1,
			uris: vec![b"http://a/b".to_vec().try_into().unwrap()].try_into().unwrap(),
		};
		cases.push((m, Error::ModelTooLarge));
		let mut m = good.clone();
		m.hosting = uris(&[]);
		cases.push((m, Error::NoUris));
		for bad in ["ftp://a/b", "https://", "http://has space", "models.example/x.onnx"] {
			let mut m = good.clone();
			m.hosting = uris(&[bad]);
			cases.push((m, Error::InvalidUri));
		}
		claimed(ALICE, [1; 32]);
		for (meta, error) in cases {
			assert_noop!(
				ModelRegistry::register_model(RuntimeOrigin::signed(ALICE), [1; 32], meta),
				error
			);
		}
	});
}

#[test]
fn versions_are_unique_and_bounded_per_family() {
	new_test_ext().execute_with(|| {
		register(ALICE, "m", "1", &bytes(10, 1));
		claimed(ALICE, blake2_256(&bytes(10, 2)));
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(ALICE),
				blake2_256(&bytes(10, 2)),
				metadata("m", "1", on_chain(10))
			),
			Error::<Test>::VersionExists
		);
		// Another owner's family of the same name is another family.
		register(BOB, "m", "1", &bytes(10, 3));
		register(ALICE, "m", "2", &bytes(10, 4));
		register(ALICE, "m", "3", &bytes(10, 5));
		claimed(ALICE, blake2_256(&bytes(10, 6)));
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(ALICE),
				blake2_256(&bytes(10, 6)),
				metadata("m", "4", on_chain(10))
			),
			Error::<Test>::TooManyVersions
		);
	});
}

#[test]
fn an_owner_who_cannot_pay_the_deposit_is_refused() {
	new_test_ext().execute_with(|| {
		claimed(POOR, [5; 32]);
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(POOR),
				[5; 32],
				metadata("m", "1", on_chain(500))
			),
			Error::<Test>::InsufficientDeposit
		);
	});
}

#[test]
fn chunks_arriving_in_any_order_complete_the_model() {
	new_test_ext().execute_with(|| {
		let data = bytes(200, 7); // chunks of 64, 64, 64 and 8 bytes
		let id = register(ALICE, "m", "1", &data);
		for i in [3u32, 1, 0] {
			let part = &data[i as usize * 64..(data.len()).min(i as usize * 64 + 64)];
			assert_ok!(ModelRegistry::upload_chunk(
				RuntimeOrigin::signed(ALICE),
				id,
				i,
				chunk(part)
			));
			assert_eq!(status(id), ModelStatus::Uploading);
		}
		System::assert_last_event(
			Event::ChunkUploaded { model: id, index: 0, received: 3, total: 4 }.into(),
		);
		assert_ok!(ModelRegistry::upload_chunk(
			RuntimeOrigin::signed(ALICE),
			id,
			2,
			chunk(&data[128..192])
		));
		assert_eq!(status(id), ModelStatus::Active);
		System::assert_last_event(Event::ModelReady { model: id }.into());
		let stored: Vec<u8> = (0..4).flat_map(|i| ModelRegistry::chunk(id, i).unwrap()).collect();
		assert_eq!(stored, data);
		// Complete: no more chunks accepted.
		assert_noop!(
			ModelRegistry::upload_chunk(RuntimeOrigin::signed(ALICE), id, 0, chunk(&data[..64])),
			Error::<Test>::NotUploading
		);
	});
}

#[test]
fn a_chunk_is_accepted_once() {
	new_test_ext().execute_with(|| {
		let data = bytes(200, 7);
		let id = register(ALICE, "m", "1", &data);
		assert_ok!(ModelRegistry::upload_chunk(
			RuntimeOrigin::signed(ALICE),
			id,
			1,
			chunk(&data[64..128])
		));
		assert_noop!(
			ModelRegistry::upload_chunk(RuntimeOrigin::signed(ALICE), id, 1, chunk(&data[64..128])),
			Error::<Test>::ChunkAlreadyUploaded
		);
	});
}

#[test]
fn surplus_chunks_are_out_of_range() {
	new_test_ext().execute_with(|| {
		let data = bytes(200, 7);
		let id = register(ALICE, "m", "1", &data);
		assert_noop!(
			ModelRegistry::upload_chunk(RuntimeOrigin::signed(ALICE), id, 4, chunk(&[1; 8])),
			Error::<Test>::ChunkIndexOutOfRange
		);
	});
}

#[test]
fn chunks_of_the_wrong_size_are_refused() {
	new_test_ext().execute_with(|| {
		let data = bytes(200, 7);
		let id = register(ALICE, "m", "1", &data);
		for (index, len) in [(0u32, 63usize), (0, 8), (3, 9), (3, 7), (3, 64), (1, 0)] {
			assert_noop!(
				ModelRegistry::upload_chunk(
					RuntimeOrigin::signed(ALICE),
					id,
					index,
					chunk(&vec![0; len])
				),
				Error::<Test>::WrongChunkSize
			);
		}
	});
}

#[test]
fn bytes_that_do_not_hash_to_the_id_are_rejected_and_removed() {
	new_test_ext().execute_with(|| {
		let data = bytes(100, 7);
		let id = register(ALICE, "m", "1", &data);
		let mut wrong = data.clone();
		wrong[99] ^= 1;
		upload(ALICE, id, &wrong);
		System::assert_last_event(
			Event::UploadRejected { model: id, found: blake2_256(&wrong) }.into(),
		);
		assert_eq!(status(id), ModelStatus::Uploading);
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(Models::<Test>::get(id).unwrap().chunks_received, 0);
		// The owner can then upload the right bytes.
		upload(ALICE, id, &data);
		assert_eq!(status(id), ModelStatus::Active);
	});
}

#[test]
fn only_the_owner_uploads_and_only_to_on_chain_models() {
	new_test_ext().execute_with(|| {
		let data = bytes(100, 7);
		let id = register(ALICE, "m", "1", &data);
		assert_noop!(
			ModelRegistry::upload_chunk(RuntimeOrigin::signed(BOB), id, 0, chunk(&data[..64])),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			ModelRegistry::upload_chunk(RuntimeOrigin::signed(ALICE), [0; 32], 0, chunk(&[1])),
			Error::<Test>::ModelNotFound
		);
		let uri_model = [9; 32];
		claimed(ALICE, uri_model);
		assert_ok!(ModelRegistry::register_model(
			RuntimeOrigin::signed(ALICE),
			uri_model,
			metadata("u", "1", uris(&["https://x/y"]))
		));
		assert_noop!(
			ModelRegistry::upload_chunk(RuntimeOrigin::signed(ALICE), uri_model, 0, chunk(&[1])),
			Error::<Test>::NotUploading
		);
	});
}

#[test]
fn deprecated_models_stay_runnable_and_can_be_reactivated() {
	new_test_ext().execute_with(|| {
		let data = bytes(100, 7);
		let id = register(ALICE, "m", "1", &data);
		assert_noop!(
			ModelRegistry::set_status(RuntimeOrigin::signed(ALICE), id, ModelStatus::Active),
			Error::<Test>::InvalidStatusTransition
		);
		upload(ALICE, id, &data);
		assert_ok!(ModelRegistry::set_status(
			RuntimeOrigin::signed(ALICE),
			id,
			ModelStatus::Deprecated
		));
		assert!(status(id).is_runnable());
		System::assert_last_event(
			Event::StatusChanged { model: id, status: ModelStatus::Deprecated }.into(),
		);
		assert_noop!(
			ModelRegistry::set_status(RuntimeOrigin::signed(ALICE), id, ModelStatus::Deprecated),
			Error::<Test>::StatusUnchanged
		);
		assert_noop!(
			ModelRegistry::set_status(RuntimeOrigin::signed(ALICE), id, ModelStatus::Uploading),
			Error::<Test>::InvalidStatusTransition
		);
		assert_noop!(
			ModelRegistry::set_status(RuntimeOrigin::signed(BOB), id, ModelStatus::Active),
			Error::<Test>::NotOwner
		);
		assert_ok!(ModelRegistry::set_status(
			RuntimeOrigin::signed(ALICE),
			id,
			ModelStatus::Active
		));
		assert_eq!(status(id), ModelStatus::Active);
	});
}

#[test]
fn retiring_deletes_chunks_and_releases_their_deposit_and_removing_releases_the_rest() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let data = bytes(300, 7);
		let id = register(ALICE, "m", "1", &data);
		upload(ALICE, id, &data);
		let deposit = held(ALICE);
		let meta = metadata("m", "1", on_chain(300));
		// The record's part: the base and the metadata's bytes; the chunks' part: 300.
		let record_part = 100 + meta.encoded_size() as u64;
		assert_eq!(deposit, record_part + 300);
		assert_eq!(ModelRegistry::record_deposit(&meta), record_part);
		assert_ok!(ModelRegistry::set_status(
			RuntimeOrigin::signed(ALICE),
			id,
			ModelStatus::Retired
		));
		System::assert_last_event(
			Event::ModelRetired { model: id, released: 300, forced: false }.into(),
		);
		assert_eq!(status(id), ModelStatus::Retired);
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(held(ALICE), record_part);
		assert_eq!(Models::<Test>::get(id).unwrap().deposit, record_part);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - record_part);
		assert_eq!(Balances::total_issuance(), issuance);
		// Retired is final, and a retired model takes no chunks.
		assert_noop!(
			ModelRegistry::set_status(RuntimeOrigin::signed(ALICE), id, ModelStatus::Active),
			Error::<Test>::ModelIsRetired
		);
		assert_noop!(
			ModelRegistry::upload_chunk(RuntimeOrigin::signed(ALICE), id, 0, chunk(&data[..64])),
			Error::<Test>::NotUploading
		);
		assert_noop!(
			ModelRegistry::set_fee(RuntimeOrigin::signed(ALICE), id, 1),
			Error::<Test>::ModelIsRetired
		);
		// The id stays taken while the record is kept.
		claimed(ALICE, id);
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(ALICE),
				id,
				metadata("m", "2", on_chain(300))
			),
			Error::<Test>::ModelAlreadyRegistered
		);

		// Removing the record: only its owner (or root), only once retired.
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotOwner
		);
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(
			Event::ModelRemoved { model: id, released: record_part, forced: false }.into(),
		);
		assert!(Models::<Test>::get(id).is_none());
		assert!(ModelRegistry::versions(ALICE, b"m".to_vec()).is_empty());
		assert!(ModelRegistry::models_by_owner(ALICE).is_empty());
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - ClaimDeposit::get());
		assert_eq!(Balances::total_issuance(), issuance);
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::ModelNotFound
		);
		// The id is free again, and the version with it.
		assert_ok!(ModelRegistry::register_model(
			RuntimeOrigin::signed(ALICE),
			id,
			metadata("m", "1", on_chain(300))
		));
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotRetired
		);
		assert_ok!(ModelRegistry::force_retire(RuntimeOrigin::root(), id));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::root(), id));
		assert!(Models::<Test>::get(id).is_none());
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn registering_needs_the_callers_own_claim_made_claim_delay_blocks_before() {
	new_test_ext().execute_with(|| {
		let data = bytes(10, 1);
		let id = blake2_256(&data);
		let meta = metadata("m", "1", on_chain(10));
		let register =
			|who| ModelRegistry::register_model(RuntimeOrigin::signed(who), id, meta.clone());
		let claim = |who| {
			ModelRegistry::claim_model(
				RuntimeOrigin::signed(who),
				ModelRegistry::claim_commitment(&id, &who),
			)
		};
		assert_noop!(register(ALICE), Error::<Test>::ClaimNotFound);
		// Bob, who knows the id and Alice's account, claims her commitment first: it is his
		// claim, not hers, and does not stand in her way.
		let commitment = ModelRegistry::claim_commitment(&id, &ALICE);
		assert_ok!(ModelRegistry::claim_model(RuntimeOrigin::signed(BOB), commitment));

		// Alice claims; Bob, who saw her registration in the pool, claims the same id a block
		// later: hers is older, and his cannot be used before hers.
		assert_ok!(claim(ALICE));
		System::assert_last_event(Event::ModelClaimed { commitment, who: ALICE, from: 3 }.into());
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::ClaimDeposit.into(), &ALICE),
			ClaimDeposit::get()
		);
		assert_noop!(claim(ALICE), Error::<Test>::ClaimExists);
		System::set_block_number(2);
		assert_ok!(claim(BOB));
		assert_noop!(register(ALICE), Error::<Test>::ClaimTooRecent);
		// Bob's claim is not Alice's: her commitment names her account.
		assert_noop!(
			ModelRegistry::register_model(RuntimeOrigin::signed(BOB), [2; 32], meta.clone()),
			Error::<Test>::ClaimNotFound
		);
		System::set_block_number(3);
		assert_noop!(register(BOB), Error::<Test>::ClaimTooRecent);
		assert_ok!(register(ALICE));
		assert_eq!(Models::<Test>::get(id).unwrap().owner, ALICE);
		assert!(!Claims::<Test>::contains_key(ALICE, commitment), "the claim is used up");
		assert!(Claims::<Test>::contains_key(BOB, commitment), "Bob's copy is his to drop");
		assert_eq!(Balances::balance_on_hold(&HoldReason::ClaimDeposit.into(), &ALICE), 0);
		System::set_block_number(4);
		assert_noop!(register(BOB), Error::<Test>::ModelAlreadyRegistered);

		// Bob drops his claim and has its deposit back; no one else can drop it.
		let his = ModelRegistry::claim_commitment(&id, &BOB);
		assert_noop!(
			ModelRegistry::drop_claim(RuntimeOrigin::signed(ALICE), his),
			Error::<Test>::ClaimNotFound
		);
		assert_ok!(ModelRegistry::drop_claim(RuntimeOrigin::signed(BOB), his));
		System::assert_last_event(Event::ClaimDropped { commitment: his }.into());
		assert_ok!(ModelRegistry::drop_claim(RuntimeOrigin::signed(BOB), commitment));
		assert_eq!(Balances::free_balance(BOB), ENDOWMENT);
		assert_noop!(
			ModelRegistry::drop_claim(RuntimeOrigin::signed(BOB), his),
			Error::<Test>::ClaimNotFound
		);
	});
}

#[test]
fn a_claim_commits_to_the_id_and_the_account() {
	// What the upload tool computes: blake2_256("verity/model-claim" ++ id ++ account).
	let id = [7u8; 32];
	let mut preimage = b"verity/model-claim".to_vec();
	preimage.extend_from_slice(&id);
	preimage.extend_from_slice(&ALICE.encode());
	assert_eq!(ModelRegistry::claim_commitment(&id, &ALICE), blake2_256(&preimage));
	assert_ne!(
		ModelRegistry::claim_commitment(&id, &ALICE),
		ModelRegistry::claim_commitment(&id, &BOB)
	);
}

#[test]
fn an_unfinished_upload_can_be_abandoned_by_retiring_it() {
	new_test_ext().execute_with(|| {
		let data = bytes(300, 7);
		let id = register(ALICE, "m", "1", &data);
		assert_ok!(ModelRegistry::upload_chunk(
			RuntimeOrigin::signed(ALICE),
			id,
			0,
			chunk(&data[..64])
		));
		assert_ok!(ModelRegistry::set_status(
			RuntimeOrigin::signed(ALICE),
			id,
			ModelStatus::Retired
		));
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(held(ALICE), ModelRegistry::record_deposit(&metadata("m", "1", on_chain(300))));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn the_owner_sets_the_fee() {
	new_test_ext().execute_with(|| {
		let id = register(ALICE, "m", "1", &bytes(10, 1));
		assert_ok!(ModelRegistry::set_fee(RuntimeOrigin::signed(ALICE), id, 77));
		assert_eq!(Models::<Test>::get(id).unwrap().metadata.fee, 77);
		System::assert_last_event(Event::FeeChanged { model: id, fee: 77 }.into());
		assert_noop!(
			ModelRegistry::set_fee(RuntimeOrigin::signed(BOB), id, 1),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			ModelRegistry::set_fee(RuntimeOrigin::signed(BOB), [0; 32], 1),
			Error::<Test>::ModelNotFound
		);
	});
}

#[test]
fn after_a_transfer_only_the_new_owner_acts_and_the_deposit_stays_with_its_payer() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let data = bytes(100, 1);
		let id = register(ALICE, "m", "1", &data);
		upload(ALICE, id, &data);
		let deposit = held(ALICE);
		assert_ok!(ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, BOB));
		System::assert_last_event(
			Event::OwnershipTransferred { model: id, from: ALICE, to: BOB }.into(),
		);
		assert_eq!(ModelRegistry::versions(BOB, b"m".to_vec()), vec![id]);
		assert!(ModelRegistry::versions(ALICE, b"m".to_vec()).is_empty());
		assert_eq!(ModelRegistry::models_by_owner(BOB), vec![id]);
		assert!(ModelRegistry::models_by_owner(ALICE).is_empty());
		assert_noop!(
			ModelRegistry::set_fee(RuntimeOrigin::signed(ALICE), id, 1),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, ALICE),
			Error::<Test>::NotOwner
		);
		assert_ok!(ModelRegistry::set_fee(RuntimeOrigin::signed(BOB), id, 5));
		assert_eq!(held(ALICE), deposit);
		assert_eq!(held(BOB), 0);
		assert_ok!(ModelRegistry::set_status(RuntimeOrigin::signed(BOB), id, ModelStatus::Retired));
		// Alice, who paid the deposit, may remove the record the new owner retired; the rest of
		// the deposit goes back to her.
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT);
		assert_eq!(Balances::free_balance(BOB), ENDOWMENT);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_transfer_needs_a_new_owner_with_room_for_the_version() {
	new_test_ext().execute_with(|| {
		let id = register(ALICE, "m", "1", &bytes(10, 1));
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, ALICE),
			Error::<Test>::AlreadyOwner
		);
		register(BOB, "m", "1", &bytes(10, 2));
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::VersionExists
		);
		register(BOB, "m", "2", &bytes(10, 3));
		register(BOB, "m", "3", &bytes(10, 4));
		let other = register(ALICE, "m", "4", &bytes(10, 5));
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), other, BOB),
			Error::<Test>::TooManyVersions
		);
	});
}

#[test]
fn root_can_force_retire_any_model() {
	new_test_ext().execute_with(|| {
		let data = bytes(100, 1);
		let id = register(ALICE, "m", "1", &data);
		upload(ALICE, id, &data);
		assert_noop!(
			ModelRegistry::force_retire(RuntimeOrigin::signed(BOB), id),
			DispatchError::BadOrigin
		);
		let deposit = held(ALICE);
		assert_ok!(ModelRegistry::force_retire(RuntimeOrigin::root(), id));
		let kept = ModelRegistry::record_deposit(&metadata("m", "1", on_chain(100)));
		assert!(matches!(
			last_event(),
			RuntimeEvent::ModelRegistry(Event::ModelRetired { released, forced: true, .. })
				if released == deposit - kept
		));
		assert_eq!(held(ALICE), kept);
		assert_noop!(
			ModelRegistry::force_retire(RuntimeOrigin::root(), id),
			Error::<Test>::ModelIsRetired
		);
		assert_noop!(
			ModelRegistry::force_retire(RuntimeOrigin::root(), [0; 32]),
			Error::<Test>::ModelNotFound
		);
	});
}

#[test]
fn versions_are_listed_in_order_and_latest_is_the_newest_runnable() {
	new_test_ext().execute_with(|| {
		let v1 = bytes(10, 1);
		let v2 = bytes(10, 2);
		let id1 = register(ALICE, "m", "1.0", &v1);
		let id2 = register(ALICE, "m", "2.0", &v2);
		assert_eq!(ModelRegistry::versions(ALICE, b"m".to_vec()), vec![id1, id2]);
		// Neither is uploaded yet: nothing is runnable.
		assert_eq!(ModelRegistry::latest(ALICE, b"m".to_vec()), None);
		upload(ALICE, id1, &v1);
		assert_eq!(ModelRegistry::latest(ALICE, b"m".to_vec()), Some(id1));
		upload(ALICE, id2, &v2);
		assert_eq!(ModelRegistry::latest(ALICE, b"m".to_vec()), Some(id2));
		assert_ok!(ModelRegistry::set_status(
			RuntimeOrigin::signed(ALICE),
			id2,
			ModelStatus::Retired
		));
		assert_eq!(ModelRegistry::latest(ALICE, b"m".to_vec()), Some(id1));
		assert_eq!(ModelRegistry::versions(ALICE, vec![b'x'; 100]), Vec::<ModelId>::new());
		let mut owned = ModelRegistry::models_by_owner(ALICE);
		owned.sort();
		let mut expected = vec![id1, id2];
		expected.sort();
		assert_eq!(owned, expected);
	});
}

#[test]
fn genesis_models_are_ready_with_their_chunks_and_deposits() {
	let data = bytes(150, 3);
	let mut storage =
		polkadot_sdk::frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	polkadot_sdk::pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, ENDOWMENT)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	crate::GenesisConfig::<Test> {
		models: vec![crate::GenesisModel {
			owner: ALICE,
			metadata: metadata("m", "1", on_chain(150)),
			bytes: data.clone(),
		}],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	polkadot_sdk::sp_io::TestExternalities::new(storage).execute_with(|| {
		let id = blake2_256(&data);
		assert_eq!(status(id), ModelStatus::Active);
		let stored: Vec<u8> = (0..3).flat_map(|i| ModelRegistry::chunk(id, i).unwrap()).collect();
		assert_eq!(stored, data);
		assert_eq!(held(ALICE), ModelRegistry::deposit_for(&metadata("m", "1", on_chain(150))));
	});
}

mod checks {
	use super::*;

	#[test]
	fn limits_must_be_declared_within_the_chains_bounds() {
		new_test_ext().execute_with(|| {
			claimed(ALICE, [3; 32]);
			for (cpu_millis, memory_mib) in [
				(0, 64),
				(100, 0),
				(MaxModelCpuMillis::get() + 1, 64),
				(100, MaxModelMemoryMib::get() + 1),
			] {
				let mut meta = metadata("m", "1", on_chain(10));
				meta.limits = ModelLimits { cpu_millis, memory_mib };
				assert_noop!(
					ModelRegistry::register_model(RuntimeOrigin::signed(ALICE), [3; 32], meta),
					Error::<Test>::InvalidLimits
				);
			}
		});
	}

	/// A ModelProto whose graph has one initializer kept in the external file `location`.
	fn external_data_model() -> Vec<u8> {
		let field = |number: u8, body: &[u8]| {
			let mut out = vec![number << 3 | 2, body.len() as u8];
			out.extend_from_slice(body);
			out
		};
		let entry = [field(1, b"location"), field(2, b"/etc/passwd")].concat();
		let tensor = [field(8, b"w"), field(13, &entry), vec![14 << 3, 1]].concat();
		let graph = field(5, &tensor);
		let mut model = [vec![0x08, 0x08], field(7, &graph)].concat();
		// An even length, like the other test models.
		if model.len() % 2 == 1 {
			model.extend_from_slice(&[0x08]);
			model.push(0x08);
		}
		model
	}

	#[test]
	fn uploaded_bytes_with_external_data_are_refused_and_removed() {
		new_test_ext().execute_with(|| {
			let data = external_data_model();
			let id = register(ALICE, "m", "1", &data);
			upload(ALICE, id, &data);
			assert_eq!(
				last_event(),
				RuntimeEvent::ModelRegistry(Event::ModelRefused {
					model: id,
					reason: crate::Refusal::ExternalData
				})
			);
			assert_eq!(status(id), ModelStatus::Uploading);
			assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
			assert!(ModelRegistry::runnable(&id).is_err());
		});
	}

	#[test]
	fn uploaded_bytes_that_are_no_protobuf_are_refused() {
		new_test_ext().execute_with(|| {
			let data = vec![0xff; 100];
			let id = register(ALICE, "m", "1", &data);
			upload(ALICE, id, &data);
			assert_eq!(
				last_event(),
				RuntimeEvent::ModelRegistry(Event::ModelRefused {
					model: id,
					reason: crate::Refusal::NotOnnx
				})
			);
			assert_eq!(status(id), ModelStatus::Uploading);
		});
	}
}

mod resources {
	use super::*;

	fn ready_model() -> ModelId {
		let data = bytes(100, 7);
		let id = register(ALICE, "m", "1", &data);
		upload(ALICE, id, &data);
		assert_eq!(status(id), ModelStatus::Active);
		id
	}

	#[test]
	fn a_model_whose_jobs_keep_failing_for_resources_is_deprecated() {
		new_test_ext().execute_with(|| {
			let id = ready_model();
			for _ in 1..ResourceFailuresToDeprecate::get() {
				ModelRegistry::job_settled(&id, true);
				assert_eq!(status(id), ModelStatus::Active);
			}
			ModelRegistry::job_settled(&id, true);
			assert_eq!(status(id), ModelStatus::Deprecated);
			assert_eq!(
				last_event(),
				RuntimeEvent::ModelRegistry(Event::DeprecatedForResources {
					model: id,
					failures: ResourceFailuresToDeprecate::get()
				})
			);
			// Still runnable; its owner may set it active again.
			assert!(ModelRegistry::runnable(&id).is_ok());
			assert_ok!(ModelRegistry::set_status(
				RuntimeOrigin::signed(ALICE),
				id,
				ModelStatus::Active
			));
		});
	}

	#[test]
	fn any_other_outcome_resets_the_count() {
		new_test_ext().execute_with(|| {
			let id = ready_model();
			for _ in 0..10 {
				for _ in 1..ResourceFailuresToDeprecate::get() {
					ModelRegistry::job_settled(&id, true);
				}
				ModelRegistry::job_settled(&id, false);
			}
			assert_eq!(status(id), ModelStatus::Active);
			assert_eq!(ResourceFailures::<Test>::get(id), None);
		});
	}
}
