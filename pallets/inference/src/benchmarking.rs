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
		traits::{fungible::Mutate, Authorize, Get},
		weights::Weight,
		BoundedVec,
	},
	frame_system::{pallet_prelude::BlockNumberFor, RawOrigin},
	sp_runtime::{traits::Bounded, RuntimeAppPublic},
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

/// `MaxExecutors` funded executors with keys in the keystore.
fn executors<T: Config>() -> Vec<(T::AccountId, ExecutorId)> {
	let list: Vec<_> = (0..T::MaxExecutors::get())
		.map(|i| (funded::<T>("executor", i), ExecutorId::generate_pair(None)))
		.collect();
	Executors::<T>::put(BoundedVec::try_from(list.clone()).expect("MaxExecutors entries"));
	list
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

/// Submits a job with a committee of `k`; returns its id.
fn job_of<T: Config>(requester: &T::AccountId, k: u32) -> Result<JobId, BenchmarkError> {
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

/// `n` jobs, each with an entry due at `at` (their own due block set by `f`).
fn due_at<T: Config>(
	at: BlockNumberFor<T>,
	n: u32,
	f: impl Fn(&mut Job<T>),
) -> Result<Vec<JobId>, BenchmarkError> {
	let requester = funded::<T>("requester", 0);
	let mut ids = Vec::new();
	for _ in 0..n {
		let id = job::<T>(&requester)?;
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
		for i in 0..job.committee.len() {
			if Some(i) == except {
				continue;
			}
			let hash = outcome::<T>(i as i64).hash();
			job.commits[i] = Some(commitment_of(&hash, &salt(i), &job.committee[i], &job.key));
		}
	});
}

/// Moves a job to the reveal phase with every member but `except` revealed.
fn reveal_all_but<T: Config>(job_id: JobId, except: Option<usize>) {
	commit_all_but::<T>(job_id, None);
	Jobs::<T>::mutate(job_id, |job| {
		let job = job.as_mut().expect("job exists");
		job.phase = Phase::Reveal;
		for i in 0..job.committee.len() {
			if Some(i) == except {
				continue;
			}
			let o = outcome::<T>(i as i64);
			job.reveals[i] = RevealSlot::Revealed(Reveal {
				result_hash: o.hash(),
				outcome: Some(o.encode().try_into().expect("MaxOutputBytes")),
			});
		}
	});
}

fn key_of<T: Config>(who: &T::AccountId) -> ExecutorId {
	Executors::<T>::get().into_iter().find(|(w, _)| w == who).expect("executor").1
}

/// `b` jobs whose committee includes `member` (the first member of the first job).
fn jobs_with_member<T: Config>(b: u32) -> Result<(T::AccountId, Vec<JobId>), BenchmarkError> {
	let requester = funded::<T>("requester", 0);
	let mut ids = Vec::new();
	let mut member = None;
	while ids.len() < b as usize {
		let id = job::<T>(&requester)?;
		let committee = Jobs::<T>::get(id).expect("job").committee;
		let m = member.get_or_insert_with(|| committee[0].clone());
		if committee.contains(m) {
			ids.push(id);
		}
		if NextJobId::<T>::get() > 50 * u64::from(b) {
			return Err("the member is drawn too rarely".into());
		}
	}
	Ok((member.expect("set"), ids))
}

fn index_in<T: Config>(job_id: JobId, who: &T::AccountId) -> usize {
	Jobs::<T>::get(job_id).expect("job").committee.iter().position(|m| m == who).expect("member")
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

/// `member`'s reveals of its committed outcome for `ids`, and its key's signature over them.
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
	let (key, sent_at, signature) = sign::<T, _>(VoteKind::Reveal, member, &reveals)?;
	Ok((reveals, key, sent_at, signature))
}

#[benchmarks(where <T as polkadot_sdk::frame_system::Config>::RuntimeCall: From<Call<T>>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit_job(k: Linear<1, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		executors::<T>();
		let requester = funded::<T>("requester", 0);
		let (model, inputs) = T::BenchmarkHelper::model_and_inputs();
		let inputs: InputsOf = inputs.try_into().map_err(|_| "too many input tensors")?;

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), model, inputs, k, BalanceOf::<T>::max_value());

		assert_eq!(NextJobId::<T>::get(), 1);
		Ok(())
	}

	/// `b` commits by one member, each the last of its committee (opening the reveal phase).
	#[benchmark]
	fn commit_results(b: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		executors::<T>();
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
		executors::<T>();
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
		_(RawOrigin::Authorized, member.clone(), key, reveals, sent_at, signature);

		for id in ids {
			let job = Jobs::<T>::get(id).ok_or("job")?;
			assert!(job.result.is_none());
			assert!(job.reveals[index_in::<T>(*id, &member)] != RevealSlot::Pending);
		}
		Ok(())
	}

	/// Authorizing a batch of `b` commits: the signature and every job checked.
	#[benchmark]
	fn authorize_batch(b: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		executors::<T>();
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
	fn add_executor() -> Result<(), BenchmarkError> {
		let list = executors::<T>();
		Executors::<T>::mutate(|l| {
			l.pop();
		});
		let (who, key) = list.last().cloned().ok_or("MaxExecutors > 0")?;

		#[extrinsic_call]
		_(RawOrigin::Root, who, key);

		assert_eq!(Executors::<T>::get().len() as u32, T::MaxExecutors::get());
		Ok(())
	}

	#[benchmark]
	fn remove_executor() -> Result<(), BenchmarkError> {
		let list = executors::<T>();
		let who = list[0].0.clone();

		#[extrinsic_call]
		_(RawOrigin::Root, who);

		assert_eq!(Executors::<T>::get().len() as u32, T::MaxExecutors::get() - 1);
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

	/// Resolving a job of a committee of `k` (by its last reveal or its deadline): the
	/// tolerance path over `k` full outcomes, all agreeing, so every member is paid.
	#[benchmark]
	fn resolve(k: Linear<1, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		executors::<T>();
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
		assert!(job.reveals.iter().all(|r| matches!(r, RevealSlot::Revealed(_))));
		Ok(())
	}

	/// `n` entries due in one block whose jobs moved on early: what `on_initialize` spends on
	/// every entry it reaches (and, at `n` = 0, on looking at the block's queue and moving the
	/// fee multiplier after a full block).
	#[benchmark]
	fn on_initialize(n: Linear<0, 512>) -> Result<(), BenchmarkError> {
		executors::<T>();
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
		executors::<T>();
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

	impl_benchmark_test_suite!(Inference, crate::mock::new_test_ext(), crate::mock::Test);
}
