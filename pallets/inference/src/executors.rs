//! Executors: registered by anyone who bonds, drawn into committees, leaving through an
//! unbonding period.
//!
//! An executor is an account with an inference key ([`ExecutorRecord`]) and a bond held from the
//! account ([`HoldReason::ExecutorBond`]). `register_executor` needs at least
//! [`Config::MinBond`] and a proof that the caller holds the key (the key's signature over
//! [`Pallet::key_proof_payload`]), so that no one can register a key another node runs and
//! have that node vote for them. Keys are unique among executors ([`ExecutorOfKey`]).
//!
//! Committees are drawn ([`crate::draw`]) from [`Drawable`], the executors that are active and
//! bonded at least `MinBond`, kept as a dense array (`slot` → account, [`DrawableCount`]
//! entries): drawing `k` members reads `k + 1` entries whatever the number of executors, and
//! entering or leaving the draw moves at most one other entry (the last takes the leaver's
//! slot).
//!
//! Unbonded funds stay held, as [`UnlockChunk`]s, for [`UnbondingPeriod`] blocks (a chain
//! parameter, at least [`Pallet::min_unbonding_period`]): longer than any job the executor can
//! still be on, so they answer for its votes until the last of its jobs is settled. `withdraw_unbonded` releases the chunks that are due; an executor with no
//! bond left, nothing unlocking and no open job leaves the registry (and its statistics go).
//! Slashes ([`crate::slashing`]) take from the bond, then from the unlocking funds.

use super::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use polkadot_sdk::sp_runtime::traits::{Saturating, Zero};
use verity_primitives::executor::{ExecutorId, ExecutorSignature};

/// An executor's record in this runtime.
pub type RecordOf<T> =
	ExecutorRecord<BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxUnlockingChunks>;

impl<T: Config> Pallet<T> {
	/// The shortest unbonding period the chain accepts: longer than twice a job's first round
	/// and challenge window together (`DrawDelay + CommitWindow + RevealWindow +
	/// ChallengeWindow`), so that an executor that unbonds while drawn is still bonded when the
	/// job's larger committee, drawn at the challenge, settles it.
	pub fn min_unbonding_period() -> BlockNumberFor<T> {
		T::ChallengeWindow::get()
			.saturating_add(T::DrawDelay::get())
			.saturating_add(T::CommitWindow::get())
			.saturating_add(T::RevealWindow::get())
			.saturating_mul(2u32.into())
			.saturating_add(1u32.into())
	}

	/// The most blocks a job takes from its draw to its last possible slash: its first round,
	/// its challenge window, and a second committee's draw and rounds
	/// (`2 × (DrawDelay + CommitWindow + RevealWindow) + ChallengeWindow`).
	pub fn job_lifetime() -> BlockNumberFor<T> {
		T::DrawDelay::get()
			.saturating_add(T::CommitWindow::get())
			.saturating_add(T::RevealWindow::get())
			.saturating_mul(2u32.into())
			.saturating_add(T::ChallengeWindow::get())
	}

	/// Whether unbonded funds may leave at `now`. Not while the hook is far behind on its
	/// deadlines ([`DueBacklog`] older than a few blocks), nor for [`Pallet::job_lifetime`] blocks after a migration
	/// pause, whose windows start again when it ends: the unbonding period counts blocks, and
	/// jobs run late then, so funds due would otherwise leave before the jobs they answer for
	/// are settled.
	pub fn withdrawals_open(now: BlockNumberFor<T>) -> bool {
		// A backlog of a few blocks is a busy chain; one older than a fifth of the margin the
		// shortest period leaves over a job's lifetime (a job has five deadlines, each of
		// which can be that late) could outlast a chunk's period.
		let margin =
			Self::min_unbonding_period().saturating_sub(Self::job_lifetime()) / 5u32.into();
		DueBacklog::<T>::get().is_none_or(|oldest| now.saturating_sub(oldest) <= margin)
			&& LastPause::<T>::get()
				.is_none_or(|(_, resumed)| now >= resumed.saturating_add(Self::job_lifetime()))
	}

	/// What an inference key signs to prove, in `register_executor` and `rotate_key`, that
	/// `who` holds it: bound to this chain's genesis hash and to `who`.
	pub fn key_proof_payload(who: &T::AccountId, key: &ExecutorId) -> Vec<u8> {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		(b"verity/executor-key", genesis, who, key).encode()
	}

