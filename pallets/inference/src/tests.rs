//! The jobs pallet against the mock runtime: every path a job can take, and its fees.

use crate::{mock::*, pallet::*, quorum, CommitItem, Error, Event, FailureReason, JobId, Phase};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::InspectHold, Authorize, Currency},
	},
	frame_system::RawOrigin,
	sp_core::Pair,
	sp_runtime::transaction_validity::{InvalidTransaction, TransactionSource},
};
use verity_primitives::{
	canonical::{CanonicalData, CanonicalTensor, ErrorCode, Outcome},
	inference::VoteKind,
	tensor::{tensor, DType},
};

pub(crate) fn inputs() -> InputsOf {
	vec![tensor(
		"x",
		DType::F32,
		&[1, 2],
		[1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
	)
	.unwrap()]
	.try_into()
	.unwrap()
}

pub(crate) fn submit(committee: u32) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(Inference::submit_job(
		RuntimeOrigin::signed(REQUESTER),
		MODEL,
		inputs(),
		committee,
		1_000
	));
	id
}

pub(crate) fn success(values: &[i64]) -> Outcome {
	Outcome::Success(vec![CanonicalTensor {
		name: b"y".to_vec(),
		dtype: DType::F32,
		shape: vec![1, values.len() as u32],
		data: CanonicalData::Fixed(values.to_vec()),
	}])
}

/// Authorizes `call` as the transaction pool would, then dispatches it.
pub(crate) fn submit_unsigned(call: RuntimeCall) -> Result<(), InvalidTransaction> {
	let validity = call.authorize(TransactionSource::External).expect("the call authorizes");
	if let Err(e) = validity {
		return Err(match e {
			polkadot_sdk::sp_runtime::transaction_validity::TransactionValidityError::Invalid(
				i,
			) => i,
			_ => InvalidTransaction::Call,
		});
	}
	use polkadot_sdk::sp_runtime::traits::Dispatchable;
	call.dispatch(RawOrigin::Authorized.into()).expect("authorized calls dispatch");
	Ok(())
}

pub(crate) fn commit(executor: AccountId, job: JobId, outcome: &Outcome) {
	submit_unsigned(commit_call(executor, job, outcome)).expect("commit accepted");
}

pub(crate) fn reveal(executor: AccountId, job: JobId, outcome: &Outcome) {
	submit_unsigned(reveal_call(executor, job, outcome)).expect("reveal accepted");
}

pub(crate) fn committee(job: JobId) -> Vec<AccountId> {
	Jobs::<Test>::get(job).unwrap().members().copied().collect()
}

pub(crate) fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobFee.into(), &who)
}

pub(crate) fn phase(job: JobId) -> Phase {
	Jobs::<Test>::get(job).unwrap().phase
}

pub(crate) fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(e) => Some(e),
			_ => None,
		})
		.collect()
}

#[test]
fn quorum_is_two_thirds_rounded_up() {
	let table: Vec<u32> = (1..=7).map(quorum).collect();
	assert_eq!(table, vec![1, 2, 2, 3, 4, 4, 5]);
}

#[test]
fn an_honest_committee_completes_and_the_fee_is_split_exactly() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let job = submit(3);
		let fee = MODEL_FEE + 3 * 10 + 5;
		assert_eq!(held(REQUESTER), fee);
		let members = committee(job);
		assert_eq!(members.len(), 3);
		for m in &members {
			assert_eq!(Inference::pending_for_executor(*m), vec![job]);
		}
		let out = success(&[1_500_000, -2_000_000]);
		for m in &members {
			commit(*m, job, &out);
		}
		assert_eq!(phase(job), Phase::Reveal);
		for m in &members {
			reveal(*m, job, &out);
		}
		assert_eq!(phase(job), Phase::Completed);
		assert!(events().contains(&Event::JobCompleted {
			job,
			result_hash: out.hash(),
			output: Some(out.encode()),
		}));
		assert_eq!(held(REQUESTER), 0);
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT - fee);
		assert_eq!(Balances::free_balance(MODEL_OWNER), ENDOWMENT + MODEL_FEE);
		assert_eq!(Balances::free_balance(FeeCollector::get()), ENDOWMENT + 5);
		for m in &members {
			assert_eq!(Balances::free_balance(m), ENDOWMENT + 10);
			assert_eq!(Stats::<Test>::get(m).agreed, 1);
		}
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(COMPLETED.with(|c| c.borrow().clone()), vec![(job, out.hash())]);
		assert!(PendingByExecutor::<Test>::iter().next().is_none());
		let info = Inference::job_info(job).unwrap();
		assert_eq!(info.phase, Phase::Completed);
		assert_eq!(info.result_hash, Some(out.hash()));
		assert_eq!(info.outcome, Some(out.encode()));
		assert_eq!(info.reveals, vec![Some(true); 3]);
		assert_eq!(info.fee.total, fee);
		assert_eq!(Inference::jobs_by_requester(REQUESTER), vec![job]);
	});
}

#[test]
fn one_dissenter_of_three_is_recorded_and_the_job_still_completes() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let job = submit(3);
		let members = committee(job);
		let good = success(&[7, 8]);
		let bad = success(&[700, 800]);
		let outcomes = [&good, &good, &bad];
		for (m, o) in members.iter().zip(outcomes) {
			commit(*m, job, o);
		}
		for (m, o) in members.iter().zip(outcomes) {
			reveal(*m, job, o);
		}
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(Stats::<Test>::get(members[2]).disagreed, 1);
		assert_eq!(Balances::free_balance(members[2]), ENDOWMENT);
		assert_eq!(Balances::free_balance(members[0]), ENDOWMENT + 10);
		// The dissenter's share goes back to the requester.
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT - (MODEL_FEE + 2 * 10 + 5));
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn two_dissenters_of_three_fail_the_job_and_refund_everything() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let job = submit(3);
		let members = committee(job);
		let outcomes = [success(&[1]), success(&[100]), success(&[10_000])];
		for (m, o) in members.iter().zip(&outcomes) {
			commit(*m, job, o);
		}
		for (m, o) in members.iter().zip(&outcomes) {
			reveal(*m, job, o);
		}
		assert_eq!(phase(job), Phase::Failed);
		assert!(events().contains(&Event::JobFailed { job, reason: FailureReason::NoQuorum }));
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn outputs_within_the_models_tolerance_agree_when_no_hash_reaches_quorum() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let issuance = Balances::total_issuance();
		// Three different hashes, but within TOLERANCE (2) of the first.
		let outcomes = [success(&[100, 200]), success(&[101, 199]), success(&[102, 200])];
		for (m, o) in members.iter().zip(&outcomes) {
			commit(*m, job, o);
		}
		for (m, o) in members.iter().zip(&outcomes) {
			reveal(*m, job, o);
		}
		assert_eq!(phase(job), Phase::Completed);
		for m in &members {
			assert_eq!(Stats::<Test>::get(m).agreed, 1);
			assert_eq!(Balances::free_balance(m), ENDOWMENT + 10);
		}
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// Every member commits and reveals the same error outcome; the first reveals its bytes only if
/// `first_carries` (a member may reveal the hash alone).
fn error_quorum(first_carries: bool) {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let job = submit(3);
		let members = committee(job);
		let error = Outcome::Failure(ErrorCode::InvalidInput);
		for m in &members {
			commit(*m, job, &error);
		}
		submit_unsigned(reveal_call_carrying(members[0], job, &error, first_carries)).unwrap();
		for m in &members[1..] {
			reveal(*m, job, &error);
		}
		assert!(events().contains(&Event::JobFailed {
			job,
			reason: FailureReason::Execution(ErrorCode::InvalidInput)
		}));
		assert_eq!(Jobs::<Test>::get(job).unwrap().result.unwrap().outcome, None);
		for m in &members {
			assert_eq!(Balances::free_balance(m), ENDOWMENT + 10);
		}
		// Not paid as a completion: the model fee comes back; executors and the base fee are
		// paid.
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT - (3 * 10 + 5));
		assert_eq!(Balances::free_balance(MODEL_OWNER), ENDOWMENT);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_quorum_on_an_error_outcome_fails_the_job_and_pays_the_executors() {
	error_quorum(true);
}

