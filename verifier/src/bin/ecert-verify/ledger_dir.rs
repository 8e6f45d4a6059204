//! One ledger's synced data in the counter's store: the last synced trust bundle
//! (`bundle.cbor`, the exact bytes of the ledger's export) and the newest validators'
//! freshness statements about it (`freshness.cbor`). The counter's own ledger keeps them
//! at the top of the store; each other province's ledger in `provinces/CHAIN_ID/`.
//!
//! Nothing read back is trusted: the bundle is verified against the ledger's trust anchor
//! every time it is loaded.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_schemas::freshness::{Freshness, MAX_FRESHNESS_BYTES};
use ecert_shell::files::{remove_if_present, write_atomically, Existing};
use ecert_verifier::{TrustAnchor, TrustStore};

use crate::store::{bundle_limit, check_bundle, read_optional};

const BUNDLE_FILE: &str = "bundle.cbor";
const FRESHNESS_FILE: &str = "freshness.cbor";

/// The folder holding one ledger's synced data.
pub struct LedgerDir {
    dir: PathBuf,
}

impl LedgerDir {
    /// The ledger data kept in `dir`.
    pub fn at(dir: PathBuf) -> LedgerDir {
        LedgerDir { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the synced bundle is kept.
    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join(BUNDLE_FILE)
    }

    fn freshness_path(&self) -> PathBuf {
        self.dir.join(FRESHNESS_FILE)
    }

    /// The stored bundle's bytes, if this ledger was synced.
    pub fn read_bundle(&self) -> Result<Option<Vec<u8>>> {
        read_optional(&self.bundle_path(), bundle_limit())
    }

    /// Replaces the stored bundle (creating the folder if needed).
    pub fn write_bundle(&self, bytes: &[u8]) -> Result<()> {
        Ok(write_atomically(
            &self.bundle_path(),
            bytes,
            Existing::Replace,
        )?)
    }

    /// Replaces the stored freshness statements (already checked against the stored
    /// bundle).
    pub fn write_freshness(&self, freshness: &Freshness) -> Result<()> {
        let bytes = freshness
            .to_bytes()
            .context("the freshness statements could not be encoded")?;
        Ok(write_atomically(
            &self.freshness_path(),
            &bytes,
            Existing::Replace,
        )?)
    }

    /// Deletes the stored bundle; whether there was one.
    pub fn remove_bundle(&self) -> Result<bool> {
        Ok(remove_if_present(&self.bundle_path())?)
    }

    /// Deletes the bundle and the freshness statements; whether there was a bundle.
    pub fn remove_all(&self) -> Result<bool> {
        let had = self.remove_bundle()?;
        remove_if_present(&self.freshness_path())?;
        Ok(had)
    }

    /// The stored bundle verified against `anchor`, with the stored freshness applied;
    /// `None` when this ledger was not synced. `Err` when the data does not verify.
    pub fn load(&self, anchor: &TrustAnchor) -> Result<Option<TrustStore>> {
        let Some(bytes) = self.read_bundle()? else {
            return Ok(None);
        };
        let mut trust = check_bundle(&bytes, anchor).with_context(|| {
            format!(
                "the stored ledger data ({}) does not verify any more",
                self.bundle_path().display()
            )
        })?;
        self.apply_stored_freshness(&mut trust)?;
        Ok(Some(trust))
    }

    /// Applies the stored freshness statements to `trust` when they are about its header
    /// and hold (checked again, like everything read back). Statements about an older
    /// header, or that do not verify, only leave the data as old as its header.
    pub fn apply_stored_freshness(&self, trust: &mut TrustStore) -> Result<()> {
        let Some(bytes) = read_optional(&self.freshness_path(), MAX_FRESHNESS_BYTES as u64)? else {
            return Ok(());
        };
        if let Ok(freshness) = Freshness::from_bytes(&bytes) {
            // A refusal leaves the store as it was: nothing to report at a scan.
            let _ = trust.apply_freshness(&freshness);
        }
        Ok(())
    }
}
