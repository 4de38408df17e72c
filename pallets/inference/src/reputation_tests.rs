//! Reputation against the mock runtime: penalty points come with slashes and halve every 10
//! blocks, and an executor with points is drawn less, while no job fails for it.

use crate::{
	mock::*,
	pallet::*,
	tests::{commit, committee, phase, reveal, submit, success},
	Phase, Standing,
};
use polkadot_sdk::frame_support::traits::Currency;

#[test]
fn every_slash_adds_penalty_points_that_halve_every_half_life() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[5]);
		for m in &members {
			commit(*m, job, &out);
		}
		// Committed to 5, reveals 6: a bad reveal (4 points).
		reveal(members[0], job, &success(&[6]));
		reveal(members[1], job, &out);
		reveal(members[2], job, &out);
		assert_eq!(phase(job), Phase::Completed);
		let liar = members[0];
		let reputation = Inference::reputation(liar).unwrap();
		assert_eq!((reputation.penalty, reputation.kept_per_million), (4, 200_000));
		assert_eq!((reputation.stats.disagreed, reputation.stats.slashed), (1, 1));
		assert_eq!(Inference::reputation(members[1]).unwrap().penalty, 0);
		assert_eq!(Inference::reputation(2), None, "not an executor");

		for _ in 0..10 {
			next_block();
		}
		assert_eq!(Inference::reputation(liar).unwrap().penalty, 2);
		// A miss on a job the others settle adds a point to what is left.
		let job = submit(4);
		let members = committee(job);
		let silent = members.iter().copied().find(|m| *m == liar).unwrap_or(members[3]);
		for m in members.iter().filter(|m| **m != silent) {
			commit(*m, job, &out);
		}
		for _ in 0..3 {
			next_block();
		}
		for m in members.iter().filter(|m| **m != silent) {
			reveal(*m, job, &out);
		}
		assert_eq!(phase(job), Phase::Completed);
		let expected = if silent == liar { 3 } else { 1 };
		assert_eq!(Inference::reputation(silent).unwrap().penalty, expected);
		for _ in 0..40 {
			next_block();
		}
		assert_eq!(Inference::reputation(silent).unwrap().penalty, 0, "points decay to nothing");
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn an_executor_with_recent_offences_is_drawn_less_and_no_job_fails_for_it() {
	new_test_ext().execute_with(|| {
		for who in 21..31 {
			crate::tests::executors::register(who);
		}
		let _ = Balances::deposit_creating(&REQUESTER, 100_000);
		let now = System::block_number();
		let penalized = EXECUTORS[0];
		Standings::<Test>::insert(penalized, Standing { points: 100, at: now });

		let mut drawn = std::collections::BTreeMap::<AccountId, u32>::new();
		for i in 0..300 {
			if i % 20 == 19 {
				next_block();
			}
			let job = submit(3);
			assert_eq!(phase(job), Phase::Commit, "every job gets a committee");
			for m in committee(job) {
				*drawn.entry(m).or_default() += 1;
			}
		}
		let others: Vec<u32> =
			drawn.iter().filter(|(m, _)| **m != penalized).map(|(_, n)| *n).collect();
		let mean = others.iter().sum::<u32>() / others.len() as u32;
		let mine = drawn.get(&penalized).copied().unwrap_or(0);
		// 900 seats over 14: about 64 each. With 100 points, it stays only on the last attempt,
		// when it was on the first two as well: about 3 of 300 jobs.
		assert!(mean > 50, "{drawn:?}");
		assert!(mine * 4 < mean, "the penalized executor was drawn {mine} times: {drawn:?}");
	});
}

#[test]
fn points_from_frequent_offences_level_off_instead_of_piling_up() {
	new_test_ext().execute_with(|| {
		let who = EXECUTORS[0];
		// A miss every 6 blocks, points halving every 10: the half-life clock keeps running.
		for _ in 0..20 {
			Inference::penalize(&who, crate::Offence::Missed);
			for _ in 0..6 {
				next_block();
			}
		}
		let points = Inference::penalty_at(&who, System::block_number());
		assert!((1..=3).contains(&points), "{points} points after 20 misses");
		Inference::do_try_state().unwrap();
	});
}
