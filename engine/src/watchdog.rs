//! Stops inferences that run past their deadline.
//!
//! One background thread watches every running inference. Registering is a map insert under a
//! mutex (no wake-up, no thread per inference); the thread checks deadlines every [`TICK`], and
//! when one has passed it sets the inference's ONNX Runtime terminate flag, which makes the run
//! return an error between two operators.

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
pub const TICK: Duration = Duration::from_millis(20);

struct Watched {
	deadline: Instant,
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
	pub fn start() -> std::io::Result<Self> {
		let shared = Arc::new(Shared { state: Mutex::new(State::default()), stop: Condvar::new() });
		let weak = Arc::downgrade(&shared);
		thread::Builder::new().name("verity-watchdog".into()).spawn(move || watch(weak))?;
		Ok(Self { shared })
	}

	/// Watches a run until the returned guard is dropped.
	pub fn watch(&self, options: Arc<RunOptions>, deadline: Instant) -> Watch {
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
		let now = Instant::now();
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
