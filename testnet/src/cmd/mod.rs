//! The commands of `ecert-testnet`.

pub mod history;
#[cfg(target_os = "linux")]
pub mod hostile;
pub mod local_story;
pub mod net;
pub mod offer;
pub mod simulate;
pub mod story;
pub mod trust_list;
