//! Inference in worker processes, as a node runs it: the real `verity-inference-worker`, the real
//! ONNX Runtime, the bundled models and the hostile ones of `models/hostile/`. Workers here are
//! capped at 1 GiB, so that a bug cannot take the machine with it.

mod common;

use common::{cases, model_id, models_dir, MODELS};
use serde_json::Value;
use std::{
	path::PathBuf,
	sync::Arc,
	thread,
	time::{Duration, Instant},
};
use verity_engine::{
	pool::{Ended, WorkerRun},
	protocol::RunRequest,
	service::{JobStats, Observer},
	Backend, InferenceService, ModelSource, ModelStore, PoolConfig, ServiceConfig, WorkerProcess,
};
use verity_primitives::{
	canonical::canonical_outcome,
	inference::{JobRequest, JobStatus},
	json::tensor_from_json,
	model::ModelLimits,
	ErrorCode, HostError, ModelId, Outcome, Tensor,
};

/// What the tests let a worker take.
const TEST_MEMORY: u64 = 1024 * 1024 * 1024;

fn pool_config() -> PoolConfig {
	PoolConfig {
		library: Some(
			verity_engine::library::locate_library(None).unwrap_or_else(|e| panic!("{e}")),
		),
		memory_limit: TEST_MEMORY,
		..PoolConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_verity-inference-worker")))
	}
}

/// Every bundled and hostile model.
fn store() -> (tempfile::TempDir, Arc<ModelStore>) {
	let (dir, store) = common::store();
	for job in hostile_jobs() {
		store.import_file(&models_dir().join("hostile").join(&job.file)).unwrap();
	}
	(dir, Arc::new(store))
}

const LIMITS: ModelLimits = ModelLimits { cpu_millis: 100, memory_mib: 128 };

struct HostileJob {
	file: String,
	id: ModelId,
	inputs: Vec<Tensor>,
	limits: ModelLimits,
	failure: ErrorCode,
}

/// `models/hostile/jobs.json`, with each model's declared limits.
fn hostile_jobs() -> Vec<HostileJob> {
	let dir = models_dir().join("hostile");
	let jobs: Value =
		serde_json::from_slice(&std::fs::read(dir.join("jobs.json")).unwrap()).unwrap();
	jobs.as_array()
		.unwrap()
		.iter()
		.map(|job| {
			let file = job["model"].as_str().unwrap().to_string();
			let metadata: Value = serde_json::from_slice(
				&std::fs::read(dir.join(file.replace(".onnx", ".metadata.json"))).unwrap(),
			)
			.unwrap();
			let limits = ModelLimits {
				cpu_millis: metadata["limits"]["cpuMillis"].as_u64().unwrap() as u32,
				memory_mib: metadata["limits"]["memoryMib"].as_u64().unwrap() as u32,
			};
			let failure = match job["failure"].as_str().unwrap() {
				"OutOfMemory" => ErrorCode::OutOfMemory,
				"Timeout" => ErrorCode::Timeout,
				"ExternalData" => ErrorCode::ExternalData,
				"OutputTooLarge" => ErrorCode::OutputTooLarge,
				other => panic!("unknown failure {other}"),
			};
			HostileJob {
				id: model_id(&format!("hostile/{file}")),
				file,
				inputs: job["inputs"]
					.as_array()
					.unwrap()
					.iter()
					.map(|t| tensor_from_json(t.clone()).unwrap())
					.collect(),
				limits,
				failure,
			}
		})
		.collect()
}

