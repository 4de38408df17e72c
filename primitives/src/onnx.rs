//! A structural check of ONNX model bytes that the runtime and the engine share.
//!
//! ONNX lets a tensor keep its data outside the model file ("external data": a path relative to
//! the model, read by the runtime that loads it). A model on Verity is only its bytes, identified
//! by their hash: a reference to a file would make validators read whatever sits at that path on
//! their machine. [`check_model`] walks the protobuf of a `ModelProto` and refuses any tensor that
//! says its data lives elsewhere, wherever it is nested (graph initializers, sparse initializers,
//! `Constant` node attributes, subgraphs of `If`/`Loop`/`Scan`, functions, training graphs).
//!
//! The walk reads each byte at most once and descends at most [`MAX_DEPTH`] messages deep; it
//! allocates nothing, so the runtime can afford it on every uploaded model. It is not a full
//! ONNX validator: bytes that pass may still be a model ONNX Runtime refuses.

/// Deepest nesting of messages the check follows (ONNX Runtime's own limit on nested graphs is
/// lower than this).
pub const MAX_DEPTH: u32 = 64;

/// Why bytes are not an acceptable ONNX model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelCheckError {
	/// The bytes are not a well-formed protobuf message.
	Malformed,
	/// Messages are nested deeper than [`MAX_DEPTH`].
	TooDeep,
	/// A tensor keeps its data outside the model (`data_location = EXTERNAL` or
	/// `external_data` entries).
	ExternalData,
}

/// The messages the walk looks into; every other field is skipped.
#[derive(Clone, Copy)]
enum Message {
	Model,
	Graph,
	Node,
	Attribute,
	Function,
	TrainingInfo,
	Tensor,
	SparseTensor,
}

impl Message {
	/// The message a length-delimited field holds, if the walk looks into it.
	fn field(self, number: u64) -> Option<Message> {
		use Message::*;
		Some(match (self, number) {
			(Model, 7) => Graph,
			(Model, 20) => TrainingInfo,
			(Model, 25) => Function,
			(Graph, 1) => Node,
			(Graph, 5) => Tensor,
			(Graph, 15) => SparseTensor,
			(Node, 5) => Attribute,
			(Attribute, 5 | 10) => Tensor,
			(Attribute, 6 | 11) => Graph,
			(Attribute, 22 | 23) => SparseTensor,
			(Function, 7) => Node,
			(Function, 11) => Attribute,
			(TrainingInfo, 1 | 2) => Graph,
			(SparseTensor, 1 | 2) => Tensor,
			_ => return None,
		})
	}
}

/// `TensorProto.external_data` (repeated entries: any one means external data).
const TENSOR_EXTERNAL_DATA: u64 = 13;
/// `TensorProto.data_location` (`EXTERNAL` = 1).
const TENSOR_DATA_LOCATION: u64 = 14;
const DATA_LOCATION_EXTERNAL: u64 = 1;

/// Checks that `bytes` are a well-formed `ModelProto` whose tensors all hold their own data.
pub fn check_model(bytes: &[u8]) -> Result<(), ModelCheckError> {
	walk(bytes, Message::Model, 0)
}

fn walk(mut bytes: &[u8], message: Message, depth: u32) -> Result<(), ModelCheckError> {
	if depth >= MAX_DEPTH {
		return Err(ModelCheckError::TooDeep);
	}
	while !bytes.is_empty() {
		let key = varint(&mut bytes)?;
		let (number, wire_type) = (key >> 3, key & 7);
		if number == 0 {
			return Err(ModelCheckError::Malformed);
		}
		match wire_type {
			0 => {
				let value = varint(&mut bytes)?;
				if matches!(message, Message::Tensor)
					&& number == TENSOR_DATA_LOCATION
					&& value == DATA_LOCATION_EXTERNAL
				{
					return Err(ModelCheckError::ExternalData);
				}
			},
			1 => bytes = skip(bytes, 8)?,
			2 => {
				let len =
					usize::try_from(varint(&mut bytes)?).map_err(|_| ModelCheckError::Malformed)?;
				if len > bytes.len() {
					return Err(ModelCheckError::Malformed);
				}
				let (field, rest) = bytes.split_at(len);
				if matches!(message, Message::Tensor) && number == TENSOR_EXTERNAL_DATA {
					return Err(ModelCheckError::ExternalData);
				}
				if let Some(inner) = message.field(number) {
					walk(field, inner, depth + 1)?;
				}
				bytes = rest;
			},
			5 => bytes = skip(bytes, 4)?,
			// Groups (3, 4) are not used by ONNX; 6 and 7 do not exist.
			_ => return Err(ModelCheckError::Malformed),
		}
	}
	Ok(())
}

