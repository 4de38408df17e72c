//! Tensors, model input specs, and input validation.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_core::{bounded::BoundedVec, ConstU32};
use scale_info::TypeInfo;

/// Longest tensor name, in bytes.
pub const MAX_NAME_LEN: u32 = 64;
/// Most dimensions a tensor may have.
pub const MAX_RANK: u32 = 8;
/// Largest tensor data, in bytes: 4 MiB. Runtimes and nodes may set lower limits.
pub const MAX_TENSOR_BYTES: u32 = 4 * 1024 * 1024;

/// A tensor's name (UTF-8), bounded.
pub type TensorName = BoundedVec<u8, ConstU32<MAX_NAME_LEN>>;
/// A tensor's concrete shape.
pub type Shape = BoundedVec<u32, ConstU32<MAX_RANK>>;
/// A tensor's elements, little-endian, bounded.
pub type TensorData = BoundedVec<u8, ConstU32<MAX_TENSOR_BYTES>>;

/// Element types a tensor may hold.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum DType {
	F32,
	F64,
	I64,
	I32,
	I8,
	U8,
	/// One byte per element, 0 or 1.
	Bool,
}

impl DType {
	/// Bytes per element.
	pub const fn size(self) -> usize {
		match self {
			DType::F64 | DType::I64 => 8,
			DType::F32 | DType::I32 => 4,
			DType::I8 | DType::U8 | DType::Bool => 1,
		}
	}

	/// Whether the elements are floating point (and so are rounded in canonical outputs).
	pub const fn is_float(self) -> bool {
		matches!(self, DType::F32 | DType::F64)
	}

	/// The lowercase name used in JSON and error messages.
	pub const fn name(self) -> &'static str {
		match self {
			DType::F32 => "f32",
			DType::F64 => "f64",
			DType::I64 => "i64",
			DType::I32 => "i32",
			DType::I8 => "i8",
			DType::U8 => "u8",
			DType::Bool => "bool",
		}
	}
}

/// A tensor: a named, typed, shaped block of little-endian elements.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Tensor {
	pub name: TensorName,
	pub dtype: DType,
	pub shape: Shape,
	pub data: TensorData,
}

impl Tensor {
	/// Number of elements the shape describes, or `None` when it overflows.
	pub fn element_count(&self) -> Option<u64> {
		element_count(&self.shape)
	}
}

/// Product of the dimensions, or `None` on overflow. A rank-0 shape holds one element.
pub fn element_count(shape: &[u32]) -> Option<u64> {
	shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)))
}

/// One dimension of a model's declared input or output shape.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Dim {
	/// Exactly this size.
	Fixed(u32),
	/// Any size (a batch dimension, say).
	Dynamic,
}

/// A model's declared input or output: name, element type and shape.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TensorSpec {
	pub name: TensorName,
	pub dtype: DType,
	pub shape: BoundedVec<Dim, ConstU32<MAX_RANK>>,
}

/// Why inputs do not fit a model's spec. One variant per cause, each naming the input (by its
/// position in the spec, or in the inputs for inputs the spec does not know).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum InputError {
	/// The spec's input at this index has no tensor of that name.
	MissingInput { spec_index: u32 },
	/// The tensor at this index has a name the spec does not declare.
	UnexpectedInput { input_index: u32 },
	/// The tensor at this index repeats the name of an earlier one.
	DuplicateInput { input_index: u32 },
	/// The input's element type differs from the spec's.
	WrongDType { spec_index: u32, expected: DType, found: DType },
	/// The input has a different number of dimensions than the spec.
	WrongRank { spec_index: u32, expected: u32, found: u32 },
	/// A fixed dimension of the spec has another size in the input.
	WrongDimension { spec_index: u32, axis: u32, expected: u32, found: u32 },
	/// The data holds a different number of bytes than shape × element size.
	WrongDataLength { spec_index: u32, expected_bytes: u64, found_bytes: u64 },
	/// A `bool` element is neither 0 nor 1.
	InvalidBool { spec_index: u32, element: u32 },
	/// All inputs together exceed the byte limit.
	TooLarge { limit: u32, found: u64 },
}

