//! What the bindings hand to JavaScript, and the structured arguments they take from it:
//! plain data with `camelCase` names, converted with `serde-wasm-bindgen` (absent values
//! become `null`). The TypeScript interfaces in `bindings.rs` describe the same shapes.
//! Times are whole seconds since 1970-01-01 UTC; dates are `YYYY-MM-DD` (UTC).

use ecert_schemas::{FieldDef, Kind, KindRegistry, UnixTime};
use ecert_verifier::report::Outcome;
use ecert_wallet::certs::{Entry, Validity};
use serde::{Deserialize, Serialize};

/// The counter's views of a check are the verifier library's own (`VerifyResult`,
/// `VerifiedCertificate`, `DisclosedField` in the TypeScript interfaces).
pub use ecert_verifier::report::{day, DisclosedView, ValueView, VerifiedView};

/// The result of checking a QR code: VALID with the certificates, or INVALID with the
/// reason's code and words. The same facts as `ecert-verify verify --json`.
pub type VerifyResult = Outcome<VerifiedView>;

/// Argon2id settings of a wallet file (memory in KiB, passes, lanes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KdfSettings {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
    /// Lanes (parallelism; 1 in a browser).
    pub lanes: u32,
}

/// One certificate of the wallet, for lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSummary {
    /// Position in the wallet.
    pub index: usize,
    /// Certificate id, 32 hex digits.
    pub id: String,
    /// Its first 8 hex digits (what the citizen types or picks).
    pub short_id: String,
    /// Kind id, e.g. `id-card`.
    pub kind: String,
    /// Kind name in English (the kind id if this software does not know the kind).
    pub kind_name: String,
    /// Kind name in the local language, e.g. `居民身份证`.
    pub kind_name_local: Option<String>,
    /// Whether this software knows the kind (otherwise it cannot be presented).
    pub kind_known: bool,
    /// Issuer id, e.g. `public-security`.
    pub issuer: String,
    /// Issue time.
    pub issued_at: u64,
    /// Start of validity.
    pub valid_from: u64,
    /// End of validity (first second it is no longer valid).
    pub expires: u64,
    /// `validFrom` as a date.
    pub valid_from_date: String,
    /// `expires` as a date.
    pub expires_date: String,
    /// `valid`, `expired` or `not-yet-valid` at the time asked.
    pub status: &'static str,
    /// Issued as one-time copies: the copies not shown yet (`null` for a certificate of
    /// the older format, shown as it is every time). At 0 it cannot be shown: its
    /// department must issue it again.
    pub copies_left: Option<usize>,
    /// Issued as one-time copies: how many copies it was issued with.
    pub copies: Option<usize>,
    /// Issued as one-time copies and 5 or fewer left: time to ask the department for new
    /// copies.
    pub copies_low: bool,
    /// Not expired, and running low on one-time copies
    /// ([`ecert_wallet::copies::CopiesLeft::low`]: at most
    /// [`ecert_wallet::copies::LOW_COPIES`] left) or of the older format (asked for as one-time copies): the
    /// wallet offers to ask its department for new copies (`refillRequest`), as
    /// `ecert-wallet refill` does without a certificate named.
    pub refill_due: bool,
}

impl CertificateSummary {
    /// The summary of `entry` at `now`.
    pub fn of(entry: &Entry<'_>, kinds: &KindRegistry, now: UnixTime) -> CertificateSummary {
        let kind = entry.kind(kinds);
        let copies = entry.copies();
        CertificateSummary {
            index: entry.index,
            id: entry.id_hex(),
            short_id: entry.short_id(),
            kind: entry.kind_id().to_string(),
            kind_name: kind.map_or_else(|| entry.kind_id().to_string(), |k| k.name.clone()),
            kind_name_local: kind.and_then(|k| k.name_local.clone()),
            kind_known: kind.is_some(),
            issuer: entry.issuer().to_string(),
            issued_at: entry.issued_at().secs(),
            valid_from: entry.valid_from().secs(),
            expires: entry.expires().secs(),
            valid_from_date: day(entry.valid_from()),
            expires_date: day(entry.expires()),
            status: match entry.validity(now) {
                Validity::Valid => "valid",
                Validity::Expired => "expired",
                Validity::NotYetValid => "not-yet-valid",
            },
            copies_left: copies.map(|c| c.left),
            copies: copies.map(|c| c.total),
            copies_low: copies.is_some_and(|c| c.low()),
            refill_due: !entry.expired(now) && copies.is_none_or(|c| c.low()),
        }
    }
}

