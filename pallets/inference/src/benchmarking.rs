//! Benchmarks for the jobs pallet, worst case each: full committees, full batches, and
//! resolutions that take the tolerance path over outcomes of `MaxOutputBytes`.

use super::{Pallet as Inference, *};
use alloc::{vec, vec::Vec};
use codec::Encode;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::TransactionSource,
		traits::{fungible::Mutate, Authorize, Get, Hooks},
		BoundedVec,
	},
	frame_system::{pallet_prelude::BlockNumberFor, RawOrigin},
	sp_io::hashing::blake2_256,
	sp_runtime::{traits::Bounded, RuntimeAppPublic},
};
use verity_primitives::{
	canonical::{CanonicalData, CanonicalTensor, Outcome},
	executor::{ExecutorId, ExecutorSignature},
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

/// A canonical outcome of about `MaxOutputBytes` encoded, its values shifted by `offset`.
fn outcome<T: Config>(offset: i64) -> Outcome {
	let elements = (T::MaxOutputBytes::get().saturating_sub(32) / 8).max(1) as i64;
	Outcome::Success(vec![CanonicalTensor {
		name: b"y".to_vec(),
		dtype: DType::F32,
		shape: vec![1, elements as u32],
		data: CanonicalData::Fixed((0..elements).map(|v| v * 10 + offset).collect()),
	}])
}

fn salt(i: usize) -> [u8; 32] {
	[i as u8; 32]
}

/// Submits a job with a full committee; returns its id.
fn job<T: Config>(requester: &T::AccountId) -> Result<JobId, BenchmarkError> {
	let (model, inputs) = T::BenchmarkHelper::model_and_inputs();
	let id = NextJobId::<T>::get();
	Inference::<T>::submit_job(
		RawOrigin::Signed(requester.clone()).into(),
		model,
		inputs.try_into().map_err(|_| "too many input tensors")?,
		T::MaxCommittee::get(),
		BalanceOf::<T>::max_value(),
	)
	.map_err(|_| "submit_job failed")?;
	Ok(id)
}

/// Commits for every member but `except`, each with its own outcome (within tolerance 0 of
/// nothing: all hashes differ, so resolution takes the tolerance path).
fn commit_all_but<T: Config>(job_id: JobId, except: Option<usize>) {
	Jobs::<T>::mutate(job_id, |job| {
		let job = job.as_mut().expect("job exists");
		for i in 0..job.committee.len() {
			if Some(i) == except {
				continue;
			}
			let hash = outcome::<T>(i as i64).hash();
			job.commits[i] = Some(blake2_256(&(hash, salt(i), job.committee[i].clone()).encode()));
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

/// `member`'s reveals of its committed outcome for `ids`, and its key's signature over them.
fn signed_reveals<T: Config>(
	member: &T::AccountId,
	ids: &[JobId],
) -> Result<(RevealsOf<T>, ExecutorSignature), BenchmarkError> {
	let mut reveals = Vec::new();
	for id in ids {
		let i = index_in::<T>(*id, member);
		let o = outcome::<T>(i as i64);
		reveals.push(RevealItem {
			job: *id,
			result_hash: o.hash(),
			salt: salt(i),
			outcome: Some(o.encode().try_into().map_err(|_| "MaxOutputBytes")?),
		});
	}
	let reveals: RevealsOf<T> = reveals.try_into().map_err(|_| "MaxBatch")?;
	let signature = key_of::<T>(member)
		.sign(&(b"verity/reveal", member, &reveals).encode())
		.ok_or("keystore")?;
	Ok((reveals, signature))
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
			commits.push((*id, blake2_256(&(hash, salt(i), member.clone()).encode())));
		}
		let commits: CommitsOf<T> = commits.try_into().map_err(|_| "MaxBatch")?;
		let key = key_of::<T>(&member);
		let signature =
			key.sign(&(b"verity/commit", &member, &commits).encode()).ok_or("keystore")?;

		#[extrinsic_call]
		_(RawOrigin::Authorized, member, commits, signature);

		assert!(ids.iter().all(|id| Jobs::<T>::get(id).is_some_and(|j| j.phase == Phase::Reveal)));
		Ok(())
	}

	/// `b` reveals by one member, each the last of its committee: every job resolves through
	/// the tolerance path over full outcomes.
	#[benchmark]
	fn reveal_results(b: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		executors::<T>();
		let (member, ids) = jobs_with_member::<T>(b)?;
		for id in &ids {
			reveal_all_but::<T>(*id, Some(index_in::<T>(*id, &member)));
		}
		let (reveals, signature) = signed_reveals::<T>(&member, &ids)?;

		#[extrinsic_call]
		_(RawOrigin::Authorized, member, reveals, signature);

		assert!(ids.iter().all(|id| Jobs::<T>::get(id).is_some_and(|j| j.result.is_some())));
		Ok(())
	}

	/// Revealing `b` items that resolve nothing (the rest of each committee has not revealed):
	/// what every reveal but the last of a job costs.
	#[benchmark]
	fn reveal_pending(b: Linear<0, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
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
		let (reveals, signature) = signed_reveals::<T>(&member, ids)?;

		#[extrinsic_call]
		reveal_results(RawOrigin::Authorized, member.clone(), reveals, signature);

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
			.map(|id| (*id, [7u8; 32]))
			.collect::<Vec<_>>()
			.try_into()
			.map_err(|_| "MaxBatch")?;
		let key = key_of::<T>(&member);
		let signature =
			key.sign(&(b"verity/commit", &member, &commits).encode()).ok_or("keystore")?;
		let call: <T as polkadot_sdk::frame_system::Config>::RuntimeCall =
			Call::<T>::commit_results { executor: member, commits, signature }.into();

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

	/// `n` jobs due in one block, each resolving through the tolerance path.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxJobsPerBlock::get() }>) -> Result<(), BenchmarkError> {
		executors::<T>();
		let requester = funded::<T>("requester", 0);
		let now: BlockNumberFor<T> = 10u32.into();
		let mut due = Vec::new();
		for _ in 0..n {
			let id = job::<T>(&requester)?;
			reveal_all_but::<T>(id, None);
			Jobs::<T>::mutate(id, |j| {
				if let Some(j) = j {
					j.due = now
				}
			});
			due.push(id);
		}
		Due::<T>::insert(now, BoundedVec::try_from(due.clone()).map_err(|_| "MaxJobsPerBlock")?);

		#[block]
		{
			Inference::<T>::on_initialize(now);
		}

		assert!(due.iter().all(|id| Jobs::<T>::get(id).is_some_and(|j| j.result.is_some())));
		Ok(())
	}

	impl_benchmark_test_suite!(Inference, crate::mock::new_test_ext(), crate::mock::Test);
}
