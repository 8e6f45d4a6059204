//! Refills: new one-time copies of a certificate for the wallet that holds it, before its
//! copies run out (`docs/protocol.md` §9b).
//!
//! A wallet sends a signed [`RefillRequest`] to the offer endpoint (`POST /v1/refills`).
//! The endpoint checks it ([`RefillDesk::answer`]: the department's own signature on the
//! copy sent, the wallet's on the request, not expired, not revoked) and either hands over
//! the new copies made since that copy was issued, or queues the request
//! (`refills/pending/ID.req`, one file per certificate: asking again replaces it). The
//! operator's `ecert-issuer refill` turns the queue into issuance jobs, one per kind
//! ([`RefillPlan`]): the new copies are signed under the certificate's id with its
//! validity, in one batch with every other wallet's (so they hide among each other), and
//! anchored like any batch. Each package waits in `refills/ready/ID.ecp` until its wallet
//! asks again, and is replaced by the next refill of the same certificate.
//!
//! Queuing rather than answering at once is deliberate: a batch of one certificate's
//! copies would tell every counter that sees one of them which certificate it is.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use ecert_schemas::copy::CopyPackage;
use ecert_schemas::refill::{RefillRequest, MAX_REFILL_BYTES};
use ecert_schemas::{
    CertificateId, Claims, IssuerId, KeyId, Kind, KindId, PublicKeyBytes, SchemaError, UnixTime,
};
use ecert_shell::files::{self, create_private_dir, write_atomically, Existing};
use ecert_verifier::crypto;
use ecert_verifier::refill::{check_refill, CheckedRefill, RefillError};
use ed25519_dalek::VerifyingKey;

use crate::claims_input::{InputError, InputRow, RefillTerms};
use crate::home::{io_err, Home, HomeError};
use crate::issuance::IssuanceError;

/// The folder of refills in a home.
const REFILLS_DIR: &str = "refills";
/// Requests waiting for the next `ecert-issuer refill`.
const PENDING_DIR: &str = "pending";
/// New copies waiting for their wallet.
const READY_DIR: &str = "ready";
/// Largest queue file of one refill job (the requests of one kind, at most
/// [`MAX_REFILLS_PER_JOB`] of them).
pub const MAX_QUEUE_BYTES: u64 = 512 * 1024 * 1024;
/// The most requests one `ecert-issuer refill` takes per kind; the rest wait for the next.
pub const MAX_REFILLS_PER_JOB: usize = 50_000;

/// The file name of the new copies of certificate `id` waiting for their wallet.
pub fn ready_name(id: &CertificateId) -> String {
    format!("{}.ecp", id.to_hex())
}

fn pending_name(id: &CertificateId) -> String {
    format!("{}.req", id.to_hex())
}

impl Home {
    /// The refills folder (`refills/`).
    pub fn refills_dir(&self) -> PathBuf {
        self.path(REFILLS_DIR)
    }

    /// Where new copies wait for their wallets (`refills/ready/`).
    pub fn refills_ready_dir(&self) -> PathBuf {
        self.refills_dir().join(READY_DIR)
    }

    /// Every public key this department has signed with: the current one and the retired
    /// ones (`retired-keys/*.pub`).
    pub fn public_keys(&self) -> Result<Vec<PublicKeyBytes>, HomeError> {
        let mut keys = vec![self.public_key()?];
        for path in self.retired_files("pub")? {
            let text = files::read_limited(&path, 1024)?;
            let key = std::str::from_utf8(&text)
                .ok()
                .and_then(|t| PublicKeyBytes::from_hex(t.trim()).ok())
                .ok_or_else(|| HomeError::Damaged {
                    path: path.clone(),
                    detail: "not a public key".into(),
                })?;
            keys.push(key);
        }
        Ok(keys)
    }

    /// The ids of the certificates this department revoked.
    pub fn revoked_ids(&self) -> Result<HashSet<CertificateId>, HomeError> {
        Ok(self
            .revocations()?
            .iter()
            .flat_map(|r| r.entries.iter().map(|e| e.id))
            .collect())
    }
}

