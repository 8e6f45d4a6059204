//! Issuing one certificate from claims validated against its kind.

use std::collections::BTreeMap;

use ecert_schemas::certificate::{Certificate, CertificateClaims};
use ecert_schemas::{
    field_digest, CertificateId, Claims, Disclosure, KindId, KindRegistry, PublicKeyBytes, Salt,
    StatusIndex, UnixTime,
};
use ecert_verifier::crypto;
use rand_core::CryptoRngCore;

use crate::{IssueError, IssuerKey};

/// What to issue: a kind, its claims, the holder's key, the validity period and the
/// certificate's place in the department's revocation status list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    /// The kind.
    pub kind: KindId,
    /// Field values by field key.
    pub claims: Claims,
    /// The holder's wallet key.
    pub holder: PublicKeyBytes,
    /// Start of validity.
    pub valid_from: UnixTime,
    /// End of validity.
    pub expires: UnixTime,
    /// Position in the department's status list (allocated by the issuing service).
    pub status_index: StatusIndex,
}

/// A signed certificate with the disclosures of all its fields, derived facts included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// The certificate id.
    pub id: CertificateId,
    /// The COSE_Sign1 bytes.
    pub certificate: Vec<u8>,
    /// One disclosure per field the certificate carries (its claims, then its derived
    /// facts), in the kind's field order, as exact bytes.
    pub disclosures: Vec<Vec<u8>>,
}

/// Issues a certificate: checks entitlement, claims and validity against the kind, computes
/// the kind's derived facts from the claims as of `issued_at`, salts and digests every
/// field and fact, and signs the CWT claims as a COSE_Sign1.
pub fn issue(
    key: &IssuerKey,
    kinds: &KindRegistry,
    request: &CertificateRequest,
    issued_at: UnixTime,
    rng: &mut impl CryptoRngCore,
) -> Result<IssuedCertificate, IssueError> {
    let (kind, values) = checked_values(
        key,
        kinds,
        &Terms {
            kind: &request.kind,
            claims: &request.claims,
            holder: &request.holder,
            valid_from: request.valid_from,
            expires: request.expires,
        },
        std::slice::from_ref(&request.status_index),
        issued_at,
    )?;

    let mut digests = BTreeMap::new();
    let mut disclosures = Vec::with_capacity(values.len());
    for field in &kind.fields {
        let Some(value) = values.get(&field.key) else {
            continue;
        };
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let disclosure = Disclosure {
            salt: Salt(salt),
            field: field.number,
            value: value.clone(),
        };
        let bytes = disclosure.to_bytes()?;
        digests.insert(field.number, field_digest(&bytes));
        disclosures.push(bytes);
    }

    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    let claims = CertificateClaims {
        issuer: key.issuer().clone(),
        expires: request.expires,
        valid_from: request.valid_from,
        issued_at,
        id: CertificateId(id),
        holder: request.holder,
        kind: request.kind.clone(),
        status_index: request.status_index,
        digests,
    };
    let mut cose = Certificate::unsigned(&claims, key.key_id())?;
    crypto::sign_cose_sign1(key.signing_key(), &mut cose, &[])?;
    Ok(IssuedCertificate {
        id: CertificateId(id),
        certificate: cose.to_bytes()?,
        disclosures,
    })
}

/// What every format shares about a certificate to issue.
pub(crate) struct Terms<'a> {
    pub kind: &'a KindId,
    pub claims: &'a Claims,
    pub holder: &'a PublicKeyBytes,
    pub valid_from: UnixTime,
    pub expires: UnixTime,
}

