//! Exit codes: one fixed table, used by the program, printed in `verify --help` and
//! copied into `docs/user-guide.md#counter-staff-checking-certificates`.
//!
//! 0 means VALID (or, for the other commands, done). Every rejection reason of the
//! verifier ([`VerifyError::code`]) has its own code from 10 up; problems of the counter
//! itself (wrong usage, unreadable files, not set up, not synced) are 2.

use ecert_verifier::VerifyError;

ecert_shell::exit_codes! {
    /// The codes below the rejection reasons', for `--help` ([`help_table`]).
    pub const GENERAL;
    /// VALID, or the command did what it was asked.
    OK = 0: "VALID (other commands: done)";
    /// INVALID for a reason this table does not list (only if the verifier gained a reason
    /// this program does not know yet).
    OTHER_REASON = 1: "INVALID for a reason without its own code (update ecert-verify)";
    /// The counter could not do its job: wrong usage, a file that cannot be read or written,
    /// a ledger node that cannot be reached or does not answer properly (`sync --node`), the
    /// counter not set up (`init`) or not synced (`sync`), the clock before 1970.
    COUNTER_ERROR = 2: "the counter could not check: wrong usage, unreadable file, ledger node \
                        unreachable, not set up (run `init`) or not synced (run `sync`)";
    /// The command refused to replace what the counter already has: a trust bundle older than
    /// the stored one (`sync`, see `--allow-older`), a national trust list older than the
    /// stored one (`sync --trust-list`) or a different trust anchor (`init`, see `--force`).
    REFUSED = 3: "refused to replace stored data (sync: older bundle, see --allow-older, or \
                  older trust list; init: other anchor, see --force)";
    /// `verify --request`: the code is valid and answers the pending request, but shows
    /// fields the request did not ask for; it is not accepted.
    UNASKED = 4: "verify --request: the code shows fields the request did not ask for (not \
                  accepted)";
    /// `verify --request`: the code is valid and answers the pending request, but leaves out
    /// fields the request asked for (the citizen declined, or holds no such certificate).
    INCOMPLETE = 5: "verify --request: VALID, but fields asked for were not shown";
}

/// One rejection reason: its stable code, its exit code and what counter staff should do.
pub struct Reason {
    /// [`VerifyError::code`].
    pub code: &'static str,
    /// The process exit code.
    pub exit: u8,
    /// What it means, in a few words.
    pub title: &'static str,
    /// What to do, in plain words.
    pub advice: &'static str,
}

