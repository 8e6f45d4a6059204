//! The holder's key: the wallet's Ed25519 key that every presentation is signed with.

use ecert_schemas::SignatureBytes;
use ecert_schemas::{CopySecret, PublicKeyBytes};
use ecert_verifier::copy_key::CopyKey;
use ecert_verifier::crypto::{self, SigningContext};
use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use zeroize::{ZeroizeOnDrop, Zeroizing};

/// The wallet's key. Its secret is zeroized when dropped.
pub struct HolderKey {
    signing: SigningKey,
}

impl HolderKey {
    /// A fresh key from a cryptographic random source.
    pub fn generate(rng: &mut impl CryptoRngCore) -> HolderKey {
        HolderKey {
            signing: SigningKey::generate(rng),
        }
    }

    /// The key with this secret seed (as restored from the encrypted store).
    pub fn from_seed(seed: &Zeroizing<[u8; 32]>) -> HolderKey {
        HolderKey {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// The secret seed, for encrypting at rest.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public key a department binds certificates to.
    pub fn public_key(&self) -> PublicKeyBytes {
        crypto::public_key(&self.signing)
    }

    /// The key of the one-time copy with `secret`: this key tweaked for it.
    pub fn copy_key(&self, secret: &CopySecret) -> CopyKey {
        CopyKey::derive(&self.signing, secret)
    }

    pub(crate) fn sign_holder_proof(&self, message: &[u8]) -> SignatureBytes {
        crypto::sign(&self.signing, SigningContext::HolderProof, message)
    }

    /// This wallet's request, made at `time`, for new copies of `held`: its first copy
    /// (one-time copies), or the whole certificate (format 1), and this key's signature.
    pub(crate) fn refill_request(
        &self,
        held: &crate::Held,
        time: ecert_schemas::UnixTime,
    ) -> Result<ecert_schemas::refill::RefillRequest, ecert_verifier::refill::RefillError> {
        match held {
            crate::Held::Copies(copies) => {
                ecert_verifier::refill::sign_refill(&self.signing, copies.package(), 0, time)
            }
            crate::Held::Whole(package) => {
                ecert_verifier::refill::sign_refill_whole(&self.signing, package, time)
            }
        }
    }

    pub(crate) fn sign_offer_redeem(&self, code: &str) -> SignatureBytes {
        crypto::sign(&self.signing, SigningContext::OfferRedeem, code.as_bytes())
    }
}

/// The secret is wiped when the key is dropped: its one field, `ed25519_dalek::SigningKey`,
/// is itself zeroized on drop (the `zeroize` feature, on for the whole workspace).
impl ZeroizeOnDrop for HolderKey {}

impl core::fmt::Debug for HolderKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "HolderKey({})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles only for types that wipe their secret when dropped.
    fn zeroized_on_drop<T: ZeroizeOnDrop>() {}

    #[test]
    fn the_key_is_zeroized_on_drop() {
        zeroized_on_drop::<SigningKey>();
        zeroized_on_drop::<HolderKey>();
        zeroized_on_drop::<Zeroizing<[u8; 32]>>();
    }
}