#[test]
fn a_quorum_on_an_error_outcome_fails_the_job_whichever_member_carried_the_outcome() {
	error_quorum(false);
}

#[test]
fn a_member_that_commits_but_never_reveals_is_missed_and_the_job_completes_at_the_deadline() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members {
			commit(*m, job, &out);
		}
		reveal(members[0], job, &out);
		reveal(members[1], job, &out);
		assert_eq!(phase(job), Phase::Reveal);
		for _ in 0..3 {
			next_block();
		}
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(Stats::<Test>::get(members[2]).missed, 1);
		// The silent member's share goes back to the requester.
		assert_eq!(Balances::free_balance(members[2]), ENDOWMENT);
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT - (MODEL_FEE + 2 * 10 + 5));
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_reveal_without_a_commit_is_refused() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		commit(members[0], job, &out);
		commit(members[1], job, &out);
		for _ in 0..3 {
			next_block();
		}
		assert_eq!(phase(job), Phase::Reveal);
		assert_eq!(
			submit_unsigned(reveal_call(members[2], job, &out)),
			Err(InvalidTransaction::Stale)
		);
	});
}

#[test]
fn a_reveal_that_does_not_match_its_commitment_is_rejected_and_counted() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members {
			commit(*m, job, &out);
		}
		reveal(members[0], job, &success(&[6]));
		assert!(events().contains(&Event::RevealRejected { job, executor: members[0] }));
		reveal(members[1], job, &out);
		reveal(members[2], job, &out);
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(Stats::<Test>::get(members[0]).disagreed, 1);
	});
}

#[test]
fn non_members_bad_signatures_and_duplicate_commits_are_refused() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let outsider = EXECUTORS.iter().find(|e| !members.contains(e)).copied().unwrap();
		let out = success(&[5]);
		assert_eq!(
			submit_unsigned(commit_call(outsider, job, &out)),
			Err(InvalidTransaction::BadSigner)
		);
		assert_eq!(submit_unsigned(commit_call(77, job, &out)), Err(InvalidTransaction::BadSigner));
		// Signed with another member's key, claiming to be its own.
		let RuntimeCall::Inference(crate::Call::commit_results { commits, sent_at, .. }) =
			commit_call(members[0], job, &out)
		else {
			unreachable!()
		};
		let payload = Inference::vote_payload(
			VoteKind::Commit,
			&members[0],
			&executor_id(members[0]),
			sent_at,
			&commits,
		);
		let forged = key_pair(members[1]).sign(&payload);
		let call = RuntimeCall::Inference(crate::Call::commit_results {
			executor: members[0],
			signer: executor_id(members[0]),
			commits: commits.clone(),
			sent_at,
			signature: forged.into(),
		});
		assert_eq!(submit_unsigned(call), Err(InvalidTransaction::BadProof));
		// Signed by another member's key, naming that key as the signer.
		let payload = Inference::vote_payload(
			VoteKind::Commit,
			&members[0],
			&executor_id(members[1]),
			sent_at,
			&commits,
		);
		let call = RuntimeCall::Inference(crate::Call::commit_results {
			executor: members[0],
			signer: executor_id(members[1]),
			commits,
			sent_at,
			signature: key_pair(members[1]).sign(&payload).into(),
		});
		assert_eq!(submit_unsigned(call), Err(InvalidTransaction::BadSigner));
		commit(members[0], job, &out);
		assert_eq!(
			submit_unsigned(commit_call(members[0], job, &out)),
			Err(InvalidTransaction::Stale)
		);
		// Dispatched without authorization: refused.
		assert_noop!(
			Inference::commit_results(
				RuntimeOrigin::signed(members[1]),
				members[1],
				executor_id(members[1]),
				Default::default(),
				1,
				key_pair(members[1]).sign(b"x").into()
			),
			polkadot_sdk::sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn too_few_commits_by_the_deadline_fail_the_job_and_refund_it() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let job = submit(3);
		let members = committee(job);
		commit(members[0], job, &success(&[1]));
		for _ in 0..3 {
			next_block();
		}
		assert!(
			events().contains(&Event::JobFailed { job, reason: FailureReason::NotEnoughCommits })
		);
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT);
		assert_eq!(Stats::<Test>::get(members[1]).missed, 1);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn jobs_ask_for_at_least_the_chains_minimum_committee() {
	new_test_ext().execute_with(|| {
		let asked = |committee| {
			Inference::submit_job(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				inputs(),
				committee,
				1_000,
			)
		};
		assert_ok!(asked(1));
		assert_noop!(
			Inference::set_min_committee(RuntimeOrigin::signed(REQUESTER), 3),
			polkadot_sdk::sp_runtime::DispatchError::BadOrigin
		);
		for size in [0, 8] {
			assert_noop!(
				Inference::set_min_committee(RuntimeOrigin::root(), size),
				Error::<Test>::InvalidCommitteeSize
			);
		}
		assert_ok!(Inference::set_min_committee(RuntimeOrigin::root(), 3));
		assert!(events().contains(&Event::MinCommitteeSet { size: 3 }));
		for committee in [1, 2] {
			assert_eq!(
				asked(committee).unwrap_err().error,
				Error::<Test>::InvalidCommitteeSize.into()
			);
		}
		assert_ok!(asked(3));
	});
}

#[test]
fn a_member_that_committed_is_not_missed_when_the_others_did_not() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		commit(members[0], job, &success(&[1]));
		for _ in 0..3 {
			next_block();
		}
		assert_eq!(phase(job), Phase::Failed);
		let committed = Stats::<Test>::get(members[0]);
		assert_eq!((committed.missed, committed.voided, committed.open()), (0, 1, 0));
		for m in &members[1..] {
			let silent = Stats::<Test>::get(m);
			assert_eq!((silent.missed, silent.voided, silent.open()), (1, 0, 0));
		}
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn enough_commits_by_the_deadline_open_the_reveal_phase_and_silence_then_fails_it() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		commit(members[0], job, &success(&[1]));
		commit(members[1], job, &success(&[1]));
		for _ in 0..3 {
			next_block();
		}
		assert_eq!(phase(job), Phase::Reveal);
		for _ in 0..3 {
			next_block();
		}
		assert!(events().contains(&Event::JobFailed { job, reason: FailureReason::NoQuorum }));
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT);
	});
}

#[test]
fn finished_jobs_are_pruned_after_the_retention_period() {
	new_test_ext().execute_with(|| {
		let job = submit(1);
		let member = committee(job)[0];
		let out = success(&[3]);
		commit(member, job, &out);
		reveal(member, job, &out);
		assert_eq!(phase(job), Phase::Completed);
		for _ in 0..9 {
			next_block();
		}
		assert!(Jobs::<Test>::get(job).is_some());
		assert_eq!(Inference::job_info(job).unwrap().inputs, inputs().encode());
		next_block();
		assert!(Jobs::<Test>::get(job).is_none());
		assert!(JobInputs::<Test>::get(job).is_none());
		assert!(JobsByRequester::<Test>::iter().next().is_none());
		assert!(Due::<Test>::iter().next().is_none());
		assert!(events().contains(&Event::JobPruned { job }));
	});
}

