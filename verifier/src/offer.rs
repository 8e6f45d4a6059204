//! Offer redemption: a wallet proves it holds a key before an issuer hands over the
//! certificate package waiting under a one-time offer code.
//!
//! The wallet signs the code's UTF-8 bytes with its holder key in the
//! [`SigningContext::OfferRedeem`] context and sends an [`OfferRedemption`]. The issuer
//! checks the signature here, then compares the returned key with the certificate's holder
//! key (`cnf`). The code itself stays the shared secret that finds the offer; the signature
//! binds the request to the key, so a code read over someone's shoulder is useless without
//! the wallet it was issued to.

use ecert_schemas::{OfferRedemption, PublicKeyBytes};

use crate::crypto::{self, SigningContext};
use crate::VerifyError;

/// Checks `redemption` for the offer `code`: the holder key is a usable Ed25519 key and the
/// signature verifies over `ecert/v1/offer-redeem\0 ‖ code`. Returns the holder key,
/// which the caller must still compare with the certificate's holder key.
///
/// Errors: [`VerifyError::HolderProofBad`] if the key is unusable (not a point, or of
/// small order) or the signature does not verify (another code, another key, altered).
pub fn verify_offer_redemption(
    code: &str,
    redemption: &OfferRedemption,
) -> Result<PublicKeyBytes, VerifyError> {
    let key =
        crypto::parse_public_key(&redemption.holder_key).ok_or(VerifyError::HolderProofBad)?;
    if crypto::verify(
        &key,
        SigningContext::OfferRedeem,
        code.as_bytes(),
        &redemption.signature,
    ) {
        Ok(redemption.holder_key)
    } else {
        Err(VerifyError::HolderProofBad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_schemas::SignatureBytes;
    use ed25519_dalek::SigningKey;

    fn redeem(key: &SigningKey, code: &str) -> OfferRedemption {
        OfferRedemption {
            holder_key: crypto::public_key(key),
            signature: crypto::sign(key, SigningContext::OfferRedeem, code.as_bytes()),
        }
    }

    #[test]
    fn a_signed_redemption_gives_the_holder_key() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let r = redeem(&key, "K7Q2-99XF");
        assert_eq!(
            verify_offer_redemption("K7Q2-99XF", &r),
            Ok(crypto::public_key(&key))
        );
        // The exact bytes signed.
        let vk = key.verifying_key();
        assert!(crypto::verify_raw(
            &vk,
            b"ecert/v1/offer-redeem\0K7Q2-99XF",
            &r.signature.0
        ));
    }

    #[test]
    fn anything_else_is_refused() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let other = SigningKey::from_bytes(&[2; 32]);
        let r = redeem(&key, "code-1");
        // Another code, a prefix, an extension, another case.
        for code in ["code-2", "code-", "code-11", "CODE-1", ""] {
            assert_eq!(
                verify_offer_redemption(code, &r),
                Err(VerifyError::HolderProofBad)
            );
        }
        // Someone else's key with this signature.
        let swapped = OfferRedemption {
            holder_key: crypto::public_key(&other),
            ..r.clone()
        };
        assert_eq!(
            verify_offer_redemption("code-1", &swapped),
            Err(VerifyError::HolderProofBad)
        );
        // A signature made for another purpose over the same bytes.
        let holder_proof = OfferRedemption {
            signature: crypto::sign(&key, SigningContext::HolderProof, b"code-1"),
            ..r.clone()
        };
        assert_eq!(
            verify_offer_redemption("code-1", &holder_proof),
            Err(VerifyError::HolderProofBad)
        );
        // Every flipped bit of the signature.
        for bit in 0..512 {
            let mut bad = r.clone();
            bad.signature.0[bit / 8] ^= 1 << (bit % 8);
            assert!(verify_offer_redemption("code-1", &bad).is_err());
        }
        // A small-order key (the identity point) with an all-zero signature.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = OfferRedemption {
            holder_key: PublicKeyBytes(identity),
            signature: SignatureBytes([0; 64]),
        };
        assert_eq!(
            verify_offer_redemption("code-1", &weak),
            Err(VerifyError::HolderProofBad)
        );
    }
}
