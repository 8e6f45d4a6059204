//! The department's issuance register: what it issued, in which batch, and what it
//! revoked. Stored as JSON files in the home (see [`crate::home`]); this module holds the
//! record types and the pure logic over them (finding a certificate, its status).
//!
//! **What is kept, and what is not.** For each certificate: its id, kind, holder's wallet
//! key, validity and issuing time, and how it was issued ([`Issued`]): as one-time copies
//! (format 2), the status index of each copy; as one whole certificate (format 1, issued
//! before format 2), its status index, position in its batch and the SHA-256 of its exact
//! bytes. For each batch: its root, key, kinds, number of leaves, state and, once anchored,
//! its place in the ledger's anchor log. That is what revocation, audit and answering "did
//! we issue this?" need. **No claim value** (name, ID number, ...) and no copy's secret is
//! kept in the register: the department's own case files are the source of those. Beyond
//! an unfinished `issue` (its spool), the only certificate contents this tool keeps are
//! offers not yet redeemed (`offers/open/`, deleted once the wallet has fetched them and
//! the redelivery window has passed).

use std::collections::HashMap;

use ecert_schemas::copy::MAX_COPIES;
use ecert_schemas::ledger::RevocationReason;
use ecert_schemas::{CertificateId, Hash32, KeyId, KindId, PublicKeyBytes, UnixTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of the register's record files: 2 since certificates are issued as one-time
/// copies (a record may then list a certificate's copies).
pub const RECORD_VERSION: u32 = 2;
/// The first version of the record files: format-1 certificates only. Still read.
pub const FIRST_RECORD_VERSION: u32 = 1;

/// Whether a record file of this version can be read.
pub fn readable_version(version: u32) -> bool {
    (FIRST_RECORD_VERSION..=RECORD_VERSION).contains(&version)
}

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

/// How a certificate was issued, and so where its status is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issued {
    /// Format 2: as one-time copies, each with its own status index (in copy order, as
    /// in the holder's package). Their places in the batch are not kept: a copy's status
    /// index names it.
    Copies {
        /// One status index per copy.
        status_indexes: Vec<u32>,
    },
    /// Format 1 (issued before format 2): one certificate.
    Whole {
        /// Its place in the department's status list.
        status_index: u32,
        /// Its position in its batch (the Merkle leaf index).
        leaf_index: u64,
        /// SHA-256 of the certificate's exact bytes.
        hash: Hash32,
    },
}

impl Issued {
    /// Its status indexes: one per copy, or the one of a whole certificate.
    pub fn status_indexes(&self) -> &[u32] {
        match self {
            Issued::Copies { status_indexes } => status_indexes,
            Issued::Whole { status_index, .. } => std::slice::from_ref(status_index),
        }
    }

    /// The number of copies (`None` for a whole certificate of format 1).
    pub fn copies(&self) -> Option<usize> {
        match self {
            Issued::Copies { status_indexes } => Some(status_indexes.len()),
            Issued::Whole { .. } => None,
        }
    }

    /// Its format: 2 (copies) or 1 (whole).
    pub fn format(&self) -> u8 {
        match self {
            Issued::Copies { .. } => 2,
            Issued::Whole { .. } => 1,
        }
    }
}

/// One issued certificate, as the register keeps it (no claim values, no copy secrets).
///
/// In JSON: `id`, `kind`, `holder`, then `status_indexes` (format 2) or `status_index`
/// (format 1), the times, and for format 1 `leaf_index` and `hash`; then `package_file`
/// and `offer` when there are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RecordFields", into = "RecordFields")]
pub struct CertificateRecord {
    /// The certificate id, 32 hex digits; `list` shows the first 8. Never shown to a
    /// counter in format 2; the holder's wallet shows it.
    pub id: CertificateId,
    /// Its kind.
    pub kind: KindId,
    /// The holder's wallet key (each copy's key is tweaked from it).
    pub holder: PublicKeyBytes,
    /// When it was signed (seconds since 1970).
    pub issued_at: u64,
    /// Start of validity.
    pub valid_from: u64,
    /// End of validity.
    pub expires: u64,
    /// Its copies' status indexes, or its own.
    pub issued: Issued,
    /// Where its package was written, if it was (for the operator's reference).
    pub package_file: Option<String>,
    /// Its one-time offer code, if one was made.
    pub offer: Option<String>,
}