	pub(crate) fn check_key(
		who: &T::AccountId,
		key: &ExecutorId,
		proof: &ExecutorSignature,
	) -> DispatchResult {
		use polkadot_sdk::sp_runtime::RuntimeAppPublic;
		ensure!(key.verify(&Self::key_proof_payload(who, key), proof), Error::<T>::BadKeyProof);
		ensure!(!ExecutorOfKey::<T>::contains_key(key), Error::<T>::KeyInUse);
		Ok(())
	}

	/// Registers `who` with `key`, holding `bond` (at least `MinBond`) from its account.
	pub(crate) fn do_register(
		who: &T::AccountId,
		key: ExecutorId,
		bond: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!Executors::<T>::contains_key(who), Error::<T>::AlreadyExecutor);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondBelowMinimum);
		ensure!(Executors::<T>::count() < T::MaxExecutors::get(), Error::<T>::TooManyExecutors);
		T::Currency::hold(&HoldReason::ExecutorBond.into(), who, bond)
			.map_err(|_| Error::<T>::CannotBond)?;
		let mut record = RecordOf::<T> {
			key: key.clone(),
			bond,
			unlocking: Default::default(),
			status: ExecutorStatus::Active,
			slot: None,
		};
		Self::update_draw(who, &mut record);
		ExecutorOfKey::<T>::insert(&key, who);
		Executors::<T>::insert(who, record);
		Self::deposit_event(Event::ExecutorRegistered { executor: who.clone(), key, bond });
		Ok(())
	}

	/// Adds `amount` to `who`'s bond.
	pub(crate) fn do_bond_extra(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		Executors::<T>::try_mutate(who, |record| {
			let record = record.as_mut().ok_or(Error::<T>::NotExecutor)?;
			ensure!(record.status != ExecutorStatus::Removed, Error::<T>::ExecutorRemoved);
			T::Currency::hold(&HoldReason::ExecutorBond.into(), who, amount)
				.map_err(|_| Error::<T>::CannotBond)?;
			record.bond = record.bond.saturating_add(amount);
			Self::update_draw(who, record);
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::Bonded { executor: who.clone(), amount });
		Ok(())
	}

	/// Moves `amount` (at most the bond) of `who`'s bond into unlocking, due after the
	/// unbonding period. Below `MinBond`, the executor is no longer drawn.
	pub(crate) fn do_unbond(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut record = Executors::<T>::get(who).ok_or(Error::<T>::NotExecutor)?;
		ensure!(!amount.is_zero() && amount <= record.bond, Error::<T>::NotThatMuchBonded);
		let at = Self::start_unbonding(&mut record, amount)?;
		Self::update_draw(who, &mut record);
		Executors::<T>::insert(who, record);
		Self::deposit_event(Event::Unbonding { executor: who.clone(), amount, until: at });
		Ok(())
	}

	/// Moves `amount` of `record`'s bond into a chunk due after the unbonding period (merged
	/// with a chunk due at the same block); the block it is due.
	fn start_unbonding(
		record: &mut RecordOf<T>,
		amount: BalanceOf<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let at =
			frame_system::Pallet::<T>::block_number().saturating_add(UnbondingPeriod::<T>::get());
		match record.unlocking.last_mut() {
			Some(last) if last.at == at => last.amount = last.amount.saturating_add(amount),
			_ => record
				.unlocking
				.try_push(UnlockChunk { amount, at })
				.map_err(|_| Error::<T>::TooManyUnlockChunks)?,
		}
		record.bond.saturating_reduce(amount);
		Ok(at)
	}

	/// Releases `who`'s unlocking chunks that are due; removes the executor when nothing is
	/// bonded or unlocking and it sits on no open job. The amount released, and whether the
	/// executor left.
	pub(crate) fn do_withdraw(who: &T::AccountId) -> Result<(BalanceOf<T>, bool), DispatchError> {
		let mut record = Executors::<T>::get(who).ok_or(Error::<T>::NotExecutor)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(Self::withdrawals_open(now), Error::<T>::WithdrawalsWait);
		// Every chunk that is due, wherever it is: a chunk unbonded after the period was
		// shortened is due before older ones.
		let due = record.unlocking.iter().filter(|c| c.at <= now).count();
		let amount = record
			.unlocking
			.iter()
			.filter(|c| c.at <= now)
			.fold(BalanceOf::<T>::zero(), |sum, c| sum.saturating_add(c.amount));
		let leaves = record.bond.is_zero()
			&& due == record.unlocking.len()
			&& Stats::<T>::get(who).open() == 0;
		ensure!(due > 0 || leaves, Error::<T>::NothingToWithdraw);
		T::Currency::release(&HoldReason::ExecutorBond.into(), who, amount, Precision::BestEffort)?;
		record.unlocking.retain(|c| c.at > now);
		if amount > Zero::zero() {
			Self::deposit_event(Event::Withdrawn { executor: who.clone(), amount });
		}
		if leaves {
			Self::leave_draw(&mut record);
			if ExecutorOfKey::<T>::get(&record.key).as_ref() == Some(who) {
				ExecutorOfKey::<T>::remove(&record.key);
			}
			Executors::<T>::remove(who);
			Stats::<T>::remove(who);
			Standings::<T>::remove(who);
			MissStreaks::<T>::remove(who);
			Self::deposit_event(Event::ExecutorLeft { executor: who.clone() });
		} else {
			Executors::<T>::insert(who, record);
		}
		Ok((amount, leaves))
	}

	/// Replaces `who`'s inference key. Votes signed with the old key are refused from now on.
	pub(crate) fn do_rotate_key(who: &T::AccountId, key: ExecutorId) -> DispatchResult {
		Executors::<T>::try_mutate(who, |record| {
			let record = record.as_mut().ok_or(Error::<T>::NotExecutor)?;
			ensure!(record.status != ExecutorStatus::Removed, Error::<T>::ExecutorRemoved);
			ExecutorOfKey::<T>::remove(&record.key);
			ExecutorOfKey::<T>::insert(&key, who);
			record.key = key.clone();
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::KeyRotated { executor: who.clone(), key });
		Ok(())
	}

	/// Sets `who`'s status to `Active` or `Chilled`.
	pub(crate) fn set_status(who: &T::AccountId, status: ExecutorStatus) -> DispatchResult {
		Executors::<T>::try_mutate(who, |record| {
			let record = record.as_mut().ok_or(Error::<T>::NotExecutor)?;
			ensure!(record.status != ExecutorStatus::Removed, Error::<T>::ExecutorRemoved);
			ensure!(record.status != status, Error::<T>::StatusUnchanged);
			record.status = status;
			Self::update_draw(who, record);
			Ok::<_, DispatchError>(())
		})?;
		if status == ExecutorStatus::Active {
			// Back from a chill for misses: those on jobs it was drawn into while it was down do
			// not count from now on. (A chill of its own does not reset a run.)
			let now = frame_system::Pallet::<T>::block_number();
			MissStreaks::<T>::mutate_exists(who, |run| {
				if let Some(run) =
					run.as_mut().filter(|run| run.misses >= T::MaxConsecutiveMisses::get())
				{
					run.misses = 0;
					run.since = now;
				}
			});
		}
		Self::deposit_event(match status {
			ExecutorStatus::Active => Event::Resumed { executor: who.clone() },
			_ => Event::Chilled { executor: who.clone() },
		});
		Ok(())
	}

	/// Chills `who` and unbonds all its bond.
	pub(crate) fn do_leave(who: &T::AccountId) -> DispatchResult {
		let mut record = Executors::<T>::get(who).ok_or(Error::<T>::NotExecutor)?;
		ensure!(record.status != ExecutorStatus::Removed, Error::<T>::ExecutorRemoved);
		record.status = ExecutorStatus::Chilled;
		let amount = record.bond;
		let until =
			if amount.is_zero() { None } else { Some(Self::start_unbonding(&mut record, amount)?) };
		Self::update_draw(who, &mut record);
		Executors::<T>::insert(who, record);
		Self::deposit_event(Event::Chilled { executor: who.clone() });
		if let Some(until) = until {
			Self::deposit_event(Event::Unbonding { executor: who.clone(), amount, until });
		}
		Ok(())
	}

	/// Removes `who` at once (the executor origin's emergency removal): out of the draw, its
	/// key forgotten (its votes are refused), its whole bond unbonding (still held, and
	/// answering for what it did, until withdrawn). Committees it is on carry on without it.
	pub(crate) fn do_remove(who: &T::AccountId) -> DispatchResult {
		let mut record = Executors::<T>::get(who).ok_or(Error::<T>::NotExecutor)?;
		ensure!(record.status != ExecutorStatus::Removed, Error::<T>::ExecutorRemoved);
		record.status = ExecutorStatus::Removed;
		let amount = record.bond;
		if !amount.is_zero() && Self::start_unbonding(&mut record, amount).is_err() {
			// Every chunk slot is taken: the bond joins the last chunk, due when it would be.
			let at = frame_system::Pallet::<T>::block_number()
				.saturating_add(UnbondingPeriod::<T>::get());
			if let Some(last) = record.unlocking.last_mut() {
				last.amount = last.amount.saturating_add(amount);
				last.at = last.at.max(at);
			}
			record.bond = Zero::zero();
		}
		Self::update_draw(who, &mut record);
		ExecutorOfKey::<T>::remove(&record.key);
		Executors::<T>::insert(who, record);
		Self::deposit_event(Event::ExecutorRemoved { executor: who.clone() });
		Ok(())
	}

	/// Whether `record` may be drawn: active and bonded at least `MinBond`.
	pub fn drawable(record: &RecordOf<T>) -> bool {
		record.status == ExecutorStatus::Active && record.bond >= T::MinBond::get()
	}

	/// Puts `who` into the draw or takes it out, as its (updated, not yet stored) `record` says.
	pub(crate) fn update_draw(who: &T::AccountId, record: &mut RecordOf<T>) {
		match (Self::drawable(record), record.slot) {
			(true, None) => {
				let slot = DrawableCount::<T>::get();
				Drawable::<T>::insert(slot, who);
				DrawableCount::<T>::put(slot.saturating_add(1));
				record.slot = Some(slot);
			},
			(false, Some(_)) => Self::leave_draw(record),
			_ => {},
		}
	}

	/// Takes `record` out of the draw: the last entry moves into its slot.
	fn leave_draw(record: &mut RecordOf<T>) {
		let Some(slot) = record.slot.take() else { return };
		let last = DrawableCount::<T>::get().saturating_sub(1);
		if slot != last {
			if let Some(moved) = Drawable::<T>::take(last) {
				Executors::<T>::mutate(&moved, |r| {
					if let Some(r) = r.as_mut() {
						r.slot = Some(slot);
					}
				});
				Drawable::<T>::insert(slot, moved);
			}
		} else {
			Drawable::<T>::remove(last);
		}
		DrawableCount::<T>::put(last);
	}

	/// Registers the genesis executors: bonded like any other.
	pub(crate) fn register_at_genesis(executors: &[(T::AccountId, ExecutorId, BalanceOf<T>)]) {
		for (who, key, bond) in executors {
			assert!(!ExecutorOfKey::<T>::contains_key(key), "genesis executors' keys are distinct");
			Self::do_register(who, key.clone(), *bond)
				.expect("genesis executors are distinct, bonded at least MinBond, and can pay it");
		}
	}

	/// The bond and unlocking funds of `who` held from its account.
	pub fn held_bond(record: &RecordOf<T>) -> BalanceOf<T> {
		record.unlocking.iter().fold(record.bond, |sum, c| sum.saturating_add(c.amount))
	}

	/// Everything [`Self::do_try_state`] checks of the executors: each record's hold is its
	/// bond and unlocking funds, the draw is exactly the drawable executors at their slots,
	/// and every key names its executor.
	#[cfg(any(feature = "try-runtime", test))]
	pub(crate) fn executors_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		let mut drawable = 0u32;
		for (who, record) in Executors::<T>::iter() {
			let held = T::Currency::balance_on_hold(&HoldReason::ExecutorBond.into(), &who);
			ensure!(held == Self::held_bond(&record), "an executor's hold differs from its bond");
			ensure!(
				Self::drawable(&record) == record.slot.is_some(),
				"an executor's place in the draw differs from its status and bond"
			);
			if let Some(slot) = record.slot {
				ensure!(Drawable::<T>::get(slot).as_ref() == Some(&who), "a draw slot is wrong");
				drawable += 1;
			}
			if record.status != ExecutorStatus::Removed {
				ensure!(
					ExecutorOfKey::<T>::get(&record.key).as_ref() == Some(&who),
					"an executor's key does not name it"
				);
			}
		}
		ensure!(DrawableCount::<T>::get() == drawable, "the draw count is wrong");
		ensure!(Drawable::<T>::iter().count() as u32 == drawable, "stale draw slots");
		for (key, who) in ExecutorOfKey::<T>::iter() {
			ensure!(
				Executors::<T>::get(&who).is_some_and(|r| r.key == key),
				"a key names no executor"
			);
		}
		Ok(())
	}
}
