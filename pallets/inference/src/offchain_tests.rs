//! The executor's off-chain worker against the mock runtime, with the real engine: ONNX Runtime
//! 1.31.1 (where `scripts/setup.sh` installs it, or `ORT_DYLIB_PATH`) running the bundled
//! `linear_regressor` model from a model store, through the `inference` host functions.

use crate::{
	commitment_of,
	mock::*,
	offchain::{key, FORGET_AFTER, RESEND_AFTER},
	pallet::*,
	JobId, Phase, RevealSlot,
};
use codec::Decode;
use polkadot_sdk::{
	frame_support::traits::{Authorize, Hooks},
	frame_system::RawOrigin,
	sp_core::offchain::{
		testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, StorageKind, TransactionPoolExt,
	},
	sp_io,
	sp_runtime::{traits::Dispatchable, transaction_validity::TransactionSource},
};
use std::sync::Arc;
use verity_engine::{
	host::EngineHost, Backend, Engine, EngineConfig, InferenceService, ModelSource, ModelStore,
	ServiceConfig,
};
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
	engine: Arc<Engine>,
	store: Arc<ModelStore>,
	service: InferenceService,
	_dir: tempfile::TempDir,
}

/// A node with `LOCAL`'s key, the engine's queue (running in this process) and a model store
/// holding `linear_regressor`.
fn node() -> Node {
	let mut ext = new_test_ext();
	let (offchain, _state) = TestOffchainExt::new();
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
	let service = InferenceService::start(
		ServiceConfig::default(),
		Backend::InProcess(engine.clone()),
		store.clone() as Arc<dyn ModelSource>,
		None,
	)
	.unwrap();
	let host = EngineHost::new(Some(service.clone()));
	ext.register_extension(InferenceExt::new(Arc::new(host)));
	ext.execute_with(|| {
		let seed = format!("0x{}", "0b".repeat(32));
		let public = sp_io::crypto::sr25519_generate(KEY_TYPE, Some(seed.into_bytes()));
		assert_eq!(verity_primitives::executor::ExecutorId::from(public), executor_id(LOCAL));
	});
	Node { ext, pool: pool_state, engine, store, service, _dir: dir }
}

/// The off-chain worker for `block`, then, once the node's queue is idle, a second one for the
/// same block (as overlapping workers do): together they send what the block calls for, however
/// fast the queue ran. (The test externalities' clock moves only when the worker sleeps, so one
/// worker alone may poll to its budget's end before a real job finishes.)
fn work(service: &InferenceService, block: u64) {
	System::set_block_number(block);
	Inference::offchain_worker(block);
	let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
	while service.pending() > 0 {
		assert!(std::time::Instant::now() < until, "the queue stays busy");
		std::thread::sleep(std::time::Duration::from_millis(5));
	}
	Inference::offchain_worker(block);
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
	let service = node.service.clone();
	node.ext.execute_with(|| {
		let job = submit(linear_model(), inputs.clone());
		let job_key = Jobs::<Test>::get(job).unwrap().key;
		// Overlapping workers on the same block send one commit between them.
		work(&service, 1);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1);
		let crate::Call::commit_results { executor, commits, sent_at, .. } = sent[0].clone() else {
			panic!("a commit batch, not {:?}", sent[0]);
		};
		assert_eq!(
			(executor, commits.len(), commits[0].job, commits[0].key),
			(LOCAL, 1, job, job_key)
		);
		assert_eq!(sent_at, 1);
		let commitment = commits[0].commitment;
		include(sent[0].clone());
		for member in committee(job).into_iter().filter(|m| *m != LOCAL) {
			commit_as(member, job, &expected);
		}
		assert!(matches!(Jobs::<Test>::get(job).unwrap().phase, Phase::Reveal));

		work(&service, 2);
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
		assert_eq!(commitment_of(&reveal.result_hash, &reveal.salt, &LOCAL, &job_key), commitment);
		include(sent[0].clone());
		for member in committee(job).into_iter().filter(|m| *m != LOCAL) {
			reveal_as(member, job, &expected);
		}
		let finished = Jobs::<Test>::get(job).unwrap();
		assert!(matches!(finished.phase, Phase::Completed));
		assert_eq!(finished.result.unwrap().result_hash, Some(expected.hash()));
		assert!(finished.seats.iter().all(|s| matches!(s.reveal, RevealSlot::Revealed(_))));

		// Nothing is left to send for a finished job, and its off-chain state goes once it has
		// been closed long enough.
		work(&service, 10);
		assert!(take_sent(&pool).is_empty());
		assert!(Inference::computed(&job_key, &LOCAL).is_some());
		work(&service, 11 + FORGET_AFTER as u64);
		assert!(Inference::computed(&job_key, &LOCAL).is_none(), "the job's state is removed");
		let sent_marker = key(b"commit", &job_key, &LOCAL);
		assert!(sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, &sent_marker).is_none());
	});
	let runs = node.engine.stats().runs.load(std::sync::atomic::Ordering::Relaxed) - runs_before;
	assert_eq!(runs, 1, "the node ran the job once");
}

