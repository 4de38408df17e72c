//! The node's side of an inference worker: starts the process, speaks the protocol, enforces the
//! wall-clock limit and classifies a worker that dies.
//!
//! Each job gets a wall-clock deadline: its model's CPU limit times [`PoolConfig::wall_factor`]
//! plus [`PoolConfig::wall_grace`], and [`PoolConfig::load_time`] more when the worker has to
//! load the model. A worker that has not answered by then is killed (`SIGKILL`) and the job's
//! outcome is `Timeout`: this is what stops one operator that would run for minutes, which the
//! worker's own watchdog cannot interrupt. A worker that dies on its own is classified from how
//! it died: killed by the kernel, or aborting on a failed allocation, is `OutOfMemory`; anything
//! else is `WorkerCrashed`. Either way the process is gone and the next job starts a new one.

use crate::{
	protocol::{
		read_frame, write_frame, Request, Response, RunRequest, RunResult, MAX_RESPONSE_FRAME,
		PROTOCOL_VERSION,
	},
	worker::WorkerArgs,
};
use std::{
	collections::{HashSet, VecDeque},
	fmt,
	io::{self, BufRead, BufReader, BufWriter, Read},
	os::unix::process::ExitStatusExt,
	path::PathBuf,
	process::{Child, ChildStdin, ChildStdout, Command, Stdio},
	sync::{Arc, Mutex},
	thread,
	time::{Duration, Instant},
};
use verity_primitives::{ErrorCode, ModelId};

/// How the node runs its workers.
#[derive(Clone, Debug)]
pub struct PoolConfig {
	/// The `verity-inference-worker` executable.
	pub binary: PathBuf,
	/// The ONNX Runtime library the workers load.
	pub library: Option<PathBuf>,
	/// Each worker's address-space cap, in bytes.
	pub memory_limit: u64,
	/// Whether workers shut themselves off from the filesystem (only tests turn it off).
	pub sandbox: bool,
	/// Wall-clock time allowed for loading a model, on top of the run's.
	pub load_time: Duration,
	/// A run may take this many times its CPU limit in wall-clock time...
	pub wall_factor: u32,
	/// ...plus this.
	pub wall_grace: Duration,
	/// Longest a new worker may take to say it is ready.
	pub start_time: Duration,
}

impl PoolConfig {
	/// The default settings for the worker executable `binary`.
	pub fn new(binary: PathBuf) -> Self {
		Self {
			binary,
			library: None,
			memory_limit: DEFAULT_WORKER_MEMORY,
			sandbox: true,
			load_time: Duration::from_secs(30),
			wall_factor: 3,
			wall_grace: Duration::from_secs(2),
			start_time: Duration::from_secs(20),
		}
	}

	/// The wall-clock allowance of a run whose CPU limit is `cpu`.
	pub fn run_time(&self, cpu: Duration) -> Duration {
		cpu.saturating_mul(self.wall_factor).saturating_add(self.wall_grace)
	}
}

/// A worker's default address-space cap: 2 GiB plus room for ONNX Runtime itself.
pub const DEFAULT_WORKER_MEMORY: u64 = (2048 + 512) * 1024 * 1024;

/// The executable's name.
pub const WORKER_BINARY: &str = "verity-inference-worker";

/// Why a worker could not be started.
#[derive(Debug)]
pub enum PoolError {
	Spawn {
		binary: PathBuf,
		error: io::Error,
	},
	/// The worker said it could not start, or did not say it was ready.
	Start(String),
	/// The worker speaks another protocol version (an executable of another release).
	Version {
		found: u32,
		version: String,
	},
}

impl fmt::Display for PoolError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Spawn { binary, error } => write!(
				f,
				"cannot start the inference worker {}: {error} (it is built with the node: \
				 `cargo build --release -p verity-node -p verity-engine`; or point \
				 --inference-worker at it)",
				binary.display()
			),
			Self::Start(reason) => write!(f, "the inference worker did not start: {reason}"),
			Self::Version { found, version } => write!(
				f,
				"the inference worker speaks protocol {found} (version {version}), this node \
				 {PROTOCOL_VERSION}: use the worker built with this node"
			),
		}
	}
}

impl std::error::Error for PoolError {}

