//! Challenges and escalation against the mock runtime: when a result is final, who can
//! challenge it, and who is paid and slashed when a larger committee runs the job again. The
//! mock slashes half of `MinBond` (250) for a wrong result, holds a bond of 100 from a
//! challenger, and pays members an executor fee of 10.

use crate::{
	mock::*,
	pallet::*,
	tests::{commit, committee, events, phase, reveal, submit, success},
	ChallengeVerdict, Event, FailureReason, JobId, Offence, Phase,
};
use polkadot_sdk::frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::InspectHold, Currency},
};
use verity_primitives::canonical::Outcome;

const WRONG: Balance = 250;
const FEE: Balance = 10;
const CHALLENGER: AccountId = 3;
const WINDOW: u64 = 5;

/// Opens challenge windows and registers executors 21.. until `n` are drawable.
fn setup(n: u32) {
	ChallengeWindow::set(&WINDOW);
	let _ = Balances::deposit_creating(&CHALLENGER, ENDOWMENT);
	let mut who = 21;
	while DrawableCount::<Test>::get() < n {
		crate::tests::executors::register(who);
		who += 1;
	}
}

fn blocks(n: u64) {
	for _ in 0..n {
		next_block();
	}
}

/// Each member commits and reveals its outcome.
fn vote(job: JobId, votes: &[(AccountId, Outcome)]) {
	for (member, out) in votes {
		commit(*member, job, out);
	}
	for (member, out) in votes {
		reveal(*member, job, out);
	}
}

fn slashes() -> Vec<(AccountId, Offence, Balance)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::Slashed { executor, offence, amount, .. } => Some((executor, offence, amount)),
			_ => None,
		})
		.collect()
}

fn verdict() -> Option<(ChallengeVerdict, Balance)> {
	events().into_iter().find_map(|e| match e {
		Event::ChallengeSettled { verdict, returned, .. } => Some((verdict, returned)),
		_ => None,
	})
}

fn finalized(job: JobId) -> bool {
	events().iter().any(|e| matches!(e, Event::JobFinalized { job: j } if *j == job))
}

fn bond_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ChallengeBond.into(), &who)
}

fn result_hash(job: JobId) -> Option<[u8; 32]> {
	Jobs::<Test>::get(job)?.result?.result_hash
}

#[test]
fn a_result_is_final_when_its_challenge_window_closes() {
	new_test_ext().execute_with(|| {
		setup(4);
		let job = submit(1);
		let out = success(&[5]);
		vote(job, &[(committee(job)[0], out.clone())]);
		assert_eq!(phase(job), Phase::Completed);
		let decided = System::block_number();
		let info = Inference::job_info(job).unwrap();
		assert!(!info.is_final);
		assert_eq!(info.challenge_until, Some(decided + WINDOW));
		assert!(COMPLETED.with(|c| c.borrow().is_empty()), "consumers hear of final results only");
		assert!(!finalized(job));
		Inference::do_try_state().unwrap();

		blocks(WINDOW - 1);
		assert!(!Inference::job_info(job).unwrap().is_final);
		next_block();
		assert!(finalized(job));
		let info = Inference::job_info(job).unwrap();
		assert!(info.is_final && info.challenge_until.is_none());
		assert_eq!(COMPLETED.with(|c| c.borrow().clone()), vec![(job, out.hash())]);
		// Pruned the retention period after it became final.
		assert_eq!(Jobs::<Test>::get(job).unwrap().due, decided + WINDOW + 10);
		assert_noop!(
			Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job),
			Error::<Test>::NotChallengeable
		);
		Inference::do_try_state().unwrap();

		// A job that failed for too few commits decided nothing: final at once.
		let job = submit(1);
		blocks(3);
		assert_eq!(
			Jobs::<Test>::get(job).unwrap().result.unwrap().failure,
			Some(FailureReason::NotEnoughCommits)
		);
		assert!(Inference::job_info(job).unwrap().is_final);
		assert_noop!(
			Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job),
			Error::<Test>::NotChallengeable
		);
	});
}

