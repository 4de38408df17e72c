//! Submission and fees: [`Pallet::submit_job`]'s checks, the fee a job is quoted and holds,
//! its storage deposit, the block's admission bounds and the demand-driven fee multiplier.

use super::*;
use codec::Encode;
use frame_support::{pallet_prelude::*, traits::fungible::MutateHold, weights::WeightToFee};
use frame_system::pallet_prelude::*;
use polkadot_sdk::{
	sp_io::hashing::blake2_256,
	sp_runtime::{
		traits::{One, Saturating, Zero},
		FixedPointNumber, FixedU128,
	},
};
use verity_primitives::{
	model::{ModelLookup, ModelUnavailable},
	validate_inputs, ModelId,
};

impl<T: Config> Pallet<T> {
	/// [`Pallet::submit_job`] for `requester`.
	pub(crate) fn do_submit(
		requester: T::AccountId,
		model: ModelId,
		inputs: InputsOf,
		committee_size: u32,
		max_fee: BalanceOf<T>,
	) -> DispatchResultWithPostInfo {
		// A refused submission costs what its checks did (reading the minimum committee, the
		// model, the executors and the block's load; checking and encoding the inputs), not a
		// whole job.
		let refused_at =
			|weight: Weight, error: Error<T>| polkadot_sdk::sp_runtime::DispatchErrorWithPostInfo {
				post_info: Some(weight).into(),
				error: error.into(),
			};
		let refused = |error| refused_at(Self::refused_submission_weight(), error);
		ensure!(
			committee_size >= MinCommittee::<T>::get().max(1)
				&& committee_size <= T::MaxCommittee::get(),
			refused(Error::<T>::InvalidCommitteeSize)
		);
		let runnable = T::Models::runnable(&model).map_err(|e| match e {
			ModelUnavailable::NotFound => refused(Error::<T>::ModelNotFound),
			ModelUnavailable::NotRunnable => refused(Error::<T>::ModelNotRunnable),
		})?;
		let encoded: BoundedVec<u8, T::MaxInputBytes> =
			inputs.encode().try_into().map_err(|_| refused(Error::<T>::InputsTooLarge))?;
		validate_inputs(&runnable.inputs, &inputs, T::MaxInputBytes::get())
			.map_err(|_| refused(Error::<T>::InvalidInputs))?;
		ensure!(
			DrawableCount::<T>::get() >= committee_size,
			refused(Error::<T>::NotEnoughExecutors)
		);
		let now = frame_system::Pallet::<T>::block_number();
		let load = Self::admit(now, committee_size, runnable.limits.cpu_millis)
			.ok_or_else(|| refused(Error::<T>::ChainBusy))?;

		let job_id = NextJobId::<T>::get();
		let parent = frame_system::Pallet::<T>::parent_hash();
		// From here a refusal has also read, at most, the requester's holds.
		let refused = |error| {
			refused_at(
				Self::refused_submission_weight().saturating_add(T::DbWeight::get().reads(1)),
				error,
			)
		};
		let fee = Self::quote(runnable.fee, committee_size);
		ensure!(fee.total <= max_fee, refused(Error::<T>::FeeAboveMax));
		T::Currency::hold(&HoldReason::JobFee.into(), &requester, fee.total)
			.map_err(|_| refused(Error::<T>::CannotPayFee))?;
		let deposit = Self::job_deposit(encoded.len() as u32, committee_size);
		if !deposit.is_zero() {
			T::Currency::hold(&HoldReason::JobDeposit.into(), &requester, deposit)
				.map_err(|_| refused(Error::<T>::CannotPayFee))?;
			JobDeposits::<T>::insert(job_id, deposit);
		}
		Load::<T>::put((now, load));
		// Another fork has another parent at this height, or another job of this number:
		// either way another key. The committee is not part of it: it is drawn later, and
		// the key names what is computed, which does not depend on who computes it.
		let key = blake2_256(
			&(
				b"verity/job",
				parent,
				job_id,
				&requester,
				model,
				blake2_256(&encoded),
				runnable.output_decimals,
				committee_size,
			)
				.encode(),
		);
		JobsByRequester::<T>::insert(&requester, job_id, ());
		JobInputs::<T>::insert(job_id, encoded);
		NextJobId::<T>::put(job_id.saturating_add(1));
		let draw_at = now.saturating_add(T::DrawDelay::get());
		let mut job = Job {
			key,
			requester: requester.clone(),
			model: JobModel {
				id: model,
				owner: runnable.owner,
				output_decimals: runnable.output_decimals,
				tolerance: runnable.tolerance,
				limits: runnable.limits,
			},
			size: committee_size,
			seats: Default::default(),
			fee,
			phase: Phase::Draw,
			due: draw_at,
			submitted_at: now,
			result: None,
		};
		Self::deposit_event(Event::JobSubmitted {
			job: job_id,
			key,
			model,
			requester,
			fee: fee.total,
			deposit,
			draw_at,
		});
		// At once, charged its worst case (`submission_weight`), when `DrawDelay` is 0.
		Self::draw_at(job_id, &mut job, None, draw_at, now);
		Jobs::<T>::insert(job_id, job);
		Ok(().into())
	}

