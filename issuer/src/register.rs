//! The department's issuance register: what it issued, in which batch, and what it
//! revoked. Stored as JSON files in the home (see [`crate::home`]); this module holds the
//! record types and the pure logic over them (finding a certificate, its status).
//!
//! **What is kept, and what is not.** For each certificate: its id (the CWT `cti`), kind,
//! holder key, status index, validity, issuing time, position in its batch and the
//! SHA-256 of its exact bytes; for each batch: its root, key, kinds, count, state and,
//! once anchored, its place in the ledger's anchor log. That is what revocation, audit
//! and answering "did we issue this?" need. **No claim value** (name, ID number, ...) is
//! kept in the register: the department's own case files are the source of those. The
//! only copies of certificate contents this tool keeps are offers not yet redeemed
//! (`offers/open/`, deleted from the offer once the wallet has fetched it).

use ecert_schemas::ledger::{RevocationReason, MAX_STATUS_INDEX};
use ecert_schemas::{CertificateId, Hash32, KeyId, KindId, PublicKeyBytes, StatusIndex, UnixTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of the register's record files.
pub const RECORD_VERSION: u32 = 1;

/// Hex (de)serialisation of the fixed-size byte types in records.
pub trait HexBytes: Sized {
    /// Lower-case hex.
    fn hex(&self) -> String;
    /// From hex.
    fn parse_hex(text: &str) -> Option<Self>;
}

macro_rules! hex_bytes {
    ($($t:ty),*) => {$(
        impl HexBytes for $t {
            fn hex(&self) -> String {
                self.to_hex()
            }
            fn parse_hex(text: &str) -> Option<Self> {
                <$t>::from_hex(text).ok()
            }
        }
    )*};
}
hex_bytes!(CertificateId, Hash32, KeyId, PublicKeyBytes);

fn ser_hex<T: HexBytes, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&value.hex())
}

fn de_hex<'de, T: HexBytes, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    T::parse_hex(&text).ok_or_else(|| serde::de::Error::custom(format!("bad hex value {text:?}")))
}

fn ser_opt_hex<T: HexBytes, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(&v.hex()),
        None => s.serialize_none(),
    }
}

fn de_opt_hex<'de, T: HexBytes, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) => T::parse_hex(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("bad hex value {text:?}"))),
    }
}

fn ser_reason<S: Serializer>(value: &RevocationReason, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.name())
}

fn de_reason<'de, D: Deserializer<'de>>(d: D) -> Result<RevocationReason, D::Error> {
    let text = String::deserialize(d)?;
    reason_by_name(&text).ok_or_else(|| serde::de::Error::custom(format!("bad reason {text:?}")))
}

/// The revocation reason with this name (`superseded`, `data-error`, ...).
pub fn reason_by_name(name: &str) -> Option<RevocationReason> {
    RevocationReason::ALL
        .into_iter()
        .find(|r| r.name().eq_ignore_ascii_case(name.trim()))
}

/// Where a batch is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BatchState {
    /// Signed and recorded; sent (or about to be sent) to the ledger, outcome unknown.
    Submitted,
    /// The ledger refused the anchor transaction: the certificates were never valid.
    Refused,
    /// Anchored (proven by a verified receipt) and the packages were written.
    Anchored,
    /// The ledger may have anchored it, but the packages were not delivered (the receipt
    /// could not be fetched or verified).
    Undelivered,
}

impl BatchState {
    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            BatchState::Submitted => "submitted",
            BatchState::Refused => "refused",
            BatchState::Anchored => "anchored",
            BatchState::Undelivered => "undelivered",
        }
    }
}

/// One issued certificate, as the register keeps it (no claim values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRecord {
    /// The certificate id (CWT `cti`), 32 hex digits; `list` shows the first 8.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub id: CertificateId,
    /// Its kind.
    pub kind: KindId,
    /// The holder's wallet key.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub holder: PublicKeyBytes,
    /// Its place in the department's status list.
    pub status_index: u32,
    /// When it was signed (seconds since 1970).
    pub issued_at: u64,
    /// Start of validity.
    pub valid_from: u64,
    /// End of validity.
    pub expires: u64,
    /// Its position in its batch (the Merkle leaf index).
    pub leaf_index: u64,
    /// SHA-256 of the certificate's exact bytes.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub hash: Hash32,
    /// Where its package was written, if it was (for the operator's reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_file: Option<String>,
    /// Its one-time offer code, if one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
}

