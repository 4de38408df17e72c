//! The pallets whose benchmarks `verity-node benchmark pallet` runs.

polkadot_sdk::frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_model_registry, ModelRegistry]
	[pallet_inference, Inference]
	[pallet_validator_set, ValidatorSet]
);

/// The inference benchmarks run the bundled linear regressor, which the `dev` genesis registers.
pub struct BundledLinearModel;
impl pallet_inference::BenchmarkHelper for BundledLinearModel {
	fn model_and_inputs() -> (verity_primitives::ModelId, alloc::vec::Vec<verity_primitives::Tensor>)
	{
		let bytes = include_bytes!("../../models/linear_regressor.onnx");
		let id = polkadot_sdk::sp_io::hashing::blake2_256(bytes);
		// Rows of 10 f32: as many as fit in the input bound with room for the encoding.
		let rows = (64 * 1024 - 256) / 40;
		let x = verity_primitives::tensor::tensor(
			"x",
			verity_primitives::DType::F32,
			&[rows, 10],
			alloc::vec![0; rows as usize * 40],
		)
		.expect("within the tensor bounds");
		(id, alloc::vec![x])
	}
}