/// Every rejection reason, in exit-code order. Codes are never renumbered or reused.
pub const REASONS: [Reason; 38] = [
    Reason {
        code: "malformed",
        title: "the code could not be read",
        exit: 10,
        advice: "The code could not be read. Scan again (steady, whole code visible). If \
                 you typed it, check Caps Lock and the keyboard layout. If it keeps failing, \
                 ask the citizen to show the code again from their wallet.",
    },
    Reason {
        code: "unsupported-version",
        title: "made by newer software: update ecert-verify",
        exit: 11,
        advice: "The citizen's wallet is newer than this counter's software. Ask your IT \
                 contact to update ecert-verify.",
    },
    Reason {
        code: "unknown-kind",
        title: "kind of certificate unknown to this counter",
        exit: 12,
        advice: "This counter does not know this kind of certificate. Sync, then scan \
                 again; if it still fails, ask your IT contact to update ecert-verify.",
    },
    Reason {
        code: "unknown-issuer",
        title: "issuer is not registered",
        exit: 13,
        advice: "The certificate claims to come from an office that is not a registered \
                 issuer. Do not accept it.",
    },
    Reason {
        code: "unknown-issuer-key",
        title: "issuer's key is not registered",
        exit: 14,
        advice: "The certificate was signed with a key the ledger does not know. Sync, then \
                 scan again; if it still fails, do not accept it.",
    },
    Reason {
        code: "issuer-not-entitled",
        title: "issuer may not issue this kind",
        exit: 15,
        advice: "The office that signed it may not issue this kind of certificate (for \
                 example an ID card from the transport bureau). Do not accept it.",
    },
    Reason {
        code: "bad-issuer-signature",
        title: "certificate altered or forged",
        exit: 16,
        advice: "The certificate was altered or forged. Do not accept it.",
    },
    Reason {
        code: "issuer-key-not-valid",
        title: "issuer's key was not valid at issue",
        exit: 17,
        advice: "The issuing office's key was not valid when the certificate was issued. \
                 Do not accept it; the citizen should contact the issuing office.",
    },
    Reason {
        code: "expired",
        title: "certificate expired",
        exit: 18,
        advice: "The certificate has expired. Ask for a valid one; the citizen must renew \
                 it at the issuing office.",
    },
    Reason {
        code: "not-yet-valid",
        title: "certificate not valid yet",
        exit: 19,
        advice: "The certificate is not valid yet. Check that this computer's date is \
                 right; otherwise ask the citizen to come back once it is valid.",
    },
    Reason {
        code: "disclosure-mismatch",
        title: "a shown value was altered",
        exit: 20,
        advice: "A shown value was changed after the certificate was issued. Do not \
                 accept it.",
    },
    Reason {
        code: "disclosure-invalid",
        title: "a shown field is not valid",
        exit: 21,
        advice: "The code contains a field that is not valid for this certificate. Ask \
                 the citizen to make a new code; if it fails again, do not accept it.",
    },
    Reason {
        code: "holder-proof-missing",
        title: "not signed by a wallet",
        exit: 22,
        advice: "The code was not signed by the citizen's wallet. Ask the citizen to show \
                 the code from their own wallet app.",
    },
    Reason {
        code: "holder-proof-bad",
        title: "not shown by the certificate's own wallet",
        exit: 23,
        advice: "The code was not made by the wallet the certificate belongs to (a copied \
                 certificate). Do not accept it.",
    },
    Reason {
        code: "holder-proof-outside-window",
        title: "code too old (screenshot?) or phone clock wrong",
        exit: 24,
        advice: "The code is too old (a screenshot or a photo?) or the phone's clock is \
                 wrong. Ask the citizen to make a fresh code now, and check the time on \
                 their phone and on this computer.",
    },
    Reason {
        code: "nonce-mismatch",
        title: "does not answer this counter's challenge",
        exit: 25,
        advice: "The code does not answer this counter's challenge. Run `ecert-verify \
                 challenge` again, read the new challenge to the citizen and ask for a new \
                 code made with it.",
    },
    Reason {
        code: "mixed-holders",
        title: "certificates of different people",
        exit: 26,
        advice: "The code holds certificates of different people. Do not accept it; each \
                 person shows their own code.",
    },
    Reason {
        code: "anchor-proof-invalid",
        title: "not on record in the ledger",
        exit: 27,
        advice: "The certificate is not on record in the ledger. Do not accept it.",
    },
    Reason {
        code: "header-unknown",
        title: "issued after this counter's last sync: sync",
        exit: 28,
        advice: "The certificate was issued after this counter's last sync. Sync now, then \
                 scan again.",
    },
    Reason {
        code: "header-not-certified",
        title: "sync: file not certified by the trusted validators",
        exit: 29,
        advice: "(sync) The file was not certified by the ledger this counter trusts. Do \
                 not use it: get a new export from the department running the ledger.",
    },
    Reason {
        code: "trust-data-mismatch",
        title: "sync: file does not match what was certified",
        exit: 30,
        advice: "(sync) The file is damaged, altered, or for another ledger. Do not use \
                 it: get a new export from the department running the ledger.",
    },
    Reason {
        code: "revoked",
        title: "certificate revoked",
        exit: 31,
        advice: "The issuing office has revoked this certificate. Do not accept it; the \
                 citizen should contact the issuing office.",
    },
    Reason {
        code: "revocation-data-too-old",
        title: "this counter's ledger data is too old: sync",
        exit: 32,
        advice: "This counter's ledger data is too old to rely on. Sync, then scan again.",
    },
    Reason {
        code: "transaction-refused",
        title: "ledger error, not expected at a counter",
        exit: 33,
        advice: "A ledger error that should never reach a counter. Tell your IT contact.",
    },
    Reason {
        code: "too-few-approvals",
        title: "governance error, not expected at a counter",
        exit: 34,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "unknown-validator",
        title: "governance error, not expected at a counter",
        exit: 35,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "duplicate-approval",
        title: "governance error, not expected at a counter",
        exit: 36,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "bad-approval-signature",
        title: "governance error, not expected at a counter",
        exit: 37,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "governance-seq-mismatch",
        title: "governance error, not expected at a counter",
        exit: 38,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "issuer-already-registered",
        title: "governance error, not expected at a counter",
        exit: 39,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "issuer-key-already-registered",
        title: "governance error, not expected at a counter",
        exit: 40,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "kind-already-registered",
        title: "governance error, not expected at a counter",
        exit: 41,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "issuer-key-retired",
        title: "governance error, not expected at a counter",
        exit: 42,
        advice: "A ledger governance error that should never reach a counter. Tell your IT \
                 contact.",
    },
    Reason {
        code: "freshness-not-confirmed",
        title: "sync: the ledger no longer confirms its data is current",
        exit: 43,
        advice: "(sync) Too few of the departments' ledger nodes vouch that the ledger's \
                 newest data is current: more than a third of them are down or cut off. \
                 The data this counter has keeps working until it is too old; tell your IT \
                 contact, and sync again later.",
    },
    Reason {
        code: "trust-list-not-approved",
        title: "national trust list not approved",
        exit: 44,
        advice: "(sync) Too few of the national body's keys approved this national trust \
                 list: do not use it. Get the list from the national body again; if it is \
                 refused again, tell your IT contact.",
    },
    Reason {
        code: "trust-list-expired",
        title: "national trust list expired",
        exit: 45,
        advice: "The national trust list this counter holds has expired: sync the current \
                 list (`ecert-verify sync --trust-list FILE`). Until then certificates of \
                 other provinces cannot be checked.",
    },
    Reason {
        code: "province-unknown",
        title: "certificate from a province this counter does not trust or has not synced",
        exit: 46,
        advice: "The certificate is on the ledger of a province this counter has no data \
                 for: if the province is on the national trust list, sync it \
                 (`ecert-verify sync --province CHAIN --node URL`) and check again; if it is \
                 not on the list, do not accept it.",
    },
    Reason {
        code: "province-not-entitled",
        title: "kind not recognised from that province",
        exit: 47,
        advice: "The national trust list does not let that province issue this kind of \
                 certificate: do not accept it. Ask the holder for another proof.",
    },
];

