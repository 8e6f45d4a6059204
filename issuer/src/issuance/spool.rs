//! The spool: each signed batch is written to `issuing/ROOT.spool` and flushed to disk —
//! one file, one flush for the whole batch — *before* its anchor transaction is sent, and
//! deleted once its packages are delivered. After a crash, the batch's packages are
//! rebuilt from it and the ledger's anchor receipt; nothing signed is ever lost.
//!
//! The spool holds the certificates and their disclosures, so claim values: it is private
//! to the owner like the whole home, and lives only until the batch is delivered.

use std::path::{Path, PathBuf};

use ecert_schemas::codec::{from_cbor_bounded, to_cbor, ByteBuf};
use ecert_schemas::{Certificate, Hash32};
use ecert_shell::files::{self, write_atomically, Existing};
use serde::{Deserialize, Serialize};

use super::IssuanceError;
use crate::home::{Home, HomeError};
use crate::IssuedCertificate;

/// Version of the spool file.
pub const SPOOL_VERSION: u32 = 1;
/// Largest spool file read: 1 GiB.
const MAX_SPOOL_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpoolFile {
    version: u32,
    first_row: u64,
    offer_seed: Option<ByteBuf>,
    certificates: Vec<(ByteBuf, Vec<ByteBuf>)>,
}

/// A signed batch waiting to be anchored and delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spooled {
    /// The index (0-based) in the job's input of the batch's first row.
    pub first_row: u64,
    /// The seed its offer codes are drawn from (when offers are made), so that a batch
    /// delivered again after an interruption gets the same codes.
    pub offer_seed: Option<[u8; 32]>,
    /// The certificates, in batch order.
    pub certificates: Vec<IssuedCertificate>,
}

fn path(home: &Home, root: &Hash32) -> Result<PathBuf, HomeError> {
    Ok(home.issuing_dir()?.join(format!("{}.spool", root.to_hex())))
}

/// Writes the spool of the batch with `root` (see [`Spooled`]), flushed to disk.
pub fn write(
    home: &Home,
    root: &Hash32,
    first_row: u64,
    offer_seed: Option<[u8; 32]>,
    certificates: &[IssuedCertificate],
) -> Result<(), IssuanceError> {
    let file = SpoolFile {
        version: SPOOL_VERSION,
        first_row,
        offer_seed: offer_seed.map(|s| ByteBuf::from(s.to_vec())),
        certificates: certificates
            .iter()
            .map(|c| {
                (
                    ByteBuf::from(c.certificate.clone()),
                    c.disclosures.iter().cloned().map(ByteBuf::from).collect(),
                )
            })
            .collect(),
    };
    let bytes = to_cbor(&file)?;
    write_atomically(&path(home, root)?, &bytes, Existing::Replace).map_err(HomeError::from)?;
    Ok(())
}

/// Reads a spool file.
pub fn read(path: &Path) -> Result<Spooled, IssuanceError> {
    let bytes = files::read_limited(path, MAX_SPOOL_BYTES).map_err(HomeError::from)?;
    let damaged = |detail: String| {
        IssuanceError::Home(HomeError::Damaged {
            path: path.to_owned(),
            detail,
        })
    };
    let file: SpoolFile =
        from_cbor_bounded("spool", &bytes, bytes.len()).map_err(|e| damaged(e.to_string()))?;
    if file.version != SPOOL_VERSION {
        return Err(damaged(format!("unknown spool version {}", file.version)));
    }
    let offer_seed = match file.offer_seed {
        None => None,
        Some(seed) => Some(
            <[u8; 32]>::try_from(seed.as_slice()).map_err(|_| damaged("bad offer seed".into()))?,
        ),
    };
    let mut certificates = Vec::with_capacity(file.certificates.len());
    for (c, d) in file.certificates {
        let id = Certificate::from_bytes(&c)
            .map_err(|e| damaged(e.to_string()))?
            .claims
            .id;
        certificates.push(IssuedCertificate {
            id,
            certificate: c.into_vec(),
            disclosures: d.into_iter().map(ByteBuf::into_vec).collect(),
        });
    }
    Ok(Spooled {
        first_row: file.first_row,
        offer_seed,
        certificates,
    })
}

/// Every spool file of the home, by the root in its name.
pub fn list(home: &Home) -> Result<Vec<(Hash32, PathBuf)>, IssuanceError> {
    let dir = home.issuing_dir()?;
    let entries = std::fs::read_dir(&dir).map_err(|e| IssuanceError::Read {
        path: dir.clone(),
        source: e,
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| IssuanceError::Read {
                path: dir.clone(),
                source: e,
            })?
            .path();
        let root = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".spool"))
            .and_then(|hex| Hash32::from_hex(hex).ok());
        if let Some(root) = root {
            out.push((root, path));
        }
    }
    Ok(out)
}

/// Deletes the spool of a delivered batch.
pub fn remove(home: &Home, root: &Hash32) -> Result<(), IssuanceError> {
    let path = path(home, root)?;
    crate::home::remove_if_present(&path)?;
    files::sync_dir(home.issuing_dir()?.as_path());
    Ok(())
}
