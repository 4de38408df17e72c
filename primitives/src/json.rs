//! The JSON form of tensors, used over RPC and by scripts:
//! `{"name":"x","dtype":"f32","shape":[1,4],"data":[0.5,1,2,3]}`.
//!
//! `data` lists the elements in row-major order as JSON numbers (`true`/`false` or 0/1 for
//! bools). Parsing checks every element fits the dtype, the element count matches the shape, and
//! the bounds of [`crate::tensor`] hold.

use crate::tensor::{
	element_count, DType, Shape, Tensor, TensorName, MAX_NAME_LEN, MAX_RANK, MAX_TENSOR_BYTES,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a JSON tensor could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonError {
	/// Not of the form `{ name, dtype, shape, data }`; the parser's message says where.
	Malformed(String),
	/// The name is longer than [`MAX_NAME_LEN`] bytes.
	NameTooLong,
	/// The shape has more than [`MAX_RANK`] dimensions.
	RankTooHigh,
	/// `data` has a different number of elements than the shape.
	WrongElementCount { expected: u64, found: u64 },
	/// The element at this index is not a value of the dtype (wrong kind, or out of range).
	BadElement { index: usize, dtype: DType },
	/// The data is larger than [`MAX_TENSOR_BYTES`].
	TooLarge,
}

impl core::fmt::Display for JsonError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			JsonError::Malformed(e) => {
				write!(f, "not a tensor of the form {{name, dtype, shape, data}}: {e}")
			},
			JsonError::NameTooLong => write!(f, "tensor name longer than {MAX_NAME_LEN} bytes"),
			JsonError::RankTooHigh => write!(f, "tensor has more than {MAX_RANK} dimensions"),
			JsonError::WrongElementCount { expected, found } => {
				write!(f, "shape holds {expected} elements but data has {found}")
			},
			JsonError::BadElement { index, dtype } => {
				write!(f, "data[{index}] is not a {} value", dtype.name())
			},
			JsonError::TooLarge => write!(f, "tensor data larger than {MAX_TENSOR_BYTES} bytes"),
		}
	}
}

impl std::error::Error for JsonError {}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonTensor {
	name: String,
	dtype: DType,
	shape: Vec<u32>,
	data: Vec<Value>,
}

/// Reads a tensor from its JSON form.
pub fn tensor_from_json(value: Value) -> Result<Tensor, JsonError> {
	let json: JsonTensor =
		serde_json::from_value(value).map_err(|e| JsonError::Malformed(e.to_string()))?;
	let name: TensorName = json.name.into_bytes().try_into().map_err(|_| JsonError::NameTooLong)?;
	let shape: Shape = json.shape.try_into().map_err(|_| JsonError::RankTooHigh)?;
	let expected = element_count(&shape).unwrap_or(u64::MAX);
	if expected != json.data.len() as u64 {
		return Err(JsonError::WrongElementCount { expected, found: json.data.len() as u64 });
	}
	if json.data.len().saturating_mul(json.dtype.size()) > MAX_TENSOR_BYTES as usize {
		return Err(JsonError::TooLarge);
	}
	let mut data = Vec::with_capacity(json.data.len() * json.dtype.size());
	for (index, element) in json.data.iter().enumerate() {
		let bad = || JsonError::BadElement { index, dtype: json.dtype };
		match json.dtype {
			DType::F32 => data.extend((element.as_f64().ok_or_else(bad)? as f32).to_le_bytes()),
			DType::F64 => data.extend(element.as_f64().ok_or_else(bad)?.to_le_bytes()),
			DType::I64 => data.extend(element.as_i64().ok_or_else(bad)?.to_le_bytes()),
			DType::I32 => data.extend(int::<i32>(element).ok_or_else(bad)?.to_le_bytes()),
			DType::I8 => data.extend(int::<i8>(element).ok_or_else(bad)?.to_le_bytes()),
			DType::U8 => data.extend(int::<u8>(element).ok_or_else(bad)?.to_le_bytes()),
			DType::Bool => data.push(match element {
				Value::Bool(b) => u8::from(*b),
				other => match other.as_u64() {
					Some(v @ (0 | 1)) => v as u8,
					_ => return Err(bad()),
				},
			}),
		}
	}
	// The size was checked against MAX_TENSOR_BYTES above.
	let data = data.try_into().map_err(|_| JsonError::TooLarge)?;
	Ok(Tensor { name, dtype: json.dtype, shape, data })
}

fn int<T: TryFrom<i64>>(value: &Value) -> Option<T> {
	value.as_i64().and_then(|v| T::try_from(v).ok())
}

