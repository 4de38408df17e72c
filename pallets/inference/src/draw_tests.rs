//! The delayed draw against the mock runtime: when committees are drawn, what they are drawn
//! from, and what happens when none can be.

use crate::{
	mock::*,
	pallet::*,
	tests::{commit, committee, events, held, phase, reveal, submit, success},
	Event, FailureReason, Phase,
};
use codec::Encode;
use polkadot_sdk::{frame_support::assert_ok, sp_io::hashing::blake2_256};

fn xor(a: [u8; 32], b: [u8; 32]) -> [u8; 32] {
	let mut out = a;
	out.iter_mut().zip(b).for_each(|(o, b)| *o ^= b);
	out
}

/// What `executor`'s accepted reveal (with the mock's salt) brings the block's entropy.
fn share(executor: AccountId, job: crate::JobId) -> [u8; 32] {
	blake2_256(&(b"verity/entropy", salt(executor), executor, job_key(job)).encode())
}

#[test]
fn a_committee_is_drawn_delay_blocks_after_submission() {
	new_test_ext().execute_with(|| {
		DrawDelay::set(&2);
		let job = submit(3);
		assert_eq!(phase(job), Phase::Draw);
		assert!(committee(job).is_empty());
		assert!(EXECUTORS.iter().all(|e| Inference::pending_for_executor(*e).is_empty()));
		assert!(matches!(events().last(), Some(Event::JobSubmitted { draw_at: 3, .. })));
		// Votes for a job without a committee are refused.
		assert!(crate::tests::submit_unsigned(commit_call(11, job, &success(&[1]))).is_err());
		Inference::do_try_state().unwrap();

		next_block();
		assert_eq!(phase(job), Phase::Draw);
		next_block();
		assert_eq!(phase(job), Phase::Commit);
		let members = committee(job);
		assert_eq!(members.len(), 3);
		let due = System::block_number() + 3;
		assert!(events().contains(&Event::CommitteeDrawn { job, committee: members.clone(), due }));
		assert_eq!(Jobs::<Test>::get(job).unwrap().due, due);
		for m in &members {
			assert_eq!(Inference::pending_for_executor(*m), vec![job]);
			assert_eq!(Stats::<Test>::get(m).assigned, 1);
		}
		Inference::do_try_state().unwrap();

		let out = success(&[1_500_000, -2_000_000]);
		for m in &members {
			commit(*m, job, &out);
		}
		for m in &members {
			reveal(*m, job, &out);
		}
		assert_eq!(phase(job), Phase::Completed);
		assert_eq!(held(REQUESTER), 0);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn accepted_reveals_feed_the_beacon_the_next_block_draws_from() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[1_500_000, -2_000_000]);
		for m in &members {
			commit(*m, job, &out);
		}
		for m in &members {
			reveal(*m, job, &out);
		}
		// Order does not matter: each reveal's share is XORed in.
		let entropy = members.iter().fold([0u8; 32], |e, m| xor(e, share(*m, job)));
		assert_eq!(Entropy::<Test>::get(), entropy);
		let before = Beacon::<Test>::get();

		// A job submitted now is drawn two blocks later, from the beacon as those blocks'
		// reveals leave it.
		DrawDelay::set(&2);
		let later = submit(2);
		next_block();
		let beacon = blake2_256(&(b"verity/beacon", before, entropy).encode());
		assert_eq!(Beacon::<Test>::get(), beacon);
		assert_eq!(Entropy::<Test>::get(), [0u8; 32]);
		// No reveal in this block: the beacon stays.
		next_block();
		assert_eq!(Beacon::<Test>::get(), beacon);
		let seed = Inference::draw_seed(&beacon, &job_key(later), 0);
		assert_eq!(committee(later), Inference::draw_committee(2, &seed));
		// Another beacon, another committee, for the same job: with 4 executors there are 6
		// committees of 2, and these 8 beacons give more than one of them.
		let drawn: std::collections::BTreeSet<Vec<AccountId>> = (0u8..8)
			.map(|b| {
				let mut c = Inference::draw_committee(
					2,
					&Inference::draw_seed(&[b; 32], &job_key(later), 0),
				);
				c.sort();
				c
			})
			.collect();
		assert!(drawn.len() > 1, "{drawn:?}");
	});
}

