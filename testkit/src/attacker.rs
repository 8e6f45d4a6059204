//! What an attacker's tools produce, for testing that counters refuse it: holder proofs
//! signed with any key, and certificates signed with any key in any issuer's name.

use std::collections::BTreeMap;

use ecert_schemas::certificate::{Certificate, CertificateClaims};
use ecert_schemas::codec::ByteBuf;
use ecert_schemas::presentation::{HolderSignedData, PACKAGE_VERSION, PRESENTATION_VERSION};
use ecert_schemas::{
    field_digest, AnchorProof, CertificateId, CertificatePackage, Disclosure, FieldValue,
    HolderProof, IssuerId, KeyId, KindId, Nonce, Presentation, PresentedCertificate,
    PublicKeyBytes, Salt, StatusIndex, UnixTime,
};
use ecert_verifier::crypto::{self, SigningContext};
use ed25519_dalek::SigningKey;

/// A presentation of `items` whose holder proof is signed with `signer`, whoever that is:
/// what a thief's wallet would make from a copied certificate.
pub fn sign_items(
    items: &[PresentedCertificate],
    signer: &SigningKey,
    time: UnixTime,
    nonce: Option<Nonce>,
) -> String {
    let mut presentation = Presentation {
        version: PRESENTATION_VERSION,
        items: ByteBuf::from(Presentation::encode_items(items).unwrap()),
        holder: None,
    };
    let signed = HolderSignedData {
        time,
        nonce: nonce.clone(),
        items_hash: presentation.items_hash(),
    };
    let signature = crypto::sign(
        signer,
        SigningContext::HolderProof,
        &signed.to_bytes().unwrap(),
    );
    presentation.holder = Some(HolderProof {
        time,
        nonce,
        signature,
    });
    presentation.to_qr_string().unwrap()
}

/// A certificate of `kind` for `holder`, claiming to come from `issuer` and signed with
/// `key` (valid from a day before `now` to a day after, issued an hour before), with one
/// disclosable field (number 0, the name) and an anchor proof pointing at batch 0.
pub fn forge_certificate(
    issuer: &str,
    key: &SigningKey,
    kind: &str,
    holder: PublicKeyBytes,
    now: UnixTime,
) -> CertificatePackage {
    let disclosure = Disclosure {
        salt: Salt([9; 16]),
        field: 0,
        value: FieldValue::Text("张伟".into()),
    }
    .to_bytes()
    .unwrap();
    let claims = CertificateClaims {
        issuer: IssuerId::new(issuer).unwrap(),
        expires: now.plus(86_400),
        valid_from: now.minus(86_400),
        issued_at: now.minus(3600),
        id: CertificateId([1; 16]),
        holder,
        kind: KindId::new(kind).unwrap(),
        status_index: StatusIndex(0),
        digests: BTreeMap::from([(0, field_digest(&disclosure))]),
    };
    let mut cose = Certificate::unsigned(&claims, KeyId::of(&crypto::public_key(key))).unwrap();
    crypto::sign_cose_sign1(key, &mut cose, &[]).unwrap();
    CertificatePackage {
        version: PACKAGE_VERSION,
        certificate: ByteBuf::from(cose.to_bytes().unwrap()),
        disclosures: vec![ByteBuf::from(disclosure)],
        anchor: AnchorProof {
            batch_seq: 0,
            leaf_index: 0,
            path: vec![],
        },
    }
}
