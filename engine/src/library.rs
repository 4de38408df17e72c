//! Finding and loading the ONNX Runtime shared library.
//!
//! The library is not linked at build time: `scripts/setup.sh` installs it from the pinned
//! `onnxruntime` wheel on PyPI, and the engine loads it when it starts, from the first of:
//! the path the node was given (`--onnxruntime`), `ORT_DYLIB_PATH`, or the place `setup.sh`
//! puts it (`$VERITY_CACHE` or `~/.cache/verity`, then `onnxruntime-<version>/`).

use ort::environment::Environment;
use std::{
	fmt,
	path::{Path, PathBuf},
	sync::{Mutex, OnceLock},
};

/// The ONNX Runtime release the engine is built and tested against.
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";

/// The environment variable that names the library file.
pub const LIBRARY_ENV: &str = "ORT_DYLIB_PATH";

/// Why the engine cannot start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryError {
	/// No candidate path holds a file. Each entry says where the engine looked.
	NotFound { tried: Vec<String> },
	/// The file exists but is not a loadable ONNX Runtime of a supported version.
	Load { path: PathBuf, reason: String },
	/// ONNX Runtime loaded but could not create its environment.
	Environment { reason: String },
}

impl fmt::Display for LibraryError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::NotFound { tried } => write!(
				f,
				"the ONNX Runtime {ONNXRUNTIME_VERSION} library was not found (looked at: {}). \
				 Run `scripts/setup.sh` to install it, or point `--onnxruntime` or \
				 {LIBRARY_ENV} at libonnxruntime.so.{ONNXRUNTIME_VERSION}",
				tried.join("; ")
			),
			Self::Load { path, reason } => write!(
				f,
				"cannot load ONNX Runtime from {}: {reason}. Run `scripts/setup.sh` to install \
				 ONNX Runtime {ONNXRUNTIME_VERSION}, or point `--onnxruntime` or {LIBRARY_ENV} \
				 at its libonnxruntime.so",
				path.display()
			),
			Self::Environment { reason } => {
				write!(f, "ONNX Runtime loaded but its environment failed: {reason}")
			},
		}
	}
}

impl std::error::Error for LibraryError {}

/// Where `scripts/setup.sh` installs the library.
pub fn default_library_path() -> Option<PathBuf> {
	let cache = std::env::var_os("VERITY_CACHE")
		.filter(|v| !v.is_empty())
		.map(PathBuf::from)
		.or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/verity")))?;
	Some(
		cache
			.join(format!("onnxruntime-{ONNXRUNTIME_VERSION}"))
			.join(format!("libonnxruntime.so.{ONNXRUNTIME_VERSION}")),
	)
}

/// The library file to load: `explicit` if given (it must exist), else `ORT_DYLIB_PATH` if set,
/// else setup's place.
pub fn locate_library(explicit: Option<&Path>) -> Result<PathBuf, LibraryError> {
	let mut tried = Vec::new();
	if let Some(path) = explicit {
		if path.is_file() {
			return Ok(path.to_path_buf());
		}
		tried.push(format!("--onnxruntime {}: no such file", path.display()));
		return Err(LibraryError::NotFound { tried });
	}
	match std::env::var_os(LIBRARY_ENV).filter(|v| !v.is_empty()) {
		Some(path) => {
			let path = PathBuf::from(path);
			if path.is_file() {
				return Ok(path);
			}
			tried.push(format!("{LIBRARY_ENV}={}: no such file", path.display()));
		},
		None => tried.push(format!("{LIBRARY_ENV}: not set")),
	}
	match default_library_path() {
		Some(path) if path.is_file() => return Ok(path),
		Some(path) => tried.push(format!("{}: no such file", path.display())),
		None => tried.push("setup.sh's place: neither VERITY_CACHE nor HOME is set".into()),
	}
	Err(LibraryError::NotFound { tried })
}

/// The process's ONNX Runtime environment. ONNX Runtime can be loaded once per process, so
/// the first successful load wins and later calls reuse it whatever path they name.
pub fn environment(explicit: Option<&Path>) -> Result<Environment, LibraryError> {
	static LOADED: OnceLock<Environment> = OnceLock::new();
	static LOADING: Mutex<()> = Mutex::new(());

	if let Some(env) = LOADED.get() {
		return Ok(env.clone());
	}
	let _loading = LOADING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
	if let Some(env) = LOADED.get() {
		return Ok(env.clone());
	}
	let path = locate_library(explicit)?;
	let builder = ort::init_from(&path)
		.map_err(|e| LibraryError::Load { path: path.clone(), reason: e.to_string() })?;
	let env = builder
		.with_name("verity")
		.with_telemetry(false)
		.build()
		.map_err(|e| LibraryError::Environment { reason: e.to_string() })?;
	log::info!(target: "verity-engine", "ONNX Runtime loaded from {}", path.display());
	Ok(LOADED.get_or_init(|| env).clone())
}
