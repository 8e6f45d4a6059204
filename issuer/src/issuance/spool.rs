//! The spool: each signed batch is written to `issuing/ROOT.spool` and flushed to disk —
//! one file, one flush for the whole batch — *before* its anchor transaction is sent, and
//! deleted once its packages are delivered. After a crash, the batch is rebuilt from it,
//! the same batch with the same root, and its packages from it and the ledger's anchor
//! receipt; nothing signed is ever lost, and the packages delivered again are the same
//! bytes.
//!
//! A batch of one-time copies (version [`SPOOL_VERSION`]) is spooled as what its packages
//! need and nothing that follows from it: per certificate its id, the holder's wallet key,
//! its fields and, per copy, its secret, status index, holder key and signature (132
//! bytes); the batch's kind, times and key once; and the order of its copies in the batch.
//! What each copy's issuer signed is rebuilt from them when the spool is read, and the
//! batch's root checked against the file's name. A spool of whole certificates (version
//! [`WHOLE_SPOOL_VERSION`], written before format 2) is still read, to deliver it.
//!
//! The spool holds claim values and the copies' secrets: it is private to the owner like
//! the whole home, and lives only until the batch is delivered.

use std::path::{Path, PathBuf};

use ecert_schemas::codec::{from_cbor_bounded, to_cbor, ByteBuf};
use ecert_schemas::copy::{CopySignedData, PackageField, MAX_COPIES};
use ecert_schemas::{
    Certificate, CertificateId, CopySecret, Hash32, IssuerId, KeyId, KindId, PublicKeyBytes,
    SignatureBytes, StatusIndex, UnixTime,
};
use ecert_shell::files::{self, write_atomically, Existing};
use ecert_verifier::copy_key::field_leaves;
use ecert_verifier::merkle16::field_root;
use serde::{Deserialize, Serialize};

use super::IssuanceError;
use crate::copies::{CopyRef, SignedCopy};
use crate::home::{Home, HomeError};
use crate::{CopyBatch, IssuedCertificate, IssuedCopies};

/// Version of the spool of a batch of one-time copies.
pub const SPOOL_VERSION: u32 = 2;
/// Version of the spool of a batch of whole certificates (format 1), still read.
pub const WHOLE_SPOOL_VERSION: u32 = 1;
/// Largest spool file read: 1 GiB.
const MAX_SPOOL_BYTES: u64 = 1024 * 1024 * 1024;
/// Bytes per spooled copy: secret 32, status index 4, holder key 32, signature 64.
pub const COPY_BYTES: usize = 32 + 4 + 32 + 64;
/// Bytes per place in the spooled order: certificate 4, copy 2.
const PLACE_BYTES: usize = 4 + 2;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WholeSpoolFile {
    version: u32,
    first_row: u64,
    offer_seed: Option<ByteBuf>,
    certificates: Vec<(ByteBuf, Vec<ByteBuf>)>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CopiesSpoolFile {
    version: u32,
    first_row: u64,
    offer_seed: Option<ByteBuf>,
    key_id: ByteBuf,
    kind: KindId,
    issued_at: u64,
    valid_from: u64,
    expires: u64,
    certificates: Vec<SpooledCertificate>,
    /// The copies' places in the batch: [`PLACE_BYTES`] each.
    order: ByteBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpooledCertificate {
    id: ByteBuf,
    holder: ByteBuf,
    fields: Vec<PackageField>,
    /// [`COPY_BYTES`] per copy.
    copies: ByteBuf,
}

/// A signed batch waiting to be anchored and delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spooled {
    /// The index (0-based) in the job's input of the batch's first row.
    pub first_row: u64,
    /// The seed its offer codes are drawn from (when offers are made), so that a batch
    /// delivered again after an interruption gets the same codes.
    pub offer_seed: Option<[u8; 32]>,
    /// The batch.
    pub batch: SpooledBatch,
}

/// The certificates of a spooled batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpooledBatch {
    /// One-time copies (format 2).
    Copies {
        /// The certificates, in the order of their rows.
        certificates: Vec<IssuedCopies>,
        /// The holder's wallet key of each.
        holders: Vec<PublicKeyBytes>,
        /// The copies' order in the batch.
        order: Vec<CopyRef>,
    },
    /// Whole certificates (format 1), in batch order.
    Whole(Vec<IssuedCertificate>),
}

