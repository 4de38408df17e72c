//! The model store: ONNX files named by their id, `blake2_256` of their bytes.
//!
//! Bytes enter the store from a local import, from a URI, or (with the model registry) from the
//! chain's chunks, and every path checks them against the id first: bytes whose hash differs are
//! never stored, and a stored file that no longer matches its name is removed, not used.

use polkadot_sdk::sp_crypto_hashing::blake2_256;
use std::{
	fmt, fs,
	io::{self, Read, Write},
	path::{Path, PathBuf},
	time::Duration,
};
use verity_primitives::ModelId;

/// Largest model the store accepts from any source unless configured otherwise.
pub const DEFAULT_MAX_MODEL_BYTES: u64 = 256 * 1024 * 1024;

/// Why the store could not produce or keep a model's bytes.
#[derive(Debug)]
pub enum StoreError {
	/// No source has the model.
	NotFound(ModelId),
	/// Bytes were offered for `expected` but hash to `found`.
	HashMismatch {
		expected: ModelId,
		found: ModelId,
	},
	/// The model is larger than the store's limit.
	TooLarge {
		limit: u64,
		size: u64,
	},
	/// A URI the store cannot fetch (scheme, syntax) or a failed download.
	Fetch {
		uri: String,
		reason: String,
	},
	Io {
		path: PathBuf,
		error: io::Error,
	},
}

impl fmt::Display for StoreError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::NotFound(id) => write!(f, "model {} is not in the store", hex_id(id)),
			Self::HashMismatch { expected, found } => {
				write!(f, "bytes for model {} hash to {}: refused", hex_id(expected), hex_id(found))
			},
			Self::TooLarge { limit, size } => {
				write!(f, "model of {size} bytes is over the store's limit of {limit} bytes")
			},
			Self::Fetch { uri, reason } => write!(f, "cannot fetch {uri}: {reason}"),
			Self::Io { path, error } => write!(f, "{}: {error}", path.display()),
		}
	}
}

impl std::error::Error for StoreError {}

/// `0x`-prefixed lowercase hex of a model id.
pub fn hex_id(id: &ModelId) -> String {
	format!("0x{}", hex::encode(id))
}

/// A model id from its hex form (with or without `0x`).
pub fn parse_id(text: &str) -> Option<ModelId> {
	let text = text.strip_prefix("0x").unwrap_or(text);
	let mut id = [0u8; 32];
	hex::decode_to_slice(text, &mut id).ok()?;
	Some(id)
}

/// Where the engine gets a model's bytes.
pub trait ModelSource: Send + Sync {
	/// The model's bytes, which must hash to `id`.
	fn model_bytes(&self, id: &ModelId) -> Result<Vec<u8>, StoreError>;
}

/// Content-addressed model files in one directory.
#[derive(Clone, Debug)]
pub struct ModelStore {
	dir: PathBuf,
	max_model_bytes: u64,
}