fn service(workers: usize, store: Arc<ModelStore>) -> InferenceService {
	InferenceService::start(
		ServiceConfig { workers, ..ServiceConfig::default() },
		Backend::Workers(pool_config()),
		store as Arc<dyn ModelSource>,
		None,
	)
	.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn workers_give_python_onnxruntimes_outputs_for_the_bundled_models() {
	let (_dir, store) = store();
	let service = service(2, store);
	for model in MODELS {
		let id = model_id(&format!("{model}.onnx"));
		for case in cases(model) {
			let execution = service.run(id, case.inputs.clone(), 6, LIMITS).unwrap();
			assert_eq!(execution.outputs, case.outputs, "{model}");
			assert_eq!(execution.outcome, canonical_outcome(&case.outputs, 6), "{model}");
		}
	}
}

#[test]
fn workers_are_sandboxed_on_this_kernel() {
	let worker = WorkerProcess::spawn(&pool_config()).unwrap();
	assert!(worker.sandboxed(), "Landlock is not enforced for the inference worker");
}

#[test]
fn every_hostile_model_ends_in_its_canonical_failure_and_the_workers_carry_on() {
	let (_dir, store) = store();
	let service = service(2, store);
	let linear = model_id("linear_regressor.onnx");
	let case = cases("linear_regressor").remove(0);
	for job in hostile_jobs() {
		let execution = service.run(job.id, job.inputs.clone(), 6, job.limits).unwrap();
		assert_eq!(execution.outcome, Outcome::Failure(job.failure), "{}", job.file);
		// The next honest job is served as if nothing happened.
		let honest = service.run(linear, case.inputs.clone(), 6, LIMITS).unwrap();
		assert_eq!(honest.outputs, case.outputs, "after {}", job.file);
	}
}

#[test]
fn a_model_past_the_workers_memory_cap_runs_out_of_memory_whatever_it_declares() {
	let (_dir, store) = store();
	let service = service(2, store);
	let bomb =
		hostile_jobs().into_iter().find(|j| j.file == "constant_of_shape_bomb.onnx").unwrap();
	// 4 GiB asked for, 2 GiB declared, 1 GiB allowed by the cap.
	let generous = ModelLimits { cpu_millis: 2_000, memory_mib: 2_048 };
	let execution = service.run(bomb.id, bomb.inputs, 6, generous).unwrap();
	assert_eq!(execution.outcome, Outcome::Failure(ErrorCode::OutOfMemory));
}

/// Counts what the queue reports.
#[derive(Default)]
struct Seen {
	deaths: std::sync::Mutex<Vec<Ended>>,
	peak: std::sync::atomic::AtomicU64,
}

impl Observer for Seen {
	fn job_finished(&self, _: &Result<Outcome, HostError>, _: &JobStats) {}
	fn worker_ended(&self, ended: Ended) {
		self.deaths.lock().unwrap().push(ended);
	}
	fn worker_memory(&self, peak: u64) {
		self.peak.fetch_max(peak, std::sync::atomic::Ordering::Relaxed);
	}
}

#[test]
fn one_operator_that_runs_for_minutes_is_stopped_by_killing_its_worker() {
	let (_dir, store) = store();
	let seen = Arc::new(Seen::default());
	let service = InferenceService::start(
		ServiceConfig { workers: 2, ..ServiceConfig::default() },
		Backend::Workers(pool_config()),
		store as Arc<dyn ModelSource>,
		Some(seen.clone()),
	)
	.unwrap();
	let slow = hostile_jobs().into_iter().find(|j| j.file == "slow_matmul.onnx").unwrap();
	let execution = service.run(slow.id, slow.inputs, 6, slow.limits).unwrap();
	assert_eq!(execution.outcome, Outcome::Failure(ErrorCode::Timeout));
	assert_eq!(*seen.deaths.lock().unwrap(), vec![Ended::Timeout]);
	// The workers' memory stayed within the cap.
	let linear = model_id("linear_regressor.onnx");
	service.run(linear, cases("linear_regressor").remove(0).inputs, 6, LIMITS).unwrap();
	let peak = seen.peak.load(std::sync::atomic::Ordering::Relaxed);
	assert!(peak > 0 && peak < TEST_MEMORY, "peak {peak}");
}

#[test]
fn a_worker_that_crashes_is_a_canonical_failure_and_is_replaced() {
	let config = pool_config();
	let mut worker = WorkerProcess::spawn(&config).unwrap();
	let slow = hostile_jobs().into_iter().find(|j| j.file == "slow_matmul.onnx").unwrap();
	let bytes = std::fs::read(models_dir().join("hostile/slow_matmul.onnx")).unwrap();
	let pid = worker.pid();
	// Crash it while it runs the long job, as a bug in an operator would (SIGILL: a SIGSEGV
	// sent by kill(), not by a fault, is absorbed by the Rust runtime's stack-overflow handler).
	let crasher = thread::spawn(move || {
		thread::sleep(Duration::from_millis(1500));
		let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
		rustix::process::kill_process(pid, rustix::process::Signal::ILL).unwrap();
	});
	let request = RunRequest {
		model: slow.id,
		bytes: None,
		inputs: slow.inputs,
		output_decimals: 6,
		limits: ModelLimits { cpu_millis: 2_000, memory_mib: 768 },
		raw_outputs: false,
	};
	let run = worker.run(&config, request, &mut || Some(bytes.clone())).unwrap();
	crasher.join().unwrap();
	assert!(
		matches!(run, WorkerRun::Lost { code: ErrorCode::WorkerCrashed, loading: false }),
		"{run:?}"
	);
	assert_eq!(worker.ended(), Some(Ended::Crashed));
	// A new worker serves the next job.
	let mut next = WorkerProcess::spawn(&config).unwrap();
	let linear = std::fs::read(models_dir().join("linear_regressor.onnx")).unwrap();
	let case = cases("linear_regressor").remove(0);
	let request = RunRequest {
		model: model_id("linear_regressor.onnx"),
		bytes: None,
		inputs: case.inputs,
		output_decimals: 6,
		limits: LIMITS,
		raw_outputs: true,
	};
	let WorkerRun::Finished(result) =
		next.run(&config, request, &mut || Some(linear.clone())).unwrap()
	else {
		panic!("the new worker answers");
	};
	assert_eq!(result.outputs, case.outputs);
}

#[test]
fn cheap_jobs_do_not_wait_behind_an_expensive_one() {
	let (_dir, store) = store();
	let service = service(2, store);
	let slow = hostile_jobs().into_iter().find(|j| j.file == "slow_matmul.onnx").unwrap();
	// Long enough for the long lane (250 ms), killed at 3 × 300 ms + 2 s.
	let long = ModelLimits { cpu_millis: 300, memory_mib: 768 };
	// Two expensive jobs at once, then cheap ones: one worker stays free for the cheap ones.
	let keys: Vec<[u8; 32]> = (0..2u8).map(|i| [100 + i; 32]).collect();
	for key in &keys {
		service
			.start_job(JobRequest {
				key: *key,
				model: slow.id,
				inputs: slow.inputs.clone(),
				output_decimals: 6,
				limits: long,
			})
			.unwrap();
	}
	let linear = model_id("linear_regressor.onnx");
	let case = cases("linear_regressor").remove(0);
	for i in 0..20u8 {
		service
			.start_job(JobRequest {
				key: [i; 32],
				model: linear,
				inputs: case.inputs.clone(),
				output_decimals: 6,
				limits: LIMITS,
			})
			.unwrap();
	}
	let until = Instant::now() + Duration::from_secs(60);
	while (0..20u8).any(|i| service.poll(&[i; 32]) == JobStatus::Pending) {
		assert!(Instant::now() < until, "the cheap jobs were not served");
		thread::sleep(Duration::from_millis(10));
	}
	for i in 0..20u8 {
		assert_eq!(service.poll(&[i; 32]), JobStatus::Done(canonical_outcome(&case.outputs, 6)));
	}
	// The expensive jobs are still running (or queued): they did not hold the cheap ones up.
	assert!(keys.iter().any(|k| service.poll(k) == JobStatus::Pending));
	// Starting a key again does nothing; an unknown key is unknown.
	assert_eq!(service.poll(&[250; 32]), JobStatus::Unknown);
}