/// One field of a certificate in the wallet: the wallet library's own view.
pub use ecert_wallet::certs::FieldLine as FieldView;

/// Everything one certificate says, for its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateDetails {
    /// The certificate.
    pub certificate: CertificateSummary,
    /// Every field: the kind's, in order, then any the kind lacks.
    pub fields: Vec<FieldView>,
}

/// What `receive` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiveReport {
    /// The certificates added, and those that replaced an earlier issue of theirs.
    pub added: Vec<CertificateSummary>,
    /// Positions (in the input, from 0) of packages skipped as already held.
    pub already_held: Vec<usize>,
    /// Positions (in the input, from 0) of packages that replaced an earlier issue of
    /// their certificate (one-time copies issued again; none of the new copies shown).
    pub replaced: Vec<usize>,
    /// Positions in the wallet (each certificate's `index`) of the certificates those
    /// packages replaced: the entries of `added` that are a newer issue.
    pub replaced_at: Vec<usize>,
    /// Positions (in the input, from 0) of packages skipped because the wallet holds a
    /// newer issue of their certificate.
    pub not_newer: Vec<usize>,
    /// Certificates in the wallet now.
    pub count: usize,
}

/// A field chosen for disclosure, with its labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldLabel {
    /// Key.
    pub key: String,
    /// Label in English.
    pub label: String,
    /// Label in the local language.
    pub label_local: Option<String>,
}

impl From<&FieldDef> for FieldLabel {
    fn from(field: &FieldDef) -> FieldLabel {
        FieldLabel {
            key: field.key.clone(),
            label: field.label.clone(),
            label_local: field.label_local.clone(),
        }
    }
}

/// One certificate of a presentation and what it discloses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Disclosing {
    /// The certificate (for one-time copies, `copiesLeft` once this presentation's copy is
    /// used).
    pub certificate: CertificateSummary,
    /// The fields disclosed, in the kind's order (empty: kind, issuer and validity only).
    pub fields: Vec<FieldLabel>,
    /// One-time copies: the copy shown had been shown before (`reuseCopy`), so the
    /// counters that saw it both times can tell it is the same certificate.
    pub reused_copy: bool,
}

/// A presentation, ready to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresentationView {
    /// The QR string (`EC1R:` or `EC1Z:`).
    pub qr: String,
    /// The QR code as an SVG document.
    pub svg: String,
    /// QR version (1 to 40).
    pub qr_version: i16,
    /// The holder proof's time (the `now` given).
    pub signed_at: u64,
    /// The counter's challenge answered, in hex (`null` in live mode).
    pub nonce: Option<String>,
    /// What the counter will learn, for the citizen to read before showing the code.
    pub disclosing: Vec<Disclosing>,
    /// One-time copies marked used by this call (0 for `renew`, and for certificates of
    /// the older format). When more than 0, seal and store the wallet before showing the
    /// code: a copy must never be shown unless its mark is kept.
    pub copies_spent: usize,
    /// Whether this call recorded the presentation in the wallet's history (`present`
    /// and `answerRequest`: always; `renew`: never, a live code being one presentation).
    /// When true, seal and store the wallet before showing the code: no code is shown
    /// unless its entry is kept.
    pub recorded: bool,
}

/// The wallet's history of presentations, for its screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryList {
    /// Every entry, newest first (the order they were recorded in, reversed).
    pub entries: Vec<HistoryView>,
    /// Whether the history holds as many entries as it keeps
    /// ([`ecert_wallet::history::MAX_ENTRIES`]): each new one drops the oldest.
    pub full: bool,
}

/// One entry of the wallet's history of presentations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    /// When it was made, by the wallet's clock.
    pub time: u64,
    /// The registered name of the counter whose request it answered, or null.
    pub counter: Option<String>,
    /// The challenge (or request binding) it carried, in hex, or null.
    pub challenge: Option<String>,
    /// The certificates shown.
    pub certificates: Vec<HistoryShownView>,
}

/// One certificate of a history entry: what was shown of it, never a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryShownView {
    /// The certificate's first 8 hex digits.
    pub short_id: String,
    /// Its kind.
    pub kind: String,
    /// The kind's name in English (the kind id when this software does not know it).
    pub kind_name: String,
    /// The kind's name in the local language.
    pub kind_name_local: Option<String>,
    /// Its issuer.
    pub issuer: String,
    /// The fields shown, with their labels (the key as label when the kind lacks it);
    /// empty: only the kind, issuer and validity were shown.
    pub fields: Vec<FieldLabel>,
}

