//! Slashing against the mock runtime: what each offence costs, who is paid from it, and what is
//! never slashed. The mock slashes 10 % of `MinBond` (50) for a bad reveal and 2 % (10) for a
//! miss, and gives 20 % of it to the members who were right.

use crate::{
	mock::*,
	pallet::*,
	tests::{commit, committee, events, phase, reveal, submit, submit_unsigned, success},
	Event, ExecutorStatus, FailureReason, JobId, MissStreak, Offence, Phase,
};
use polkadot_sdk::{
	frame_support::{
		assert_ok,
		traits::{fungible::InspectHold, Authorize},
	},
	sp_runtime::transaction_validity::{InvalidTransaction, TransactionSource},
};
use verity_primitives::canonical::{ErrorCode, Outcome};

const BAD_REVEAL: Balance = 50;
const MISS: Balance = 10;

fn bonded(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ExecutorBond.into(), &who)
}

fn record(who: AccountId) -> crate::RecordOf<Test> {
	Executors::<Test>::get(who).expect("an executor")
}

fn slashes() -> Vec<(AccountId, JobId, Offence, Balance)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::Slashed { executor, job, offence, amount } => {
				Some((executor, job, offence, amount))
			},
			_ => None,
		})
		.collect()
}

fn rewards() -> Vec<(AccountId, Balance)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::SlashRewarded { executor, amount, .. } => Some((executor, amount)),
			_ => None,
		})
		.collect()
}

fn blocks(n: u32) {
	for _ in 0..n {
		next_block();
	}
}