	/// The fee for a job on a model with `model_fee`, with a committee of `committee_size`,
	/// at the current fee multiplier.
	pub fn quote(model_fee: BalanceOf<T>, committee_size: u32) -> FeeQuote<BalanceOf<T>> {
		let multiplier = FeeMultiplier::<T>::get();
		let executor_fee = multiplier.saturating_mul_int(T::ExecutorFee::get());
		let base_fee = multiplier.saturating_mul_int(T::BaseFee::get());
		let resource_fee =
			multiplier.saturating_mul_int(T::ResourceFailureFee::get()).min(executor_fee);
		let upkeep_fee = T::WeightToFee::weight_to_fee(&Self::upkeep_weight(committee_size));
		let deadline_fee = T::WeightToFee::weight_to_fee(&Self::deadline_weight(committee_size));
		let deadline_held = deadline_fee.saturating_mul(2u32.into());
		let total = model_fee
			.saturating_add(executor_fee.saturating_mul(committee_size.into()))
			.saturating_add(base_fee)
			.saturating_add(upkeep_fee)
			.saturating_add(deadline_held);
		FeeQuote {
			model_fee,
			executor_fee,
			base_fee,
			resource_fee,
			upkeep_fee,
			deadline_fee,
			deadline_held,
			total,
		}
	}

	/// What `on_initialize` certainly does for a job of a committee of `k`: visit its
	/// deadline entries (commit, reveal, pruning) and prune it, and, when the draw is
	/// delayed, visit its draw entry and draw its committee.
	pub fn upkeep_weight(k: u32) -> Weight {
		let mut upkeep =
			Self::entry_weight().saturating_mul(2).saturating_add(Self::prune_weight());
		if !T::DrawDelay::get().is_zero() {
			upkeep =
				upkeep.saturating_add(Self::entry_weight()).saturating_add(Self::draw_weight(k));
		}
		if !T::ChallengeWindow::get().is_zero() {
			upkeep =
				upkeep.saturating_add(Self::entry_weight()).saturating_add(Self::finalize_weight());
		}
		upkeep
	}

	/// Pruning a finished job, beyond reading its entry: the benchmarked pruning, and
	/// finding it has no challenge window open.
	pub(crate) fn prune_weight() -> Weight {
		T::WeightInfo::prune(1)
			.saturating_sub(T::WeightInfo::prune(0))
			.saturating_add(T::DbWeight::get().reads(1))
	}

	/// The weight of `submit_job` for a committee of `k`: the benchmarked submission, and
	/// the draw when it happens there (`DrawDelay` 0).
	pub fn submission_weight(k: u32) -> Weight {
		let weight = T::WeightInfo::submit_job(k, T::MaxExecutors::get());
		if T::DrawDelay::get().is_zero() {
			weight.saturating_add(Self::draw_weight(k))
		} else {
			weight
		}
	}

	/// The block's load with a job of `seats` and `cpu_millis` added, if it stays within
	/// the bounds.
	pub(crate) fn admit(now: BlockNumberFor<T>, seats: u32, cpu_millis: u32) -> Option<BlockLoad> {
		let mut load = match Load::<T>::get() {
			Some((block, load)) if block == now => load,
			_ => BlockLoad::default(),
		};
		load.seats = load.seats.checked_add(seats)?;
		load.cpu_millis = load.cpu_millis.checked_add(cpu_millis.into())?;
		(load.seats <= T::MaxSeatsPerBlock::get()
			&& load.cpu_millis <= T::MaxCpuMillisPerBlock::get())
		.then_some(load)
	}

	/// How full the previous block's admission was, as the larger of its two shares.
	pub(crate) fn fill(now: BlockNumberFor<T>) -> FixedU128 {
		match Load::<T>::get() {
			Some((block, load)) if block.saturating_add(One::one()) == now => {
				let seats = FixedU128::saturating_from_rational(
					load.seats,
					T::MaxSeatsPerBlock::get().max(1),
				);
				let cpu = FixedU128::saturating_from_rational(
					load.cpu_millis,
					T::MaxCpuMillisPerBlock::get().max(1),
				);
				seats.max(cpu)
			},
			_ => FixedU128::zero(),
		}
	}

	/// Moves the fee multiplier by the previous block's fill: `m × (1 + (fill − ½) / 4)`,
	/// so up to an eighth per block when full and down as much when empty, kept within one
	/// and [`Config::MaxFeeMultiplier`].
	pub(crate) fn update_fee_multiplier(now: BlockNumberFor<T>) {
		let fill = Self::fill(now);
		let half = FixedU128::saturating_from_rational(1, 2);
		let quarter = FixedU128::saturating_from_rational(1, 4);
		let old = FeeMultiplier::<T>::get();
		let new = if fill >= half {
			old.saturating_add(old.saturating_mul((fill - half).saturating_mul(quarter)))
		} else {
			old.saturating_sub(old.saturating_mul((half - fill).saturating_mul(quarter)))
		}
		.clamp(FixedU128::one(), T::MaxFeeMultiplier::get());
		if new != old {
			FeeMultiplier::<T>::put(new);
		}
	}

	/// The storage deposit of a job of a committee of `k` whose SCALE-encoded inputs are
	/// `bytes` long: the base, and the price of every byte it may store (its inputs, and an
	/// outcome of `MaxOutputBytes` in each member's reveal and in the result).
	pub fn job_deposit(bytes: u32, k: u32) -> BalanceOf<T> {
		let outcomes = k.saturating_add(1).saturating_mul(T::MaxOutputBytes::get());
		let stored = bytes.saturating_add(outcomes);
		T::JobDepositBase::get()
			.saturating_add(T::JobDepositPerByte::get().saturating_mul(stored.into()))
	}

	/// What a refused `submit_job` is charged: seven reads and 0.1 ms for checking the inputs.
	pub fn refused_submission_weight() -> Weight {
		T::DbWeight::get().reads(7).saturating_add(Weight::from_parts(100_000_000, 0))
	}
}
