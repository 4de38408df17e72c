//! [`AdmitJobs`]: keeps the `submit_job` transactions a block cannot admit in the pool for a
//! later block.
//!
//! Each block admits jobs up to [`Config::MaxSeatsPerBlock`] committee seats and
//! [`Config::MaxCpuMillisPerBlock`] of declared CPU time (see [`Pallet::submit_job`]). Checked
//! only at dispatch, a submission past the bound would be included and fail (`ChainBusy`),
//! costing its sender a fee for nothing. This extension checks the same bound when the block
//! author tries the transaction: past it, the transaction "exhausts the block's resources", so
//! the author leaves it in the pool, and it is included in the first block with room, at the fee
//! of that block (so `max_fee` decides how long its sender lets it wait).
//!
//! In the pool (validated against the best block, whose admitted load is no longer counted) a
//! submission is valid as any other.

use crate::pallet::*;
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::marker::PhantomData;
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::IsSubType, DefaultNoBound},
	sp_runtime::{
		impl_tx_ext_default,
		traits::{DispatchInfoOf, TransactionExtension, ValidateResult},
		transaction_validity::InvalidTransaction,
	},
};
use verity_primitives::model::ModelLookup;

/// The transaction extension; add it to the runtime's `TxExtension` (it carries no data).
#[derive(Encode, Decode, DecodeWithMemTracking, DefaultNoBound, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct AdmitJobs<T>(PhantomData<T>);

impl<T> AdmitJobs<T> {
	pub fn new() -> Self {
		Self(PhantomData)
	}
}

impl<T> core::fmt::Debug for AdmitJobs<T> {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "AdmitJobs")
	}
}

impl<T: Config + Send + Sync>
	TransactionExtension<<T as polkadot_sdk::frame_system::Config>::RuntimeCall> for AdmitJobs<T>
where
	<T as polkadot_sdk::frame_system::Config>::RuntimeCall: IsSubType<Call<T>>,
{
	const IDENTIFIER: &'static str = "AdmitJobs";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, call: &<T as polkadot_sdk::frame_system::Config>::RuntimeCall) -> Weight {
		match call.is_sub_type() {
			// The block's load and the model (both read again, warm, by the dispatch).
			Some(Call::submit_job { .. }) => T::DbWeight::get().reads(2),
			_ => Weight::zero(),
		}
	}

	fn validate(
		&self,
		origin: <T as polkadot_sdk::frame_system::Config>::RuntimeOrigin,
		call: &<T as polkadot_sdk::frame_system::Config>::RuntimeCall,
		_info: &DispatchInfoOf<<T as polkadot_sdk::frame_system::Config>::RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> ValidateResult<Self::Val, <T as polkadot_sdk::frame_system::Config>::RuntimeCall> {
		if let Some(Call::submit_job { model, committee_size, .. }) = call.is_sub_type() {
			// An unknown model is for the dispatch to refuse, with its own error.
			// So is a job no block could admit, even empty.
			if let Ok(runnable) = T::Models::runnable(model) {
				let cpu = runnable.limits.cpu_millis;
				let fits_a_block = *committee_size <= T::MaxSeatsPerBlock::get()
					&& u64::from(cpu) <= T::MaxCpuMillisPerBlock::get();
				let now = polkadot_sdk::frame_system::Pallet::<T>::block_number();
				if fits_a_block && Pallet::<T>::admit(now, *committee_size, cpu).is_none() {
					return Err(InvalidTransaction::ExhaustsResources.into());
				}
			}
		}
		Ok((Default::default(), (), origin))
	}

	impl_tx_ext_default!(<T as polkadot_sdk::frame_system::Config>::RuntimeCall; prepare);
}
