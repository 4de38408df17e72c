//! Models fetched over HTTP: stored only when their bytes hash to the id and fit the limit.

mod common;

use common::{model_id, models_dir};
use std::{
	io::{BufRead, BufReader, Write},
	net::TcpListener,
	thread,
};
use verity_engine::{ModelStore, StoreError};

/// Serves `body` with status `status` to each of `requests` connections; returns the base URL.
fn serve(status: &'static str, body: Vec<u8>, requests: usize) -> String {
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
				"HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
				body.len()
			);
			let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
		}
	});
	url
}

fn store() -> (tempfile::TempDir, ModelStore) {
	let dir = tempfile::tempdir().unwrap();
	let store = ModelStore::open(dir.path()).unwrap();
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
