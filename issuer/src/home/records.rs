//! The register's files: one per batch (`batches/ROOT.json` or `.cbor`) and one per
//! revocation (`revocations/TIME-HASH.json`).
//!
//! A batch record of up to [`MAX_JSON_CERTIFICATES`] certificates and
//! [`MAX_JSON_STATUS_INDEXES`] status indexes is JSON, as it always was; a larger one is
//! compact CBOR: the batch's fields, then its certificates as one byte string of
//! fixed-width rows and, when made, the package file and offer code of each. A batch of
//! one-time copies (version [`COMPACT_COPIES_VERSION`]) has rows of [`COPIES_ROW_BYTES`]
//! bytes (id, holder key, times, kind, number of copies) and its copies' status indexes in
//! one more byte string, 4 bytes each; a batch of whole certificates (version
//! [`COMPACT_VERSION`], format 1) rows of [`ROW_BYTES`] bytes (id, holder key, status
//! index, times, SHA-256 of the certificate, kind). Written in one go. No claim value and
//! no copy secret is ever in a record.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::Path;

use ecert_schemas::codec::{from_cbor_bounded, to_cbor, ByteBuf};
use ecert_schemas::copy::MAX_COPIES;
use ecert_schemas::{CertificateId, Hash32, KeyId, KindId, PublicKeyBytes};
use ecert_shell::files::{self, write_atomically, Existing};
use serde::{Deserialize, Serialize};

use super::{io_err, read_limited, Home, HomeError, BATCHES_DIR, REVOCATIONS_DIR};
use crate::register::{
    readable_version, BatchFile, BatchState, CertificateRecord, Issued, RevocationFile,
    RECORD_VERSION,
};

/// Version of the compact record of a batch of whole certificates (format 1).
pub const COMPACT_VERSION: u32 = 2;
/// Version of the compact record of a batch of one-time copies (format 2).
pub const COMPACT_COPIES_VERSION: u32 = 3;
/// Bytes per certificate row of format 1: id 16, holder 32, status index 4, issued, valid
/// from and expires 8 each, hash 32, kind (index into the batch's kinds) 1.
pub const ROW_BYTES: usize = 16 + 32 + 4 + 8 * 3 + 32 + 1;
/// Bytes per certificate row of format 2: id 16, holder 32, issued, valid from and
/// expires 8 each, kind 1, number of copies 2 (their status indexes follow in their own
/// byte string).
pub const COPIES_ROW_BYTES: usize = 16 + 32 + 8 * 3 + 1 + 2;
/// Batches of at most this many certificates (and [`MAX_JSON_STATUS_INDEXES`] status
/// indexes) are recorded as (readable) JSON, larger ones as compact CBOR.
pub const MAX_JSON_CERTIFICATES: usize = 1_000;
/// Batches with at most this many status indexes in all (copies, or whole certificates)
/// may be recorded as JSON.
pub const MAX_JSON_STATUS_INDEXES: usize = 30_000;
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
    /// The copies' status indexes (format 2 only), each row's in turn.
    #[serde(default, skip_serializing_if = "no_bytes")]
    status_indexes: ByteBuf,
    /// Empty, or one entry per certificate.
    package_files: Vec<Option<String>>,
    /// Empty, or one entry per certificate.
    offers: Vec<Option<String>>,
}

fn no_bytes(bytes: &ByteBuf) -> bool {
    bytes.is_empty()
}