impl Spooled {
    /// The number of certificates (rows) in the batch.
    pub fn len(&self) -> usize {
        match &self.batch {
            SpooledBatch::Copies { certificates, .. } => certificates.len(),
            SpooledBatch::Whole(certificates) => certificates.len(),
        }
    }

    /// Whether it holds no certificate (never, once written).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn path(home: &Home, root: &Hash32) -> Result<PathBuf, HomeError> {
    Ok(home.issuing_dir()?.join(format!("{}.spool", root.to_hex())))
}

/// Writes the spool of the batch of copies `batch` (whose certificates were issued to
/// `holders`, in order), flushed to disk.
pub fn write(
    home: &Home,
    batch: &CopyBatch,
    holders: &[PublicKeyBytes],
    first_row: u64,
    offer_seed: Option<[u8; 32]>,
) -> Result<(), IssuanceError> {
    let first = batch
        .certificates()
        .first()
        .ok_or(crate::IssueError::EmptyBatch)?;
    let mut order = Vec::with_capacity(batch.order().len() * PLACE_BYTES);
    for place in batch.order() {
        order.extend_from_slice(&place.certificate.to_be_bytes());
        order.extend_from_slice(&place.copy.to_be_bytes());
    }
    let file = CopiesSpoolFile {
        version: SPOOL_VERSION,
        first_row,
        offer_seed: offer_seed.map(|s| ByteBuf::from(s.to_vec())),
        key_id: ByteBuf::from(first.key_id.0.to_vec()),
        kind: first.kind.clone(),
        issued_at: first.issued_at.secs(),
        valid_from: first.valid_from.secs(),
        expires: first.expires.secs(),
        certificates: batch
            .certificates()
            .iter()
            .zip(holders)
            .map(|(issued, holder)| {
                let mut copies = Vec::with_capacity(issued.copies.len() * COPY_BYTES);
                for copy in &issued.copies {
                    copies.extend_from_slice(&copy.secret.0);
                    copies.extend_from_slice(&copy.status_index.0.to_be_bytes());
                    copies.extend_from_slice(&copy.holder.0);
                    copies.extend_from_slice(&copy.signature.0);
                }
                SpooledCertificate {
                    id: ByteBuf::from(issued.id.0.to_vec()),
                    holder: ByteBuf::from(holder.0.to_vec()),
                    fields: issued.fields.clone(),
                    copies: ByteBuf::from(copies),
                }
            })
            .collect(),
        order: ByteBuf::from(order),
    };
    if file.certificates.len() != batch.len()
        || batch.certificates().iter().any(|c| {
            c.kind != file.kind
                || c.key_id != first.key_id
                || (c.issued_at, c.valid_from, c.expires)
                    != (first.issued_at, first.valid_from, first.expires)
        })
    {
        // The workflow signs a batch with one key, kind and set of times.
        return Err(IssuanceError::WorkerFailed);
    }
    let bytes = to_cbor(&file)?;
    write_atomically(&path(home, &batch.root())?, &bytes, Existing::Replace)
        .map_err(HomeError::from)?;
    Ok(())
}

/// A spool file as decoded, of either version.
enum Decoded {
    Copies(CopiesSpoolFile),
    Whole(WholeSpoolFile),
}

/// Decodes a spool file (a damaged one is reported as such).
fn decode(path: &Path) -> Result<Decoded, IssuanceError> {
    let bytes = files::read_limited(path, MAX_SPOOL_BYTES).map_err(HomeError::from)?;
    match from_cbor_bounded::<CopiesSpoolFile>("spool", &bytes, bytes.len()) {
        Ok(file) => Ok(Decoded::Copies(file)),
        Err(copies_error) => from_cbor_bounded::<WholeSpoolFile>("spool", &bytes, bytes.len())
            .map(Decoded::Whole)
            .map_err(|_| damaged(path)(copies_error.to_string())),
    }
}

