//! The model store: ONNX files named by their id, `blake2_256` of their bytes.
//!
//! Bytes enter the store from a local import, from a URI, or (with the model registry) from the
//! chain's chunks, and every path checks them against the id first: bytes whose hash differs are
//! never stored, and a stored file that no longer matches its name is removed, not used.
//!
//! A store may have a disk budget ([`ModelStore::with_budget`]): a model that would go over it
//! makes room by removing the least recently used models that no job needs now (jobs
//! [`ModelSource::pin`] theirs); a model there is no room for is refused.

use crate::fetch::FetchPolicy;
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use std::{
	collections::HashMap,
	fmt, fs,
	io::{self, Write},
	path::{Path, PathBuf},
	sync::{Arc, Mutex, MutexGuard},
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
	/// The store's disk budget has no room for the model: the models jobs need now fill it.
	Full {
		budget: u64,
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
			Self::Full { budget, size } => write!(
				f,
				"no room for a model of {size} bytes in the model store's budget of {budget} \
				 bytes (the models in use fill it): raise --model-store-budget"
			),
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
	/// The model's bytes, which must hash to `id`. May fetch them (slowly) from elsewhere.
	fn model_bytes(&self, id: &ModelId) -> Result<Vec<u8>, StoreError>;

	/// Whether the bytes are at hand, so that [`ModelSource::model_bytes`] does not wait on a
	/// network.
	fn has_local(&self, _id: &ModelId) -> bool {
		true
	}

	/// A job needs `id` until the matching [`ModelSource::unpin`]: keep it.
	fn pin(&self, _id: &ModelId) {}

	/// A job that needed `id` is done.
	fn unpin(&self, _id: &ModelId) {}

	/// The limits the model declares where it is registered, if the source knows them.
	fn declared_limits(&self, _id: &ModelId) -> Option<verity_primitives::model::ModelLimits> {
		None
	}
}

/// Content-addressed model files in one directory.
#[derive(Clone, Debug)]
pub struct ModelStore {
	dir: PathBuf,
	max_model_bytes: u64,
	fetch_policy: FetchPolicy,
	/// What is in the store, what jobs need, and the budget; shared by clones.
	index: Arc<Mutex<Index>>,
}

/// The store's bookkeeping for its budget.
#[derive(Debug, Default)]
struct Index {
	budget: Option<u64>,
	/// Each model's size and when it was last used (a counter).
	models: HashMap<ModelId, (u64, u64)>,
	total: u64,
	clock: u64,
	/// Jobs needing each model now.
	pinned: HashMap<ModelId, u32>,
}

impl Index {
	fn touch(&mut self, id: &ModelId) {
		self.clock += 1;
		let now = self.clock;
		if let Some((_, used)) = self.models.get_mut(id) {
			*used = now;
		}
	}

	fn added(&mut self, id: ModelId, size: u64) {
		self.clock += 1;
		if let Some((old, _)) = self.models.insert(id, (size, self.clock)) {
			self.total = self.total.saturating_sub(old);
		}
		self.total = self.total.saturating_add(size);
	}

	fn removed(&mut self, id: &ModelId) {
		if let Some((size, _)) = self.models.remove(id) {
			self.total = self.total.saturating_sub(size);
		}
	}
}

impl ModelStore {
	/// Opens (creating if needed) the store in `dir`.
	pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
		let dir = dir.into();
		fs::create_dir_all(&dir).map_err(|error| StoreError::Io { path: dir.clone(), error })?;
		let store = Self {
			dir,
			max_model_bytes: DEFAULT_MAX_MODEL_BYTES,
			fetch_policy: FetchPolicy::default(),
			index: Arc::default(),
		};
		// The oldest file counts as the least recently used.
		let mut found: Vec<(std::time::SystemTime, ModelId, u64)> = Vec::new();
		for (id, size) in store.list()? {
			let modified = fs::metadata(store.path_of(&id))
				.and_then(|m| m.modified())
				.unwrap_or(std::time::UNIX_EPOCH);
			found.push((modified, id, size));
		}
		found.sort();
		let mut index = store.index();
		for (_, id, size) in found {
			index.added(id, size);
		}
		drop(index);
		Ok(store)
	}

	/// The same store with another size limit for models it takes in.
	pub fn with_max_model_bytes(mut self, limit: u64) -> Self {
		self.max_model_bytes = limit;
		self
	}

	/// The same store with a disk budget: at most `bytes` of models, the least recently used
	/// that no job needs removed to make room.
	pub fn with_budget(self, bytes: u64) -> Self {
		self.index().budget = Some(bytes);
		self
	}

	/// The same store with another policy for fetching models from URIs.
	pub fn with_fetch_policy(mut self, policy: FetchPolicy) -> Self {
		self.fetch_policy = policy;
		self
	}

	/// Bytes of models in the store.
	pub fn total_bytes(&self) -> u64 {
		self.index().total
	}

	fn index(&self) -> MutexGuard<'_, Index> {
		// The index is plain numbers: a panic elsewhere cannot leave it half-updated.
		self.index.lock().unwrap_or_else(|e| e.into_inner())
	}

	/// Removes the least recently used unpinned models until `size` more bytes fit the budget.
	fn make_room(&self, id: &ModelId, size: u64) -> Result<(), StoreError> {
		let mut index = self.index();
		let Some(budget) = index.budget else { return Ok(()) };
		if size > budget {
			return Err(StoreError::Full { budget, size });
		}
		while index.total.saturating_add(size) > budget {
			let victim = index
				.models
				.iter()
				.filter(|(m, _)| *m != id && !index.pinned.contains_key(*m))
				.min_by_key(|(_, (_, used))| *used)
				.map(|(m, _)| *m);
			let Some(victim) = victim else { return Err(StoreError::Full { budget, size }) };
			let _ = fs::remove_file(self.path_of(&victim));
			index.removed(&victim);
			log::info!(
				target: "verity-engine",
				"model {} removed from the store to stay within its budget",
				hex_id(&victim)
			);
		}
		Ok(())
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
			self.index().removed(id);
			return Ok(None);
		}
		self.index().touch(id);
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

	/// Downloads model `id` from an `http://` or `https://` URI under the store's fetch policy
	/// (public addresses only unless allowed, bounded redirects and time), reading at most the
	/// store's size limit, checks the bytes against the id and stores them.
	pub fn fetch(&self, id: &ModelId, uri: &str) -> Result<Vec<u8>, StoreError> {
		let bytes = crate::fetch::fetch(uri, self.max_model_bytes, &self.fetch_policy)?;
		self.insert(id, &bytes)?;
		Ok(bytes)
	}

	/// Removes a model from the store.
	pub fn remove(&self, id: &ModelId) -> Result<(), StoreError> {
		let path = self.path_of(id);
		match fs::remove_file(&path) {
			Ok(()) => {},
			Err(error) if error.kind() == io::ErrorKind::NotFound => {},
			Err(error) => return Err(StoreError::Io { path, error }),
		}
		self.index().removed(id);
		Ok(())
	}

	fn write(&self, id: &ModelId, bytes: &[u8]) -> Result<(), StoreError> {
		let path = self.path_of(id);
		if path.is_file() {
			self.index().touch(id);
			return Ok(());
		}
		self.make_room(id, bytes.len() as u64)?;
		// Write to a temporary file and rename it, so no reader ever sees a partial model.
		let tmp = self.dir.join(format!(".{}.{}.tmp", hex::encode(id), std::process::id()));
		let io_error = |error| StoreError::Io { path: tmp.clone(), error };
		let mut file = fs::File::create(&tmp).map_err(io_error)?;
		file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io_error)?;
		fs::rename(&tmp, &path).map_err(|error| StoreError::Io { path: path.clone(), error })?;
		self.index().added(*id, bytes.len() as u64);
		Ok(())
	}
}