#[test]
fn a_job_holds_its_storage_deposit_until_it_is_pruned() {
	new_test_ext().execute_with(|| {
		JobDepositBase::set(&3);
		JobDepositPerByte::set(&2);
		let issuance = Balances::total_issuance();
		let free = Balances::free_balance(REQUESTER);
		// The inputs, and an outcome of `MaxOutputBytes` (256) for the member's reveal and the
		// result.
		let bytes = inputs().encode().len() as Balance + 2 * 256;
		let deposit = 3 + 2 * bytes;
		let job = submit(1);
		let reason = HoldReason::JobDeposit.into();
		assert_eq!(Balances::balance_on_hold(&reason, &REQUESTER), deposit);
		assert_eq!(JobDeposits::<Test>::get(job), Some(deposit));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::JobSubmitted { job: j, deposit: d, .. } if *j == job && *d == deposit
		)));
		let member = committee(job)[0];
		let out = success(&[3]);
		commit(member, job, &out);
		reveal(member, job, &out);
		// Settled: the fee is paid, the deposit stays held while the job is stored.
		assert_eq!(held(REQUESTER), 0);
		assert_eq!(Balances::balance_on_hold(&reason, &REQUESTER), deposit);
		let fee = MODEL_FEE + 10 + 5;
		assert_eq!(Balances::free_balance(REQUESTER), free - fee - deposit);
		Inference::do_try_state().unwrap();
		for _ in 0..10 {
			next_block();
		}
		assert!(Jobs::<Test>::get(job).is_none());
		assert_eq!(Balances::balance_on_hold(&reason, &REQUESTER), 0);
		assert_eq!(JobDeposits::<Test>::get(job), None);
		assert_eq!(Balances::free_balance(REQUESTER), free - fee);
		assert_eq!(Balances::total_issuance(), issuance);
		Inference::do_try_state().unwrap();

		// A requester who can pay the fee but not the deposit is refused, and nothing is held.
		JobDepositPerByte::set(&1_000);
		use polkadot_sdk::sp_runtime::traits::Dispatchable;
		let call = RuntimeCall::Inference(crate::Call::submit_job {
			model: MODEL,
			inputs: inputs(),
			committee_size: 1,
			max_fee: 1_000,
		});
		assert_noop!(
			call.dispatch(RuntimeOrigin::signed(REQUESTER)).map_err(|e| e.error),
			Error::<Test>::CannotPayFee
		);
		assert_eq!(held(REQUESTER), 0);
	});
}

#[test]
fn submissions_are_checked() {
	new_test_ext().execute_with(|| {
		let submit = |who, model, inputs, k, max| {
			Inference::submit_job(RuntimeOrigin::signed(who), model, inputs, k, max)
				.map_err(|e| e.error)
		};
		assert_noop!(submit(REQUESTER, [9; 32], inputs(), 3, 1_000), Error::<Test>::ModelNotFound);
		assert_noop!(
			submit(REQUESTER, RETIRED_MODEL, inputs(), 3, 1_000),
			Error::<Test>::ModelNotRunnable
		);
		let wrong: InputsOf =
			vec![tensor("x", DType::F32, &[1, 3], vec![0; 12]).unwrap()].try_into().unwrap();
		assert_noop!(submit(REQUESTER, MODEL, wrong, 3, 1_000), Error::<Test>::InvalidInputs);
		let big: InputsOf =
			vec![tensor("x", DType::F32, &[200, 2], vec![0; 1600]).unwrap()].try_into().unwrap();
		assert_noop!(submit(REQUESTER, MODEL, big, 3, 1_000), Error::<Test>::InputsTooLarge);
		assert_noop!(
			submit(REQUESTER, MODEL, inputs(), 0, 1_000),
			Error::<Test>::InvalidCommitteeSize
		);
		assert_noop!(
			submit(REQUESTER, MODEL, inputs(), 8, 1_000),
			Error::<Test>::InvalidCommitteeSize
		);
		assert_noop!(
			submit(REQUESTER, MODEL, inputs(), 5, 1_000),
			Error::<Test>::NotEnoughExecutors
		);
		assert_noop!(submit(REQUESTER, MODEL, inputs(), 3, 84), Error::<Test>::FeeAboveMax);
		assert_noop!(submit(2, MODEL, inputs(), 3, 1_000), Error::<Test>::CannotPayFee);
		assert_eq!(Inference::fee_estimate(MODEL, 3), Some(85));
	});
}

#[test]
fn committees_are_distinct_deterministic_and_vary_with_the_seed() {
	new_test_ext().execute_with(|| {
		for who in 20..30 {
			executors::register(who);
		}
		let a = Inference::draw_committee(5, b"seed-1");
		let b = Inference::draw_committee(5, b"seed-1");
		assert_eq!(a, b);
		let mut sorted = a.clone();
		sorted.sort();
		sorted.dedup();
		assert_eq!(sorted.len(), 5);
		assert!(a.iter().all(Executors::<Test>::contains_key));
		let seeds: std::collections::BTreeSet<_> =
			(0..20u32).map(|s| Inference::draw_committee(5, &s.encode())).collect();
		assert!(seeds.len() > 10);
		// Every executor is drawn, and none more than its share allows by far.
		let mut drawn = std::collections::BTreeMap::<AccountId, u32>::new();
		for s in 0..700u32 {
			for m in Inference::draw_committee(5, &s.encode()) {
				*drawn.entry(m).or_default() += 1;
			}
		}
		assert_eq!(drawn.len(), 14);
		// 700 draws of 5 of 14: 250 each on average.
		assert!(drawn.values().all(|n| (175..325).contains(n)), "{drawn:?}");
	});
}

#[test]
fn deadlines_beyond_the_hooks_weight_wait_for_the_next_block_oldest_first() {
	new_test_ext().execute_with(|| {
		let _ = Balances::deposit_creating(&REQUESTER, 1_000_000);
		// 20 jobs due at block 4, then 5 more at block 5; no commits, so each fails at its
		// deadline, and the hook has room for 8 a block.
		MaxHookWeight::set(&eight_deadlines());
		let early: Vec<JobId> = (0..20).map(|_| submit(1)).collect();
		next_block();
		let late: Vec<JobId> = (0..5).map(|_| submit(1)).collect();
		let failed = |jobs: &[JobId]| jobs.iter().filter(|j| phase(**j) == Phase::Failed).count();
		let mut seen = Vec::new();
		while System::block_number() < 12 {
			let weight = next_block();
			assert!(weight.all_lte(MaxHookWeight::get()), "{weight:?}");
			seen.push((failed(&early), failed(&late), DueBacklog::<Test>::get()));
		}
		assert_eq!(
			seen[..5],
			[(0, 0, None), (8, 0, Some(4)), (16, 0, Some(4)), (20, 4, Some(5)), (20, 5, None),]
		);
		// Each failed in full: nothing held.
		assert_eq!(held(REQUESTER), 0);
	});
}

/// `executor`'s batch of commitments `[9; 32]` for `jobs` (a job that does not exist gets a
/// zero key), signed at this block.
fn commit_batch_call(executor: AccountId, jobs: &[JobId]) -> RuntimeCall {
	let commits: CommitsOf<Test> = jobs
		.iter()
		.map(|j| CommitItem {
			job: *j,
			key: Jobs::<Test>::get(j).map(|job| job.key).unwrap_or_default(),
			commitment: [9u8; 32],
		})
		.collect::<Vec<_>>()
		.try_into()
		.unwrap();
	let sent_at = System::block_number();
	let payload = Inference::vote_payload(
		VoteKind::Commit,
		&executor,
		&executor_id(executor),
		sent_at,
		&commits,
	);
	RuntimeCall::Inference(crate::Call::commit_results {
		executor,
		signer: executor_id(executor),
		commits,
		sent_at,
		signature: key_pair(executor).sign(&payload).into(),
	})
}

#[test]
fn empty_and_repeating_batches_and_unknown_or_finished_jobs_are_refused() {
	new_test_ext().execute_with(|| {
		let job = submit(1);
		let member = committee(job)[0];
		assert_eq!(submit_unsigned(commit_batch_call(member, &[])), Err(InvalidTransaction::Call));
		assert_eq!(
			submit_unsigned(commit_batch_call(member, &[job, job])),
			Err(InvalidTransaction::Call)
		);
		assert_eq!(
			submit_unsigned(commit_batch_call(member, &[999])),
			Err(InvalidTransaction::Stale)
		);
		let out = success(&[1]);
		commit(member, job, &out);
		reveal(member, job, &out);
		assert_eq!(phase(job), Phase::Completed);
		// Committing or revealing again once the job is finished: stale.
		assert_eq!(submit_unsigned(commit_call(member, job, &out)), Err(InvalidTransaction::Stale));
		assert_eq!(submit_unsigned(reveal_call(member, job, &out)), Err(InvalidTransaction::Stale));
	});
}