/// One batch: the file `batches/ROOT.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFile {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// The batch's Merkle root.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub root: Hash32,
    /// The key that signed the batch.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub key_id: KeyId,
    /// Its kinds, sorted.
    pub kinds: Vec<KindId>,
    /// Number of certificates.
    pub count: u64,
    /// Where it is in its life.
    pub state: BatchState,
    /// When the batch was made (seconds since 1970).
    pub created_at: u64,
    /// SHA-256 of the anchor transaction's bytes.
    #[serde(
        default,
        serialize_with = "ser_opt_hex",
        deserialize_with = "de_opt_hex"
    )]
    pub tx_hash: Option<Hash32>,
    /// Its position in the ledger's anchor log, once anchored.
    #[serde(default)]
    pub batch_seq: Option<u64>,
    /// The height of the block that anchored it.
    #[serde(default)]
    pub height: Option<u64>,
    /// That block's time, in milliseconds since 1970.
    #[serde(default)]
    pub anchored_at_ms: Option<u64>,
    /// Why it was refused or not delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Its certificates, in batch order.
    pub certificates: Vec<CertificateRecord>,
}

/// One revoked certificate in a revocation record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokedEntry {
    /// The certificate id.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub id: CertificateId,
    /// Its status index.
    pub status_index: u32,
    /// Why.
    #[serde(serialize_with = "ser_reason", deserialize_with = "de_reason")]
    pub reason: RevocationReason,
}

/// One revocation transaction: the file `revocations/TIME-HASH.json`, written once the
/// ledger has certified it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationFile {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// The time in the transaction (seconds since 1970).
    pub time: u64,
    /// SHA-256 of the transaction's bytes.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub tx_hash: Hash32,
    /// The block that applied it, as the node reported.
    #[serde(default)]
    pub height: Option<u64>,
    /// What was revoked.
    pub entries: Vec<RevokedEntry>,
}

/// A certificate's status in `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateStatus {
    /// Anchored, not revoked, not expired.
    Valid,
    /// Past its end of validity.
    Expired,
    /// Revoked (with the reason).
    Revoked(RevocationReason),
    /// Its batch was not anchored and delivered (submitted, refused or undelivered).
    NotDelivered(BatchState),
}

impl CertificateStatus {
    /// A word or two for people.
    pub fn label(self) -> String {
        match self {
            CertificateStatus::Valid => "valid".into(),
            CertificateStatus::Expired => "expired".into(),
            CertificateStatus::Revoked(r) => format!("revoked ({})", r.name()),
            CertificateStatus::NotDelivered(state) => state.label().into(),
        }
    }
}

/// One row of the register: a certificate with its batch and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterRow {
    /// The certificate.
    pub certificate: CertificateRecord,
    /// Its batch's root.
    pub batch_root: Hash32,
    /// Its batch's place in the anchor log, if anchored.
    pub batch_seq: Option<u64>,
    /// Its status at the time asked.
    pub status: CertificateStatus,
}

/// Number of hex digits of a certificate id shown by `list` (the same short id a
/// citizen's wallet shows).
pub const SHORT_ID_LEN: usize = 8;

/// The first [`SHORT_ID_LEN`] hex digits of a certificate id.
pub fn short_id(id: &CertificateId) -> String {
    id.to_hex().chars().take(SHORT_ID_LEN).collect()
}

/// Every certificate of `batches`, with its status at `now` given `revocations`.
pub fn rows(
    batches: &[BatchFile],
    revocations: &[RevocationFile],
    now: UnixTime,
) -> Vec<RegisterRow> {
    let revoked = |id: &CertificateId| {
        revocations
            .iter()
            .flat_map(|r| &r.entries)
            .find(|e| &e.id == id)
            .map(|e| e.reason)
    };
    let mut out = Vec::new();
    for batch in batches {
        for cert in &batch.certificates {
            let status = if batch.state != BatchState::Anchored {
                CertificateStatus::NotDelivered(batch.state)
            } else if let Some(reason) = revoked(&cert.id) {
                CertificateStatus::Revoked(reason)
            } else if now.secs() >= cert.expires {
                CertificateStatus::Expired
            } else {
                CertificateStatus::Valid
            };
            out.push(RegisterRow {
                certificate: cert.clone(),
                batch_root: batch.root,
                batch_seq: batch.batch_seq,
                status,
            });
        }
    }
    out
}

/// Why a certificate id given by the operator does not pick one certificate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    /// Not hexadecimal, or too short.
    #[error(
        "{0:?} is not a certificate id: give at least the {SHORT_ID_LEN} hexadecimal digits \
         shown by 'ecert-issuer list'"
    )]
    BadId(String),
    /// No certificate matches.
    #[error("no certificate issued by this department has an id starting with {0}")]
    NotFound(String),
    /// Several match.
    #[error("{0} matches several certificates ({1}): give more digits")]
    Ambiguous(String, String),
}