/// Checks `inputs` against the model's `specs`: every declared input present exactly once, no
/// others, each with the declared type, rank and fixed dimensions, data of exactly the size the
/// shape implies, bools 0 or 1, and all data together within `max_total_bytes`.
pub fn validate_inputs(
	specs: &[TensorSpec],
	inputs: &[Tensor],
	max_total_bytes: u32,
) -> Result<(), InputError> {
	let total: u64 = inputs.iter().map(|t| t.data.len() as u64).sum();
	if total > u64::from(max_total_bytes) {
		return Err(InputError::TooLarge { limit: max_total_bytes, found: total });
	}
	for (i, input) in inputs.iter().enumerate() {
		let input_index = i as u32;
		if inputs[..i].iter().any(|earlier| earlier.name == input.name) {
			return Err(InputError::DuplicateInput { input_index });
		}
		if !specs.iter().any(|spec| spec.name == input.name) {
			return Err(InputError::UnexpectedInput { input_index });
		}
	}
	for (s, spec) in specs.iter().enumerate() {
		let spec_index = s as u32;
		let input = inputs
			.iter()
			.find(|t| t.name == spec.name)
			.ok_or(InputError::MissingInput { spec_index })?;
		check_tensor(spec_index, spec, input)?;
	}
	Ok(())
}

fn check_tensor(spec_index: u32, spec: &TensorSpec, input: &Tensor) -> Result<(), InputError> {
	if input.dtype != spec.dtype {
		return Err(InputError::WrongDType {
			spec_index,
			expected: spec.dtype,
			found: input.dtype,
		});
	}
	if input.shape.len() != spec.shape.len() {
		return Err(InputError::WrongRank {
			spec_index,
			expected: spec.shape.len() as u32,
			found: input.shape.len() as u32,
		});
	}
	for (axis, (dim, &found)) in spec.shape.iter().zip(input.shape.iter()).enumerate() {
		if let Dim::Fixed(expected) = *dim {
			if expected != found {
				return Err(InputError::WrongDimension {
					spec_index,
					axis: axis as u32,
					expected,
					found,
				});
			}
		}
	}
	let found_bytes = input.data.len() as u64;
	// A shape whose byte size overflows u64 can never match bounded data.
	let expected_bytes = input
		.element_count()
		.and_then(|n| n.checked_mul(input.dtype.size() as u64))
		.unwrap_or(u64::MAX);
	if expected_bytes != found_bytes {
		return Err(InputError::WrongDataLength { spec_index, expected_bytes, found_bytes });
	}
	if input.dtype == DType::Bool {
		if let Some(element) = input.data.iter().position(|&b| b > 1) {
			return Err(InputError::InvalidBool { spec_index, element: element as u32 });
		}
	}
	Ok(())
}