fn damaged(path: &Path) -> impl Fn(String) -> IssuanceError + '_ {
    move |detail| {
        IssuanceError::Home(HomeError::Damaged {
            path: path.to_owned(),
            detail,
        })
    }
}

/// Where a spooled batch starts in the job's input, and how many rows it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The index (0-based) in the job's input of the batch's first row.
    pub first_row: u64,
    /// Its certificates (rows).
    pub certificates: u64,
}

/// What [`Summary`] says of the spool at `path`, without rebuilding its batch.
pub fn summary(path: &Path) -> Result<Summary, IssuanceError> {
    Ok(match decode(path)? {
        Decoded::Copies(f) => Summary {
            first_row: f.first_row,
            certificates: f.certificates.len() as u64,
        },
        Decoded::Whole(f) => Summary {
            first_row: f.first_row,
            certificates: f.certificates.len() as u64,
        },
    })
}

/// Reads a spool file of a batch signed by `issuer`, rebuilding what its copies' issuer
/// signed on `threads` threads.
pub fn read(path: &Path, issuer: &IssuerId, threads: usize) -> Result<Spooled, IssuanceError> {
    let damaged = damaged(path);
    let file = match decode(path)? {
        Decoded::Copies(file) => file,
        Decoded::Whole(file) => return read_whole(file, &damaged),
    };
    if file.version != SPOOL_VERSION {
        return Err(damaged(format!("unknown spool version {}", file.version)));
    }
    let offer_seed = seed(file.offer_seed, &damaged)?;
    let key_id = KeyId(fixed(&file.key_id).ok_or_else(|| damaged("bad key id".into()))?);
    let times = [file.issued_at, file.valid_from, file.expires].map(UnixTime);
    let order = file
        .order
        .chunks(PLACE_BYTES)
        .map(|place| {
            let certificate = place.get(..4).and_then(fixed).map(u32::from_be_bytes);
            let copy = place.get(4..).and_then(fixed).map(u16::from_be_bytes);
            certificate
                .zip(copy)
                .map(|(certificate, copy)| CopyRef { certificate, copy })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| damaged("the order of the copies is cut short".into()))?;
    let mut holders = Vec::with_capacity(file.certificates.len());
    for c in &file.certificates {
        holders.push(PublicKeyBytes(
            fixed(&c.holder).ok_or_else(|| damaged("bad holder key".into()))?,
        ));
    }
    let common = Common {
        issuer,
        key_id,
        kind: &file.kind,
        times,
    };
    let per = file.certificates.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<IssuedCopies>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = file
            .certificates
            .chunks(per)
            .map(|part| s.spawn(|| part.iter().map(|c| rebuild(&common, c)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a worker stopped".into())))
            .collect()
    });
    let mut certificates = Vec::with_capacity(file.certificates.len());
    for part in parts {
        certificates.extend(part.map_err(&damaged)?);
    }
    Ok(Spooled {
        first_row: file.first_row,
        offer_seed,
        batch: SpooledBatch::Copies {
            certificates,
            holders,
            order,
        },
    })
}

/// What every certificate of a spooled batch of copies shares.
struct Common<'a> {
    issuer: &'a IssuerId,
    key_id: KeyId,
    kind: &'a KindId,
    times: [UnixTime; 3],
}

/// One spooled certificate of copies, with what each copy's issuer signed rebuilt.
fn rebuild(common: &Common<'_>, c: &SpooledCertificate) -> Result<IssuedCopies, String> {
    let [issued_at, valid_from, expires] = common.times;
    let id = CertificateId(fixed(&c.id).ok_or("bad certificate id")?);
    if c.copies.is_empty()
        || !c.copies.len().is_multiple_of(COPY_BYTES)
        || c.copies.len() / COPY_BYTES > MAX_COPIES
    {
        return Err(format!("certificate {id}: its copies are cut short"));
    }
    let mut copies = Vec::with_capacity(c.copies.len() / COPY_BYTES);
    for bytes in c.copies.chunks_exact(COPY_BYTES) {
        let cut = || format!("certificate {id}: a copy is cut short");
        let secret = CopySecret(bytes.get(..32).and_then(fixed).ok_or_else(cut)?);
        let status_index = StatusIndex(
            bytes
                .get(32..36)
                .and_then(fixed)
                .map(u32::from_be_bytes)
                .ok_or_else(cut)?,
        );
        let holder = PublicKeyBytes(bytes.get(36..68).and_then(fixed).ok_or_else(cut)?);
        let signature = SignatureBytes(bytes.get(68..).and_then(fixed).ok_or_else(cut)?);
        let leaves = field_leaves(&c.fields, &secret).map_err(|e| e.to_string())?;
        let field_root = field_root(&leaves).ok_or("a certificate without fields")?;
        let signed = CopySignedData {
            issuer: common.issuer.clone(),
            key_id: common.key_id,
            kind: common.kind.clone(),
            issued_at,
            valid_from,
            expires,
            status_index,
            holder,
            field_root,
        }
        .to_bytes()
        .map_err(|e| e.to_string())?;
        copies.push(SignedCopy {
            secret,
            status_index,
            holder,
            signed,
            signature,
        });
    }
    Ok(IssuedCopies {
        id,
        issuer: common.issuer.clone(),
        key_id: common.key_id,
        kind: common.kind.clone(),
        issued_at,
        valid_from,
        expires,
        fields: c.fields.clone(),
        copies,
    })
}

/// A spool of whole certificates (format 1).
fn read_whole(
    file: WholeSpoolFile,
    damaged: &dyn Fn(String) -> IssuanceError,
) -> Result<Spooled, IssuanceError> {
    if file.version != WHOLE_SPOOL_VERSION {
        return Err(damaged(format!("unknown spool version {}", file.version)));
    }
    let offer_seed = seed(file.offer_seed, damaged)?;
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
        batch: SpooledBatch::Whole(certificates),
    })
}