impl HistoryShownView {
    /// The view of `shown`, with the names `kinds` give.
    pub fn of(shown: &ecert_wallet::history::Shown, kinds: &KindRegistry) -> HistoryShownView {
        let kind = kinds.get(&shown.kind).ok();
        HistoryShownView {
            short_id: shown.short_id.clone(),
            kind: shown.kind.to_string(),
            kind_name: kind.map_or_else(|| shown.kind.to_string(), |k| k.name.clone()),
            kind_name_local: kind.and_then(|k| k.name_local.clone()),
            issuer: shown.issuer.to_string(),
            fields: shown
                .field_names(kinds)
                .into_iter()
                .map(|f| FieldLabel {
                    label: f.label.unwrap_or_else(|| f.key.clone()),
                    label_local: f.label_local,
                    key: f.key,
                })
                .collect(),
        }
    }
}

impl HistoryView {
    /// The view of `entry`, with the names `kinds` give.
    pub fn of(entry: &ecert_wallet::history::Entry, kinds: &KindRegistry) -> HistoryView {
        HistoryView {
            time: entry.time.secs(),
            counter: entry.counter.clone(),
            challenge: entry.challenge.as_ref().map(ecert_schemas::Nonce::to_hex),
            certificates: entry
                .certificates
                .iter()
                .map(|c| HistoryShownView::of(c, kinds))
                .collect(),
        }
    }
}

/// One certificate and fields to show, as JavaScript passes them to `present`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChoiceInput {
    /// Kind id (`id-card`) or the start of the certificate id.
    pub certificate: String,
    /// Field keys to disclose (may be empty).
    #[serde(default)]
    pub fields: Vec<String>,
}

/// A certificate's revocation status in a verified revocation state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationStatus {
    /// The certificate.
    pub certificate: CertificateSummary,
    /// Whether its issuer revoked it, as of the state's block.
    pub revoked: bool,
}

/// One batch of the wallet's certificates (one anchor receipt to ask for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    /// The batch's Merkle root in hex (what `GET /v1/anchors/{root}` asks about); `null`
    /// for the certificates whose anchor proof is damaged.
    pub root: Option<String>,
    /// The ids of the wallet's certificates in it.
    pub certificates: Vec<String>,
}

/// One certificate of a batch whose anchor receipt passed its check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchoredCertificate {
    /// The certificate.
    pub certificate: CertificateSummary,
    /// Whether the ledger's record of the batch is this certificate's own.
    pub anchored: bool,
    /// When not: the verifier's code (`anchor-proof-invalid`), as a counter would refuse it.
    pub code: Option<&'static str>,
    /// When not: why, in words.
    pub reason: Option<String>,
}

/// A batch anchored on the ledger, proved by a receipt checked against the trust anchor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorStatus {
    /// The batch's Merkle root in hex.
    pub root: String,
    /// Its position in the ledger's anchor log.
    pub batch_seq: u64,
    /// The block that anchored it.
    pub height: u64,
    /// That block's time.
    pub time: u64,
    /// `time` as a date.
    pub date: String,
    /// The certified block whose anchor log the receipt proves the batch is in.
    pub certified_height: u64,
    /// The wallet's certificates in the batch.
    pub certificates: Vec<AnchoredCertificate>,
}

/// A verified revocation state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationInfo {
    /// The certified block it is as of.
    pub height: u64,
    /// When the state was current: the block's time, or the later time a quorum of
    /// validators vouched for (`applyFreshness`).
    pub time: u64,
    /// The block's time.
    pub block_time: u64,
    /// How many validators vouched for `time`, when freshness statements were applied.
    pub vouched: Option<usize>,
    /// Validators of the set that certified the block.
    pub validators: usize,
    /// Certificates revoked, all issuers together.
    pub revoked_count: u64,
}

/// Validators' freshness statements, checked: the data is current as of `as_of`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FreshnessView {
    /// The time a quorum of validators vouched the data is current as of.
    pub as_of: u64,
    /// How many validators signed.
    pub signed: usize,
    /// Validators of the ledger.
    pub validators: usize,
}