#[test]
fn items_gone_stale_after_authorization_are_skipped_and_the_rest_applied() {
	new_test_ext().execute_with(|| {
		let first = submit(1);
		let member = committee(first)[0];
		// A second job with the same single executor pool member on its committee.
		let second = (0..20).map(|_| submit(1)).find(|j| committee(*j)[0] == member).unwrap();
		commit(member, first, &success(&[1]));
		let before = Jobs::<Test>::get(first).unwrap();
		// Both authorized earlier; by dispatch `first` is already committed.
		use crate::weights::WeightInfo;
		use polkadot_sdk::{frame_support::traits::Get, sp_runtime::traits::Dispatchable};
		let info = commit_batch_call(member, &[first, second])
			.dispatch(RawOrigin::Authorized.into())
			.expect("the batch dispatches");
		// Charged for the applied item and one read for the skipped one.
		type DbWeight = <Test as polkadot_sdk::frame_system::Config>::DbWeight;
		let read = <DbWeight as Get<polkadot_sdk::frame_support::weights::RuntimeDbWeight>>::get()
			.reads(1);
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::commit_results(1) + read));
		assert_eq!(Jobs::<Test>::get(first).unwrap().seats, before.seats);
		assert_eq!(Jobs::<Test>::get(second).unwrap().seats[0].commit, Some([9u8; 32]));
	});
}

#[test]
fn reveals_are_charged_for_what_they_did() {
	new_test_ext().execute_with(|| {
		use crate::weights::WeightInfo;
		use polkadot_sdk::{frame_support::traits::Get, sp_runtime::traits::Dispatchable};
		let job = submit(3);
		let members = committee(job);
		let o = success(&[1]);
		for m in &members {
			commit(*m, job, &o);
		}
		// A reveal that leaves others pending is charged as one, and its entropy; the last one
		// resolves the job.
		type DbWeight = <Test as polkadot_sdk::frame_system::Config>::DbWeight;
		let entropy =
			<DbWeight as Get<polkadot_sdk::frame_support::weights::RuntimeDbWeight>>::get()
				.reads_writes(1, 1);
		let first = reveal_call(members[0], job, &o).dispatch(RawOrigin::Authorized.into());
		assert_eq!(
			first.unwrap().actual_weight,
			Some(<() as WeightInfo>::reveal_results(1) + entropy)
		);
		reveal(members[1], job, &o);
		let last = reveal_call(members[2], job, &o).dispatch(RawOrigin::Authorized.into());
		assert_eq!(
			last.unwrap().actual_weight,
			Some(<() as WeightInfo>::reveal_results(1) + <() as WeightInfo>::resolve(3) + entropy)
		);
		assert_eq!(phase(job), Phase::Completed);
	});
}

#[test]
fn entries_of_jobs_that_moved_on_are_charged_as_skipped_and_prunes_as_prunes() {
	new_test_ext().execute_with(|| {
		use crate::weights::WeightInfo;
		let (base, entry) = (
			<() as WeightInfo>::on_initialize(0),
			<() as WeightInfo>::on_initialize(1) - <() as WeightInfo>::on_initialize(0),
		);
		// Submitted at block 1 (commit deadline 4), committed at 2 (reveal deadline 5) and
		// revealed at 2 (pruned at 12).
		let job = submit(3);
		assert_eq!(next_block(), base);
		let o = success(&[1]);
		for m in committee(job) {
			commit(m, job, &o);
		}
		for m in committee(job) {
			reveal(m, job, &o);
		}
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(Jobs::<Test>::get(job).unwrap().due, 12);
		assert_eq!(next_block(), base);
		// The commit deadline and the reveal deadline it left behind: one skipped entry each.
		assert_eq!(next_block(), base + entry);
		assert_eq!(next_block(), base + entry);
		for _ in 6..12 {
			assert_eq!(next_block(), base);
		}
		assert_eq!(Due::<Test>::iter().collect::<Vec<_>>(), vec![(12, job, ())]);
		assert_eq!(
			next_block(),
			base + <() as WeightInfo>::prune(1) - <() as WeightInfo>::prune(0)
		);
		assert!(Jobs::<Test>::get(job).is_none());
		assert_eq!(Due::<Test>::iter().count(), 0);
	});
}

/// The `ValidTransaction` the pool gets for `call`.
fn validity(
	call: &RuntimeCall,
) -> polkadot_sdk::sp_runtime::transaction_validity::ValidTransaction {
	call.authorize(TransactionSource::External)
		.expect("the call authorizes")
		.expect("the call is valid")
		.0
}

mod forks {
	use super::*;

