//! Benchmarks for the governance calls, worst case each: a set of `v` validators, the account
//! added or removed at its end.

use super::pallet::*;
use alloc::vec::Vec;
use codec::Decode;
use polkadot_sdk::frame_support::traits::EnsureOrigin;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{traits::Get, BoundedVec},
	sp_runtime::traits::TrailingZeroInput,
};

/// Session keys for `who`, registered as `session.setKeys` would (their bytes are never used:
/// only their presence is checked).
fn with_keys<T: Config>(who: &AccountIdOf<T>) {
	let keys = <T as pallet_session::Config>::Keys::decode(&mut TrailingZeroInput::zeroes())
		.expect("any bytes decode to keys");
	pallet_session::NextKeys::<T>::insert(who, keys);
}

/// A set of `v` validators with keys.
fn set_of<T: Config>(v: u32) -> Vec<AccountIdOf<T>> {
	let set: Vec<AccountIdOf<T>> = (0..v).map(|i| account("validator", i, 0)).collect();
	set.iter().for_each(with_keys::<T>);
	let bounded: BoundedVec<_, T::MaxValidators> = set.clone().try_into().expect("v <= Max");
	Validators::<T>::put(bounded);
	set
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator(v: Linear<1, { T::MaxValidators::get() - 1 }>) {
		set_of::<T>(v);
		let who: AccountIdOf<T> = account("candidate", 0, 0);
		with_keys::<T>(&who);
		let origin = T::AddRemoveOrigin::try_successful_origin().expect("the origin can be made");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Validators::<T>::get().contains(&who));
		assert_eq!(RotationsPending::<T>::get(), 2);
	}

	#[benchmark]
	fn remove_validator(v: Linear<{ T::MinValidators::get() + 1 }, { T::MaxValidators::get() }>) {
		let set = set_of::<T>(v);
		let who = set.last().expect("v >= 1").clone();
		let origin = T::AddRemoveOrigin::try_successful_origin().expect("the origin can be made");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Validators::<T>::get().contains(&who));
	}

	#[benchmark]
	fn force_rotation() {
		let origin = T::AddRemoveOrigin::try_successful_origin().expect("the origin can be made");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin);

		assert_eq!(RotationsPending::<T>::get(), 2);
	}
}
