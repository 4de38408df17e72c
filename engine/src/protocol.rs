//! The small protocol between the node and its inference workers.
//!
//! The node starts each worker (`verity-inference-worker`) with its stdin and stdout as two
//! pipes and speaks in frames: a little-endian `u32` length, then that many bytes of a
//! SCALE-encoded [`Request`] (node to worker) or [`Response`] (worker to node). The worker first
//! says [`Response::Ready`], then answers each request with one response. Its stderr is the
//! node's to log.
//!
//! The node trusts nothing a worker says: frames are bounded, and a frame that does not decode
//! (or a worker that stops answering) is treated like a crash.

use codec::{Decode, Encode};
use std::io::{self, Read, Write};
use verity_primitives::{model::ModelLimits, ModelId, Outcome, Tensor};

/// Raised whenever a message changes meaning; a worker of another version is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest frame the node sends (a model of 256 MiB, inputs, a little more).
pub const MAX_REQUEST_FRAME: u32 = 300 * 1024 * 1024;

/// Largest frame the node reads from a worker: the largest outcome, and raw outputs of the same
/// size, with room for the rest.
pub const MAX_RESPONSE_FRAME: u32 = 2 * verity_primitives::inference::MAX_OUTCOME_BYTES + 4096;

/// From the node to a worker.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Request {
	/// Run one inference.
	Run(RunRequest),
}

/// One inference.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct RunRequest {
	pub model: ModelId,
	/// The model's bytes, when the node does not know the worker to have the model loaded. A
	/// worker that needs them and did not get them answers [`Response::NeedModel`].
	pub bytes: Option<Vec<u8>>,
	pub inputs: Vec<Tensor>,
	pub output_decimals: u8,
	pub limits: ModelLimits,
	/// Whether to send the raw outputs back (for simulations); jobs need only the outcome.
	pub raw_outputs: bool,
}

/// From a worker to the node.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Response {
	/// The worker started: its protocol and ONNX Runtime are loaded, its limits in place.
	Ready {
		protocol: u32,
		/// The engine crate's version.
		version: Vec<u8>,
		/// Whether the filesystem sandbox (Landlock) is enforced.
		sandboxed: bool,
	},
	/// The worker could not start.
	Failed { reason: Vec<u8> },
	/// The worker does not have the model loaded: send the request again with its bytes.
	NeedModel,
	/// The model this request brought is loaded (or failed to load); the run comes next.
	Loaded,
	/// The inference's outcome.
	Done(RunResult),
}

/// What one inference gave and cost.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct RunResult {
	pub outcome: Outcome,
	/// The raw outputs, when asked for and the run succeeded.
	pub outputs: Vec<Tensor>,
	/// Whether the model was loaded for this request.
	pub loaded: bool,
	/// CPU time of the run, in microseconds.
	pub cpu_micros: u64,
	/// Wall-clock time in the worker, loading included, in microseconds.
	pub wall_micros: u64,
	/// The worker's peak resident memory so far, in bytes.
	pub peak_rss: u64,
}

/// Writes one frame.
pub fn write_frame(out: &mut impl Write, message: &impl Encode) -> io::Result<()> {
	let bytes = message.encode();
	let len = u32::try_from(bytes.len())
		.map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
	out.write_all(&len.to_le_bytes())?;
	out.write_all(&bytes)?;
	out.flush()
}

/// Reads one frame of at most `max` bytes and decodes it. End of stream before a frame is
/// `UnexpectedEof`.
pub fn read_frame<T: Decode>(input: &mut impl Read, max: u32) -> io::Result<T> {
	let mut len = [0u8; 4];
	input.read_exact(&mut len)?;
	let len = u32::from_le_bytes(len);
	if len > max {
		return Err(io::Error::new(
			io::ErrorKind::InvalidData,
			format!("frame of {len} bytes is over the limit of {max}"),
		));
	}
	let mut bytes = vec![0u8; len as usize];
	input.read_exact(&mut bytes)?;
	T::decode(&mut &bytes[..])
		.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("bad frame: {e}")))
}

#[cfg(test)]
mod tests {
	use super::*;
	use verity_primitives::ErrorCode;

	#[test]
	fn frames_round_trip() {
		let mut pipe = Vec::new();
		let response = Response::Done(RunResult {
			outcome: Outcome::Failure(ErrorCode::Timeout),
			outputs: vec![],
			loaded: true,
			cpu_micros: 1,
			wall_micros: 2,
			peak_rss: 3,
		});
		write_frame(&mut pipe, &response).unwrap();
		write_frame(&mut pipe, &Response::NeedModel).unwrap();
		let mut reader = &pipe[..];
		assert_eq!(read_frame::<Response>(&mut reader, 1024).unwrap(), response);
		assert_eq!(read_frame::<Response>(&mut reader, 1024).unwrap(), Response::NeedModel);
		let eof = read_frame::<Response>(&mut reader, 1024).unwrap_err();
		assert_eq!(eof.kind(), io::ErrorKind::UnexpectedEof);
	}

	#[test]
	fn oversized_and_garbled_frames_are_refused() {
		let mut pipe = Vec::new();
		write_frame(&mut pipe, &Response::NeedModel).unwrap();
		let err = read_frame::<Response>(&mut &pipe[..], 0).unwrap_err();
		assert_eq!(err.kind(), io::ErrorKind::InvalidData);
		let garbled = [1u8, 0, 0, 0, 0xff];
		let err = read_frame::<Response>(&mut &garbled[..], 1024).unwrap_err();
		assert_eq!(err.kind(), io::ErrorKind::InvalidData);
	}
}
