//! Refill requests (format 2, `docs/protocol.md` §9b): what the wallet signs when it asks
//! the department for new copies of a certificate, and the department's check of it.
//!
//! The department needs no record of its own to check a request: its signature on the
//! copy the wallet sends proves the field values, the validity and the copy's holder key,
//! and that key is the wallet key named in the request tweaked by the copy's secret, which
//! in turn signed the request. What the department still checks against its own register
//! is whether it revoked the certificate.

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::copy::{AnyPackage, CopyEnvelope, CopyPackage, CopySignedData, PackageField};
use ecert_schemas::refill::{RefillBody, RefillRequest, REFILL_VERSION};
use ecert_schemas::{
    Certificate, CertificateId, CertificatePackage, Disclosure, IssuerId, KeyId, KindId,
    PublicKeyBytes, SchemaError, UnixTime,
};
use ed25519_dalek::{SigningKey, VerifyingKey};
use thiserror::Error;

use crate::copy_key::{copy_public_key, field_leaves};
use crate::crypto::{self, SigningContext};
use crate::merkle16::field_root;
use crate::presentation::disclosure_matches;

/// How far from the department's clock a request's time may be, in seconds: a request
/// is answered only while fresh.
pub const REFILL_WINDOW_SECS: u64 = 10 * 60;

/// Why a refill request is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RefillError {
    /// It cannot be encoded or decoded.
    #[error("the request is unreadable: {0}")]
    Schema(#[from] SchemaError),
    /// The wallet key is not a usable key, or did not sign the request.
    #[error("the request is not signed by the wallet it names")]
    BadSignature,
    /// The request's time is too far from the department's clock.
    #[error(
        "the request was made at {time} (seconds since 1970), more than {REFILL_WINDOW_SECS} \
         seconds from the department's clock ({now}); check the device's clock and ask again"
    )]
    Stale {
        /// When the wallet says it asked.
        time: u64,
        /// The department's clock.
        now: u64,
    },
    /// Another department issued the certificate.
    #[error("this certificate was issued by {found}, not by this department ({expected})")]
    OtherIssuer {
        /// The department asked.
        expected: IssuerId,
        /// The certificate's department.
        found: IssuerId,
    },
    /// The certificate's signature is not this department's, or it was not issued to the
    /// wallet key, or its values are not those signed.
    #[error(
        "the certificate sent is not one this department signed for this wallet (key {})",
        .0.to_hex()
    )]
    NotIssuedHere(KeyId),
    /// The request does not carry exactly one copy (or the copy to send does not exist).
    #[error("a refill request carries exactly one copy of the certificate")]
    NotOneCopy,
    /// The certificate has expired: there is nothing to refill.
    #[error("the certificate expired at {0} (seconds since 1970): ask for a new certificate")]
    Expired(u64),
}

/// A request that passed [`check_refill`]: what to issue again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRefill {
    /// The certificate's id in the department's register.
    pub id: CertificateId,
    /// Its kind.
    pub kind: KindId,
    /// The holder's wallet key.
    pub wallet: PublicKeyBytes,
    /// When the copy sent was issued.
    pub issued_at: UnixTime,
    /// Start of validity.
    pub valid_from: UnixTime,
    /// End of validity.
    pub expires: UnixTime,
    /// Every field of the kind with its value as issued (derived facts included).
    pub fields: Vec<PackageField>,
}

/// The exact bytes the issuer signed for `envelope`, a copy of `package` held by the
/// wallet whose key is `wallet` ([`CopySignedData`], with the holder key derived from the
/// wallet key and the copy's secret). `None` when they cannot be built (no fields, a key
/// that is not a curve point).
pub fn copy_signed_data(
    package: &CopyPackage,
    envelope: &CopyEnvelope,
    wallet: &PublicKeyBytes,
) -> Option<Vec<u8>> {
    let holder = copy_public_key(wallet, &envelope.secret)?;
    let leaves = field_leaves(&package.fields, &envelope.secret).ok()?;
    CopySignedData {
        issuer: package.issuer.clone(),
        key_id: package.key_id,
        kind: package.kind.clone(),
        issued_at: package.issued_at,
        valid_from: package.valid_from,
        expires: package.expires,
        status_index: envelope.status_index,
        holder,
        field_root: field_root(&leaves)?,
    }
    .to_bytes()
    .ok()
}

fn signed_body(
    wallet: &SigningKey,
    package: Vec<u8>,
    time: UnixTime,
) -> Result<RefillRequest, RefillError> {
    let body = RefillBody {
        package: ByteBuf::from(package),
        wallet: crypto::public_key(wallet),
        time,
    };
    let signature = crypto::sign(wallet, SigningContext::Refill, &body.to_bytes()?);
    Ok(RefillRequest {
        version: REFILL_VERSION,
        body,
        signature,
    })
}

