//! Canonical outputs and the result hash validators commit to.
//!
//! Validators run a model on different machines; their raw float outputs may differ in the last
//! bits. They agree instead on a canonical form: every float element is turned into the integer
//! nearest to `value × 10^output_decimals` (ties to even), computed exactly from the float's bits
//! so the rounding never depends on floating-point arithmetic. Integer and bool elements pass
//! through as their little-endian bytes. The result hash is `blake2_256` of the SCALE-encoded
//! [`Outcome`], so a failure (with its [`ErrorCode`]) is hashed and agreed on like a success.

use crate::tensor::{DType, Tensor};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Most decimals a model's outputs may keep: 10^18 still fits an i64.
pub const MAX_OUTPUT_DECIMALS: u8 = 18;

/// The data of a canonical output tensor.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum CanonicalData {
	/// Float elements as fixed-point integers: `value × 10^decimals`, rounded half to even.
	Fixed(Vec<i64>),
	/// Integer and bool elements, their little-endian bytes unchanged.
	Raw(Vec<u8>),
}

/// One output tensor in canonical form.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct CanonicalTensor {
	pub name: Vec<u8>,
	/// The dtype the model produced (the data of a float output is [`CanonicalData::Fixed`]).
	pub dtype: DType,
	pub shape: Vec<u32>,
	pub data: CanonicalData,
}

/// Canonical error codes: why a job's execution produced no outputs. Every honest validator
/// reaches the same code for the same job, so a quorum can agree on a failure.
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
pub enum ErrorCode {
	/// The model bytes are not a model ONNX Runtime can load.
	InvalidModel,
	/// The inputs passed the on-chain checks but the model rejected them at execution.
	InvalidInput,
	/// The inputs exceed the executor's input size limit.
	InputTooLarge,
	/// The inference ran past its time limit (the model's declared CPU time, or the executor's
	/// wall-clock bound).
	Timeout,
	/// ONNX Runtime failed while running the model.
	ExecutionFailed,
	/// An output is NaN or infinite.
	NonFiniteOutput,
	/// A float output times `10^output_decimals` does not fit an i64.
	OutputOverflow,
	/// An output has an element type canonical outputs do not support.
	UnsupportedOutputType,
	/// The outputs' shape and data disagree.
	MalformedOutput,
	/// `output_decimals` is above [`MAX_OUTPUT_DECIMALS`].
	InvalidDecimals,
	/// An output tensor is larger than [`MAX_TENSOR_BYTES`](crate::tensor::MAX_TENSOR_BYTES), or
	/// the canonical outcome is larger than the executor's bound.
	OutputTooLarge,
	/// The inference needed more memory than the model declares (or than the executor's cap).
	OutOfMemory,
	/// The worker process running the inference died (a crash inside ONNX Runtime).
	WorkerCrashed,
	/// A tensor of the model keeps its data in an external file: refused, a model is only its
	/// bytes.
	ExternalData,
}

impl ErrorCode {
	/// Whether the failure is about resources (time, memory, a worker that died) rather than the
	/// model or the inputs. Resource failures depend on the executor's machine as well as on the
	/// job, and are settled apart (see the jobs pallet).
	pub const fn is_resource_failure(self) -> bool {
		matches!(self, Self::Timeout | Self::OutOfMemory | Self::WorkerCrashed)
	}
}

/// What a job's execution produced: canonical outputs, or a canonical error.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Outcome {
	Success(Vec<CanonicalTensor>),
	Failure(ErrorCode),
}

impl Outcome {
	/// The hash validators commit to and reveal.
	pub fn hash(&self) -> [u8; 32] {
		result_hash(self)
	}
}

/// `blake2_256(SCALE(outcome))`.
pub fn result_hash(outcome: &Outcome) -> [u8; 32] {
	polkadot_sdk::sp_crypto_hashing::blake2_256(&outcome.encode())
}

