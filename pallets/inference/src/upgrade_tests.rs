//! Runtime upgrades against the mock: the version-6 migration, stepped as `pallet-migrations`
//! steps it, and the hooks' pause while a multi-block migration runs.

use crate::{
	migrations::v6::{v5, Cursor, MigrateV5ToV6},
	mock::*,
	pallet::*,
	tests::{commit, committee, events, phase, reveal, submit, success},
	Event, JobId, JobResult, Phase, Reveal,
};
use polkadot_sdk::frame_support::{
	migrations::{SteppedMigration, SteppedMigrationError},
	traits::{GetStorageVersion, StorageVersion},
	weights::{Weight, WeightMeter},
	BoundedVec,
};

/// `job` as version 5 stored it.
fn old_layout(job: &Job<Test>) -> v5::Job<Test> {
	v5::Job {
		key: job.key,
		requester: job.requester,
		model: job.model.clone(),
		committee: BoundedVec::truncate_from(job.members().copied().collect()),
		// One slot per seat asked for, drawn or not.
		commits: BoundedVec::truncate_from(if job.seats.is_empty() {
			vec![None; job.size as usize]
		} else {
			job.seats.iter().map(|s| s.commit).collect()
		}),
		reveals: BoundedVec::truncate_from(job.seats.iter().map(|s| s.reveal.clone()).collect()),
		fee: job.fee,
		phase: job.phase,
		due: job.due,
		submitted_at: job.submitted_at,
		result: job.result.clone(),
	}
}

/// Runs the migration to its end with room for `per_step` items a step; the steps taken.
fn migrate(per_step: u64) -> u32 {
	let item = MigrateV5ToV6::<Test>::item_weight();
	assert!(item.ref_time() > 0, "an item weighs something");
	let mut cursor = None;
	let mut steps = 0;
	loop {
		let mut meter = WeightMeter::with_limit(item.saturating_mul(per_step));
		steps += 1;
		match MigrateV5ToV6::<Test>::step(cursor, &mut meter) {
			Ok(None) => return steps,
			Ok(Some(next)) => cursor = Some(next),
			Err(e) => panic!("step {steps}: {e:?}"),
		}
		assert!(steps < 100, "the migration ends");
	}
}

#[test]
fn version_5_jobs_and_challenges_are_translated_a_few_at_a_time() {
	new_test_ext().execute_with(|| {
		// Jobs in every state a chain holds: drawn and committed, revealed, completed, not
		// drawn yet (no members, one commit slot per seat), and a challenged one.
		let (committed, revealed, completed) = (submit(3), submit(3), submit(3));
		let out = success(&[1]);
		commit(committee(committed)[0], committed, &out);
		for job in [revealed, completed] {
			for m in committee(job) {
				commit(m, job, &out);
			}
		}
		let members = committee(revealed);
		reveal(members[0], revealed, &out);
		for m in committee(completed) {
			reveal(m, completed, &out);
		}
		assert_eq!(phase(completed), Phase::Completed);
		let mut undrawn = Jobs::<Test>::get(committed).unwrap();
		undrawn.seats = Default::default();
		undrawn.size = 5;
		undrawn.phase = Phase::Draw;
		Jobs::<Test>::insert(40, &undrawn);
		let first = Jobs::<Test>::get(completed).unwrap();
		let escalation = Escalation {
			seats: first.seats.clone(),
			phase: Phase::Completed,
			result: first.result.clone(),
			challenger: REQUESTER,
			bond: 100,
		};

		let new: Vec<(JobId, Job<Test>)> = Jobs::<Test>::iter().collect();
		assert_eq!(new.len(), 4);
		for (id, job) in &new {
			v5::Jobs::<Test>::insert(id, old_layout(job));
		}
		v5::Escalations::<Test>::insert(
			completed,
			v5::Escalation::<Test> {
				committee: BoundedVec::truncate_from(first.members().copied().collect()),
				commits: BoundedVec::truncate_from(first.seats.iter().map(|s| s.commit).collect()),
				reveals: BoundedVec::truncate_from(
					first.seats.iter().map(|s| s.reveal.clone()).collect(),
				),
				phase: Phase::Completed,
				result: first.result.clone(),
				challenger: REQUESTER,
				bond: 100,
			},
		);
		StorageVersion::new(5).put::<Inference>();

		// Two items a step: four jobs, one challenge, and the ends of both maps.
		assert_eq!(migrate(2), 4);
		assert_eq!(Inference::on_chain_storage_version(), 6);
		for (id, job) in new {
			assert_eq!(Jobs::<Test>::get(id), Some(job), "job {id}");
		}
		assert_eq!(Jobs::<Test>::get(40).unwrap().size, 5);
		assert_eq!(Escalations::<Test>::get(completed), Some(escalation));
		// A chain already at version 6 ends at the first step, translating nothing.
		assert_eq!(migrate(1), 1);
	});
}