/// Writes a tensor in its JSON form. Floats print in their shortest exact form.
pub fn tensor_to_json(tensor: &Tensor) -> Value {
	let data = &tensor.data;
	let elements: Vec<Value> = match tensor.dtype {
		DType::F32 => data
			.chunks_exact(4)
			.map(|c| json_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
			.collect(),
		DType::F64 => data
			.chunks_exact(8)
			.map(|c| {
				let mut b = [0u8; 8];
				b.copy_from_slice(c);
				serde_json::Number::from_f64(f64::from_le_bytes(b))
					.map_or(Value::Null, Value::Number)
			})
			.collect(),
		DType::I64 => data
			.chunks_exact(8)
			.map(|c| {
				let mut b = [0u8; 8];
				b.copy_from_slice(c);
				Value::from(i64::from_le_bytes(b))
			})
			.collect(),
		DType::I32 => data
			.chunks_exact(4)
			.map(|c| Value::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
			.collect(),
		DType::I8 => data.iter().map(|&b| Value::from(b as i8)).collect(),
		DType::U8 => data.iter().map(|&b| Value::from(b)).collect(),
		DType::Bool => data.iter().map(|&b| Value::Bool(b != 0)).collect(),
	};
	serde_json::json!({
		"name": String::from_utf8_lossy(&tensor.name),
		"dtype": tensor.dtype,
		"shape": tensor.shape.to_vec(),
		"data": elements,
	})
}

/// An f32 as a JSON number written with f32's shortest round-trip digits (0.1, not
/// 0.10000000149011612); NaN and infinities have no JSON form and become `null`.
fn json_f32(value: f32) -> Value {
	if !value.is_finite() {
		return Value::Null;
	}
	// `f32`'s Debug form is its shortest round-trip form with a decimal point or exponent
	// ("3.0", "0.1", "1e30"), so it parses back as a JSON float.
	format!("{value:?}").parse::<serde_json::Number>().map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn round_trips_every_dtype() {
		for (dtype, data) in [
			("f32", json!([0.1, -2.5, 3.0])),
			("f64", json!([0.1, -2.5, 1e300])),
			("i64", json!([i64::MIN, 0, i64::MAX])),
			("i32", json!([-5, 0, 7])),
			("i8", json!([-128, 0, 127])),
			("u8", json!([0, 1, 255])),
			("bool", json!([true, false, true])),
		] {
			let value = json!({ "name": "x", "dtype": dtype, "shape": [1, 3], "data": data });
			let tensor = tensor_from_json(value.clone()).unwrap();
			assert_eq!(tensor.data.len(), 3 * tensor.dtype.size());
			assert_eq!(tensor_to_json(&tensor), value, "{dtype}");
		}
	}

	#[test]
	fn data_is_little_endian() {
		let t = tensor_from_json(json!({"name":"x","dtype":"i32","shape":[1],"data":[1]})).unwrap();
		assert_eq!(t.data.to_vec(), vec![1, 0, 0, 0]);
	}

	#[test]
	fn element_count_must_match_shape() {
		let err = tensor_from_json(json!({"name":"x","dtype":"f32","shape":[2,2],"data":[1,2,3]}));
		assert_eq!(err, Err(JsonError::WrongElementCount { expected: 4, found: 3 }));
	}

	#[test]
	fn out_of_range_and_wrong_kind_elements_are_refused() {
		let err = tensor_from_json(json!({"name":"x","dtype":"u8","shape":[2],"data":[1,256]}));
		assert_eq!(err, Err(JsonError::BadElement { index: 1, dtype: DType::U8 }));
		let err = tensor_from_json(json!({"name":"x","dtype":"i64","shape":[1],"data":[1.5]}));
		assert_eq!(err, Err(JsonError::BadElement { index: 0, dtype: DType::I64 }));
		let err = tensor_from_json(json!({"name":"x","dtype":"bool","shape":[1],"data":[2]}));
		assert_eq!(err, Err(JsonError::BadElement { index: 0, dtype: DType::Bool }));
		let err = tensor_from_json(json!({"name":"x","dtype":"f32","shape":[1],"data":["1"]}));
		assert_eq!(err, Err(JsonError::BadElement { index: 0, dtype: DType::F32 }));
	}

	#[test]
	fn unknown_dtype_and_fields_are_malformed() {
		let err = tensor_from_json(json!({"name":"x","dtype":"f16","shape":[1],"data":[1]}));
		assert!(matches!(err, Err(JsonError::Malformed(_))));
		let err = tensor_from_json(json!({"name":"x","dtype":"f32","shape":[1],"data":[1],"x":1}));
		assert!(matches!(err, Err(JsonError::Malformed(_))));
	}

	#[test]
	fn bounds_are_enforced() {
		let long = "n".repeat(MAX_NAME_LEN as usize + 1);
		let err = tensor_from_json(json!({"name":long,"dtype":"u8","shape":[1],"data":[1]}));
		assert_eq!(err, Err(JsonError::NameTooLong));
		let err = tensor_from_json(json!({"name":"x","dtype":"u8","shape":vec![1; 9],"data":[1]}));
		assert_eq!(err, Err(JsonError::RankTooHigh));
		let n = MAX_TENSOR_BYTES as usize / 8 + 1;
		let err =
			tensor_from_json(json!({"name":"x","dtype":"f64","shape":[n],"data":vec![0.0; n]}));
		assert_eq!(err, Err(JsonError::TooLarge));
	}
}
