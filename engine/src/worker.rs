//! The inference worker process (`verity-inference-worker`): runs one inference at a time for
//! the node, under hard limits, and keeps its sessions between requests.
//!
//! At start, before it reads any request, the worker
//! - asks to be killed when the node dies (`PR_SET_PDEATHSIG`), and gives up gaining privileges;
//! - caps its address space at `--memory-limit` bytes (`RLIMIT_AS`, which the kernel enforces:
//!   an allocation past it fails) and writes no core dumps;
//! - loads ONNX Runtime, then shuts itself off from the filesystem (Landlock: no file may be
//!   opened, read, written or executed any more) and, where the kernel can, from TCP.
//!
//! A model's bytes arrive over the pipe, never as a path. For each inference the worker lowers
//! its address-space limit to what it uses now plus the model's declared memory, so a model
//! that needs more fails with `OutOfMemory` however much the worker has cached; and it measures
//! the run's CPU time against the model's declared limit (`Timeout`). What it cannot stop (one
//! operator that runs for minutes) the node stops by killing it.

use crate::{
	engine::{Engine, EngineConfig},
	protocol::{read_frame, write_frame, Request, Response, RunRequest, RunResult},
	store::{ModelSource, StoreError},
	watchdog::Clock,
};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use std::{
	fs::File,
	io::{self, BufReader, BufWriter, Read, Seek, Write},
	path::PathBuf,
	process::ExitCode,
	sync::Mutex,
	time::Duration,
};
use verity_primitives::{ModelId, Outcome};

/// Address space an inference gets beyond its model's declared memory: what ONNX Runtime needs
/// for itself around a run (its arena's growth steps, scratch buffers), the same for every model.
pub const RUN_ALLOWANCE: u64 = 64 * 1024 * 1024;

/// How the node starts a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerArgs {
	/// The ONNX Runtime library.
	pub library: Option<PathBuf>,
	/// The address-space cap, in bytes.
	pub memory_limit: u64,
	/// Whether to shut the worker off from the filesystem (only tests turn it off).
	pub sandbox: bool,
}

impl WorkerArgs {
	/// The command-line arguments that give these settings.
	pub fn to_args(&self) -> Vec<String> {
		let mut args = vec!["--memory-limit".to_string(), self.memory_limit.to_string()];
		if let Some(library) = &self.library {
			args.push("--library".into());
			args.push(library.display().to_string());
		}
		if !self.sandbox {
			args.push("--no-sandbox".into());
		}
		args
	}

	/// Parses what [`WorkerArgs::to_args`] wrote.
	pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
		let mut parsed = Self { library: None, memory_limit: 0, sandbox: true };
		while let Some(arg) = args.next() {
			match arg.as_str() {
				"--library" => parsed.library = args.next().map(PathBuf::from),
				"--memory-limit" => {
					parsed.memory_limit = args
						.next()
						.and_then(|v| v.parse().ok())
						.ok_or("--memory-limit takes a number of bytes")?
				},
				"--no-sandbox" => parsed.sandbox = false,
				other => return Err(format!("unknown argument {other}")),
			}
		}
		if parsed.memory_limit == 0 {
			return Err("--memory-limit is required".into());
		}
		Ok(parsed)
	}
}

/// The worker's `main`: runs until the node closes its stdin.
pub fn main() -> ExitCode {
	let stdin = io::stdin().lock();
	let stdout = io::stdout().lock();
	let mut output = BufWriter::new(stdout);
	let args = match WorkerArgs::parse(std::env::args().skip(1)) {
		Ok(args) => args,
		Err(reason) => {
			eprintln!("verity-inference-worker: {reason}");
			let _ = write_frame(&mut output, &Response::Failed { reason: reason.into_bytes() });
			return ExitCode::from(2);
		},
	};
	let mut worker = match Worker::start(&args) {
		Ok(worker) => worker,
		Err(reason) => {
			eprintln!("verity-inference-worker: {reason}");
			let _ = write_frame(&mut output, &Response::Failed { reason: reason.into_bytes() });
			return ExitCode::from(1);
		},
	};
	let ready = Response::Ready {
		protocol: crate::protocol::PROTOCOL_VERSION,
		version: env!("CARGO_PKG_VERSION").as_bytes().to_vec(),
		sandboxed: worker.sandboxed,
	};
	if write_frame(&mut output, &ready).is_err() {
		return ExitCode::from(1);
	}
	let mut input = BufReader::new(stdin);
	loop {
		// The node often sends the next job right away: look for it a little before sleeping
		// on the pipe (see `pool::SPIN`).
		if input.buffer().is_empty() {
			await_input(&io::stdin());
		}
		let request = match read_frame::<Request>(&mut input, crate::protocol::MAX_REQUEST_FRAME) {
			Ok(request) => request,
			// The node closed the pipe: it is done with this worker.
			Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return ExitCode::SUCCESS,
			Err(e) => {
				eprintln!("verity-inference-worker: {e}");
				return ExitCode::from(1);
			},
		};
		let Request::Run(run) = request;
		let written = worker.run(run, &mut output).and_then(|r| write_frame(&mut output, &r));
		if written.is_err() {
			return ExitCode::from(1);
		}
	}
}

