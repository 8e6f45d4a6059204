//! # ecert-wallet
//!
//! The citizen's wallet library: the holder key ([`HolderKey`]), presentations of chosen
//! fields from one or more certificates ([`present()`]), and their QR codes for a terminal,
//! as PNG and as SVG ([`render`]), the request that redeems a department's one-time offer
//! code ([`offer`]), the encrypted wallet file ([`store`]) and the passphrase envelope it
//! is built on ([`sealed`], also used for issuer and node key files). Time, nonce and
//! randomness are passed in; nothing here reads or writes files.

mod error;
mod holder;
pub mod offer;
mod present;
pub mod render;
pub mod sealed;
pub mod store;

pub use error::WalletError;
pub use holder::HolderKey;
pub use present::{present, Selection};
pub use sealed::KdfParams;
pub use store::WalletContents;