/// The wallet's request for new copies of the certificate of `package`, made at `time`:
/// the package cut down to its copy `copy`, and the wallet key's signature.
pub fn sign_refill(
    wallet: &SigningKey,
    package: &CopyPackage,
    copy: usize,
    time: UnixTime,
) -> Result<RefillRequest, RefillError> {
    let envelope = package.copies.get(copy).ok_or(RefillError::NotOneCopy)?;
    let one = CopyPackage {
        copies: vec![envelope.clone()],
        ..package.clone()
    };
    signed_body(wallet, one.to_bytes()?, time)
}

/// The wallet's request, made at `time`, for copies of a certificate issued whole
/// (format 1): the whole package, and the wallet key's signature. The department answers
/// with the certificate as one-time copies (format 2).
pub fn sign_refill_whole(
    wallet: &SigningKey,
    package: &CertificatePackage,
    time: UnixTime,
) -> Result<RefillRequest, RefillError> {
    signed_body(wallet, package.to_bytes()?, time)
}

/// What a request asks for, as it states it, without any check: the certificate's id,
/// kind, holder, times and field values. [`check_refill`] checks them.
pub fn refill_terms(request: &RefillRequest) -> Result<CheckedRefill, RefillError> {
    let wallet = request.body.wallet;
    Ok(match request.body.package()? {
        AnyPackage::V2(package) => CheckedRefill {
            id: package.id,
            kind: package.kind,
            wallet,
            issued_at: package.issued_at,
            valid_from: package.valid_from,
            expires: package.expires,
            fields: package.fields,
        },
        AnyPackage::V1(package) => {
            let certificate = Certificate::from_bytes(&package.certificate)?;
            let claims = certificate.claims;
            let mut values = std::collections::BTreeMap::new();
            for bytes in &package.disclosures {
                let disclosure = Disclosure::from_bytes(bytes)?;
                values.insert(disclosure.field, disclosure.value);
            }
            CheckedRefill {
                id: claims.id,
                kind: claims.kind,
                wallet,
                issued_at: claims.issued_at,
                valid_from: claims.valid_from,
                expires: claims.expires,
                fields: claims
                    .digests
                    .keys()
                    .map(|field| PackageField {
                        field: *field,
                        value: values.get(field).cloned(),
                    })
                    .collect(),
            }
        }
    })
}

