//! Differential: ecert's COSE_Sign1 reading against a second one, Google's `coset`, and
//! the strict CBOR it is read with against `ciborium`.
//!
//! - Whatever ecert reads, `coset` reads alike (protected bytes, payload, signature, kid,
//!   algorithm), unless it holds something `coset` refuses by its own rules (an empty
//!   kid, a content type); and it is deterministic CBOR by `ciborium`'s reading.
//! - Whatever `coset` reads that is already in its one encoding, has only a kid in the
//!   unprotected header (at most 64 bytes) and a byte-string payload, ecert reads too.
//! - A certificate (`Certificate::from_bytes`: COSE_Sign1 over CWT claims) that decodes
//!   has claims that re-encode to its payload.
#![no_main]

use coset::{iana, RegisteredLabelWithPrivate, TaggedCborSerializable};
use ecert_schemas::cose::CoseSign1;
use ecert_schemas::Certificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = CoseSign1::from_bytes(data);
    let theirs = coset::CoseSign1::from_tagged_slice(data);
    if let Ok(ours) = &ours {
        ecert_fuzz::assert_deterministic_cbor("COSE_Sign1", data);
        assert_eq!(ours.to_bytes().as_deref(), Ok(data));
        let header = ours.protected_header();
        let plain_for_coset = ours.unprotected.kid.as_ref().is_none_or(|k| !k.is_empty())
            && (ours.protected.is_empty()
                || header
                    .as_ref()
                    .is_ok_and(|h| h.content_type.is_none() && h.alg.is_none_or(|a| a == -8)));
        if plain_for_coset {
            let theirs = theirs
                .as_ref()
                .unwrap_or_else(|e| panic!("read by ecert, refused by coset: {e:?}"));
            assert_eq!(theirs.payload.as_deref(), Some(ours.payload.as_slice()));
            assert_eq!(theirs.signature, ours.signature);
            assert_eq!(
                theirs.unprotected.key_id,
                ours.unprotected.kid.clone().unwrap_or_default()
            );
            assert_eq!(
                theirs
                    .protected
                    .original_data
                    .as_deref()
                    .unwrap_or_default(),
                ours.protected.as_slice()
            );
            if let Ok(h) = &header {
                let alg = theirs.protected.header.alg.as_ref().map(|a| match a {
                    RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA) => -8,
                    other => panic!("coset read another algorithm: {other:?}"),
                });
                assert_eq!(alg, h.alg);
            }
        }
    }
    if let Ok(theirs) = &theirs {
        let unprotected = &theirs.unprotected;
        let only_kid = unprotected.alg.is_none()
            && unprotected.crit.is_empty()
            && unprotected.content_type.is_none()
            && unprotected.iv.is_empty()
            && unprotected.partial_iv.is_empty()
            && unprotected.counter_signatures.is_empty()
            && unprotected.rest.is_empty()
            && unprotected.key_id.len() <= 64;
        let canonical = theirs.clone().to_tagged_vec().is_ok_and(|v| v == data);
        if only_kid && canonical && theirs.payload.is_some() {
            assert!(
                ours.is_ok(),
                "read by coset, refused by ecert: {:?}",
                ours.err()
            );
        }
    }
    if let Ok(certificate) = Certificate::from_bytes(data) {
        assert_eq!(
            certificate.claims.to_bytes().as_deref(),
            Ok(certificate.cose.payload.as_slice())
        );
    }
});
