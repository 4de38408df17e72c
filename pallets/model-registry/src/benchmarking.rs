//! Benchmarks for the registry's calls, worst case each: metadata at its bounds, families one
//! version short of full, and the last chunk of a model with `c` chunks (which assembles and
//! hashes all of them).

use super::{pallet::*, Pallet as ModelRegistry};
use alloc::{vec, vec::Vec};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::{fungible::Mutate, Get},
	frame_system::RawOrigin,
	sp_io::hashing::blake2_256,
	sp_runtime::traits::Bounded,
};
use verity_primitives::{
	model::{
		ModelFormat, ModelHosting, ModelLimits, ModelMetadata, ModelStatus, ModelVersion,
		MAX_DESCRIPTION_LEN, MAX_MODEL_NAME_LEN, MAX_MODEL_TENSORS, MAX_MODEL_VERSION_LEN,
	},
	tensor::{DType, Dim, TensorSpec, MAX_NAME_LEN, MAX_RANK},
	ModelId,
};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	who
}

fn specs(prefix: u8) -> verity_primitives::model::TensorSpecs {
	(0..MAX_MODEL_TENSORS)
		.map(|i| {
			let mut name = vec![prefix; MAX_NAME_LEN as usize];
			name[..4].copy_from_slice(&i.to_le_bytes());
			TensorSpec {
				name: name.try_into().expect("MAX_NAME_LEN bytes"),
				dtype: DType::F32,
				shape: vec![Dim::Fixed(2); MAX_RANK as usize].try_into().expect("MAX_RANK dims"),
			}
		})
		.collect::<Vec<_>>()
		.try_into()
		.expect("MAX_MODEL_TENSORS specs")
}

/// Metadata at every bound, for a model of `size` bytes hosted on chain.
fn metadata<T: Config>(size: u32, version: u32) -> MetadataOf<T> {
	let mut version_bytes = vec![b'v'; MAX_MODEL_VERSION_LEN as usize];
	version_bytes[..4].copy_from_slice(&version.to_le_bytes());
	ModelMetadata {
		name: vec![b'n'; MAX_MODEL_NAME_LEN as usize].try_into().expect("bound"),
		version: version_bytes.try_into().expect("bound"),
		description: vec![b'd'; MAX_DESCRIPTION_LEN as usize].try_into().expect("bound"),
		format: ModelFormat::Onnx { opset: 17 },
		inputs: specs(b'i'),
		outputs: specs(b'o'),
		output_decimals: 6,
		tolerance: 1,
		fee: 1u32.into(),
		hosting: ModelHosting::OnChain { size },
		limits: ModelLimits { cpu_millis: 1, memory_mib: 1 },
	}
}

/// Fills `owner`'s family of the benchmark name to one version short of full.
fn fill_family<T: Config>(owner: &T::AccountId) {
	let name = metadata::<T>(1, 0).name;
	let versions: Vec<(ModelVersion, ModelId)> = (1..T::MaxVersions::get())
		.map(|v| (metadata::<T>(1, 1000 + v).version, blake2_256(&v.to_le_bytes())))
		.collect();
	let versions: VersionsOf<T> = versions.try_into().expect("fewer than MaxVersions");
	Families::<T>::insert(owner, name, versions);
}

/// `chunks` full chunks of a well-formed protobuf that the registry's check reads to the end:
/// two-byte fields, the most a chunk holds (the check's worst case).
fn model_bytes<T: Config>(chunks: u32) -> Vec<u8> {
	let size = chunks * T::ChunkSize::get();
	(0..size).map(|i| if i % 2 == 0 { 0x08 } else { (i % 127) as u8 }).collect()
}

/// Registers a model of `chunks` full chunks as `owner` and stores all but the last chunk.
fn registered_with_chunks<T: Config>(
	owner: &T::AccountId,
	chunks: u32,
) -> Result<(ModelId, Vec<u8>), BenchmarkError> {
	let bytes = model_bytes::<T>(chunks);
	let id = blake2_256(&bytes);
	ModelRegistry::<T>::do_register(owner.clone(), id, metadata::<T>(bytes.len() as u32, 0))?;
	let size = T::ChunkSize::get() as usize;
	for i in 0..chunks.saturating_sub(1) {
		let start = i as usize * size;
		ModelRegistry::<T>::do_upload_chunk(owner, id, i, &bytes[start..start + size])?;
	}
	Ok((id, bytes))
}

/// A claim of `id` by `who`, made `ClaimDelay` blocks ago.
fn claimed<T: Config>(who: &T::AccountId, id: &ModelId) -> Result<(), BenchmarkError> {
	let commitment = ModelRegistry::<T>::claim_commitment(id, who);
	ModelRegistry::<T>::claim_model(RawOrigin::Signed(who.clone()).into(), commitment)?;
	let now = polkadot_sdk::frame_system::Pallet::<T>::block_number();
	polkadot_sdk::frame_system::Pallet::<T>::set_block_number(now + T::ClaimDelay::get());
	Ok(())
}

