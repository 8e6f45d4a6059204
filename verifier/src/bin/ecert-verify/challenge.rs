//! `challenge`: a fresh random nonce for challenge mode.

use anyhow::{Context, Result};
use ecert_schemas::Nonce;
use rand_core::{OsRng, RngCore};

/// Length of the challenge in bytes: 16 hex digits, short enough to read aloud.
const CHALLENGE_BYTES: usize = 8;

/// A fresh challenge from the operating system's random source.
pub fn fresh() -> Result<Nonce> {
    let mut bytes = [0u8; CHALLENGE_BYTES];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system's random source failed: {e}"))?;
    Nonce::new(bytes.to_vec()).context("challenge")
}

/// Instructions for staff and the citizen, for standard error.
pub fn instructions(nonce: &Nonce) -> String {
    let hex = nonce.to_hex();
    format!(
        "Read this challenge to the citizen: {hex}\n\
         Citizen: ecert-wallet present --nonce {hex} ...\n\
         Then check the code with: ecert-verify verify --nonce {hex}\n"
    )
}