impl CertificateRecord {
    /// Its status indexes (see [`Issued::status_indexes`]).
    pub fn status_indexes(&self) -> &[u32] {
        self.issued.status_indexes()
    }

    /// Its smallest status index (`None` never happens in a readable record).
    pub fn first_status_index(&self) -> Option<u32> {
        self.status_indexes().iter().min().copied()
    }
}

/// A [`CertificateRecord`] as its JSON object spells it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFields {
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    id: CertificateId,
    kind: KindId,
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    holder: PublicKeyBytes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_indexes: Option<Vec<u32>>,
    issued_at: u64,
    valid_from: u64,
    expires: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    leaf_index: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_hex",
        deserialize_with = "de_opt_hex"
    )]
    hash: Option<Hash32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    package_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offer: Option<String>,
}

impl From<CertificateRecord> for RecordFields {
    fn from(r: CertificateRecord) -> RecordFields {
        let (status_index, status_indexes, leaf_index, hash) = match r.issued {
            Issued::Copies { status_indexes } => (None, Some(status_indexes), None, None),
            Issued::Whole {
                status_index,
                leaf_index,
                hash,
            } => (Some(status_index), None, Some(leaf_index), Some(hash)),
        };
        RecordFields {
            id: r.id,
            kind: r.kind,
            holder: r.holder,
            status_index,
            status_indexes,
            issued_at: r.issued_at,
            valid_from: r.valid_from,
            expires: r.expires,
            leaf_index,
            hash,
            package_file: r.package_file,
            offer: r.offer,
        }
    }
}

impl TryFrom<RecordFields> for CertificateRecord {
    type Error = String;

    fn try_from(f: RecordFields) -> Result<CertificateRecord, String> {
        let issued = match (f.status_index, f.status_indexes, f.leaf_index, f.hash) {
            (None, Some(status_indexes), None, None) => {
                if status_indexes.is_empty() || status_indexes.len() > MAX_COPIES {
                    return Err(format!(
                        "certificate {} lists {} copies, not 1 to {MAX_COPIES}",
                        f.id,
                        status_indexes.len()
                    ));
                }
                Issued::Copies { status_indexes }
            }
            (Some(status_index), None, Some(leaf_index), Some(hash)) => Issued::Whole {
                status_index,
                leaf_index,
                hash,
            },
            _ => {
                return Err(format!(
                    "certificate {} has neither \"status_indexes\" (copies) nor \
                     \"status_index\", \"leaf_index\" and \"hash\" (a whole certificate)",
                    f.id
                ))
            }
        };
        Ok(CertificateRecord {
            id: f.id,
            kind: f.kind,
            holder: f.holder,
            issued_at: f.issued_at,
            valid_from: f.valid_from,
            expires: f.expires,
            issued,
            package_file: f.package_file,
            offer: f.offer,
        })
    }
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
    /// Number of leaves in its tree, as anchored: its copies (format 2), or its
    /// certificates (format 1).
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
    /// Its certificates, in the order of the input's rows (format 2) or of the batch
    /// (format 1).
    pub certificates: Vec<CertificateRecord>,
}

impl BatchFile {
    /// The number of copies of its certificates (0 for a batch of format 1).
    pub fn copies(&self) -> u64 {
        self.certificates
            .iter()
            .filter_map(|c| c.issued.copies())
            .map(|n| n as u64)
            .sum()
    }
}

/// One revoked certificate in a revocation record: every status index it had (each of
/// its copies', or its own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RevokedFields", into = "RevokedFields")]
pub struct RevokedEntry {
    /// The certificate id.
    pub id: CertificateId,
    /// Its status indexes, all revoked.
    pub status_indexes: Vec<u32>,
    /// Why.
    pub reason: RevocationReason,
}

/// A [`RevokedEntry`] as its JSON object spells it: `status_indexes`, or the one
/// `status_index` of a record of version 1.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokedFields {
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    id: CertificateId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_indexes: Option<Vec<u32>>,
    #[serde(serialize_with = "ser_reason", deserialize_with = "de_reason")]
    reason: RevocationReason,
}