/// Why a refill request is not answered, as the endpoint says it.
#[derive(Debug, thiserror::Error)]
pub enum RefillRefusal {
    /// The body is not a refill request.
    #[error("this is not a refill request: {0}")]
    Unreadable(SchemaError),
    /// The request failed its check.
    #[error(transparent)]
    Refused(#[from] RefillError),
    /// The department revoked the certificate.
    #[error("this certificate was revoked by the department; it issues no new copies of it")]
    Revoked,
    /// The home could not be read or written.
    #[error(transparent)]
    Store(#[from] HomeError),
}

impl From<files::FileError> for RefillRefusal {
    fn from(e: files::FileError) -> RefillRefusal {
        RefillRefusal::Store(e.into())
    }
}

impl RefillRefusal {
    /// The HTTP status and error code (`docs/api.md`).
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            RefillRefusal::Unreadable(_) | RefillRefusal::Refused(RefillError::Schema(_)) => {
                (400, "bad-request")
            }
            RefillRefusal::Refused(RefillError::NotOneCopy) => (400, "bad-request"),
            RefillRefusal::Refused(RefillError::BadSignature) => (400, "bad-signature"),
            RefillRefusal::Refused(RefillError::Stale { .. }) => (400, "stale-request"),
            RefillRefusal::Refused(RefillError::OtherIssuer { .. }) => (404, "other-department"),
            RefillRefusal::Refused(RefillError::NotIssuedHere(_)) => (403, "not-issued-here"),
            RefillRefusal::Refused(RefillError::Expired(_)) => (410, "expired"),
            RefillRefusal::Revoked => (410, "revoked"),
            RefillRefusal::Store(_) => (500, "internal"),
        }
    }
}

/// What the endpoint answers a good request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefillAnswer {
    /// New copies are ready: the package's bytes.
    Ready {
        /// The certificate.
        id: CertificateId,
        /// The package.
        package: Vec<u8>,
    },
    /// The request is queued for the department's next refill run.
    Queued {
        /// The certificate.
        id: CertificateId,
    },
}

/// The department's keys by id.
#[derive(Clone, Debug, Default)]
pub struct DepartmentKeys(Vec<(KeyId, VerifyingKey)>);

impl DepartmentKeys {
    /// The usable keys among `keys`.
    pub fn new(keys: &[PublicKeyBytes]) -> DepartmentKeys {
        DepartmentKeys(
            keys.iter()
                .filter_map(|k| Some((KeyId::of(k), crypto::parse_public_key(k)?)))
                .collect(),
        )
    }

    /// The key with id `id`.
    pub fn get(&self, id: KeyId) -> Option<VerifyingKey> {
        self.0.iter().find(|(k, _)| *k == id).map(|(_, key)| *key)
    }
}

/// The refill side of the offer endpoint: one department's requests and new copies.
#[derive(Clone, Debug)]
pub struct RefillDesk {
    issuer: IssuerId,
    home: PathBuf,
}

impl RefillDesk {
    /// The desk of the department `issuer` whose home is `home`.
    pub fn new(issuer: IssuerId, home: PathBuf) -> RefillDesk {
        RefillDesk { issuer, home }
    }

    fn home(&self) -> Home {
        Home::at(self.home.clone())
    }

    /// Answers the request `body` at `now`: the new copies if there are some the wallet
    /// does not hold yet, else the request queued.
    pub fn answer(&self, body: &[u8], now: UnixTime) -> Result<RefillAnswer, RefillRefusal> {
        let request = RefillRequest::from_bytes(body).map_err(RefillRefusal::Unreadable)?;
        let home = self.home();
        let keys = DepartmentKeys::new(&home.public_keys()?);
        let checked = check_refill(&request, &self.issuer, |id| keys.get(id), now)?;
        if home.revoked_ids()?.contains(&checked.id) {
            return Err(RefillRefusal::Revoked);
        }
        let dir = home.refills_dir();
        let ready = dir.join(READY_DIR).join(ready_name(&checked.id));
        if let Some(package) = newer_package(&ready, &checked)? {
            return Ok(RefillAnswer::Ready {
                id: checked.id,
                package,
            });
        }
        // The wallet holds these copies already (it sent one of them): nothing to keep.
        files::remove_if_present(&ready)?;
        let pending = dir.join(PENDING_DIR);
        create_private_dir(&dir)?;
        create_private_dir(&pending)?;
        write_atomically(
            &pending.join(pending_name(&checked.id)),
            body,
            Existing::Replace,
        )?;
        Ok(RefillAnswer::Queued { id: checked.id })
    }
}

