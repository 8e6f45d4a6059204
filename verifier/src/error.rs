//! The one error type of this crate: every reason a presentation, a trust bundle or a
//! ledger transaction is refused.

use ecert_schemas::{ChainId, IssuerId, KeyId, KindId, SchemaError, StatusIndex, UnixTime};
use thiserror::Error;

/// Why something did not verify. Each variant says, in words a counter clerk or an
/// operator can act on, what is wrong; [`VerifyError::code`] gives a stable machine code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The input could not be read (damaged QR, wrong format, bad encoding).
    #[error("unreadable: {0}")]
    Malformed(SchemaError),
    /// The input was made by newer software.
    #[error("made by a newer version: {what} version {found} (this software reads {supported}); update the verifier")]
    UnsupportedVersion {
        /// Which structure.
        what: &'static str,
        /// Version found.
        found: u64,
        /// Version supported.
        supported: u64,
    },
    /// The certificate's kind is not known to this counter (or its definition differs from
    /// the ledger's).
    #[error("unknown certificate kind {0}: sync again or update the verifier")]
    UnknownKind(KindId),
    /// The issuer is not in the ledger's issuer registry.
    #[error("issued by {0}, which is not a registered issuer")]
    UnknownIssuer(IssuerId),
    /// The issuer's key is not in the registry.
    #[error("issued by {issuer} with key {key_id}, which is not a registered key of that issuer")]
    UnknownIssuerKey {
        /// The issuer.
        issuer: IssuerId,
        /// The key id in the certificate.
        key_id: KeyId,
    },
    /// The issuer may not issue this kind.
    #[error("{issuer} is not entitled to issue {kind} certificates")]
    IssuerNotEntitled {
        /// The issuer.
        issuer: IssuerId,
        /// The kind.
        kind: KindId,
    },
    /// The issuer's signature does not verify.
    #[error(
        "the issuer's signature ({issuer}) is not valid: the certificate was altered or forged"
    )]
    BadIssuerSignature {
        /// The claimed issuer.
        issuer: IssuerId,
    },
    /// The issuing key was not valid when the certificate was issued or anchored.
    #[error("{issuer}'s key {key_id} was not valid when the certificate was issued or anchored")]
    IssuerKeyNotValidAtIssue {
        /// The issuer.
        issuer: IssuerId,
        /// The key.
        key_id: KeyId,
    },
    /// The certificate has expired.
    #[error("expired on {expired_at}")]
    Expired {
        /// Its expiry.
        expired_at: UnixTime,
    },
    /// The certificate is not valid yet.
    #[error("not valid until {valid_from}")]
    NotYetValid {
        /// Its start of validity.
        valid_from: UnixTime,
    },
    /// A disclosed value does not match the digest the issuer signed.
    #[error("the disclosed value of field {field:?} was altered (it does not match the issuer's digest)")]
    DisclosureMismatch {
        /// The field's key (or number).
        field: String,
    },
    /// A disclosure names a field the certificate does not have, or repeats one, or has a
    /// value of the wrong type, or is a derived fact that disagrees with the disclosed
    /// field it comes from.
    #[error("invalid disclosure: {detail}")]
    DisclosureInvalid {
        /// What is wrong.
        detail: String,
    },
    /// The presentation carries no holder proof.
    #[error(
        "no holder proof: the presentation was not signed by the wallet holding the certificate"
    )]
    HolderProofMissing,
    /// The holder proof's signature does not verify against the certificate's holder key.
    #[error("the holder proof is not valid: it was not made by the wallet the certificate was issued to")]
    HolderProofBad,
    /// The holder proof is too old, or from the future.
    #[error("the presentation was made at {signed_at}, outside the accepted window (now {now}); ask for a fresh QR code")]
    HolderProofOutsideWindow {
        /// When the holder signed.
        signed_at: UnixTime,
        /// The verifier's time.
        now: UnixTime,
    },
    /// The presentation does not answer this counter's challenge.
    #[error("the presentation does not answer this counter's challenge (nonce mismatch)")]
    NonceMismatch,
    /// Certificates of different holders in one presentation.
    #[error("the certificates belong to different holders")]
    MixedHolders,
    /// The anchor proof does not lead to the anchored batch.
    #[error("the anchor proof is invalid: {detail}")]
    AnchorProofInvalid {
        /// What is wrong.
        detail: String,
    },
    /// The certificate's batch is not covered by the certified header this counter has.
    #[error("anchored in batch {batch_seq}, after this counter's last sync (which covers {synced} batches): sync and try again")]
    HeaderUnknown {
        /// The batch's position in the anchor log.
        batch_seq: u64,
        /// How many batches the synced header covers.
        synced: u64,
    },
    /// The checkpoint lacks a validator quorum, or a vote is bad.
    #[error("the ledger header is not certified: {detail}")]
    HeaderNotCertified {
        /// What is wrong.
        detail: String,
    },
    /// The synced data does not match what the certified header commits to.
    #[error("the synced trust data is inconsistent with its certified header: {detail}")]
    TrustDataMismatch {
        /// What does not match.
        detail: String,
    },
    /// The certificate was revoked.
    #[error("revoked by {issuer} (status index {index})")]
    Revoked {
        /// The issuer.
        issuer: IssuerId,
        /// The certificate's status index.
        index: StatusIndex,
    },
    /// The counter's revocation data is older than the policy allows.
    #[error("this counter's revocation data is {age_secs} s old, more than the {max_secs} s allowed: sync first")]
    RevocationDataTooOld {
        /// Age of the data.
        age_secs: u64,
        /// Maximum allowed.
        max_secs: u64,
    },
    /// Too few validators vouch that the counter's data is still current: the ledger has
    /// stopped confirming freshness (more than a third of the validators are down or cut
    /// off).
    #[error("the ledger does not confirm that its data is current: {signed} of {validators} validators vouch that block #{height} is still the newest, more than two thirds are needed")]
    FreshnessNotConfirmed {
        /// Validators whose statements were checked.
        signed: usize,
        /// Validators in the set.
        validators: usize,
        /// The block the statements are about.
        height: u64,
    },
    /// A national trust list lacks approvals from more than two thirds of the national
    /// body's keys.
    #[error("the national trust list is approved by {approvals} of the {keys} national keys; more than two thirds must approve it")]
    TrustListNotApproved {
        /// Valid approvals.
        approvals: usize,
        /// National keys pinned.
        keys: usize,
    },
    /// The national trust list is past its expiry: get the current one.
    #[error("the national trust list expired at {expires}: get the current list")]
    TrustListExpired {
        /// When it expired.
        expires: UnixTime,
    },
    /// A certificate's batch is in none of the provinces' ledgers this counter trusts and
    /// synced (its province is not on the national list, or its data was not synced).
    #[error("the certificate's batch is in no province ledger this counter trusts and synced ({detail})")]
    ProvinceUnknown {
        /// What was looked for.
        detail: String,
    },
    /// The national trust list does not let this province's issuers issue this kind.
    #[error("the national trust list does not let province {province} issue {kind} certificates")]
    ProvinceNotEntitled {
        /// The province's ledger.
        province: ChainId,
        /// The kind.
        kind: KindId,
    },
    /// A ledger transaction was refused.
    #[error("transaction refused: {detail}")]
    TransactionRefused {
        /// Why.
        detail: String,
    },
    /// A governance change lacks approvals from more than two thirds of the validators.
    #[error("{approvals} of {validators} validators approved; more than two thirds must approve a governance change")]
    TooFewApprovals {
        /// Approvals carried.
        approvals: usize,
        /// Size of the validator set.
        validators: usize,
    },
    /// An approval names a validator position outside the validator set.
    #[error("approval from validator #{validator}, but there are only {validators} validators")]
    UnknownValidator {
        /// The position named.
        validator: u16,
        /// Size of the validator set.
        validators: usize,
    },
    /// A validator approves twice, or approvals are not in ascending validator order.
    #[error("validator #{validator} approves twice, or approvals are not sorted by validator")]
    DuplicateApproval {
        /// The repeated or misplaced position.
        validator: u16,
    },
    /// An approval's signature does not verify under that validator's key.
    #[error("the approval of validator #{validator} is not a valid signature of this change")]
    BadApprovalSignature {
        /// The validator.
        validator: u16,
    },
    /// A governance change carries another sequence number than the registry expects:
    /// it was already applied (replay) or was approved against another registry state.
    #[error("governance change #{found} does not apply: the registry expects #{expected} (already applied, or approved for another registry state: approve it again)")]
    GovernanceSeqMismatch {
        /// The registry's `governance_seq`.
        expected: u64,
        /// The body's `seq`.
        found: u64,
    },
    /// The issuer to register already is.
    #[error("issuer {0} is already registered")]
    IssuerAlreadyRegistered(IssuerId),
    /// The key to register already is registered for this issuer.
    #[error("{issuer} already has key {key_id}")]
    IssuerKeyAlreadyRegistered {
        /// The issuer.
        issuer: IssuerId,
        /// The key's id.
        key_id: KeyId,
    },
    /// The kind to add is already registered.
    #[error("kind {0} is already registered")]
    KindAlreadyRegistered(KindId),
    /// The issuer key to rotate or retire is already retired at or before the requested
    /// time.
    #[error("{issuer}'s key {key_id} is already retired from {since}")]
    IssuerKeyRetired {
        /// The issuer.
        issuer: IssuerId,
        /// The key.
        key_id: KeyId,
        /// Its current retirement time.
        since: UnixTime,
    },
}

