//! Version 5 → 6: a job's committee is one record per seat ([`crate::Seat`]: the member, its
//! commitment and its reveal) instead of three parallel vectors, and a job keeps the committee
//! size it asked for ([`crate::Job::size`]); a challenged job's first round
//! ([`crate::Escalation`]) keeps its seats the same way.
//!
//! A multi-block migration ([`MigrateV5ToV6`], run by `pallet-migrations`): a chain at its
//! sustained load holds a day of jobs (hundreds of thousands), more than one block can
//! translate. Each step translates jobs, then challenges, one at a time while the block's
//! migration weight lasts, and the cursor names the last one translated. While it runs, blocks
//! carry no transactions (submissions wait in the pool; votes, refused there as stale while
//! their job does not decode, are sent again after it) and the pallet's hooks and off-chain
//! workers do nothing (see [`crate::Pallet::paused`]): no job is read in a layout it is not in.
//! A window that was open during the pause starts again when its deadline comes (see the crate
//! docs, "Deadlines").
//!
//! An entry that does not decode in the version-5 layout is skipped by the storage iterator
//! (which logs it) and left as it is.
//!
//! On a chain whose storage is at version 6 already (a chain started at version 6), the first
//! step ends the migration.

use crate::WeightInfo;
use crate::{pallet::*, JobId, JobModel, JobResult, Phase};
use codec::{Decode, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{
		migrations::{MigrationId, SteppedMigration, SteppedMigrationError},
		pallet_prelude::*,
		storage::StoragePrefixedMap,
		traits::{GetStorageVersion, StorageVersion},
		weights::WeightMeter,
		Twox64Concat,
	},
	frame_system::pallet_prelude::BlockNumberFor,
};

/// The version-5 layout (versions 2 to 5 stored jobs so).
pub mod v5 {
	use super::*;
	use crate::{Commitment, FeeQuote};

	/// A job as version 5 stored it.
	#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
	pub struct Job<T: Config> {
		pub key: verity_primitives::inference::JobKey,
		pub requester: T::AccountId,
		pub model: JobModel<T::AccountId>,
		/// The members, once drawn.
		pub committee: BoundedVec<T::AccountId, T::MaxCommittee>,
		/// One per seat from submission: their number is the committee size asked for.
		pub commits: BoundedVec<Option<Commitment>, T::MaxCommittee>,
		/// One per member, once drawn.
		pub reveals: BoundedVec<RevealSlot<T::MaxOutputBytes>, T::MaxCommittee>,
		pub fee: FeeQuote<BalanceOf<T>>,
		pub phase: Phase,
		pub due: BlockNumberFor<T>,
		pub submitted_at: BlockNumberFor<T>,
		pub result: Option<JobResult<T::MaxOutputBytes>>,
	}

	/// A challenged job's first round as version 5 stored it.
	#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
	pub struct Escalation<T: Config> {
		pub committee: BoundedVec<T::AccountId, T::MaxCommittee>,
		pub commits: BoundedVec<Option<Commitment>, T::MaxCommittee>,
		pub reveals: BoundedVec<RevealSlot<T::MaxOutputBytes>, T::MaxCommittee>,
		pub phase: Phase,
		pub result: Option<JobResult<T::MaxOutputBytes>>,
		pub challenger: T::AccountId,
		pub bond: BalanceOf<T>,
	}

	/// [`crate::Jobs`] in version 5.
	#[polkadot_sdk::frame_support::storage_alias]
	pub type Jobs<T: Config> = StorageMap<Pallet<T>, Twox64Concat, JobId, Job<T>>;

	/// [`crate::Escalations`] in version 5.
	#[polkadot_sdk::frame_support::storage_alias]
	pub type Escalations<T: Config> = StorageMap<Pallet<T>, Twox64Concat, JobId, Escalation<T>>;
}

/// Where the migration is: the last job, then the last challenge, translated.
#[derive(Encode, Decode, MaxEncodedLen, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cursor {
	Jobs(Option<JobId>),
	Escalations(Option<JobId>),
}

/// The seats of a version-5 committee: member `i` with commit `i` and reveal `i`. A version-5
/// job holds as many reveals as members, and at least as many commits (one per seat from
/// submission); extra commit slots (none once drawn) are dropped.
fn seats<T: Config>(
	committee: BoundedVec<T::AccountId, T::MaxCommittee>,
	commits: &[Option<crate::Commitment>],
	reveals: BoundedVec<RevealSlot<T::MaxOutputBytes>, T::MaxCommittee>,
) -> SeatsOf<T> {
	let mut reveals = reveals.into_iter();
	let seats: alloc::vec::Vec<Seat<T>> = committee
		.into_iter()
		.enumerate()
		.map(|(i, member)| Seat {
			member,
			commit: commits.get(i).copied().flatten(),
			reveal: reveals.next().unwrap_or(RevealSlot::Pending),
		})
		.collect();
	// As many as the committee's members: within `MaxCommittee`.
	BoundedVec::truncate_from(seats)
}

