//! Benchmarks for the jobs pallet, worst case each: full committees, full batches, inputs of
//! `MaxInputBytes`, and resolutions that take the tolerance path over outcomes of
//! `MaxOutputBytes` and pay every member.

use super::{Pallet as Inference, *};
use alloc::{vec, vec::Vec};
use codec::Encode;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::TransactionSource,
		traits::{
			fungible::{Inspect, Mutate},
			Authorize, Get,
		},
		weights::Weight,
	},
	frame_system::{pallet_prelude::BlockNumberFor, RawOrigin},
	sp_runtime::{
		traits::{Bounded, Zero},
		RuntimeAppPublic,
	},
};
use verity_primitives::{
	canonical::{CanonicalData, CanonicalTensor, Outcome},
	executor::{ExecutorId, ExecutorSignature},
	inference::VoteKind,
	tensor::DType,
};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1024u32.into());
	who
}

/// A funded account `executor/i` registered bonding `MinBond`, with a new key in the keystore
/// (which votes need) or, if not `signs`, a key no one holds (a draw needs none).
fn register_as<T: Config>(i: u32, signs: bool) -> Result<T::AccountId, BenchmarkError> {
	// Funded for its bond only: thousands of them must not overflow the issuance.
	let who: T::AccountId = account("executor", i, 0);
	let bond = T::MinBond::get();
	T::Currency::set_balance(&who, T::Currency::minimum_balance() + bond + bond);
	let key = if signs {
		ExecutorId::generate_pair(None)
	} else {
		let raw = polkadot_sdk::sp_io::hashing::blake2_256(&(b"executor", i).encode());
		polkadot_sdk::sp_core::sr25519::Public::from_raw(raw).into()
	};
	Inference::<T>::do_register(&who, key, bond).map_err(|_| "register")?;
	Ok(who)
}

fn register<T: Config>(i: u32) -> Result<T::AccountId, BenchmarkError> {
	register_as::<T>(i, true)
}

/// Executors registered until `n` are drawable; the first `MaxCommittee` with keys in the
/// keystore.
fn executors<T: Config>(n: u32) -> Result<(), BenchmarkError> {
	let mut i = 0;
	while DrawableCount::<T>::get() < n {
		register_as::<T>(i, i < T::MaxCommittee::get())?;
		i += 1;
	}
	Ok(())
}

/// Enough executors for full committees: every job's committee holds almost all of them.
fn committees<T: Config>() -> Result<(), BenchmarkError> {
	executors::<T>(T::MaxCommittee::get())
}

/// A new executor's key and its proof for `who`.
fn key_and_proof<T: Config>(
	who: &T::AccountId,
) -> Result<(ExecutorId, ExecutorSignature), BenchmarkError> {
	let key = ExecutorId::generate_pair(None);
	let proof = key.sign(&Inference::<T>::key_proof_payload(who, &key)).ok_or("keystore")?;
	Ok((key, proof))
}

/// A drawable executor bonded `MinBond`, not the last in the draw (so that leaving it moves
/// another).
fn first_drawn<T: Config>() -> Result<T::AccountId, BenchmarkError> {
	let who = register::<T>(10_000)?;
	register::<T>(10_001)?;
	Ok(who)
}

/// Member `member`'s canonical outcome, about `MaxOutputBytes` encoded: one element (the
/// member's own) is 1 above everyone else's, so no two members' hashes are equal while their
/// values agree within a tolerance of 1.
fn outcome<T: Config>(member: i64) -> Outcome {
	let elements = (T::MaxOutputBytes::get().saturating_sub(32) / 8).max(1) as i64;
	Outcome::Success(vec![CanonicalTensor {
		name: b"y".to_vec(),
		dtype: DType::F32,
		shape: vec![1, elements as u32],
		data: CanonicalData::Fixed(
			(0..elements).map(|v| v * 10 + i64::from(v == member % elements)).collect(),
		),
	}])
}

fn salt(i: usize) -> [u8; 32] {
	[i as u8; 32]
}

/// Submits a job with a full committee; returns its id.
fn job<T: Config>(requester: &T::AccountId) -> Result<JobId, BenchmarkError> {
	job_of::<T>(requester, T::MaxCommittee::get())
}

