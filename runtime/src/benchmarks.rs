//! The pallets whose benchmarks `verity-node benchmark pallet` runs.

polkadot_sdk::frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_model_registry, ModelRegistry]
);