/// The checks before signing, for either format: entitlement, claims and validity against
/// the kind, status indexes in range, a usable holder key. The kind and the values to
/// issue (claims and derived facts as of `issued_at`).
pub(crate) fn checked_values<'k>(
    key: &IssuerKey,
    kinds: &'k KindRegistry,
    terms: &Terms<'_>,
    status_indexes: &[StatusIndex],
    issued_at: UnixTime,
) -> Result<(&'k ecert_schemas::Kind, Claims), IssueError> {
    let kind = kinds.get(terms.kind)?;
    if !kind.issuers.contains(key.issuer()) {
        return Err(IssueError::NotEntitled {
            issuer: key.issuer().clone(),
            kind: terms.kind.clone(),
        });
    }
    // The claims, validated, and the derived facts as of the issue date.
    let values = kind.with_derived(terms.claims, issued_at)?;
    kind.validate_validity(terms.valid_from.secs(), terms.expires.secs())?;
    if terms.expires <= issued_at {
        return Err(IssueError::ExpiredAtIssue);
    }
    if let Some(index) = status_indexes
        .iter()
        .find(|i| i.0 > ecert_schemas::ledger::MAX_STATUS_INDEX)
    {
        return Err(IssueError::StatusIndexOutOfRange(*index));
    }
    if crypto::parse_public_key(terms.holder).is_none() {
        return Err(IssueError::InvalidHolderKey);
    }
    Ok((kind, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_schemas::{Certificate, FieldValue, IssuerId, SchemaError};
    use rand_core::OsRng;

    fn request(kind: &str) -> CertificateRequest {
        let mut claims = Claims::new();
        claims.insert("name".into(), FieldValue::Text("王芳".into()));
        claims.insert(
            "id_number".into(),
            FieldValue::Text("110108199003070016".into()),
        );
        claims.insert("purpose".into(), FieldValue::Text("visa".into()));
        claims.insert("result".into(), FieldValue::Text("no-record".into()));
        claims.insert(
            "checked_through".into(),
            FieldValue::Text("2026-01-31".into()),
        );
        CertificateRequest {
            kind: KindId::new(kind).unwrap(),
            claims,
            holder: crypto::public_key(&ed25519_dalek::SigningKey::from_bytes(&[3; 32])),
            valid_from: UnixTime(1_000_000),
            expires: UnixTime(1_000_000 + 90 * 86_400),
            status_index: StatusIndex(12),
        }
    }

    fn key(issuer: &str) -> IssuerKey {
        IssuerKey::generate(IssuerId::new(issuer).unwrap(), &mut OsRng)
    }

    /// A little after the requests' validity starts.
    const AT: UnixTime = UnixTime(1_000_100);

    /// Issues `request` with `k` at `at`, with the built-in kinds.
    fn issue_at(
        k: &IssuerKey,
        request: &CertificateRequest,
        at: UnixTime,
    ) -> Result<IssuedCertificate, IssueError> {
        issue(
            k,
            &KindRegistry::builtin().unwrap(),
            request,
            at,
            &mut OsRng,
        )
    }

    #[test]
    fn issues_a_certificate_without_field_values_in_it() {
        let k = key("justice");
        let issued = issue_at(&k, &request("no-criminal-record"), AT).unwrap();
        let cert = Certificate::from_bytes(&issued.certificate).unwrap();
        assert_eq!(cert.key_id, k.key_id());
        assert_eq!(cert.claims.status_index, StatusIndex(12));
        // Five fields and the derived fact `no_record`.
        assert_eq!(cert.claims.digests.len(), 6);
        assert_eq!(issued.disclosures.len(), 6);
        for (bytes, (number, digest)) in issued.disclosures.iter().zip(&cert.claims.digests) {
            assert_eq!(Disclosure::from_bytes(bytes).unwrap().field, *number);
            assert_eq!(field_digest(bytes), *digest);
        }
        let haystack = String::from_utf8_lossy(&issued.certificate);
        assert!(
            !haystack.contains("visa") && !haystack.contains("110108"),
            "a field value leaked into the certificate"
        );
        let vk = crypto::parse_public_key(&k.public_key()).unwrap();
        assert!(crypto::verify_cose_sign1(&vk, &cert.cose, &[]));
    }

    /// The value of field `number` among `issued`'s disclosures.
    fn disclosed(issued: &IssuedCertificate, number: u16) -> Option<FieldValue> {
        issued
            .disclosures
            .iter()
            .map(|bytes| Disclosure::from_bytes(bytes).unwrap())
            .find(|d| d.field == number)
            .map(|d| d.value)
    }

    #[test]
    fn derived_facts_are_issued_as_of_the_issue_date_true_or_false() {
        let k = key("justice");
        let issued = issue_at(&k, &request("no-criminal-record"), AT).unwrap();
        assert_eq!(disclosed(&issued, 5), Some(FieldValue::Bool(true)));
        let mut found = request("no-criminal-record");
        found
            .claims
            .insert("result".into(), FieldValue::Text("record-found".into()));
        let issued = issue_at(&k, &found, AT).unwrap();
        assert_eq!(disclosed(&issued, 5), Some(FieldValue::Bool(false)));

        // An ID card of someone born on 12 January 1970 (day 11 since the epoch), issued
        // on the days around their 18th birthday, 12 January 1988 (day 6585).
        let k = key("public-security");
        let mut card = request("id-card");
        card.claims = [
            ("name", "王芳"),
            ("sex", "female"),
            ("ethnicity", "汉"),
            ("birth_date", "1970-01-12"),
            ("address", "北京市海淀区"),
            ("id_number", "110108199003070016"),
            ("issuing_authority", "北京市公安局海淀分局"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), FieldValue::Text(v.to_owned())))
        .collect();
        card.valid_from = UnixTime(0);
        card.expires = UnixTime(36_500 * 86_400);
        let birthday = 6585 * 86_400;
        for (at, adult) in [
            (birthday - 1, false),
            (birthday, true),
            (birthday + 86_399, true),
        ] {
            let issued = issue_at(&k, &card, UnixTime(at)).unwrap();
            assert_eq!(disclosed(&issued, 8), Some(FieldValue::Bool(adult)), "{at}");
            assert_eq!(disclosed(&issued, 9), Some(FieldValue::Bool(false)), "{at}");
            let cert = Certificate::from_bytes(&issued.certificate).unwrap();
            assert_eq!(cert.claims.digests.len(), 9);
        }
    }

    #[test]
    fn a_derived_fact_in_the_claims_is_refused() {
        let mut given = request("no-criminal-record");
        given
            .claims
            .insert("no_record".into(), FieldValue::Bool(true));
        assert!(matches!(
            issue_at(&key("justice"), &given, AT),
            Err(IssueError::Schema(SchemaError::DerivedField { field, .. })) if field == "no_record"
        ));
    }

    #[test]
    fn salts_and_ids_are_fresh_each_time() {
        let k = key("justice");
        let a = issue_at(&k, &request("no-criminal-record"), AT).unwrap();
        let b = issue_at(&k, &request("no-criminal-record"), AT).unwrap();
        assert_ne!(a.id, b.id);
        assert_ne!(a.disclosures[0], b.disclosures[0]);
    }

    #[test]
    fn refuses_what_the_department_may_not_issue() {
        let err = issue_at(&key("transport"), &request("no-criminal-record"), AT);
        assert!(matches!(err, Err(IssueError::NotEntitled { .. })));
    }

    #[test]
    fn refuses_bad_claims_validity_and_holder_keys() {
        let k = key("justice");
        let mut missing = request("no-criminal-record");
        missing.claims.remove("result");
        assert!(matches!(
            issue_at(&k, &missing, AT),
            Err(IssueError::Schema(SchemaError::MissingField { field, .. })) if field == "result"
        ));
        let mut too_long = request("no-criminal-record");
        too_long.expires = UnixTime(1_000_000 + 400 * 86_400);
        assert!(matches!(
            issue_at(&k, &too_long, AT),
            Err(IssueError::Schema(SchemaError::InvalidValidity { .. }))
        ));
        let late = issue_at(
            &k,
            &request("no-criminal-record"),
            UnixTime(1_000_000 + 91 * 86_400),
        );
        assert!(matches!(late, Err(IssueError::ExpiredAtIssue)));
        let mut full = request("no-criminal-record");
        full.status_index = StatusIndex(ecert_schemas::ledger::MAX_STATUS_INDEX + 1);
        assert!(matches!(
            issue_at(&k, &full, AT),
            Err(IssueError::StatusIndexOutOfRange(_))
        ));
        let mut weak = request("no-criminal-record");
        let mut identity = [0u8; 32];
        identity[0] = 1;
        weak.holder = PublicKeyBytes(identity);
        assert!(matches!(
            issue_at(&k, &weak, AT),
            Err(IssueError::InvalidHolderKey)
        ));
    }
}
