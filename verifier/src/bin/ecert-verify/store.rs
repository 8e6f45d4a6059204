//! The counter's store: one folder holding the trust anchor it was set up with
//! (`anchor.toml`), the last synced trust bundle (`bundle.cbor`, the exact bytes of the
//! ledger's export) and the newest validators' freshness statements about it
//! (`freshness.cbor`). Files are replaced atomically (temporary file, fsync, rename).
//!
//! Nothing read back from the store is trusted: the bundle is verified against the anchor
//! every time it is loaded.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_schemas::freshness::{Freshness, MAX_FRESHNESS_BYTES};
use ecert_schemas::ledger::{TrustBundle, MAX_TRUST_BUNDLE_BYTES};
use ecert_schemas::KindRegistry;
use ecert_shell::files::{write_atomically, Existing};
use ecert_shell::paths::DataPlace;
use ecert_verifier::{TrustAnchor, TrustStore, VerifyError};

const ANCHOR_FILE: &str = "anchor.toml";
const BUNDLE_FILE: &str = "bundle.cbor";
const FRESHNESS_FILE: &str = "freshness.cbor";
/// Longest anchor file read (it holds two short lines).
const MAX_ANCHOR_BYTES: u64 = 64 * 1024;

/// The environment variable that names the store folder.
pub const STORE_ENV: &str = "ECERT_VERIFY_STORE";

/// The store folder.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store at `--store DIR`, else `$ECERT_VERIFY_STORE`, else
    /// `$XDG_DATA_HOME/ecert-verify`, else `$HOME/.local/share/ecert-verify`.
    pub fn locate(flag: Option<PathBuf>) -> Result<Store> {
        const STORE: DataPlace = DataPlace {
            what: "counter's data",
            flag: "--store DIR",
            env: STORE_ENV,
            name: "ecert-verify",
        };
        let dir = STORE
            .resolve(flag)
            .map_err(|e| crate::exit::counter(e.to_string()))?;
        Ok(Store { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the synced bundle is kept.
    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join(BUNDLE_FILE)
    }

    fn anchor_path(&self) -> PathBuf {
        self.dir.join(ANCHOR_FILE)
    }

    /// The stored anchor, if the counter was set up.
    pub fn read_anchor(&self) -> Result<Option<TrustAnchor>> {
        let path = self.anchor_path();
        let Some(bytes) = read_optional(&path, MAX_ANCHOR_BYTES)? else {
            return Ok(None);
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is not a text file", path.display()))?;
        parse_anchor(&text)
            .map(Some)
            .with_context(|| format!("the stored trust anchor {} is damaged", path.display()))
    }

    /// The stored anchor, or a hint to run `init`.
    pub fn anchor(&self) -> Result<TrustAnchor> {
        self.read_anchor()?.ok_or_else(|| {
            crate::exit::counter(format!(
                "this counter is not set up yet (no trust anchor in {}): run \
                 `ecert-verify init --anchor FILE` with the anchor file from the department \
                 running the ledger",
                self.dir.display()
            ))
            .into()
        })
    }

    /// Stores the anchor, creating the folder if needed.
    pub fn write_anchor(&self, anchor: &TrustAnchor) -> Result<()> {
        Ok(write_atomically(
            &self.anchor_path(),
            anchor_to_toml(anchor).as_bytes(),
            Existing::Replace,
        )?)
    }

    /// The stored bundle's bytes, if the counter has synced.
    pub fn read_bundle(&self) -> Result<Option<Vec<u8>>> {
        read_optional(&self.bundle_path(), bundle_limit())
    }

    /// Replaces the stored bundle.
    pub fn write_bundle(&self, bytes: &[u8]) -> Result<()> {
        Ok(write_atomically(
            &self.bundle_path(),
            bytes,
            Existing::Replace,
        )?)
    }

    fn freshness_path(&self) -> PathBuf {
        self.dir.join(FRESHNESS_FILE)
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
        let path = self.bundle_path();
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot delete {}", path.display())),
        }
    }

    /// The anchor and the stored bundle, verified again (no network). Errors say what to
    /// run when the counter is not set up or not synced.
    pub fn load(&self) -> Result<TrustStore> {
        let anchor = self.anchor()?;
        let bytes = self.read_bundle()?.ok_or_else(|| {
            crate::exit::counter(format!(
                "this counter has not synced yet (no ledger data in {}): run \
                 `ecert-verify sync --from-file BUNDLE` with a file exported by a ledger node",
                self.dir.display()
            ))
        })?;
        let mut trust = check_bundle(&bytes, &anchor).map_err(|e| {
            crate::exit::counter(format!(
                "the stored ledger data ({}) does not verify any more: {e}. Run \
                 `ecert-verify sync --from-file BUNDLE` again",
                self.bundle_path().display()
            ))
        })?;
        self.apply_stored_freshness(&mut trust)?;
        Ok(trust)
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

/// Decodes a bundle and verifies it against `anchor` with the built-in kinds.
pub fn check_bundle(bytes: &[u8], anchor: &TrustAnchor) -> Result<TrustStore, VerifyError> {
    TrustStore::from_bundle(
        TrustBundle::from_bytes(bytes)?,
        anchor,
        KindRegistry::builtin()?,
    )
}

/// The certified height of a bundle, without verifying it.
pub fn bundle_height(bytes: &[u8]) -> Option<u64> {
    TrustBundle::from_bytes(bytes)
        .ok()?
        .checkpoint
        .decode_header()
        .ok()
        .map(|h| h.height)
}

/// Reads an anchor file: `chain_id = "..."` and `validators_hash = "<64 hex digits>"`
/// ([`ecert_verifier::anchor_file`]).
pub fn parse_anchor(text: &str) -> Result<TrustAnchor> {
    Ok(ecert_verifier::anchor_file::parse_anchor(text)?)
}

/// An anchor as the file [`parse_anchor`] reads.
pub fn anchor_to_toml(anchor: &TrustAnchor) -> String {
    ecert_verifier::anchor_file::anchor_to_toml(
        anchor,
        "The ledger this counter trusts (set by `ecert-verify init`).",
    )
}

/// Reads a whole file of at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    Ok(ecert_shell::files::read_limited(path, limit)?)
}

/// Largest trust bundle accepted, in bytes.
pub fn bundle_limit() -> u64 {
    MAX_TRUST_BUNDLE_BYTES as u64
}

/// Largest anchor file accepted, in bytes.
pub fn anchor_limit() -> u64 {
    MAX_ANCHOR_BYTES
}

fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(_) => read_limited(path, limit).map(Some),
    }
}