#[test]
fn a_commit_that_does_not_reach_a_block_is_sent_again_with_the_same_commitment() {
	let mut node = node();
	let pool = node.pool.clone();
	let service = node.service.clone();
	node.ext.execute_with(|| {
		let job = submit(linear_model(), linear_inputs(2.0));
		work(&service, 1);
		let first = take_sent(&pool);
		assert_eq!(first.len(), 1);
		for block in 2..1 + RESEND_AFTER as u64 {
			work(&service, block);
			assert!(take_sent(&pool).is_empty(), "block {block}: too early to resend");
		}
		let block = 1 + RESEND_AFTER as u64;
		work(&service, block);
		let again = take_sent(&pool);
		assert_eq!(again.len(), 1, "resent at block {block}");
		let sent = |call: &crate::Call<Test>| match call {
			crate::Call::commit_results { commits, sent_at, .. } => (commits.clone(), *sent_at),
			other => panic!("a commit batch, not {other:?}"),
		};
		let ((first_commits, first_at), (again_commits, again_at)) =
			(sent(&first[0]), sent(&again[0]));
		assert_eq!(again_commits, first_commits);
		assert_eq!(first_commits[0].job, job);
		// Sent later, it replaces the first sending in the pool.
		assert!(again_at > first_at);
	});
}

#[test]
fn a_job_whose_model_the_node_cannot_get_is_missed_and_the_others_are_served() {
	let mut node = node();
	let pool = node.pool.clone();
	let service = node.service.clone();
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
		work(&service, 1);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1);
		let crate::Call::commit_results { commits, .. } = &sent[0] else { panic!() };
		assert_eq!(commits.iter().map(|c| c.job).collect::<Vec<_>>(), vec![served]);
		// Still skipped on the next block; the served job's commit, not in a block yet, is sent
		// again.
		work(&service, 2);
		let sent = take_sent(&pool);
		assert_eq!(sent.len(), 1);
		let crate::Call::commit_results { commits, .. } = &sent[0] else { panic!() };
		assert_eq!(commits.iter().map(|c| c.job).collect::<Vec<_>>(), vec![served]);
		assert_eq!(Jobs::<Test>::get(lacking).unwrap().committed(), 0);
	});
}

#[test]
fn a_second_worker_finding_the_job_done_keeps_the_first_ones_salt() {
	let mut node = node();
	let pool = node.pool.clone();
	let service = node.service.clone();
	node.ext.execute_with(|| {
		let job = submit(linear_model(), linear_inputs(3.0));
		let job_key = Jobs::<Test>::get(job).unwrap().key;
		work(&service, 1);
		let first = take_sent(&pool);
		let kept = Inference::computed(&job_key, &LOCAL).expect("kept");
		// Another worker that polled the same finished job (an overlapping one, or one after a
		// restart) keeps what the first kept, not a salt of its own.
		let second = Inference::keep_computed(&job_key, &LOCAL, kept.outcome.clone());
		assert_eq!(second.salt, kept.salt);
		work(&service, 3);
		let again = take_sent(&pool);
		let commitment = |calls: &[crate::Call<Test>]| match &calls[0] {
			crate::Call::commit_results { commits, .. } => commits[0].commitment,
			other => panic!("a commit batch, not {other:?}"),
		};
		assert_eq!(commitment(&again), commitment(&first));
	});
}

#[test]
fn the_same_job_number_on_another_fork_is_run_as_another_job() {
	let mut node = node();
	let pool = node.pool.clone();
	let service = node.service.clone();
	let expected = engine_outcome(&node, &linear_inputs(-4.0));
	node.ext.execute_with(|| {
		let job = submit(linear_model(), linear_inputs(1.0));
		let old_key = Jobs::<Test>::get(job).unwrap().key;
		work(&service, 1);
		let old = Inference::computed(&old_key, &LOCAL).expect("computed").outcome;
		assert_eq!(take_sent(&pool).len(), 1);
		// A reorganisation: block 1 replaced by one whose job 0 has other inputs.
		let _ = Jobs::<Test>::take(job);
		NextJobId::<Test>::put(job);
		System::set_block_number(1);
		System::set_parent_hash([9; 32].into());
		let again = submit(linear_model(), linear_inputs(-4.0));
		assert_eq!(again, job);
		let new_key = Jobs::<Test>::get(job).unwrap().key;
		assert_ne!(new_key, old_key);
		work(&service, 2);
		let sent = take_sent(&pool);
		let crate::Call::commit_results { commits, .. } = &sent[0] else { panic!() };
		assert_eq!(commits[0].key, new_key);
		let new = Inference::computed(&new_key, &LOCAL).expect("computed for the new job").outcome;
		assert_ne!(new, old, "the new job's own result, not the old one's");
		assert_eq!(new, expected);
	});
}

fn committee(job: JobId) -> Vec<AccountId> {
	Jobs::<Test>::get(job).unwrap().members().copied().collect()
}
