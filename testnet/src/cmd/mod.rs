//! The commands of `ecert-testnet`.

pub mod local_story;
pub mod net;
pub mod offer;
pub mod story;
