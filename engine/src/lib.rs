//! # Verity inference engine
//!
//! Runs ONNX models natively for Verity's validators and turns their outputs into the canonical
//! outcome validators vote on.
//!
//! - [`library`]: finds and loads the ONNX Runtime shared library (`--onnxruntime`,
//!   `ORT_DYLIB_PATH`, or where `scripts/setup.sh` installs it), with an error naming the fix.
//! - [`Engine`]: sessions under fixed, deterministic settings ([`SessionSettings`]: CPU execution
//!   provider, basic graph optimisations, one intra-op thread, deterministic compute), a bounded
//!   cache of loaded models with a pool of sessions each so that inferences run concurrently on
//!   different threads, an input size limit and a time limit. Bad models, bad inputs, non-finite
//!   outputs and runs past the limit are canonical failure outcomes, never panics or hung threads.
//! - [`ModelStore`]: model files named by their `blake2_256`, filled from local imports and
//!   HTTP(S) URIs; bytes that do not hash to the id are never used.
//! - [`worker`], [`pool`], [`protocol`]: inference in separate worker processes
//!   (`verity-inference-worker`) under hard limits the node enforces: an address-space cap, the
//!   model's CPU time, a wall-clock deadline after which the node kills the worker, no
//!   filesystem. A worker that dies is a canonical failure outcome and is replaced.
//! - [`service`]: the node's inference queue: jobs run concurrently on the workers, cheapest
//!   first, models fetched in the background; the off-chain worker starts jobs and polls them.
//! - [`fetch`]: model downloads that refuse non-public addresses and bound redirects, bytes and
//!   time.
//! - [`host`]: the node's side of the `inference` host functions (`verity_primitives::inference`),
//!   registered for off-chain workers.
//!
//! ```no_run
//! use verity_engine::{Engine, EngineConfig, ModelStore};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new(EngineConfig::default())?;
//! let store = ModelStore::open("/tmp/models")?;
//! let id = store.import_file("models/linear_regressor.onnx".as_ref())?;
//! let data: Vec<u8> = [1.0f32; 10].iter().flat_map(|v| v.to_le_bytes()).collect();
//! let x = verity_primitives::tensor::tensor("x", verity_primitives::DType::F32, &[1, 10], data);
//! let inputs = vec![x.ok_or("tensor")?];
//! let execution = engine.run(&store, &id, &inputs, 6)?;
//! println!("{:?} {}", execution.outcome, hex::encode(execution.result_hash));
//! # Ok(())
//! # }
//! ```

mod convert;
mod engine;
pub mod fetch;
pub mod host;
pub mod library;
pub mod pool;
pub mod protocol;
mod sandbox;
pub mod service;
pub mod store;
mod watchdog;
pub mod worker;

pub use engine::{
	failure, Engine, EngineConfig, EngineStats, Execution, Optimization, RunError, RunLimits,
	RunStats, SessionSettings,
};
pub use library::LibraryError;
pub use pool::{PoolConfig, WorkerProcess};
pub use service::{Backend, InferenceService, ServiceConfig};
pub use store::{ModelSource, ModelStore, StoreError};
pub use watchdog::Clock;
