//! Weights for `pallet_model_registry`. Replaced by scripts/benchmark-pallets.sh.

use core::marker::PhantomData;
use polkadot_sdk::frame_support::weights::Weight;

pub trait WeightInfo {
	fn register_model() -> Weight;
	fn upload_chunk() -> Weight;
	fn upload_last_chunk(c: u32) -> Weight;
	fn set_status() -> Weight;
	fn retire(c: u32) -> Weight;
	fn set_fee() -> Weight;
	fn transfer_ownership() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T> WeightInfo for SubstrateWeight<T> {
	fn register_model() -> Weight {
		Weight::MAX
	}
	fn upload_chunk() -> Weight {
		Weight::MAX
	}
	fn upload_last_chunk(_c: u32) -> Weight {
		Weight::MAX
	}
	fn set_status() -> Weight {
		Weight::MAX
	}
	fn retire(_c: u32) -> Weight {
		Weight::MAX
	}
	fn set_fee() -> Weight {
		Weight::MAX
	}
	fn transfer_ownership() -> Weight {
		Weight::MAX
	}
}

impl WeightInfo for () {
	fn register_model() -> Weight {
		Weight::zero()
	}
	fn upload_chunk() -> Weight {
		Weight::zero()
	}
	fn upload_last_chunk(_c: u32) -> Weight {
		Weight::zero()
	}
	fn set_status() -> Weight {
		Weight::zero()
	}
	fn retire(_c: u32) -> Weight {
		Weight::zero()
	}
	fn set_fee() -> Weight {
		Weight::zero()
	}
	fn transfer_ownership() -> Weight {
		Weight::zero()
	}
}
