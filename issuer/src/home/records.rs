//! The register's files: one per batch (`batches/ROOT.cbor`) and one per revocation
//! (`revocations/TIME-HASH.json`).
//!
//! A batch record of up to [`MAX_JSON_CERTIFICATES`] certificates is JSON, as it always
//! was; a larger one is compact CBOR: the batch's fields, then its certificates as one byte
//! string of fixed-width rows ([`ROW_BYTES`] bytes each: id, holder key, status index,
//! times, SHA-256 of the certificate, kind) and, when made, the package file and offer
//! code of each. About 110 bytes per certificate instead of 400 of JSON, and written in
//! one go. No claim value is ever in a record.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::Path;

use ecert_schemas::codec::{from_cbor_bounded, to_cbor, ByteBuf};
use ecert_schemas::{CertificateId, Hash32, KeyId, KindId, PublicKeyBytes};
use ecert_shell::files::{self, write_atomically, Existing};
use serde::{Deserialize, Serialize};

use super::{io_err, read_limited, Home, HomeError, BATCHES_DIR, REVOCATIONS_DIR};
use crate::register::{BatchFile, BatchState, CertificateRecord, RevocationFile};

/// Version of the compact batch record.
pub const COMPACT_VERSION: u32 = 2;
/// Bytes per certificate row: id 16, holder 32, status index 4, issued, valid from and
/// expires 8 each, hash 32, kind (index into the batch's kinds) 1.
pub const ROW_BYTES: usize = 16 + 32 + 4 + 8 * 3 + 32 + 1;
/// Batches of at most this many certificates are recorded as (readable) JSON, larger ones
/// as compact CBOR.
pub const MAX_JSON_CERTIFICATES: usize = 1_000;
/// Largest batch record read: 256 MiB.
const MAX_BATCH_RECORD_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompactBatch {
    version: u32,
    root: ByteBuf,
    key_id: ByteBuf,
    kinds: Vec<KindId>,
    count: u64,
    state: BatchState,
    created_at: u64,
    tx_hash: Option<ByteBuf>,
    batch_seq: Option<u64>,
    height: Option<u64>,
    anchored_at_ms: Option<u64>,
    detail: Option<String>,
    rows: ByteBuf,
    /// Empty, or one entry per certificate.
    package_files: Vec<Option<String>>,
    /// Empty, or one entry per certificate.
    offers: Vec<Option<String>>,
}