impl From<RevokedEntry> for RevokedFields {
    fn from(e: RevokedEntry) -> RevokedFields {
        RevokedFields {
            id: e.id,
            status_index: None,
            status_indexes: Some(e.status_indexes),
            reason: e.reason,
        }
    }
}

impl TryFrom<RevokedFields> for RevokedEntry {
    type Error = String;

    fn try_from(f: RevokedFields) -> Result<RevokedEntry, String> {
        let status_indexes = match (f.status_index, f.status_indexes) {
            (Some(one), None) => vec![one],
            (None, Some(all)) if !all.is_empty() => all,
            _ => {
                return Err(format!(
                    "revoked certificate {} needs \"status_indexes\" or \"status_index\"",
                    f.id
                ))
            }
        };
        Ok(RevokedEntry {
            id: f.id,
            status_indexes,
            reason: f.reason,
        })
    }
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
    /// The certificate, as last issued (a refill issues new copies of it under its id).
    pub certificate: CertificateRecord,
    /// Its batch's root.
    pub batch_root: Hash32,
    /// Its batch's place in the anchor log, if anchored.
    pub batch_seq: Option<u64>,
    /// Its status at the time asked.
    pub status: CertificateStatus,
    /// The status indexes of every copy ever issued of it, refills included, except in
    /// batches the ledger refused: what revoking it revokes.
    pub status_indexes: Vec<u32>,
    /// How many times it was issued: 1, and one more for each refill.
    pub issues: usize,
}

/// Number of hex digits of a certificate id shown by `list` (the same short id a
/// citizen's wallet shows).
pub const SHORT_ID_LEN: usize = 8;

/// The first [`SHORT_ID_LEN`] hex digits of a certificate id.
pub fn short_id(id: &CertificateId) -> String {
    id.to_hex().chars().take(SHORT_ID_LEN).collect()
}