impl ModelStore {
	/// Opens (creating if needed) the store in `dir`.
	pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
		let dir = dir.into();
		fs::create_dir_all(&dir).map_err(|error| StoreError::Io { path: dir.clone(), error })?;
		Ok(Self { dir, max_model_bytes: DEFAULT_MAX_MODEL_BYTES })
	}

	/// The same store with another size limit for models it takes in.
	pub fn with_max_model_bytes(mut self, limit: u64) -> Self {
		self.max_model_bytes = limit;
		self
	}

	pub fn dir(&self) -> &Path {
		&self.dir
	}

	/// The file a model is kept in.
	pub fn path_of(&self, id: &ModelId) -> PathBuf {
		self.dir.join(format!("{}.onnx", hex::encode(id)))
	}

	/// Whether the store has a file for the model (not yet checked against the id).
	pub fn contains(&self, id: &ModelId) -> bool {
		self.path_of(id).is_file()
	}

	/// Adds `bytes` as the model they hash to, and returns its id. Importing a model twice is
	/// harmless.
	pub fn import(&self, bytes: &[u8]) -> Result<ModelId, StoreError> {
		let size = bytes.len() as u64;
		if size > self.max_model_bytes {
			return Err(StoreError::TooLarge { limit: self.max_model_bytes, size });
		}
		let id = blake2_256(bytes);
		self.write(&id, bytes)?;
		Ok(id)
	}

	/// Adds the bytes of a file, and returns its id.
	pub fn import_file(&self, path: &Path) -> Result<ModelId, StoreError> {
		let io_error = |error| StoreError::Io { path: path.to_path_buf(), error };
		let size = fs::metadata(path).map_err(io_error)?.len();
		if size > self.max_model_bytes {
			return Err(StoreError::TooLarge { limit: self.max_model_bytes, size });
		}
		let bytes = fs::read(path).map_err(io_error)?;
		self.import(&bytes)
	}

	/// Adds `bytes` as model `id` if they hash to it.
	pub fn insert(&self, id: &ModelId, bytes: &[u8]) -> Result<(), StoreError> {
		let size = bytes.len() as u64;
		if size > self.max_model_bytes {
			return Err(StoreError::TooLarge { limit: self.max_model_bytes, size });
		}
		let found = blake2_256(bytes);
		if found != *id {
			return Err(StoreError::HashMismatch { expected: *id, found });
		}
		self.write(id, bytes)
	}

	/// The model's bytes if the store has them and they still hash to the id. A file that does
	/// not match is removed.
	pub fn get(&self, id: &ModelId) -> Result<Option<Vec<u8>>, StoreError> {
		let path = self.path_of(id);
		let bytes = match fs::read(&path) {
			Ok(bytes) => bytes,
			Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(error) => return Err(StoreError::Io { path, error }),
		};
		let found = blake2_256(&bytes);
		if found != *id {
			log::warn!(
				target: "verity-engine",
				"{} does not hash to its name ({}): removed",
				path.display(),
				hex_id(&found)
			);
			let _ = fs::remove_file(&path);
			return Ok(None);
		}
		Ok(Some(bytes))
	}

	/// The ids and sizes of the models in the store, sorted by id.
	pub fn list(&self) -> Result<Vec<(ModelId, u64)>, StoreError> {
		let io_error = |error| StoreError::Io { path: self.dir.clone(), error };
		let mut models = Vec::new();
		for entry in fs::read_dir(&self.dir).map_err(io_error)? {
			let entry = entry.map_err(io_error)?;
			let name = entry.file_name();
			let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".onnx")).and_then(parse_id)
			else {
				continue;
			};
			models.push((id, entry.metadata().map_err(io_error)?.len()));
		}
		models.sort();
		Ok(models)
	}

	/// Downloads model `id` from an `http://` or `https://` URI, reading at most the store's
	/// size limit, checks the bytes against the id and stores them.
	pub fn fetch(&self, id: &ModelId, uri: &str) -> Result<Vec<u8>, StoreError> {
		let fetch_error = |reason: String| StoreError::Fetch { uri: uri.to_string(), reason };
		if !(uri.starts_with("http://") || uri.starts_with("https://")) {
			return Err(fetch_error("only http:// and https:// URIs are supported".into()));
		}
		let agent: ureq::Agent = ureq::Agent::config_builder()
			.timeout_global(Some(Duration::from_secs(120)))
			.timeout_connect(Some(Duration::from_secs(10)))
			.http_status_as_error(true)
			.build()
			.into();
		let mut response = agent.get(uri).call().map_err(|e| fetch_error(e.to_string()))?;
		let limit = self.max_model_bytes;
		if let Some(size) = response.body().content_length() {
			if size > limit {
				return Err(StoreError::TooLarge { limit, size });
			}
		}
		let mut bytes = Vec::new();
		response
			.body_mut()
			.as_reader()
			.take(limit + 1)
			.read_to_end(&mut bytes)
			.map_err(|e| fetch_error(e.to_string()))?;
		if bytes.len() as u64 > limit {
			return Err(StoreError::TooLarge { limit, size: bytes.len() as u64 });
		}
		self.insert(id, &bytes)?;
		Ok(bytes)
	}

	fn write(&self, id: &ModelId, bytes: &[u8]) -> Result<(), StoreError> {
		let path = self.path_of(id);
		if path.is_file() {
			return Ok(());
		}
		// Write to a temporary file and rename it, so no reader ever sees a partial model.
		let tmp = self.dir.join(format!(".{}.{}.tmp", hex::encode(id), std::process::id()));
		let io_error = |error| StoreError::Io { path: tmp.clone(), error };
		let mut file = fs::File::create(&tmp).map_err(io_error)?;
		file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io_error)?;
		fs::rename(&tmp, &path).map_err(|error| StoreError::Io { path: path.clone(), error })
	}
}

impl ModelSource for ModelStore {
	fn model_bytes(&self, id: &ModelId) -> Result<Vec<u8>, StoreError> {
		self.get(id)?.ok_or(StoreError::NotFound(*id))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn store() -> (tempfile::TempDir, ModelStore) {
		let dir = tempfile::tempdir().unwrap();
		let store = ModelStore::open(dir.path().join("models")).unwrap();
		(dir, store)
	}

	#[test]
	fn import_names_the_file_by_hash() {
		let (_dir, store) = store();
		let id = store.import(b"model bytes").unwrap();
		assert_eq!(id, blake2_256(b"model bytes"));
		assert_eq!(store.get(&id).unwrap().unwrap(), b"model bytes");
		assert_eq!(store.list().unwrap(), vec![(id, 11)]);
		assert_eq!(store.import(b"model bytes").unwrap(), id);
	}

	#[test]
	fn insert_refuses_bytes_of_another_id() {
		let (_dir, store) = store();
		let id = blake2_256(b"right");
		let err = store.insert(&id, b"wrong").unwrap_err();
		assert!(matches!(err, StoreError::HashMismatch { expected, .. } if expected == id));
		assert!(!store.contains(&id));
	}

	#[test]
	fn a_tampered_file_is_removed_not_used() {
		let (_dir, store) = store();
		let id = store.import(b"original").unwrap();
		fs::write(store.path_of(&id), b"tampered").unwrap();
		assert!(store.get(&id).unwrap().is_none());
		assert!(!store.contains(&id));
		assert!(matches!(store.model_bytes(&id), Err(StoreError::NotFound(_))));
	}

	#[test]
	fn models_over_the_limit_are_refused() {
		let (_dir, store) = store();
		let store = store.with_max_model_bytes(4);
		assert!(matches!(store.import(b"12345"), Err(StoreError::TooLarge { limit: 4, size: 5 })));
	}

	#[test]
	fn ids_parse_with_or_without_prefix() {
		let id = blake2_256(b"x");
		assert_eq!(parse_id(&hex_id(&id)), Some(id));
		assert_eq!(parse_id(&hex::encode(id)), Some(id));
		assert_eq!(parse_id("0x1234"), None);
		assert_eq!(parse_id("zz"), None);
	}

	#[test]
	fn unsupported_uri_schemes_are_refused() {
		let (_dir, store) = store();
		let err = store.fetch(&[0; 32], "ftp://example.com/model.onnx").unwrap_err();
		assert!(err.to_string().contains("only http:// and https://"), "{err}");
	}
}
