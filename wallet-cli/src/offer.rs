//! Redeeming a one-time offer code: the request a wallet sends to a department's offer
//! endpoint to collect the certificate package issued to it.
//!
//! The request names the wallet's key and signs the code with it, so the department hands
//! the package only to the wallet the certificate is bound to
//! ([`ecert_verifier::offer::verify_offer_redemption`] is the other side).
//!
//! The offer link a department gives (as text or in its QR code) is read by
//! [`ecert_schemas::address::OfferLink::parse`].
//!
//! The same endpoint takes a wallet's request for new copies of a certificate it holds
//! ([`refill_request`], `docs/protocol.md` §9b).

use ecert_schemas::refill::RefillRequest;
use ecert_schemas::{OfferRedemption, UnixTime};

use crate::{Held, HolderKey, WalletError};

/// The redemption request for offer `code`: this wallet's key and its signature over
/// `ecert/v1/offer-redeem\0 ‖ code`. Deterministic (Ed25519): the same key and code give
/// the same request.
pub fn redeem_request(holder: &HolderKey, code: &str) -> OfferRedemption {
    OfferRedemption {
        holder_key: holder.public_key(),
        signature: holder.sign_offer_redeem(code),
    }
}

/// This wallet's request, made at `now`, for new copies of the certificate it holds as
/// `held`: its first copy (the department signed them all; which one is sent tells it
/// nothing), or, for a certificate of format 1, the whole certificate (answered with
/// copies: the wallet's upgrade to format 2); and the wallet key's signature
/// ([`ecert_verifier::refill::check_refill`] is the department's side).
pub fn refill_request(
    holder: &HolderKey,
    held: &Held,
    now: UnixTime,
) -> Result<RefillRequest, WalletError> {
    holder
        .refill_request(held, now)
        .map_err(WalletError::Refill)
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

    #[test]
    fn a_refill_request_carries_one_copy_or_the_whole_certificate() {
        use crate::certs::tests::package as whole_package;
        use crate::copies::tests::{issuer_key, package as copy_package};
        use ecert_schemas::copy::AnyPackage;
        use ecert_schemas::{IssuerId, KeyId};
        use ecert_verifier::refill::check_refill;
        use ed25519_dalek::{SigningKey, VerifyingKey};

        let holder = HolderKey::generate(&mut OsRng);
        let now = UnixTime(5);
        let whole_key = SigningKey::from_bytes(&[5; 32]);
        let keys = |id: KeyId| -> Option<VerifyingKey> {
            [issuer_key(), whole_key.clone()]
                .into_iter()
                .find(|k| KeyId::of(&ecert_verifier::crypto::public_key(k)) == id)
                .map(|k| k.verifying_key())
        };
        let police = IssuerId::new("public-security").unwrap();

        let copies = copy_package(&holder.public_key(), [7; 16], 1, 9, &[(0, "张伟")], 3);
        let held = Held::Copies(crate::copies::HeldCopies::new(copies.clone()));
        let request = refill_request(&holder, &held, now).unwrap();
        assert!(matches!(
            request.body.package().unwrap(),
            AnyPackage::V2(sent) if sent.copies == [copies.copies[0].clone()]
        ));
        let checked = check_refill(&request, &police, keys, now).unwrap();
        assert_eq!((checked.id, checked.fields), (copies.id, copies.fields));

        let whole = whole_package(&holder, "id-card", [4; 16], 1, 9, &[(0, "张伟")]);
        let request = refill_request(&holder, &Held::Whole(whole), now).unwrap();
        let checked = check_refill(&request, &police, keys, now).unwrap();
        assert_eq!(checked.id.0, [4; 16]);
        assert_eq!(checked.wallet, holder.public_key());
        assert!(checked.fields.iter().any(
            |f| f.field == 0 && f.value == Some(ecert_schemas::FieldValue::Text("张伟".into()))
        ));
        // Another wallet cannot ask for it.
        let other = HolderKey::generate(&mut OsRng);
        let whole = whole_package(&holder, "id-card", [4; 16], 1, 9, &[(0, "张伟")]);
        let stolen = refill_request(&other, &Held::Whole(whole), now).unwrap();
        assert!(check_refill(&stolen, &police, keys, now).is_err());
    }
}