/// Every certificate of `batches`, once, with its status at `now` given `revocations`:
/// revoked when a revocation names it, or every one of its status indexes. A certificate
/// issued again (new copies under its id) is shown as last issued in an anchored batch,
/// with the status indexes of all its issues.
pub fn rows(
    batches: &[BatchFile],
    revocations: &[RevocationFile],
    now: UnixTime,
) -> Vec<RegisterRow> {
    let mut by_id: HashMap<CertificateId, RevocationReason> = HashMap::new();
    let mut by_index: HashMap<u32, RevocationReason> = HashMap::new();
    for entry in revocations.iter().flat_map(|r| &r.entries) {
        by_id.entry(entry.id).or_insert(entry.reason);
        for index in &entry.status_indexes {
            by_index.entry(*index).or_insert(entry.reason);
        }
    }
    // Every issue of each certificate, in the order the certificates were first issued.
    let mut order: Vec<CertificateId> = Vec::new();
    let mut issues: HashMap<CertificateId, Vec<(&CertificateRecord, &BatchFile)>> = HashMap::new();
    for batch in batches {
        for cert in &batch.certificates {
            let list = issues.entry(cert.id).or_default();
            if list.is_empty() {
                order.push(cert.id);
            }
            list.push((cert, batch));
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let Some(list) = issues.get(&id) else {
            continue;
        };
        let newest_anchored = list
            .iter()
            .filter(|(_, b)| b.state == BatchState::Anchored)
            .max_by_key(|(c, _)| c.issued_at);
        let Some(&(cert, batch)) =
            newest_anchored.or_else(|| list.iter().max_by_key(|(c, _)| c.issued_at))
        else {
            continue;
        };
        let mut indexes: Vec<u32> = list
            .iter()
            .filter(|(_, b)| b.state != BatchState::Refused)
            .flat_map(|(c, _)| c.status_indexes().iter().copied())
            .collect();
        if indexes.is_empty() {
            indexes = cert.status_indexes().to_vec();
        }
        let revoked = by_id.get(&cert.id).copied().or_else(|| {
            let reasons: Option<Vec<RevocationReason>> =
                indexes.iter().map(|i| by_index.get(i).copied()).collect();
            reasons.and_then(|r| r.first().copied())
        });
        let status = if batch.state != BatchState::Anchored {
            CertificateStatus::NotDelivered(batch.state)
        } else if let Some(reason) = revoked {
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
            status_indexes: indexes,
            issues: list.len(),
        });
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

/// The row of the certificate that has status index `index` (one of its copies', or its
/// own): how a copy, whose QR code carries no certificate id, is traced back.
pub fn find_by_status_index(rows: &[RegisterRow], index: u32) -> Option<&RegisterRow> {
    rows.iter().find(|r| r.status_indexes.contains(&index))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Whole certificate `id` of format 1 (its id bytes and status index), issued and
    /// valid from 10, expiring at `expires`.
    pub(crate) fn record(id: u8, expires: u64) -> CertificateRecord {
        CertificateRecord {
            id: CertificateId([id; 16]),
            kind: KindId::new("id-card").unwrap(),
            holder: PublicKeyBytes([2; 32]),
            issued_at: 10,
            valid_from: 10,
            expires,
            issued: Issued::Whole {
                status_index: u32::from(id),
                leaf_index: 0,
                hash: Hash32([3; 32]),
            },
            package_file: None,
            offer: None,
        }
    }

    /// Certificate `id` issued as copies with `indexes`, valid from 10 to `expires`.
    pub(crate) fn copies(id: u8, indexes: &[u32], expires: u64) -> CertificateRecord {
        CertificateRecord {
            issued: Issued::Copies {
                status_indexes: indexes.to_vec(),
            },
            ..record(id, expires)
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
        let b = batch(
            BatchState::Anchored,
            vec![record(0xab, 100), copies(0xcd, &[9, 3, 7], 100)],
        );
        let text = serde_json::to_string(&b).unwrap();
        assert!(text.contains("\"state\":\"anchored\""));
        assert!(text.contains("\"status_indexes\":[9,3,7]"), "{text}");
        assert_eq!(serde_json::from_str::<BatchFile>(&text).unwrap(), b);
        assert_eq!(b.copies(), 3);
        let r = RevocationFile {
            version: RECORD_VERSION,
            time: 5,
            tx_hash: Hash32([9; 32]),
            height: None,
            entries: vec![RevokedEntry {
                id: CertificateId([1; 16]),
                status_indexes: vec![1, 4],
                reason: RevocationReason::DataError,
            }],
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("data-error"));
        assert_eq!(serde_json::from_str::<RevocationFile>(&text).unwrap(), r);
    }

    #[test]
    fn records_of_version_1_still_read() {
        let certificate = r#"{"id":"abababababababababababababababab","kind":"id-card",
            "holder":"0202020202020202020202020202020202020202020202020202020202020202",
            "status_index":171,"issued_at":10,"valid_from":10,"expires":100,"leaf_index":0,
            "hash":"0303030303030303030303030303030303030303030303030303030303030303",
            "package_file":"a.ecp"}"#;
        let read: CertificateRecord = serde_json::from_str(certificate).unwrap();
        assert_eq!(
            read,
            CertificateRecord {
                package_file: Some("a.ecp".into()),
                ..record(0xab, 100)
            }
        );
        // Written again, a whole certificate keeps its old members.
        let again = serde_json::to_value(&read).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(certificate).unwrap()
        );
        let revoked = r#"{"id":"01010101010101010101010101010101","status_index":1,
            "reason":"superseded"}"#;
        let entry: RevokedEntry = serde_json::from_str(revoked).unwrap();
        assert_eq!(entry.status_indexes, [1]);
        // Neither form, both forms, or copies with a whole certificate's members: damaged.
        for bad in [
            certificate.replace("\"status_index\":171,", ""),
            certificate.replace("\"status_index\":171,", "\"status_indexes\":[1],"),
            certificate.replace("\"leaf_index\":0,", ""),
        ] {
            assert!(
                serde_json::from_str::<CertificateRecord>(&bad).is_err(),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<RevokedEntry>(
            r#"{"id":"01010101010101010101010101010101","status_indexes":[],"reason":"superseded"}"#
        )
        .is_err());
        assert!(readable_version(1) && readable_version(2) && !readable_version(3));
    }

    #[test]
    fn statuses_and_finding() {
        let batches = vec![
            batch(
                BatchState::Anchored,
                vec![
                    record(0xaa, 100),
                    record(0xbb, 20),
                    copies(0xdd, &[40, 12, 33], 100),
                    copies(0xee, &[41, 13], 100),
                ],
            ),
            batch(BatchState::Refused, vec![record(0xcc, 100)]),
        ];
        let revocations = vec![RevocationFile {
            version: RECORD_VERSION,
            time: 15,
            tx_hash: Hash32([0; 32]),
            height: Some(3),
            entries: vec![
                RevokedEntry {
                    id: CertificateId([0xaa; 16]),
                    status_indexes: vec![0xaa],
                    reason: RevocationReason::Superseded,
                },
                RevokedEntry {
                    id: CertificateId([0xdd; 16]),
                    status_indexes: vec![12, 33, 40],
                    reason: RevocationReason::Withdrawn,
                },
                // One copy's index of another certificate: not all of its copies.
                RevokedEntry {
                    id: CertificateId([0x11; 16]),
                    status_indexes: vec![41],
                    reason: RevocationReason::Withdrawn,
                },
            ],
        }];
        let rows = rows(&batches, &revocations, UnixTime(50));
        let statuses: Vec<_> = rows.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                CertificateStatus::Revoked(RevocationReason::Superseded),
                CertificateStatus::Expired,
                CertificateStatus::Revoked(RevocationReason::Withdrawn),
                CertificateStatus::Valid,
                CertificateStatus::NotDelivered(BatchState::Refused)
            ]
        );
        assert_eq!(
            find(&rows, "BBBBBBBB")
                .unwrap()
                .certificate
                .status_indexes(),
            [0xbb]
        );
        assert!(matches!(find(&rows, "bbbb"), Err(FindError::BadId(_))));
        assert!(matches!(
            find(&rows, "ffffffff"),
            Err(FindError::NotFound(_))
        ));
        assert_eq!(
            find_by_status_index(&rows, 33).unwrap().certificate.id,
            CertificateId([0xdd; 16])
        );
        assert!(find_by_status_index(&rows, 34).is_none());
        assert_eq!(
            reason_by_name("Data-Error"),
            Some(RevocationReason::DataError)
        );
        assert_eq!(reason_by_name("nope"), None);
    }

    #[test]
    fn a_certificate_issued_again_is_one_row_with_every_issue_s_indexes() {
        let mut first = copies(0xdd, &[40, 12], 100);
        first.issued_at = 10;
        let mut again = copies(0xdd, &[7, 90], 100);
        again.issued_at = 30;
        let mut refused = copies(0xdd, &[55, 56], 100);
        refused.issued_at = 40;
        let mut batches = vec![
            batch(BatchState::Anchored, vec![first, copies(0xee, &[1], 100)]),
            batch(BatchState::Anchored, vec![again]),
            batch(BatchState::Refused, vec![refused]),
        ];
        batches[1].root = Hash32([0x77; 32]);
        let all = rows(&batches, &[], UnixTime(50));
        assert_eq!(all.len(), 2, "one row per certificate");
        let row = find(&all, "dddddddd").unwrap();
        assert_eq!(row.issues, 3);
        assert_eq!(row.certificate.issued_at, 30, "the newest anchored issue");
        assert_eq!(row.batch_root, Hash32([0x77; 32]));
        assert_eq!(row.status, CertificateStatus::Valid);
        assert_eq!(row.status_indexes, [40, 12, 7, 90]);
        assert_eq!(
            find_by_status_index(&all, 12).unwrap().certificate.id,
            CertificateId([0xdd; 16])
        );
        // Revoking it names every copy of every issue.
        let revoked = RevocationFile {
            version: RECORD_VERSION,
            time: 45,
            tx_hash: Hash32([0; 32]),
            height: None,
            entries: vec![RevokedEntry {
                id: CertificateId([0x11; 16]),
                status_indexes: vec![40, 12, 7, 90],
                reason: RevocationReason::Withdrawn,
            }],
        };
        let all = rows(&batches, &[revoked], UnixTime(50));
        assert_eq!(
            find(&all, "dddddddd").unwrap().status,
            CertificateStatus::Revoked(RevocationReason::Withdrawn)
        );
    }
}