#[test]
fn a_challenge_needs_an_open_window_and_enough_executors_outside_the_first_committee() {
	new_test_ext().execute_with(|| {
		setup(4);
		let challenge = |job| Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job);
		let job = submit(3);
		assert_noop!(challenge(job), Error::<Test>::NotChallengeable);
		let out = success(&[5]);
		let votes: Vec<_> = committee(job).into_iter().map(|m| (m, out.clone())).collect();
		vote(job, &votes);
		// 3 + 7 executors needed, 4 drawable.
		assert_noop!(challenge(job), Error::<Test>::CannotEscalate);
		assert_noop!(challenge(job + 1), Error::<Test>::NotChallengeable);

		let job = submit(1);
		vote(job, &[(committee(job)[0], out.clone())]);
		// A challenger who cannot hold the bond (account 2 has 60).
		assert_noop!(
			Inference::challenge(RuntimeOrigin::signed(2), job),
			Error::<Test>::CannotPayBond
		);
		assert_ok!(challenge(job));
		assert_eq!(bond_held(CHALLENGER), ChallengeBond::get());
		assert_noop!(challenge(job), Error::<Test>::NotChallengeable);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn two_liars_who_win_the_first_round_are_overturned_slashed_and_pay_for_the_second() {
	new_test_ext().execute_with(|| {
		setup(10);
		let issuance = Balances::total_issuance();
		let requester = Balances::free_balance(REQUESTER);
		let job = submit(3);
		let first = committee(job);
		// Further apart than the model's tolerance (2).
		let (truth, lie) = (success(&[5]), success(&[50]));
		vote(job, &[(first[0], lie.clone()), (first[1], lie.clone()), (first[2], truth.clone())]);
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(result_hash(job), Some(lie.hash()), "the liars won the first round");
		// The requester paid the model fee, two executor fees and the base fee.
		assert_eq!(Balances::free_balance(REQUESTER), requester - MODEL_FEE - 2 * FEE - 5);
		let honest = Balances::free_balance(first[2]);

		System::reset_events();
		assert_ok!(Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job));
		let second = committee(job);
		assert_eq!(second.len(), 7);
		assert!(second.iter().all(|m| !first.contains(m)), "the first committee is left out");
		assert_eq!(Inference::job_info(job).unwrap().first_committee, first);
		assert_eq!(phase(job), Phase::Commit);
		Inference::do_try_state().unwrap();

		let votes: Vec<_> = second.iter().map(|m| (*m, truth.clone())).collect();
		vote(job, &votes);
		// The second round is resolved by the next block's hook.
		assert_eq!(phase(job), Phase::Reveal);
		let paid: Vec<Balance> = second.iter().map(Balances::free_balance).collect();
		next_block();

		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(result_hash(job), Some(truth.hash()));
		assert_eq!(verdict(), Some((ChallengeVerdict::Overturned, ChallengeBond::get())));
		assert_eq!(
			slashes(),
			vec![(first[0], Offence::WrongResult, WRONG), (first[1], Offence::WrongResult, WRONG)]
		);
		assert!(finalized(job));
		assert_eq!(COMPLETED.with(|c| c.borrow().clone()), vec![(job, truth.hash())]);
		// From the 500 slashed: 10 to each of the seven and to the outvoted member (80), the
		// two executor fees back to the requester (20); a fifth of the 400 left, 80, over the
		// eight who were right and the challenger: 8 each.
		for (m, before) in second.iter().zip(&paid) {
			assert_eq!(Balances::free_balance(m), before + FEE + 8);
		}
		assert_eq!(Balances::free_balance(first[2]), honest + FEE + 8);
		assert_eq!(Balances::free_balance(REQUESTER), requester - MODEL_FEE - 5);
		assert_eq!(Balances::free_balance(CHALLENGER), ENDOWMENT + 8);
		assert_eq!(bond_held(CHALLENGER), 0);
		assert_eq!(Balances::free_balance(Treasury::get()), 500 - 80 - 20 - 9 * 8);
		let liar = Stats::<Test>::get(first[0]);
		assert_eq!((liar.agreed, liar.disagreed, liar.slashed), (0, 1, 1));
		assert_eq!(Stats::<Test>::get(first[2]).agreed, 1);
		assert!(second.iter().all(|m| Stats::<Test>::get(m).agreed == 1));
		assert_eq!(Balances::total_issuance(), issuance);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_challenge_that_confirms_the_result_pays_the_second_committee_from_the_bond() {
	new_test_ext().execute_with(|| {
		setup(4);
		let issuance = Balances::total_issuance();
		let job = submit(1);
		let out = success(&[5]);
		vote(job, &[(committee(job)[0], out.clone())]);
		assert_ok!(Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job));
		let second = committee(job);
		assert_eq!(second.len(), 3);
		let paid: Vec<Balance> = second.iter().map(Balances::free_balance).collect();
		let votes: Vec<_> = second.iter().map(|m| (*m, out.clone())).collect();
		vote(job, &votes);
		next_block();

		assert_eq!(verdict(), Some((ChallengeVerdict::Confirmed, 0)));
		assert!(slashes().is_empty());
		assert_eq!(result_hash(job), Some(out.hash()));
		assert!(finalized(job));
		// The bond of 100: 10 to each of the three; a fifth of the 70 left over the four who
		// were right, 3 each.
		for (m, before) in second.iter().zip(&paid) {
			assert_eq!(Balances::free_balance(m), before + FEE + 3);
		}
		assert_eq!(Balances::free_balance(CHALLENGER), ENDOWMENT - ChallengeBond::get());
		assert_eq!(Balances::free_balance(Treasury::get()), 100 - 30 - 4 * 3);
		assert_eq!(Balances::total_issuance(), issuance);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn an_undecided_challenge_leaves_the_first_result_and_returns_the_bond() {
	new_test_ext().execute_with(|| {
		setup(4);
		let job = submit(1);
		let out = success(&[5]);
		let first = committee(job);
		vote(job, &[(first[0], out.clone())]);
		assert_ok!(Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job));
		let second = committee(job);
		// One of three commits: too few.
		commit(second[0], job, &out);
		blocks(3);

		assert_eq!(verdict(), Some((ChallengeVerdict::Undecided, ChallengeBond::get())));
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(committee(job), first, "the first round stands");
		assert_eq!(result_hash(job), Some(out.hash()));
		assert!(finalized(job));
		assert!(slashes().is_empty());
		assert_eq!(Balances::free_balance(CHALLENGER), ENDOWMENT);
		assert_eq!(Stats::<Test>::get(second[0]).voided, 1);
		assert_eq!(Stats::<Test>::get(second[1]).missed, 1);
		assert!(second.iter().all(|m| Inference::pending_for_executor(*m).is_empty()));
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_job_with_no_quorum_can_be_challenged_and_the_larger_committee_completes_it() {
	new_test_ext().execute_with(|| {
		setup(10);
		let job = submit(3);
		let first = committee(job);
		vote(
			job,
			&[(first[0], success(&[5])), (first[1], success(&[50])), (first[2], success(&[500]))],
		);
		assert_eq!(phase(job), Phase::Failed);
		assert!(!Inference::job_info(job).unwrap().is_final);
		assert_ok!(Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job));
		let second = committee(job);
		let votes: Vec<_> = second.iter().map(|m| (*m, success(&[5]))).collect();
		vote(job, &votes);
		next_block();

		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(result_hash(job), Some(success(&[5]).hash()));
		assert_eq!(verdict().map(|v| v.0), Some(ChallengeVerdict::Overturned));
		assert_eq!(
			slashes(),
			vec![(first[1], Offence::WrongResult, WRONG), (first[2], Offence::WrongResult, WRONG)]
		);
		// The member that was right in the first round is paid now.
		let right = Stats::<Test>::get(first[0]);
		assert_eq!((right.agreed, right.disagreed), (1, 0));
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_liar_in_the_second_round_is_slashed_and_a_resource_failure_is_never_a_lie() {
	new_test_ext().execute_with(|| {
		setup(4);
		let job = submit(1);
		let out = success(&[5]);
		vote(job, &[(committee(job)[0], out.clone())]);
		assert_ok!(Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job));
		let second = committee(job);
		let timeout = Outcome::Failure(verity_primitives::canonical::ErrorCode::Timeout);
		vote(
			job,
			&[(second[0], out.clone()), (second[1], out.clone()), (second[2], timeout.clone())],
		);
		next_block();
		assert_eq!(verdict().map(|v| v.0), Some(ChallengeVerdict::Confirmed));
		assert!(slashes().is_empty(), "running out of resources is not lying");

		let job = submit(1);
		let first = committee(job);
		vote(job, &[(first[0], out.clone())]);
		System::reset_events();
		assert_ok!(Inference::challenge(RuntimeOrigin::signed(CHALLENGER), job));
		let second = committee(job);
		vote(
			job,
			&[(second[0], out.clone()), (second[1], out.clone()), (second[2], success(&[9]))],
		);
		next_block();
		assert_eq!(slashes(), vec![(second[2], Offence::WrongResult, WRONG)]);
		Inference::do_try_state().unwrap();
	});
}