/// Returns once `input` has bytes to read, or after [`crate::pool::SPIN`] without any (the
/// read that follows then sleeps until they come).
fn await_input(input: &impl std::os::fd::AsFd) {
	let since = std::time::Instant::now();
	let zero = rustix::time::Timespec { tv_sec: 0, tv_nsec: 0 };
	while since.elapsed() < crate::pool::SPIN {
		let mut fds = [rustix::event::PollFd::new(input, rustix::event::PollFlags::IN)];
		if matches!(rustix::event::poll(&mut fds, Some(&zero)), Ok(n) if n > 0) {
			return;
		}
		std::hint::spin_loop();
	}
}

/// The worker's state: its engine, the bytes of the model being loaded, its limits.
struct Worker {
	engine: Engine,
	memory_limit: u64,
	/// Opened before the sandbox closed the filesystem: the worker's own memory figures, cheap
	/// (`statm`: sizes in pages) and detailed (`status`: its peak).
	statm: Option<File>,
	status: Option<File>,
	/// The resident size at which the peak was last read, and that peak.
	peak: (u64, u64),
	sandboxed: bool,
}

impl Worker {
	fn start(args: &WorkerArgs) -> Result<Self, String> {
		// Neither the signal nor `no_new_privs` is essential to the limits below; a kernel that
		// refuses them still gets a capped worker.
		let _ =
			rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
		let _ = rustix::thread::set_no_new_privs(true);
		let no_core = Rlimit { current: Some(0), maximum: Some(0) };
		let _ = setrlimit(Resource::Core, no_core);
		let cap = Rlimit { current: Some(args.memory_limit), maximum: Some(args.memory_limit) };
		setrlimit(Resource::As, cap).map_err(|e| format!("cannot cap the address space: {e}"))?;

		// ONNX Runtime is loaded from its file first; the sandbox then closes the filesystem,
		// and the engine's threads start inside it.
		crate::library::environment(args.library.as_deref()).map_err(|e| e.to_string())?;
		let statm = File::open("/proc/self/statm").ok();
		let status = File::open("/proc/self/status").ok();
		let sandboxed = if args.sandbox { crate::sandbox::restrict_self()? } else { false };
		let engine = Engine::new(EngineConfig {
			library: args.library.clone(),
			watchdog_clock: Clock::ProcessCpu,
			// Sessions stay within what the worker may hold, leaving room to run them.
			cached_bytes: args.memory_limit / 4,
			// One inference at a time: one session per model is enough.
			sessions_per_model: 1,
			..EngineConfig::default()
		})
		.map_err(|e| e.to_string())?;
		Ok(Self { engine, memory_limit: args.memory_limit, statm, status, peak: (0, 0), sandboxed })
	}