/// The department `issuer`'s check of a refill request at `now`: fresh, signed by the
/// wallet it names, and carrying a certificate that `issuer` signed (with the key `key_of`
/// gives for its key id) for that wallet — one copy of it, or the whole certificate of
/// format 1 with its disclosures — not expired. Whether the certificate was revoked is
/// the caller's to check, in its register.
pub fn check_refill(
    request: &RefillRequest,
    issuer: &IssuerId,
    key_of: impl Fn(KeyId) -> Option<VerifyingKey>,
    now: UnixTime,
) -> Result<CheckedRefill, RefillError> {
    let body = &request.body;
    let wallet = crypto::parse_public_key(&body.wallet).ok_or(RefillError::BadSignature)?;
    if !crypto::verify(
        &wallet,
        SigningContext::Refill,
        &body.to_bytes()?,
        &request.signature,
    ) {
        return Err(RefillError::BadSignature);
    }
    if body.time.secs().abs_diff(now.secs()) > REFILL_WINDOW_SECS {
        return Err(RefillError::Stale {
            time: body.time.secs(),
            now: now.secs(),
        });
    }
    let (package_issuer, key_id) = match body.package()? {
        AnyPackage::V2(package) => {
            let [envelope] = package.copies.as_slice() else {
                return Err(RefillError::NotOneCopy);
            };
            let signed = copy_signed_data(&package, envelope, &body.wallet);
            let key = key_of(package.key_id);
            let good = match (signed, key) {
                (Some(signed), Some(key)) => crypto::verify(
                    &key,
                    SigningContext::CopyIssue,
                    &signed,
                    &envelope.signature,
                ),
                _ => false,
            };
            (
                package.issuer,
                good.then_some(package.key_id).ok_or(package.key_id),
            )
        }
        AnyPackage::V1(package) => {
            let certificate = Certificate::from_bytes(&package.certificate)?;
            let claims = &certificate.claims;
            let good = key_of(certificate.key_id).is_some_and(|key| {
                crypto::verify_cose_sign1(&key, &certificate.cose, &[])
                    && claims.holder == body.wallet
                    && package.disclosures.iter().all(|bytes| {
                        Disclosure::from_bytes(bytes)
                            .is_ok_and(|d| disclosure_matches(claims, d.field, bytes))
                    })
            });
            (
                claims.issuer.clone(),
                good.then_some(certificate.key_id).ok_or(certificate.key_id),
            )
        }
    };
    if &package_issuer != issuer {
        return Err(RefillError::OtherIssuer {
            expected: issuer.clone(),
            found: package_issuer,
        });
    }
    key_id.map_err(RefillError::NotIssuedHere)?;
    let terms = refill_terms(request)?;
    if now >= terms.expires {
        return Err(RefillError::Expired(terms.expires.secs()));
    }
    Ok(terms)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ecert_schemas::copy::PACKAGE_V2;
    use ecert_schemas::kinds::FieldValue;
    use ecert_schemas::{CopySecret, SignatureBytes, StatusIndex};

    const NOW: UnixTime = UnixTime(1_800_000_000);

    fn department() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    /// A package of two copies that `department()` signed for `wallet`.
    fn package(wallet: &SigningKey) -> CopyPackage {
        let dept = department();
        let mut package = CopyPackage {
            version: PACKAGE_V2,
            id: CertificateId([5; 16]),
            issuer: IssuerId::new("justice").unwrap(),
            key_id: KeyId::of(&crypto::public_key(&dept)),
            kind: KindId::new("no-criminal-record").unwrap(),
            issued_at: UnixTime(NOW.0 - 1000),
            valid_from: UnixTime(NOW.0 - 1000),
            expires: UnixTime(NOW.0 + 86_400),
            fields: vec![
                PackageField {
                    field: 0,
                    value: Some(FieldValue::Text("王芳".into())),
                },
                PackageField {
                    field: 1,
                    value: None,
                },
            ],
            copies: Vec::new(),
        };
        for n in 0..2u8 {
            let mut envelope = CopyEnvelope {
                secret: CopySecret([n + 1; 32]),
                batch_seq: 0,
                leaf_index: u64::from(n),
                path: vec![],
                kind_index: 0,
                status_index: StatusIndex(u32::from(n) + 40),
                signature: SignatureBytes([0; 64]),
            };
            let signed =
                copy_signed_data(&package, &envelope, &crypto::public_key(wallet)).unwrap();
            envelope.signature = crypto::sign(&dept, SigningContext::CopyIssue, &signed);
            package.copies.push(envelope);
        }
        package
    }

    fn keys(id: KeyId) -> Option<VerifyingKey> {
        let dept = department();
        (KeyId::of(&crypto::public_key(&dept)) == id).then(|| dept.verifying_key())
    }

    #[test]
    fn a_wallet_asks_for_copies_of_its_own_certificate() {
        let wallet = SigningKey::from_bytes(&[3; 32]);
        let package = package(&wallet);
        let request = sign_refill(&wallet, &package, 1, NOW).unwrap();
        match request.body.package().unwrap() {
            AnyPackage::V2(sent) => assert_eq!(sent.copies, [package.copies[1].clone()]),
            AnyPackage::V1(_) => panic!("format 2 expected"),
        }
        let checked = check_refill(&request, &package.issuer, keys, NOW).unwrap();
        assert_eq!(checked.id, package.id);
        assert_eq!(checked.wallet, crypto::public_key(&wallet));
        assert_eq!(checked.fields, package.fields);
        assert_eq!(checked.expires, package.expires);
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        let wallet = SigningKey::from_bytes(&[3; 32]);
        let package = package(&wallet);
        let justice = package.issuer.clone();
        let check = |r: &RefillRequest, now| check_refill(r, &justice, keys, now);
        let good = sign_refill(&wallet, &package, 0, NOW).unwrap();

        // Another wallet sends this wallet's copy, signed with its own key.
        let thief = SigningKey::from_bytes(&[4; 32]);
        let stolen = sign_refill(&thief, &package, 0, NOW).unwrap();
        assert_eq!(
            check(&stolen, NOW),
            Err(RefillError::NotIssuedHere(package.key_id))
        );
        // Altered after signing, values changed, or signed by no one.
        let mut altered = good.clone();
        altered.body.time = UnixTime(NOW.0 + 1);
        assert_eq!(check(&altered, NOW), Err(RefillError::BadSignature));
        let mut forged = package.clone();
        forged.fields[0].value = Some(FieldValue::Text("李雷".into()));
        let forged = sign_refill(&wallet, &forged, 0, NOW).unwrap();
        assert!(matches!(
            check(&forged, NOW),
            Err(RefillError::NotIssuedHere(_))
        ));
        // Too old, too far ahead, expired, another department's, an unknown key.
        assert!(matches!(
            check(&good, UnixTime(NOW.0 + REFILL_WINDOW_SECS + 1)),
            Err(RefillError::Stale { .. })
        ));
        assert!(check(&good, UnixTime(NOW.0 - REFILL_WINDOW_SECS)).is_ok());
        let late = sign_refill(&wallet, &package, 0, package.expires).unwrap();
        assert_eq!(
            check(&late, package.expires),
            Err(RefillError::Expired(package.expires.secs()))
        );
        assert!(matches!(
            check_refill(&good, &IssuerId::new("transport").unwrap(), keys, NOW),
            Err(RefillError::OtherIssuer { .. })
        ));
        assert!(matches!(
            check_refill(&good, &justice, |_| None, NOW),
            Err(RefillError::NotIssuedHere(_))
        ));
        assert!(sign_refill(&wallet, &package, 2, NOW).is_err());
    }
}
