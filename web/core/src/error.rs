//! The one error type of this crate, with a stable machine code for each reason.

use ecert_qr::QrError;
use ecert_schemas::address::{OfferLinkError, UrlError};
use ecert_schemas::SchemaError;
use ecert_verifier::anchor_file::AnchorFileError;
use ecert_verifier::request::RequestError;
use ecert_verifier::VerifyError;
use ecert_wallet::certs::CertsError;
use ecert_wallet::receive::{ReceiveError, Refused};
use ecert_wallet::WalletError;
use thiserror::Error;

/// Why a call failed. In JavaScript it is thrown as an `Error` whose `code` property is
/// [`WebError::code`] and whose `message` is the text below (plain words).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebError {
    /// A verification rule refused the input (trust bundle, revocation delta): the code
    /// is [`VerifyError::code`], the same as the command-line counter's.
    #[error("{0}")]
    Verify(#[from] VerifyError),
    /// The wallet file could not be opened or sealed, or a presentation not built.
    #[error("{0}")]
    Wallet(#[from] WalletError),
    /// A received package was refused.
    #[error("{0}")]
    Receive(#[from] Refused),
    /// A certificate of the wallet is unreadable, or a choice of certificates not made.
    #[error("{0}")]
    Certs(#[from] CertsError),
    /// The trust anchor text is not an anchor file.
    #[error("not a trust anchor file: {0}")]
    Anchor(#[from] AnchorFileError),
    /// A QR code could not be drawn or read.
    #[error("{0}")]
    Qr(#[from] QrError),
    /// The text is not an offer link (or the code not an offer code).
    #[error("not an offer link (http(s)://HOST:PORT/v1/offers/CODE): {0}")]
    OfferLink(#[from] OfferLinkError),
    /// The text is not a server address (`https://HOST[:PORT]`).
    #[error("not a server address: {0}")]
    ServerAddress(#[from] UrlError),
    /// A certificate whose validity has ended: there is nothing to ask new copies of.
    #[error("this certificate expired on {date}: ask its department for a new certificate")]
    Expired {
        /// The day it expired (`YYYY-MM-DD`, UTC).
        date: String,
    },
    /// A department answered a request for new copies of one certificate with something
    /// else than new one-time copies of it.
    #[error(
        "the department answered the request for new copies of certificate {asked} with          another certificate; nothing was added"
    )]
    RefillOtherCertificate {
        /// The certificate asked about (its first 8 hex digits).
        asked: String,
    },
    /// A newer bundle is held already and the older one was not allowed.
    #[error(
        "this ledger data (block #{offered}) is older than the data held (block #{held}); nothing was changed"
    )]
    OlderData {
        /// Height of the bundle offered.
        offered: u64,
        /// Height of the store held.
        held: u64,
    },
    /// An anchor receipt about a batch that holds none of the wallet's certificates.
    #[error(
        "this anchor receipt is about batch {root}, which holds none of this wallet's certificates"
    )]
    OtherBatch {
        /// The root of the receipt's batch, in hex.
        root: String,
    },
    /// A new passphrase that breaks the rules (too short to protect a wallet, too long,
    /// only spaces).
    #[error("choose another passphrase: {0}")]
    WeakPassphrase(ecert_sealed::passphrase_rule::WeakPassphrase),
    /// `renew` with no presentation made (or the certificates changed since).
    #[error("there is no presentation to show again: make one first")]
    NoPresentation,
    /// A counter's request (or registration) that fails its checks, or cannot be read.
    #[error("{0}")]
    Request(#[from] RequestError),
    /// The bytes are not a counter registration file.
    #[error("this is not a counter registration from a department: {0}")]
    NotARegistration(SchemaError),
    /// A registration of another counter's key.
    #[error("this registration is for another counter's key ({registered}), not this counter's ({ours})")]
    OtherCounterKey {
        /// The key the registration names (hex).
        registered: String,
        /// This counter's key (hex).
        ours: String,
    },
    /// `answerRequest` with no request read.
    #[error("there is no counter's request to answer: read one first")]
    NoRequest,
    /// Nothing the wallet holds (or the citizen agreed to show) answers the request.
    #[error("there is nothing this wallet can show in answer to this request; nothing was shown")]
    NothingToShow,
    /// A presentation the wallet's history cannot keep (an entry it refuses): no code is
    /// made, nothing is marked.
    #[error(
        "this presentation cannot be recorded in your wallet's history, so it was not made: {0}"
    )]
    NotRecorded(SchemaError),
    /// A fault of this software (its built-in kinds cannot be read).
    #[error("internal error: {0}")]
    Internal(String),
    /// An argument from JavaScript is out of range or of the wrong shape.
    #[error("{0}")]
    BadArgument(String),
}

