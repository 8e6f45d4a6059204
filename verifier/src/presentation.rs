//! The whole offline check of a presentation, as one pure function.

use std::collections::BTreeSet;

use ecert_schemas::certificate::{Certificate, CertificateClaims};
use ecert_schemas::presentation::{HolderSignedData, Presentation};
use ecert_schemas::{
    field_digest, CertificateId, Disclosure, FieldValue, IssuerId, KindId, Nonce,
    PresentedCertificate, PublicKeyBytes, UnixTime,
};

use crate::crypto::{self, SigningContext};
use crate::merkle::{leaf_hash, verify_inclusion};
use crate::trust::TrustStore;
use crate::VerifyError;

/// What a counter accepts. Times in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Oldest revocation data accepted: now minus the synced header's time.
    pub max_revocation_age_secs: u64,
    /// Oldest holder proof accepted (a screenshot stops working after this).
    pub holder_proof_max_age_secs: u64,
    /// How far a wallet's clock may run ahead of the counter's.
    pub max_clock_skew_secs: u64,
    /// The challenge this counter showed, in nonce mode.
    pub expected_nonce: Option<Nonce>,
}

impl Default for Policy {
    /// 24 hours of revocation data, 60-second holder proofs, 30 seconds of clock skew, no nonce.
    fn default() -> Self {
        Policy {
            max_revocation_age_secs: 24 * 3600,
            holder_proof_max_age_secs: 60,
            max_clock_skew_secs: 30,
            expected_nonce: None,
        }
    }
}

/// A disclosed field, ready to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisclosedField {
    /// The field's key, e.g. `id_number`.
    pub key: String,
    /// Its label in English.
    pub label: String,
    /// Its label in the local language.
    pub label_local: Option<String>,
    /// The value.
    pub value: FieldValue,
}

/// One verified certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCertificate {
    /// The ledger (the province's) it is anchored on.
    pub ledger: ecert_schemas::ChainId,
    /// The kind.
    pub kind: KindId,
    /// The kind's name.
    pub kind_name: String,
    /// The issuer.
    pub issuer: IssuerId,
    /// The issuer's name.
    pub issuer_name: String,
    /// The certificate id.
    pub id: CertificateId,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// Start of validity.
    pub valid_from: UnixTime,
    /// End of validity.
    pub expires: UnixTime,
    /// The fields the holder chose to show, in the kind's order.
    pub disclosed: Vec<DisclosedField>,
}

/// A valid presentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The holder's key.
    pub holder: PublicKeyBytes,
    /// When the holder signed.
    pub signed_at: UnixTime,
    /// Whether it answered this counter's nonce.
    pub nonce_checked: bool,
    /// The certificates, in presentation order.
    pub certificates: Vec<VerifiedCertificate>,
    /// Height of the certified header the check used.
    pub synced_height: u64,
    /// Time of that header (how fresh the revocation data is).
    pub synced_at: UnixTime,
    /// Age of the revocation data at verification time, in seconds.
    pub revocation_age_secs: u64,
}

/// Verifies a QR string offline against `store` at time `now` under `policy`.
///
/// The steps, in order (see `docs/protocol.md`): decode; revocation-data freshness; holder
/// proof present; certificates readable and of one holder; holder signature; holder-proof
/// time window; nonce; then for each certificate: kind, issuer, entitlement, key,
/// issuer signature, key validity, validity period, anchor, revocation, disclosures.
pub fn verify_presentation(
    qr: &str,
    store: &TrustStore,
    now: UnixTime,
    policy: &Policy,
) -> Result<Verdict, VerifyError> {
    let presentation = Presentation::from_qr_string(qr)?;
    verify_decoded(&presentation, store, now, policy)
}

/// [`verify_presentation`] on an already-decoded presentation.
pub fn verify_decoded(
    presentation: &Presentation,
    store: &TrustStore,
    now: UnixTime,
    policy: &Policy,
) -> Result<Verdict, VerifyError> {
    data_age(store, now, policy)?;
    verify_with(presentation, now, policy, |_, _| {
        Ok(Ledger { store, kinds: None })
    })
}

/// The ledger a certificate is checked against: a synced store and, for a province of a
/// federation, the kinds the national trust list lets its issuers issue.
pub(crate) struct Ledger<'a> {
    /// The province's (or the only) ledger data.
    pub store: &'a TrustStore,
    /// The kinds it may issue, when a national trust list says.
    pub kinds: Option<(&'a ecert_schemas::ChainId, &'a [ecert_schemas::KindId])>,
}

