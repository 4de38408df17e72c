//! # Validator set pallet
//!
//! The accounts that author (Aura) and finalize (GRANDPA) Verity's blocks, chosen by governance
//! and handed to `pallet-session` at session boundaries.
//!
//! - [`Pallet::add_validator`] and [`Pallet::remove_validator`], for [`Config::AddRemoveOrigin`]
//!   (root on Verity's chains), change the set. An account can only be added once it has set
//!   its session keys (`session.setKeys`), and the set never shrinks below
//!   [`Config::MinValidators`].
//! - A change takes effect within two blocks: the pallet ends the session at the next block
//!   (the new set is queued) and at the one after it (the queued set becomes the active one).
//!   Without changes a session lasts [`Config::SessionPeriod`] blocks. Each boundary starts a
//!   new GRANDPA authority set, and `pallet-session` takes the whole block's weight for it:
//!   operational transactions (the executors' votes) still fit, normal ones (equivocation
//!   reports, governance calls) go in the next block. While GRANDPA has a forced change to
//!   enact ([`Config::ConsensusChangePending`]) the rotations wait for it.
//! - A validator whose keys leaked sets new ones with `session.setKeys`; they are queued at the
//!   next session boundary and active at the one after it, within two periods.
//!   [`Pallet::force_rotation`] makes that two blocks.
//! - A validator reported for an offence (on Verity, a GRANDPA equivocation, proved on chain by
//!   `grandpa.reportEquivocationUnsigned` against the session's historical root) is disabled for
//!   the rest of the session where the disabling strategy allows it, and removed from the set
//!   ([`Event::ValidatorRemoved`] with [`Removal::Offence`]) unless that would leave fewer than
//!   [`Config::MinValidators`] ([`Event::OffenderKept`]). Reports against a validator no
//!   longer in the set are refused ([`OnlyCurrentValidators`]), so an offender is punished, and
//!   its reports stored, once.
//!
//! The pallet is `pallet-session`'s session manager (through `historical::NoteHistoricalRoot`,
//! which keeps the roots equivocation proofs are checked against; the pallet prunes them after
//! [`Config::HistoryDepth`] sessions), its `ShouldEndSession` and its
//! `EstimateNextSessionRotation`, and `pallet-offences`' offence handler.
//!
//! Executors of inference jobs are a separate set (`pallet-inference`): anyone may bond and
//! execute; only the validators chosen here produce blocks.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
use polkadot_sdk::{frame_support, frame_system, sp_runtime, sp_staking};
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{EstimateNextSessionRotation, ValidatorRegistration},
	};
	use frame_system::pallet_prelude::*;
	use pallet_session::historical::IdentificationTuple;
	use sp_runtime::{
		traits::{Saturating, Zero},
		Perbill, Permill,
	};
	use sp_staking::{
		offence::{OffenceDetails, OffenceSeverity, OnOffenceHandler},
		SessionIndex,
	};

	/// An account of the chain (a validator's id in `pallet-session`).
	pub type AccountIdOf<T> = <T as frame_system::Config>::AccountId;

	/// Version 1: the set and its change flag, from genesis or from `migrations` on a chain that
	/// ran without sessions.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		polkadot_sdk::frame_system::Config
		+ pallet_session::Config<ValidatorId = AccountIdOf<Self>>
		+ pallet_session::historical::Config<FullIdentification = ()>
	{
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;

		/// Who may add and remove validators and force a session rotation.
		type AddRemoveOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most validators the set holds (the consensus pallets' `MaxAuthorities`).
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// The fewest validators the set holds: removals, by governance or for an offence,
		/// stop there.
		#[pallet::constant]
		type MinValidators: Get<u32>;

		/// The blocks a session lasts when the set does not change.
		#[pallet::constant]
		type SessionPeriod: Get<BlockNumberFor<Self>>;

		/// The sessions whose historical roots are kept: an equivocation is reportable this
		/// many sessions after it happened (GRANDPA's `MaxSetIdSessionEntries` should match).
		#[pallet::constant]
		type HistoryDepth: Get<SessionIndex>;

		/// Whether the finality gadget still has an authority change to enact (GRANDPA's
		/// `PendingChange`, from a forced change after a stall): the session does not end for
		/// a governance change until it is enacted, so that the two rotations a change takes
		/// each start a GRANDPA set.
		type ConsensusChangePending: Get<bool>;

		/// The weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The validator set, in the order it was built: handed to `pallet-session` at every
	/// session boundary (queued there, active at the boundary after).
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<AccountIdOf<T>, T::MaxValidators>, ValueQuery>;

	/// The session boundaries still to come at once, one block apart: 2 after a change to
	/// [`Validators`] (or a forced rotation), since `pallet-session` queues a set at one
	/// boundary and makes it active at the next.
	#[pallet::storage]
	pub type RotationsPending<T: Config> = StorageValue<_, u8, ValueQuery>;

	/// Why a validator left the set.
	#[derive(
		Encode,
		Decode,
		DecodeWithMemTracking,
		Clone,
		Copy,
		PartialEq,
		Eq,
		Debug,
		TypeInfo,
		MaxEncodedLen,
	)]
	pub enum Removal {
		/// [`Config::AddRemoveOrigin`] removed it.
		Governance,
		/// It was reported for an offence (a GRANDPA equivocation) proved on chain.
		Offence,
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` joins the set at the next session boundary.
		ValidatorAdded { who: AccountIdOf<T> },
		/// `who` leaves the set at the next session boundary.
		ValidatorRemoved { who: AccountIdOf<T>, reason: Removal },
		/// `who` was reported for an offence but stays in the set: removing it would leave
		/// fewer than [`Config::MinValidators`]. It is disabled where the disabling strategy
		/// allows; governance decides the rest.
		OffenderKept { who: AccountIdOf<T> },
		/// The set was not handed to `pallet-session`: fewer than [`Config::MinValidators`] of
		/// its members have session keys. The sessions go on with the active validators.
		SetNotApplied { with_keys: u32 },
		/// The session ends at the next two blocks (by [`Pallet::force_rotation`]).
		RotationForced,
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already in the set.
		AlreadyValidator,
		/// The account is not in the set.
		NotValidator,
		/// The set holds [`Config::MaxValidators`] already.
		TooManyValidators,
		/// Removing the account would leave fewer than [`Config::MinValidators`].
		TooFewValidators,
		/// The account has no session keys: it must call `session.setKeys` first.
		NoSessionKeys,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The validators of session 0. Each also needs its keys in `pallet-session`'s genesis.
		pub validators: Vec<AccountIdOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut seen = alloc::collections::BTreeSet::new();
			assert!(
				self.validators.iter().all(|v| seen.insert(v.clone())),
				"genesis validators are unique"
			);
			// An empty set is the default config's (`RuntimeGenesisConfig::default()`); a chain
			// spec names at least `MinValidators`.
			assert!(
				self.validators.is_empty()
					|| self.validators.len() as u32 >= T::MinValidators::get(),
				"genesis has at least MinValidators validators"
			);
			let set: BoundedVec<_, T::MaxValidators> =
				self.validators.clone().try_into().expect("genesis has at most MaxValidators");
			Validators::<T>::put(set);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MinValidators::get() >= 1, "a chain needs a validator");
			assert!(T::MinValidators::get() <= T::MaxValidators::get());
			assert!(!T::SessionPeriod::get().is_zero(), "sessions last at least a block");
			assert!(T::HistoryDepth::get() >= 2, "the current and the last session are provable");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			let set = Validators::<T>::get();
			ensure!(set.len() as u32 >= T::MinValidators::get(), "set below MinValidators");
			let mut sorted = set.clone().into_inner();
			sorted.sort();
			sorted.dedup();
			ensure!(sorted.len() == set.len(), "a validator is in the set twice");
			ensure!(
				!pallet_session::Validators::<T>::get().is_empty(),
				"the session has no validators"
			);
			Ok(())
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Adds `who` to the set. It must have set its session keys (`session.setKeys`); it
		/// authors and finalizes blocks two blocks later.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::add_validator(T::MaxValidators::get()))]
		pub fn add_validator(origin: OriginFor<T>, who: AccountIdOf<T>) -> DispatchResult {
			T::AddRemoveOrigin::ensure_origin(origin)?;
			ensure!(Self::has_keys(&who), Error::<T>::NoSessionKeys);
			Validators::<T>::try_mutate(|set| {
				ensure!(!set.contains(&who), Error::<T>::AlreadyValidator);
				set.try_push(who.clone()).map_err(|_| Error::<T>::TooManyValidators)
			})?;
			RotationsPending::<T>::put(2);
			Self::deposit_event(Event::ValidatorAdded { who });
			Ok(())
		}

		/// Removes `who` from the set; it stops authoring and finalizing two blocks later.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::remove_validator(T::MaxValidators::get()))]
		pub fn remove_validator(origin: OriginFor<T>, who: AccountIdOf<T>) -> DispatchResult {
			T::AddRemoveOrigin::ensure_origin(origin)?;
			Validators::<T>::try_mutate(|set| {
				let at = set.iter().position(|v| v == &who).ok_or(Error::<T>::NotValidator)?;
				ensure!(set.len() as u32 > T::MinValidators::get(), Error::<T>::TooFewValidators);
				set.remove(at);
				Ok::<_, Error<T>>(())
			})?;
			RotationsPending::<T>::put(2);
			Self::deposit_event(Event::ValidatorRemoved { who, reason: Removal::Governance });
			Ok(())
		}

		/// Ends the session at the next block and at the one after, so that session keys set
		/// since the last boundary are active two blocks later (a validator whose keys leaked
		/// need not wait for the period to end).
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::force_rotation())]
		pub fn force_rotation(origin: OriginFor<T>) -> DispatchResult {
			T::AddRemoveOrigin::ensure_origin(origin)?;
			RotationsPending::<T>::put(2);
			Self::deposit_event(Event::RotationForced);
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Whether the session must end now for a change to take effect.
		fn change_pending() -> bool {
			RotationsPending::<T>::get() > 0 && !T::ConsensusChangePending::get()
		}

		fn has_keys(who: &AccountIdOf<T>) -> bool {
			<pallet_session::Pallet<T> as ValidatorRegistration<_>>::is_registered(who)
		}

		/// The set's members that have session keys, as the session's manager hands them over.
		fn members_with_keys() -> Vec<(AccountIdOf<T>, ())> {
			Validators::<T>::get().into_iter().filter(Self::has_keys).map(|v| (v, ())).collect()
		}

		fn period() -> BlockNumberFor<T> {
			T::SessionPeriod::get().max(1u32.into())
		}

		/// Takes an offender out of the set (at the next boundary) and disables it for the rest
		/// of this session where the disabling strategy allows.
		fn punish(who: &AccountIdOf<T>) {
			pallet_session::Pallet::<T>::report_offence(
				who.clone(),
				OffenceSeverity(Perbill::one()),
			);
			let removed = Validators::<T>::mutate(|set| {
				let at = set.iter().position(|v| v == who)?;
				if set.len() as u32 <= T::MinValidators::get() {
					return Some(false);
				}
				set.remove(at);
				Some(true)
			});
			match removed {
				Some(true) => {
					RotationsPending::<T>::put(2);
					Self::deposit_event(Event::ValidatorRemoved {
						who: who.clone(),
						reason: Removal::Offence,
					});
				},
				Some(false) => Self::deposit_event(Event::OffenderKept { who: who.clone() }),
				// Already removed (a second report of the same offence, or a later one).
				None => {},
			}
		}
	}

	impl<T: Config> pallet_session::ShouldEndSession<BlockNumberFor<T>> for Pallet<T> {
		fn should_end_session(now: BlockNumberFor<T>) -> bool {
			Self::change_pending() || (now % Self::period()).is_zero()
		}
	}

	impl<T: Config> EstimateNextSessionRotation<BlockNumberFor<T>> for Pallet<T> {
		fn average_session_length() -> BlockNumberFor<T> {
			Self::period()
		}

		fn estimate_current_session_progress(now: BlockNumberFor<T>) -> (Option<Permill>, Weight) {
			let period = Self::period();
			// `Permill::from_rational` needs a primitive; block numbers are at most u64.
			let into = |n: BlockNumberFor<T>| TryInto::<u64>::try_into(n).unwrap_or(u64::MAX);
			let progress = Permill::from_rational(into(now % period), into(period));
			(Some(progress), Weight::zero())
		}

		fn estimate_next_session_rotation(
			now: BlockNumberFor<T>,
		) -> (Option<BlockNumberFor<T>>, Weight) {
			let weight = T::DbWeight::get().reads(1);
			if Self::change_pending() {
				return (Some(now.saturating_add(1u32.into())), weight);
			}
			let period = Self::period();
			(Some(now.saturating_add(period - now % period)), weight)
		}
	}

	/// The plain session manager the historical one extends (unused by the runtime, which
	/// goes through `NoteHistoricalRoot`).
	impl<T: Config> pallet_session::SessionManager<AccountIdOf<T>> for Pallet<T> {
		fn new_session(new_index: SessionIndex) -> Option<Vec<AccountIdOf<T>>> {
			<Self as pallet_session::historical::SessionManager<_, _>>::new_session(new_index)
				.map(|set| set.into_iter().map(|(v, ())| v).collect())
		}

		fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<AccountIdOf<T>>> {
			<Self as pallet_session::historical::SessionManager<_, _>>::new_session_genesis(
				new_index,
			)
			.map(|set| set.into_iter().map(|(v, ())| v).collect())
		}

		fn start_session(_start_index: SessionIndex) {}

		fn end_session(_end_index: SessionIndex) {}
	}

	impl<T: Config> pallet_session::historical::SessionManager<AccountIdOf<T>, ()> for Pallet<T> {
		fn new_session(new_index: SessionIndex) -> Option<Vec<(AccountIdOf<T>, ())>> {
			if let Some(oldest) = new_index.checked_sub(T::HistoryDepth::get()) {
				pallet_session::historical::Pallet::<T>::prune_up_to(oldest);
			}
			RotationsPending::<T>::mutate(|n| *n = n.saturating_sub(1));
			// The set goes to `pallet-session` at every boundary, even unchanged, so that the
			// session's historical root is built from its members' current keys (keys set with
			// `session.setKeys` are provable from the session they are active in).
			// `pallet-session` would drop members without keys itself; checking here keeps a
			// set of too few working validators from being handed over at all.
			let with_keys = Self::members_with_keys();
			if (with_keys.len() as u32) < T::MinValidators::get() {
				Self::deposit_event(Event::SetNotApplied { with_keys: with_keys.len() as u32 });
				return None;
			}
			Some(with_keys)
		}

		fn new_session_genesis(_new_index: SessionIndex) -> Option<Vec<(AccountIdOf<T>, ())>> {
			// `pallet-session` has set the genesis keys by now; members without keys would hold
			// session indices Aura and GRANDPA do not have.
			let with_keys = Self::members_with_keys();
			(!with_keys.is_empty()).then_some(with_keys)
		}

		fn start_session(_start_index: SessionIndex) {}

		fn end_session(_end_index: SessionIndex) {}
	}

	impl<T: Config> OnOffenceHandler<AccountIdOf<T>, IdentificationTuple<T>, Weight> for Pallet<T> {
		fn on_offence(
			offenders: &[OffenceDetails<AccountIdOf<T>, IdentificationTuple<T>>],
			_slash_fraction: &[Perbill],
			_session: SessionIndex,
		) -> Weight {
			// No validator bond to slash: an offender loses its seat. Each costs the session's
			// validators and disabled list (read and written) and the set (read and written).
			for details in offenders {
				Self::punish(&details.offender.0);
			}
			T::DbWeight::get().reads_writes(3, 4).saturating_mul(offenders.len() as u64)
		}
	}

	/// Passes offence reports on to `R` (the offences pallet) only for offenders still in the
	/// set: an offender is punished once, by removal, so a report against one already removed
	/// is known (the pool refuses it, `Stale`) and stored nowhere. Without this an offender
	/// could sign votes for any number of rounds and have each report, which pays no fee,
	/// stored for good.
	pub struct OnlyCurrentValidators<T, R>(core::marker::PhantomData<(T, R)>);

	impl<T, R, O> sp_staking::offence::ReportOffence<AccountIdOf<T>, IdentificationTuple<T>, O>
		for OnlyCurrentValidators<T, R>
	where
		T: Config,
		O: sp_staking::offence::Offence<IdentificationTuple<T>>,
		R: sp_staking::offence::ReportOffence<AccountIdOf<T>, IdentificationTuple<T>, O>,
	{
		fn report_offence(
			reporters: Vec<AccountIdOf<T>>,
			offence: O,
		) -> Result<(), sp_staking::offence::OffenceError> {
			let set = Validators::<T>::get();
			if !offence.offenders().iter().any(|(who, ())| set.contains(who)) {
				return Err(sp_staking::offence::OffenceError::DuplicateReport);
			}
			R::report_offence(reporters, offence)
		}

		fn is_known_offence(offenders: &[IdentificationTuple<T>], time_slot: &O::Slot) -> bool {
			let set = Validators::<T>::get();
			!offenders.iter().any(|(who, ())| set.contains(who))
				|| R::is_known_offence(offenders, time_slot)
		}
	}

	/// The identification `pallet-session`'s historical roots keep of each validator: none
	/// beyond its account, since validators have no stake.
	pub struct NoIdentification;

	impl<A> sp_runtime::traits::Convert<A, Option<()>> for NoIdentification {
		fn convert(_: A) -> Option<()> {
			Some(())
		}
	}
}
