//! Redeeming a one-time offer code: the request a wallet sends to a department's offer
//! endpoint to collect the certificate package issued to it.
//!
//! The request names the wallet's key and signs the code with it, so the department hands
//! the package only to the wallet the certificate is bound to
//! ([`ecert_verifier::offer::verify_offer_redemption`] is the other side).
//!
//! The offer link a department gives (as text or in its QR code) is read by
//! [`ecert_schemas::address::OfferLink::parse`].

use ecert_schemas::OfferRedemption;

use crate::HolderKey;

/// The redemption request for offer `code`: this wallet's key and its signature over
/// `ecert/v1/offer-redeem\0 ‖ code`. Deterministic (Ed25519): the same key and code give
/// the same request.
pub fn redeem_request(holder: &HolderKey, code: &str) -> OfferRedemption {
    OfferRedemption {
        holder_key: holder.public_key(),
        signature: holder.sign_offer_redeem(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_verifier::offer::verify_offer_redemption;
    use ecert_verifier::VerifyError;
    use rand_core::OsRng;

    #[test]
    fn the_issuer_side_accepts_it_for_this_code_only() {
        let holder = HolderKey::generate(&mut OsRng);
        let request = redeem_request(&holder, "7KQ2-99XF");
        assert_eq!(
            verify_offer_redemption("7KQ2-99XF", &request),
            Ok(holder.public_key())
        );
        assert_eq!(
            verify_offer_redemption("7KQ2-99XG", &request),
            Err(VerifyError::HolderProofBad)
        );
        // It survives the wire.
        let bytes = request.to_bytes().unwrap();
        assert_eq!(OfferRedemption::from_bytes(&bytes).unwrap(), request);
        assert_eq!(redeem_request(&holder, "7KQ2-99XF"), request);
    }
}