/// The package at `path` if there is one, for the certificate of `checked`, issued after
/// the copy the wallet sent.
fn newer_package(path: &Path, checked: &CheckedRefill) -> Result<Option<Vec<u8>>, HomeError> {
    let bytes = match files::read_limited(path, ecert_schemas::copy::MAX_PACKAGE_BYTES as u64) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let package = CopyPackage::from_bytes(&bytes).map_err(|e| HomeError::Damaged {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    Ok((package.id == checked.id && package.issued_at > checked.issued_at).then_some(bytes))
}

/// Seconds in a day.
const DAY: u64 = 86_400;

/// The validity of new copies issued at `issued_at` of a certificate that expires at
/// `expires`: from `issued_at`, until `expires` rounded down to a multiple of 7 days (or,
/// when that would leave less than a week, of a day; or else unchanged). New copies
/// of certificates issued on different days share one refill batch; an end of validity
/// to the second would pick out the copies of one certificate in it, so the copies of
/// all certificates that end in the same week look alike (protocol §9b). The certificate
/// loses at most a week of validity, never gains any.
pub fn refill_validity(expires: UnixTime, issued_at: UnixTime) -> (UnixTime, UnixTime) {
    let end = expires.secs();
    for grid in [7 * DAY, DAY] {
        let rounded = end - end % grid;
        if rounded >= issued_at.secs().saturating_add(grid) {
            return (issued_at, UnixTime(rounded));
        }
    }
    (issued_at, expires)
}

/// The certificate row of a checked request, for new copies issued at `issued_at`: the
/// holder's wallet key, the claims the department gave (its derived facts are computed
/// again as of the new issue), the certificate's id and its validity
/// ([`refill_validity`]).
pub fn refill_row(
    kind: &Kind,
    checked: &CheckedRefill,
    issued_at: UnixTime,
) -> Result<InputRow, InputError> {
    if checked.kind != kind.id {
        return Err(InputError::one(
            None,
            None,
            format!(
                "a refill of a {} certificate in a {} job",
                checked.kind, kind.id
            ),
        ));
    }
    let mut claims = Claims::new();
    for field in kind.claim_fields() {
        let value = checked
            .fields
            .iter()
            .find(|f| f.field == field.number)
            .and_then(|f| f.value.clone());
        if let Some(value) = value {
            claims.insert(field.key.clone(), value);
        }
    }
    let (valid_from, expires) = refill_validity(checked.expires, issued_at);
    Ok(InputRow {
        row: None,
        holder: checked.wallet,
        claims,
        refill: Some(RefillTerms {
            id: checked.id,
            valid_from,
            expires,
        }),
    })
}

/// The rows of a refill job's queue file (a CBOR array of the requests, each checked
/// when the job was planned; read back as they are), for new copies issued at
/// `issued_at`.
pub fn rows_of(
    kind: &Kind,
    bytes: &[u8],
    issued_at: UnixTime,
) -> Result<Vec<InputRow>, IssuanceError> {
    let requests: Vec<RefillRequest> =
        ecert_schemas::codec::from_cbor_bounded("refill queue", bytes, bytes.len().max(1))?;
    let mut rows = Vec::with_capacity(requests.len());
    for request in &requests {
        // Checked before it was queued: its terms as it states them.
        let terms = ecert_verifier::refill::refill_terms(request)
            .map_err(|e| InputError::one(None, None, format!("a queued refill request: {e}")))?;
        rows.push(refill_row(kind, &terms, issued_at)?);
    }
    Ok(rows)
}

/// A queued request that will not be issued, and why.
#[derive(Debug)]
pub struct Dropped {
    /// The request file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What `ecert-issuer refill` will do with the queue.
#[derive(Debug, Default)]
pub struct RefillPlan {
    /// By kind: the requests and their files.
    pub jobs: BTreeMap<KindId, Vec<(PathBuf, RefillRequest)>>,
    /// Requests dropped: revoked, expired, already answered, damaged.
    pub dropped: Vec<Dropped>,
}

impl RefillPlan {
    /// Reads the queue of `home` and checks every request again at `now` (its signatures
    /// as of when it was made; expiry and revocation now). At most
    /// [`MAX_REFILLS_PER_JOB`] requests per kind are taken.
    pub fn of(home: &Home, issuer: &IssuerId, now: UnixTime) -> Result<RefillPlan, HomeError> {
        let keys = DepartmentKeys::new(&home.public_keys()?);
        let revoked = home.revoked_ids()?;
        let pending = home.refills_dir().join(PENDING_DIR);
        let ready = home.refills_ready_dir();
        let mut plan = RefillPlan::default();
        let entries = match std::fs::read_dir(&pending) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(plan),
            Err(e) => return Err(io_err("read", &pending)(e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(io_err("read", &pending))?.path();
            if path.extension().is_some_and(|e| e == "req") {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            let bytes = files::read_limited(&path, MAX_REFILL_BYTES as u64)?;
            let drop = |reason: String| Dropped {
                path: path.clone(),
                reason,
            };
            let checked = RefillRequest::from_bytes(&bytes)
                .map_err(RefillError::from)
                .and_then(|request| {
                    check_refill(&request, issuer, |id| keys.get(id), request.body.time)
                        .map(|checked| (request, checked))
                });
            let (request, checked) = match checked {
                Ok(checked) => checked,
                Err(e) => {
                    plan.dropped.push(drop(e.to_string()));
                    continue;
                }
            };
            if revoked.contains(&checked.id) {
                plan.dropped
                    .push(drop("the certificate was revoked".into()));
            } else if now >= checked.expires {
                plan.dropped
                    .push(drop("the certificate has expired".into()));
            } else if newer_package(&ready.join(ready_name(&checked.id)), &checked)?.is_some() {
                plan.dropped
                    .push(drop("new copies are ready for it already".into()));
            } else {
                let job = plan.jobs.entry(checked.kind.clone()).or_default();
                if job.len() < MAX_REFILLS_PER_JOB {
                    job.push((path, request));
                }
            }
        }
        Ok(plan)
    }
}

/// Writes the queue file of one refill job (`issuing/refills-KIND.cbor`) and returns its
/// path and SHA-256 (hex).
pub fn write_queue(
    home: &Home,
    kind: &KindId,
    requests: &[(PathBuf, RefillRequest)],
) -> Result<(PathBuf, String), IssuanceError> {
    let list: Vec<&RefillRequest> = requests.iter().map(|(_, r)| r).collect();
    let bytes = ecert_schemas::codec::to_cbor(&list)?;
    let path = home.issuing_dir()?.join(format!("refills-{kind}.cbor"));
    write_atomically(&path, &bytes, Existing::Replace)?;
    let sha256 = ecert_schemas::Hash32(<sha2::Sha256 as sha2::Digest>::digest(&bytes).into());
    Ok((path, sha256.to_hex()))
}

/// Deletes the request files a finished job issued, and the dropped ones.
pub fn remove_requests<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<(), HomeError> {
    for path in paths {
        files::remove_if_present(path)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::home::Config;
    use crate::{issue_copies, shuffled_order, CopiesRequest, CopyBatch, IssuerKey};
    use ecert_schemas::{FieldValue, KindRegistry, StatusIndex};
    use ed25519_dalek::SigningKey;
    use rand_core::{OsRng, RngCore};
    use zeroize::Zeroizing;

    /// A copy package of a no-criminal-record certificate that `key` issued to `wallet`.
    fn package(key: &IssuerKey, wallet: &SigningKey, now: UnixTime) -> CopyPackage {
        let claims: Claims = [
            ("name", "王芳"),
            ("id_number", "110108199003070016"),
            ("purpose", "visa"),
            ("result", "no-record"),
            ("checked_through", "2026-01-31"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), FieldValue::Text(v.to_owned())))
        .collect();
        let request = CopiesRequest {
            kind: KindId::new("no-criminal-record").unwrap(),
            claims,
            holder: crypto::public_key(wallet),
            valid_from: now,
            expires: now.plus(90 * DAY),
            status_indexes: vec![StatusIndex(0), StatusIndex(1)],
        };
        let kinds = KindRegistry::builtin().unwrap();
        let issued = issue_copies(key, &kinds, &request, now, &mut OsRng).unwrap();
        let order = shuffled_order(std::slice::from_ref(&issued), &mut OsRng);
        CopyBatch::new(key, vec![issued], order)
            .unwrap()
            .package(0, 0)
            .unwrap()
    }

    #[test]
    fn copies_signed_with_a_retired_key_are_refilled_and_other_keys_refused() {
        let dir = std::env::temp_dir().join(format!(
            "ecert-refill-desk-{}-{:x}",
            std::process::id(),
            OsRng.next_u64()
        ));
        let home = Home::at(dir.clone());
        let justice = IssuerId::new("justice").unwrap();
        let old = IssuerKey::from_seed(justice.clone(), &Zeroizing::new([3; 32]));
        let new = IssuerKey::from_seed(justice.clone(), &Zeroizing::new([4; 32]));
        let config = Config {
            issuer: "justice".into(),
            node: None,
            serve_url: None,
        };
        drop(home.create(&config, b"old", &old.public_key()).unwrap());
        home.replace_key(b"new", &new.public_key(), &old.public_key())
            .unwrap();
        assert_eq!(
            home.public_keys().unwrap(),
            [new.public_key(), old.public_key()]
        );

        let now = UnixTime(1_800_000_000);
        let wallet = SigningKey::from_bytes(&[9; 32]);
        let desk = RefillDesk::new(justice.clone(), dir.clone());
        let ask = |package: &CopyPackage| {
            let request = ecert_verifier::refill::sign_refill(&wallet, package, 1, now).unwrap();
            desk.answer(&request.to_bytes().unwrap(), now)
        };
        let by_old = package(&old, &wallet, now);
        assert!(matches!(
            ask(&by_old),
            Ok(RefillAnswer::Queued { id }) if id == by_old.id
        ));
        assert!(dir
            .join("refills/pending")
            .join(pending_name(&by_old.id))
            .exists());
        // A key this department never had: refused, nothing queued.
        let stranger = IssuerKey::from_seed(justice, &Zeroizing::new([5; 32]));
        let by_stranger = package(&stranger, &wallet, now);
        let refused = ask(&by_stranger).unwrap_err();
        assert_eq!(refused.status_and_code(), (403, "not-issued-here"));
        assert!(!dir
            .join("refills/pending")
            .join(pending_name(&by_stranger.id))
            .exists());
        // Not a request at all.
        let refused = desk.answer(b"\x80", now).unwrap_err();
        assert_eq!(refused.status_and_code(), (400, "bad-request"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn new_copies_end_on_a_week_or_day_boundary_never_later() {
        let now = UnixTime(1_800_000_000);
        // Far ahead: the week boundary before it.
        let (from, end) = refill_validity(UnixTime(now.0 + 100 * DAY + 12_345), now);
        assert_eq!(from, now);
        assert_eq!(end.0 % (7 * DAY), 0);
        assert!(end.0 <= now.0 + 100 * DAY + 12_345);
        assert!(end.0 > now.0 + 93 * DAY);
        // Two certificates ending the same week look alike.
        let (_, other) = refill_validity(UnixTime(end.0 + 3 * DAY + 7), now);
        assert_eq!(other, end);
        // Less than a week left: the day boundary; less than a day: unchanged.
        let soon = UnixTime(now.0 + 3 * DAY + 600);
        let (_, end) = refill_validity(soon, now);
        assert_eq!(end.0 % DAY, 0);
        assert!(end < soon && end.0 >= now.0 + DAY);
        let tomorrow = UnixTime(now.0 + DAY / 2);
        assert_eq!(refill_validity(tomorrow, now), (now, tomorrow));
    }
}