impl WebError {
    /// A stable, machine-readable code for the reason (see the crate documentation's
    /// table).
    pub fn code(&self) -> &'static str {
        match self {
            WebError::Verify(e) => e.code(),
            WebError::Wallet(e) => match e {
                WalletError::Schema(_) | WalletError::WalletDamaged(_) => "wallet-damaged",
                WalletError::NotOurCertificate => "issued-to-another-wallet",
                WalletError::UnknownField { .. } => "unknown-field",
                WalletError::FieldNotInCertificate { .. } => "field-not-in-certificate",
                WalletError::NothingToPresent => "bad-choice",
                WalletError::NotAWalletFile => "not-a-wallet-file",
                WalletError::UnsupportedWalletVersion { .. } => "unsupported-wallet-version",
                WalletError::WrongPassphrase => "wrong-passphrase",
                WalletError::KdfParamsOutOfBounds(_) => "kdf-out-of-bounds",
                WalletError::PackageDoesNotFitKind { .. } => "package-damaged",
                WalletError::NoSuchCopy { .. } | WalletError::NoCopiesLeft { .. } => {
                    "no-copies-left"
                }
                WalletError::MixedFormats { .. } => "mixed-formats",
                WalletError::PlanOutdated => "no-presentation",
                WalletError::AudienceOnly { .. } => "audience-only",
                WalletError::Refill(_) => "refill-failed",
            },
            WebError::Receive(r) => match r.error {
                ReceiveError::NotAPackage(_) => "not-a-package",
                ReceiveError::UnreadableCertificate(_) => "package-damaged",
                ReceiveError::Damaged { .. } => "package-damaged",
                ReceiveError::DamagedCopy { .. } | ReceiveError::RepeatedCopy { .. } => {
                    "package-damaged"
                }
                ReceiveError::IssuedToAnotherWallet { .. }
                | ReceiveError::CopiesForAnotherWallet { .. } => "issued-to-another-wallet",
            },
            WebError::Certs(e) => match e {
                CertsError::Unreadable { .. } => "wallet-damaged",
                CertsError::NoSelector
                | CertsError::NoneOfKind { .. }
                | CertsError::NotAKindOrShortId { .. }
                | CertsError::NoSuchShortId { .. } => "no-such-certificate",
                CertsError::Ambiguous { .. } => "ambiguous-certificate",
                CertsError::ChosenTwice { .. } | CertsError::ChoiceCount { .. } => "bad-choice",
            },
            WebError::Anchor(_) => "bad-anchor",
            WebError::OfferLink(_) => "bad-link",
            WebError::ServerAddress(_) => "bad-address",
            WebError::Expired { .. } => "expired",
            WebError::RefillOtherCertificate { .. } => "refill-other-certificate",
            WebError::Qr(e) => match e {
                QrError::TooLargeForQr(_) => "qr-too-large",
                QrError::NotAnImage(_) | QrError::BadFrame { .. } => "bad-argument",
                QrError::NoCode => "qr-not-found",
                QrError::Unreadable(_) => "qr-unreadable",
                QrError::SeveralCodes(_) => "qr-several",
            },
            WebError::Request(e) => match e {
                RequestError::Malformed(_) => "not-a-request",
                RequestError::OtherLedger { .. } => "registration-other-ledger",
                RequestError::UnknownDepartment(_) | RequestError::UnknownDepartmentKey { .. } => {
                    "registration-unknown-department"
                }
                RequestError::BadRegistrationSignature { .. } => "registration-forged",
                RequestError::RegistrationNotValid { .. } => "registration-not-valid",
                RequestError::BadRequestSignature => "request-forged",
                RequestError::Stale { .. } => "request-stale",
                RequestError::NotAllowed { .. } => "request-not-allowed",
            },
            WebError::NotARegistration(_) => "not-a-registration",
            WebError::OtherCounterKey { .. } => "registration-other-key",
            WebError::NoRequest => "no-request",
            WebError::NothingToShow => "nothing-to-show",
            WebError::NotRecorded(_) => "not-recorded",
            WebError::OlderData { .. } => "older-data",
            WebError::OtherBatch { .. } => "other-batch",
            WebError::WeakPassphrase(_) => "weak-passphrase",
            WebError::NoPresentation => "no-presentation",
            WebError::Internal(_) => "internal",
            WebError::BadArgument(_) => "bad-argument",
        }
    }

    /// For [`WebError::Receive`]: the position (from 0) of the refused package.
    pub fn position(&self) -> Option<usize> {
        match self {
            WebError::Receive(r) => Some(r.position),
            _ => None,
        }
    }

    /// The message with the details of its causes, for people.
    pub fn message(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        // The wrapping variants print their inner error already: skip it.
        if matches!(
            self,
            WebError::Verify(_)
                | WebError::Wallet(_)
                | WebError::Receive(_)
                | WebError::Certs(_)
                | WebError::Anchor(_)
                | WebError::OfferLink(_)
                | WebError::ServerAddress(_)
                | WebError::Qr(_)
        ) {
            source = source.and_then(std::error::Error::source);
        }
        // A request's reasons print their causes already.
        if matches!(self, WebError::Request(_)) {
            source = None;
        }
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        let e = WebError::from(VerifyError::MixedHolders);
        assert_eq!(
            (e.code(), e.message().as_str()),
            (
                "mixed-holders",
                "the certificates belong to different holders"
            )
        );
        let e = WebError::from(Refused {
            position: 1,
            error: ReceiveError::NotAPackage(SchemaError::MissingPrefix),
        });
        assert_eq!(e.code(), "not-a-package");
        assert_eq!(e.position(), Some(1));
        assert!(
            e.message()
                .starts_with("package 2: this is not a certificate file from a department: "),
            "{}",
            e.message()
        );
        assert_eq!(
            WebError::from(WalletError::WrongPassphrase).code(),
            "wrong-passphrase"
        );
        assert_eq!(WebError::from(QrError::NoCode).code(), "qr-not-found");
        let e = WebError::from(CertsError::Unreadable {
            index: 0,
            source: SchemaError::MissingPrefix,
        });
        assert!(e
            .message()
            .starts_with("certificate 1 in the wallet is unreadable: "));
    }
}