	/// Answers one request: loads its model if it brought one (saying [`Response::Loaded`] on
	/// `output` once done), then runs it.
	fn run(&mut self, request: RunRequest, output: &mut impl Write) -> io::Result<Response> {
		let memory = request.limits.memory_bytes();
		let loading = !self.engine.is_cached(&request.model);
		if loading {
			let Some(bytes) = request.bytes else { return Ok(Response::NeedModel) };
			let source = OneModel { id: request.model, bytes: Mutex::new(Some(bytes)) };
			// A load failure (out of memory included) is cached as the model's outcome.
			let _ = self.within(memory, |engine| engine.preload(&source, &request.model));
			write_frame(output, &Response::Loaded)?;
		}
		let result = self.within(memory, |engine| {
			engine.run_limited(
				&NoModel,
				&request.model,
				&request.inputs,
				request.output_decimals,
				request.limits.into(),
			)
		});
		let execution = match result {
			Ok(execution) => execution,
			// The model was dropped from the cache between the check and the run.
			Err(_) => return Ok(Response::NeedModel),
		};
		let outputs = match (&execution.outcome, request.raw_outputs) {
			(Outcome::Success(_), true) => execution.outputs,
			_ => Vec::new(),
		};
		Ok(Response::Done(RunResult {
			outcome: execution.outcome,
			outputs,
			loaded: loading || execution.stats.loaded,
			cpu_micros: micros(execution.stats.cpu),
			wall_micros: micros(execution.stats.wall),
			peak_rss: self.peak_rss(),
		}))
	}

	/// Runs `f` with the address space limited to what the worker uses now plus `memory` (and
	/// [`RUN_ALLOWANCE`] for ONNX Runtime's own bookkeeping).
	fn within<R>(&mut self, memory: u64, f: impl FnOnce(&Engine) -> R) -> R {
		let allowed = self
			.virtual_size()
			.saturating_add(memory)
			.saturating_add(RUN_ALLOWANCE)
			.min(self.memory_limit);
		let lowered = setrlimit(
			Resource::As,
			Rlimit { current: Some(allowed), maximum: getrlimit(Resource::As).maximum },
		)
		.is_ok();
		let result = f(&self.engine);
		if lowered {
			let cap = Rlimit { current: Some(self.memory_limit), maximum: Some(self.memory_limit) };
			let _ = setrlimit(Resource::As, cap);
		}
		result
	}

	/// The worker's virtual size now (what `RLIMIT_AS` counts), in bytes.
	fn virtual_size(&mut self) -> u64 {
		self.statm_pages().map(|(size, _)| size).unwrap_or(self.memory_limit)
	}

	/// The worker's peak resident size: read from `status` only when the resident size grew
	/// since the last look (a peak can only be new then).
	fn peak_rss(&mut self) -> u64 {
		let resident = self.statm_pages().map(|(_, resident)| resident).unwrap_or(u64::MAX);
		if resident > self.peak.0 {
			let peak = self.status_field("VmHWM:").unwrap_or(resident);
			self.peak = (resident, peak.max(self.peak.1));
		}
		self.peak.1
	}

	/// Virtual and resident size, in bytes, from `statm`.
	fn statm_pages(&mut self) -> Option<(u64, u64)> {
		let file = self.statm.as_mut()?;
		file.rewind().ok()?;
		let mut text = String::new();
		file.read_to_string(&mut text).ok()?;
		let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
		let page = rustix::param::page_size() as u64;
		Some((fields.next()?? * page, fields.next()?? * page))
	}

	/// A `kB` field of `/proc/self/status`, in bytes.
	fn status_field(&mut self, field: &str) -> Option<u64> {
		let file = self.status.as_mut()?;
		file.rewind().ok()?;
		let mut text = String::new();
		file.read_to_string(&mut text).ok()?;
		parse_status_field(&text, field)
	}
}

/// A `kB` field of a `/proc/<pid>/status` text, in bytes.
pub fn parse_status_field(status: &str, field: &str) -> Option<u64> {
	let line = status.lines().find(|l| l.starts_with(field))?;
	let kb: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
	Some(kb * 1024)
}

fn micros(d: Duration) -> u64 {
	d.as_micros().try_into().unwrap_or(u64::MAX)
}

/// The bytes of the one model a request brought, handed over once.
struct OneModel {
	id: ModelId,
	bytes: Mutex<Option<Vec<u8>>>,
}

/// No model: the run finds its model in the session cache.
struct NoModel;

impl ModelSource for NoModel {
	fn model_bytes(&self, id: &ModelId) -> Result<Vec<u8>, StoreError> {
		Err(StoreError::NotFound(*id))
	}
}

impl ModelSource for OneModel {
	fn model_bytes(&self, id: &ModelId) -> Result<Vec<u8>, StoreError> {
		let mut bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
		match bytes.take() {
			Some(bytes) if *id == self.id => Ok(bytes),
			_ => Err(StoreError::NotFound(*id)),
		}
	}
}
