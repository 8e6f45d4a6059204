//! Ed25519 with domain separation.
//!
//! Certificates are signed through COSE's own `Sig_structure` (which starts with the CBOR
//! array header `0x84`), so standard COSE libraries verify them. Every other signed message
//! is prefixed with its own context string, NUL-terminated so that no context is a prefix
//! of another; a signature made for one purpose never verifies for another.
//! Verification is always `verify_strict` (no small-order keys, canonical `S`).

use ecert_schemas::cose::CoseSign1;
use ecert_schemas::{PublicKeyBytes, SignatureBytes};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// What a signature is for. Each purpose has its own context string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningContext {
    /// A holder's proof of possession over a presentation.
    HolderProof,
    /// An issuer's anchor batch.
    AnchorBatch,
    /// An issuer's revocation.
    Revocation,
    /// A validator's vote on a block header.
    HeaderVote,
    /// A validator's approval of a governance change.
    Governance,
    /// A wallet's request to redeem a one-time offer code for its certificate package.
    OfferRedeem,
    /// A validator's statement that a certified header is still the newest it holds.
    Freshness,
    /// A national key's approval of a national trust list.
    TrustList,
    /// An issuer's signature over a one-time copy (format 2).
    CopyIssue,
    /// A holder's proof over a format-2 presentation, by its first copy's key.
    HolderProofV2,
    /// A link between two copies of one wallet in a format-2 presentation.
    HolderLink,
    /// A department's registration of one of its counters.
    CounterRegistration,
    /// A registered counter's request for fields.
    Request,
    /// A wallet's request for new copies of a certificate it holds.
    Refill,
}

impl SigningContext {
    /// All contexts.
    pub const ALL: [SigningContext; 14] = [
        SigningContext::HolderProof,
        SigningContext::AnchorBatch,
        SigningContext::Revocation,
        SigningContext::HeaderVote,
        SigningContext::Governance,
        SigningContext::OfferRedeem,
        SigningContext::Freshness,
        SigningContext::TrustList,
        SigningContext::CopyIssue,
        SigningContext::HolderProofV2,
        SigningContext::HolderLink,
        SigningContext::CounterRegistration,
        SigningContext::Request,
        SigningContext::Refill,
    ];

    /// The context string, NUL included, that prefixes the signed bytes.
    pub fn label(self) -> &'static [u8] {
        match self {
            SigningContext::HolderProof => b"ecert/v1/holder-proof\0",
            SigningContext::AnchorBatch => b"ecert/v1/anchor-batch\0",
            SigningContext::Revocation => b"ecert/v1/revocation\0",
            SigningContext::HeaderVote => b"ecert/v1/header-vote\0",
            SigningContext::Governance => b"ecert/v1/governance\0",
            SigningContext::OfferRedeem => b"ecert/v1/offer-redeem\0",
            SigningContext::Freshness => b"ecert/v1/freshness\0",
            SigningContext::TrustList => b"ecert/v1/trust-list\0",
            SigningContext::CopyIssue => b"ecert/v2/copy\0",
            SigningContext::HolderProofV2 => b"ecert/v2/holder-proof\0",
            SigningContext::HolderLink => b"ecert/v2/holder-link\0",
            SigningContext::CounterRegistration => b"ecert/v2/counter-registration\0",
            SigningContext::Request => b"ecert/v2/request\0",
            SigningContext::Refill => b"ecert/v2/refill\0",
        }
    }
}

/// The exact bytes signed for `message` in `context`: `label ‖ message`.
pub fn signing_input(context: SigningContext, message: &[u8]) -> Vec<u8> {
    let label = context.label();
    let mut input = Vec::with_capacity(label.len() + message.len());
    input.extend_from_slice(label);
    input.extend_from_slice(message);
    input
}

/// Signs `message` in `context`. Deterministic (RFC 8032): no randomness needed.
pub fn sign(key: &SigningKey, context: SigningContext, message: &[u8]) -> SignatureBytes {
    SignatureBytes(key.sign(&signing_input(context, message)).to_bytes())
}

/// The public key bytes of a signing key.
pub fn public_key(key: &SigningKey) -> PublicKeyBytes {
    PublicKeyBytes(key.verifying_key().to_bytes())
}

/// Decodes a public key: a valid, canonically encoded curve point that is not of small order.
pub fn parse_public_key(key: &PublicKeyBytes) -> Option<VerifyingKey> {
    let vk = VerifyingKey::from_bytes(&key.0).ok()?;
    if vk.is_weak() {
        return None;
    }
    Some(vk)
}

