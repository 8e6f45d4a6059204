//! The whole offline check of a presentation, as one pure function.

use std::collections::BTreeSet;

use ecert_schemas::certificate::{Certificate, CertificateClaims};
use ecert_schemas::copy::AnyPresentation;
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
    /// The certificate id (format 1); a one-time copy (format 2) shows none.
    pub id: Option<CertificateId>,
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

/// Verifies a QR string offline against `store` at time `now` under `policy`: a
/// presentation of format 1 (whole certificates) or 2 (one-time copies).
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
    match AnyPresentation::from_qr_string(qr)? {
        AnyPresentation::V1(presentation) => verify_decoded(&presentation, store, now, policy),
        AnyPresentation::V2(presentation) => {
            crate::presentation_v2::verify_decoded_v2(&presentation, store, now, policy)
        }
    }
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
    check_window_and_nonce(proof.time, proof.nonce.as_ref(), now, policy)?;

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

/// The holder proof was made within the policy's window around `now` (not too old, not
/// too far ahead) and carries the counter's nonce when it expects one.
pub(crate) fn check_window_and_nonce(
    signed_at: UnixTime,
    nonce: Option<&Nonce>,
    now: UnixTime,
    policy: &Policy,
) -> Result<(), VerifyError> {
    let too_old = now.secs().saturating_sub(signed_at.secs()) > policy.holder_proof_max_age_secs;
    let from_future = signed_at.secs() > now.secs().saturating_add(policy.max_clock_skew_secs);
    if too_old || from_future {
        return Err(VerifyError::HolderProofOutsideWindow { signed_at, now });
    }
    if let Some(expected) = &policy.expected_nonce {
        if nonce != Some(expected) {
            return Err(VerifyError::NonceMismatch);
        }
    }
    Ok(())
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
    let signer = entitled_signer(store, &claims.issuer, &claims.kind, cert.key_id)?;
    if !crypto::verify_cose_sign1(signer.key, &cert.cose, &[]) {
        return Err(VerifyError::BadIssuerSignature {
            issuer: claims.issuer.clone(),
        });
    }
    signer.check_issued(claims.issued_at)?;
    check_validity(claims.valid_from, claims.expires, now)?;

    // Anchoring: the batch is in the certified anchor log, was anchored by this issuer's key
    // while it was valid, declared this kind, and its root covers this certificate.
    let anchor = &item.anchor;
    let batch = anchored_batch(store, anchor.batch_seq)?;
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
    signer.check_anchored(batch, claims.issued_at, policy)?;
    check_not_revoked(store, &claims.issuer, claims.status_index)?;

    let disclosed = read_disclosures(
        signer.kind,
        &item.disclosures,
        claims.issued_at,
        |field, bytes| disclosure_matches(claims, field, bytes),
    )?;
    Ok(VerifiedCertificate {
        ledger: store.chain_id().clone(),
        kind: claims.kind.clone(),
        kind_name: signer.kind.name.clone(),
        issuer: claims.issuer.clone(),
        issuer_name: signer.issuer.name.clone(),
        id: Some(claims.id),
        issued_at: claims.issued_at,
        valid_from: claims.valid_from,
        expires: claims.expires,
        disclosed,
    })
}

/// An issuer entitled to a kind, with the key that signed: what both formats check first.
pub(crate) struct Signer<'a> {
    /// The kind's definition.
    pub kind: &'a ecert_schemas::Kind,
    /// The issuer's registry entry.
    pub issuer: &'a ecert_schemas::ledger::IssuerRecord,
    /// The key's registry entry.
    pub key_record: &'a ecert_schemas::ledger::IssuerKeyRecord,
    /// The key.
    pub key: &'a ed25519_dalek::VerifyingKey,
}

/// The kind and issuer as registered, the issuer entitled to the kind (both ways), and
/// the signing key `key_id` among the issuer's keys.
pub(crate) fn entitled_signer<'a>(
    store: &'a TrustStore,
    issuer_id: &IssuerId,
    kind_id: &KindId,
    key_id: ecert_schemas::KeyId,
) -> Result<Signer<'a>, VerifyError> {
    let kind = store.kind(kind_id)?;
    let issuer = store.issuer(issuer_id)?;
    if !issuer.kinds.contains(kind_id) || !kind.issuers.contains(issuer_id) {
        return Err(VerifyError::IssuerNotEntitled {
            issuer: issuer_id.clone(),
            kind: kind_id.clone(),
        });
    }
    let (key_record, key) = store.issuer_key(issuer, key_id)?;
    Ok(Signer {
        kind,
        issuer,
        key_record,
        key,
    })
}