/// The table entry for a reason code.
pub fn reason(code: &str) -> Option<&'static Reason> {
    REASONS.iter().find(|r| r.code == code)
}

/// The exit code for a rejection.
pub fn for_error(error: &VerifyError) -> u8 {
    reason(error.code()).map_or(OTHER_REASON, |r| r.exit)
}

/// What staff should do about a rejection.
pub fn advice(error: &VerifyError) -> &'static str {
    reason(error.code()).map_or(
        "Do not accept it, and tell your IT contact about this message.",
        |r| r.advice,
    )
}

/// The exit-code table as text, for `--help`.
pub fn help_table() -> String {
    let mut text = ecert_shell::exit::help_table(GENERAL, 3);
    text.push('\n');
    text.push_str(
        "  From 10 up: INVALID (verify), or the data was refused (sync), one code per reason:\n",
    );
    for r in &REASONS {
        text.push_str(&format!("  {:<3} {:<28} {}\n", r.exit, r.code, r.title));
    }
    text
}

pub use ecert_shell::Failure;

/// A failure with exit code [`COUNTER_ERROR`].
pub fn counter(message: impl Into<String>) -> Failure {
    Failure::new(COUNTER_ERROR, message)
}

/// A failure with exit code [`REFUSED`].
pub fn refused(message: impl Into<String>) -> Failure {
    Failure::new(REFUSED, message)
}