/// Verifies a context-separated signature with `verify_strict`.
pub fn verify(
    key: &VerifyingKey,
    context: SigningContext,
    message: &[u8],
    signature: &SignatureBytes,
) -> bool {
    verify_raw(key, &signing_input(context, message), &signature.0)
}

/// Verifies a signature over exact bytes with `verify_strict`. A signature of the wrong
/// length is simply invalid.
pub fn verify_raw(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(message, &sig).is_ok()
}

/// Signs a COSE_Sign1 (EdDSA) in place: the signature covers its `Sig_structure` with
/// the given external AAD.
pub fn sign_cose_sign1(
    key: &SigningKey,
    message: &mut CoseSign1,
    external_aad: &[u8],
) -> Result<(), ecert_schemas::SchemaError> {
    let tbs = message.to_be_signed(external_aad)?;
    message.signature = key.sign(&tbs).to_bytes().to_vec();
    Ok(())
}

/// Verifies a COSE_Sign1 (EdDSA) signature over its `Sig_structure`. The protected header
/// must name alg EdDSA (-8).
pub fn verify_cose_sign1(key: &VerifyingKey, message: &CoseSign1, external_aad: &[u8]) -> bool {
    let alg_ok = message
        .protected_header()
        .is_ok_and(|h| h.alg == Some(ecert_schemas::cose::ALG_EDDSA));
    if !alg_ok {
        return false;
    }
    match message.to_be_signed(external_aad) {
        Ok(tbs) => verify_raw(key, &tbs, &message.signature),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn contexts_are_prefix_free_and_distinct_from_cose() {
        for a in SigningContext::ALL {
            assert_eq!(a.label().last(), Some(&0));
            assert_eq!(a.label().iter().filter(|b| **b == 0).count(), 1);
            assert_ne!(
                a.label()[0],
                0x84,
                "could collide with a COSE Sig_structure"
            );
            for b in SigningContext::ALL {
                if a != b {
                    assert!(!a.label().starts_with(b.label()));
                }
            }
        }
    }

    #[test]
    fn labels_are_exact_and_all_distinct() {
        let labels: Vec<&[u8]> = SigningContext::ALL.iter().map(|c| c.label()).collect();
        for (i, a) in labels.iter().enumerate() {
            assert!(a.starts_with(b"ecert/v1/") || a.starts_with(b"ecert/v2/"));
            for b in labels.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            SigningContext::OfferRedeem.label(),
            b"ecert/v1/offer-redeem\0"
        );
        assert_eq!(SigningContext::OfferRedeem.label().len(), 22);
        // A new variant fails to compile here: add it to ALL (and to protocol.md) too.
        for c in SigningContext::ALL {
            match c {
                SigningContext::HolderProof
                | SigningContext::AnchorBatch
                | SigningContext::Revocation
                | SigningContext::HeaderVote
                | SigningContext::Governance
                | SigningContext::OfferRedeem
                | SigningContext::Freshness
                | SigningContext::TrustList
                | SigningContext::CopyIssue
                | SigningContext::HolderProofV2
                | SigningContext::HolderLink
                | SigningContext::CounterRegistration
                | SigningContext::Request
                | SigningContext::Refill => {}
            }
        }
        assert_eq!(SigningContext::ALL.len(), 14);
    }

    #[test]
    fn a_signature_does_not_cross_contexts() {
        let k = key(1);
        let vk = k.verifying_key();
        let sig = sign(&k, SigningContext::HolderProof, b"m");
        assert!(verify(&vk, SigningContext::HolderProof, b"m", &sig));
        for other in SigningContext::ALL {
            if other != SigningContext::HolderProof {
                assert!(!verify(&vk, other, b"m", &sig));
            }
        }
        assert!(!verify(&vk, SigningContext::HolderProof, b"n", &sig));
        let redeem = sign(&k, SigningContext::OfferRedeem, b"m");
        assert!(verify(&vk, SigningContext::OfferRedeem, b"m", &redeem));
        for other in SigningContext::ALL {
            if other != SigningContext::OfferRedeem {
                assert!(!verify(&vk, other, b"m", &redeem));
            }
        }
        assert!(!verify(
            &key(2).verifying_key(),
            SigningContext::HolderProof,
            b"m",
            &sig
        ));
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (small order).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(parse_public_key(&PublicKeyBytes(identity)).is_none());
        assert!(parse_public_key(&public_key(&key(3))).is_some());
    }

    #[test]
    fn wrong_length_signature_is_invalid() {
        let k = key(4);
        assert!(!verify_raw(&k.verifying_key(), b"m", &[0u8; 63]));
    }
}