impl FreshnessView {
    /// The view of a checked freshness proof of a ledger of `validators` validators.
    pub fn of(fresh: ecert_verifier::freshness::Fresh, validators: usize) -> FreshnessView {
        FreshnessView {
            as_of: fresh.as_of.secs(),
            signed: fresh.signed,
            validators,
        }
    }
}

/// A counter's synced ledger data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreInfo {
    /// The ledger's chain id.
    pub chain_id: String,
    /// The certified block the data is as of.
    pub height: u64,
    /// When the data was current: the block's time, or the later time a quorum of
    /// validators vouched for (`applyFreshness`).
    pub time: u64,
    /// The block's time.
    pub block_time: u64,
    /// How many validators vouched for `time`, when freshness statements were applied.
    pub vouched: Option<usize>,
    /// Age of the data at the time asked (0 if it seems to come from the future).
    pub age_secs: u64,
    /// Whether it is older than the default policy accepts (24 h): `verify` would refuse.
    pub too_old: bool,
    /// Validators that signed the block.
    pub votes: usize,
    /// Validators of the ledger.
    pub validators: usize,
    /// Batches of certificates known.
    pub batches: u64,
    /// Certificates revoked.
    pub revoked: u64,
}

/// The counter's policy, as JavaScript passes it to `verify`: every member optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyInput {
    /// Oldest synced data accepted (default 86 400 s).
    pub max_revocation_age_secs: Option<u64>,
    /// Oldest holder proof accepted (default 60 s).
    pub holder_proof_max_age_secs: Option<u64>,
    /// How far the wallet's clock may be ahead (default 30 s).
    pub max_clock_skew_secs: Option<u64>,
    /// Challenge mode: the challenge this counter showed, in hex.
    pub expected_nonce: Option<String>,
}

/// A field of a kind, for forms and pickers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindField {
    /// Number.
    pub number: u16,
    /// Key.
    pub key: String,
    /// Label in English.
    pub label: String,
    /// Label in the local language.
    pub label_local: Option<String>,
    /// Whether every certificate of the kind carries it.
    pub mandatory: bool,
}

impl From<&FieldDef> for KindField {
    fn from(field: &FieldDef) -> KindField {
        KindField {
            number: field.number,
            key: field.key.clone(),
            label: field.label.clone(),
            label_local: field.label_local.clone(),
            mandatory: field.mandatory,
        }
    }
}

/// A certificate kind this software knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindView {
    /// Kind id.
    pub id: String,
    /// Name in English.
    pub name: String,
    /// Name in the local language.
    pub name_local: Option<String>,
    /// Description.
    pub description: String,
    /// Issuers allowed by the kind file.
    pub issuers: Vec<String>,
    /// The counter roles it may be shown to, in answer to their request (null: any
    /// counter, with or without a request).
    pub audience: Option<Vec<String>>,
    /// Fields, in order.
    pub fields: Vec<KindField>,
}

impl From<&Kind> for KindView {
    fn from(kind: &Kind) -> KindView {
        KindView {
            id: kind.id.to_string(),
            name: kind.name.clone(),
            name_local: kind.name_local.clone(),
            description: kind.description.clone(),
            issuers: kind.issuers.iter().map(ToString::to_string).collect(),
            audience: kind.audience.as_ref().map(|a| a.iter().cloned().collect()),
            fields: kind.fields.iter().map(KindField::from).collect(),
        }
    }
}

/// An offer link, read (`parseOfferLink`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferLinkView {
    /// The department's offer server, `http(s)://HOST[:PORT]`.
    pub server: String,
    /// The one-time offer code.
    pub code: String,
    /// The offer link, as the department's tool writes it.
    pub url: String,
    /// Where to post the redemption request.
    pub redeem_url: String,
}

/// A department's server address, read (`parseServerAddress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    /// The server, `http(s)://HOST[:PORT]`: what the wallet keeps for its department.
    pub server: String,
    /// Where a wallet posts its requests for new copies (`POST /v1/refills`).
    pub refill_url: String,
}

/// A trust anchor, read (`anchorInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorView {
    /// The ledger's chain id.
    pub chain_id: String,
    /// The validator set's hash, 64 hex digits.
    pub validators_hash: String,
    /// Its first and last 4 hex digits (`3f1c…9a0b`), as the command-line tools show it.
    pub short_hash: String,
    /// The anchor as an anchor file (canonical text, with a comment line).
    pub text: String,
}