/// Submits a job with a committee of `k`, drawn at once; returns its id.
fn job_of<T: Config>(requester: &T::AccountId, k: u32) -> Result<JobId, BenchmarkError> {
	let id = undrawn::<T>(requester, k)?;
	let mut job = Jobs::<T>::get(id).ok_or("job")?;
	if job.phase == Phase::Draw {
		Due::<T>::remove(job.due, id);
		let _ = Inference::<T>::draw(id, &mut job, None, frame_system::Pallet::<T>::block_number());
		Jobs::<T>::insert(id, job);
	}
	Ok(id)
}

/// Submits a job with a committee of `k`, not drawn yet when `DrawDelay` is not 0; its id.
fn undrawn<T: Config>(requester: &T::AccountId, k: u32) -> Result<JobId, BenchmarkError> {
	let (model, inputs) = T::BenchmarkHelper::model_and_inputs();
	let id = NextJobId::<T>::get();
	// Set-up jobs are not bound by the block's admission.
	Load::<T>::kill();
	Inference::<T>::submit_job(
		RawOrigin::Signed(requester.clone()).into(),
		model,
		inputs.try_into().map_err(|_| "too many input tensors")?,
		k,
		BalanceOf::<T>::max_value(),
	)
	.map_err(|_| "submit_job failed")?;
	Ok(id)
}

/// `n` jobs, each with an entry due at `at` (their own due block set by `f`), each of another
/// requester (so that settling or pruning one touches accounts the others do not).
fn due_at<T: Config>(
	at: BlockNumberFor<T>,
	n: u32,
	f: impl Fn(&mut Job<T>),
) -> Result<Vec<JobId>, BenchmarkError> {
	let mut ids = Vec::new();
	for i in 0..n {
		let id = job::<T>(&funded::<T>("requester", i))?;
		Jobs::<T>::mutate(id, |j| j.as_mut().map(&f));
		Due::<T>::insert(at, id, ());
		ids.push(id);
	}
	Ok(ids)
}

/// Commits for every member but `except`, each with its own outcome (all hashes differ, so
/// resolution takes the tolerance path).
fn commit_all_but<T: Config>(job_id: JobId, except: Option<usize>) {
	Jobs::<T>::mutate(job_id, |job| {
		let job = job.as_mut().expect("job exists");
		let key = job.key;
		for (i, seat) in job.seats.iter_mut().enumerate() {
			if Some(i) == except {
				continue;
			}
			let hash = outcome::<T>(i as i64).hash();
			seat.commit = Some(commitment_of(&hash, &salt(i), &seat.member, &key));
		}
	});
}

/// Moves a job to the reveal phase with every member but `except` revealed.
fn reveal_all_but<T: Config>(job_id: JobId, except: Option<usize>) {
	commit_all_but::<T>(job_id, None);
	Jobs::<T>::mutate(job_id, |job| {
		let job = job.as_mut().expect("job exists");
		job.phase = Phase::Reveal;
		for (i, seat) in job.seats.iter_mut().enumerate() {
			if Some(i) == except {
				continue;
			}
			let o = outcome::<T>(i as i64);
			seat.reveal = RevealSlot::Revealed(Reveal {
				result_hash: o.hash(),
				outcome: Some(o.encode().try_into().expect("MaxOutputBytes")),
			});
		}
	});
}

fn key_of<T: Config>(who: &T::AccountId) -> ExecutorId {
	Executors::<T>::get(who).expect("executor").key
}

/// `b` jobs whose committee includes `member` (a member of the first job whose key the
/// keystore holds).
fn jobs_with_member<T: Config>(b: u32) -> Result<(T::AccountId, Vec<JobId>), BenchmarkError> {
	let requester = funded::<T>("requester", 0);
	let mut ids = Vec::new();
	let mut member = None;
	while ids.len() < b as usize {
		let id = job::<T>(&requester)?;
		let committee: Vec<T::AccountId> =
			Jobs::<T>::get(id).expect("job").members().cloned().collect();
		if member.is_none() {
			// One whose key is in the keystore (the genesis executors' are not).
			let local = ExecutorId::all();
			member = committee.iter().find(|m| local.contains(&key_of::<T>(m))).cloned();
		}
		if member.as_ref().is_some_and(|m| committee.contains(m)) {
			ids.push(id);
		}
		if NextJobId::<T>::get() > 50 * u64::from(b) {
			return Err("the member is drawn too rarely".into());
		}
	}
	Ok((member.expect("set"), ids))
}

