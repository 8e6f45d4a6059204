//! What a counter reports for one check: the facts of a [`Verdict`] or of a refusal,
//! with the data's height and age, whatever the screen or format that shows them
//! (`ecert-verify verify --json`, the browser counter).

use crate::{TrustStore, Verdict, VerifiedCertificate, VerifyError};
use ecert_schemas::UnixTime;

/// The facts of one check at `checked_at`. `C` is how the caller shows a verified
/// certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome<C> {
    /// VALID or not.
    pub valid: bool,
    /// INVALID: the reason's stable code.
    pub code: Option<&'static str>,
    /// INVALID: the reason in plain words.
    pub reason: Option<String>,
    /// VALID: the certificates, in presentation order (empty when INVALID).
    pub certificates: Vec<C>,
    /// VALID: the holder's wallet ID (hex).
    pub holder: Option<String>,
    /// VALID: when the wallet signed (seconds).
    pub signed_at: Option<u64>,
    /// VALID: whether a challenge was checked.
    pub nonce_checked: Option<bool>,
    /// The time the check used (seconds).
    pub checked_at: u64,
    /// The certified block the data is as of.
    pub synced_height: u64,
    /// That block's time (seconds).
    pub synced_at: u64,
    /// Age of the revocation data at `checked_at` (seconds).
    pub revocation_age_secs: u64,
}

impl<C> Outcome<C> {
    /// The outcome of `result`, checked at `now` against `store`; each verified
    /// certificate shown with `show`.
    pub fn of(
        result: &Result<Verdict, VerifyError>,
        store: &TrustStore,
        now: UnixTime,
        show: impl Fn(&VerifiedCertificate) -> C,
    ) -> Outcome<C> {
        let base = Outcome {
            valid: false,
            code: None,
            reason: None,
            certificates: Vec::new(),
            holder: None,
            signed_at: None,
            nonce_checked: None,
            checked_at: now.secs(),
            synced_height: store.header().height,
            synced_at: store.as_of().secs(),
            revocation_age_secs: now.secs().saturating_sub(store.as_of().secs()),
        };
        match result {
            Ok(verdict) => Outcome {
                valid: true,
                certificates: verdict.certificates.iter().map(show).collect(),
                holder: Some(verdict.holder.to_hex()),
                signed_at: Some(verdict.signed_at.secs()),
                nonce_checked: Some(verdict.nonce_checked),
                synced_height: verdict.synced_height,
                synced_at: verdict.synced_at.secs(),
                revocation_age_secs: verdict.revocation_age_secs,
                ..base
            },
            Err(error) => Outcome {
                code: Some(error.code()),
                reason: Some(error.to_string()),
                ..base
            },
        }
    }
}