impl Signer<'_> {
    fn key_valid_at(&self, t: UnixTime) -> bool {
        t >= self.key_record.valid_from && self.key_record.valid_until.is_none_or(|until| t < until)
    }

    fn key_invalid(&self) -> VerifyError {
        VerifyError::IssuerKeyNotValidAtIssue {
            issuer: self.issuer.issuer.clone(),
            key_id: self.key_record.key_id,
        }
    }

    /// The key was valid when the certificate says it was issued.
    pub(crate) fn check_issued(&self, issued_at: UnixTime) -> Result<(), VerifyError> {
        if self.key_valid_at(issued_at) {
            Ok(())
        } else {
            Err(self.key_invalid())
        }
    }

    /// The key was valid when the batch was anchored, and the certificate was not issued
    /// after it (beyond the allowed clock skew).
    pub(crate) fn check_anchored(
        &self,
        batch: &ecert_schemas::ledger::BatchRecord,
        issued_at: UnixTime,
        policy: &Policy,
    ) -> Result<(), VerifyError> {
        let anchored_at = UnixTime(batch.time_ms / 1000);
        if !self.key_valid_at(anchored_at) {
            return Err(self.key_invalid());
        }
        if issued_at > anchored_at.plus(policy.max_clock_skew_secs) {
            return Err(anchor_invalid(
                "the certificate claims to be issued after its batch was anchored",
            ));
        }
        Ok(())
    }
}

/// The validity period covers `now`.
pub(crate) fn check_validity(
    valid_from: UnixTime,
    expires: UnixTime,
    now: UnixTime,
) -> Result<(), VerifyError> {
    if now < valid_from {
        return Err(VerifyError::NotYetValid { valid_from });
    }
    if now >= expires {
        return Err(VerifyError::Expired {
            expired_at: expires,
        });
    }
    Ok(())
}

/// The batch at `batch_seq` of the synced anchor log.
pub(crate) fn anchored_batch(
    store: &TrustStore,
    batch_seq: u64,
) -> Result<&ecert_schemas::ledger::BatchRecord, VerifyError> {
    store.batch(batch_seq).ok_or(VerifyError::HeaderUnknown {
        batch_seq,
        synced: store.anchor_count(),
    })
}

/// An anchor proof that does not hold.
pub(crate) fn anchor_invalid(detail: &str) -> VerifyError {
    VerifyError::AnchorProofInvalid {
        detail: detail.into(),
    }
}

/// The status index is not revoked in the synced lists.
pub(crate) fn check_not_revoked(
    store: &TrustStore,
    issuer: &IssuerId,
    index: ecert_schemas::StatusIndex,
) -> Result<(), VerifyError> {
    if store.is_revoked(issuer, index) {
        return Err(VerifyError::Revoked {
            issuer: issuer.clone(),
            index,
        });
    }
    Ok(())
}

/// Reads the disclosures: each of a field of the kind, at most once, matching what the
/// issuer signed (`matches`), with a valid value; derived facts agreeing with the fields
/// they come from as of `issued_at`. The fields in the kind's order.
pub(crate) fn read_disclosures(
    kind: &ecert_schemas::Kind,
    disclosures: &[ecert_schemas::codec::ByteBuf],
    issued_at: UnixTime,
    mut matches: impl FnMut(u16, &[u8]) -> bool,
) -> Result<Vec<DisclosedField>, VerifyError> {
    let mut disclosed = Vec::with_capacity(disclosures.len());
    let mut seen = BTreeSet::new();
    for bytes in disclosures {
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
        if !matches(disclosure.field, bytes) {
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
        issued_at,
    )
    .map_err(|e| VerifyError::DisclosureInvalid {
        detail: e.to_string(),
    })?;
    let order = |key: &str| kind.fields.iter().position(|f| f.key == key);
    disclosed.sort_by_key(|d| order(&d.key));
    Ok(disclosed)
}