fn damaged(path: &Path, detail: impl Into<String>) -> HomeError {
    HomeError::Damaged {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

/// The compact bytes of `batch`.
pub fn encode_batch(batch: &BatchFile) -> Result<Vec<u8>, HomeError> {
    let mut rows = Vec::with_capacity(batch.certificates.len() * ROW_BYTES);
    for c in &batch.certificates {
        let kind = batch
            .kinds
            .iter()
            .position(|k| *k == c.kind)
            .and_then(|i| u8::try_from(i).ok())
            .ok_or_else(|| {
                HomeError::BadValue(format!("certificate kind {} is not in its batch", c.kind))
            })?;
        rows.extend_from_slice(&c.id.0);
        rows.extend_from_slice(&c.holder.0);
        rows.extend_from_slice(&c.status_index.to_be_bytes());
        rows.extend_from_slice(&c.issued_at.to_be_bytes());
        rows.extend_from_slice(&c.valid_from.to_be_bytes());
        rows.extend_from_slice(&c.expires.to_be_bytes());
        rows.extend_from_slice(&c.hash.0);
        rows.push(kind);
    }
    let column = |f: fn(&CertificateRecord) -> &Option<String>| {
        if batch.certificates.iter().all(|c| f(c).is_none()) {
            Vec::new()
        } else {
            batch.certificates.iter().map(|c| f(c).clone()).collect()
        }
    };
    let compact = CompactBatch {
        version: COMPACT_VERSION,
        root: ByteBuf::from(batch.root.0.to_vec()),
        key_id: ByteBuf::from(batch.key_id.0.to_vec()),
        kinds: batch.kinds.clone(),
        count: batch.count,
        state: batch.state,
        created_at: batch.created_at,
        tx_hash: batch.tx_hash.map(|h| ByteBuf::from(h.0.to_vec())),
        batch_seq: batch.batch_seq,
        height: batch.height,
        anchored_at_ms: batch.anchored_at_ms,
        detail: batch.detail.clone(),
        rows: ByteBuf::from(rows),
        package_files: column(|c| &c.package_file),
        offers: column(|c| &c.offer),
    };
    to_cbor(&compact).map_err(|e| HomeError::BadValue(e.to_string()))
}

fn array<const N: usize>(bytes: &[u8], path: &Path) -> Result<[u8; N], HomeError> {
    bytes
        .try_into()
        .map_err(|_| damaged(path, format!("a field of {} bytes has {}", N, bytes.len())))
}

/// Reads compact batch record bytes (`path` is for messages).
pub fn decode_batch(bytes: &[u8], path: &Path) -> Result<BatchFile, HomeError> {
    let c: CompactBatch = from_cbor_bounded("batch record", bytes, bytes.len())
        .map_err(|e| damaged(path, e.to_string()))?;
    if c.version != COMPACT_VERSION {
        return Err(damaged(
            path,
            format!("unknown record version {}", c.version),
        ));
    }
    let n = c.rows.len() / ROW_BYTES;
    if !c.rows.len().is_multiple_of(ROW_BYTES)
        || (!c.package_files.is_empty() && c.package_files.len() != n)
        || (!c.offers.is_empty() && c.offers.len() != n)
    {
        return Err(damaged(path, "the certificate columns do not line up"));
    }
    let mut certificates = Vec::with_capacity(n);
    for (i, row) in c.rows.chunks_exact(ROW_BYTES).enumerate() {
        let (id, rest) = row.split_at(16);
        let (holder, rest) = rest.split_at(32);
        let (status, rest) = rest.split_at(4);
        let (issued, rest) = rest.split_at(8);
        let (from, rest) = rest.split_at(8);
        let (expires, rest) = rest.split_at(8);
        let (hash, kind) = rest.split_at(32);
        let kind = kind
            .first()
            .and_then(|k| c.kinds.get(usize::from(*k)))
            .ok_or_else(|| damaged(path, "a certificate's kind is not in the batch"))?;
        certificates.push(CertificateRecord {
            id: CertificateId(array(id, path)?),
            kind: kind.clone(),
            holder: PublicKeyBytes(array(holder, path)?),
            status_index: u32::from_be_bytes(array(status, path)?),
            issued_at: u64::from_be_bytes(array(issued, path)?),
            valid_from: u64::from_be_bytes(array(from, path)?),
            expires: u64::from_be_bytes(array(expires, path)?),
            leaf_index: i as u64,
            hash: Hash32(array(hash, path)?),
            package_file: c.package_files.get(i).cloned().flatten(),
            offer: c.offers.get(i).cloned().flatten(),
        });
    }
    Ok(BatchFile {
        version: crate::register::RECORD_VERSION,
        root: Hash32(array(&c.root, path)?),
        key_id: KeyId(array(&c.key_id, path)?),
        kinds: c.kinds,
        count: c.count,
        state: c.state,
        created_at: c.created_at,
        tx_hash: c.tx_hash.map(|h| array(&h, path).map(Hash32)).transpose()?,
        batch_seq: c.batch_seq,
        height: c.height,
        anchored_at_ms: c.anchored_at_ms,
        detail: c.detail,
        certificates,
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), HomeError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| HomeError::BadValue(e.to_string()))?;
    text.push('\n');
    Ok(write_atomically(path, text.as_bytes(), Existing::Replace)?)
}

/// The files of `dir` with extension `ext`.
fn files_with(dir: &Path, ext: &str) -> Result<Vec<std::path::PathBuf>, HomeError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("read the folder", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_err("read the folder", dir))?.path();
        if path.extension() == Some(OsStr::new(ext)) {
            out.push(path);
        }
    }
    Ok(out)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, HomeError> {
    let bytes = read_limited(path)?;
    serde_json::from_slice(&bytes).map_err(|e| damaged(path, e.to_string()))
}

impl Home {
    /// Writes a batch's record (replacing an earlier version of the same batch): JSON
    /// up to [`MAX_JSON_CERTIFICATES`] certificates, compact CBOR above.
    pub fn write_batch(&self, batch: &BatchFile) -> Result<(), HomeError> {
        let dir = self.path(BATCHES_DIR);
        let json = dir.join(format!("{}.json", batch.root.to_hex()));
        let cbor = dir.join(format!("{}.cbor", batch.root.to_hex()));
        if batch.certificates.len() <= MAX_JSON_CERTIFICATES {
            write_json(&json, batch)?;
            super::remove_if_present(&cbor)
        } else {
            write_atomically(&cbor, &encode_batch(batch)?, Existing::Replace)?;
            super::remove_if_present(&json)
        }
    }

    /// The record of the batch with this root, if there is one.
    pub fn batch(&self, root: &Hash32) -> Result<Option<BatchFile>, HomeError> {
        let dir = self.path(BATCHES_DIR);
        let path = dir.join(format!("{}.cbor", root.to_hex()));
        match files::read_limited(&path, MAX_BATCH_RECORD_BYTES) {
            Ok(bytes) => decode_batch(&bytes, &path).map(Some),
            Err(e) if e.is_not_found() => {
                let json = dir.join(format!("{}.json", root.to_hex()));
                if json.exists() {
                    read_json(&json).map(Some)
                } else {
                    Ok(None)
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every batch record, oldest first.
    pub fn batches(&self) -> Result<Vec<BatchFile>, HomeError> {
        self.require()?;
        let dir = self.path(BATCHES_DIR);
        let mut all: Vec<BatchFile> = Vec::new();
        for path in files_with(&dir, "json")? {
            all.push(read_json(&path)?);
        }
        for path in files_with(&dir, "cbor")? {
            let bytes = files::read_limited(&path, MAX_BATCH_RECORD_BYTES)?;
            all.push(decode_batch(&bytes, &path)?);
        }
        all.sort_by_key(|a| {
            let first = a.certificates.first().map(|c| c.status_index);
            (a.created_at, first, a.root)
        });
        Ok(all)
    }

    /// Writes a revocation record.
    pub fn write_revocation(&self, revocation: &RevocationFile) -> Result<(), HomeError> {
        let path = self.path(REVOCATIONS_DIR).join(format!(
            "{}-{}.json",
            revocation.time,
            revocation.tx_hash.to_hex().get(..16).unwrap_or("")
        ));
        write_json(&path, revocation)
    }

    /// Every revocation record, oldest first.
    pub fn revocations(&self) -> Result<Vec<RevocationFile>, HomeError> {
        self.require()?;
        let mut all: Vec<RevocationFile> = Vec::new();
        for path in files_with(&self.path(REVOCATIONS_DIR), "json")? {
            all.push(read_json(&path)?);
        }
        all.sort_by_key(|r| r.time);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_records_round_trip() {
        // Every time different, so that no field is written in another's place.
        let cert = |i: u8, file: Option<&str>| CertificateRecord {
            valid_from: 11,
            leaf_index: u64::from(i),
            package_file: file.map(str::to_owned),
            ..crate::register::tests::record(i, 12)
        };
        let batch = BatchFile {
            version: crate::register::RECORD_VERSION,
            root: Hash32([7; 32]),
            key_id: KeyId([1; 8]),
            kinds: vec![KindId::new("id-card").unwrap()],
            count: 2,
            state: BatchState::Anchored,
            created_at: 10,
            tx_hash: Some(Hash32([9; 32])),
            batch_seq: Some(4),
            height: None,
            anchored_at_ms: Some(5),
            detail: None,
            certificates: vec![cert(0, Some("a.ecp")), cert(1, None)],
        };
        let bytes = encode_batch(&batch).unwrap();
        assert_eq!(decode_batch(&bytes, Path::new("x")).unwrap(), batch);
        // Each certificate costs its fixed-width row (and its file name) and nothing more;
        // the batch's own fields (with their names) a few hundred bytes once.
        let mut big = batch.clone();
        big.certificates = (0..200).map(|i| cert(i, None)).collect();
        big.count = 200;
        let big_bytes = encode_batch(&big).unwrap();
        assert_eq!(decode_batch(&big_bytes, Path::new("x")).unwrap(), big);
        assert!(
            big_bytes.len() < 200 * ROW_BYTES + 300,
            "{}",
            big_bytes.len()
        );
        assert!(bytes.len() < 2 * ROW_BYTES + 300, "{}", bytes.len());
    }
}
