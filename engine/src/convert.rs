//! Between Verity's tensors (little-endian bytes) and ONNX Runtime values.

use ort::{
	value::Outlet,
	value::{
		DynValue, PrimitiveTensorElementType, Tensor as OrtTensor, TensorElementType, ValueType,
	},
};
use verity_primitives::{
	tensor::{Shape, TensorData, TensorName, MAX_RANK},
	DType, Dim, ErrorCode, Tensor, TensorSpec,
};

/// The Verity dtype of an ONNX element type, if Verity supports it.
pub fn dtype_of(ty: &TensorElementType) -> Option<DType> {
	Some(match ty {
		TensorElementType::Float32 => DType::F32,
		TensorElementType::Float64 => DType::F64,
		TensorElementType::Int64 => DType::I64,
		TensorElementType::Int32 => DType::I32,
		TensorElementType::Int8 => DType::I8,
		TensorElementType::Uint8 => DType::U8,
		TensorElementType::Bool => DType::Bool,
		_ => return None,
	})
}

/// A model input as a Verity spec, or `None` when Verity cannot feed it (a non-tensor input, an
/// unsupported element type, a long name or a high rank).
pub fn spec_of(outlet: &Outlet) -> Option<TensorSpec> {
	let ValueType::Tensor { ty, shape, .. } = outlet.dtype() else {
		return None;
	};
	let dims: Vec<Dim> = shape
		.iter()
		.map(|&d| match u32::try_from(d) {
			Ok(size) => Dim::Fixed(size),
			Err(_) => Dim::Dynamic,
		})
		.collect();
	Some(TensorSpec {
		name: TensorName::try_from(outlet.name().as_bytes().to_vec()).ok()?,
		dtype: dtype_of(ty)?,
		shape: dims.try_into().ok()?,
	})
}

fn decode<T, const N: usize>(data: &[u8], from_le: fn([u8; N]) -> T) -> Vec<T> {
	data.chunks_exact(N)
		.map(|chunk| {
			let mut bytes = [0u8; N];
			bytes.copy_from_slice(chunk);
			from_le(bytes)
		})
		.collect()
}

fn owned<T: PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static>(
	shape: Vec<i64>,
	data: Vec<T>,
) -> ort::Result<DynValue> {
	Ok(OrtTensor::from_array((shape, data))?.into_dyn())
}

/// An ONNX Runtime value holding `tensor` (already validated against the model's spec).
pub fn to_value(tensor: &Tensor) -> ort::Result<DynValue> {
	let shape: Vec<i64> = tensor.shape.iter().map(|&d| i64::from(d)).collect();
	let data = &tensor.data[..];
	match tensor.dtype {
		DType::F32 => owned(shape, decode(data, f32::from_le_bytes)),
		DType::F64 => owned(shape, decode(data, f64::from_le_bytes)),
		DType::I64 => owned(shape, decode(data, i64::from_le_bytes)),
		DType::I32 => owned(shape, decode(data, i32::from_le_bytes)),
		DType::I8 => owned(shape, decode(data, i8::from_le_bytes)),
		DType::U8 => owned(shape, data.to_vec()),
		DType::Bool => owned(shape, data.iter().map(|&b| b != 0).collect::<Vec<bool>>()),
	}
}

fn encode<T: PrimitiveTensorElementType + Copy, const N: usize>(
	value: &DynValue,
	to_le: fn(T) -> [u8; N],
) -> Result<(Vec<i64>, Vec<u8>), ErrorCode> {
	let (shape, data) = value.try_extract_tensor::<T>().map_err(|_| ErrorCode::MalformedOutput)?;
	let bytes = data.len().checked_mul(N).ok_or(ErrorCode::OutputTooLarge)?;
	if bytes > verity_primitives::tensor::MAX_TENSOR_BYTES as usize {
		return Err(ErrorCode::OutputTooLarge);
	}
	let mut out = Vec::with_capacity(bytes);
	for &element in data {
		out.extend_from_slice(&to_le(element));
	}
	Ok((shape.to_vec(), out))
}

/// A model output as a Verity tensor, or the canonical error that prevents it.
pub fn from_value(name: &str, value: &DynValue) -> Result<Tensor, ErrorCode> {
	let ValueType::Tensor { ty, .. } = value.dtype() else {
		return Err(ErrorCode::UnsupportedOutputType);
	};
	let dtype = dtype_of(ty).ok_or(ErrorCode::UnsupportedOutputType)?;
	let (shape, data) = match dtype {
		DType::F32 => encode(value, f32::to_le_bytes),
		DType::F64 => encode(value, f64::to_le_bytes),
		DType::I64 => encode(value, i64::to_le_bytes),
		DType::I32 => encode(value, i32::to_le_bytes),
		DType::I8 => encode(value, i8::to_le_bytes),
		DType::U8 => encode(value, u8::to_le_bytes),
		DType::Bool => encode(value, |b: bool| [u8::from(b)]),
	}?;
	if shape.len() > MAX_RANK as usize {
		return Err(ErrorCode::MalformedOutput);
	}
	let shape: Vec<u32> = shape
		.into_iter()
		.map(u32::try_from)
		.collect::<Result<_, _>>()
		.map_err(|_| ErrorCode::MalformedOutput)?;
	Ok(Tensor {
		name: TensorName::try_from(name.as_bytes().to_vec())
			.map_err(|_| ErrorCode::MalformedOutput)?,
		dtype,
		shape: Shape::try_from(shape).map_err(|_| ErrorCode::MalformedOutput)?,
		data: TensorData::try_from(data).map_err(|_| ErrorCode::OutputTooLarge)?,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_verity_dtype_has_an_onnx_element_type() {
		for (ty, dtype) in [
			(TensorElementType::Float32, DType::F32),
			(TensorElementType::Float64, DType::F64),
			(TensorElementType::Int64, DType::I64),
			(TensorElementType::Int32, DType::I32),
			(TensorElementType::Int8, DType::I8),
			(TensorElementType::Uint8, DType::U8),
			(TensorElementType::Bool, DType::Bool),
		] {
			assert_eq!(dtype_of(&ty), Some(dtype));
		}
		assert_eq!(dtype_of(&TensorElementType::String), None);
		assert_eq!(dtype_of(&TensorElementType::Float16), None);
	}
}