	fn other_inputs() -> InputsOf {
		vec![tensor(
			"x",
			DType::F32,
			&[1, 2],
			[9f32, 9.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
		)
		.unwrap()]
		.try_into()
		.unwrap()
	}

	/// Job 0 on a chain whose block 1 has `parent` as parent hash, with `inputs`.
	fn fork(parent: [u8; 32], inputs: InputsOf) -> polkadot_sdk::sp_io::TestExternalities {
		let mut ext = new_test_ext();
		ext.execute_with(|| {
			System::set_parent_hash(parent.into());
			assert_ok!(Inference::submit_job(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				inputs,
				EXECUTORS.len() as u32,
				1_000
			));
		});
		ext
	}

	#[test]
	fn a_job_key_depends_on_the_parent_block_and_the_jobs_content() {
		let key_of = |parent, inputs| fork(parent, inputs).execute_with(|| job_key(0));
		let same = key_of([1; 32], super::inputs());
		assert_eq!(key_of([1; 32], super::inputs()), same);
		assert_ne!(key_of([2; 32], super::inputs()), same);
		assert_ne!(key_of([1; 32], other_inputs()), same);
	}

	#[test]
	fn a_vote_for_job_n_on_one_fork_does_not_count_for_job_n_on_another() {
		// Job 0 on fork A, and the votes its committee sent for it there.
		let mut a = fork([1; 32], super::inputs());
		let (members, commits, reveals) = a.execute_with(|| {
			let members = committee(0);
			let out = success(&[1, 2]);
			let commits: Vec<RuntimeCall> =
				members.iter().map(|m| commit_call(*m, 0, &out)).collect();
			for call in &commits {
				submit_unsigned(call.clone()).unwrap();
			}
			let reveals: Vec<RuntimeCall> =
				members.iter().map(|m| reveal_call(*m, 0, &out)).collect();
			(members, commits, reveals)
		});
		// Fork B: the same parent, another requester's job 0 (other inputs), the same
		// members (every executor).
		let mut b = fork([1; 32], other_inputs());
		b.execute_with(|| {
			let mut drawn = committee(0);
			drawn.sort();
			let mut expected = members.clone();
			expected.sort();
			assert_eq!(drawn, expected);
			for call in &commits {
				assert_eq!(submit_unsigned(call.clone()), Err(InvalidTransaction::Stale));
				// Even dispatched without the pool's check, an item of another key is skipped.
				use polkadot_sdk::sp_runtime::traits::Dispatchable;
				call.clone().dispatch(RawOrigin::Authorized.into()).unwrap();
			}
			let job = Jobs::<Test>::get(0).unwrap();
			assert_eq!(job.committed(), 0);
			assert_eq!(job.phase, Phase::Commit);
			// B's own votes count.
			let out = success(&[3, 4]);
			for m in &members {
				commit(*m, 0, &out);
			}
			assert_eq!(phase(0), Phase::Reveal);
			// A's reveals, for the same job number: stale.
			for call in &reveals {
				assert_eq!(submit_unsigned(call.clone()), Err(InvalidTransaction::Stale));
			}
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn votes_are_bound_to_the_chain_they_were_signed_for() {
		new_test_ext().execute_with(|| {
			let job = submit(3);
			let member = committee(job)[0];
			let call = commit_call(member, job, &success(&[1]));
			// The same keys and job on a chain of another genesis hash.
			polkadot_sdk::frame_system::BlockHash::<Test>::insert(
				0,
				polkadot_sdk::sp_core::H256::repeat_byte(7),
			);
			assert_eq!(submit_unsigned(call), Err(InvalidTransaction::BadProof));
		});
	}
}

mod pool {
	use super::*;

	#[test]
	fn a_vote_signed_again_has_the_same_pool_identity_and_priority() {
		new_test_ext().execute_with(|| {
			let job = submit(3);
			let member = committee(job)[0];
			let out = success(&[1]);
			// sr25519 signatures are randomised: each signing makes another transaction.
			let first = commit_call(member, job, &out);
			let again = commit_call(member, job, &out);
			assert_ne!(first, again);
			let (a, b) = (validity(&first), validity(&again));
			assert_eq!(a.provides, b.provides);
			assert_eq!(a.priority, b.priority);
			// One tag per item: a batch holding the same item conflicts with it too.
			let other = submit(3);
			let batch = if committee(other).contains(&member) {
				validity(&commit_batch_call(member, &[job, other]))
			} else {
				validity(&commit_batch_call(member, &[job]))
			};
			assert!(a.provides.iter().all(|tag| batch.provides.contains(tag)));
		});
	}

	#[test]
	fn a_vote_sent_again_in_a_later_block_outranks_the_earlier_sending() {
		new_test_ext().execute_with(|| {
			let job = submit(3);
			let member = committee(job)[0];
			let out = success(&[1]);
			let earlier = validity(&commit_call(member, job, &out));
			next_block();
			let later = validity(&commit_call(member, job, &out));
			assert_eq!(later.provides, earlier.provides);
			assert!(later.priority > earlier.priority);
		});
	}

	#[test]
	fn the_signature_is_checked_before_any_job_is_read() {
		new_test_ext().execute_with(|| {
			let member = EXECUTORS[0];
			// A batch for a job that does not exist: with a forged signature it is a bad proof
			// (the pool drops it and the sender loses reputation) before the job is looked up.
			let RuntimeCall::Inference(crate::Call::commit_results { commits, sent_at, .. }) =
				commit_batch_call(member, &[999])
			else {
				unreachable!()
			};
			let forged = RuntimeCall::Inference(crate::Call::commit_results {
				executor: member,
				signer: executor_id(member),
				commits,
				sent_at,
				signature: key_pair(member).sign(b"something else").into(),
			});
			assert_eq!(submit_unsigned(forged), Err(InvalidTransaction::BadProof));
			// Signed properly, it is stale.
			assert_eq!(
				submit_unsigned(commit_batch_call(member, &[999])),
				Err(InvalidTransaction::Stale)
			);
		});
	}

	#[test]
	fn a_vote_claiming_a_later_block_is_refused() {
		new_test_ext().execute_with(|| {
			let job = submit(3);
			let member = committee(job)[0];
			let RuntimeCall::Inference(crate::Call::commit_results { commits, .. }) =
				commit_call(member, job, &success(&[1]))
			else {
				unreachable!()
			};
			let sent_at = System::block_number() + 1;
			let payload = Inference::vote_payload(
				VoteKind::Commit,
				&member,
				&executor_id(member),
				sent_at,
				&commits,
			);
			let call = RuntimeCall::Inference(crate::Call::commit_results {
				executor: member,
				signer: executor_id(member),
				commits,
				sent_at,
				signature: key_pair(member).sign(&payload).into(),
			});
			assert_eq!(submit_unsigned(call), Err(InvalidTransaction::Future));
		});
	}
}

mod resources {
	use super::*;

	#[test]
	fn a_quorum_on_a_timeout_pays_the_resource_fee_and_refunds_the_model_fee() {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			let job = submit(3);
			let members = committee(job);
			let timeout = Outcome::Failure(ErrorCode::Timeout);
			for m in &members {
				commit(*m, job, &timeout);
			}
			for m in &members {
				reveal(*m, job, &timeout);
			}
			assert!(events().contains(&Event::JobFailed {
				job,
				reason: FailureReason::Resources(ErrorCode::Timeout)
			}));
			let resource_fee = ResourceFailureFee::get();
			for m in &members {
				assert_eq!(Balances::free_balance(m), ENDOWMENT + resource_fee);
				assert_eq!(Stats::<Test>::get(m).agreed, 1);
			}
			// The requester pays the base fee and the resource fees, nothing else.
			assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT - (3 * resource_fee + 5));
			assert_eq!(Balances::free_balance(MODEL_OWNER), ENDOWMENT);
			assert_eq!(Balances::free_balance(FeeCollector::get()), ENDOWMENT + 5);
			assert_eq!(held(REQUESTER), 0);
			assert_eq!(Balances::total_issuance(), issuance);
			assert_eq!(SETTLED.with(|s| s.borrow().clone()), vec![(MODEL, true)]);
		});
	}

	#[test]
	fn claiming_a_resource_failure_pays_less_than_running_the_job() {
		new_test_ext().execute_with(|| {
			let quote = Inference::quote(MODEL_FEE, 3);
			assert!(quote.resource_fee < quote.executor_fee);
		});
	}

	#[test]
	fn out_of_memory_and_a_crashed_worker_are_resource_failures_too() {
		for code in [ErrorCode::OutOfMemory, ErrorCode::WorkerCrashed] {
			new_test_ext().execute_with(|| {
				let job = submit(3);
				let failure = Outcome::Failure(code);
				for m in committee(job) {
					commit(m, job, &failure);
				}
				for m in committee(job) {
					reveal(m, job, &failure);
				}
				assert!(events()
					.contains(&Event::JobFailed { job, reason: FailureReason::Resources(code) }));
			});
		}
	}

	#[test]
	fn results_and_other_errors_tell_the_registry_the_model_ran() {
		new_test_ext().execute_with(|| {
			for outcome in [success(&[1]), Outcome::Failure(ErrorCode::InvalidInput)] {
				let job = submit(1);
				let m = committee(job)[0];
				commit(m, job, &outcome);
				reveal(m, job, &outcome);
			}
			assert_eq!(SETTLED.with(|s| s.borrow().clone()), vec![(MODEL, false), (MODEL, false)]);
		});
	}
}

mod admission {
	use super::*;
	use crate::weights::WeightInfo;

	#[test]
	fn a_block_admits_committee_seats_up_to_its_bound_then_refuses_cheaply() {
		new_test_ext().execute_with(|| {
			MaxSeatsPerBlock::set(&7);
			submit(3);
			submit(3);
			let refused =
				Inference::submit_job(RuntimeOrigin::signed(REQUESTER), MODEL, inputs(), 3, 1_000)
					.unwrap_err();
			assert_eq!(refused.error, Error::<Test>::ChainBusy.into());
			let charged = refused.post_info.actual_weight.unwrap();
			assert_eq!(charged, Inference::refused_submission_weight());
			assert!(charged.all_lt(<() as WeightInfo>::submit_job(3, 4)), "{charged:?}");
			// The seventh seat is still there, and nothing was held for the refused job.
			submit(1);
			assert_eq!(held(REQUESTER), 2 * (MODEL_FEE + 3 * 10 + 5) + MODEL_FEE + 10 + 5);
			// The next block admits again.
			next_block();
			submit(3);
		});
	}

