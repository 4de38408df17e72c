//! Models as the chain records them: metadata, hosting, status, and the registry's runtime API.

use crate::{inference::ModelId, tensor::TensorSpec};
use alloc::vec::Vec;
use codec::{Codec, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_core::ConstU32;
use polkadot_sdk::sp_runtime::BoundedVec;
use scale_info::TypeInfo;

/// Longest model name, in bytes.
pub const MAX_MODEL_NAME_LEN: u32 = 64;
/// Longest version string, in bytes.
pub const MAX_MODEL_VERSION_LEN: u32 = 32;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_LEN: u32 = 512;
/// Most inputs, and most outputs, a model declares.
pub const MAX_MODEL_TENSORS: u32 = 16;
/// Most URIs a model's bytes may be listed at.
pub const MAX_URIS: u32 = 4;
/// Longest URI, in bytes.
pub const MAX_URI_LEN: u32 = 256;
/// Highest ONNX opset the chain accepts.
pub const MAX_ONNX_OPSET: u16 = 23;
/// Lowest ONNX opset the chain accepts.
pub const MIN_ONNX_OPSET: u16 = 7;

pub type ModelName = BoundedVec<u8, ConstU32<MAX_MODEL_NAME_LEN>>;
pub type ModelVersion = BoundedVec<u8, ConstU32<MAX_MODEL_VERSION_LEN>>;
pub type Description = BoundedVec<u8, ConstU32<MAX_DESCRIPTION_LEN>>;
pub type TensorSpecs = BoundedVec<TensorSpec, ConstU32<MAX_MODEL_TENSORS>>;
pub type Uri = BoundedVec<u8, ConstU32<MAX_URI_LEN>>;

/// The model's file format.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub enum ModelFormat {
	/// ONNX, with the default-domain opset the model imports.
	Onnx { opset: u16 },
}

/// Where a model's bytes live.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub enum ModelHosting {
	/// Uploaded to the chain in chunks (`upload_chunk`); `size` bytes in all.
	OnChain { size: u32 },
	/// Downloaded by validators from any of `uris`; the content must hash to the model id.
	Uris { size: u64, uris: BoundedVec<Uri, ConstU32<MAX_URIS>> },
}

impl ModelHosting {
	/// The model's size in bytes.
	pub fn size(&self) -> u64 {
		match self {
			Self::OnChain { size } => u64::from(*size),
			Self::Uris { size, .. } => *size,
		}
	}
}

/// What one inference of a model may use, as its owner declares it for the reference validator
/// (the chain's `MaxModelCpuMillis` and `MaxModelMemoryMib` bound both). Executors stop an
/// inference that goes past either and report a resource failure (`Timeout`, `OutOfMemory`),
/// which is settled apart from other outcomes.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ModelLimits {
	/// CPU time of one inference in milliseconds, loading the model not included. Declare about
	/// ten times what it takes on your machine: a run that goes over on a slower validator is a
	/// disagreement.
	pub cpu_millis: u32,
	/// Memory one inference may allocate, in MiB, loading the model (its session) included.
	pub memory_mib: u32,
}

impl ModelLimits {
	/// Memory in bytes.
	pub const fn memory_bytes(&self) -> u64 {
		self.memory_mib as u64 * 1024 * 1024
	}
}

/// What a model owner declares about a model.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ModelMetadata<Balance> {
	/// With the owner, names the model's family; versions of a family share it.
	pub name: ModelName,
	/// Unique within the family.
	pub version: ModelVersion,
	pub description: Description,
	pub format: ModelFormat,
	pub inputs: TensorSpecs,
	pub outputs: TensorSpecs,
	/// Decimals float outputs keep in the canonical outcome (0 to 18).
	pub output_decimals: u8,
	/// Largest difference, in units of the last kept decimal, at which two revealed outputs
	/// still count as agreeing when no result hash reaches a quorum.
	pub tolerance: u64,
	/// Paid to the owner for each inference.
	pub fee: Balance,
	pub hosting: ModelHosting,
	/// What one inference may use.
	pub limits: ModelLimits,
}

/// Where a model is in its life.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ModelStatus {
	/// Registered on-chain-hosted model whose chunks are still arriving: not runnable yet.
	Uploading,
	/// Runnable.
	Active,
	/// Still runnable, but its owner flags it as outdated.
	Deprecated,
	/// Not runnable; its chunks are deleted and its deposit released. Final.
	Retired,
}

impl ModelStatus {
	/// Whether jobs may run the model.
	pub fn is_runnable(self) -> bool {
		matches!(self, Self::Active | Self::Deprecated)
	}
}

/// A registered model.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ModelRecord<AccountId, Balance, BlockNumber> {
	pub owner: AccountId,
	/// Who paid the deposit (the first owner); it is released to them.
	pub depositor: AccountId,
	pub deposit: Balance,
	pub metadata: ModelMetadata<Balance>,
	pub status: ModelStatus,
	/// Chunks received so far (on-chain hosting while uploading).
	pub chunks_received: u32,
	pub registered_at: BlockNumber,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Look up registered models.
	pub trait ModelRegistryApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The model with this id.
		fn model(id: ModelId) -> Option<ModelRecord<AccountId, Balance, BlockNumber>>;
		/// The versions of the family (`owner`, `name`), oldest first.
		fn versions(owner: AccountId, name: Vec<u8>) -> Vec<ModelId>;
		/// The newest version of the family (`owner`, `name`).
		fn latest(owner: AccountId, name: Vec<u8>) -> Option<ModelId>;
		/// Every model `owner` owns.
		fn models_by_owner(owner: AccountId) -> Vec<ModelId>;
		/// Chunk `index` of an on-chain-hosted model.
		fn chunk(id: ModelId, index: u32) -> Option<Vec<u8>>;
	}
}

/// What a jobs pallet needs to know about a runnable model.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RunnableModel<AccountId, Balance> {
	pub owner: AccountId,
	pub fee: Balance,
	pub inputs: TensorSpecs,
	pub output_decimals: u8,
	pub tolerance: u64,
	pub limits: ModelLimits,
}

/// Why a model cannot be run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelUnavailable {
	/// No model has this id.
	NotFound,
	/// The model is uploading or retired.
	NotRunnable,
}

/// Looks up runnable models (implemented by the model registry).
pub trait ModelLookup<AccountId, Balance> {
	fn runnable(id: &ModelId) -> Result<RunnableModel<AccountId, Balance>, ModelUnavailable>;

	/// A job on the model was settled; `resource_failure` tells whether a quorum found that it
	/// ran out of its declared resources. The registry deprecates a model whose jobs keep doing
	/// so. Runs in the settling pallet's weight: one read and one write.
	fn job_settled(id: &ModelId, resource_failure: bool);
}
