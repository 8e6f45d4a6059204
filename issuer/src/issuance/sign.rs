//! Signing one batch's rows on every core, each worker with its own ChaCha20 generator
//! seeded once from the operating system (instead of nine system calls per certificate).

use ecert_schemas::{KindId, KindRegistry, StatusIndex, UnixTime};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use super::IssuanceError;
use crate::claims_input::InputRow;
use crate::register::CertificateRecord;
use crate::{issue, CertificateRequest, IssuedCertificate, IssuerKey};

/// How often (in certificates) a worker reports progress.
const REPORT_EVERY: usize = 1024;

/// The validity and signing time of a job's certificates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Times {
    pub issued_at: UnixTime,
    pub valid_from: UnixTime,
    pub expires: UnixTime,
}

/// What every certificate of a job is signed with: the department's key, the kind and
/// the job's times.
#[derive(Clone, Copy)]
pub(crate) struct Signer<'a> {
    pub key: &'a IssuerKey,
    pub kinds: &'a KindRegistry,
    pub kind: &'a KindId,
    pub times: Times,
}

/// A fresh generator seeded from the operating system.
pub(crate) fn seeded_rng() -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}

/// Signs `rows` on this thread, with consecutive status indexes from `first`.
fn sign_part(
    signer: Signer<'_>,
    rows: &[InputRow],
    first: u32,
    signed: &(dyn Fn(u64) + Sync),
) -> Result<Vec<(IssuedCertificate, CertificateRecord)>, IssuanceError> {
    let Signer {
        key,
        kinds,
        kind,
        times,
    } = signer;
    let mut rng = seeded_rng();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let index = u32::try_from(i)
            .ok()
            .and_then(|i| first.checked_add(i))
            .ok_or(IssuanceError::TooMany)?;
        let request = CertificateRequest {
            kind: kind.clone(),
            claims: row.claims.clone(),
            holder: row.holder,
            valid_from: times.valid_from,
            expires: times.expires,
            status_index: StatusIndex(index),
        };
        let cert = issue(key, kinds, &request, times.issued_at, &mut rng).map_err(|source| {
            IssuanceError::Row {
                row: row.row,
                source,
            }
        })?;
        let record = CertificateRecord {
            id: cert.id,
            kind: kind.clone(),
            holder: row.holder,
            status_index: index,
            issued_at: times.issued_at.secs(),
            valid_from: times.valid_from.secs(),
            expires: times.expires.secs(),
            leaf_index: 0,
            hash: ecert_schemas::Hash32(Sha256::digest(&cert.certificate).into()),
            package_file: None,
            offer: None,
        };
        out.push((cert, record));
        if (i + 1) % REPORT_EVERY == 0 {
            signed(REPORT_EVERY as u64);
        }
    }
    signed((rows.len() % REPORT_EVERY) as u64);
    Ok(out)
}

/// Signs `rows` with consecutive status indexes from `first`, on `threads` workers; the
/// certificates and their register records, in row order.
pub(crate) fn sign_rows(
    signer: Signer<'_>,
    rows: &[InputRow],
    first: u32,
    threads: usize,
    signed: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<IssuedCertificate>, Vec<CertificateRecord>), IssuanceError> {
    let per = rows.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<_>, IssuanceError>> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(per)
            .enumerate()
            .map(|(n, part)| {
                let start = u32::try_from(n * per)
                    .ok()
                    .and_then(|o| first.checked_add(o));
                s.spawn(move || match start {
                    Some(start) => sign_part(signer, part, start, signed),
                    None => Err(IssuanceError::TooMany),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(IssuanceError::WorkerFailed)))
            .collect()
    });
    let mut certificates = Vec::with_capacity(rows.len());
    let mut records = Vec::with_capacity(rows.len());
    for part in parts {
        for (cert, mut record) in part? {
            record.leaf_index = records.len() as u64;
            certificates.push(cert);
            records.push(record);
        }
    }
    Ok((certificates, records))
}
