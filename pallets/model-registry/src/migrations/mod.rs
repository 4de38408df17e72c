//! Storage migrations of the model registry.

pub mod v1;
