//! Signing one batch's rows as one-time copies on every core, each worker with its own
//! ChaCha20 generator seeded once from the operating system (instead of a system call per
//! secret), and the random order in which the batch's status indexes go to its copies.

use ecert_schemas::{KindId, KindRegistry, StatusIndex, UnixTime};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};

use super::IssuanceError;
use crate::claims_input::InputRow;
use crate::{issue_copies_of, CopiesRequest, IssuedCopies, IssuerKey};

/// How often (in certificates) a worker reports progress.
const REPORT_EVERY: usize = 256;

/// The validity and signing time of a job's certificates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Times {
    pub issued_at: UnixTime,
    pub valid_from: UnixTime,
    pub expires: UnixTime,
}

/// What every certificate of a job is signed with: the department's key, the kind, the
/// job's times and its number of copies per certificate.
#[derive(Clone, Copy)]
pub(crate) struct Signer<'a> {
    pub key: &'a IssuerKey,
    pub kinds: &'a KindRegistry,
    pub kind: &'a KindId,
    pub times: Times,
    pub copies: usize,
}

/// A fresh generator seeded from the operating system.
pub(crate) fn seeded_rng() -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}

/// The `count` status indexes from `first` in an order drawn uniformly at random
/// (Fisher–Yates): handed to the batch's copies in this order, consecutive indexes say
/// nothing about which copies belong to one certificate.
pub(crate) fn shuffled_indexes(
    first: u32,
    count: u32,
    rng: &mut impl RngCore,
) -> Result<Vec<StatusIndex>, IssuanceError> {
    let end = first.checked_add(count).ok_or(IssuanceError::TooMany)?;
    let mut indexes: Vec<StatusIndex> = (first..end).map(StatusIndex).collect();
    crate::copies::shuffle(&mut indexes, rng);
    Ok(indexes)
}

/// Signs `rows` on this thread, each row's copies with the next `signer.copies` of
/// `indexes`.
fn sign_part(
    signer: Signer<'_>,
    rows: &[InputRow],
    indexes: &[StatusIndex],
    signed: &(dyn Fn(u64) + Sync),
) -> Result<Vec<IssuedCopies>, IssuanceError> {
    let Signer {
        key,
        kinds,
        kind,
        times,
        copies,
    } = signer;
    let mut rng = seeded_rng();
    let mut out = Vec::with_capacity(rows.len());
    for (i, (row, own)) in rows.iter().zip(indexes.chunks(copies.max(1))).enumerate() {
        // New copies of a certificate issued before keep its id and validity.
        let (valid_from, expires) = match &row.refill {
            Some(terms) => (terms.valid_from, terms.expires),
            None => (times.valid_from, times.expires),
        };
        let request = CopiesRequest {
            kind: kind.clone(),
            claims: row.claims.clone(),
            holder: row.holder,
            valid_from,
            expires,
            status_indexes: own.to_vec(),
        };
        let id = row.refill.map(|terms| terms.id);
        let issued = issue_copies_of(key, kinds, &request, times.issued_at, id, &mut rng).map_err(
            |source| IssuanceError::Row {
                row: row.row,
                source,
            },
        )?;
        out.push(issued);
        if (i + 1) % REPORT_EVERY == 0 {
            signed(REPORT_EVERY as u64);
        }
    }
    signed((rows.len() % REPORT_EVERY) as u64);
    Ok(out)
}

/// Signs `rows` as `signer.copies` copies each on `threads` workers, row `i`'s copies
/// with `indexes[i * copies..(i + 1) * copies]`; the certificates, in row order.
pub(crate) fn sign_rows(
    signer: Signer<'_>,
    rows: &[InputRow],
    indexes: &[StatusIndex],
    threads: usize,
    signed: &(dyn Fn(u64) + Sync),
) -> Result<Vec<IssuedCopies>, IssuanceError> {
    let copies = signer.copies.max(1);
    if rows.len().checked_mul(copies) != Some(indexes.len()) {
        return Err(IssuanceError::WorkerFailed);
    }
    let per = rows.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<IssuedCopies>, IssuanceError>> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(per)
            .zip(indexes.chunks(per * copies))
            .map(|(part, own)| s.spawn(move || sign_part(signer, part, own, signed)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(IssuanceError::WorkerFailed)))
            .collect()
    });
    let mut certificates = Vec::with_capacity(rows.len());
    for part in parts {
        certificates.extend(part?);
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn indexes_are_a_permutation_of_the_block() {
        let mut rng = seeded_rng();
        let indexes = shuffled_indexes(100, 3_000, &mut rng).unwrap();
        let set: BTreeSet<u32> = indexes.iter().map(|i| i.0).collect();
        assert_eq!(set.len(), 3_000);
        assert_eq!(set.first(), Some(&100));
        assert_eq!(set.last(), Some(&3_099));
        // Not left in order: fewer than a tenth of neighbours are consecutive.
        let consecutive = indexes.windows(2).filter(|w| w[1].0 == w[0].0 + 1).count();
        assert!(consecutive < 300, "{consecutive}");
        assert_ne!(indexes, shuffled_indexes(100, 3_000, &mut rng).unwrap());
        assert!(shuffled_indexes(u32::MAX, 2, &mut rng).is_err());
        assert!(shuffled_indexes(7, 0, &mut rng).unwrap().is_empty());
    }
}