fn last_chunk<T: Config>(bytes: &[u8]) -> ChunkOf<T> {
	let size = T::ChunkSize::get() as usize;
	let start = bytes.len() - size;
	bytes[start..].to_vec().try_into().expect("ChunkSize bytes")
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Registering with a claim old enough: the claim used up, its deposit and the model's held.
	#[benchmark]
	fn register_model() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		fill_family::<T>(&owner);
		let meta = metadata::<T>(T::MaxOnChainModelSize::get(), 0);
		let id = [7u8; 32];
		claimed::<T>(&owner, &id)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, meta);

		assert_eq!(Models::<T>::get(id).map(|r| r.status), Some(ModelStatus::Uploading));
		assert_eq!(Claims::<T>::iter().count(), 0);
		Ok(())
	}

	#[benchmark]
	fn claim_model() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let commitment = ModelRegistry::<T>::claim_commitment(&[7u8; 32], &owner);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), commitment);

		assert!(Claims::<T>::contains_key(&owner, commitment));
		Ok(())
	}

	#[benchmark]
	fn drop_claim() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let id = [7u8; 32];
		claimed::<T>(&owner, &id)?;
		let commitment = ModelRegistry::<T>::claim_commitment(&id, &owner);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), commitment);

		assert!(!Claims::<T>::contains_key(&owner, commitment));
		Ok(())
	}

	/// Removing a retired model's record from a family one version short of full.
	#[benchmark]
	fn remove_model() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		fill_family::<T>(&owner);
		let (id, _) = registered_with_chunks::<T>(&owner, 1)?;
		ModelRegistry::<T>::set_status(
			RawOrigin::Signed(owner.clone()).into(),
			id,
			ModelStatus::Retired,
		)
		.map_err(|e| e.error)?;
		ResourceFailures::<T>::insert(id, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(Models::<T>::get(id).is_none());
		Ok(())
	}

	#[benchmark]
	fn upload_chunk() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (id, bytes) = registered_with_chunks::<T>(&owner, 3)?;
		// Replace chunk 0 so the call stores a chunk without completing the model.
		Chunks::<T>::remove(id, 0);
		Models::<T>::mutate(id, |r| {
			if let Some(r) = r {
				r.chunks_received -= 1
			}
		});
		let size = T::ChunkSize::get() as usize;
		let first: ChunkOf<T> = bytes[..size].to_vec().try_into().expect("ChunkSize bytes");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, 0, first);

		assert_eq!(Models::<T>::get(id).map(|r| r.status), Some(ModelStatus::Uploading));
		Ok(())
	}

	/// The last chunk of a model of `c` chunks: assembles and hashes them all.
	#[benchmark]
	fn upload_last_chunk(
		c: Linear<1, { ModelRegistry::<T>::max_chunks() }>,
	) -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (id, bytes) = registered_with_chunks::<T>(&owner, c)?;
		let last = last_chunk::<T>(&bytes);

		#[extrinsic_call]
		upload_chunk(RawOrigin::Signed(owner), id, c - 1, last);

		assert_eq!(Models::<T>::get(id).map(|r| r.status), Some(ModelStatus::Active));
		Ok(())
	}

	#[benchmark]
	fn set_status() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (id, bytes) = registered_with_chunks::<T>(&owner, 1)?;
		ModelRegistry::<T>::do_upload_chunk(&owner, id, 0, &bytes)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, ModelStatus::Deprecated);

		assert_eq!(Models::<T>::get(id).map(|r| r.status), Some(ModelStatus::Deprecated));
		Ok(())
	}

	/// Retiring a model of `c` chunks: deletes them and releases the deposit.
	#[benchmark]
	fn retire(c: Linear<0, { ModelRegistry::<T>::max_chunks() }>) -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (id, bytes) = registered_with_chunks::<T>(&owner, c.max(1))?;
		if c > 0 {
			let last = bytes.len() - T::ChunkSize::get() as usize;
			ModelRegistry::<T>::do_upload_chunk(&owner, id, c - 1, &bytes[last..])?;
		}

		#[extrinsic_call]
		set_status(RawOrigin::Signed(owner), id, ModelStatus::Retired);

		assert_eq!(Models::<T>::get(id).map(|r| r.status), Some(ModelStatus::Retired));
		Ok(())
	}

	#[benchmark]
	fn set_fee() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (id, _) = registered_with_chunks::<T>(&owner, 1)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, 5u32.into());

		assert_eq!(Models::<T>::get(id).map(|r| r.metadata.fee), Some(5u32.into()));
		Ok(())
	}

	#[benchmark]
	fn transfer_ownership() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let new_owner = funded::<T>("new_owner", 1);
		fill_family::<T>(&owner);
		fill_family::<T>(&new_owner);
		let (id, _) = registered_with_chunks::<T>(&owner, 1)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, new_owner.clone());

		assert_eq!(Models::<T>::get(id).map(|r| r.owner), Some(new_owner));
		Ok(())
	}

	impl_benchmark_test_suite!(ModelRegistry, crate::mock::new_test_ext(), crate::mock::Test);
}