#[test]
fn a_reveal_that_does_not_open_its_commitment_is_slashed_and_the_right_members_share_a_fifth() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members {
			commit(*m, job, &out);
		}
		let free: Vec<Balance> = members.iter().map(Balances::free_balance).collect();
		// Committed to 5, reveals 6: the reveal does not open the commitment.
		reveal(members[0], job, &success(&[6]));
		reveal(members[1], job, &out);
		reveal(members[2], job, &out);
		assert_eq!(phase(job), Phase::Completed);

		assert_eq!(slashes(), vec![(members[0], job, Offence::BadReveal, BAD_REVEAL)]);
		assert_eq!(record(members[0]).bond, BOND - BAD_REVEAL);
		assert_eq!(bonded(members[0]), BOND - BAD_REVEAL);
		assert_eq!(Balances::free_balance(members[0]), free[0]);
		// A fifth (10) to the two who were right, 5 each, besides their executor fee; the rest
		// to the treasury.
		assert_eq!(rewards(), vec![(members[1], 5), (members[2], 5)]);
		for i in [1, 2] {
			assert_eq!(Balances::free_balance(members[i]), free[i] + 10 + 5);
		}
		assert_eq!(Balances::free_balance(Treasury::get()), BAD_REVEAL - 10);
		let stats = Stats::<Test>::get(members[0]);
		assert_eq!((stats.disagreed, stats.slashed), (1, 1));
		assert_eq!(Stats::<Test>::get(members[1]).slashed, 0);
		assert_eq!(Balances::total_issuance(), issuance);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_member_that_misses_a_job_the_others_settle_is_slashed_less() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		// One silent, one that committed and never revealed.
		let job = submit(4);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members[..3] {
			commit(*m, job, &out);
		}
		blocks(3);
		assert_eq!(phase(job), Phase::Reveal);
		reveal(members[0], job, &out);
		reveal(members[1], job, &out);
		blocks(3);
		assert_eq!(phase(job), Phase::Failed, "2 of 4 is no quorum");
		assert!(slashes().is_empty(), "a job no quorum settled proves no miss");

		let job = submit(4);
		let members = committee(job);
		let missed = Stats::<Test>::get(members[3]).missed;
		for m in &members[..3] {
			commit(*m, job, &out);
		}
		blocks(3);
		for m in &members[..2] {
			reveal(*m, job, &out);
		}
		// 3 of 4 reveal: a quorum.
		reveal(members[2], job, &out);
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(slashes(), vec![(members[3], job, Offence::Missed, MISS)]);
		assert_eq!(bonded(members[3]), BOND - MISS);
		assert_eq!(Stats::<Test>::get(members[3]).missed, missed + 1);
		// A fifth of 10 over three is 0 each: none paid, all to the treasury.
		assert!(rewards().is_empty());
		assert_eq!(Balances::free_balance(Treasury::get()), MISS);
		assert_eq!(Balances::total_issuance(), issuance);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_member_that_commits_and_does_not_reveal_is_slashed_at_the_deadline() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members {
			commit(*m, job, &out);
		}
		reveal(members[0], job, &out);
		reveal(members[1], job, &out);
		blocks(3);
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(slashes(), vec![(members[2], job, Offence::Missed, MISS)]);
		// A fifth of 10: 1 each to the two who revealed.
		assert_eq!(rewards(), vec![(members[0], 1), (members[1], 1)]);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn no_one_is_slashed_for_disagreeing_for_too_few_commits_or_on_a_resource_failure() {
	new_test_ext().execute_with(|| {
		// Outvoted: not paid, not slashed (until a disputed result can escalate).
		let job = submit(3);
		let members = committee(job);
		for m in &members {
			let out = if *m == members[0] { success(&[6]) } else { success(&[5]) };
			commit(*m, job, &out);
		}
		reveal(members[0], job, &success(&[6]));
		reveal(members[1], job, &success(&[5]));
		reveal(members[2], job, &success(&[5]));
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(Stats::<Test>::get(members[0]).disagreed, 1);

		// Too few commits: the model may be unavailable to every node.
		let job = submit(3);
		commit(committee(job)[0], job, &success(&[5]));
		blocks(3);
		assert_eq!(
			Jobs::<Test>::get(job).unwrap().result.unwrap().failure,
			Some(FailureReason::NotEnoughCommits)
		);

		// A quorum on a resource failure: the silent member may have run out of the same.
		let job = submit(3);
		let members = committee(job);
		let timeout = Outcome::Failure(ErrorCode::Timeout);
		for m in &members[..2] {
			commit(*m, job, &timeout);
		}
		blocks(3);
		for m in &members[..2] {
			reveal(*m, job, &timeout);
		}
		assert!(matches!(
			Jobs::<Test>::get(job).unwrap().result.unwrap().failure,
			Some(FailureReason::Resources(_))
		));
		assert!(slashes().is_empty());
		assert!(EXECUTORS.iter().all(|e| bonded(*e) == BOND));
		assert_eq!(Balances::free_balance(Treasury::get()), 0);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_quorum_on_an_execution_error_proves_a_miss() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let error = Outcome::Failure(ErrorCode::InvalidInput);
		for m in &members[..2] {
			commit(*m, job, &error);
		}
		blocks(3);
		for m in &members[..2] {
			reveal(*m, job, &error);
		}
		assert_eq!(phase(job), Phase::Failed);
		assert_eq!(slashes(), vec![(members[2], job, Offence::Missed, MISS)]);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_removed_executor_is_not_slashed_for_the_votes_it_can_no_longer_send() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members {
			commit(*m, job, &out);
		}
		assert_ok!(Inference::remove_executor(RuntimeOrigin::root(), members[2]));
		reveal(members[0], job, &out);
		reveal(members[1], job, &out);
		blocks(3);
		assert_eq!(phase(job), Phase::Completed);
		assert!(slashes().is_empty());
		assert_eq!(bonded(members[2]), BOND);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_slash_below_the_minimum_bond_leaves_the_draw_and_reaches_unlocking_funds() {
	new_test_ext().execute_with(|| {
		let who = EXECUTORS[0];
		// Bonded exactly the minimum: drawn until it loses anything.
		assert_ok!(Inference::unbond(RuntimeOrigin::signed(who), BOND - MinBond::get()));
		assert!(record(who).slot.is_some());
		let job = submit(4);
		assert!(committee(job).contains(&who));
		assert_eq!(Inference::slash(&who, job, Offence::BadReveal), Some(BAD_REVEAL));
		let after = record(who);
		assert_eq!(after.bond, MinBond::get() - BAD_REVEAL);
		assert!(after.slot.is_none());
		assert_eq!(DrawableCount::<Test>::get(), 3);
		Inference::do_try_state().unwrap();

		// Almost everything unlocking: the slash takes the bond, then the last chunk due.
		let other = EXECUTORS[1];
		assert_ok!(Inference::unbond(RuntimeOrigin::signed(other), BOND - 20));
		assert_eq!(Inference::slash(&other, job, Offence::BadReveal), Some(BAD_REVEAL));
		let after = record(other);
		assert_eq!(after.bond, 0);
		assert_eq!(after.unlocking[0].amount, BOND - 20 - 30);
		assert_eq!(bonded(other), BOND - BAD_REVEAL);
		Inference::do_try_state().unwrap();

		// No executor: nothing taken.
		assert_eq!(Inference::slash(&77, job, Offence::BadReveal), None);
	});
}

#[test]
fn a_reveal_batch_naming_a_smaller_committee_than_its_jobs_is_refused() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members {
			commit(*m, job, &out);
		}
		let RuntimeCall::Inference(crate::Call::reveal_results {
			executor,
			signer,
			reveals,
			sent_at,
			..
		}) = reveal_call(members[0], job, &out)
		else {
			unreachable!()
		};
		// Signed over a `max_committee` of 2: the weight it declares would not cover the job.
		let payload = Inference::vote_payload(
			verity_primitives::inference::VoteKind::Reveal,
			&executor,
			&signer,
			sent_at,
			&(&reveals, 2u32),
		);
		use polkadot_sdk::sp_core::Pair;
		let call = RuntimeCall::Inference(crate::Call::reveal_results {
			executor,
			signer,
			reveals,
			max_committee: 2,
			sent_at,
			signature: key_pair(members[0]).sign(&payload).into(),
		});
		assert_eq!(submit_unsigned(call.clone()), Err(InvalidTransaction::Call));
		// Claiming the right size with the signature over 2 does not verify.
		let RuntimeCall::Inference(crate::Call::reveal_results {
			executor,
			signer,
			reveals,
			sent_at,
			signature,
			..
		}) = call
		else {
			unreachable!()
		};
		let lie = RuntimeCall::Inference(crate::Call::reveal_results {
			executor,
			signer,
			reveals,
			max_committee: 3,
			sent_at,
			signature,
		});
		assert!(lie.authorize(TransactionSource::External).unwrap().is_err());
		assert_eq!(submit_unsigned(reveal_call(members[0], job, &out)), Ok(()));
	});
}