/// The row whose certificate id starts with `prefix` (at least [`SHORT_ID_LEN`] hex
/// digits, any case).
pub fn find<'a>(rows: &'a [RegisterRow], prefix: &str) -> Result<&'a RegisterRow, FindError> {
    let wanted = prefix.trim().to_ascii_lowercase();
    if wanted.len() < SHORT_ID_LEN
        || wanted.len() > 32
        || !wanted.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(FindError::BadId(prefix.to_owned()));
    }
    let matches: Vec<&RegisterRow> = rows
        .iter()
        .filter(|r| r.certificate.id.to_hex().starts_with(&wanted))
        .collect();
    match matches.as_slice() {
        [] => Err(FindError::NotFound(wanted)),
        [one] => Ok(one),
        many => Err(FindError::Ambiguous(
            wanted,
            many.iter()
                .map(|r| r.certificate.id.to_hex())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// Whether a status index is usable.
pub fn status_index_ok(index: u32) -> bool {
    index <= MAX_STATUS_INDEX
}

/// The status index of a record as the wire type.
pub fn status_index(record: &CertificateRecord) -> StatusIndex {
    StatusIndex(record.status_index)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Certificate `id` (its id bytes and status index), issued and valid from 10,
    /// expiring at `expires`.
    pub(crate) fn record(id: u8, expires: u64) -> CertificateRecord {
        CertificateRecord {
            id: CertificateId([id; 16]),
            kind: KindId::new("id-card").unwrap(),
            holder: PublicKeyBytes([2; 32]),
            status_index: u32::from(id),
            issued_at: 10,
            valid_from: 10,
            expires,
            leaf_index: 0,
            hash: Hash32([3; 32]),
            package_file: None,
            offer: None,
        }
    }

    fn batch(state: BatchState, certs: Vec<CertificateRecord>) -> BatchFile {
        BatchFile {
            version: RECORD_VERSION,
            root: Hash32([certs.first().map_or(0, |c| c.id.0[0]); 32]),
            key_id: KeyId([1; 8]),
            kinds: vec![KindId::new("id-card").unwrap()],
            count: certs.len() as u64,
            state,
            created_at: 10,
            tx_hash: None,
            batch_seq: Some(4),
            height: Some(2),
            anchored_at_ms: Some(10_000),
            detail: None,
            certificates: certs,
        }
    }

    #[test]
    fn records_round_trip_through_json() {
        let b = batch(BatchState::Anchored, vec![record(0xab, 100)]);
        let text = serde_json::to_string(&b).unwrap();
        assert!(text.contains("\"state\":\"anchored\""));
        assert_eq!(serde_json::from_str::<BatchFile>(&text).unwrap(), b);
        let r = RevocationFile {
            version: 1,
            time: 5,
            tx_hash: Hash32([9; 32]),
            height: None,
            entries: vec![RevokedEntry {
                id: CertificateId([1; 16]),
                status_index: 1,
                reason: RevocationReason::DataError,
            }],
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("data-error"));
        assert_eq!(serde_json::from_str::<RevocationFile>(&text).unwrap(), r);
    }

    #[test]
    fn statuses_and_finding() {
        let batches = vec![
            batch(
                BatchState::Anchored,
                vec![record(0xaa, 100), record(0xbb, 20)],
            ),
            batch(BatchState::Refused, vec![record(0xcc, 100)]),
        ];
        let revocations = vec![RevocationFile {
            version: 1,
            time: 15,
            tx_hash: Hash32([0; 32]),
            height: Some(3),
            entries: vec![RevokedEntry {
                id: CertificateId([0xaa; 16]),
                status_index: 0xaa,
                reason: RevocationReason::Superseded,
            }],
        }];
        let rows = rows(&batches, &revocations, UnixTime(50));
        let statuses: Vec<_> = rows.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                CertificateStatus::Revoked(RevocationReason::Superseded),
                CertificateStatus::Expired,
                CertificateStatus::NotDelivered(BatchState::Refused)
            ]
        );
        assert_eq!(
            find(&rows, "BBBBBBBB").unwrap().certificate.status_index,
            0xbb
        );
        assert!(matches!(find(&rows, "bbbb"), Err(FindError::BadId(_))));
        assert!(matches!(
            find(&rows, "dddddddd"),
            Err(FindError::NotFound(_))
        ));
        assert_eq!(
            reason_by_name("Data-Error"),
            Some(RevocationReason::DataError)
        );
        assert_eq!(reason_by_name("nope"), None);
    }
}
