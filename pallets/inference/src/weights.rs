//! Weights for `pallet_inference`.
//!
//! NOT YET MEASURED: these are conservative estimates until the pallet's benchmarks land and
//! `scripts/benchmark-pallets.sh inference` replaces this file. The pallet is not in the runtime
//! before then.

use polkadot_sdk::frame_support::weights::Weight;

pub trait WeightInfo {
	fn submit_job(committee: u32) -> Weight;
	fn commit_results(batch: u32) -> Weight;
	fn reveal_results(batch: u32) -> Weight;
	fn authorize_batch(batch: u32) -> Weight;
	fn add_executor() -> Weight;
	fn remove_executor() -> Weight;
	fn on_initialize(jobs: u32) -> Weight;
}

/// Estimates: 1 ms per job touched, plus 64 KiB of proof each.
impl WeightInfo for () {
	fn submit_job(committee: u32) -> Weight {
		Weight::from_parts(1_000_000_000, 65_536).saturating_mul(u64::from(committee) + 1)
	}
	fn commit_results(batch: u32) -> Weight {
		Weight::from_parts(1_000_000_000, 65_536).saturating_mul(u64::from(batch))
	}
	fn reveal_results(batch: u32) -> Weight {
		Weight::from_parts(1_000_000_000, 65_536).saturating_mul(u64::from(batch))
	}
	fn authorize_batch(batch: u32) -> Weight {
		Weight::from_parts(100_000_000, 65_536).saturating_mul(u64::from(batch) + 1)
	}
	fn add_executor() -> Weight {
		Weight::from_parts(100_000_000, 65_536)
	}
	fn remove_executor() -> Weight {
		Weight::from_parts(100_000_000, 65_536)
	}
	fn on_initialize(jobs: u32) -> Weight {
		Weight::from_parts(1_000_000_000, 65_536).saturating_mul(u64::from(jobs) + 1)
	}
}