#[test]
fn an_executor_that_leaves_takes_its_statistics_with_it() {
	new_test_ext().execute_with(|| {
		let who = EXECUTORS[3];
		let job = submit(4);
		let out = success(&[5]);
		for m in committee(job) {
			commit(m, job, &out);
		}
		for m in committee(job) {
			reveal(m, job, &out);
		}
		assert_eq!(Stats::<Test>::get(who).agreed, 1);
		assert_ok!(Inference::leave(RuntimeOrigin::signed(who)));
		blocks(21);
		assert_ok!(Inference::withdraw_unbonded(RuntimeOrigin::signed(who)));
		assert!(Executors::<Test>::get(who).is_none());
		assert!(!Stats::<Test>::contains_key(who));
		Inference::do_try_state().unwrap();
	});
}

/// Runs a job of all four executors in which every member but `silent` votes the same result.
fn job_missed_by(silent: AccountId) -> JobId {
	let job = submit(4);
	let out = success(&[5]);
	let voters: Vec<AccountId> = committee(job).into_iter().filter(|m| *m != silent).collect();
	assert_eq!(voters.len(), 3, "{silent} is on the committee");
	for m in &voters {
		commit(*m, job, &out);
	}
	blocks(3);
	for m in &voters {
		reveal(*m, job, &out);
	}
	assert_eq!(phase(job), Phase::Completed);
	job
}

fn chilled_for_misses() -> Vec<(AccountId, u32)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::ChilledForMisses { executor, misses } => Some((executor, misses)),
			_ => None,
		})
		.collect()
}

