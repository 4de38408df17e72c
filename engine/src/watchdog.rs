//! Stops inferences that run past their limit.
//!
//! One background thread watches every running inference. Registering is a map insert under a
//! mutex (no wake-up, no thread per inference); the thread checks deadlines every [`TICK`], and
//! when one has passed it sets the inference's ONNX Runtime terminate flag, which makes the run
//! return an error between two operators. (One long operator is not stopped this way: the
//! worker pool's host kills the worker process for that.)
//!
//! A deadline is on one of two clocks ([`Clock`]): wall-clock time, or the CPU time of the whole
//! process, which in an inference worker (one inference at a time) is the inference's own and
//! does not run while the machine is busy with something else.

use ort::session::RunOptions;
use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Condvar, Mutex, Weak,
	},
	thread,
	time::{Duration, Instant},
};

/// How often the watchdog looks at deadlines: a run is stopped at most this long after its
/// deadline (plus the time its current operator takes to finish).
pub const TICK: Duration = Duration::from_millis(5);

/// What a deadline is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
	/// Wall-clock time.
	Wall,
	/// The process's CPU time (all its threads).
	ProcessCpu,
}

impl Clock {
	/// Now, on this clock, as time since an arbitrary start.
	fn now(self, start: Instant) -> Duration {
		match self {
			Self::Wall => start.elapsed(),
			Self::ProcessCpu => process_cpu_time(),
		}
	}
}

/// CPU time the process has used, all threads together.
pub fn process_cpu_time() -> Duration {
	let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
	Duration::new(t.tv_sec.max(0) as u64, t.tv_nsec.clamp(0, 999_999_999) as u32)
}

struct Watched {
	deadline: Duration,
	options: Arc<RunOptions>,
	fired: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
	watched: HashMap<u64, Watched>,
	next_id: u64,
	stopping: bool,
}

struct Shared {
	state: Mutex<State>,
	stop: Condvar,
	clock: Clock,
	start: Instant,
}

impl Shared {
	fn lock(&self) -> std::sync::MutexGuard<'_, State> {
		// The state is a plain map: a panic elsewhere cannot leave it half-updated.
		self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}
}

/// The watchdog; its thread ends when this is dropped.
pub struct Watchdog {
	shared: Arc<Shared>,
}

impl Watchdog {
	pub fn start(clock: Clock) -> std::io::Result<Self> {
		let shared = Arc::new(Shared {
			state: Mutex::new(State::default()),
			stop: Condvar::new(),
			clock,
			start: Instant::now(),
		});
		let weak = Arc::downgrade(&shared);
		// Wait for the thread to be running: a worker lowers its memory limit around each
		// inference, and a thread still setting itself up (its signal stack, its first
		// allocation) must not find itself under that limit.
		let (started, running) = std::sync::mpsc::sync_channel(0);
		thread::Builder::new().name("verity-watchdog".into()).spawn(move || {
			let _ = started.send(());
			watch(weak)
		})?;
		running.recv().map_err(|_| std::io::Error::other("the watchdog thread did not start"))?;
		Ok(Self { shared })
	}

	/// Watches a run, stopping it once `limit` has passed on the watchdog's clock, until the
	/// returned guard is dropped.
	pub fn watch(&self, options: Arc<RunOptions>, limit: Duration) -> Watch {
		let deadline = self.shared.clock.now(self.shared.start).saturating_add(limit);
		let fired = Arc::new(AtomicBool::new(false));
		let mut state = self.shared.lock();
		let id = state.next_id;
		state.next_id = state.next_id.wrapping_add(1);
		state.watched.insert(id, Watched { deadline, options, fired: fired.clone() });
		Watch { shared: self.shared.clone(), id, fired }
	}
}

impl Drop for Watchdog {
	fn drop(&mut self) {
		self.shared.lock().stopping = true;
		self.shared.stop.notify_all();
	}
}

/// A watched run. Dropping it stops watching.
pub struct Watch {
	shared: Arc<Shared>,
	id: u64,
	fired: Arc<AtomicBool>,
}

impl Watch {
	/// Whether the watchdog terminated the run.
	pub fn fired(&self) -> bool {
		self.fired.load(Ordering::Acquire)
	}
}

impl Drop for Watch {
	fn drop(&mut self) {
		self.shared.lock().watched.remove(&self.id);
	}
}

fn watch(shared: Weak<Shared>) {
	loop {
		let Some(shared) = shared.upgrade() else { return };
		let state = shared.lock();
		if state.stopping {
			return;
		}
		let now = shared.clock.now(shared.start);
		for watched in state.watched.values() {
			if watched.deadline <= now && !watched.fired.load(Ordering::Acquire) {
				match watched.options.terminate() {
					Ok(()) => watched.fired.store(true, Ordering::Release),
					Err(e) => log::warn!(target: "verity-engine", "cannot stop a run: {e}"),
				}
			}
		}
		let (state, _) =
			shared.stop.wait_timeout(state, TICK).unwrap_or_else(|poisoned| poisoned.into_inner());
		if state.stopping {
			return;
		}
	}
}
