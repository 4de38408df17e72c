//! Storage migrations of the jobs pallet.

pub mod v1;
pub mod v2;
pub mod v3;
pub mod v4;
pub mod v5;
