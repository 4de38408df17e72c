//! Version 4 → 5: committees drawn after submission, challenges and escalation, reputation.
//!
//! Nothing stored changes its encoding, so nothing is translated: [`crate::Phase::Draw`],
//! [`crate::FailureReason::NoCommittee`], [`crate::Offence::WrongResult`] and
//! [`crate::HoldReason::ChallengeBond`] are appended variants (existing values keep their
//! indices), and [`crate::Beacon`], [`crate::Entropy`], [`crate::Challengeable`],
//! [`crate::Escalations`] and [`crate::Standings`] are new items whose empty default is their
//! right start (no executor has penalty points before its first slash under version 5). Jobs open at the
//! upgrade keep their committees; jobs already finished at the upgrade are final (they have no
//! challenge window). The migration records the version, and its checks (under `try-runtime`)
//! show that every stored job still decodes.

use crate::pallet::*;
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use polkadot_sdk::frame_support::{
	migrations::VersionedMigration, traits::UncheckedOnRuntimeUpgrade, weights::Weight,
};

/// Sets the storage version to 5; translates nothing (see the module docs).
pub type MigrateV4ToV5<T> = VersionedMigration<
	4,
	5,
	InnerMigrateV4ToV5<T>,
	Pallet<T>,
	<T as polkadot_sdk::frame_system::Config>::DbWeight,
>;

/// The migration itself, unversioned (see [`MigrateV4ToV5`]).
pub struct InnerMigrateV4ToV5<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV4ToV5<T> {
	fn on_runtime_upgrade() -> Weight {
		Weight::zero()
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		use codec::Encode;
		Ok((Jobs::<T>::iter_keys().count() as u64).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use codec::Decode;
		use polkadot_sdk::frame_support::ensure;
		let jobs = u64::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		ensure!(jobs == Jobs::<T>::iter_values().count() as u64, "every stored job decodes");
		Pallet::<T>::do_try_state()
	}
}