#[test]
fn a_step_without_room_for_one_item_asks_for_more() {
	new_test_ext().execute_with(|| {
		StorageVersion::new(5).put::<Inference>();
		let mut meter = WeightMeter::with_limit(Weight::zero());
		assert!(matches!(
			MigrateV5ToV6::<Test>::step(Some(Cursor::Jobs(None)), &mut meter),
			Err(SteppedMigrationError::InsufficientWeight { .. })
		));
		assert_eq!(Inference::on_chain_storage_version(), 5);
	});
}

#[test]
fn the_translation_keeps_seats_votes_and_results() {
	new_test_ext().execute_with(|| {
		let job = submit(3);
		let out = success(&[4]);
		for m in committee(job) {
			commit(m, job, &out);
		}
		reveal(committee(job)[1], job, &out);
		let old = old_layout(&Jobs::<Test>::get(job).unwrap());
		let new = crate::migrations::v6::translate_job::<Test>(old.clone());
		assert_eq!(new.size, 3);
		for (i, seat) in new.seats.iter().enumerate() {
			assert_eq!(seat.member, old.committee[i]);
			assert_eq!(seat.commit, old.commits[i]);
			assert_eq!(seat.reveal, old.reveals[i]);
		}
		assert!(matches!(&new.seats[1].reveal, RevealSlot::Revealed(Reveal { .. })));
		assert_eq!(new.result, None::<JobResult<_>>);
	});
}

#[test]
fn while_a_migration_runs_the_hooks_wait_and_windows_open_in_it_start_again() {
	new_test_ext().execute_with(|| {
		let out = success(&[2]);
		// One job in its commit window (one member committed), one in its reveal window (all
		// committed, one revealed), one waiting for its draw.
		let committing = submit(3);
		commit(committee(committing)[0], committing, &out);
		let revealing = submit(3);
		for m in committee(revealing) {
			commit(m, revealing, &out);
		}
		reveal(committee(revealing)[0], revealing, &out);
		DrawDelay::set(&2);
		let waiting = submit(3);
		let before = (Jobs::<Test>::get(committing), Jobs::<Test>::get(revealing));

		// Ten blocks of migration: past every window and the draw, nothing moves.
		MIGRATING.with(|m| m.set(true));
		let paused_at = System::block_number() + 1;
		for _ in 0..10 {
			next_block();
		}
		assert_eq!((Jobs::<Test>::get(committing), Jobs::<Test>::get(revealing)), before);
		assert_eq!(phase(waiting), Phase::Draw);
		assert_eq!(PausedSince::<Test>::get(), Some(paused_at));

		// Resumed: the skipped deadlines give fresh windows, the draw happens.
		MIGRATING.with(|m| m.set(false));
		next_block();
		let resumed = System::block_number();
		assert_eq!(LastPause::<Test>::get(), Some((paused_at, resumed)));
		assert_eq!(PausedSince::<Test>::get(), None);
		assert_eq!(Jobs::<Test>::get(committing).unwrap().due, resumed + 3);
		assert_eq!(Jobs::<Test>::get(revealing).unwrap().due, resumed + 3);
		assert_eq!(phase(committing), Phase::Commit);
		assert_eq!(phase(revealing), Phase::Reveal);
		assert_eq!(phase(waiting), Phase::Commit);

		// The members vote in the new windows; no one is slashed for the pause.
		for m in committee(committing).into_iter().skip(1) {
			commit(m, committing, &out);
		}
		for m in committee(committing) {
			reveal(m, committing, &out);
		}
		for m in committee(revealing).into_iter().skip(1) {
			reveal(m, revealing, &out);
		}
		assert_eq!(phase(committing), Phase::Completed);
		assert_eq!(phase(revealing), Phase::Completed);
		assert!(!events().iter().any(|e| matches!(e, Event::Slashed { .. })));
		// A window that opens after the pause is not extended.
		let members = committee(waiting);
		commit(members[0], waiting, &out);
		for _ in 0..3 {
			next_block();
		}
		assert_eq!(phase(waiting), Phase::Failed);
		Inference::do_try_state().unwrap();
	});
}