fn damaged(path: &Path, detail: impl Into<String>) -> HomeError {
    HomeError::Damaged {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

/// The position of `c`'s kind among the batch's kinds, as one byte.
fn kind_byte(batch: &BatchFile, c: &CertificateRecord) -> Result<u8, HomeError> {
    batch
        .kinds
        .iter()
        .position(|k| *k == c.kind)
        .and_then(|i| u8::try_from(i).ok())
        .ok_or_else(|| {
            HomeError::BadValue(format!("certificate kind {} is not in its batch", c.kind))
        })
}

/// The compact bytes of `batch`: all its certificates of one format.
pub fn encode_batch(batch: &BatchFile) -> Result<Vec<u8>, HomeError> {
    let copies = batch
        .certificates
        .first()
        .is_some_and(|c| matches!(c.issued, Issued::Copies { .. }));
    let mut rows = Vec::with_capacity(
        batch.certificates.len() * if copies { COPIES_ROW_BYTES } else { ROW_BYTES },
    );
    let mut status_indexes = Vec::new();
    for c in &batch.certificates {
        let kind = kind_byte(batch, c)?;
        rows.extend_from_slice(&c.id.0);
        rows.extend_from_slice(&c.holder.0);
        match (&c.issued, copies) {
            (
                Issued::Copies {
                    status_indexes: own,
                },
                true,
            ) => {
                let n = u16::try_from(own.len())
                    .ok()
                    .filter(|n| (1..=MAX_COPIES).contains(&usize::from(*n)))
                    .ok_or_else(|| {
                        HomeError::BadValue(format!(
                            "certificate {} has {} copies",
                            c.id,
                            own.len()
                        ))
                    })?;
                for t in [c.issued_at, c.valid_from, c.expires] {
                    rows.extend_from_slice(&t.to_be_bytes());
                }
                rows.push(kind);
                rows.extend_from_slice(&n.to_be_bytes());
                for index in own {
                    status_indexes.extend_from_slice(&index.to_be_bytes());
                }
            }
            (
                Issued::Whole {
                    status_index, hash, ..
                },
                false,
            ) => {
                rows.extend_from_slice(&status_index.to_be_bytes());
                for t in [c.issued_at, c.valid_from, c.expires] {
                    rows.extend_from_slice(&t.to_be_bytes());
                }
                rows.extend_from_slice(&hash.0);
                rows.push(kind);
            }
            _ => {
                return Err(HomeError::BadValue(
                    "a batch holds certificates of one format only".into(),
                ))
            }
        }
    }
    let column = |f: fn(&CertificateRecord) -> &Option<String>| {
        if batch.certificates.iter().all(|c| f(c).is_none()) {
            Vec::new()
        } else {
            batch.certificates.iter().map(|c| f(c).clone()).collect()
        }
    };
    let compact = CompactBatch {
        version: if copies {
            COMPACT_COPIES_VERSION
        } else {
            COMPACT_VERSION
        },
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
        status_indexes: ByteBuf::from(status_indexes),
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

/// Reads `N` bytes off the front of `rest`.
fn take<const N: usize>(rest: &mut &[u8], path: &Path) -> Result<[u8; N], HomeError> {
    if rest.len() < N {
        return Err(damaged(path, "a certificate row is cut short"));
    }
    let (head, tail) = rest.split_at(N);
    *rest = tail;
    array(head, path)
}

/// Reads compact batch record bytes (`path` is for messages).
pub fn decode_batch(bytes: &[u8], path: &Path) -> Result<BatchFile, HomeError> {
    let c: CompactBatch = from_cbor_bounded("batch record", bytes, bytes.len())
        .map_err(|e| damaged(path, e.to_string()))?;
    let row_bytes = match c.version {
        COMPACT_VERSION if c.status_indexes.is_empty() => ROW_BYTES,
        COMPACT_VERSION => return Err(damaged(path, "whole certificates with copies")),
        COMPACT_COPIES_VERSION => COPIES_ROW_BYTES,
        v => return Err(damaged(path, format!("unknown record version {v}"))),
    };
    let n = c.rows.len() / row_bytes;
    if !c.rows.len().is_multiple_of(row_bytes)
        || (!c.package_files.is_empty() && c.package_files.len() != n)
        || (!c.offers.is_empty() && c.offers.len() != n)
        || !c.status_indexes.len().is_multiple_of(4)
    {
        return Err(damaged(path, "the certificate columns do not line up"));
    }
    let mut indexes = c
        .status_indexes
        .chunks_exact(4)
        .map(|b| <[u8; 4]>::try_from(b).map(u32::from_be_bytes));
    let mut certificates = Vec::with_capacity(n);
    for (i, row) in c.rows.chunks_exact(row_bytes).enumerate() {
        let mut rest = row;
        let id = CertificateId(take(&mut rest, path)?);
        let holder = PublicKeyBytes(take(&mut rest, path)?);
        let whole_index = if c.version == COMPACT_VERSION {
            Some(u32::from_be_bytes(take(&mut rest, path)?))
        } else {
            None
        };
        let issued_at = u64::from_be_bytes(take(&mut rest, path)?);
        let valid_from = u64::from_be_bytes(take(&mut rest, path)?);
        let expires = u64::from_be_bytes(take(&mut rest, path)?);
        let (issued, [kind]) = match whole_index {
            Some(status_index) => {
                let hash = Hash32(take(&mut rest, path)?);
                let kind = take::<1>(&mut rest, path)?;
                let issued = Issued::Whole {
                    status_index,
                    leaf_index: i as u64,
                    hash,
                };
                (issued, kind)
            }
            None => {
                let kind = take::<1>(&mut rest, path)?;
                let count = usize::from(u16::from_be_bytes(take(&mut rest, path)?));
                let own = indexes
                    .by_ref()
                    .take(count)
                    .collect::<Result<Vec<u32>, _>>()
                    .map_err(|_| damaged(path, "a status index is cut short"))?;
                if own.len() != count || count == 0 || count > MAX_COPIES {
                    return Err(damaged(path, "the copies' status indexes do not line up"));
                }
                let issued = Issued::Copies {
                    status_indexes: own,
                };
                (issued, kind)
            }
        };
        let kind = c
            .kinds
            .get(usize::from(kind))
            .ok_or_else(|| damaged(path, "a certificate's kind is not in the batch"))?;
        certificates.push(CertificateRecord {
            id,
            kind: kind.clone(),
            holder,
            issued_at,
            valid_from,
            expires,
            issued,
            package_file: c.package_files.get(i).cloned().flatten(),
            offer: c.offers.get(i).cloned().flatten(),
        });
    }
    if indexes.next().is_some() {
        return Err(damaged(path, "the copies' status indexes do not line up"));
    }
    Ok(BatchFile {
        version: RECORD_VERSION,
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

/// A record's version, checked to be one this program reads.
fn check_version(path: &Path, version: u32) -> Result<(), HomeError> {
    if readable_version(version) {
        Ok(())
    } else {
        Err(damaged(
            path,
            format!(
                "record version {version} is not one this program reads (up to \
                 {RECORD_VERSION}); it was written by a newer ecert-issuer"
            ),
        ))
    }
}

fn read_batch_json(path: &Path) -> Result<BatchFile, HomeError> {
    let batch: BatchFile = read_json(path)?;
    check_version(path, batch.version)?;
    Ok(batch)
}

/// Whether `batch` is small enough to be recorded as JSON.
fn fits_json(batch: &BatchFile) -> bool {
    batch.certificates.len() <= MAX_JSON_CERTIFICATES
        && batch
            .certificates
            .iter()
            .map(|c| c.status_indexes().len())
            .sum::<usize>()
            <= MAX_JSON_STATUS_INDEXES
}

impl Home {
    /// Writes a batch's record (replacing an earlier version of the same batch): JSON
    /// up to [`MAX_JSON_CERTIFICATES`] certificates and [`MAX_JSON_STATUS_INDEXES`]
    /// status indexes, compact CBOR above.
    pub fn write_batch(&self, batch: &BatchFile) -> Result<(), HomeError> {
        let dir = self.path(BATCHES_DIR);
        let json = dir.join(format!("{}.json", batch.root.to_hex()));
        let cbor = dir.join(format!("{}.cbor", batch.root.to_hex()));
        if fits_json(batch) {
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
                    read_batch_json(&json).map(Some)
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
            all.push(read_batch_json(&path)?);
        }
        for path in files_with(&dir, "cbor")? {
            let bytes = files::read_limited(&path, MAX_BATCH_RECORD_BYTES)?;
            all.push(decode_batch(&bytes, &path)?);
        }
        all.sort_by_key(|a| {
            // The batches of one command share their time; each has its own block of
            // status indexes, reserved in order.
            let first = a
                .certificates
                .first()
                .and_then(CertificateRecord::first_status_index);
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
            let revocation: RevocationFile = read_json(&path)?;
            check_version(&path, revocation.version)?;
            all.push(revocation);
        }
        all.sort_by_key(|r| r.time);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::tests::{copies, record};

    fn batch(certificates: Vec<CertificateRecord>) -> BatchFile {
        BatchFile {
            version: RECORD_VERSION,
            root: Hash32([7; 32]),
            key_id: KeyId([1; 8]),
            kinds: vec![KindId::new("id-card").unwrap()],
            count: certificates.len() as u64,
            state: BatchState::Anchored,
            created_at: 10,
            tx_hash: Some(Hash32([9; 32])),
            batch_seq: Some(4),
            height: None,
            anchored_at_ms: Some(5),
            detail: None,
            certificates,
        }
    }

    #[test]
    fn compact_records_of_whole_certificates_round_trip() {
        // Every time different, so that no field is written in another's place.
        let cert = |i: u8, file: Option<&str>| {
            let mut c = record(i, 12);
            c.valid_from = 11;
            c.package_file = file.map(str::to_owned);
            if let Issued::Whole { leaf_index, .. } = &mut c.issued {
                *leaf_index = u64::from(i);
            }
            c
        };
        let small = batch(vec![cert(0, Some("a.ecp")), cert(1, None)]);
        let bytes = encode_batch(&small).unwrap();
        assert_eq!(decode_batch(&bytes, Path::new("x")).unwrap(), small);
        // Each certificate costs its fixed-width row (and its file name) and nothing more;
        // the batch's own fields (with their names) a few hundred bytes once.
        let big = batch((0..200).map(|i| cert(i, None)).collect());
        let big_bytes = encode_batch(&big).unwrap();
        assert_eq!(decode_batch(&big_bytes, Path::new("x")).unwrap(), big);
        assert!(
            big_bytes.len() < 200 * ROW_BYTES + 300,
            "{}",
            big_bytes.len()
        );
        assert!(bytes.len() < 2 * ROW_BYTES + 300, "{}", bytes.len());
    }

    #[test]
    fn compact_records_of_copies_round_trip() {
        let cert = |i: u8, n: u32| {
            let indexes: Vec<u32> = (0..n).map(|k| u32::from(i) * 1000 + k * 7).collect();
            let mut c = copies(i, &indexes, 12);
            c.valid_from = 11;
            c.offer = i.is_multiple_of(2).then(|| format!("CODE-{i}"));
            c
        };
        let b = batch((0..100).map(|i| cert(i, 30)).collect());
        let bytes = encode_batch(&b).unwrap();
        assert_eq!(decode_batch(&bytes, Path::new("x")).unwrap(), b);
        // A row and 4 bytes a copy, plus the offer codes.
        assert!(
            bytes.len() < 100 * (COPIES_ROW_BYTES + 30 * 4 + 12) + 300,
            "{}",
            bytes.len()
        );
        // Copies of different counts, one to a thousand.
        let b = batch(vec![cert(1, 1), cert(2, 1000), cert(3, 2)]);
        let bytes = encode_batch(&b).unwrap();
        assert_eq!(decode_batch(&bytes, Path::new("x")).unwrap(), b);
        // One format per batch.
        assert!(encode_batch(&batch(vec![cert(1, 3), record(2, 12)])).is_err());
    }

    #[test]
    fn large_batches_of_copies_are_not_json() {
        let few = batch(vec![copies(1, &[1, 2, 3], 12)]);
        assert!(fits_json(&few));
        let indexes: Vec<u32> = (0..1000).collect();
        let many = batch((0..31).map(|i| copies(i, &indexes, 12)).collect());
        assert!(!fits_json(&many), "31,000 status indexes");
        let whole = batch((0..=200).map(|i| record(i, 12)).collect());
        assert!(fits_json(&whole));
    }
}