/// The exit code for an error that ended a command: a [`Failure`]'s own code, a
/// verifier's reason from the table, otherwise [`COUNTER_ERROR`].
pub fn for_anyhow(error: &anyhow::Error) -> u8 {
    if let Some(failure) = error.downcast_ref::<Failure>() {
        return failure.code;
    }
    if let Some(reason) = error.downcast_ref::<VerifyError>() {
        return for_error(reason);
    }
    COUNTER_ERROR
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_and_exit_codes_are_distinct_and_above_the_general_ones() {
        let codes: BTreeSet<_> = REASONS.iter().map(|r| r.code).collect();
        let exits: BTreeSet<_> = REASONS.iter().map(|r| r.exit).collect();
        assert_eq!(codes.len(), REASONS.len());
        assert_eq!(exits.len(), REASONS.len());
        assert!(REASONS.iter().all(|r| r.exit >= 10));
    }

    #[test]
    fn every_verifier_reason_is_in_the_table() {
        use ecert_schemas::{IssuerId, KeyId, KindId, SchemaError, StatusIndex, UnixTime};
        let issuer = IssuerId::new("x").unwrap();
        let kind = KindId::new("x").unwrap();
        let all = [
            VerifyError::Malformed(SchemaError::Malformed {
                what: "x",
                detail: "y".into(),
            }),
            VerifyError::UnsupportedVersion {
                what: "x",
                found: 2,
                supported: 1,
            },
            VerifyError::UnknownKind(kind.clone()),
            VerifyError::UnknownIssuer(issuer.clone()),
            VerifyError::UnknownIssuerKey {
                issuer: issuer.clone(),
                key_id: KeyId([0; 8]),
            },
            VerifyError::IssuerNotEntitled {
                issuer: issuer.clone(),
                kind: kind.clone(),
            },
            VerifyError::BadIssuerSignature {
                issuer: issuer.clone(),
            },
            VerifyError::IssuerKeyNotValidAtIssue {
                issuer: issuer.clone(),
                key_id: KeyId([0; 8]),
            },
            VerifyError::Expired {
                expired_at: UnixTime(0),
            },
            VerifyError::NotYetValid {
                valid_from: UnixTime(0),
            },
            VerifyError::DisclosureMismatch { field: "x".into() },
            VerifyError::DisclosureInvalid { detail: "x".into() },
            VerifyError::HolderProofMissing,
            VerifyError::HolderProofBad,
            VerifyError::HolderProofOutsideWindow {
                signed_at: UnixTime(0),
                now: UnixTime(0),
            },
            VerifyError::NonceMismatch,
            VerifyError::MixedHolders,
            VerifyError::AnchorProofInvalid { detail: "x".into() },
            VerifyError::HeaderUnknown {
                batch_seq: 0,
                synced: 0,
            },
            VerifyError::HeaderNotCertified { detail: "x".into() },
            VerifyError::TrustDataMismatch { detail: "x".into() },
            VerifyError::Revoked {
                issuer: issuer.clone(),
                index: StatusIndex(0),
            },
            VerifyError::RevocationDataTooOld {
                age_secs: 0,
                max_secs: 0,
            },
            VerifyError::FreshnessNotConfirmed {
                signed: 0,
                validators: 0,
                height: 0,
            },
            VerifyError::TrustListNotApproved {
                approvals: 0,
                keys: 0,
            },
            VerifyError::TrustListExpired {
                expires: UnixTime(0),
            },
            VerifyError::ProvinceUnknown { detail: "x".into() },
            VerifyError::ProvinceNotEntitled {
                province: ecert_schemas::ChainId::new("x").unwrap(),
                kind: kind.clone(),
            },
            VerifyError::TransactionRefused { detail: "x".into() },
            VerifyError::TooFewApprovals {
                approvals: 0,
                validators: 0,
            },
            VerifyError::UnknownValidator {
                validator: 0,
                validators: 0,
            },
            VerifyError::DuplicateApproval { validator: 0 },
            VerifyError::BadApprovalSignature { validator: 0 },
            VerifyError::GovernanceSeqMismatch {
                expected: 0,
                found: 1,
            },
            VerifyError::IssuerAlreadyRegistered(issuer.clone()),
            VerifyError::IssuerKeyAlreadyRegistered {
                issuer: issuer.clone(),
                key_id: KeyId([0; 8]),
            },
            VerifyError::KindAlreadyRegistered(kind.clone()),
            VerifyError::IssuerKeyRetired {
                issuer: issuer.clone(),
                key_id: KeyId([0; 8]),
                since: UnixTime(0),
            },
        ];
        for e in &all {
            // A new variant makes this match fail to compile: add it to the table too.
            match e {
                VerifyError::Malformed(_)
                | VerifyError::UnsupportedVersion { .. }
                | VerifyError::UnknownKind(_)
                | VerifyError::UnknownIssuer(_)
                | VerifyError::UnknownIssuerKey { .. }
                | VerifyError::IssuerNotEntitled { .. }
                | VerifyError::BadIssuerSignature { .. }
                | VerifyError::IssuerKeyNotValidAtIssue { .. }
                | VerifyError::Expired { .. }
                | VerifyError::NotYetValid { .. }
                | VerifyError::DisclosureMismatch { .. }
                | VerifyError::DisclosureInvalid { .. }
                | VerifyError::HolderProofMissing
                | VerifyError::HolderProofBad
                | VerifyError::HolderProofOutsideWindow { .. }
                | VerifyError::NonceMismatch
                | VerifyError::MixedHolders
                | VerifyError::AnchorProofInvalid { .. }
                | VerifyError::HeaderUnknown { .. }
                | VerifyError::HeaderNotCertified { .. }
                | VerifyError::TrustDataMismatch { .. }
                | VerifyError::Revoked { .. }
                | VerifyError::RevocationDataTooOld { .. }
                | VerifyError::FreshnessNotConfirmed { .. }
                | VerifyError::TrustListNotApproved { .. }
                | VerifyError::TrustListExpired { .. }
                | VerifyError::ProvinceUnknown { .. }
                | VerifyError::ProvinceNotEntitled { .. }
                | VerifyError::TransactionRefused { .. }
                | VerifyError::TooFewApprovals { .. }
                | VerifyError::UnknownValidator { .. }
                | VerifyError::DuplicateApproval { .. }
                | VerifyError::BadApprovalSignature { .. }
                | VerifyError::GovernanceSeqMismatch { .. }
                | VerifyError::IssuerAlreadyRegistered(_)
                | VerifyError::IssuerKeyAlreadyRegistered { .. }
                | VerifyError::KindAlreadyRegistered(_)
                | VerifyError::IssuerKeyRetired { .. } => {}
            }
            assert!(reason(e.code()).is_some(), "{} has no exit code", e.code());
        }
        let used: BTreeSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(
            used.len(),
            REASONS.len(),
            "the table lists a code no error has"
        );
    }
}