impl VerifyError {
    /// A stable, machine-readable code for the reason (used in JSON output and docs).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Malformed(_) => "malformed",
            VerifyError::UnsupportedVersion { .. } => "unsupported-version",
            VerifyError::UnknownKind(_) => "unknown-kind",
            VerifyError::UnknownIssuer(_) => "unknown-issuer",
            VerifyError::UnknownIssuerKey { .. } => "unknown-issuer-key",
            VerifyError::IssuerNotEntitled { .. } => "issuer-not-entitled",
            VerifyError::BadIssuerSignature { .. } => "bad-issuer-signature",
            VerifyError::IssuerKeyNotValidAtIssue { .. } => "issuer-key-not-valid",
            VerifyError::Expired { .. } => "expired",
            VerifyError::NotYetValid { .. } => "not-yet-valid",
            VerifyError::DisclosureMismatch { .. } => "disclosure-mismatch",
            VerifyError::DisclosureInvalid { .. } => "disclosure-invalid",
            VerifyError::HolderProofMissing => "holder-proof-missing",
            VerifyError::HolderProofBad => "holder-proof-bad",
            VerifyError::HolderProofOutsideWindow { .. } => "holder-proof-outside-window",
            VerifyError::NonceMismatch => "nonce-mismatch",
            VerifyError::MixedHolders => "mixed-holders",
            VerifyError::AnchorProofInvalid { .. } => "anchor-proof-invalid",
            VerifyError::HeaderUnknown { .. } => "header-unknown",
            VerifyError::HeaderNotCertified { .. } => "header-not-certified",
            VerifyError::TrustDataMismatch { .. } => "trust-data-mismatch",
            VerifyError::Revoked { .. } => "revoked",
            VerifyError::RevocationDataTooOld { .. } => "revocation-data-too-old",
            VerifyError::FreshnessNotConfirmed { .. } => "freshness-not-confirmed",
            VerifyError::TrustListNotApproved { .. } => "trust-list-not-approved",
            VerifyError::TrustListExpired { .. } => "trust-list-expired",
            VerifyError::ProvinceUnknown { .. } => "province-unknown",
            VerifyError::ProvinceNotEntitled { .. } => "province-not-entitled",
            VerifyError::TransactionRefused { .. } => "transaction-refused",
            VerifyError::TooFewApprovals { .. } => "too-few-approvals",
            VerifyError::UnknownValidator { .. } => "unknown-validator",
            VerifyError::DuplicateApproval { .. } => "duplicate-approval",
            VerifyError::BadApprovalSignature { .. } => "bad-approval-signature",
            VerifyError::GovernanceSeqMismatch { .. } => "governance-seq-mismatch",
            VerifyError::IssuerAlreadyRegistered(_) => "issuer-already-registered",
            VerifyError::IssuerKeyAlreadyRegistered { .. } => "issuer-key-already-registered",
            VerifyError::KindAlreadyRegistered(_) => "kind-already-registered",
            VerifyError::IssuerKeyRetired { .. } => "issuer-key-retired",
        }
    }
}

impl From<SchemaError> for VerifyError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::UnsupportedVersion {
                what,
                found,
                supported,
            } => VerifyError::UnsupportedVersion {
                what,
                found,
                supported,
            },
            other => VerifyError::Malformed(other),
        }
    }
}
