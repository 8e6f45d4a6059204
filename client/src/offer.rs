//! Redeeming a one-time offer at a department's offer endpoint (`ecert-issuer serve`,
//! `docs/api.md`): `POST /v1/offers/{code}/redeem` with the wallet's signed
//! [`OfferRedemption`], answered with the certificate package.
//!
//! The package comes back as the bytes the server sent: the wallet checks them like a
//! file, and keeps them if they cannot be added (the offer is used up by then).
//!
//! The same endpoint takes a wallet's request for new copies of a certificate it holds
//! ([`refill`]): `POST /v1/refills` with a signed `RefillRequest`, answered with the new
//! package, or "queued" until the department's next refill run.

use ecert_schemas::api;
use ecert_schemas::codec::MAX_ITEM_BYTES;
use ecert_schemas::copy::MAX_PACKAGE_BYTES;
use ecert_schemas::refill::RefillRequest;
use ecert_schemas::OfferRedemption;
use thiserror::Error;

use crate::http::{ErrorBody, Http, HttpError};
use crate::url::{is_valid_offer_code, ServerUrl};

/// Why an offer was not redeemed. The statuses the endpoint documents each have their
/// own variant; anything else is [`OfferError::Http`].
#[derive(Debug, Error)]
pub enum OfferError {
    /// The code is not one this client sends
    /// ([`ecert_schemas::address::is_valid_offer_code`]).
    #[error("{0:?} is not an offer code")]
    InvalidCode(String),
    /// The request could not be encoded.
    #[error("the request could not be encoded: {0}")]
    Request(ecert_schemas::SchemaError),
    /// HTTP 404 `unknown-offer`: the department does not know this code.
    #[error("the department does not know this offer code")]
    Unknown {
        /// The server's error body.
        error: ErrorBody,
    },
    /// HTTP 410 `offer-used`: the offer was already collected.
    #[error("the offer was already collected")]
    Used {
        /// The server's error body.
        error: ErrorBody,
    },
    /// HTTP 403 `wrong-holder`: the certificate was issued to another holder key.
    #[error("the certificate of this offer was issued to another wallet")]
    OtherWallet {
        /// The server's error body.
        error: ErrorBody,
    },
    /// HTTP 400 `bad-signature`: the department refused the signed request.
    #[error("the department refused the signed request")]
    BadSignature {
        /// The server's error body.
        error: ErrorBody,
    },
    /// Unreachable, an unusable answer, or another status (`500 internal`, ...).
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl OfferError {
    /// The server's error body, for the documented refusals.
    pub fn error_body(&self) -> Option<&ErrorBody> {
        match self {
            OfferError::Unknown { error }
            | OfferError::Used { error }
            | OfferError::OtherWallet { error }
            | OfferError::BadSignature { error } => Some(error),
            OfferError::Http(HttpError::Status { error, .. }) => Some(error),
            _ => None,
        }
    }
}

/// Redeems offer `code` at the department's `server` with the signed `request`; returns
/// the package's bytes as sent (at most [`MAX_ITEM_BYTES`]), not checked yet.
pub fn redeem(
    http: &Http,
    server: &ServerUrl,
    code: &str,
    request: &OfferRedemption,
) -> Result<Vec<u8>, OfferError> {
    if !is_valid_offer_code(code) {
        return Err(OfferError::InvalidCode(code.to_owned()));
    }
    let body = request.to_bytes().map_err(OfferError::Request)?;
    let url = server.join(&api::offer_redeem(code));
    let reply = http.post_cbor_limited(&url, &body, MAX_ITEM_BYTES as u64)?;
    let error = || reply.error_body();
    match reply.status {
        200 => Ok(reply.body),
        404 => Err(OfferError::Unknown { error: error() }),
        410 => Err(OfferError::Used { error: error() }),
        403 => Err(OfferError::OtherWallet { error: error() }),
        400 => Err(OfferError::BadSignature { error: error() }),
        _ => Err(HttpError::unexpected(&url, &reply).into()),
    }
}

/// What the department answered a refill request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefillReply {
    /// HTTP 200: a package of new copies (its bytes as sent, not checked yet).
    Package(Vec<u8>),
    /// HTTP 202: the request is queued; new copies come with a later request.
    Queued,
}