/// How one request to a worker ended.
#[derive(Debug)]
pub enum WorkerRun {
	/// The worker answered.
	Finished(RunResult),
	/// The worker was killed at the deadline or died; it is gone. The job's outcome is this
	/// canonical failure; `loading` tells whether it happened while the model was loading.
	Lost { code: ErrorCode, loading: bool },
}

/// Why a worker process ended, for the node's logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
	/// Killed by the node at a job's deadline.
	Timeout,
	/// Out of memory: killed by the kernel, or aborted on a failed allocation.
	OutOfMemory,
	/// Crashed some other way, or spoke garbage.
	Crashed,
}

impl Ended {
	pub fn code(self) -> ErrorCode {
		match self {
			Self::Timeout => ErrorCode::Timeout,
			Self::OutOfMemory => ErrorCode::OutOfMemory,
			Self::Crashed => ErrorCode::WorkerCrashed,
		}
	}
}

/// Lines of a worker's stderr kept to explain its death.
const STDERR_TAIL: usize = 32;

/// A running worker process.
pub struct WorkerProcess {
	child: Child,
	stdin: BufWriter<ChildStdin>,
	responses: FrameReader,
	stderr: Arc<Mutex<VecDeque<String>>>,
	/// Models this worker was sent (it may have dropped some since: it then asks again).
	sent: HashSet<ModelId>,
	sandboxed: bool,
	/// How it ended, once it has.
	ended: Option<Ended>,
	/// Its peak resident memory when the node killed it.
	peak_rss: u64,
}

