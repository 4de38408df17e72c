//! Storage migrations of the jobs pallet.
//!
//! Versions 1 to 5 came with migrations of their own (see the git history), removed once every
//! Verity chain had run them: release 108 (spec 108) is at version 5, and a chain older than it
//! upgrades to release 108 first.

pub mod v6;
