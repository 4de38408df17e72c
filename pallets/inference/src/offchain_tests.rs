//! The executor's off-chain worker against the mock runtime, with the real engine: ONNX Runtime
//! 1.31.1 (where `scripts/setup.sh` installs it, or `ORT_DYLIB_PATH`) running the bundled
//! `linear_regressor` model from a model store, through the `inference` host functions.

use crate::{
	mock::*,
	offchain::{key, LOCK_LAPSES_AFTER_MS, RESEND_AFTER},
	pallet::*,
	JobId, Phase, RevealSlot,
};
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_support::traits::{Authorize, Hooks},
	frame_system::RawOrigin,
	sp_core::offchain::{
		testing::{OffchainState, PoolState, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, StorageKind, Timestamp, TransactionPoolExt,
	},
	sp_io::{self, hashing::blake2_256},
	sp_runtime::{traits::Dispatchable, transaction_validity::TransactionSource},
};
use std::sync::Arc;
use verity_engine::{host::EngineHost, Engine, EngineConfig, ModelSource, ModelStore};
use verity_primitives::{
	executor::KEY_TYPE,
	inference::InferenceExt,
	tensor::{tensor, DType},
	Outcome, Tensor,
};

/// The executor whose key is in the node's keystore.
const LOCAL: AccountId = 11;

struct Node {
	ext: sp_io::TestExternalities,
	pool: Arc<parking_lot::RwLock<PoolState>>,
	offchain: Arc<parking_lot::RwLock<OffchainState>>,
	engine: Arc<Engine>,
	store: Arc<ModelStore>,
	_dir: tempfile::TempDir,
}

/// A node with `LOCAL`'s key, the engine and a model store holding `linear_regressor`.
fn node() -> Node {
	let mut ext = new_test_ext();
	let (offchain, offchain_state) = TestOffchainExt::new();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(TransactionPoolExt::new(pool));
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(ModelStore::open(dir.path()).unwrap());
	assert_eq!(store.import(LINEAR_ONNX).unwrap(), linear_model());
	let engine = Arc::new(
		Engine::new(EngineConfig::default())
			.expect("ONNX Runtime 1.31.1 loads (run scripts/setup.sh, or set ORT_DYLIB_PATH)"),
	);
	let host = EngineHost::new(Some(engine.clone()), store.clone() as Arc<dyn ModelSource>);
	ext.register_extension(InferenceExt::new(Arc::new(host)));
	ext.execute_with(|| {
		let seed = format!("0x{}", "0b".repeat(32));
		let public = sp_io::crypto::sr25519_generate(KEY_TYPE, Some(seed.into_bytes()));
		assert_eq!(verity_primitives::executor::ExecutorId::from(public), executor_id(LOCAL));
	});
	Node { ext, pool: pool_state, offchain: offchain_state, engine, store, _dir: dir }
}

fn linear_inputs(scale: f32) -> Vec<Tensor> {
	let data = (0..10).flat_map(|i| (scale * (i as f32 - 4.5)).to_le_bytes()).collect();
	vec![tensor("x", DType::F32, &[1, 10], data).unwrap()]
}

fn submit(model: verity_primitives::ModelId, inputs: Vec<Tensor>) -> JobId {
	let id = NextJobId::<Test>::get();
	Inference::submit_job(
		RuntimeOrigin::signed(REQUESTER),
		model,
		inputs.try_into().unwrap(),
		EXECUTORS.len() as u32,
		1_000,
	)
	.unwrap();
	id
}

/// The calls the off-chain workers put into the pool since the last look, which empties it.
fn take_sent(pool: &parking_lot::RwLock<PoolState>) -> Vec<crate::Call<Test>> {
	std::mem::take(&mut pool.write().transactions)
		.into_iter()
		.map(|bytes| match Extrinsic::decode(&mut &bytes[..]).unwrap().function {
			RuntimeCall::Inference(call) => call,
			other => panic!("unexpected call {other:?}"),
		})
		.collect()
}

/// Authorizes `call` as the pool would and dispatches it.
fn include(call: impl Into<RuntimeCall>) {
	let call: RuntimeCall = call.into();
	call.authorize(TransactionSource::Local).unwrap().expect("the call authorizes");
	call.dispatch(RawOrigin::Authorized.into()).expect("authorized calls dispatch");
}

/// What the engine gives for the job, as the other members report it.
fn engine_outcome(node: &Node, inputs: &[Tensor]) -> Outcome {
	node.engine.run(&*node.store, &linear_model(), inputs, 6).unwrap().outcome
}

fn commit_as(executor: AccountId, job: JobId, outcome: &Outcome) {
	include(commit_call(executor, job, outcome));
}

fn reveal_as(executor: AccountId, job: JobId, outcome: &Outcome) {
	include(reveal_call(executor, job, outcome));
}