/// How old `store`'s revocation data is at `now`: refused when older than `policy` allows.
pub(crate) fn data_age(
    store: &TrustStore,
    now: UnixTime,
    policy: &Policy,
) -> Result<u64, VerifyError> {
    let age_secs = now.secs().saturating_sub(store.as_of().secs());
    if age_secs > policy.max_revocation_age_secs {
        return Err(VerifyError::RevocationDataTooOld {
            age_secs,
            max_secs: policy.max_revocation_age_secs,
        });
    }
    Ok(age_secs)
}

/// The checks of [`verify_decoded`] with each certificate checked against the ledger
/// `ledger_of` picks for it (whose data must be fresh enough).
pub(crate) fn verify_with<'a>(
    presentation: &Presentation,
    now: UnixTime,
    policy: &Policy,
    ledger_of: impl Fn(&PresentedCertificate, &Certificate) -> Result<Ledger<'a>, VerifyError>,
) -> Result<Verdict, VerifyError> {
    let proof = presentation
        .holder
        .as_ref()
        .ok_or(VerifyError::HolderProofMissing)?;
    let items = presentation.decode_items()?;
    let certificates = items
        .iter()
        .map(|item| Certificate::from_bytes(&item.certificate))
        .collect::<Result<Vec<_>, _>>()?;
    let holder = certificates
        .first()
        .map(|c| c.claims.holder)
        .ok_or(VerifyError::HolderProofMissing)?;
    if certificates.iter().any(|c| c.claims.holder != holder) {
        return Err(VerifyError::MixedHolders);
    }

    let holder_key = crypto::parse_public_key(&holder).ok_or(VerifyError::HolderProofBad)?;
    let signed = HolderSignedData {
        time: proof.time,
        nonce: proof.nonce.clone(),
        items_hash: presentation.items_hash(),
    };
    if !crypto::verify(
        &holder_key,
        SigningContext::HolderProof,
        &signed.to_bytes()?,
        &proof.signature,
    ) {
        return Err(VerifyError::HolderProofBad);
    }
    let too_old = now.secs().saturating_sub(proof.time.secs()) > policy.holder_proof_max_age_secs;
    let from_future = proof.time.secs() > now.secs().saturating_add(policy.max_clock_skew_secs);
    if too_old || from_future {
        return Err(VerifyError::HolderProofOutsideWindow {
            signed_at: proof.time,
            now,
        });
    }
    if let Some(expected) = &policy.expected_nonce {
        if proof.nonce.as_ref() != Some(expected) {
            return Err(VerifyError::NonceMismatch);
        }
    }

    // The oldest data any certificate was checked against is what the verdict reports.
    let mut oldest: Option<(&TrustStore, u64)> = None;
    let mut verified = Vec::with_capacity(items.len());
    for (item, cert) in items.iter().zip(&certificates) {
        let ledger = ledger_of(item, cert)?;
        let age = data_age(ledger.store, now, policy)?;
        if let Some((province, kinds)) = ledger.kinds {
            if !kinds.contains(&cert.claims.kind) {
                return Err(VerifyError::ProvinceNotEntitled {
                    province: province.clone(),
                    kind: cert.claims.kind.clone(),
                });
            }
        }
        verified.push(verify_certificate(item, cert, ledger.store, now, policy)?);
        if oldest.is_none_or(|(_, a)| age > a) {
            oldest = Some((ledger.store, age));
        }
    }
    let (store, revocation_age_secs) = oldest.ok_or(VerifyError::HolderProofMissing)?;
    Ok(Verdict {
        holder,
        signed_at: proof.time,
        nonce_checked: policy.expected_nonce.is_some(),
        certificates: verified,
        synced_height: store.header().height,
        synced_at: store.as_of(),
        revocation_age_secs,
    })
}

/// Whether a disclosure's exact bytes match the salted digest the issuer signed for
/// `field` in the certificate's claims.
pub fn disclosure_matches(claims: &CertificateClaims, field: u16, disclosure_bytes: &[u8]) -> bool {
    claims.digests.get(&field) == Some(&field_digest(disclosure_bytes))
}