	#[test]
	fn declared_cpu_time_bounds_admission_too() {
		new_test_ext().execute_with(|| {
			MaxCpuMillisPerBlock::set(&(SLOW_LIMITS.cpu_millis as u64 + LIMITS.cpu_millis as u64));
			let slow = |model| {
				Inference::submit_job(RuntimeOrigin::signed(REQUESTER), model, inputs(), 1, 1_000)
					.map_err(|e| e.error)
			};
			assert_ok!(slow(SLOW_MODEL));
			assert_ok!(slow(MODEL));
			assert_eq!(slow(MODEL), Err(Error::<Test>::ChainBusy.into()));
			next_block();
			assert_ok!(slow(SLOW_MODEL));
		});
	}

	#[test]
	fn a_committee_behind_on_its_votes_gets_no_new_job_until_it_catches_up() {
		new_test_ext().execute_with(|| {
			let _ = Balances::deposit_creating(&REQUESTER, 1_000_000);
			MaxOpenPerExecutor::set(&2);
			// Committees of all the executors: each is on every job.
			let k = EXECUTORS.len() as u32;
			let first = submit(k);
			let second = submit(k);
			assert!(EXECUTORS.iter().all(|e| Stats::<Test>::get(e).open() == 2));
			next_block();
			// Every committee drawn has a member on two open jobs: the job fails, refunded all
			// but the hook's upkeep, and no member gets it.
			let third = submit(k);
			assert_eq!(phase(third), Phase::Failed);
			assert!(events()
				.contains(&Event::JobFailed { job: third, reason: FailureReason::NoCommittee }));
			assert!(committee(third).is_empty());
			assert_eq!(held(REQUESTER), 2 * (MODEL_FEE + u64::from(k) * 10 + 5));
			assert!(EXECUTORS.iter().all(|e| Stats::<Test>::get(e).open() == 2));
			// The first job settles: one open job each, and the next job is drawn.
			let outcome = success(&[1]);
			for m in committee(first) {
				commit(m, first, &outcome);
			}
			for m in committee(first) {
				reveal(m, first, &outcome);
			}
			assert_eq!(phase(first), Phase::Completed);
			assert_eq!(phase(second), Phase::Commit);
			assert!(EXECUTORS.iter().all(|e| Stats::<Test>::get(e).open() == 1));
			let fourth = submit(k);
			assert_eq!(phase(fourth), Phase::Commit);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn the_fee_multiplier_rises_while_blocks_are_full_and_falls_back() {
		new_test_ext().execute_with(|| {
			let _ = Balances::deposit_creating(&REQUESTER, 1_000_000);
			MaxSeatsPerBlock::set(&4);
			let base = Inference::fee_estimate(MODEL, 1).unwrap();
			let mut fees = vec![base];
			let mut multipliers = vec![FeeMultiplier::<Test>::get()];
			for _ in 0..4 {
				for _ in 0..4 {
					assert_ok!(Inference::submit_job(
						RuntimeOrigin::signed(REQUESTER),
						MODEL,
						inputs(),
						1,
						u64::MAX
					));
				}
				next_block();
				fees.push(Inference::fee_estimate(MODEL, 1).unwrap());
				multipliers.push(FeeMultiplier::<Test>::get());
			}
			assert!(multipliers.windows(2).all(|w| w[1] > w[0]), "{multipliers:?}");
			assert!(fees.windows(2).all(|w| w[1] >= w[0]) && fees[4] > base, "{fees:?}");
			// Full blocks: an eighth more each time.
			assert_eq!(FeeMultiplier::<Test>::get(), <polkadot_sdk::sp_runtime::FixedU128 as polkadot_sdk::sp_runtime::FixedPointNumber>::saturating_from_rational(9u128.pow(4), 8u128.pow(4)));
			// Empty blocks bring it back to one, and no lower.
			for _ in 0..40 {
				next_block();
			}
			assert_eq!(Inference::fee_estimate(MODEL, 1), Some(base));
			assert_eq!(FeeMultiplier::<Test>::get(), polkadot_sdk::sp_runtime::FixedU128::from_u32(1));
			Inference::do_try_state().unwrap();
		});
	}
}

/// A job pays for the work it gives `on_initialize`: its upkeep (deadline entries and pruning)
/// always, and each deadline at which the hook moves it on.
mod hook_fees {
	use super::*;
	use crate::FeeQuote;

	/// A unit of balance per 100 µs of weight.
	fn priced() -> FeeQuote<Balance> {
		PicosPerUnit::set(&100_000_000);
		let quote = Inference::quote(MODEL_FEE, 3);
		assert!(quote.upkeep_fee > 0 && quote.deadline_fee > 0, "{quote:?}");
		assert_eq!(quote.deadline_held, 2 * quote.deadline_fee);
		assert_eq!(
			quote.total,
			MODEL_FEE + 3 * 10 + 5 + quote.upkeep_fee + quote.deadline_held,
			"the quote holds every part"
		);
		assert_eq!(Inference::fee_estimate(MODEL, 3), Some(quote.total));
		quote
	}

	/// Submits a job of 3 at the priced quote, runs `scenario` on it, and checks what the
	/// requester paid and the fee collector got, issuance and the invariants.
	fn settled(
		scenario: impl FnOnce(JobId),
		paid: impl Fn(&FeeQuote<Balance>) -> Balance,
		collected: impl Fn(&FeeQuote<Balance>) -> Balance,
	) {
		new_test_ext().execute_with(|| {
			let quote = priced();
			let issuance = Balances::total_issuance();
			let collector = Balances::free_balance(FeeCollector::get());
			let job = NextJobId::<Test>::get();
			assert_ok!(Inference::submit_job(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				inputs(),
				3,
				quote.total
			));
			Inference::do_try_state().unwrap();
			scenario(job);
			assert!(matches!(phase(job), Phase::Completed | Phase::Failed));
			assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT - paid(&quote));
			assert_eq!(Balances::free_balance(FeeCollector::get()), collector + collected(&quote));
			assert_eq!(Balances::total_issuance(), issuance);
			Inference::do_try_state().unwrap();
		});
	}

	fn deadlines_pass() {
		for _ in 0..3 {
			next_block();
		}
	}

	#[test]
	fn a_job_decided_by_its_last_reveal_pays_only_the_upkeep() {
		settled(
			|job| {
				let out = success(&[7]);
				committee(job).iter().for_each(|m| commit(*m, job, &out));
				committee(job).iter().for_each(|m| reveal(*m, job, &out));
				assert_eq!(phase(job), Phase::Completed);
			},
			|q| MODEL_FEE + 3 * 10 + 5 + q.upkeep_fee,
			|q| 5 + q.upkeep_fee,
		);
	}

	#[test]
	fn a_job_failed_at_its_commit_deadline_pays_the_upkeep_and_that_deadline() {
		settled(
			|job| {
				deadlines_pass();
				assert!(events()
					.contains(&Event::JobFailed { job, reason: FailureReason::NotEnoughCommits }));
			},
			|q| q.upkeep_fee + q.deadline_fee,
			|q| q.upkeep_fee + q.deadline_fee,
		);
	}

	#[test]
	fn a_job_resolved_at_its_reveal_deadline_pays_that_deadline_too() {
		settled(
			|job| {
				let members = committee(job);
				let out = success(&[7]);
				members.iter().for_each(|m| commit(*m, job, &out));
				reveal(members[0], job, &out);
				reveal(members[1], job, &out);
				// Held until the reveal deadline: the two deadline fees are still owed.
				Inference::do_try_state().unwrap();
				deadlines_pass();
				assert_eq!(phase(job), Phase::Completed);
			},
			|q| MODEL_FEE + 2 * 10 + 5 + q.upkeep_fee + q.deadline_fee,
			|q| 5 + q.upkeep_fee + q.deadline_fee,
		);
	}
}

/// Executors register by bonding, leave through the unbonding period, and are drawn only while
/// active and bonded at least `MinBond`.
pub(crate) mod executors {
	use super::*;
	use crate::{ExecutorOfKey, ExecutorStatus, UnlockChunk};
	use polkadot_sdk::sp_core::sr25519;

	fn bonded(who: AccountId) -> Balance {
		Balances::balance_on_hold(&HoldReason::ExecutorBond.into(), &who)
	}

	fn drawable(who: AccountId) -> bool {
		Executors::<Test>::get(who).is_some_and(|r| r.slot.is_some())
	}

	/// Funds `who` and registers it with its key, bonding `MinBond`.
	pub(crate) fn register(who: AccountId) {
		let _ = Balances::deposit_creating(&who, ENDOWMENT);
		assert_ok!(Inference::register_executor(
			RuntimeOrigin::signed(who),
			executor_id(who),
			MinBond::get(),
			key_proof(who, &key_pair(who)),
		));
	}

	#[test]
	fn anyone_registers_with_a_bond_and_a_proof_of_their_key() {
		new_test_ext().execute_with(|| {
			let who = 20;
			let _ = Balances::deposit_creating(&who, ENDOWMENT);
			let key = executor_id(who);
			let register = |bond, proof| {
				Inference::register_executor(RuntimeOrigin::signed(who), key.clone(), bond, proof)
			};
			// A key the caller does not hold: another node's, signed by someone else.
			assert_noop!(
				register(MinBond::get(), key_proof(who, &key_pair(21))),
				Error::<Test>::BadKeyProof
			);
			// A proof made for another account.
			assert_noop!(
				register(MinBond::get(), key_proof(21, &key_pair(who))),
				Error::<Test>::BadKeyProof
			);
			assert_noop!(
				register(MinBond::get() - 1, key_proof(who, &key_pair(who))),
				Error::<Test>::BondBelowMinimum
			);
			assert_noop!(
				register(ENDOWMENT + 1, key_proof(who, &key_pair(who))),
				Error::<Test>::CannotBond
			);
			// A genesis executor's key, even with a valid proof of it for this account.
			assert_noop!(
				Inference::register_executor(
					RuntimeOrigin::signed(who),
					executor_id(11),
					MinBond::get(),
					key_proof(who, &key_pair(11))
				),
				Error::<Test>::KeyInUse
			);
			assert_ok!(register(MinBond::get(), key_proof(who, &key_pair(who))));
			assert_eq!(bonded(who), MinBond::get());
			assert_eq!(Balances::free_balance(who), ENDOWMENT - MinBond::get());
			assert!(drawable(who));
			assert_eq!(ExecutorOfKey::<Test>::get(&key), Some(who));
			assert_eq!(DrawableCount::<Test>::get(), 5);
			assert!(events().contains(&Event::ExecutorRegistered {
				executor: who,
				key: key.clone(),
				bond: MinBond::get()
			}));
			assert_noop!(
				register(MinBond::get(), key_proof(who, &key_pair(who))),
				Error::<Test>::AlreadyExecutor
			);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn the_registry_is_bounded() {
		new_test_ext().execute_with(|| {
			// 4 at genesis; the mock allows 16.
			for who in 20..32 {
				register(who);
			}
			let _ = Balances::deposit_creating(&40, ENDOWMENT);
			assert_noop!(
				Inference::register_executor(
					RuntimeOrigin::signed(40),
					executor_id(40),
					MinBond::get(),
					key_proof(40, &key_pair(40))
				),
				Error::<Test>::TooManyExecutors
			);
			assert_eq!(DrawableCount::<Test>::get(), 16);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn unbonding_below_the_minimum_stops_the_draw_and_bonding_again_restores_it() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			assert_noop!(
				Inference::unbond(RuntimeOrigin::signed(who), BOND + 1),
				Error::<Test>::NotThatMuchBonded
			);
			assert_noop!(
				Inference::unbond(RuntimeOrigin::signed(who), 0),
				Error::<Test>::NotThatMuchBonded
			);
			// 1000 bonded, 500 the minimum: unbonding 500 keeps it drawn, one more does not.
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 500));
			assert!(drawable(who));
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 1));
			assert!(!drawable(who));
			assert_eq!(DrawableCount::<Test>::get(), 3);
			// Still held: unbonded funds answer for its votes until withdrawn.
			assert_eq!(bonded(who), BOND);
			let record = Executors::<Test>::get(who).unwrap();
			assert_eq!(record.bond, 499);
			// Both in one block: one chunk.
			assert_eq!(record.unlocking.into_inner(), vec![UnlockChunk { amount: 501, at: 21 }]);
			// It is never drawn while below the minimum.
			for _ in 0..20 {
				let job = submit(3);
				assert!(!committee(job).contains(&who));
			}
			Inference::do_try_state().unwrap();
			assert_ok!(Inference::bond_extra(RuntimeOrigin::signed(who), 1));
			assert!(drawable(who));
			assert_eq!(bonded(who), BOND + 1);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn unbonded_funds_are_released_after_the_unbonding_period_and_chunks_are_bounded() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 100));
			assert_noop!(
				Inference::withdraw_unbonded(RuntimeOrigin::signed(who)),
				Error::<Test>::NothingToWithdraw
			);
			next_block();
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 100));
			next_block();
			// The mock allows two chunks.
			assert_noop!(
				Inference::unbond(RuntimeOrigin::signed(who), 100),
				Error::<Test>::TooManyUnlockChunks
			);
			// The first is due at block 21 (unbonded at 1, a period of 20).
			while System::block_number() < 21 {
				next_block();
			}
			let free = Balances::free_balance(who);
			assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
			assert_eq!(Balances::free_balance(who), free + 100);
			assert_eq!(bonded(who), BOND - 100);
			assert_eq!(Executors::<Test>::get(who).unwrap().unlocking.len(), 1);
			assert!(events().contains(&Event::Withdrawn { executor: who, amount: 100 }));
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 100));
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn root_sets_the_unbonding_period_for_funds_unbonded_from_then_on() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			let shortest = Inference::min_unbonding_period();
			// Twice DrawDelay (0) + CommitWindow (3) + RevealWindow (3) + ChallengeWindow (0).
			assert_eq!(shortest, 13);
			assert_eq!(UnbondingPeriod::<Test>::get(), 20, "the default until root sets one");
			assert_noop!(
				Inference::set_unbonding_period(RuntimeOrigin::signed(who), 100),
				polkadot_sdk::sp_runtime::DispatchError::BadOrigin
			);
			assert_noop!(
				Inference::set_unbonding_period(RuntimeOrigin::root(), shortest - 1),
				Error::<Test>::UnbondingPeriodTooShort
			);
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 100));
			assert_ok!(Inference::set_unbonding_period(RuntimeOrigin::root(), 100));
			assert!(events().contains(&Event::UnbondingPeriodSet { blocks: 100 }));
			next_block();
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 50));
			// The first chunk keeps the block it was due at; the second waits the new period.
			assert_eq!(
				Executors::<Test>::get(who).unwrap().unlocking.into_inner(),
				vec![UnlockChunk { amount: 100, at: 21 }, UnlockChunk { amount: 50, at: 102 }]
			);
			assert_ok!(Inference::set_unbonding_period(RuntimeOrigin::root(), shortest));
			assert_eq!(UnbondingPeriod::<Test>::get(), shortest);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn a_chunk_unbonded_after_the_period_was_shortened_is_withdrawn_when_it_is_due() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 100));
			assert_ok!(Inference::set_unbonding_period(RuntimeOrigin::root(), 13));
			next_block();
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 50));
			// Due at 15, before the first chunk (21).
			while System::block_number() < 15 {
				next_block();
			}
			let free = Balances::free_balance(who);
			assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
			assert_eq!(Balances::free_balance(who), free + 50);
			assert_eq!(
				Executors::<Test>::get(who).unwrap().unlocking.into_inner(),
				vec![UnlockChunk { amount: 100, at: 21 }]
			);
			assert_eq!(bonded(who), BOND - 50);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn unbonded_funds_wait_while_jobs_run_late() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 100));
			while System::block_number() < 21 {
				next_block();
			}
			// The hook is behind on its deadlines: within a fifth of what the shortest period
			// leaves over a job's lifetime (none in the mock: 13 - 12), it is a busy chain;
			// further behind, funds wait.
			crate::DueBacklog::<Test>::put(System::block_number());
			assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
			assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), 100));
			while System::block_number() < 42 {
				next_block();
			}
			crate::DueBacklog::<Test>::put(20);
			assert_noop!(
				Inference::withdraw_unbonded(RuntimeOrigin::signed(who)),
				Error::<Test>::WithdrawalsWait
			);
			crate::DueBacklog::<Test>::kill();
			// A migration pause ended at 40: its windows start again, for a job's lifetime.
			crate::LastPause::<Test>::put((35, 40));
			let lifetime = Inference::job_lifetime();
			assert_eq!(lifetime, 12, "2 × (0 + 3 + 3) + 0 in the mock");
			assert_noop!(
				Inference::withdraw_unbonded(RuntimeOrigin::signed(who)),
				Error::<Test>::WithdrawalsWait
			);
			while System::block_number() < 40 + lifetime {
				next_block();
			}
			assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
		});
	}

	#[test]
	fn an_executor_leaves_once_its_bond_is_withdrawn_and_its_jobs_are_settled() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			// Committees of 4: it is on this job.
			let job = submit(4);
			assert_ok!(Inference::leave(RuntimeOrigin::signed(who)));
			assert!(!drawable(who));
			let record = Executors::<Test>::get(who).unwrap();
			assert_eq!((record.status, record.bond), (ExecutorStatus::Chilled, 0));
			assert_noop!(submit_job_of(4), Error::<Test>::NotEnoughExecutors);
			// Its votes on the job it is on still count.
			let out = success(&[5]);
			for m in committee(job) {
				commit(m, job, &out);
			}
			// The unbonding period ends while the job is still open: a hook that fell behind
			// (blocks without `on_initialize`).
			System::set_block_number(21);
			assert_eq!(phase(job), Phase::Reveal);
			// Funds come back, the record stays.
			assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
			assert_eq!(bonded(who), 0);
			assert_eq!(Balances::free_balance(who), ENDOWMENT + BOND);
			assert!(Executors::<Test>::contains_key(who));
			for m in committee(job) {
				reveal(m, job, &out);
			}
			assert_eq!(phase(job), Phase::Completed);
			assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
			assert!(!Executors::<Test>::contains_key(who));
			assert_eq!(ExecutorOfKey::<Test>::get(executor_id(who)), None);
			assert!(events().contains(&Event::ExecutorLeft { executor: who }));
			assert_eq!(Executors::<Test>::count(), 3);
			Inference::do_try_state().unwrap();
			// It may register again, with its key.
			register(who);
			Inference::do_try_state().unwrap();
		});
	}

	fn submit_job_of(k: u32) -> Result<(), polkadot_sdk::sp_runtime::DispatchError> {
		Inference::submit_job(RuntimeOrigin::signed(REQUESTER), MODEL, inputs(), k, 1_000)
			.map(|_| ())
			.map_err(|e| e.error)
	}

	#[test]
	fn a_chilled_executor_is_not_drawn_but_its_votes_count() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			let job = submit(4);
			assert_ok!(Inference::chill(RuntimeOrigin::signed(who)));
			assert_noop!(
				Inference::chill(RuntimeOrigin::signed(who)),
				Error::<Test>::StatusUnchanged
			);
			assert_noop!(submit_job_of(4), Error::<Test>::NotEnoughExecutors);
			for _ in 0..10 {
				assert!(!committee(submit(3)).contains(&who));
			}
			commit(who, job, &success(&[5]));
			assert_ok!(Inference::resume(RuntimeOrigin::signed(who)));
			assert!(drawable(who));
			assert_ok!(submit_job_of(4));
			assert_noop!(Inference::chill(RuntimeOrigin::signed(77)), Error::<Test>::NotExecutor);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn a_rotated_key_signs_the_votes_and_the_old_one_no_longer_does() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			let job = submit(4);
			let new = sr25519::Pair::from_seed(&[200; 32]);
			let new_key: verity_primitives::executor::ExecutorId = new.public().into();
			assert_noop!(
				Inference::rotate_key(
					RuntimeOrigin::signed(who),
					new_key.clone(),
					key_proof(who, &key_pair(who))
				),
				Error::<Test>::BadKeyProof
			);
			assert_noop!(
				Inference::rotate_key(
					RuntimeOrigin::signed(who),
					executor_id(12),
					key_proof(who, &key_pair(12))
				),
				Error::<Test>::KeyInUse
			);
			assert_ok!(Inference::rotate_key(
				RuntimeOrigin::signed(who),
				new_key.clone(),
				key_proof(who, &new)
			));
			assert_eq!(ExecutorOfKey::<Test>::get(&new_key), Some(who));
			assert_eq!(ExecutorOfKey::<Test>::get(executor_id(who)), None);
			let out = success(&[5]);
			assert_eq!(
				submit_unsigned(commit_call(who, job, &out)),
				Err(InvalidTransaction::BadSigner)
			);
			assert_eq!(submit_unsigned(commit_call_signed_by(who, &new, job, &out)), Ok(()));
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn root_removes_an_executor_at_once_and_its_bond_unbonds() {
		new_test_ext().execute_with(|| {
			let who = EXECUTORS[0];
			let job = submit(4);
			assert_noop!(
				Inference::remove_executor(RuntimeOrigin::signed(1), who),
				polkadot_sdk::sp_runtime::DispatchError::BadOrigin
			);
			assert_ok!(Inference::remove_executor(RuntimeOrigin::root(), who));
			assert_noop!(
				Inference::remove_executor(RuntimeOrigin::root(), who),
				Error::<Test>::ExecutorRemoved
			);
			assert_noop!(
				Inference::remove_executor(RuntimeOrigin::root(), 77),
				Error::<Test>::NotExecutor
			);
			assert!(!drawable(who));
			// Its votes are refused at once; the bond stays held through the period.
			assert_eq!(
				submit_unsigned(commit_call(who, job, &success(&[5]))),
				Err(InvalidTransaction::BadSigner)
			);
			assert_eq!(bonded(who), BOND);
			assert_noop!(
				Inference::resume(RuntimeOrigin::signed(who)),
				Error::<Test>::ExecutorRemoved
			);
			assert_noop!(
				Inference::bond_extra(RuntimeOrigin::signed(who), 1),
				Error::<Test>::ExecutorRemoved
			);
			Inference::do_try_state().unwrap();
			// The job fails for too few commits at its deadline, settling its seat.
			while System::block_number() < 4 {
				next_block();
			}
			assert_eq!(phase(job), Phase::Failed);
			while System::block_number() < 21 {
				next_block();
			}
			assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
			assert!(!Executors::<Test>::contains_key(who));
			assert_eq!(Balances::free_balance(who), ENDOWMENT + BOND);
			Inference::do_try_state().unwrap();
		});
	}

	#[test]
	fn leaving_the_draw_keeps_it_dense() {
		new_test_ext().execute_with(|| {
			for who in 20..28 {
				register(who);
			}
			// Out of order, from the middle, the ends and back in.
			for who in [22, 11, 27, 24, 14] {
				assert_ok!(Inference::chill(RuntimeOrigin::signed(who)));
				Inference::do_try_state().unwrap();
			}
			assert_eq!(DrawableCount::<Test>::get(), 7);
			for who in [11, 27] {
				assert_ok!(Inference::resume(RuntimeOrigin::signed(who)));
				Inference::do_try_state().unwrap();
			}
			let drawn = Inference::draw_committee(9, b"all");
			let mut sorted = drawn.clone();
			sorted.sort();
			assert_eq!(sorted, vec![11, 12, 13, 20, 21, 23, 25, 26, 27]);
		});
	}
}