impl WorkerProcess {
	/// Starts a worker and waits for it to be ready.
	pub fn spawn(config: &PoolConfig) -> Result<Self, PoolError> {
		let args = WorkerArgs {
			library: config.library.clone(),
			memory_limit: config.memory_limit,
			sandbox: config.sandbox,
		};
		let mut child = Command::new(&config.binary)
			.args(args.to_args())
			// Nothing of the node's environment: the worker is told everything it needs.
			.env_clear()
			// One malloc arena: each further one reserves 64 MiB of address space, which the cap
			// counts, at a moment no job chooses.
			.env("MALLOC_ARENA_MAX", "1")
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.stderr(Stdio::piped())
			.spawn()
			.map_err(|error| PoolError::Spawn { binary: config.binary.clone(), error })?;
		let pid = child.id();
		let (stdin, stdout, stderr) =
			match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
				(Some(stdin), Some(stdout), Some(stderr)) => (stdin, stdout, stderr),
				_ => {
					let _ = child.kill();
					let _ = child.wait();
					return Err(PoolError::Start("no pipes to the worker".into()));
				},
			};
		// Read by the thread that runs the job, with a deadline: no thread hand-off per job.
		rustix::io::ioctl_fionbio(&stdout, true)
			.map_err(|e| PoolError::Start(format!("worker pipe: {e}")))?;
		let responses = FrameReader { stdout, buffer: Vec::new() };
		let tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
		let lines = tail.clone();
		thread::Builder::new()
			.name(format!("verity-worker-{pid}-err"))
			.spawn(move || {
				for line in BufReader::new(stderr).lines() {
					let Ok(line) = line else { return };
					log::debug!(target: "verity-worker", "[{pid}] {line}");
					let mut tail = lines.lock().unwrap_or_else(|e| e.into_inner());
					if tail.len() == STDERR_TAIL {
						tail.pop_front();
					}
					tail.push_back(line);
				}
			})
			.map_err(|e| PoolError::Start(format!("stderr thread: {e}")))?;
		let mut worker = Self {
			child,
			stdin: BufWriter::new(stdin),
			responses,
			stderr: tail,
			sent: HashSet::new(),
			sandboxed: false,
			ended: None,
			peak_rss: 0,
		};
		match worker.responses.next(Instant::now() + config.start_time) {
			Ok(Some(Response::Ready { protocol, version, sandboxed })) => {
				if protocol != PROTOCOL_VERSION {
					worker.kill();
					return Err(PoolError::Version {
						found: protocol,
						version: String::from_utf8_lossy(&version).into(),
					});
				}
				worker.sandboxed = sandboxed;
				Ok(worker)
			},
			Ok(Some(Response::Failed { reason })) => {
				worker.kill();
				Err(PoolError::Start(String::from_utf8_lossy(&reason).into()))
			},
			other => {
				worker.kill();
				let said = worker.stderr_tail().join(" / ");
				Err(PoolError::Start(format!("{other:?}; its stderr: {said}")))
			},
		}
	}

	/// The worker's process id.
	pub fn pid(&self) -> u32 {
		self.child.id()
	}

	/// Whether the worker enforces its filesystem sandbox.
	pub fn sandboxed(&self) -> bool {
		self.sandboxed
	}

	/// How the worker ended, if it has.
	pub fn ended(&self) -> Option<Ended> {
		self.ended
	}

	/// Whether the worker was sent `model`'s bytes (and so most likely has it loaded).
	pub fn has_model(&self, model: &ModelId) -> bool {
		self.sent.contains(model)
	}

	/// Runs `request` (its `bytes` are filled in from `model_bytes` when the worker needs them)
	/// within the deadline `config` gives for its limits. A worker found dead before the request
	/// reached it is [`NotRun::Gone`]: no outcome, start another.
	pub fn run(
		&mut self,
		config: &PoolConfig,
		mut request: RunRequest,
		model_bytes: &mut dyn FnMut() -> Option<Vec<u8>>,
	) -> Result<WorkerRun, NotRun> {
		if self.ended.is_some() || !matches!(self.child.try_wait(), Ok(None)) {
			self.ended.get_or_insert(Ended::Crashed);
			return Err(NotRun::Gone);
		}
		let cpu = Duration::from_millis(request.limits.cpu_millis.into());
		// What the worker said before is not about this request.
		self.stderr.lock().unwrap_or_else(|e| e.into_inner()).clear();
		if request.bytes.is_none() && !self.sent.contains(&request.model) {
			request.bytes = Some(model_bytes().ok_or(NotRun::ModelMissing)?);
		}
		// Sent with its bytes, the model loads first (and the worker says when it has): loading
		// has its own allowance, then the run its own.
		let mut sent_bytes = false;
		loop {
			let loading = request.bytes.is_some();
			if loading {
				if sent_bytes {
					// It asked for bytes it was just sent: it is not following the protocol.
					return Ok(WorkerRun::Lost { code: self.died().code(), loading: true });
				}
				sent_bytes = true;
				self.sent.insert(request.model);
			}
			let mut deadline =
				Instant::now() + if loading { config.load_time } else { config.run_time(cpu) };
			if write_frame(&mut self.stdin, &Request::Run(request.clone())).is_err() {
				return Ok(WorkerRun::Lost { code: self.died().code(), loading });
			}
			request.bytes = None;
			let mut in_load = loading;
			loop {
				match self.responses.next(deadline) {
					Ok(Some(Response::Loaded)) if in_load => {
						in_load = false;
						deadline = Instant::now() + config.run_time(cpu);
					},
					Ok(Some(Response::Done(result))) => return Ok(WorkerRun::Finished(result)),
					Ok(Some(Response::NeedModel)) if !loading => {
						self.sent.remove(&request.model);
						request.bytes = Some(model_bytes().ok_or(NotRun::ModelMissing)?);
						break;
					},
					Ok(None) => {
						self.peak_rss = self.read_peak_rss();
						self.kill();
						self.ended = Some(Ended::Timeout);
						return Ok(WorkerRun::Lost { code: ErrorCode::Timeout, loading: in_load });
					},
					// Anything else: it died, or said something it should not have.
					_ => return Ok(WorkerRun::Lost { code: self.died().code(), loading: in_load }),
				}
			}
		}
	}

	/// The worker's peak resident memory as the kernel counts it, if it still runs.
	fn read_peak_rss(&self) -> u64 {
		std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
			.ok()
			.and_then(|status| crate::worker::parse_status_field(&status, "VmHWM:"))
			.unwrap_or(0)
	}

	/// The peak resident memory of a worker killed at a deadline, read just before (0 if none).
	pub fn peak_rss(&self) -> u64 {
		self.peak_rss
	}

	/// Kills the worker (if it still runs) and waits for it.
	pub fn kill(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}

	/// The worker stopped answering: find out how it ended (killing it if it still runs).
	fn died(&mut self) -> Ended {
		// A worker whose pipe closed is exiting; one that wrote garbage may still run.
		let mut status = None;
		for _ in 0..50 {
			match self.child.try_wait() {
				Ok(Some(exited)) => {
					status = Some(exited);
					break;
				},
				Ok(None) => thread::sleep(Duration::from_millis(10)),
				Err(_) => break,
			}
		}
		if status.is_none() {
			self.kill();
		}
		// The stderr thread may still be reading the last lines.
		thread::sleep(Duration::from_millis(20));
		let tail = self.stderr_tail();
		// SIGKILL that the node did not send is the kernel's OOM killer; an abort after a failed
		// allocation says so on stderr (Rust's handler, or ONNX Runtime's arena).
		let out_of_memory = status.and_then(|s| s.signal()) == Some(9)
			|| tail.iter().any(|l| {
				l.contains("memory allocation of")
					|| l.contains("bad_alloc")
					|| l.contains("Failed to allocate memory")
			});
		let ended = if out_of_memory { Ended::OutOfMemory } else { Ended::Crashed };
		log::warn!(
			target: "verity-engine",
			"inference worker {} ended ({status:?}): {ended:?}; its last words: {}",
			self.child.id(),
			if tail.is_empty() { "none".to_string() } else { tail.join(" / ") }
		);
		self.ended = Some(ended);
		ended
	}

	fn stderr_tail(&self) -> Vec<String> {
		self.stderr.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
	}
}