fn seed(
    seed: Option<ByteBuf>,
    damaged: &dyn Fn(String) -> IssuanceError,
) -> Result<Option<[u8; 32]>, IssuanceError> {
    seed.map(|s| fixed(&s).ok_or_else(|| damaged("bad offer seed".into())))
        .transpose()
}

/// `bytes` as an array of exactly `N` bytes.
fn fixed<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{issue, issue_copies, shuffled_order, Batch, CertificateRequest, CopiesRequest};
    use ecert_schemas::{Claims, FieldValue, KindRegistry};
    use ecert_verifier::crypto;
    use rand_core::{OsRng, RngCore};

    fn home(name: &str) -> Home {
        Home::at(std::env::temp_dir().join(format!(
            "ecert-issuer-spool-{name}-{}-{:x}",
            std::process::id(),
            OsRng.next_u64()
        )))
    }

    fn claims() -> Claims {
        let mut claims = Claims::new();
        for (k, v) in [
            ("name", "王芳"),
            ("id_number", "110108199003070016"),
            ("purpose", "visa"),
            ("result", "no-record"),
            ("checked_through", "2026-01-31"),
        ] {
            claims.insert(k.into(), FieldValue::Text(v.into()));
        }
        claims
    }

    fn key() -> crate::IssuerKey {
        crate::IssuerKey::generate(IssuerId::new("justice").unwrap(), &mut OsRng)
    }

    fn holder(seed: u8) -> PublicKeyBytes {
        crypto::public_key(&ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn a_batch_of_copies_is_rebuilt_the_same() {
        let kinds = KindRegistry::builtin().unwrap();
        let key = key();
        let holders = [holder(1), holder(2), holder(3)];
        let certificates: Vec<IssuedCopies> = holders
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let first = i as u32 * 7;
                let request = CopiesRequest {
                    kind: KindId::new("no-criminal-record").unwrap(),
                    claims: claims(),
                    holder: *h,
                    valid_from: UnixTime(1_000_000),
                    expires: UnixTime(2_000_000),
                    status_indexes: (first..first + 7).rev().map(StatusIndex).collect(),
                };
                issue_copies(&key, &kinds, &request, UnixTime(1_000_100), &mut OsRng).unwrap()
            })
            .collect();
        let order = shuffled_order(&certificates, &mut OsRng);
        let batch = CopyBatch::new(&key, certificates, order).unwrap();
        let home = home("copies");
        write(&home, &batch, &holders, 40, Some([5; 32])).unwrap();
        let (root, path) = list(&home).unwrap().pop().unwrap();
        assert_eq!(root, batch.root());
        assert_eq!(
            summary(&path).unwrap(),
            Summary {
                first_row: 40,
                certificates: 3
            }
        );
        let spooled = read(&path, key.issuer(), 2).unwrap();
        assert_eq!(spooled.first_row, 40);
        assert_eq!(spooled.offer_seed, Some([5; 32]));
        let SpooledBatch::Copies {
            certificates,
            holders: read_holders,
            order,
        } = spooled.batch
        else {
            panic!("not copies");
        };
        assert_eq!(read_holders, holders);
        assert_eq!(certificates, batch.certificates());
        let again = CopyBatch::new(&key, certificates, order).unwrap();
        assert_eq!(again.root(), batch.root());
        for i in 0..3 {
            assert_eq!(again.package(i, 9), batch.package(i, 9));
        }
        // Another issuer's key rebuilds other signed data: another batch.
        let other = IssuerId::new("transport").unwrap();
        let SpooledBatch::Copies {
            certificates,
            order,
            ..
        } = read(&path, &other, 1).unwrap().batch
        else {
            panic!("not copies");
        };
        assert_ne!(certificates, batch.certificates());
        assert!(CopyBatch::new(&key, certificates, order).is_err());
        // A damaged spool is reported as damaged.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 10);
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(
            read(&path, key.issuer(), 1),
            Err(IssuanceError::Home(HomeError::Damaged { .. }))
        ));
        remove(&home, &root).unwrap();
        assert!(list(&home).unwrap().is_empty());
        std::fs::remove_dir_all(home.dir()).unwrap();
    }

    #[test]
    fn a_spool_of_whole_certificates_is_still_read() {
        let kinds = KindRegistry::builtin().unwrap();
        let key = key();
        let request = CertificateRequest {
            kind: KindId::new("no-criminal-record").unwrap(),
            claims: claims(),
            holder: holder(1),
            valid_from: UnixTime(1_000_000),
            expires: UnixTime(2_000_000),
            status_index: StatusIndex(3),
        };
        let issued = issue(&key, &kinds, &request, UnixTime(1_000_100), &mut OsRng).unwrap();
        let batch = Batch::new(&key, vec![issued.clone()]).unwrap();
        // As versions before format 2 wrote it.
        let file = WholeSpoolFile {
            version: WHOLE_SPOOL_VERSION,
            first_row: 2,
            offer_seed: None,
            certificates: vec![(
                ByteBuf::from(issued.certificate.clone()),
                issued
                    .disclosures
                    .iter()
                    .cloned()
                    .map(ByteBuf::from)
                    .collect(),
            )],
        };
        let home = home("whole");
        let path = home
            .issuing_dir()
            .unwrap()
            .join(format!("{}.spool", batch.root().to_hex()));
        std::fs::write(&path, to_cbor(&file).unwrap()).unwrap();
        assert_eq!(
            summary(&path).unwrap(),
            Summary {
                first_row: 2,
                certificates: 1
            }
        );
        let spooled = read(&path, key.issuer(), 1).unwrap();
        assert_eq!(spooled.batch, SpooledBatch::Whole(vec![issued]));
        std::fs::remove_dir_all(home.dir()).unwrap();
    }
}
