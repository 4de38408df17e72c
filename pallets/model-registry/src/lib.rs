//! # Model registry pallet
//!
//! Model owners publish ONNX models on Verity; validators fetch them by content hash; dApps look
//! them up before paying for a job.
//!
//! A model's id is `blake2_256` of its bytes. Its owner is the first account to claim it and
//! then register it (see "Who owns a model id" below). The owner registers it with its metadata
//! ([`ModelMetadata`]: name and version, description, format, input and output specs,
//! `output_decimals`, comparison tolerance, fee per inference) and says where its bytes live:
//!
//! - **on chain**: the owner uploads the bytes with [`Pallet::upload_chunk`], in chunks of
//!   [`Config::ChunkSize`] bytes, in any order. When the last chunk lands, the runtime hashes the
//!   assembled bytes: if they match the id the model is `Active` ([`Event::ModelReady`]); if not,
//!   every chunk is removed ([`Event::UploadRejected`]) and the owner may upload again. Bytes
//!   that are not an ONNX protobuf, or that keep a tensor's data in an external file, are
//!   refused the same way ([`Event::ModelRefused`]): a model is only its bytes.
//! - **by URI**: validators download the bytes from one of up to four HTTP(S) URIs and check them
//!   against the id themselves. Such a model is `Active` at once. Models larger than
//!   [`Config::MaxOnChainModelSize`] can only be hosted this way.
//!
//! Every model declares its limits ([`ModelLimits`]: CPU time and memory of one inference on
//! the reference validator, within [`Config::MaxModelCpuMillis`] and
//! [`Config::MaxModelMemoryMib`]). Executors stop an inference there and report a resource
//! failure; a model whose jobs end that way [`Config::ResourceFailuresToDeprecate`] times in a
//! row is deprecated ([`Event::DeprecatedForResources`]), which its owner may undo.
//!
//! [`ModelLimits`]: verity_primitives::model::ModelLimits
//!
//! Registering holds a deposit from the owner (through fungible holds):
//! `DepositBase + DepositPerByte × (encoded metadata bytes + on-chain model bytes)`. Retiring
//! deletes the chunks and releases their part; the record stays (jobs and dApps can still read
//! what the model was) with the rest held, until the owner removes it ([`Pallet::remove_model`]),
//! which releases it to whoever paid it and frees the id.
//!
//! ## Who owns a model id
//!
//! An id names bytes, not an author: the first account to register it owns it. So that no one
//! can take an id by seeing it in a registration waiting in the transaction pool and sending
//! their own first, registration takes two steps. [`Pallet::claim_model`] holds
//! [`Config::ClaimDeposit`] against a commitment, `blake2_256("verity/model-claim" ++ id ++
//! account)`, which shows neither the id nor anything derived from it alone; at least
//! [`Config::ClaimDelay`] blocks later, [`Pallet::register_model`] names the id, and is refused
//! without a claim of the caller's that old ([`Error::ClaimNotFound`], [`Error::ClaimTooRecent`]).
//! Someone who learns the id from the registration can claim it only then, and must keep the
//! registration out of `ClaimDelay` blocks in a row to register first: by authoring them (Aura
//! gives slots in turn, so only when the other validators miss theirs, or on a chain of one or
//! two validators), or by filling them with better-paying transactions, which costs three
//! blocks' worth of fees. A registration that fails on chain (another error, a claim that a
//! reorganisation made younger) shows the id too: register again at once. The claim's deposit
//! comes back at registration, or with [`Pallet::drop_claim`]. A registration is checked for
//! its own errors before its claim, so that it fails for what is wrong with it.
//!
//! What this does not stop: registering bytes someone else published first (a public model
//! is anyone's to register once), and a URI-hosted model whose URIs serve nothing: it is
//! `Active` at once, and no one else can register its id until its owner retires and removes
//! it (or root retires and removes it). Its jobs fail for want of commits, and the requester is refunded.
//!
//! ## Calls
//!
//! - [`Pallet::claim_model`], [`Pallet::drop_claim`], [`Pallet::register_model`],
//!   [`Pallet::upload_chunk`]
//! - [`Pallet::set_status`]: `Active` ⇄ `Deprecated` (still runnable, flagged), and `Retired`
//!   (not runnable, chunks deleted and their deposit released; final).
//! - [`Pallet::remove_model`]: a retired model's record goes, with the rest of its deposit.
//! - [`Pallet::set_fee`], [`Pallet::transfer_ownership`]
//! - [`Pallet::force_retire`]: for [`Config::ForceOrigin`] (root on Verity's chains).
//!
//! ## Versions
//!
//! A family is (owner, name). Its versions are kept in registration order in [`Families`]; the
//! newest is the last one. Version strings are unique within a family.
//!
//! ## Example
//!
//! With polkadot.js:
//!
//! ```js
//! // The claim: the commitment to (id, owner), then ClaimDelay blocks.
//! const commitment = blake2AsU8a(u8aConcat(stringToU8a("verity/model-claim"), id, owner.publicKey));
//! await api.tx.modelRegistry.claimModel(commitment).signAndSend(owner);
//! // ... ClaimDelay blocks later:
//! await api.tx.modelRegistry.registerModel(id, {
//!   name: "mlp", version: "1.0.0", description: "iris classifier",
//!   format: { Onnx: { opset: 17 } },
//!   inputs: [{ name: "x", dtype: "F32", shape: [{ Dynamic: null }, { Fixed: 4 }] }],
//!   outputs: [{ name: "probabilities", dtype: "F32", shape: [{ Dynamic: null }, { Fixed: 3 }] }],
//!   outputDecimals: 6, tolerance: 2, fee: 1_000_000_000n,
//!   hosting: { OnChain: { size: bytes.length } },
//! }).signAndSend(owner);
//! ```
//!
//! `scripts/upload-model.js` does this and uploads the chunks.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
use polkadot_sdk::{frame_support, frame_system};
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::WeightInfo;
	use super::{frame_support, frame_system};
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use polkadot_sdk::{sp_io, sp_runtime};
	use sp_runtime::{
		traits::{SaturatedConversion, Saturating, Zero},
		DispatchResult,
	};
	use verity_primitives::{
		canonical::MAX_OUTPUT_DECIMALS,
		model::{
			ModelHosting, ModelLookup, ModelMetadata, ModelName, ModelRecord, ModelStatus,
			ModelUnavailable, ModelVersion, RunnableModel, MAX_ONNX_OPSET, MIN_ONNX_OPSET,
		},
		onnx::{check_model, ModelCheckError},
		tensor::{Dim, TensorSpec},
		ModelId,
	};

	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	pub type MetadataOf<T> = ModelMetadata<BalanceOf<T>>;
	pub type RecordOf<T> =
		ModelRecord<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type ChunkOf<T> = BoundedVec<u8, <T as Config>::ChunkSize>;
	pub type VersionsOf<T> = BoundedVec<(ModelVersion, ModelId), <T as Config>::MaxVersions>;
	pub type ClaimOf<T> =
		Claim<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

	/// A claim of a model id ([`Pallet::claim_model`]): who made it, what it holds, and the block
	/// it was made at.
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
	)]
	pub struct Claim<AccountId, Balance, BlockNumber> {
		pub who: AccountId,
		pub deposit: Balance,
		pub at: BlockNumber,
	}

	/// The in-code storage version: 1 added models' declared limits
	/// ([`crate::migrations::v1`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;
		/// Holds model deposits.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		type RuntimeHoldReason: From<HoldReason>;
		/// May retire any model.
		type ForceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Deposit held for every model.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;
		/// Deposit held per byte of metadata and of on-chain model bytes.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;
		/// Size of every on-chain chunk but the last, and the most any chunk holds.
		#[pallet::constant]
		type ChunkSize: Get<u32>;
		/// Largest model hosted on chain; larger ones must be hosted by URI.
		#[pallet::constant]
		type MaxOnChainModelSize: Get<u32>;
		/// Largest model hosted by URI.
		#[pallet::constant]
		type MaxUriModelSize: Get<u64>;
		/// Most versions one family (owner, name) holds.
		#[pallet::constant]
		type MaxVersions: Get<u32>;
		/// Most CPU time (ms) a model may declare for one inference: what the reference
		/// validator gives a job.
		#[pallet::constant]
		type MaxModelCpuMillis: Get<u32>;
		/// Most memory (MiB) a model may declare for one inference; validators' inference
		/// workers allow at least this much.
		#[pallet::constant]
		type MaxModelMemoryMib: Get<u32>;
		/// Resource failures in a row after which a model is deprecated.
		#[pallet::constant]
		type ResourceFailuresToDeprecate: Get<u32>;
		/// Blocks a claim waits before the id it commits to can be registered: more blocks in a
		/// row than any one author produces, so that no one who sees a registration in the pool
		/// can claim and register its id first.
		#[pallet::constant]
		type ClaimDelay: Get<BlockNumberFor<Self>>;
		/// Held for each claim until it is used or dropped.
		#[pallet::constant]
		type ClaimDeposit: Get<BalanceOf<Self>>;
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a registered model.
		ModelDeposit,
		/// The deposit of a claim not yet used ([`Pallet::claim_model`]).
		ClaimDeposit,
	}

	/// Registered models by id. The id is chosen by the caller (it claims the hash), hence the
	/// hashing key hasher.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, RecordOf<T>>;

	/// The chunks of on-chain-hosted models: (model, chunk index) → bytes.
	#[pallet::storage]
	pub type Chunks<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, ModelId, Twox64Concat, u32, ChunkOf<T>>;

	/// The versions of each family (owner, name), oldest first.
	#[pallet::storage]
	pub type Families<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		ModelName,
		VersionsOf<T>,
		ValueQuery,
	>;

	/// The models each account owns.
	#[pallet::storage]
	pub type ModelsByOwner<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, ModelId, ()>;

	/// Claims of model ids not registered yet, by claimant and commitment
	/// ([`Pallet::claim_commitment`]). Keyed by the claimant too, so that no one can occupy
	/// another account's commitment.
	#[pallet::storage]
	pub type Claims<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, [u8; 32], ClaimOf<T>>;

	/// Jobs in a row that ended in a resource failure, per model (absent: none since its last
	/// other outcome). Keyed like [`Models`].
	#[pallet::storage]
	pub type ResourceFailures<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, u32>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered; on-chain-hosted models await their chunks.
		ModelRegistered {
			model: ModelId,
			owner: T::AccountId,
			name: ModelName,
			version: ModelVersion,
			deposit: BalanceOf<T>,
		},
		/// A chunk of an on-chain-hosted model arrived.
		ChunkUploaded { model: ModelId, index: u32, received: u32, total: u32 },
		/// The model's bytes are complete and match its id (or it is hosted by URI): it is
		/// runnable.
		ModelReady { model: ModelId },
		/// The uploaded bytes hash to `found`, not to the model id: every chunk was removed.
		UploadRejected { model: ModelId, found: ModelId },
		/// The uploaded bytes match the id but are not a model validators may run: every chunk
		/// was removed. Retire the model to get the deposit back.
		ModelRefused { model: ModelId, reason: Refusal },
		/// The model's jobs ran out of its declared resources `failures` times in a row: it is
		/// deprecated (its owner may declare more and set it `Active` again).
		DeprecatedForResources { model: ModelId, failures: u32 },
		/// The owner changed the model's status.
		StatusChanged { model: ModelId, status: ModelStatus },
		/// The model was retired (by its owner, or `forced`): its chunks are gone and their part
		/// of the deposit (`released`) went back; the record's part stays held until
		/// [`Pallet::remove_model`].
		ModelRetired { model: ModelId, released: BalanceOf<T>, forced: bool },
		/// The fee per inference changed.
		FeeChanged { model: ModelId, fee: BalanceOf<T> },
		/// The model has a new owner.
		OwnershipTransferred { model: ModelId, from: T::AccountId, to: T::AccountId },
		/// `who` claimed the id behind `commitment`; it can register it from block `from`.
		ModelClaimed { commitment: [u8; 32], who: T::AccountId, from: BlockNumberFor<T> },
		/// A claim was dropped by its maker; its deposit went back.
		ClaimDropped { commitment: [u8; 32] },
		/// A retired model's record was removed (by its owner, or `forced`) and the rest of its
		/// deposit went back; the id can be registered again.
		ModelRemoved { model: ModelId, released: BalanceOf<T>, forced: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A model with this id is registered already (ids are content hashes: the same bytes
		/// cannot be registered twice, nor after retirement until the record is removed).
		ModelAlreadyRegistered,
		/// No model has this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotOwner,
		/// The model name is empty.
		EmptyName,
		/// The version string is empty.
		EmptyVersion,
		/// The family (owner, name) already has this version.
		VersionExists,
		/// The family (owner, name) has `MaxVersions` versions: retire-proof history is full;
		/// use a new name.
		TooManyVersions,
		/// `output_decimals` is above 18.
		InvalidDecimals,
		/// The ONNX opset is outside the supported range (7 to 23).
		UnsupportedOpset,
		/// The model declares no inputs.
		NoInputs,
		/// The model declares no outputs.
		NoOutputs,
		/// An input or output has an empty name.
		EmptyTensorName,
		/// Two inputs, or two outputs, share a name.
		DuplicateTensorName,
		/// A tensor spec has a fixed dimension of size 0.
		ZeroDimension,
		/// The declared size is 0.
		EmptyModel,
		/// The on-chain size is above `MaxOnChainModelSize`: host it by URI.
		ModelTooLargeForChain,
		/// The size is above `MaxUriModelSize`.
		ModelTooLarge,
		/// A URI-hosted model lists no URI.
		NoUris,
		/// A URI is not an `http://` or `https://` URI.
		InvalidUri,
		/// The deposit cannot be held: the owner's free balance is too low.
		InsufficientDeposit,
		/// The model is not awaiting chunks (it is hosted by URI, complete, or retired).
		NotUploading,
		/// The chunk index is past the model's last chunk.
		ChunkIndexOutOfRange,
		/// Every chunk but the last holds exactly `ChunkSize` bytes; the last holds the rest.
		WrongChunkSize,
		/// This chunk was uploaded already.
		ChunkAlreadyUploaded,
		/// The model is retired: nothing about it can change.
		ModelIsRetired,
		/// That status cannot follow the current one (`Uploading` is set by the chain, and
		/// `Retired` is final).
		InvalidStatusTransition,
		/// The model already has that status.
		StatusUnchanged,
		/// The new owner is the current owner.
		AlreadyOwner,
		/// The declared limits are zero, or above `MaxModelCpuMillis` or `MaxModelMemoryMib`.
		InvalidLimits,
		/// No claim of the caller's commits to this id (or to this commitment):
		/// `claim_model` first.
		ClaimNotFound,
		/// The claim is younger than `ClaimDelay` blocks.
		ClaimTooRecent,
		/// The caller has claimed this commitment already.
		ClaimExists,
		/// Only a retired model's record can be removed.
		NotRetired,
	}

	/// Why uploaded bytes are refused.
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
	pub enum Refusal {
		/// They are not an ONNX protobuf (or nest messages too deeply).
		NotOnnx,
		/// A tensor keeps its data in an external file.
		ExternalData,
	}

	/// Models in the genesis state: owner, metadata and bytes. Their deposits are held from the
	/// owners, who must be endowed.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		pub models: Vec<GenesisModel<T::AccountId, BalanceOf<T>>>,
	}

	/// A model in the genesis config; `bytes` is hex in JSON.
	#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
	#[serde(rename_all = "camelCase")]
	pub struct GenesisModel<AccountId, Balance> {
		pub owner: AccountId,
		pub metadata: ModelMetadata<Balance>,
		#[serde(with = "polkadot_sdk::sp_core::bytes")]
		pub bytes: Vec<u8>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for model in &self.models {
				let id = sp_io::hashing::blake2_256(&model.bytes);
				let hosting_size = model.metadata.hosting.size();
				assert_eq!(hosting_size, model.bytes.len() as u64, "genesis model size");
				Pallet::<T>::do_register(model.owner.clone(), id, model.metadata.clone())
					.expect("genesis models are valid and their owners endowed");
				if matches!(model.metadata.hosting, ModelHosting::OnChain { .. }) {
					let chunk = T::ChunkSize::get().max(1) as usize;
					for (index, bytes) in model.bytes.chunks(chunk).enumerate() {
						Pallet::<T>::do_upload_chunk(&model.owner, id, index as u32, bytes)
							.expect("genesis chunks are well formed");
					}
				}
				let status = Models::<T>::get(id).map(|r| r.status);
				assert_eq!(status, Some(ModelStatus::Active), "genesis model bytes match");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::ClaimDelay::get().is_zero(), "a claim waits before its registration");
			assert!(!T::ClaimDeposit::get().is_zero(), "claims are not free storage");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers model `id` (`blake2_256` of its bytes) with its metadata, and holds the
		/// deposit from the caller, who becomes its owner. The caller must have claimed it
		/// ([`Pallet::claim_model`]) at least `ClaimDelay` blocks before; the claim is used up
		/// and its deposit released.
		///
		/// An on-chain-hosted model then awaits its chunks ([`Pallet::upload_chunk`]); a
		/// URI-hosted one is runnable at once.
		///
		/// Errors: [`Error::ClaimNotFound`], [`Error::ClaimTooRecent`],
		/// [`Error::ModelAlreadyRegistered`], the metadata errors
		/// ([`Error::EmptyName`] … [`Error::InvalidUri`]), [`Error::VersionExists`],
		/// [`Error::TooManyVersions`], [`Error::InsufficientDeposit`].
		///
		/// Events: [`Event::ModelRegistered`], and [`Event::ModelReady`] for URI hosting.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(
			origin: OriginFor<T>,
			id: ModelId,
			metadata: MetadataOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			// The registration's own errors first: a call that would fail anyway is refused
			// for what is wrong with it, whatever the claim.
			ensure!(!Models::<T>::contains_key(id), Error::<T>::ModelAlreadyRegistered);
			Self::check_metadata(&metadata)?;
			Self::take_claim(&who, &id)?;
			Self::do_register(who, id, metadata)
		}

		/// Stores chunk `index` of an on-chain-hosted model. Origin: the owner. Chunks may
		/// arrive in any order; each once. With the last one the runtime hashes the assembled
		/// bytes: a match makes the model `Active`; a mismatch removes every chunk.
		///
		/// Errors: [`Error::ModelNotFound`], [`Error::NotOwner`], [`Error::NotUploading`],
		/// [`Error::ChunkIndexOutOfRange`], [`Error::WrongChunkSize`],
		/// [`Error::ChunkAlreadyUploaded`].
		///
		/// Events: [`Event::ChunkUploaded`], then [`Event::ModelReady`] or
		/// [`Event::UploadRejected`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::upload_chunk().max(
			T::WeightInfo::upload_last_chunk(Pallet::<T>::max_chunks())
		))]
		pub fn upload_chunk(
			origin: OriginFor<T>,
			model: ModelId,
			index: u32,
			bytes: ChunkOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let chunks = Self::do_upload_chunk(&who, model, index, &bytes)?;
			Ok(Some(match chunks {
				Some(total) => T::WeightInfo::upload_last_chunk(total),
				None => T::WeightInfo::upload_chunk(),
			})
			.into())
		}

		/// Sets the model's status. Origin: the owner. `Active` ⇄ `Deprecated`; either (or
		/// `Uploading`) → `Retired`, which deletes the chunks and releases their part of the
		/// deposit (the rest with [`Pallet::remove_model`]).
		///
		/// Errors: [`Error::ModelNotFound`], [`Error::NotOwner`], [`Error::ModelIsRetired`],
		/// [`Error::InvalidStatusTransition`], [`Error::StatusUnchanged`].
		///
		/// Events: [`Event::StatusChanged`], and [`Event::ModelRetired`] on retirement.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_status().max(
			T::WeightInfo::retire(Pallet::<T>::max_chunks())
		))]
		pub fn set_status(
			origin: OriginFor<T>,
			model: ModelId,
			status: ModelStatus,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned(&who, &model)?;
			ensure!(record.status != status, Error::<T>::StatusUnchanged);
			match status {
				ModelStatus::Retired => {
					let chunks = Self::do_retire(model, record, false);
					Ok(Some(T::WeightInfo::retire(chunks)).into())
				},
				ModelStatus::Active | ModelStatus::Deprecated => {
					ensure!(record.status.is_runnable(), Error::<T>::InvalidStatusTransition);
					record.status = status;
					Models::<T>::insert(model, record);
					Self::deposit_event(Event::StatusChanged { model, status });
					Ok(Some(T::WeightInfo::set_status()).into())
				},
				ModelStatus::Uploading => Err(Error::<T>::InvalidStatusTransition.into()),
			}
		}

		/// Sets the fee per inference. Origin: the owner.
		///
		/// Errors: [`Error::ModelNotFound`], [`Error::NotOwner`], [`Error::ModelIsRetired`].
		///
		/// Events: [`Event::FeeChanged`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_fee())]
		pub fn set_fee(origin: OriginFor<T>, model: ModelId, fee: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned(&who, &model)?;
			record.metadata.fee = fee;
			Models::<T>::insert(model, record);
			Self::deposit_event(Event::FeeChanged { model, fee });
			Ok(())
		}

		/// Gives the model to `new_owner`: it moves to the family (`new_owner`, name). The
		/// deposit stays with whoever paid it. Origin: the owner.
		///
		/// Errors: [`Error::ModelNotFound`], [`Error::NotOwner`], [`Error::ModelIsRetired`],
		/// [`Error::AlreadyOwner`], [`Error::VersionExists`], [`Error::TooManyVersions`].
		///
		/// Events: [`Event::OwnershipTransferred`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::transfer_ownership())]
		pub fn transfer_ownership(
			origin: OriginFor<T>,
			model: ModelId,
			new_owner: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned(&who, &model)?;
			ensure!(new_owner != who, Error::<T>::AlreadyOwner);
			let name = record.metadata.name.clone();
			let version = record.metadata.version.clone();
			let mut target = Families::<T>::get(&new_owner, &name);
			ensure!(!target.iter().any(|(v, _)| *v == version), Error::<T>::VersionExists);
			target.try_push((version, model)).map_err(|_| Error::<T>::TooManyVersions)?;
			Families::<T>::insert(&new_owner, &name, target);
			Self::leave_family(&who, &name, model);
			ModelsByOwner::<T>::insert(&new_owner, model, ());
			record.owner = new_owner.clone();
			Models::<T>::insert(model, record);
			Self::deposit_event(Event::OwnershipTransferred { model, from: who, to: new_owner });
			Ok(())
		}

		/// Retires any model: chunks deleted and their part of the deposit released (the
		/// record's part when it is removed). Origin: `ForceOrigin`.
		///
		/// Errors: [`Error::ModelNotFound`], [`Error::ModelIsRetired`].
		///
		/// Events: [`Event::StatusChanged`], [`Event::ModelRetired`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::retire(Pallet::<T>::max_chunks()))]
		pub fn force_retire(origin: OriginFor<T>, model: ModelId) -> DispatchResultWithPostInfo {
			T::ForceOrigin::ensure_origin(origin)?;
			let record = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(record.status != ModelStatus::Retired, Error::<T>::ModelIsRetired);
			let chunks = Self::do_retire(model, record, true);
			Ok(Some(T::WeightInfo::retire(chunks)).into())
		}

		/// Claims the model id behind `commitment`
		/// ([`Pallet::claim_commitment`]`(id, caller)`), holding [`Config::ClaimDeposit`] until
		/// the claim is used by [`Pallet::register_model`], at least `ClaimDelay` blocks from
		/// now, or dropped.
		///
		/// Errors: [`Error::ClaimExists`], [`Error::InsufficientDeposit`].
		///
		/// Events: [`Event::ModelClaimed`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::claim_model())]
		pub fn claim_model(origin: OriginFor<T>, commitment: [u8; 32]) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Claims::<T>::contains_key(&who, commitment), Error::<T>::ClaimExists);
			let deposit = T::ClaimDeposit::get();
			T::Currency::hold(&HoldReason::ClaimDeposit.into(), &who, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;
			let at = frame_system::Pallet::<T>::block_number();
			Claims::<T>::insert(&who, commitment, Claim { who: who.clone(), deposit, at });
			let from = at.saturating_add(T::ClaimDelay::get());
			Self::deposit_event(Event::ModelClaimed { commitment, who, from });
			Ok(())
		}

		/// Drops the caller's claim `commitment` and releases its deposit.
		///
		/// Errors: [`Error::ClaimNotFound`].
		///
		/// Events: [`Event::ClaimDropped`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::drop_claim())]
		pub fn drop_claim(origin: OriginFor<T>, commitment: [u8; 32]) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let claim = Claims::<T>::get(&who, commitment).ok_or(Error::<T>::ClaimNotFound)?;
			Self::release_claim(commitment, claim);
			Self::deposit_event(Event::ClaimDropped { commitment });
			Ok(())
		}

		/// Removes a retired model's record, its place in its family and its owner's list, and
		/// releases the rest of its deposit to whoever paid it; the id can then be registered
		/// again (by a new claim). Origin: the owner, whoever paid the deposit (after a
		/// transfer, the first owner), or `ForceOrigin` for any retired model.
		///
		/// Errors: [`Error::ModelNotFound`], [`Error::NotOwner`], [`Error::NotRetired`].
		///
		/// Events: [`Event::ModelRemoved`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::remove_model())]
		pub fn remove_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let caller = match T::ForceOrigin::try_origin(origin) {
				Ok(_) => None,
				Err(origin) => Some(ensure_signed(origin)?),
			};
			let record = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
			if let Some(who) = &caller {
				ensure!(record.owner == *who || record.depositor == *who, Error::<T>::NotOwner);
			}
			ensure!(record.status == ModelStatus::Retired, Error::<T>::NotRetired);
			Models::<T>::remove(model);
			Self::leave_family(&record.owner, &record.metadata.name, model);
			ResourceFailures::<T>::remove(model);
			let released = T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&record.depositor,
				record.deposit,
				Precision::BestEffort,
			)
			.unwrap_or_else(|_| Zero::zero());
			Self::deposit_event(Event::ModelRemoved { model, released, forced: caller.is_none() });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Most chunks an on-chain model has.
		pub fn max_chunks() -> u32 {
			Self::chunk_count(T::MaxOnChainModelSize::get())
		}

		/// What a claim of model `id` by `who` commits to: `blake2_256` of
		/// `"verity/model-claim" ++ id ++ who` (SCALE: the account's bytes as they are).
		pub fn claim_commitment(id: &ModelId, who: &T::AccountId) -> [u8; 32] {
			sp_io::hashing::blake2_256(&(b"verity/model-claim", id, who).encode())
		}

		/// Uses up `who`'s claim of `id`, which must be at least `ClaimDelay` blocks old.
		fn take_claim(who: &T::AccountId, id: &ModelId) -> DispatchResult {
			let commitment = Self::claim_commitment(id, who);
			let claim = Claims::<T>::get(who, commitment).ok_or(Error::<T>::ClaimNotFound)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				now >= claim.at.saturating_add(T::ClaimDelay::get()),
				Error::<T>::ClaimTooRecent
			);
			Self::release_claim(commitment, claim);
			Ok(())
		}

		fn release_claim(commitment: [u8; 32], claim: ClaimOf<T>) {
			Claims::<T>::remove(&claim.who, commitment);
			let released = T::Currency::release(
				&HoldReason::ClaimDeposit.into(),
				&claim.who,
				claim.deposit,
				Precision::BestEffort,
			);
			if released.is_err() {
				defensive!("a claim's deposit is held until the claim is used or dropped");
			}
		}

		/// The part of a model's deposit that pays for its record (what stays held once it is
		/// retired and its chunks are gone): `DepositBase` and its encoded metadata's bytes.
		pub fn record_deposit(metadata: &MetadataOf<T>) -> BalanceOf<T> {
			T::DepositBase::get().saturating_add(
				T::DepositPerByte::get().saturating_mul(metadata.encoded_size().saturated_into()),
			)
		}

		/// Chunks of a model of `size` bytes.
		pub fn chunk_count(size: u32) -> u32 {
			size.div_ceil(T::ChunkSize::get().max(1))
		}

		/// The deposit for a model with this metadata.
		pub fn deposit_for(metadata: &MetadataOf<T>) -> BalanceOf<T> {
			let on_chain = match metadata.hosting {
				ModelHosting::OnChain { size } => size,
				ModelHosting::Uris { .. } => 0,
			};
			Self::record_deposit(metadata)
				.saturating_add(T::DepositPerByte::get().saturating_mul(on_chain.into()))
		}

		/// Takes `model` out of `owner`'s family `name` (the family goes when it is empty) and
		/// out of `owner`'s models.
		fn leave_family(owner: &T::AccountId, name: &ModelName, model: ModelId) {
			Families::<T>::mutate_exists(owner, name, |versions| {
				if let Some(list) = versions {
					list.retain(|(_, id)| *id != model);
					if list.is_empty() {
						*versions = None;
					}
				}
			});
			ModelsByOwner::<T>::remove(owner, model);
		}

		/// The record of `model` if `who` owns it and it is not retired.
		fn owned(who: &T::AccountId, model: &ModelId) -> Result<RecordOf<T>, DispatchError> {
			let record = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(record.owner == *who, Error::<T>::NotOwner);
			ensure!(record.status != ModelStatus::Retired, Error::<T>::ModelIsRetired);
			Ok(record)
		}

		fn check_specs(specs: &[TensorSpec], none: Error<T>) -> DispatchResult {
			ensure!(!specs.is_empty(), none);
			for (i, spec) in specs.iter().enumerate() {
				ensure!(!spec.name.is_empty(), Error::<T>::EmptyTensorName);
				ensure!(
					!specs[..i].iter().any(|earlier| earlier.name == spec.name),
					Error::<T>::DuplicateTensorName
				);
				ensure!(!spec.shape.contains(&Dim::Fixed(0)), Error::<T>::ZeroDimension);
			}
			Ok(())
		}

		/// Checks metadata on its own (not against existing models).
		pub fn check_metadata(metadata: &MetadataOf<T>) -> DispatchResult {
			ensure!(!metadata.name.is_empty(), Error::<T>::EmptyName);
			ensure!(!metadata.version.is_empty(), Error::<T>::EmptyVersion);
			ensure!(metadata.output_decimals <= MAX_OUTPUT_DECIMALS, Error::<T>::InvalidDecimals);
			let limits = metadata.limits;
			ensure!(
				(1..=T::MaxModelCpuMillis::get()).contains(&limits.cpu_millis)
					&& (1..=T::MaxModelMemoryMib::get()).contains(&limits.memory_mib),
				Error::<T>::InvalidLimits
			);
			let verity_primitives::model::ModelFormat::Onnx { opset } = metadata.format;
			ensure!(
				(MIN_ONNX_OPSET..=MAX_ONNX_OPSET).contains(&opset),
				Error::<T>::UnsupportedOpset
			);
			Self::check_specs(&metadata.inputs, Error::<T>::NoInputs)?;
			Self::check_specs(&metadata.outputs, Error::<T>::NoOutputs)?;
			match &metadata.hosting {
				ModelHosting::OnChain { size } => {
					ensure!(*size > 0, Error::<T>::EmptyModel);
					ensure!(
						*size <= T::MaxOnChainModelSize::get(),
						Error::<T>::ModelTooLargeForChain
					);
				},
				ModelHosting::Uris { size, uris } => {
					ensure!(*size > 0, Error::<T>::EmptyModel);
					ensure!(*size <= T::MaxUriModelSize::get(), Error::<T>::ModelTooLarge);
					ensure!(!uris.is_empty(), Error::<T>::NoUris);
					for uri in uris {
						let scheme_len = if uri.starts_with(b"https://") {
							8
						} else if uri.starts_with(b"http://") {
							7
						} else {
							return Err(Error::<T>::InvalidUri.into());
						};
						ensure!(
							uri.len() > scheme_len && uri.iter().all(|b| b.is_ascii_graphic()),
							Error::<T>::InvalidUri
						);
					}
				},
			}
			Ok(())
		}

		pub(crate) fn do_register(
			who: T::AccountId,
			id: ModelId,
			metadata: MetadataOf<T>,
		) -> DispatchResult {
			ensure!(!Models::<T>::contains_key(id), Error::<T>::ModelAlreadyRegistered);
			Self::check_metadata(&metadata)?;
			let mut versions = Families::<T>::get(&who, &metadata.name);
			ensure!(
				!versions.iter().any(|(v, _)| *v == metadata.version),
				Error::<T>::VersionExists
			);
			versions
				.try_push((metadata.version.clone(), id))
				.map_err(|_| Error::<T>::TooManyVersions)?;
			let deposit = Self::deposit_for(&metadata);
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &who, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;

			let status = match metadata.hosting {
				ModelHosting::OnChain { .. } => ModelStatus::Uploading,
				ModelHosting::Uris { .. } => ModelStatus::Active,
			};
			Families::<T>::insert(&who, &metadata.name, versions);
			ModelsByOwner::<T>::insert(&who, id, ());
			let (name, version) = (metadata.name.clone(), metadata.version.clone());
			Models::<T>::insert(
				id,
				ModelRecord {
					owner: who.clone(),
					depositor: who.clone(),
					deposit,
					metadata,
					status,
					chunks_received: 0,
					registered_at: frame_system::Pallet::<T>::block_number(),
				},
			);
			Self::deposit_event(Event::ModelRegistered {
				model: id,
				owner: who,
				name,
				version,
				deposit,
			});
			if status == ModelStatus::Active {
				Self::deposit_event(Event::ModelReady { model: id });
			}
			Ok(())
		}

		/// Stores a chunk; returns the model's chunk count when this was the last one (and the
		/// assembled bytes were checked).
		pub(crate) fn do_upload_chunk(
			who: &T::AccountId,
			model: ModelId,
			index: u32,
			bytes: &[u8],
		) -> Result<Option<u32>, DispatchError> {
			let mut record = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(record.owner == *who, Error::<T>::NotOwner);
			ensure!(record.status == ModelStatus::Uploading, Error::<T>::NotUploading);
			let ModelHosting::OnChain { size } = record.metadata.hosting else {
				return Err(Error::<T>::NotUploading.into());
			};
			let total = Self::chunk_count(size);
			ensure!(index < total, Error::<T>::ChunkIndexOutOfRange);
			let chunk_size = T::ChunkSize::get();
			let expected = if index + 1 == total {
				size - chunk_size.saturating_mul(total - 1)
			} else {
				chunk_size
			};
			ensure!(bytes.len() as u64 == u64::from(expected), Error::<T>::WrongChunkSize);
			ensure!(!Chunks::<T>::contains_key(model, index), Error::<T>::ChunkAlreadyUploaded);
			let chunk: ChunkOf<T> =
				bytes.to_vec().try_into().map_err(|_| Error::<T>::WrongChunkSize)?;
			Chunks::<T>::insert(model, index, chunk);
			record.chunks_received = record.chunks_received.saturating_add(1);
			let received = record.chunks_received;
			Self::deposit_event(Event::ChunkUploaded { model, index, received, total });
			if received < total {
				Models::<T>::insert(model, record);
				return Ok(None);
			}

			let mut assembled = Vec::with_capacity(size as usize);
			for i in 0..total {
				if let Some(chunk) = Chunks::<T>::get(model, i) {
					assembled.extend_from_slice(&chunk);
				}
			}
			let found = sp_io::hashing::blake2_256(&assembled);
			let refusal = match check_model(&assembled) {
				Ok(()) => None,
				Err(ModelCheckError::ExternalData) => Some(Refusal::ExternalData),
				Err(ModelCheckError::Malformed | ModelCheckError::TooDeep) => {
					Some(Refusal::NotOnnx)
				},
			};
			match (found == model, refusal) {
				(true, None) => {
					record.status = ModelStatus::Active;
					Self::deposit_event(Event::ModelReady { model });
				},
				(true, Some(reason)) => {
					let _ = Chunks::<T>::clear_prefix(model, total, None);
					record.chunks_received = 0;
					Self::deposit_event(Event::ModelRefused { model, reason });
				},
				(false, _) => {
					let _ = Chunks::<T>::clear_prefix(model, total, None);
					record.chunks_received = 0;
					Self::deposit_event(Event::UploadRejected { model, found });
				},
			}
			Models::<T>::insert(model, record);
			Ok(Some(total))
		}

		/// Retires a model: its chunks deleted and their part of the deposit released (the
		/// record's part stays held until [`Pallet::remove_model`]). Returns how many chunks it
		/// had room for (for the weight).
		fn do_retire(model: ModelId, mut record: RecordOf<T>, forced: bool) -> u32 {
			let chunks = match record.metadata.hosting {
				ModelHosting::OnChain { size } => Self::chunk_count(size),
				ModelHosting::Uris { .. } => 0,
			};
			if chunks > 0 {
				let _ = Chunks::<T>::clear_prefix(model, chunks, None);
			}
			let kept = record.deposit.min(Self::record_deposit(&record.metadata));
			let released = T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&record.depositor,
				record.deposit.saturating_sub(kept),
				Precision::BestEffort,
			)
			.unwrap_or_else(|_| {
				defensive!("a model's deposit is held until its record is removed");
				Zero::zero()
			});
			record.status = ModelStatus::Retired;
			record.deposit = kept;
			record.chunks_received = 0;
			Models::<T>::insert(model, record);
			Self::deposit_event(Event::StatusChanged { model, status: ModelStatus::Retired });
			Self::deposit_event(Event::ModelRetired { model, released, forced });
			chunks
		}

		/// The model with this id.
		pub fn model(id: ModelId) -> Option<RecordOf<T>> {
			Models::<T>::get(id)
		}

		/// The versions of a family, oldest first.
		pub fn versions(owner: T::AccountId, name: Vec<u8>) -> Vec<ModelId> {
			let Ok(name) = ModelName::try_from(name) else { return Vec::new() };
			Families::<T>::get(owner, name).into_iter().map(|(_, id)| id).collect()
		}

		/// The newest runnable version of a family.
		pub fn latest(owner: T::AccountId, name: Vec<u8>) -> Option<ModelId> {
			Self::versions(owner, name)
				.into_iter()
				.rev()
				.find(|id| Models::<T>::get(id).is_some_and(|record| record.status.is_runnable()))
		}

		/// Every model `owner` owns.
		pub fn models_by_owner(owner: T::AccountId) -> Vec<ModelId> {
			ModelsByOwner::<T>::iter_key_prefix(owner).collect()
		}

		/// Chunk `index` of an on-chain-hosted model.
		pub fn chunk(id: ModelId, index: u32) -> Option<Vec<u8>> {
			Chunks::<T>::get(id, index).map(|chunk| chunk.into_inner())
		}
	}

	impl<T: Config> ModelLookup<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn runnable(
			id: &ModelId,
		) -> Result<RunnableModel<T::AccountId, BalanceOf<T>>, ModelUnavailable> {
			let record = Models::<T>::get(id).ok_or(ModelUnavailable::NotFound)?;
			if !record.status.is_runnable() {
				return Err(ModelUnavailable::NotRunnable);
			}
			let meta = record.metadata;
			Ok(RunnableModel {
				owner: record.owner,
				fee: meta.fee,
				inputs: meta.inputs,
				output_decimals: meta.output_decimals,
				tolerance: meta.tolerance,
				limits: meta.limits,
			})
		}

		fn job_settled(id: &ModelId, resource_failure: bool) {
			if !resource_failure {
				// Read first: most models have no failures to forget, and a read costs less than
				// a write.
				if ResourceFailures::<T>::contains_key(id) {
					ResourceFailures::<T>::remove(id);
				}
				return;
			}
			// A model removed while its jobs were open: no count to carry over to the id if it
			// is registered again. (The record is read below anyway.)
			if !Models::<T>::contains_key(id) {
				return;
			}
			let failures = ResourceFailures::<T>::get(id).unwrap_or(0).saturating_add(1);
			ResourceFailures::<T>::insert(id, failures);
			if failures < T::ResourceFailuresToDeprecate::get() {
				return;
			}
			Models::<T>::mutate(id, |record| {
				if let Some(record) = record.as_mut().filter(|r| r.status == ModelStatus::Active) {
					record.status = ModelStatus::Deprecated;
					Self::deposit_event(Event::StatusChanged {
						model: *id,
						status: ModelStatus::Deprecated,
					});
					Self::deposit_event(Event::DeprecatedForResources { model: *id, failures });
				}
			});
		}
	}
}