impl Drop for WorkerProcess {
	fn drop(&mut self) {
		if self.ended.is_none() {
			self.kill();
		}
	}
}

/// Frames from a worker's stdout (non-blocking), read against a deadline.
struct FrameReader {
	stdout: ChildStdout,
	/// Bytes read and not yet part of a whole frame.
	buffer: Vec<u8>,
}

impl FrameReader {
	/// The next frame, or `None` once `deadline` has passed without one. A frame over
	/// [`MAX_RESPONSE_FRAME`], one that does not decode, or the end of the pipe is an error.
	fn next(&mut self, deadline: Instant) -> io::Result<Option<Response>> {
		loop {
			if let Some(len) = self.buffer.first_chunk::<4>().copied().map(u32::from_le_bytes) {
				let end = 4 + len as usize;
				// A whole frame, or a length `read_frame` refuses before reading on.
				if len > MAX_RESPONSE_FRAME || self.buffer.len() >= end {
					let frame = read_frame::<Response>(&mut &self.buffer[..], MAX_RESPONSE_FRAME);
					self.buffer.drain(..end.min(self.buffer.len()));
					return frame.map(Some);
				}
			}
			let now = Instant::now();
			if now >= deadline {
				return Ok(None);
			}
			// A small job's answer comes within microseconds: look for it a little before
			// sleeping on the pipe, which costs a wake-up (tens of microseconds on a VM).
			if self.spin(now)? {
				continue;
			}
			let wait = deadline - now;
			let timeout = rustix::time::Timespec {
				tv_sec: wait.as_secs() as i64,
				tv_nsec: i64::from(wait.subsec_nanos()),
			};
			let mut fds = [rustix::event::PollFd::new(&self.stdout, rustix::event::PollFlags::IN)];
			match rustix::event::poll(&mut fds, Some(&timeout)) {
				Ok(_) | Err(rustix::io::Errno::INTR) => {},
				Err(e) => return Err(e.into()),
			}
			self.read_available()?;
		}
	}

	/// Reads whatever arrives within [`SPIN`] of `since`; whether anything did.
	fn spin(&mut self, since: Instant) -> io::Result<bool> {
		while since.elapsed() < SPIN {
			if self.read_available()? {
				return Ok(true);
			}
			std::hint::spin_loop();
		}
		Ok(false)
	}

	/// Appends what the pipe holds now to the buffer, without waiting; whether it held any.
	fn read_available(&mut self) -> io::Result<bool> {
		let mut chunk = [0u8; 64 * 1024];
		match self.stdout.read(&mut chunk) {
			Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
			Ok(n) => {
				self.buffer.extend_from_slice(&chunk[..n]);
				Ok(true)
			},
			Err(e)
				if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) =>
			{
				Ok(false)
			},
			Err(e) => Err(e),
		}
	}
}

/// How long a side of the pipe looks for the other's next frame before it sleeps on the pipe.
pub const SPIN: Duration = Duration::from_micros(50);

/// Why a request did not run on a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
	/// The model's bytes were not to be had when the worker needed them.
	ModelMissing,
	/// The worker had ended before the request reached it.
	Gone,
}