fn skip(bytes: &[u8], n: usize) -> Result<&[u8], ModelCheckError> {
	bytes.get(n..).ok_or(ModelCheckError::Malformed)
}

/// Reads a base-128 varint of at most 10 bytes.
fn varint(bytes: &mut &[u8]) -> Result<u64, ModelCheckError> {
	let mut value = 0u64;
	for i in 0..10 {
		let (&byte, rest) = bytes.split_first().ok_or(ModelCheckError::Malformed)?;
		*bytes = rest;
		value |= u64::from(byte & 0x7f) << (7 * i);
		if byte & 0x80 == 0 {
			return Ok(value);
		}
	}
	Err(ModelCheckError::Malformed)
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec::Vec;

	fn varint_bytes(mut v: u64, out: &mut Vec<u8>) {
		loop {
			let byte = (v & 0x7f) as u8;
			v >>= 7;
			if v == 0 {
				out.push(byte);
				return;
			}
			out.push(byte | 0x80);
		}
	}

	/// A length-delimited field.
	fn message(number: u64, body: &[u8]) -> Vec<u8> {
		let mut out = Vec::new();
		varint_bytes(number << 3 | 2, &mut out);
		varint_bytes(body.len() as u64, &mut out);
		out.extend_from_slice(body);
		out
	}

	fn int(number: u64, value: u64) -> Vec<u8> {
		let mut out = Vec::new();
		varint_bytes(number << 3, &mut out);
		varint_bytes(value, &mut out);
		out
	}

	fn tensor(extra: &[u8]) -> Vec<u8> {
		// dims = 2, data_type = FLOAT, name = "w", raw_data of 8 bytes
		let mut body = [int(1, 2), int(2, 1), message(8, b"w"), message(9, &[0; 8])].concat();
		body.extend_from_slice(extra);
		body
	}

	fn model(graph: &[u8]) -> Vec<u8> {
		[int(1, 8), message(7, graph)].concat()
	}

	#[test]
	fn a_model_with_inline_initializers_passes() {
		let graph = [message(5, &tensor(&[])), message(2, b"graph")].concat();
		assert_eq!(check_model(&model(&graph)), Ok(()));
		assert_eq!(check_model(&[]), Ok(()));
	}

	#[test]
	fn external_data_in_an_initializer_is_refused() {
		let location = message(5, &tensor(&int(14, 1)));
		assert_eq!(check_model(&model(&location)), Err(ModelCheckError::ExternalData));
		let entry = [message(1, b"location"), message(2, b"/etc/passwd")].concat();
		let entries = message(5, &tensor(&message(13, &entry)));
		assert_eq!(check_model(&model(&entries)), Err(ModelCheckError::ExternalData));
	}

	#[test]
	fn external_data_nested_in_a_subgraph_attribute_is_refused() {
		let inner_graph = message(5, &tensor(&int(14, 1)));
		let attribute = [message(1, b"then_branch"), message(6, &inner_graph)].concat();
		let node = [message(4, b"If"), message(5, &attribute)].concat();
		let graph = message(1, &node);
		assert_eq!(check_model(&model(&graph)), Err(ModelCheckError::ExternalData));
		// The same tensor in a Constant node's `value` attribute, and in a sparse initializer.
		let attribute =
			message(5, &[message(1, b"value"), message(5, &tensor(&int(14, 1)))].concat());
		let graph = message(1, &attribute);
		assert_eq!(check_model(&model(&graph)), Err(ModelCheckError::ExternalData));
		let sparse = message(15, &message(1, &tensor(&int(14, 1))));
		assert_eq!(check_model(&model(&sparse)), Err(ModelCheckError::ExternalData));
	}

	#[test]
	fn the_default_data_location_passes() {
		let graph = message(5, &tensor(&int(14, 0)));
		assert_eq!(check_model(&model(&graph)), Ok(()));
	}

	#[test]
	fn malformed_bytes_are_refused() {
		assert_eq!(check_model(b"\x08"), Err(ModelCheckError::Malformed));
		assert_eq!(check_model(b"\x3a\x10short"), Err(ModelCheckError::Malformed));
		assert_eq!(check_model(&[0xff; 11]), Err(ModelCheckError::Malformed));
		assert_eq!(check_model(b"\x0b"), Err(ModelCheckError::Malformed));
	}

	#[test]
	fn nesting_is_bounded() {
		let mut graph = message(5, &tensor(&[]));
		for _ in 0..MAX_DEPTH {
			let attribute = message(6, &graph);
			graph = message(1, &message(5, &attribute));
		}
		assert_eq!(check_model(&model(&graph)), Err(ModelCheckError::TooDeep));
	}
}