/// Every check of one certificate: issuer, signature, validity, anchor, revocation,
/// disclosures.
fn verify_certificate(
    item: &PresentedCertificate,
    cert: &Certificate,
    store: &TrustStore,
    now: UnixTime,
    policy: &Policy,
) -> Result<VerifiedCertificate, VerifyError> {
    let claims = &cert.claims;
    let kind = store.kind(&claims.kind)?;
    let issuer = store.issuer(&claims.issuer)?;
    if !issuer.kinds.contains(&claims.kind) || !kind.issuers.contains(&claims.issuer) {
        return Err(VerifyError::IssuerNotEntitled {
            issuer: claims.issuer.clone(),
            kind: claims.kind.clone(),
        });
    }
    let (key_record, key) = store.issuer_key(issuer, cert.key_id)?;
    if !crypto::verify_cose_sign1(key, &cert.cose, &[]) {
        return Err(VerifyError::BadIssuerSignature {
            issuer: claims.issuer.clone(),
        });
    }
    let key_valid_at = |t: UnixTime| {
        t >= key_record.valid_from && key_record.valid_until.is_none_or(|until| t < until)
    };
    let key_invalid = || VerifyError::IssuerKeyNotValidAtIssue {
        issuer: claims.issuer.clone(),
        key_id: cert.key_id,
    };
    if !key_valid_at(claims.issued_at) {
        return Err(key_invalid());
    }
    if now < claims.valid_from {
        return Err(VerifyError::NotYetValid {
            valid_from: claims.valid_from,
        });
    }
    if now >= claims.expires {
        return Err(VerifyError::Expired {
            expired_at: claims.expires,
        });
    }

    // Anchoring: the batch is in the certified anchor log, was anchored by this issuer's key
    // while it was valid, declared this kind, and its root covers this certificate.
    let anchor = &item.anchor;
    let batch = store
        .batch(anchor.batch_seq)
        .ok_or(VerifyError::HeaderUnknown {
            batch_seq: anchor.batch_seq,
            synced: store.anchor_count(),
        })?;
    let anchor_invalid = |detail: &str| VerifyError::AnchorProofInvalid {
        detail: detail.into(),
    };
    if batch.issuer != claims.issuer || batch.key_id != cert.key_id {
        return Err(anchor_invalid(
            "the batch was anchored by another issuer or key",
        ));
    }
    if !batch.kinds.contains(&claims.kind) {
        return Err(anchor_invalid(
            "the batch did not declare this certificate's kind",
        ));
    }
    if !verify_inclusion(
        &leaf_hash(&cert.bytes),
        anchor.leaf_index,
        batch.count,
        &anchor.path,
        &batch.batch_root,
    ) {
        return Err(anchor_invalid(
            "the certificate is not in the anchored batch",
        ));
    }
    let anchored_at = UnixTime(batch.time_ms / 1000);
    if !key_valid_at(anchored_at) {
        return Err(key_invalid());
    }
    if claims.issued_at > anchored_at.plus(policy.max_clock_skew_secs) {
        return Err(anchor_invalid(
            "the certificate claims to be issued after its batch was anchored",
        ));
    }

    if store.is_revoked(&claims.issuer, claims.status_index) {
        return Err(VerifyError::Revoked {
            issuer: claims.issuer.clone(),
            index: claims.status_index,
        });
    }

    let mut disclosed = Vec::with_capacity(item.disclosures.len());
    let mut seen = BTreeSet::new();
    for bytes in &item.disclosures {
        let disclosure = Disclosure::from_bytes(bytes)?;
        let field = kind.field_by_number(disclosure.field).ok_or_else(|| {
            VerifyError::DisclosureInvalid {
                detail: format!("{} has no field number {}", kind.id, disclosure.field),
            }
        })?;
        if !seen.insert(disclosure.field) {
            return Err(VerifyError::DisclosureInvalid {
                detail: format!("field {:?} is disclosed twice", field.key),
            });
        }
        if !disclosure_matches(claims, disclosure.field, bytes) {
            return Err(VerifyError::DisclosureMismatch {
                field: field.key.clone(),
            });
        }
        kind.validate_value(field, &disclosure.value).map_err(|e| {
            VerifyError::DisclosureInvalid {
                detail: e.to_string(),
            }
        })?;
        disclosed.push(DisclosedField {
            key: field.key.clone(),
            label: field.label.clone(),
            label_local: field.label_local.clone(),
            value: disclosure.value,
        });
    }
    // A derived fact shown with the field it comes from must agree with it as of `iat`.
    kind.check_derived(
        |key| disclosed.iter().find(|d| d.key == key).map(|d| &d.value),
        claims.issued_at,
    )
    .map_err(|e| VerifyError::DisclosureInvalid {
        detail: e.to_string(),
    })?;
    let order = |key: &str| kind.fields.iter().position(|f| f.key == key);
    disclosed.sort_by_key(|d| order(&d.key));

    Ok(VerifiedCertificate {
        ledger: store.chain_id().clone(),
        kind: claims.kind.clone(),
        kind_name: kind.name.clone(),
        issuer: claims.issuer.clone(),
        issuer_name: issuer.name.clone(),
        id: claims.id,
        issued_at: claims.issued_at,
        valid_from: claims.valid_from,
        expires: claims.expires,
        disclosed,
    })
}