/// The outcome for raw outputs: canonical outputs, or the error that prevents them.
pub fn canonical_outcome(outputs: &[Tensor], output_decimals: u8) -> Outcome {
	match canonicalize(outputs, output_decimals) {
		Ok(tensors) => Outcome::Success(tensors),
		Err(code) => Outcome::Failure(code),
	}
}

/// Puts raw outputs into canonical form.
pub fn canonicalize(
	outputs: &[Tensor],
	output_decimals: u8,
) -> Result<Vec<CanonicalTensor>, ErrorCode> {
	outputs
		.iter()
		.map(|t| canonicalize_tensor(&t.name, t.dtype, &t.shape, &t.data, output_decimals))
		.collect()
}

/// Puts one raw output (little-endian `data`) into canonical form.
pub fn canonicalize_tensor(
	name: &[u8],
	dtype: DType,
	shape: &[u32],
	data: &[u8],
	output_decimals: u8,
) -> Result<CanonicalTensor, ErrorCode> {
	if output_decimals > MAX_OUTPUT_DECIMALS {
		return Err(ErrorCode::InvalidDecimals);
	}
	let expected_len = crate::tensor::element_count(shape)
		.and_then(|n| n.checked_mul(dtype.size() as u64))
		.ok_or(ErrorCode::MalformedOutput)?;
	if expected_len != data.len() as u64 {
		return Err(ErrorCode::MalformedOutput);
	}
	let data = match dtype {
		DType::F32 => CanonicalData::Fixed(
			data.chunks_exact(4)
				.map(|c| {
					// `chunks_exact(4)` yields 4-byte chunks; qed.
					let bytes = [c[0], c[1], c[2], c[3]];
					to_fixed(f64::from(f32::from_le_bytes(bytes)), output_decimals)
				})
				.collect::<Result<_, _>>()?,
		),
		DType::F64 => CanonicalData::Fixed(
			data.chunks_exact(8)
				.map(|c| {
					let mut bytes = [0u8; 8];
					bytes.copy_from_slice(c);
					to_fixed(f64::from_le_bytes(bytes), output_decimals)
				})
				.collect::<Result<_, _>>()?,
		),
		DType::Bool => {
			if data.iter().any(|&b| b > 1) {
				return Err(ErrorCode::MalformedOutput);
			}
			CanonicalData::Raw(data.to_vec())
		},
		DType::I64 | DType::I32 | DType::I8 | DType::U8 => CanonicalData::Raw(data.to_vec()),
	};
	Ok(CanonicalTensor { name: name.to_vec(), dtype, shape: shape.to_vec(), data })
}