/// Builds a tensor from parts, or `None` when a part exceeds its bound.
pub fn tensor(name: &str, dtype: DType, shape: &[u32], data: Vec<u8>) -> Option<Tensor> {
	Some(Tensor {
		name: name.as_bytes().to_vec().try_into().ok()?,
		dtype,
		shape: shape.to_vec().try_into().ok()?,
		data: data.try_into().ok()?,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn spec(name: &str, dtype: DType, shape: &[Dim]) -> TensorSpec {
		TensorSpec {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			dtype,
			shape: shape.to_vec().try_into().unwrap(),
		}
	}

	fn f32s(values: &[f32]) -> Vec<u8> {
		values.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	fn x_spec() -> Vec<TensorSpec> {
		vec![spec("x", DType::F32, &[Dim::Dynamic, Dim::Fixed(2)])]
	}

	#[test]
	fn matching_input_passes() {
		let x = tensor("x", DType::F32, &[3, 2], f32s(&[0.0; 6])).unwrap();
		assert_eq!(validate_inputs(&x_spec(), &[x], 1024), Ok(()));
	}

	#[test]
	fn missing_input_is_refused() {
		assert_eq!(
			validate_inputs(&x_spec(), &[], 1024),
			Err(InputError::MissingInput { spec_index: 0 })
		);
	}

	#[test]
	fn extra_input_is_refused() {
		let x = tensor("x", DType::F32, &[1, 2], f32s(&[0.0; 2])).unwrap();
		let y = tensor("y", DType::F32, &[1], f32s(&[0.0])).unwrap();
		assert_eq!(
			validate_inputs(&x_spec(), &[x, y], 1024),
			Err(InputError::UnexpectedInput { input_index: 1 })
		);
	}

	#[test]
	fn duplicate_input_is_refused() {
		let x = tensor("x", DType::F32, &[1, 2], f32s(&[0.0; 2])).unwrap();
		assert_eq!(
			validate_inputs(&x_spec(), &[x.clone(), x], 1024),
			Err(InputError::DuplicateInput { input_index: 1 })
		);
	}

	#[test]
	fn wrong_dtype_is_refused() {
		let x = tensor("x", DType::F64, &[1, 2], vec![0; 16]).unwrap();
		assert_eq!(
			validate_inputs(&x_spec(), &[x], 1024),
			Err(InputError::WrongDType { spec_index: 0, expected: DType::F32, found: DType::F64 })
		);
	}

	#[test]
	fn wrong_rank_is_refused() {
		let x = tensor("x", DType::F32, &[2], f32s(&[0.0; 2])).unwrap();
		assert_eq!(
			validate_inputs(&x_spec(), &[x], 1024),
			Err(InputError::WrongRank { spec_index: 0, expected: 2, found: 1 })
		);
	}

	#[test]
	fn wrong_fixed_dimension_is_refused() {
		let x = tensor("x", DType::F32, &[1, 3], f32s(&[0.0; 3])).unwrap();
		assert_eq!(
			validate_inputs(&x_spec(), &[x], 1024),
			Err(InputError::WrongDimension { spec_index: 0, axis: 1, expected: 2, found: 3 })
		);
	}

	#[test]
	fn data_of_the_wrong_length_is_refused() {
		let x = tensor("x", DType::F32, &[2, 2], f32s(&[0.0; 3])).unwrap();
		assert_eq!(
			validate_inputs(&x_spec(), &[x], 1024),
			Err(InputError::WrongDataLength { spec_index: 0, expected_bytes: 16, found_bytes: 12 })
		);
	}

	#[test]
	fn shape_whose_size_overflows_is_refused() {
		let x = tensor("x", DType::F32, &[u32::MAX, 2], f32s(&[0.0; 2])).unwrap();
		let err = validate_inputs(&x_spec(), &[x], 1024).unwrap_err();
		assert!(matches!(err, InputError::WrongDataLength { spec_index: 0, .. }));
	}

	#[test]
	fn bool_other_than_zero_or_one_is_refused() {
		let specs = vec![spec("mask", DType::Bool, &[Dim::Fixed(3)])];
		let mask = tensor("mask", DType::Bool, &[3], vec![0, 1, 2]).unwrap();
		assert_eq!(
			validate_inputs(&specs, &[mask], 1024),
			Err(InputError::InvalidBool { spec_index: 0, element: 2 })
		);
	}

	#[test]
	fn oversized_inputs_are_refused() {
		let x = tensor("x", DType::F32, &[4, 2], f32s(&[0.0; 8])).unwrap();
		assert_eq!(
			validate_inputs(&x_spec(), &[x], 16),
			Err(InputError::TooLarge { limit: 16, found: 32 })
		);
	}

	#[test]
	fn bounds_are_enforced_when_building() {
		assert!(tensor(&"n".repeat(65), DType::U8, &[1], vec![0]).is_none());
		assert!(tensor("x", DType::U8, &[1; 9], vec![0]).is_none());
	}
}
