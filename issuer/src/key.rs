//! A department's signing key.

use ecert_schemas::{IssuerId, KeyId, PublicKeyBytes};
use ecert_verifier::crypto;
use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use zeroize::{ZeroizeOnDrop, Zeroizing};

/// A department's Ed25519 issuing key, with the department it belongs to.
///
/// The secret is zeroized when the key is dropped (`ed25519-dalek`'s `zeroize` feature).
pub struct IssuerKey {
    issuer: IssuerId,
    signing: SigningKey,
    key_id: KeyId,
}

impl IssuerKey {
    /// A fresh key from a cryptographic random source.
    pub fn generate(issuer: IssuerId, rng: &mut impl CryptoRngCore) -> IssuerKey {
        IssuerKey::from_signing_key(issuer, SigningKey::generate(rng))
    }

    /// The key with this 32-byte secret seed.
    pub fn from_seed(issuer: IssuerId, seed: &Zeroizing<[u8; 32]>) -> IssuerKey {
        IssuerKey::from_signing_key(issuer, SigningKey::from_bytes(seed))
    }

    fn from_signing_key(issuer: IssuerId, signing: SigningKey) -> IssuerKey {
        let key_id = KeyId::of(&crypto::public_key(&signing));
        IssuerKey {
            issuer,
            signing,
            key_id,
        }
    }

    /// The 32-byte secret seed, for encrypting at rest.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The department.
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKeyBytes {
        crypto::public_key(&self.signing)
    }

    /// The key id, `SHA-256(public key)[0..8]`.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Signs a statement about one of the department's counters
    /// ([`ecert_verifier::request::sign_registration`]); the body names this key's id.
    pub fn sign_counter_registration(
        &self,
        body: ecert_schemas::request::CounterRegistrationBody,
    ) -> Result<ecert_schemas::request::CounterRegistration, ecert_schemas::SchemaError> {
        ecert_verifier::request::sign_registration(&self.signing, body)
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
}

/// The secret is wiped when the key is dropped: its `ed25519_dalek::SigningKey` is itself
/// zeroized on drop (the `zeroize` feature, on for the whole workspace); the department and
/// the key id are not secret.
impl ZeroizeOnDrop for IssuerKey {}

impl core::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IssuerKey")
            .field("issuer", &self.issuer)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
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
        zeroized_on_drop::<IssuerKey>();
        zeroized_on_drop::<Zeroizing<[u8; 32]>>();
    }
}