/// A version-5 job in version 6's layout.
pub fn translate_job<T: Config>(old: v5::Job<T>) -> Job<T> {
	// The commit slots were one per seat asked for, drawn or not.
	let size = old.commits.len() as u32;
	Job {
		key: old.key,
		requester: old.requester,
		model: old.model,
		size,
		seats: seats::<T>(old.committee, &old.commits, old.reveals),
		fee: old.fee,
		phase: old.phase,
		due: old.due,
		submitted_at: old.submitted_at,
		result: old.result,
	}
}

/// A version-5 first round in version 6's layout.
pub fn translate_escalation<T: Config>(old: v5::Escalation<T>) -> Escalation<T> {
	Escalation {
		seats: seats::<T>(old.committee, &old.commits, old.reveals),
		phase: old.phase,
		result: old.result,
		challenger: old.challenger,
		bond: old.bond,
	}
}

/// The multi-block migration from version 5 to 6 (see the module docs). Add it to
/// `pallet_migrations::Config::Migrations`.
pub struct MigrateV5ToV6<T>(core::marker::PhantomData<T>);

impl<T: Config> MigrateV5ToV6<T> {
	/// What translating one entry may weigh: the benchmarked step over a job of the largest
	/// committee, and one more read and write (finding and writing it).
	pub fn item_weight() -> Weight {
		T::WeightInfo::migrate_v6_step().saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// Translates the entry after `last` of the map `map`'s version-5 layout; the id translated,
	/// or `None` when there is none left.
	fn next<Old: Decode, New: Encode>(
		last: Option<JobId>,
		map: fn(Option<JobId>) -> Option<(JobId, Old)>,
		put: fn(JobId, New),
		translate: fn(Old) -> New,
	) -> Option<JobId> {
		let (id, old) = map(last)?;
		put(id, translate(old));
		Some(id)
	}

	/// The version-5 job after `last` (in the map's order).
	fn old_job(last: Option<JobId>) -> Option<(JobId, v5::Job<T>)> {
		match last {
			Some(id) => v5::Jobs::<T>::iter_from(v5::Jobs::<T>::hashed_key_for(id)).next(),
			None => v5::Jobs::<T>::iter().next(),
		}
	}

	/// The version-5 first round after `last` (in the map's order).
	fn old_escalation(last: Option<JobId>) -> Option<(JobId, v5::Escalation<T>)> {
		match last {
			Some(id) => {
				v5::Escalations::<T>::iter_from(v5::Escalations::<T>::hashed_key_for(id)).next()
			},
			None => v5::Escalations::<T>::iter().next(),
		}
	}
}

impl<T: Config> SteppedMigration for MigrateV5ToV6<T> {
	type Cursor = Cursor;
	type Identifier = MigrationId<16>;

	fn id() -> Self::Identifier {
		MigrationId { pallet_id: *b"verity/inference", version_from: 5, version_to: 6 }
	}

	fn migrating_prefixes() -> Option<impl IntoIterator<Item = alloc::vec::Vec<u8>>> {
		Some([
			v5::Jobs::<T>::final_prefix().to_vec(),
			v5::Escalations::<T>::final_prefix().to_vec(),
		])
	}

	fn step(
		cursor: Option<Self::Cursor>,
		meter: &mut WeightMeter,
	) -> Result<Option<Self::Cursor>, SteppedMigrationError> {
		if Pallet::<T>::on_chain_storage_version() != StorageVersion::new(5) {
			return Ok(None);
		}
		let item = Self::item_weight();
		if !meter.can_consume(item) {
			return Err(SteppedMigrationError::InsufficientWeight { required: item });
		}
		let mut cursor = cursor.unwrap_or(Cursor::Jobs(None));
		while meter.try_consume(item).is_ok() {
			cursor = match cursor {
				Cursor::Jobs(last) => {
					match Self::next(last, Self::old_job, Jobs::<T>::insert, translate_job::<T>) {
						Some(id) => Cursor::Jobs(Some(id)),
						None => Cursor::Escalations(None),
					}
				},
				Cursor::Escalations(last) => match Self::next(
					last,
					Self::old_escalation,
					Escalations::<T>::insert,
					translate_escalation::<T>,
				) {
					Some(id) => Cursor::Escalations(Some(id)),
					None => {
						StorageVersion::new(6).put::<Pallet<T>>();
						return Ok(None);
					},
				},
			};
		}
		Ok(Some(cursor))
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
		Ok((
			v5::Jobs::<T>::iter_keys().count() as u64,
			v5::Escalations::<T>::iter_keys().count() as u64,
		)
			.encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(
		state: alloc::vec::Vec<u8>,
	) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		let (jobs, escalations) =
			<(u64, u64)>::decode(&mut &state[..]).map_err(|_| "pre_upgrade state")?;
		ensure!(jobs == Jobs::<T>::iter_values().count() as u64, "every job decodes");
		ensure!(
			escalations == Escalations::<T>::iter_values().count() as u64,
			"every challenge decodes"
		);
		ensure!(Pallet::<T>::on_chain_storage_version() == 6, "the version is 6");
		Pallet::<T>::do_try_state()
	}
}