#[test]
fn the_worker_runs_its_job_once_commits_then_reveals_the_engines_result() {
	let mut node = node();
	let inputs = linear_inputs(1.0);
	let expected = engine_outcome(&node, &inputs);
	let runs_before = node.engine.stats().runs.load(std::sync::atomic::Ordering::Relaxed);
	let pool = node.pool.clone();
	node.ext.execute_with(|| {
		let job = submit(linear_model(), inputs.clone());
		Inference::offchain_worker(1);
		// Overlapping workers on the same block send nothing more.
		Inference::offchain_worker(1);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1);
		let crate::Call::commit_results { executor, commits, .. } = sent[0].clone() else {
			panic!("a commit batch, not {:?}", sent[0]);
		};
		assert_eq!((executor, commits.len(), commits[0].0), (LOCAL, 1, job));
		let commitment = commits[0].1;
		include(sent[0].clone());
		for member in committee(job).into_iter().filter(|m| *m != LOCAL) {
			commit_as(member, job, &expected);
		}
		assert!(matches!(Jobs::<Test>::get(job).unwrap().phase, Phase::Reveal));

		System::set_block_number(2);
		Inference::offchain_worker(2);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1);
		let crate::Call::reveal_results { executor, reveals, .. } = sent[0].clone() else {
			panic!("a reveal batch, not {:?}", sent[0]);
		};
		assert_eq!((executor, reveals.len(), reveals[0].job), (LOCAL, 1, job));
		let reveal = &reveals[0];
		assert_eq!(reveal.result_hash, expected.hash(), "the engine's result, canonically");
		let outcome = Outcome::decode(&mut &reveal.outcome.as_ref().unwrap()[..]).unwrap();
		assert_eq!(outcome, expected);
		assert_eq!(blake2_256(&(reveal.result_hash, reveal.salt, LOCAL).encode()), commitment);
		include(sent[0].clone());
		for member in committee(job).into_iter().filter(|m| *m != LOCAL) {
			reveal_as(member, job, &expected);
		}
		let job = Jobs::<Test>::get(job).unwrap();
		assert!(matches!(job.phase, Phase::Completed));
		assert_eq!(job.result.unwrap().result_hash, Some(expected.hash()));
		assert!(job.reveals.iter().all(|r| matches!(r, RevealSlot::Revealed(_))));

		// Nothing is left to send for a finished job.
		System::set_block_number(10);
		Inference::offchain_worker(10);
		assert!(take_sent(&pool).is_empty());
	});
	let runs = node.engine.stats().runs.load(std::sync::atomic::Ordering::Relaxed) - runs_before;
	assert_eq!(runs, 1, "the worker ran the job once");
}

#[test]
fn a_commit_that_does_not_reach_a_block_is_sent_again_with_the_same_commitment() {
	let mut node = node();
	let pool = node.pool.clone();
	node.ext.execute_with(|| {
		let job = submit(linear_model(), linear_inputs(2.0));
		Inference::offchain_worker(1);
		let first = take_sent(&pool);
		assert_eq!(first.len(), 1);
		for block in 2..1 + RESEND_AFTER as u64 {
			System::set_block_number(block);
			Inference::offchain_worker(block);
			assert!(take_sent(&pool).is_empty(), "block {block}: too early to resend");
		}
		let block = 1 + RESEND_AFTER as u64;
		System::set_block_number(block);
		Inference::offchain_worker(block);
		let again = take_sent(&pool);
		assert_eq!(again.len(), 1, "resent at block {block}");
		let commits = |call: &crate::Call<Test>| match call {
			crate::Call::commit_results { commits, .. } => commits.clone(),
			other => panic!("a commit batch, not {other:?}"),
		};
		assert_eq!(commits(&again[0]), commits(&first[0]));
		assert_eq!(commits(&first[0])[0].0, job);
	});
}

#[test]
fn a_job_whose_model_the_node_cannot_get_is_missed_and_the_others_are_served() {
	let mut node = node();
	let pool = node.pool.clone();
	node.ext.execute_with(|| {
		// The mock's MODEL exists on chain but is in no store this node can reach.
		let lacking = NextJobId::<Test>::get();
		Inference::submit_job(
			RuntimeOrigin::signed(REQUESTER),
			MODEL,
			vec![tensor("x", DType::F32, &[1, 2], vec![0; 8]).unwrap()].try_into().unwrap(),
			EXECUTORS.len() as u32,
			1_000,
		)
		.unwrap();
		let served = submit(linear_model(), linear_inputs(0.5));
		Inference::offchain_worker(1);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1);
		let crate::Call::commit_results { commits, .. } = &sent[0] else { panic!() };
		assert_eq!(commits.iter().map(|c| c.0).collect::<Vec<_>>(), vec![served]);
		// It is tried again on the next block (not marked as sent), and still skipped; the
		// served job's commit, not in a block yet, is sent again.
		System::set_block_number(2);
		Inference::offchain_worker(2);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1);
		let crate::Call::commit_results { commits, .. } = &sent[0] else { panic!() };
		assert_eq!(commits.iter().map(|c| c.0).collect::<Vec<_>>(), vec![served]);
		assert!(Jobs::<Test>::get(lacking).unwrap().commits.iter().all(|c| c.is_none()));
	});
}

#[test]
fn a_run_lock_left_by_a_stopped_node_lapses_and_the_job_is_run() {
	let mut node = node();
	let pool = node.pool.clone();
	let offchain = node.offchain.clone();
	offchain.write().timestamp = Timestamp::from_unix_millis(1_000_000);
	node.ext.execute_with(|| {
		let job = submit(linear_model(), linear_inputs(3.0));
		// A node killed while running the job left its lock behind.
		let lock = key(b"running", job, &LOCAL);
		let until = 1_000_000 + LOCK_LAPSES_AFTER_MS / 2;
		sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, &lock, &until.encode());
		Inference::offchain_worker(1);
		assert!(take_sent(&pool).is_empty(), "the lock still holds");

		offchain.write().timestamp = Timestamp::from_unix_millis(until + 1);
		System::set_block_number(2);
		Inference::offchain_worker(2);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1, "the lapsed lock is taken over");
		assert!(
			matches!(&sent[0], crate::Call::commit_results { commits, .. } if commits[0].0 == job)
		);
	});
}

fn committee(job: JobId) -> Vec<AccountId> {
	Jobs::<Test>::get(job).unwrap().committee.into_inner()
}
