//! The commands of `ecert-testnet`.

pub mod local_story;
pub mod net;
pub mod story;