#[test]
fn an_executor_that_misses_three_jobs_in_a_row_is_chilled_until_it_resumes() {
	new_test_ext().execute_with(|| {
		let silent = crate::mock::EXECUTORS[3];
		let drawn = |who| record(who).slot.is_some();
		for run in 1..=2 {
			job_missed_by(silent);
			assert_eq!(
				MissStreaks::<Test>::get(silent),
				Some(MissStreak { misses: run, votes: 0, since: 0 })
			);
			assert!(drawn(silent), "{run} misses in a row: still drawn");
		}
		job_missed_by(silent);
		assert_eq!(chilled_for_misses(), vec![(silent, 3)]);
		assert_eq!(record(silent).status, ExecutorStatus::Chilled);
		assert!(!drawn(silent));
		assert_eq!(DrawableCount::<Test>::get(), 3);
		assert_eq!(slashes().len(), 3, "each miss is slashed as well");
		Inference::do_try_state().unwrap();

		// Back: it is drawn again, votes on a job, and a later miss starts a new run.
		assert_ok!(Inference::resume(RuntimeOrigin::signed(silent)));
		let resumed = System::block_number();
		assert_eq!(
			MissStreaks::<Test>::get(silent),
			Some(MissStreak { misses: 0, votes: 0, since: resumed })
		);
		let job = submit(4);
		let out = success(&[5]);
		let members = committee(job);
		for m in &members {
			commit(*m, job, &out);
		}
		// All committed: the reveals open at once.
		for m in &members {
			reveal(*m, job, &out);
		}
		assert_eq!(phase(job), Phase::Completed);
		job_missed_by(silent);
		assert_eq!(
			MissStreaks::<Test>::get(silent),
			Some(MissStreak { misses: 1, votes: 1, since: resumed })
		);
		assert_eq!(record(silent).status, ExecutorStatus::Active);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn misses_on_jobs_drawn_before_resuming_do_not_count() {
	new_test_ext().execute_with(|| {
		let silent = crate::mock::EXECUTORS[3];
		for _ in 0..3 {
			job_missed_by(silent);
		}
		next_block();
		assert_ok!(Inference::resume(RuntimeOrigin::signed(silent)));
		let resumed = System::block_number();
		// A job submitted while it was down settles after it resumed: not counted.
		Inference::note_miss(&silent, resumed - 1);
		assert_eq!(MissStreaks::<Test>::get(silent).unwrap().misses, 0);
		// Three misses on jobs submitted since: chilled again.
		for _ in 0..2 {
			Inference::note_miss(&silent, resumed);
		}
		assert_eq!(record(silent).status, ExecutorStatus::Active);
		Inference::note_miss(&silent, resumed);
		assert_eq!(record(silent).status, ExecutorStatus::Chilled);
		assert_eq!(chilled_for_misses(), vec![(silent, 3), (silent, 3)]);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn misses_no_one_can_prove_do_not_count_toward_a_chill() {
	new_test_ext().execute_with(|| {
		let silent = crate::mock::EXECUTORS[3];
		// Two of four commit: the job fails for too few commits, which proves no miss.
		for _ in 0..4 {
			let job = submit(4);
			let voters: Vec<AccountId> =
				committee(job).into_iter().filter(|m| *m != silent).take(2).collect();
			for m in &voters {
				commit(*m, job, &success(&[5]));
			}
			blocks(4);
			assert_eq!(phase(job), Phase::Failed);
		}
		assert_eq!(MissStreaks::<Test>::get(silent), None);
		assert_eq!(record(silent).status, ExecutorStatus::Active);
		assert!(chilled_for_misses().is_empty());
	});
}

#[test]
fn no_one_is_chilled_for_misses_when_the_draw_would_be_left_short_of_a_committee() {
	new_test_ext().execute_with(|| {
		let silent = crate::mock::EXECUTORS[3];
		// Four executors, committees of at least four: chilling one would fail every job.
		assert_ok!(Inference::set_min_committee(RuntimeOrigin::root(), 4));
		for _ in 0..3 {
			job_missed_by(silent);
		}
		assert_eq!(MissStreaks::<Test>::get(silent).unwrap().misses, 3);
		assert_eq!(slashes().len(), 3, "it is still slashed for each");
		assert!(chilled_for_misses().is_empty());
		assert_eq!(record(silent).status, ExecutorStatus::Active);
		assert_eq!(DrawableCount::<Test>::get(), 4);
	});
}
