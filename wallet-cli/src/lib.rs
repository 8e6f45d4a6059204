//! # ecert-wallet
//!
//! The citizen's wallet library: the holder key ([`HolderKey`]), presentations of chosen
//! fields from one or more certificates ([`present()`]), and their QR codes for a terminal,
//! as PNG and as SVG ([`render`]), and the encrypted wallet file ([`store`]). Time, nonce
//! and randomness are passed in; nothing here reads or writes files.

mod error;
mod holder;
mod present;
pub mod render;
pub mod store;

pub use error::WalletError;
pub use holder::HolderKey;
pub use present::{present, Selection};
pub use store::{KdfParams, WalletContents};
