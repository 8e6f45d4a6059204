//! # ecert-wallet
//!
//! The citizen's wallet library: the holder key ([`HolderKey`]), presentations of chosen
//! fields from one or more certificates ([`present()`], and [`present_copies`] for
//! certificates of one-time copies) (drawn as QR codes by `ecert-qr`), a presentation
//! planned from the holder's choices with the copy each one-time certificate spends
//! ([`session`]), the request that redeems a department's one-time offer code
//! ([`offer`]), the encrypted wallet file ([`store`]) and the passphrase envelope it is
//! built on (`ecert_sealed`, re-exported as [`sealed`]), the checks of a received
//! package ([`receive`]), the certificates of one-time copies and the copies shown
//! ([`copies`]), the holder's view of the certificates ([`certs`]), where they are on the
//! ledger ([`anchoring`]) and the holder's own record of the presentations made
//! ([`history`]), kept inside the wallet file. Time, nonce and randomness are passed in;
//! nothing here reads or writes files.

pub mod anchoring;
pub mod answer;
pub mod certs;
pub mod copies;
mod error;
pub mod history;
mod holder;
pub mod offer;
mod present;
mod present_v2;
/// Receiving certificate packages: every check before one enters the wallet.
pub mod receive;
pub mod session;
/// The passphrase envelope of the wallet file (the `ecert-sealed` crate).
pub use ecert_sealed as sealed;
pub mod store;

pub use error::WalletError;
pub use holder::HolderKey;
pub use present::{present, Selection};
pub use present_v2::{present_copies, CopySelection};
pub use sealed::KdfParams;
pub use store::{Held, WalletContents};