fn index_in<T: Config>(job_id: JobId, who: &T::AccountId) -> usize {
	Jobs::<T>::get(job_id).expect("job").members().position(|m| m == who).expect("member")
}

/// `member`'s signature over a batch of `kind`, sent at this block.
fn sign<T: Config, Items: Encode>(
	kind: VoteKind,
	member: &T::AccountId,
	items: &Items,
) -> Result<(ExecutorId, BlockNumberFor<T>, ExecutorSignature), BenchmarkError> {
	let key = key_of::<T>(member);
	let sent_at = frame_system::Pallet::<T>::block_number();
	let payload = Inference::<T>::vote_payload(kind, member, &key, sent_at, items);
	let signature = key.sign(&payload).ok_or("keystore")?;
	Ok((key, sent_at, signature))
}

/// `member`'s reveals of its committed outcome for `ids`, and its key's signature over them
/// (with `MaxCommittee` as the batch's largest committee).
fn signed_reveals<T: Config>(
	member: &T::AccountId,
	ids: &[JobId],
) -> Result<(RevealsOf<T>, ExecutorId, BlockNumberFor<T>, ExecutorSignature), BenchmarkError> {
	let mut reveals = Vec::new();
	for id in ids {
		let i = index_in::<T>(*id, member);
		let o = outcome::<T>(i as i64);
		reveals.push(RevealItem {
			job: *id,
			key: Jobs::<T>::get(id).ok_or("job")?.key,
			result_hash: o.hash(),
			salt: salt(i),
			outcome: Some(o.encode().try_into().map_err(|_| "MaxOutputBytes")?),
		});
	}
	let reveals: RevealsOf<T> = reveals.try_into().map_err(|_| "MaxBatch")?;
	let max_committee = T::MaxCommittee::get();
	let (key, sent_at, signature) =
		sign::<T, _>(VoteKind::Reveal, member, &(&reveals, max_committee))?;
	Ok((reveals, key, sent_at, signature))
}

#[benchmarks(where <T as polkadot_sdk::frame_system::Config>::RuntimeCall: From<Call<T>>)]
mod benchmarks {
	use super::*;

