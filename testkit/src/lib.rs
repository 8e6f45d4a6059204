//! # ecert-testkit
//!
//! What the workspace's tests and benchmarks share, so that each test says only what it
//! checks:
//!
//! - [`province`] and [`sample`]: the in-process province and sample claims of
//!   `ecert-testnet` (they live there because `ecert-testnet story --in-process` runs on
//!   them), re-exported, with its [`network`] of real `ecert-node` processes;
//! - [`world`]: the shared test world (a province, a wallet holder, an ID card and a
//!   no-criminal-record certificate issued, anchored and certified, a synced counter);
//! - [`attacker`]: what an attacker's tools produce (holder proofs and certificates
//!   signed with any key);
//! - [`scratch`]: temporary folders;
//! - [`cmd`]: running the workspace's binaries, with the test key-derivation switch set
//!   and helpful failure messages;
//! - [`crash`]: killing them at their write points or at random moments, and a small full
//!   disk;
//! - [`http`] and [`fake_node`]: one tiny HTTP server (and a raw request for what a
//!   library client hides), and one fake ledger node speaking `docs/api.md` on the real
//!   ledger state machine, honest or lying;
//! - [`tls`]: test certificate authorities and server certificates (the local network's
//!   CA, [`ecert_testnet::tls`]);
//! - [`issuer`]: a department's `ecert-issuer` home set up against a fake node, and the
//!   `ecert-issuer issue` command line;
//! - [`federation`]: a national body's keys, anchor and signed trust lists;
//! - [`vectors`]: the public test vectors in `shared/testdata/` beside the checkout.
//!
//! Only `[dev-dependencies]` may name this crate.

// This whole crate is test code: a failed unwrap is a failed test, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod attacker;
pub mod cmd;
pub mod crash;
pub mod fake_node;
pub mod federation;
pub mod http;
pub mod issuer;
pub mod scratch;
pub mod seeds;
pub mod tls;
pub mod vectors;
pub mod world;

/// The whole test network crate (its HTTP client, load generator...).
pub use ecert_testnet as testnet;
pub use ecert_testnet::{network, province, sample};

pub use cmd::{Cmd, Run};
pub use fake_node::{FakeNode, Lie};
pub use scratch::Scratch;
pub use world::{now, World, DAY, HOUR};

/// The text of the one QR code in the PNG or JPEG file at `path`, read back with a
/// standard decoder.
pub fn scan_png(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    ecert_qr::scan::decode_image(&bytes)
        .unwrap_or_else(|e| panic!("no readable QR code in {}: {e}", path.display()))
}

/// Whether `needle` occurs in `haystack` (an empty needle never does).
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