/// The integer nearest to `value × 10^decimals`, ties to even, computed exactly.
///
/// NaN and ±∞ are [`ErrorCode::NonFiniteOutput`]; a result outside i64 is
/// [`ErrorCode::OutputOverflow`]; -0.0 is 0.
pub fn to_fixed(value: f64, decimals: u8) -> Result<i64, ErrorCode> {
	if !value.is_finite() {
		return Err(ErrorCode::NonFiniteOutput);
	}
	if decimals > MAX_OUTPUT_DECIMALS {
		return Err(ErrorCode::InvalidDecimals);
	}
	let bits = value.to_bits();
	let negative = bits >> 63 == 1;
	let biased_exponent = ((bits >> 52) & 0x7ff) as i32;
	let fraction = bits & ((1u64 << 52) - 1);
	// value = ±mantissa × 2^exponent, exactly.
	let (mantissa, exponent) = if biased_exponent == 0 {
		(fraction, -1074)
	} else {
		(fraction | (1u64 << 52), biased_exponent - 1075)
	};
	if mantissa == 0 {
		return Ok(0);
	}
	// mantissa < 2^53 and 10^18 < 2^60, so the product is below 2^113.
	let scaled = u128::from(mantissa) * 10u128.pow(u32::from(decimals));
	let magnitude = if exponent >= 0 {
		let shift = exponent as u32;
		if shift >= scaled.leading_zeros() {
			return Err(ErrorCode::OutputOverflow);
		}
		scaled << shift
	} else {
		let shift = exponent.unsigned_abs();
		if shift >= 128 {
			// scaled / 2^shift < 2^113 / 2^128 < 1/2: rounds to 0.
			0
		} else {
			let quotient = scaled >> shift;
			let remainder = scaled & ((1u128 << shift) - 1);
			let half = 1u128 << (shift - 1);
			if remainder > half || (remainder == half && quotient & 1 == 1) {
				quotient + 1
			} else {
				quotient
			}
		}
	};
	if negative {
		if magnitude > 1u128 << 63 {
			return Err(ErrorCode::OutputOverflow);
		}
		// magnitude ≤ 2^63, so its negation fits an i128 and then an i64.
		Ok((-(magnitude as i128)) as i64)
	} else {
		i64::try_from(magnitude).map_err(|_| ErrorCode::OutputOverflow)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::tensor::tensor;

	#[test]
	fn exact_halves_round_to_even() {
		assert_eq!(to_fixed(0.5, 0), Ok(0));
		assert_eq!(to_fixed(1.5, 0), Ok(2));
		assert_eq!(to_fixed(2.5, 0), Ok(2));
		assert_eq!(to_fixed(3.5, 0), Ok(4));
		assert_eq!(to_fixed(-2.5, 0), Ok(-2));
		assert_eq!(to_fixed(-3.5, 0), Ok(-4));
		// 0.125 and 0.375 are exact binary fractions: ×100 gives exact halves.
		assert_eq!(to_fixed(0.125, 2), Ok(12));
		assert_eq!(to_fixed(0.375, 2), Ok(38));
	}

	#[test]
	fn rounding_uses_the_exact_value_not_float_arithmetic() {
		// 1.005 is stored as 1.00499999999999989…, so it rounds down at 2 decimals.
		assert_eq!(to_fixed(1.005, 2), Ok(100));
		// 0.1f32 is 0.100000001490116…: at 9 decimals, 100000001.49 rounds to 100000001.
		assert_eq!(to_fixed(f64::from(0.1f32), 9), Ok(100_000_001));
		assert_eq!(to_fixed(0.1, 6), Ok(100_000));
		assert_eq!(to_fixed(-123.456789, 3), Ok(-123_457));
	}

	#[test]
	fn negative_zero_is_zero() {
		assert_eq!(to_fixed(-0.0, 6), Ok(0));
		assert_eq!(to_fixed(0.0, 18), Ok(0));
		// Tiny negatives round to zero too, with no sign left.
		assert_eq!(to_fixed(-1e-30, 6), Ok(0));
	}

	#[test]
	fn nan_and_infinities_are_error_outcomes() {
		assert_eq!(to_fixed(f64::NAN, 6), Err(ErrorCode::NonFiniteOutput));
		assert_eq!(to_fixed(f64::INFINITY, 6), Err(ErrorCode::NonFiniteOutput));
		assert_eq!(to_fixed(f64::NEG_INFINITY, 0), Err(ErrorCode::NonFiniteOutput));
	}

	#[test]
	fn values_that_overflow_i64_are_error_outcomes() {
		assert_eq!(to_fixed(1e300, 0), Err(ErrorCode::OutputOverflow));
		assert_eq!(to_fixed(9.3e18, 0), Err(ErrorCode::OutputOverflow));
		// Fits with no decimals, overflows with 6.
		assert_eq!(to_fixed(1e13, 0), Ok(10_000_000_000_000));
		assert_eq!(to_fixed(1e13, 6), Err(ErrorCode::OutputOverflow));
		// The i64 range is exact: -2^63 fits, 2^63 does not.
		assert_eq!(to_fixed(-9_223_372_036_854_775_808.0, 0), Ok(i64::MIN));
		assert_eq!(to_fixed(9_223_372_036_854_775_808.0, 0), Err(ErrorCode::OutputOverflow));
		assert_eq!(to_fixed(f64::MAX, 18), Err(ErrorCode::OutputOverflow));
	}

	#[test]
	fn subnormals_round_to_zero() {
		assert_eq!(to_fixed(f64::from_bits(1), 18), Ok(0));
		assert_eq!(to_fixed(f64::MIN_POSITIVE, 18), Ok(0));
	}

	#[test]
	fn decimals_above_eighteen_are_refused() {
		assert_eq!(to_fixed(1.0, 19), Err(ErrorCode::InvalidDecimals));
		assert_eq!(to_fixed(1.0, 18), Ok(1_000_000_000_000_000_000));
	}

	#[test]
	fn integer_and_bool_outputs_pass_through() {
		let labels = tensor(
			"label",
			DType::I64,
			&[2],
			[7i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect(),
		)
		.unwrap();
		let flags = tensor("flag", DType::Bool, &[2], vec![1, 0]).unwrap();
		let out = canonicalize(&[labels.clone(), flags.clone()], 6).unwrap();
		assert_eq!(out[0].data, CanonicalData::Raw(labels.data.to_vec()));
		assert_eq!(out[1].data, CanonicalData::Raw(vec![1, 0]));
		assert_eq!(out[0].shape, vec![2]);
	}

	#[test]
	fn float_outputs_become_fixed_point() {
		let probs: Vec<u8> = [0.25f32, 0.75].iter().flat_map(|v| v.to_le_bytes()).collect();
		let t = tensor("probabilities", DType::F32, &[1, 2], probs).unwrap();
		let out = canonicalize(&[t], 6).unwrap();
		assert_eq!(out[0].data, CanonicalData::Fixed(vec![250_000, 750_000]));
		assert_eq!(out[0].name, b"probabilities".to_vec());
	}

	#[test]
	fn outputs_whose_data_disagrees_with_shape_are_malformed() {
		let t = tensor("y", DType::F32, &[3], vec![0; 8]).unwrap();
		assert_eq!(canonicalize(&[t], 6), Err(ErrorCode::MalformedOutput));
		let bad_bool = tensor("b", DType::Bool, &[1], vec![2]).unwrap();
		assert_eq!(canonicalize(&[bad_bool], 6), Err(ErrorCode::MalformedOutput));
	}

	#[test]
	fn a_nan_output_makes_the_whole_outcome_a_failure() {
		let t = tensor(
			"y",
			DType::F32,
			&[2],
			[1.0f32, f32::NAN].iter().flat_map(|v| v.to_le_bytes()).collect(),
		)
		.unwrap();
		assert_eq!(canonical_outcome(&[t], 6), Outcome::Failure(ErrorCode::NonFiniteOutput));
	}

	#[test]
	fn outputs_equal_after_rounding_hash_equally() {
		// Two validators whose raw outputs differ in the last bit agree on the hash.
		let a = 0.123_456_7f32;
		let b = f32::from_bits(a.to_bits() + 1);
		assert_ne!(a, b);
		let ta = tensor("y", DType::F32, &[1], a.to_le_bytes().to_vec()).unwrap();
		let tb = tensor("y", DType::F32, &[1], b.to_le_bytes().to_vec()).unwrap();
		assert_eq!(canonical_outcome(&[ta], 6).hash(), canonical_outcome(&[tb], 6).hash());
	}

	#[test]
	fn the_hash_is_blake2_of_the_scale_encoding_and_separates_outcomes() {
		let success = Outcome::Success(vec![]);
		let failure = Outcome::Failure(ErrorCode::Timeout);
		assert_eq!(success.hash(), polkadot_sdk::sp_crypto_hashing::blake2_256(&success.encode()));
		assert_ne!(success.hash(), failure.hash());
		assert_ne!(failure.hash(), Outcome::Failure(ErrorCode::ExecutionFailed).hash());
	}
}
