//! What follows from a one-time copy's secret: its holder key, salts and hidden leaves.
//!
//! A copy's holder key is the wallet key tweaked by a scalar only the issuer and the
//! wallet know: `A_i = A + t_i·B` with `t_i = SHA-512("ecert/v2/copy-key" ‖ secret_i) mod ℓ`.
//! The wallet signs for it with the scalar `a + t_i`, so it needs nothing but its own key
//! and the package (no new backup), and a counter sees keys that are uniformly random and
//! independent of `A` and of each other. Two copies shown together are tied to one wallet
//! by a *link*: an Ed25519 signature by the key `A_j − A_i = (t_j − t_i)·B`, whose secret
//! scalar is known to whoever knows both tweaks.
//!
//! Signing uses `ed25519-dalek`'s hazmat `raw_sign` with an expanded key whose nonce
//! prefix is derived per copy, so signatures stay deterministic (RFC 8032) and no two
//! keys share a prefix.

use curve25519_dalek::{EdwardsPoint, Scalar};
use ecert_schemas::copy::PackageField;
use ecert_schemas::{
    CopySecret, Disclosure, FieldValue, Hash16, PublicKeyBytes, Salt, SchemaError, SignatureBytes,
};
use ed25519_dalek::hazmat::{raw_sign, ExpandedSecretKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha512};

use crate::crypto::{self, signing_input, SigningContext};
use crate::merkle16::{field_leaf, truncated};

const TWEAK: &[u8] = b"ecert/v2/copy-key\0";
const NONCE_PREFIX: &[u8] = b"ecert/v2/copy-nonce\0";
const LINK_PREFIX: &[u8] = b"ecert/v2/link-nonce\0";
const SALT: &[u8] = b"ecert/v2/salt\0";
const HIDDEN: &[u8] = b"ecert/v2/hidden-field\0";

/// The tweak scalar of a copy.
fn tweak(secret: &CopySecret) -> Scalar {
    let mut h = Sha512::new();
    h.update(TWEAK);
    h.update(secret.0);
    Scalar::from_hash(h)
}

/// The holder key of the copy with `secret` for the wallet key `wallet`; `None` if
/// `wallet` is not a valid key.
pub fn copy_public_key(wallet: &PublicKeyBytes, secret: &CopySecret) -> Option<PublicKeyBytes> {
    Some(WalletPoint::of(wallet)?.copy_key(secret))
}

/// A wallet key decoded once, for deriving many copies' holder keys.
#[derive(Clone, Copy, Debug)]
pub struct WalletPoint(EdwardsPoint);

impl WalletPoint {
    /// Decodes `wallet`; `None` if it is not a valid key.
    pub fn of(wallet: &PublicKeyBytes) -> Option<WalletPoint> {
        Some(WalletPoint(crypto::parse_public_key(wallet)?.to_edwards()))
    }

    /// The holder key of the copy with `secret`: `A + t·B`.
    pub fn copy_key(&self, secret: &CopySecret) -> PublicKeyBytes {
        let point = self.0 + EdwardsPoint::mul_base(&tweak(secret));
        PublicKeyBytes(point.compress().to_bytes())
    }
}

/// The salt of field `field` in the copy with `secret`.
pub fn copy_salt(secret: &CopySecret, field: u16) -> Salt {
    Salt(truncated(&[SALT, &secret.0, &field.to_be_bytes()]).0)
}

/// The leaf standing for optional field `field` when the certificate does not carry it:
/// as random-looking to a counter as any other undisclosed leaf.
pub fn hidden_leaf(secret: &CopySecret, field: u16) -> Hash16 {
    truncated(&[HIDDEN, &secret.0, &field.to_be_bytes()])
}

/// A copy's field leaves, in the kind's order: a present field's leaf is over its
/// disclosure, salted from the copy's secret; an absent optional field's is a hidden
/// filler. What the issuer signs the root of and the wallet proves parts of.
pub fn field_leaves(
    fields: &[PackageField],
    secret: &CopySecret,
) -> Result<Vec<Hash16>, SchemaError> {
    fields
        .iter()
        .map(|f| match &f.value {
            Some(value) => Ok(field_leaf(&copy_disclosure(secret, f.field, value)?)),
            None => Ok(hidden_leaf(secret, f.field)),
        })
        .collect()
}

/// The exact bytes of a copy's disclosure of `field` with `value`.
pub fn copy_disclosure(
    secret: &CopySecret,
    field: u16,
    value: &FieldValue,
) -> Result<Vec<u8>, SchemaError> {
    Disclosure {
        salt: copy_salt(secret, field),
        field,
        value: value.clone(),
    }
    .to_bytes()
}

/// A copy's signing key: the wallet key tweaked for one copy.
pub struct CopyKey {
    expanded: ExpandedSecretKey,
    public: VerifyingKey,
    tweak: Scalar,
}