/// Why a refill request was not answered.
#[derive(Debug, Error)]
pub enum RefillError {
    /// The request could not be encoded.
    #[error("the request could not be encoded: {0}")]
    Request(ecert_schemas::SchemaError),
    /// The department refused it (400, 403, 404 or 410), with its reason.
    #[error("the department refused: {}", .error.text().unwrap_or("no reason given"))]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's error body.
        error: ErrorBody,
    },
    /// Unreachable, an unusable answer, or another status.
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// Sends the signed refill `request` to the department's `server`.
pub fn refill(
    http: &Http,
    server: &ServerUrl,
    request: &RefillRequest,
) -> Result<RefillReply, RefillError> {
    let body = request.to_bytes().map_err(RefillError::Request)?;
    let url = server.join(api::REFILL_ROUTE);
    let reply = http.post_cbor_limited(&url, &body, MAX_PACKAGE_BYTES as u64)?;
    match reply.status {
        200 => Ok(RefillReply::Package(reply.body)),
        202 => Ok(RefillReply::Queued),
        400 | 403 | 404 | 410 => Err(RefillError::Refused {
            status: reply.status,
            error: reply.error_body(),
        }),
        _ => Err(HttpError::unexpected(&url, &reply).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::{dead_address, fake_server};
    use crate::http::Unreachable;
    use ecert_schemas::{PublicKeyBytes, SignatureBytes};
    use std::time::Duration;

    fn request() -> OfferRedemption {
        OfferRedemption {
            holder_key: PublicKeyBytes([3; 32]),
            signature: SignatureBytes([4; 64]),
        }
    }

    #[test]
    fn a_refill_is_answered_with_copies_queued_or_a_reason() {
        let json = |code: &str| format!(r#"{{"error":"{code}","message":"why"}}"#).into_bytes();
        let (base, server) = fake_server(vec![
            (200, "application/cbor", b"copies".to_vec()),
            (202, "application/json", br#"{"state":"queued"}"#.to_vec()),
            (410, "application/json", json("revoked")),
            (500, "application/json", json("internal")),
        ]);
        let http = Http::new(Duration::from_secs(10));
        let server_url = ServerUrl::parse(&base).unwrap();
        // Any request will do: the fake server does not read it.
        use ecert_schemas::codec::ByteBuf;
        use ecert_schemas::refill::{RefillBody, REFILL_VERSION};
        use ecert_schemas::UnixTime;
        let request = RefillRequest {
            version: REFILL_VERSION,
            body: RefillBody {
                package: ByteBuf::from(vec![0x80]),
                wallet: PublicKeyBytes([4; 32]),
                time: UnixTime(15),
            },
            signature: SignatureBytes([6; 64]),
        };
        let go = || refill(&http, &server_url, &request);
        assert_eq!(go().unwrap(), RefillReply::Package(b"copies".to_vec()));
        assert_eq!(go().unwrap(), RefillReply::Queued);
        let e = go().unwrap_err();
        assert!(
            matches!(&e, RefillError::Refused { status: 410, error } if error.code.as_deref() == Some("revoked")),
            "{e}"
        );
        assert!(matches!(
            go(),
            Err(RefillError::Http(HttpError::Status { status: 500, .. }))
        ));
        drop(server);
    }

    #[test]
    fn every_documented_answer_has_its_outcome() {
        let json =
            |code: &str| format!(r#"{{"error":"{code}","message":"details here"}}"#).into_bytes();
        let (base, server) = fake_server(vec![
            (200, "application/cbor", b"package".to_vec()),
            (404, "application/json", json("unknown-offer")),
            (410, "application/json", json("offer-used")),
            (403, "application/json", json("wrong-holder")),
            (400, "application/json", json("bad-signature")),
            (500, "application/json", json("internal")),
        ]);
        let http = Http::new(Duration::from_secs(10));
        let server_url = ServerUrl::parse(&base).unwrap();
        let go = || redeem(&http, &server_url, "K7Q2-99XF", &request());
        assert_eq!(go().unwrap(), b"package");
        assert!(matches!(go(), Err(OfferError::Unknown { .. })));
        assert!(matches!(go(), Err(OfferError::Used { .. })));
        assert!(matches!(go(), Err(OfferError::OtherWallet { .. })));
        let e = go().unwrap_err();
        assert!(matches!(e, OfferError::BadSignature { .. }));
        assert_eq!(
            e.error_body().and_then(ErrorBody::text),
            Some("details here")
        );
        let e = go().unwrap_err();
        assert!(
            matches!(e, OfferError::Http(HttpError::Status { status: 500, .. })),
            "{e}"
        );
        assert_eq!(
            e.error_body().and_then(|b| b.code.as_deref()),
            Some("internal")
        );
        let seen = server.join().unwrap();
        assert_eq!(seen[0].0, "POST /v1/offers/K7Q2-99XF/redeem HTTP/1.1");
        assert_eq!(seen[0].1, request().to_bytes().unwrap());
    }

    #[test]
    fn bad_codes_are_not_sent_and_dead_servers_are_unreachable() {
        let http = Http::new(Duration::from_secs(2));
        let server = ServerUrl::parse(&dead_address()).unwrap();
        for code in [
            "",
            "a b",
            "a/b",
            "a%20b",
            &"x".repeat(crate::url::MAX_OFFER_CODE_CHARS + 1),
        ] {
            assert!(matches!(
                redeem(&http, &server, code, &request()),
                Err(OfferError::InvalidCode(_))
            ));
        }
        assert!(matches!(
            redeem(&http, &server, "abc", &request()),
            Err(OfferError::Http(HttpError::Unreachable {
                cause: Unreachable::Connect(_),
                ..
            }))
        ));
    }
}
