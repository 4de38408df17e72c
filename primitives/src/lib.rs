//! # Verity primitives
//!
//! The types the runtime and the node share, in a `no_std` crate so both compile the same code:
//!
//! - [`tensor`]: tensors (`{ name, dtype, shape, data }` with little-endian `data`), the input
//!   specs of a model, and the validation of inputs against them, one error per cause.
//! - [`canonical`]: the canonical form of a model's outputs and the result hash validators
//!   commit to. Floats become fixed-point integers at the model's `output_decimals` (round half to
//!   even, computed exactly from the float's bits); integers and bools pass through. Execution
//!   failures are outcomes too, with canonical error codes, hashed the same way.
//! - `json` (with `std`): the JSON form of tensors used over RPC and by scripts:
//!   `{"name":"x","dtype":"f32","shape":[1,4],"data":[0.5,1,2,3]}`.
//! - [`inference`]: the host functions through which the runtime's off-chain worker runs a model
//!   on the node's engine; unavailable (an error, never a result) outside off-chain workers.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod canonical;
pub mod executor;
pub mod inference;
#[cfg(feature = "std")]
pub mod json;
pub mod model;
pub mod onnx;
pub mod tensor;

pub use canonical::{
	canonicalize, result_hash, CanonicalData, CanonicalTensor, ErrorCode, Outcome,
};
pub use inference::{HostError, ModelId};
pub use tensor::{validate_inputs, DType, Dim, InputError, Tensor, TensorSpec};