#[test]
fn a_rejected_reveal_brings_no_entropy() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let members = committee(job);
		let out = success(&[7]);
		for m in &members {
			commit(*m, job, &out);
		}
		// Revealing another result than committed: rejected, so no share.
		reveal(members[0], job, &success(&[8]));
		assert_eq!(Entropy::<Test>::get(), [0u8; 32]);
		reveal(members[1], job, &out);
		assert_eq!(Entropy::<Test>::get(), share(members[1], job));
	});
}

#[test]
fn a_job_with_too_few_drawable_executors_at_its_draw_fails_and_is_refunded() {
	new_test_ext().execute_with(|| {
		DrawDelay::set(&2);
		JobDepositBase::set(&7);
		let issuance = Balances::total_issuance();
		let job = submit(3);
		// Two of the four leave the draw before it.
		assert_ok!(Inference::chill(RuntimeOrigin::signed(11)));
		assert_ok!(Inference::chill(RuntimeOrigin::signed(12)));
		next_block();
		next_block();
		assert_eq!(phase(job), Phase::Failed);
		assert!(events().contains(&Event::JobFailed { job, reason: FailureReason::NoCommittee }));
		assert!(committee(job).is_empty());
		// Everything comes back but the upkeep fee (free in the mock) and, until the job is
		// pruned, the deposit.
		assert_eq!(held(REQUESTER), 0);
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT - 7);
		assert!(EXECUTORS.iter().all(|e| Stats::<Test>::get(e).assigned == 0));
		Inference::do_try_state().unwrap();
		for _ in 0..10 {
			next_block();
		}
		assert!(Jobs::<Test>::get(job).is_none());
		assert_eq!(Balances::free_balance(REQUESTER), ENDOWMENT);
		assert_eq!(Balances::total_issuance(), issuance);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn executors_behind_on_their_open_jobs_are_never_drawn() {
	new_test_ext().execute_with(|| {
		MaxOpenPerExecutor::set(&1);
		// Each job of one takes an executor with no open job, until there is none.
		let mut drawn = Vec::new();
		for _ in 0..6 {
			let job = submit(1);
			match phase(job) {
				Phase::Commit => drawn.push(committee(job)[0]),
				Phase::Failed => {
					let reason = Jobs::<Test>::get(job).unwrap().result.unwrap().failure;
					assert_eq!(reason, Some(FailureReason::NoCommittee));
				},
				other => panic!("job {job} is {other:?}"),
			}
		}
		let mut distinct = drawn.clone();
		distinct.sort();
		distinct.dedup();
		assert_eq!(distinct.len(), drawn.len(), "an executor was drawn twice: {drawn:?}");
		assert!(EXECUTORS.iter().all(|e| Stats::<Test>::get(e).open() <= 1));
		// Four executors, and at most DRAW_ATTEMPTS tries for each job: the first jobs find a
		// free one, the last (none free) fail.
		assert!(drawn.len() >= 2 && drawn.len() <= 4, "{drawn:?}");
		assert_eq!(phase(5), Phase::Failed);
		Inference::do_try_state().unwrap();
	});
}

#[test]
fn a_delayed_draw_is_paid_for_in_the_upkeep_fee() {
	new_test_ext().execute_with(|| {
		PicosPerUnit::set(&100_000_000);
		let at_once = Inference::quote(MODEL_FEE, 3);
		DrawDelay::set(&2);
		let delayed = Inference::quote(MODEL_FEE, 3);
		assert!(delayed.upkeep_fee > at_once.upkeep_fee, "{delayed:?} {at_once:?}");
		let job = NextJobId::<Test>::get();
		assert_ok!(Inference::submit_job(
			RuntimeOrigin::signed(REQUESTER),
			MODEL,
			crate::tests::inputs(),
			3,
			delayed.total
		));
		assert_eq!(Jobs::<Test>::get(job).unwrap().fee.upkeep_fee, delayed.upkeep_fee);
	});
}
