//! The jobs pallet's version-6 migration in the real runtime: `pallet-migrations` runs it over
//! as many blocks as its weight takes (blocks carry inherents only while it is under way:
//! `Executive` asks `MultiBlockMigrator::ongoing`), and the jobs pallet's hooks wait until it is
//! done.

use crate::{
	tests::chain_from_preset, AllPalletsWithSystem, Inference, MultiBlockMigrations, Runtime,
	RuntimeEvent, System,
};
use pallet_inference::{
	migrations::v6::v5, FeeQuote, JobModel, Jobs, LastPause, PausedSince, Phase,
};
use polkadot_sdk::{
	frame_support::{
		migrations::MultiStepMigrator,
		traits::{GetStorageVersion, OnInitialize, OnRuntimeUpgrade, StorageVersion},
		BoundedVec,
	},
	sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	sp_keyring::Sr25519Keyring,
	*,
};
use verity_primitives::model::ModelLimits;

/// More jobs than one block's migration weight translates.
const JOBS: u64 = 30_000;

/// A finished version-5 job of a committee of 3, each member revealed, due far ahead.
fn old_job(id: u64) -> v5::Job<Runtime> {
	let members: Vec<_> = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
		.iter()
		.map(|k| k.to_account_id())
		.collect();
	let reveal = pallet_inference::RevealSlot::Revealed(pallet_inference::Reveal {
		result_hash: [id as u8; 32],
		outcome: None,
	});
	v5::Job {
		key: [id as u8; 32],
		requester: Sr25519Keyring::Dave.to_account_id(),
		model: JobModel {
			id: [7; 32],
			owner: Sr25519Keyring::Alice.to_account_id(),
			output_decimals: 6,
			tolerance: 0,
			limits: ModelLimits { cpu_millis: 100, memory_mib: 64 },
		},
		committee: BoundedVec::truncate_from(members),
		commits: BoundedVec::truncate_from(vec![Some([1; 32]); 3]),
		reveals: BoundedVec::truncate_from(vec![reveal; 3]),
		fee: FeeQuote {
			model_fee: 1,
			executor_fee: 1,
			base_fee: 1,
			resource_fee: 1,
			upkeep_fee: 1,
			deadline_fee: 1,
			deadline_held: 0,
			total: 5,
		},
		phase: Phase::Completed,
		due: 1_000_000,
		submitted_at: 1,
		result: None,
	}
}

fn mbm_events() -> Vec<pallet_migrations::Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::MultiBlockMigrations(e) => Some(e),
			_ => None,
		})
		.collect()
}

#[test]
fn the_jobs_migration_runs_over_blocks_without_transactions_and_the_hooks_wait() {
	chain_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		System::set_block_number(1);
		for id in 0..JOBS {
			v5::Jobs::<Runtime>::insert(id, old_job(id));
		}
		StorageVersion::new(5).put::<Inference>();

		// The upgrade's block: the migration is onboarded, the hooks pause.
		System::set_block_number(2);
		<MultiBlockMigrations as OnRuntimeUpgrade>::on_runtime_upgrade();
		assert!(<Runtime as frame_system::Config>::MultiBlockMigrator::ongoing());
		let mut blocks = 0;
		while <Runtime as frame_system::Config>::MultiBlockMigrator::ongoing() {
			let n = System::block_number();
			AllPalletsWithSystem::on_initialize(n);
			assert_eq!(PausedSince::<Runtime>::get(), Some(2), "block {n}: the hooks wait");
			// After the inherents, as `Executive::inherents_applied` does.
			<Runtime as frame_system::Config>::MultiBlockMigrator::step();
			blocks += 1;
			assert!(blocks < 100, "the migration ends");
			System::set_block_number(n + 1);
		}
		assert!(blocks > 1, "{JOBS} jobs take more than one block ({blocks})");
		assert_eq!(Inference::on_chain_storage_version(), 6);
		assert_eq!(Jobs::<Runtime>::iter_values().count() as u64, JOBS);
		let job = Jobs::<Runtime>::get(JOBS - 1).expect("translated");
		assert_eq!((job.size, job.seats.len()), (3, 3));
		assert!(job.seats.iter().all(|s| s.commit == Some([1; 32])));
		let events = mbm_events();
		assert!(events
			.iter()
			.any(|e| matches!(e, pallet_migrations::Event::MigrationCompleted { .. })));
		assert!(events.iter().any(|e| matches!(e, pallet_migrations::Event::UpgradeCompleted)));

		// The next block: the hooks resume.
		let n = System::block_number();
		AllPalletsWithSystem::on_initialize(n);
		assert_eq!(PausedSince::<Runtime>::get(), None);
		assert_eq!(LastPause::<Runtime>::get(), Some((2, n)));
		println!("{JOBS} jobs translated in {blocks} blocks");
	});
}