impl ModelSource for ModelStore {
	fn model_bytes(&self, id: &ModelId) -> Result<Vec<u8>, StoreError> {
		self.get(id)?.ok_or(StoreError::NotFound(*id))
	}

	fn has_local(&self, id: &ModelId) -> bool {
		self.contains(id)
	}

	fn pin(&self, id: &ModelId) {
		*self.index().pinned.entry(*id).or_default() += 1;
	}

	fn unpin(&self, id: &ModelId) {
		let mut index = self.index();
		if let Some(count) = index.pinned.get_mut(id) {
			*count -= 1;
			if *count == 0 {
				index.pinned.remove(id);
			}
		}
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
	fn the_budget_evicts_the_least_recently_used_unpinned_model() {
		let (_dir, store) = store();
		let store = store.with_budget(10);
		let a = store.import(b"aaaa").unwrap();
		let b = store.import(b"bbbb").unwrap();
		store.pin(&a);
		// Room for c: b goes (a is pinned, though older).
		let c = store.import(b"ccc").unwrap();
		assert!(store.contains(&a) && !store.contains(&b) && store.contains(&c));
		assert_eq!(store.total_bytes(), 7);
		// With c pinned too, nothing can make room for 6 more bytes.
		store.pin(&c);
		assert!(matches!(store.import(b"dddddd"), Err(StoreError::Full { budget: 10, size: 6 })));
		store.unpin(&a);
		let d = store.import(b"dddddd").unwrap();
		assert!(!store.contains(&a) && store.contains(&c) && store.contains(&d));
		// A model larger than the whole budget is refused outright.
		assert!(matches!(store.import(&[0; 11]), Err(StoreError::Full { .. })));
	}

	#[test]
	fn a_reopened_store_knows_its_models() {
		let (dir, store) = store();
		store.import(b"first").unwrap();
		store.import(b"second").unwrap();
		let reopened = ModelStore::open(dir.path().join("models")).unwrap();
		assert_eq!(reopened.total_bytes(), 11);
	}

	#[test]
	fn unsupported_uri_schemes_are_refused() {
		let (_dir, store) = store();
		let err = store.fetch(&[0; 32], "ftp://example.com/model.onnx").unwrap_err();
		assert!(err.to_string().contains("only http:// and https://"), "{err}");
	}
}
