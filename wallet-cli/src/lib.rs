//! # ecert-wallet
//!
//! The citizen's wallet library: the holder key ([`HolderKey`]), presentations of chosen
//! fields from one or more certificates ([`present()`]), and their QR codes for a terminal,
//! as PNG and as SVG ([`render`]). Time, nonce and randomness are passed in.

mod error;
mod holder;
mod present;
pub mod render;

pub use error::WalletError;
pub use holder::HolderKey;
pub use present::{present, Selection};
