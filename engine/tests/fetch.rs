//! Models fetched over HTTP: stored only when their bytes hash to the id and fit the limit, from
//! public addresses only unless allowed, with bounded redirects and time.

mod common;

use common::{model_id, models_dir};
use std::{
	io::{BufRead, BufReader, Write},
	net::TcpListener,
	thread,
	time::Duration,
};
use verity_engine::{fetch::FetchPolicy, ModelStore, StoreError};

/// Serves `body` with status `status` to each of `requests` connections; returns the base URL.
fn serve(status: &'static str, body: Vec<u8>, requests: usize) -> String {
	serve_with(status, "", body, requests, Duration::ZERO)
}

/// Like [`serve`], with extra header lines and a pause between the body's bytes.
fn serve_with(
	status: &'static str,
	headers: &'static str,
	body: Vec<u8>,
	requests: usize,
	trickle: Duration,
) -> String {
	let listener = TcpListener::bind("127.0.0.1:0").unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	thread::spawn(move || {
		for stream in listener.incoming().take(requests) {
			let mut stream = stream.unwrap();
			let mut reader = BufReader::new(stream.try_clone().unwrap());
			let mut line = String::new();
			while reader.read_line(&mut line).unwrap() > 2 {
				line.clear();
			}
			let head = format!(
				"HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
				body.len()
			);
			if trickle.is_zero() {
				let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
				continue;
			}
			let _ = stream.write_all(head.as_bytes());
			for byte in &body {
				if stream.write_all(&[*byte]).is_err() {
					break;
				}
				thread::sleep(trickle);
			}
		}
	});
	url
}

/// A store that may fetch from loopback, where these tests serve.
fn store() -> (tempfile::TempDir, ModelStore) {
	let dir = tempfile::tempdir().unwrap();
	let policy = FetchPolicy { allow_private: true, ..FetchPolicy::default() };
	let store = ModelStore::open(dir.path()).unwrap().with_fetch_policy(policy);
	(dir, store)
}

#[test]
fn a_model_fetched_by_uri_is_stored_under_its_id() {
	let bytes = std::fs::read(models_dir().join("mlp_classifier.onnx")).unwrap();
	let id = model_id("mlp_classifier.onnx");
	let url = serve("200 OK", bytes.clone(), 1);
	let (_dir, store) = store();
	assert_eq!(store.fetch(&id, &format!("{url}/mlp.onnx")).unwrap(), bytes);
	assert_eq!(store.get(&id).unwrap(), Some(bytes));
}

#[test]
fn fetched_bytes_of_another_model_are_refused() {
	let bytes = std::fs::read(models_dir().join("mlp_classifier.onnx")).unwrap();
	let id = model_id("linear_regressor.onnx");
	let url = serve("200 OK", bytes, 1);
	let (_dir, store) = store();
	let err = store.fetch(&id, &url).unwrap_err();
	assert!(matches!(err, StoreError::HashMismatch { expected, .. } if expected == id), "{err}");
	assert!(!store.contains(&id));
}

#[test]
fn a_download_over_the_size_limit_is_refused() {
	let bytes = std::fs::read(models_dir().join("cnn_mnist.onnx")).unwrap();
	let id = model_id("cnn_mnist.onnx");
	let url = serve("200 OK", bytes, 1);
	let (_dir, store) = store();
	let store = store.with_max_model_bytes(1000);
	let err = store.fetch(&id, &url).unwrap_err();
	assert!(matches!(err, StoreError::TooLarge { limit: 1000, .. }), "{err}");
	assert!(!store.contains(&id));
}

#[test]
fn an_http_error_is_a_fetch_error() {
	let url = serve("404 Not Found", b"no such model".to_vec(), 1);
	let (_dir, store) = store();
	let err = store.fetch(&[1; 32], &url).unwrap_err();
	assert!(matches!(err, StoreError::Fetch { .. }), "{err}");
	assert!(err.to_string().contains("404"), "{err}");
}

#[test]
fn loopback_and_private_addresses_are_refused_unless_allowed() {
	let bytes = std::fs::read(models_dir().join("mlp_classifier.onnx")).unwrap();
	let id = model_id("mlp_classifier.onnx");
	let dir = tempfile::tempdir().unwrap();
	let store = ModelStore::open(dir.path()).unwrap();
	for uri in [
		serve("200 OK", bytes.clone(), 1),
		"http://localhost:1/model.onnx".to_string(),
		"http://10.0.0.1/model.onnx".to_string(),
		"http://169.254.169.254/latest/meta-data/".to_string(),
		"http://[::1]:1/model.onnx".to_string(),
	] {
		let err = store.fetch(&id, &uri).unwrap_err();
		assert!(err.to_string().contains("--allow-private-model-uris"), "{uri}: {err}");
	}
	assert!(!store.contains(&id));
}

#[test]
fn redirects_are_followed_a_bounded_number_of_times() {
	let bytes = std::fs::read(models_dir().join("mlp_classifier.onnx")).unwrap();
	let id = model_id("mlp_classifier.onnx");
	let target = serve("200 OK", bytes.clone(), 1);
	let location: &'static str =
		Box::leak(format!("Location: {target}/m.onnx\r\n").into_boxed_str());
	let hop = serve_with("302 Found", location, Vec::new(), 1, Duration::ZERO);
	let (_dir, first) = store();
	assert_eq!(first.fetch(&id, &hop).unwrap(), bytes);

	// A chain of four redirects: one more than allowed.
	let mut next = serve("200 OK", bytes, 1);
	for _ in 0..4 {
		let location: &'static str =
			Box::leak(format!("Location: {next}/m.onnx\r\n").into_boxed_str());
		next = serve_with("302 Found", location, Vec::new(), 1, Duration::ZERO);
	}
	let (_dir, store) = store();
	let err = store.fetch(&id, &next).unwrap_err();
	assert!(matches!(err, StoreError::Fetch { .. }), "{err}");
	assert!(!store.contains(&id));
}

#[test]
fn a_download_that_takes_too_long_is_abandoned() {
	let id = model_id("mlp_classifier.onnx");
	let url = serve_with("200 OK", "", vec![0; 64], 1, Duration::from_millis(100));
	let dir = tempfile::tempdir().unwrap();
	let policy = FetchPolicy {
		allow_private: true,
		total_time: Duration::from_secs(1),
		..FetchPolicy::default()
	};
	let store = ModelStore::open(dir.path()).unwrap().with_fetch_policy(policy);
	// The whole body would take 6.4 s (and then not hash to the id): the budget ends it first.
	let err = store.fetch(&id, &url).unwrap_err();
	assert!(matches!(err, StoreError::Fetch { .. }), "{err}");
}