	/// A job of a committee of `k`, drawn from `n` executors (what it costs does not grow with
	/// `n`).
	#[benchmark]
	fn submit_job(
		k: Linear<1, { T::MaxCommittee::get() }>,
		n: Linear<{ T::MaxCommittee::get() }, { T::MaxExecutors::get() }>,
	) -> Result<(), BenchmarkError> {
		executors::<T>(n)?;
		let requester = funded::<T>("requester", 0);
		let (model, inputs) = T::BenchmarkHelper::model_and_inputs();
		let inputs: InputsOf = inputs.try_into().map_err(|_| "too many input tensors")?;

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), model, inputs, k, BalanceOf::<T>::max_value());

		assert_eq!(NextJobId::<T>::get(), 1);
		Ok(())
	}

	/// Drawing the committee of `k` of a job due at this block from `n` executors (what it
	/// costs does not grow with `n`), each member's open jobs checked.
	#[benchmark]
	fn draw(
		k: Linear<1, { T::MaxCommittee::get() }>,
		n: Linear<{ T::MaxCommittee::get() }, { T::MaxExecutors::get() }>,
	) -> Result<(), BenchmarkError> {
		executors::<T>(n)?;
		let id = undrawn::<T>(&funded::<T>("requester", 0), k)?;
		let mut job = Jobs::<T>::get(id).ok_or("job")?;
		job.phase = Phase::Draw;
		job.seats = Default::default();
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			let _ = Inference::<T>::draw(id, &mut job, None, now);
			Jobs::<T>::insert(id, job);
		}

		let job = Jobs::<T>::get(id).ok_or("job")?;
		assert_eq!(job.phase, Phase::Commit);
		assert_eq!(job.seats.len() as u32, k);
		Ok(())
	}

	/// `b` commits by one member, each the last of its committee (opening the reveal phase).
	#[benchmark]
	fn commit_results(b: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let (member, ids) = jobs_with_member::<T>(b)?;
		let mut commits = Vec::new();
		for id in &ids {
			let i = index_in::<T>(*id, &member);
			commit_all_but::<T>(*id, Some(i));
			let hash = outcome::<T>(i as i64).hash();
			let key = Jobs::<T>::get(id).ok_or("job")?.key;
			let commitment = commitment_of(&hash, &salt(i), &member, &key);
			commits.push(CommitItem { job: *id, key, commitment });
		}
		let commits: CommitsOf<T> = commits.try_into().map_err(|_| "MaxBatch")?;
		let (key, sent_at, signature) = sign::<T, _>(VoteKind::Commit, &member, &commits)?;

		#[extrinsic_call]
		_(RawOrigin::Authorized, member, key, commits, sent_at, signature);

		assert!(ids.iter().all(|id| Jobs::<T>::get(id).is_some_and(|j| j.phase == Phase::Reveal)));
		Ok(())
	}

	/// Revealing `b` items that resolve nothing (the rest of each committee has not revealed):
	/// what every reveal costs before the resolution it may set off ([`resolve`]).
	#[benchmark]
	fn reveal_results(b: Linear<0, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let (member, ids) = jobs_with_member::<T>(b.max(1))?;
		let ids = &ids[..b as usize];
		for id in ids {
			commit_all_but::<T>(*id, None);
			Jobs::<T>::mutate(id, |job| {
				if let Some(job) = job.as_mut() {
					job.phase = Phase::Reveal;
				}
			});
		}
		let (reveals, key, sent_at, signature) = signed_reveals::<T>(&member, ids)?;

		#[extrinsic_call]
		_(
			RawOrigin::Authorized,
			member.clone(),
			key,
			reveals,
			T::MaxCommittee::get(),
			sent_at,
			signature,
		);

		for id in ids {
			let job = Jobs::<T>::get(id).ok_or("job")?;
			assert!(job.result.is_none());
			assert!(job.seats[index_in::<T>(*id, &member)].reveal != RevealSlot::Pending);
		}
		Ok(())
	}

	/// Authorizing a batch of `b` commits: the signature and every job checked.
	#[benchmark]
	fn authorize_batch(b: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let (member, ids) = jobs_with_member::<T>(b)?;
		let commits: CommitsOf<T> = ids
			.iter()
			.map(|id| {
				let key = Jobs::<T>::get(id).map(|j| j.key).unwrap_or_default();
				CommitItem { job: *id, key, commitment: [7u8; 32] }
			})
			.collect::<Vec<_>>()
			.try_into()
			.map_err(|_| "MaxBatch")?;
		let (signer, sent_at, signature) = sign::<T, _>(VoteKind::Commit, &member, &commits)?;
		let call: <T as polkadot_sdk::frame_system::Config>::RuntimeCall =
			Call::<T>::commit_results { executor: member, signer, commits, sent_at, signature }
				.into();

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("commit_results authorizes")?
				.map_err(|_| "authorized")?;
		}
		Ok(())
	}

	#[benchmark]
	fn register_executor() -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let who = funded::<T>("new", 0);
		let (key, proof) = key_and_proof::<T>(&who)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key, T::MinBond::get(), proof);

		assert!(Executors::<T>::get(&who).is_some_and(|r| r.slot.is_some()));
		Ok(())
	}

	/// Bonding back up to `MinBond`: into the draw.
	#[benchmark]
	fn bond_extra() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;
		Inference::<T>::do_unbond(&who, T::MinBond::get()).map_err(|_| "unbond")?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinBond::get());

		assert!(Executors::<T>::get(&who).is_some_and(|r| r.slot.is_some()));
		Ok(())
	}

	/// Unbonding below `MinBond`: out of the draw, another executor moved into the slot.
	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinBond::get());

		assert!(Executors::<T>::get(&who).is_some_and(|r| r.slot.is_none()));
		Ok(())
	}

	/// Withdrawing everything, and leaving the registry.
	#[benchmark]
	fn withdraw_unbonded() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;
		Inference::<T>::do_unbond(&who, T::MinBond::get()).map_err(|_| "unbond")?;
		let later = frame_system::Pallet::<T>::block_number() + UnbondingPeriod::<T>::get();
		frame_system::Pallet::<T>::set_block_number(later);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!Executors::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn rotate_key() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;
		let (key, proof) = key_and_proof::<T>(&who)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key.clone(), proof);

		assert_eq!(ExecutorOfKey::<T>::get(&key), Some(who));
		Ok(())
	}

	/// Out of the draw, another executor moved into the slot.
	#[benchmark]
	fn chill() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Executors::<T>::get(&who).is_some_and(|r| r.slot.is_none()));
		Ok(())
	}

	#[benchmark]
	fn resume() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;
		Inference::<T>::set_status(&who, ExecutorStatus::Chilled).map_err(|_| "chill")?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Executors::<T>::get(&who).is_some_and(|r| r.slot.is_some()));
		Ok(())
	}

	/// Chilled and unbonded: out of the draw, another executor moved into the slot.
	#[benchmark]
	fn leave() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Executors::<T>::get(&who).is_some_and(|r| r.bond.is_zero()));
		Ok(())
	}

	#[benchmark]
	fn remove_executor() -> Result<(), BenchmarkError> {
		let who = first_drawn::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Root, who.clone());

		assert!(Executors::<T>::get(&who).is_some_and(|r| r.status == ExecutorStatus::Removed));
		Ok(())
	}

	#[benchmark]
	fn set_min_committee() -> Result<(), BenchmarkError> {
		let size = T::MaxCommittee::get();

		#[extrinsic_call]
		_(RawOrigin::Root, size);

		assert_eq!(MinCommittee::<T>::get(), size);
		Ok(())
	}

	#[benchmark]
	fn set_unbonding_period() -> Result<(), BenchmarkError> {
		let blocks = Pallet::<T>::min_unbonding_period();

		#[extrinsic_call]
		_(RawOrigin::Root, blocks);

		assert_eq!(UnbondingPeriod::<T>::get(), blocks);
		Ok(())
	}

	/// Resolving a job of a committee of `k` (by its last reveal or its deadline): the
	/// tolerance path over `k` full outcomes, all agreeing, so every member is paid.
	#[benchmark]
	fn resolve(k: Linear<1, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let id = job_of::<T>(&funded::<T>("requester", 0), k)?;
		reveal_all_but::<T>(id, None);
		let mut job = Jobs::<T>::get(id).ok_or("job")?;
		job.model.tolerance = 1;
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			let _ = Inference::<T>::resolve(id, &mut job, now);
			Jobs::<T>::insert(id, job);
		}

		let job = Jobs::<T>::get(id).ok_or("job")?;
		assert_eq!(job.phase, Phase::Completed);
		assert!(job.seats.iter().all(|s| matches!(s.reveal, RevealSlot::Revealed(_))));
		Ok(())
	}

	/// Challenging a job its first committee of `k` decided: the first round moved aside for a
	/// second committee of `2k + 1`, the bond held, the second round's upkeep paid (and, when
	/// `DrawDelay` is 0, the second committee drawn).
	#[benchmark]
	fn challenge(k: Linear<1, { T::MaxCommittee::get() / 2 }>) -> Result<(), BenchmarkError> {
		let k2 = Inference::<T>::escalation_size(k);
		executors::<T>(k + k2)?;
		let id = job_of::<T>(&funded::<T>("requester", 0), k)?;
		reveal_all_but::<T>(id, None);
		let mut job = Jobs::<T>::get(id).ok_or("job")?;
		job.model.tolerance = 1;
		let now = frame_system::Pallet::<T>::block_number();
		let _ = Inference::<T>::resolve(id, &mut job, now);
		let until = now + 10u32.into();
		Challengeable::<T>::insert(id, until);
		job.due = until;
		Due::<T>::insert(until, id, ());
		Jobs::<T>::insert(id, job);
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), id);

		assert!(Escalations::<T>::contains_key(id));
		assert!(!Challengeable::<T>::contains_key(id));
		Ok(())
	}

	/// One member slashed (its bond falling below `MinBond`, so that it leaves the draw and
	/// another executor moves into its slot) and one member rewarded from the treasury: the
	/// most settlement spends on a member beyond paying it.
	#[benchmark]
	fn slash() -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let id = job_of::<T>(&funded::<T>("requester", 0), 1)?;
		let job = Jobs::<T>::get(id).ok_or("job")?;
		let offender = first_drawn::<T>()?;
		let treasury = T::Treasury::get();
		T::Currency::set_balance(&treasury, T::Currency::minimum_balance());
		let amount = Inference::<T>::slash_amount(Offence::BadReveal);
		assert!(!amount.is_zero(), "a bad reveal is slashed");

		#[block]
		{
			let taken = Inference::<T>::slash(&offender, id, Offence::BadReveal);
			Inference::<T>::reward(id, &job, &[0], taken.unwrap_or_default());
		}

		let record = Executors::<T>::get(&offender).ok_or("record")?;
		assert_eq!(record.bond, T::MinBond::get() - amount);
		assert!(record.slot.is_none());
		Ok(())
	}

	/// `n` entries due in one block whose jobs moved on early: what `on_initialize` spends on
	/// every entry it reaches (and, at `n` = 0, on looking at the block's queue and moving the
	/// fee multiplier after a full block).
	#[benchmark]
	fn on_initialize(n: Linear<0, 512>) -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let now: BlockNumberFor<T> = 1000u32.into();
		due_at::<T>(now, n, |_| ())?;
		let full = BlockLoad { seats: T::MaxSeatsPerBlock::get(), cpu_millis: 0 };
		Load::<T>::put((now - 1u32.into(), full));

		#[block]
		{
			Inference::<T>::update_fee_multiplier(now);
			// Without the hook's limit, which comes from these weights.
			Inference::<T>::handle_due(now, Weight::MAX);
		}

		assert_eq!(Due::<T>::iter_prefix(now).count(), 0);
		Ok(())
	}

	/// `n` finished jobs pruned in one block.
	#[benchmark]
	fn prune(n: Linear<0, 512>) -> Result<(), BenchmarkError> {
		committees::<T>()?;
		let now: BlockNumberFor<T> = 1000u32.into();
		let ids = due_at::<T>(now, n, |job| {
			job.phase = Phase::Completed;
			job.due = now;
		})?;

		#[block]
		{
			// Without the hook's limit, which comes from these weights.
			Inference::<T>::handle_due(now, Weight::MAX);
		}

		assert!(ids.iter().all(|id| Jobs::<T>::get(id).is_none()));
		Ok(())
	}

	/// One step of the version-6 migration over one job of the largest committee, every member
	/// revealed with an outcome of `MaxOutputBytes` and the result too: translating it, finding
	/// no job and no challenge after it, and writing the version.
	#[benchmark]
	fn migrate_v6_step() -> Result<(), BenchmarkError> {
		use crate::migrations::v6::{v5, MigrateV5ToV6};
		use polkadot_sdk::frame_support::{
			migrations::SteppedMigration,
			traits::{GetStorageVersion, StorageVersion},
			weights::WeightMeter,
			BoundedVec,
		};
		committees::<T>()?;
		let id = job::<T>(&funded::<T>("requester", 0))?;
		let job = Jobs::<T>::take(id).ok_or("job")?;
		let k = job.seats.len();
		let outcome: BoundedVec<u8, T::MaxOutputBytes> =
			vec![7u8; T::MaxOutputBytes::get() as usize].try_into().map_err(|_| "outcome")?;
		let reveal =
			RevealSlot::Revealed(Reveal { result_hash: [1; 32], outcome: Some(outcome.clone()) });
		let old = v5::Job::<T> {
			key: job.key,
			requester: job.requester,
			model: job.model,
			committee: BoundedVec::truncate_from(job.seats.into_iter().map(|s| s.member).collect()),
			commits: BoundedVec::truncate_from(vec![Some([2u8; 32]); k]),
			reveals: BoundedVec::truncate_from(vec![reveal; k]),
			fee: job.fee,
			phase: Phase::Completed,
			due: job.due,
			submitted_at: job.submitted_at,
			result: Some(JobResult {
				result_hash: Some([1; 32]),
				outcome: Some(outcome),
				failure: None,
			}),
		};
		v5::Jobs::<T>::insert(id, old);
		StorageVersion::new(5).put::<Inference<T>>();

		#[block]
		{
			let done = MigrateV5ToV6::<T>::step(None, &mut WeightMeter::new());
			assert_eq!(done, Ok(None));
		}

		assert_eq!(Inference::<T>::on_chain_storage_version(), 6);
		assert_eq!(Jobs::<T>::get(id).ok_or("migrated")?.seats.len(), k);
		Ok(())
	}

	impl_benchmark_test_suite!(Inference, crate::mock::new_test_ext(), crate::mock::Test);
}
