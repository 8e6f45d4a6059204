//! The counter's store: one folder holding the trust anchor of the counter's own ledger
//! (`anchor.toml`) and that ledger's synced data ([`LedgerDir`]: `bundle.cbor`,
//! `freshness.cbor`); for a counter that serves several provinces, the national anchor
//! (`national-anchor.toml`), the national trust list (`trust-list.cbor`) and each other
//! province's synced data (`provinces/CHAIN_ID/`). Files are replaced atomically
//! (temporary file, fsync, rename).
//!
//! Nothing read back from the store is trusted: the bundle is verified against the anchor
//! every time it is loaded, the trust list against the national anchor.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_schemas::federation::{NationalAnchor, MAX_TRUST_LIST_BYTES};
use ecert_schemas::ledger::{TrustBundle, MAX_TRUST_BUNDLE_BYTES};
use ecert_schemas::{ChainId, KindRegistry};
use ecert_shell::files::{remove_if_present, write_atomically, Existing};
use ecert_shell::paths::DataPlace;
use ecert_verifier::{TrustAnchor, TrustStore, VerifyError};

use crate::ledger_dir::LedgerDir;

const ANCHOR_FILE: &str = "anchor.toml";
const NATIONAL_ANCHOR_FILE: &str = "national-anchor.toml";
const TRUST_LIST_FILE: &str = "trust-list.cbor";
const PROVINCES_DIR: &str = "provinces";
/// Longest anchor file read (the trust anchor holds two short lines, the national anchor
/// a line per national key).
const MAX_ANCHOR_BYTES: u64 = 256 * 1024;

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

    /// The synced data of the counter's own ledger (the one `init --anchor` set).
    pub fn home(&self) -> LedgerDir {
        LedgerDir::at(self.dir.clone())
    }

    /// The synced data of another province's ledger.
    pub fn province(&self, chain_id: &ChainId) -> LedgerDir {
        // A chain id is 1 to 64 of a-z 0-9 - . starting with a letter or digit: a safe
        // folder name.
        LedgerDir::at(self.dir.join(PROVINCES_DIR).join(chain_id.as_str()))
    }

    /// The provinces with a folder of synced data, by chain id (folders with other names
    /// are ignored).
    pub fn synced_provinces(&self) -> Result<Vec<ChainId>> {
        let dir = self.dir.join(PROVINCES_DIR);
        let entries = match fs::read_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other.with_context(|| format!("cannot read {}", dir.display()))?,
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let name = entry.file_name();
            let chain_id = name.to_str().and_then(|n| ChainId::new(n).ok());
            if let Some(chain_id) = chain_id.filter(|_| entry.path().is_dir()) {
                found.push(chain_id);
            }
        }
        found.sort();
        Ok(found)
    }

    /// Deletes a province's synced data and its folder; whether it had a bundle.
    pub fn remove_province(&self, chain_id: &ChainId) -> Result<bool> {
        let place = self.province(chain_id);
        let had = place.remove_all()?;
        // Only an empty folder is removed; anything else left in it stays.
        let _ = fs::remove_dir(place.dir());
        Ok(had)
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

    fn national_anchor_path(&self) -> PathBuf {
        self.dir.join(NATIONAL_ANCHOR_FILE)
    }

    /// The stored national anchor, if the counter was set up with one.
    pub fn read_national_anchor(&self) -> Result<Option<NationalAnchor>> {
        let path = self.national_anchor_path();
        let Some(bytes) = read_optional(&path, MAX_ANCHOR_BYTES)? else {
            return Ok(None);
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is not a text file", path.display()))?;
        parse_national_anchor(&text)
            .map(Some)
            .with_context(|| format!("the stored national anchor {} is damaged", path.display()))
    }

    /// The stored national anchor, or a hint to run `init --national-anchor`.
    pub fn national_anchor(&self) -> Result<NationalAnchor> {
        self.read_national_anchor()?.ok_or_else(|| {
            crate::exit::counter(format!(
                "this counter is not set up for other provinces (no national anchor in {}): \
                 run `ecert-verify init --national-anchor FILE` with the national anchor file \
                 from the national body",
                self.dir.display()
            ))
            .into()
        })
    }

    /// Stores the national anchor, creating the folder if needed.
    pub fn write_national_anchor(&self, anchor: &NationalAnchor) -> Result<()> {
        let text = ecert_verifier::anchor_file::national_anchor_to_toml(
            anchor,
            "The national body whose trust lists this counter takes (set by `ecert-verify init`).",
        );
        Ok(write_atomically(
            &self.national_anchor_path(),
            text.as_bytes(),
            Existing::Replace,
        )?)
    }

    /// Where the national trust list is kept.
    pub fn trust_list_path(&self) -> PathBuf {
        self.dir.join(TRUST_LIST_FILE)
    }

    /// The stored national trust list's bytes, if one was synced.
    pub fn read_trust_list(&self) -> Result<Option<Vec<u8>>> {
        read_optional(&self.trust_list_path(), trust_list_limit())
    }

    /// Replaces the stored national trust list.
    pub fn write_trust_list(&self, bytes: &[u8]) -> Result<()> {
        Ok(write_atomically(
            &self.trust_list_path(),
            bytes,
            Existing::Replace,
        )?)
    }

    /// Deletes the stored national trust list; whether there was one.
    pub fn remove_trust_list(&self) -> Result<bool> {
        Ok(remove_if_present(&self.trust_list_path())?)
    }

    /// The anchor and the stored bundle of the counter's own ledger, verified again (no
    /// network). Errors say what to run when the counter is not set up or not synced.
    pub fn load(&self) -> Result<TrustStore> {
        let anchor = self.anchor()?;
        let home = self.home();
        let loaded = home.load(&anchor).map_err(|e| {
            crate::exit::counter(format!(
                "{e:#}. Run `ecert-verify sync --from-file BUNDLE` (or --node URL) again"
            ))
        })?;
        loaded.ok_or_else(|| {
            crate::exit::counter(format!(
                "this counter has not synced yet (no ledger data in {}): run \
                 `ecert-verify sync --from-file BUNDLE` with a file exported by a ledger node",
                self.dir.display()
            ))
            .into()
        })
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

/// Largest national trust list accepted, in bytes.
pub fn trust_list_limit() -> u64 {
    MAX_TRUST_LIST_BYTES as u64
}

/// Reads a national anchor file ([`ecert_verifier::anchor_file::parse_national_anchor`]).
pub fn parse_national_anchor(text: &str) -> Result<NationalAnchor> {
    Ok(ecert_verifier::anchor_file::parse_national_anchor(text)?)
}

/// Reads the file at `path` if it exists, up to `limit` bytes.
pub fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(_) => read_limited(path, limit).map(Some),
    }
}