impl CopyKey {
    /// Derives the copy's key from the wallet's key and the copy's secret.
    pub fn derive(wallet: &SigningKey, secret: &CopySecret) -> CopyKey {
        let base = ExpandedSecretKey::from(&wallet.to_bytes());
        let t = tweak(secret);
        let mut prefix = Sha512::new();
        prefix.update(NONCE_PREFIX);
        prefix.update(base.hash_prefix);
        prefix.update(secret.0);
        let expanded = ExpandedSecretKey {
            scalar: base.scalar + t,
            hash_prefix: first_half(prefix),
        };
        let public = VerifyingKey::from(EdwardsPoint::mul_base(&expanded.scalar));
        CopyKey {
            expanded,
            public,
            tweak: t,
        }
    }

    /// The copy's holder key.
    pub fn public_key(&self) -> PublicKeyBytes {
        PublicKeyBytes(self.public.to_bytes())
    }

    /// Signs `message` in `context` with the copy's key.
    pub fn sign(&self, context: SigningContext, message: &[u8]) -> SignatureBytes {
        let input = signing_input(context, message);
        SignatureBytes(raw_sign::<Sha512>(&self.expanded, &input, &self.public).to_bytes())
    }

    /// The link from `first` (the copy whose key signed the holder proof) to this copy:
    /// a signature over `message` by `A_this − A_first` (context `ecert/v2/holder-link`).
    pub fn link_from(&self, first: &CopyKey, message: &[u8]) -> SignatureBytes {
        let scalar = self.tweak - first.tweak;
        let mut prefix = Sha512::new();
        prefix.update(LINK_PREFIX);
        prefix.update(self.expanded.hash_prefix);
        prefix.update(first.expanded.hash_prefix);
        let expanded = ExpandedSecretKey {
            scalar,
            hash_prefix: first_half(prefix),
        };
        let public = VerifyingKey::from(EdwardsPoint::mul_base(&scalar));
        let input = signing_input(SigningContext::HolderLink, message);
        SignatureBytes(raw_sign::<Sha512>(&expanded, &input, &public).to_bytes())
    }
}

fn first_half(h: Sha512) -> [u8; 32] {
    let full = h.finalize();
    let mut out = [0u8; 32];
    for (o, f) in out.iter_mut().zip(full) {
        *o = f;
    }
    out
}

/// Whether `link` is a valid link from the copy key `first` to the copy key `other` over
/// `message`. Two equal keys never link (their difference is not a valid key).
pub fn verify_link(
    first: &VerifyingKey,
    other: &VerifyingKey,
    message: &[u8],
    link: &SignatureBytes,
) -> bool {
    let difference = VerifyingKey::from(other.to_edwards() - first.to_edwards());
    if difference.is_weak() {
        return false;
    }
    crypto::verify(&difference, SigningContext::HolderLink, message, link)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn wallet(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn the_wallet_and_the_issuer_derive_the_same_key() {
        let w = wallet(1);
        let secret = CopySecret([9; 32]);
        let key = CopyKey::derive(&w, &secret);
        let from_public = copy_public_key(&crypto::public_key(&w), &secret).unwrap();
        assert_eq!(key.public_key(), from_public);
        assert_ne!(from_public, crypto::public_key(&w));
        let sig = key.sign(SigningContext::HolderProofV2, b"m");
        let vk = crypto::parse_public_key(&from_public).unwrap();
        assert!(crypto::verify(
            &vk,
            SigningContext::HolderProofV2,
            b"m",
            &sig
        ));
        assert!(!crypto::verify(
            &vk,
            SigningContext::HolderProof,
            b"m",
            &sig
        ));
    }

    #[test]
    fn links_tie_copies_of_one_wallet_only() {
        let w = wallet(2);
        let a = CopyKey::derive(&w, &CopySecret([1; 32]));
        let b = CopyKey::derive(&w, &CopySecret([2; 32]));
        let va = crypto::parse_public_key(&a.public_key()).unwrap();
        let vb = crypto::parse_public_key(&b.public_key()).unwrap();
        let link = b.link_from(&a, b"m");
        assert!(verify_link(&va, &vb, b"m", &link));
        assert!(!verify_link(&va, &vb, b"other", &link));
        assert!(!verify_link(&vb, &va, b"m", &link));
        // A copy of another wallet: its key minus a's is not a multiple of B anyone knows.
        let c = CopyKey::derive(&wallet(3), &CopySecret([2; 32]));
        let vc = crypto::parse_public_key(&c.public_key()).unwrap();
        assert!(!verify_link(&va, &vc, b"m", &c.link_from(&a, b"m")));
        // The same copy twice never links.
        assert!(!verify_link(&va, &va, b"m", &a.link_from(&a, b"m")));
    }

    #[test]
    fn salts_and_hidden_leaves_differ_per_copy_and_field() {
        let s1 = CopySecret([1; 32]);
        let s2 = CopySecret([2; 32]);
        assert_ne!(copy_salt(&s1, 0), copy_salt(&s2, 0));
        assert_ne!(copy_salt(&s1, 0), copy_salt(&s1, 1));
        assert_ne!(hidden_leaf(&s1, 7).0, copy_salt(&s1, 7).0);
    }
}
