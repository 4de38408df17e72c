//! Helpers for tests that run the real `verity-node` binary.

#![allow(dead_code)]

use std::{
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::Path,
	process::{Child, Command, Output, Stdio},
	time::{Duration, Instant},
};

/// The bundled models, found where `cargo test` runs the tests from: a clone sharing the target
/// directory with another may have been given the other's compiled-in path.
pub fn models_dir() -> std::path::PathBuf {
	std::path::PathBuf::from(
		std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
	)
	.join("../models")
}

/// A bundled model's fixtures file.
pub fn fixtures(model: &str) -> serde_json::Value {
	let path = models_dir().join(format!("{model}.fixtures.json"));
	serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The node binary cargo built for these tests.
pub const NODE: &str = env!("CARGO_BIN_EXE_verity-node");

/// Runs the node with `args` to completion.
pub fn run_node(args: &[&str]) -> Output {
	Command::new(NODE).args(args).output().expect("the node binary runs")
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind").port()
}

/// A running node, killed when dropped.
pub struct RunningNode {
	pub child: Child,
	pub rpc_port: u16,
}

impl RunningNode {
	/// Starts a dev-chain node keeping its data in `base_path`.
	pub fn start_dev(base_path: &Path) -> Self {
		Self::start_dev_with(base_path, &[])
	}

	/// Starts a dev-chain node keeping its data in `base_path`, with more options.
	pub fn start_dev_with(base_path: &Path, args: &[&str]) -> Self {
		let rpc_port = free_port();
		let child = Command::new(NODE)
			.args(["--dev", "--no-prometheus", "--no-telemetry", "--no-mdns"])
			.args(["--listen-addr", "/ip4/127.0.0.1/tcp/0"])
			.args(["--rpc-port", &rpc_port.to_string()])
			.arg("--base-path")
			.arg(base_path)
			.args(args)
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.expect("the node starts");
		Self { child, rpc_port }
	}

	/// Calls a JSON-RPC method; `None` while the node is not answering.
	pub fn rpc(&self, method: &str, params: serde_json::Value) -> Option<serde_json::Value> {
		rpc_call(self.rpc_port, method, params)
	}

	/// Calls a JSON-RPC method and returns the whole response (`result` or `error`).
	pub fn rpc_response(
		&self,
		method: &str,
		params: serde_json::Value,
	) -> Option<serde_json::Value> {
		rpc_exchange(self.rpc_port, method, params)
	}

	/// Waits until `check` returns `Some`, or panics after `timeout`.
	pub fn wait_for<T>(&self, timeout: Duration, mut check: impl FnMut(&Self) -> Option<T>) -> T {
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(value) = check(self) {
				return value;
			}
			assert!(Instant::now() < deadline, "the node did not reach the expected state in time");
			std::thread::sleep(Duration::from_millis(250));
		}
	}

	/// The best block number the node reports.
	pub fn best_number(&self) -> Option<u64> {
		self.header_number(serde_json::json!([]))
	}

	/// The finalized block number the node reports.
	pub fn finalized_number(&self) -> Option<u64> {
		let hash = self.rpc("chain_getFinalizedHead", serde_json::json!([]))?;
		self.header_number(serde_json::json!([hash]))
	}

	/// The number in the header `chain_getHeader` returns for `params`.
	fn header_number(&self, params: serde_json::Value) -> Option<u64> {
		let header = self.rpc("chain_getHeader", params)?;
		let number = header.get("number")?.as_str()?;
		u64::from_str_radix(number.trim_start_matches("0x"), 16).ok()
	}

	/// Stops the node (SIGKILL) and waits for it to exit.
	pub fn stop(mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Drop for RunningNode {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// A JSON-RPC call over plain HTTP: returns the `result`, or `None` on any failure.
pub fn rpc_call(port: u16, method: &str, params: serde_json::Value) -> Option<serde_json::Value> {
	rpc_exchange(port, method, params)?.get("result").cloned()
}

/// A JSON-RPC call over plain HTTP: returns the response object, or `None` when the node did
/// not answer.
pub fn rpc_exchange(
	port: u16,
	method: &str,
	params: serde_json::Value,
) -> Option<serde_json::Value> {
	let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params })
		.to_string();
	let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
	stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
	write!(
		stream,
		"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{}",
		body.len(),
		body
	)
	.ok()?;
	let mut response = String::new();
	stream.read_to_string(&mut response).ok()?;
	let json_start = response.find("\r\n\r\n")? + 4;
	let body = &response[json_start..];
	let body = &body[body.find('{')?..=body.rfind('}')?];
	serde_json::from_str(body).ok()
}

/// The text a failed command printed, for assertion messages.
pub fn stderr(output: &Output) -> String {
	String::from_utf8_lossy(&output.stderr).into_owned()
}
