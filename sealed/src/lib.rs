//! # ecert-sealed
//!
//! A secret sealed with a passphrase: the envelope shared by every ecert file that keeps a
//! secret at rest — the wallet (`ECW1`, see `ecert_wallet::store`), an issuer's signing key
//! (`ECK1`) and a ledger node's key (`ECN1`).
//!
//! This module is pure: it reads and writes no files and reads no clock; randomness (the
//! salt and the nonce) is passed in.
//!
//! # Format (version 1)
//!
//! ```text
//! file      = header ‖ ciphertext ‖ tag
//! header    = magic             4 bytes, chosen by the kind of file ("ECW1", "ECK1", ...)
//!             version           1 byte, = 1
//!             m_cost            4 bytes, big-endian: Argon2id memory in KiB
//!             t_cost            4 bytes, big-endian: Argon2id passes
//!             p_cost            4 bytes, big-endian: Argon2id lanes
//!             salt              16 bytes, random
//!             nonce             24 bytes, random            (57 bytes in all)
//! key       = Argon2id v0x13(passphrase (UTF-8), salt, m_cost, t_cost, p_cost) → 32 bytes
//! ciphertext ‖ tag = XChaCha20-Poly1305(key, nonce, associated data = header, secret)
//! ```
//!
//! The whole header, magic included, is authenticated, so a changed byte anywhere in the
//! file makes [`open_secret`] fail, and a file sealed for one purpose cannot be passed off
//! as another by rewriting its magic. The KDF parameters are checked against
//! [`KdfParams`]' bounds *before* the key is derived, so a hostile file cannot make the
//! reader allocate gigabytes of memory or run for hours.
//!
//! The passphrase, the derived key and the opened secret are held in [`Zeroizing`]
//! buffers and wiped when dropped, as are Argon2's working memory blocks and the cipher's
//! copy of the key (`XChaCha20Poly1305` is zeroized on drop). The secret being sealed is
//! encrypted in place in the output buffer, which is sized so that it never moves.

pub mod passphrase_rule;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use rand_core::CryptoRngCore;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    /// Decryption failed: the passphrase is wrong, or the file was changed or damaged.
    #[error("wrong passphrase, or the file is damaged")]
    WrongPassphrase,
    /// Key-derivation settings (asked for, or read from a file) outside the accepted bounds.
    #[error("the key-derivation settings are outside safe bounds: {0}")]
    KdfParamsOutOfBounds(String),
    /// The file does not start with the magic of the kind of file expected: it is some
    /// other file.
    #[error("this is not the expected kind of file (such files start with {expected:?})")]
    WrongFileKind {
        /// The magic expected, as text (hexadecimal if not printable).
        expected: String,
    },
    /// An envelope version this software does not read.
    #[error(
        "this file has format version {found}; this software reads version {supported}: update the software"
    )]
    UnsupportedFileVersion {
        /// The version in the file.
        found: u64,
        /// The version this software reads.
        supported: u64,
    },
    /// The file is cut short.
    #[error("the file is damaged: {0}")]
    FileDamaged(String),
    /// The secret, or the file, is larger than an envelope may hold.
    #[error("{actual} bytes is more than the {limit} bytes a sealed file may hold")]
    TooLarge {
        /// Its size.
        actual: usize,
        /// The most accepted.
        limit: usize,
    },
}

/// The version of the envelope (the byte after the magic).
pub const FORMAT_VERSION: u8 = 1;
/// Length of the magic at the start of the file.
pub const MAGIC_LEN: usize = 4;
/// Length of the salt fed to Argon2id.
pub const SALT_LEN: usize = 16;
/// Length of the XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag at the end of the file.
pub const TAG_LEN: usize = 16;
/// Length of the header: magic, version, three KDF parameters, salt, nonce.
pub const HEADER_LEN: usize = MAGIC_LEN + 1 + 3 * 4 + SALT_LEN + NONCE_LEN;
/// Largest secret that can be sealed (16 MiB).
pub const MAX_SECRET_BYTES: usize = 16 * 1024 * 1024;
/// Length of the derived key.
const KEY_LEN: usize = 32;

/// Argon2id parameters, stored in the file header.
///
/// [`KdfParams::default`] is what ecert uses: 64 MiB, 3 passes, 1 lane. Any parameters
/// read from a file must lie within the bounds below, or the file is refused before any
/// work is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

impl KdfParams {
    /// Least memory accepted, in KiB per lane (Argon2's own minimum is 8 KiB per lane).
    pub const MIN_M_COST_KIB_PER_LANE: u32 = 8;
    /// Most memory accepted, in KiB (256 MiB): more than a phone should be asked for.
    pub const MAX_M_COST_KIB: u32 = 256 * 1024;
    /// Most passes accepted.
    pub const MAX_T_COST: u32 = 10;
    /// Most lanes accepted.
    pub const MAX_P_COST: u32 = 8;

    /// Parameters `m_cost_kib` KiB of memory, `t_cost` passes and `p_cost` lanes, if they
    /// are within the bounds (1 ≤ p ≤ 8, 8·p KiB ≤ m ≤ 256 MiB, 1 ≤ t ≤ 10).
    ///
    /// Anything below the defaults is weaker against passphrase guessing; tests use small
    /// values to run fast.
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<KdfParams, SealError> {
        let out_of_bounds = |what: String| {
            Err(SealError::KdfParamsOutOfBounds(format!(
                "{what} (memory {m_cost_kib} KiB, {t_cost} passes, {p_cost} lanes)"
            )))
        };
        if p_cost == 0 || p_cost > Self::MAX_P_COST {
            return out_of_bounds(format!("lanes must be 1 to {}", Self::MAX_P_COST));
        }
        if t_cost == 0 || t_cost > Self::MAX_T_COST {
            return out_of_bounds(format!("passes must be 1 to {}", Self::MAX_T_COST));
        }
        let min_m = Self::MIN_M_COST_KIB_PER_LANE.saturating_mul(p_cost);
        if m_cost_kib < min_m || m_cost_kib > Self::MAX_M_COST_KIB {
            return out_of_bounds(format!(
                "memory must be {min_m} to {} KiB",
                Self::MAX_M_COST_KIB
            ));
        }
        Ok(KdfParams {
            m_cost_kib,
            t_cost,
            p_cost,
        })
    }

    /// Memory, in KiB.
    pub fn m_cost_kib(&self) -> u32 {
        self.m_cost_kib
    }

    /// Number of passes.
    pub fn t_cost(&self) -> u32 {
        self.t_cost
    }

    /// Number of lanes.
    pub fn p_cost(&self) -> u32 {
        self.p_cost
    }
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane.
    fn default() -> KdfParams {
        KdfParams {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

/// The parsed header of a sealed file.
struct Header {
    magic: [u8; MAGIC_LEN],
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
}

impl Header {
    fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let parts: [&[u8]; 7] = [
            &self.magic,
            &[FORMAT_VERSION],
            &self.kdf.m_cost_kib.to_be_bytes(),
            &self.kdf.t_cost.to_be_bytes(),
            &self.kdf.p_cost.to_be_bytes(),
            &self.salt,
            &self.nonce,
        ];
        let mut at = 0;
        for part in parts {
            for (dst, src) in out.iter_mut().skip(at).zip(part) {
                *dst = *src;
            }
            at += part.len();
        }
        out
    }

    /// Reads the header at the start of `file`; checks magic, version and KDF bounds.
    fn parse(magic: [u8; MAGIC_LEN], file: &[u8]) -> Result<Header, SealError> {
        if file.get(..MAGIC_LEN) != Some(&magic[..]) {
            return Err(SealError::WrongFileKind {
                expected: magic_text(magic),
            });
        }
        let version = *file.get(MAGIC_LEN).ok_or_else(truncated)?;
        if version != FORMAT_VERSION {
            return Err(SealError::UnsupportedFileVersion {
                found: u64::from(version),
                supported: u64::from(FORMAT_VERSION),
            });
        }
        let header = file.get(..HEADER_LEN).ok_or_else(truncated)?;
        let mut rest = header.get(MAGIC_LEN + 1..).ok_or_else(truncated)?;
        let mut take = |n: usize| -> Result<&[u8], SealError> {
            let (head, tail) = rest.split_at_checked(n).ok_or_else(truncated)?;
            rest = tail;
            Ok(head)
        };
        let mut u32_be = || -> Result<u32, SealError> {
            let bytes: [u8; 4] = take(4)?.try_into().map_err(|_| truncated())?;
            Ok(u32::from_be_bytes(bytes))
        };
        let (m, t, p) = (u32_be()?, u32_be()?, u32_be()?);
        let kdf = KdfParams::new(m, t, p)?;
        let salt = take(SALT_LEN)?.try_into().map_err(|_| truncated())?;
        let nonce = take(NONCE_LEN)?.try_into().map_err(|_| truncated())?;
        Ok(Header {
            magic,
            kdf,
            salt,
            nonce,
        })
    }
}

/// The magic as text for messages: its characters if printable ASCII, else hex.
fn magic_text(magic: [u8; MAGIC_LEN]) -> String {
    if magic.iter().all(|b| b.is_ascii_graphic()) {
        magic.iter().map(|b| char::from(*b)).collect()
    } else {
        magic.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn truncated() -> SealError {
    SealError::FileDamaged("the file is truncated".into())
}

fn too_large(actual: usize) -> SealError {
    SealError::TooLarge {
        actual,
        limit: MAX_SECRET_BYTES,
    }
}

/// Derives the file key from the passphrase with Argon2id. Argon2's working memory is
/// wiped afterwards, whether or not derivation succeeded.
fn derive_key(
    passphrase: &Zeroizing<String>,
    kdf: KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Zeroizing<[u8; KEY_LEN]>, SealError> {
    let kdf_error = |e: argon2::Error| SealError::KdfParamsOutOfBounds(e.to_string());
    let params =
        Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(KEY_LEN)).map_err(kdf_error)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let count = argon.params().block_count();
    let mut blocks: Vec<Block> = Vec::new();
    blocks.try_reserve_exact(count).map_err(|_| {
        SealError::KdfParamsOutOfBounds(format!("not enough memory for {} KiB", kdf.m_cost_kib))
    })?;
    blocks.resize(count, Block::default());
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    let result = argon.hash_password_into_with_memory(
        passphrase.as_bytes(),
        salt,
        key.as_mut_slice(),
        &mut blocks,
    );
    wipe(&mut blocks);
    result.map_err(kdf_error)?;
    Ok(key)
}

/// Wipes Argon2's working memory, which holds values derived from the passphrase.
fn wipe(blocks: &mut [Block]) {
    for block in blocks {
        AsMut::<[u64]>::as_mut(block).zeroize();
    }
}

/// Seals `secret` under `passphrase` in a file starting with `magic`: a fresh random salt
/// and nonce from `rng`, the key from Argon2id with `params`. Returns the whole file.
///
/// Errors: [`SealError::Schema`] (too large) if `secret` is longer than
/// [`MAX_SECRET_BYTES`]; [`SealError::KdfParamsOutOfBounds`] if the memory for Argon2id
/// cannot be had.
pub fn seal_secret(
    magic: [u8; MAGIC_LEN],
    secret: &[u8],
    passphrase: &Zeroizing<String>,
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, SealError> {
    if secret.len() > MAX_SECRET_BYTES {
        return Err(too_large(secret.len()));
    }
    let mut header = Header {
        magic,
        kdf: params,
        salt: [0; SALT_LEN],
        nonce: [0; NONCE_LEN],
    };
    rng.fill_bytes(&mut header.salt);
    rng.fill_bytes(&mut header.nonce);
    let header_bytes = header.to_bytes();
    let key = derive_key(passphrase, header.kdf, &header.salt)?;
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_slice()));

    // Copy the secret into the output buffer (sized so that it never reallocates) and
    // encrypt it there, in place.
    let mut file = Vec::with_capacity(HEADER_LEN + secret.len() + TAG_LEN);
    file.extend_from_slice(&header_bytes);
    file.extend_from_slice(secret);
    let body = file.get_mut(HEADER_LEN..).unwrap_or_default();
    match cipher.encrypt_in_place_detached(XNonce::from_slice(&header.nonce), &header_bytes, body) {
        Ok(tag) => {
            file.extend_from_slice(&tag);
            Ok(file)
        }
        Err(_) => {
            file.zeroize();
            Err(too_large(secret.len()))
        }
    }
}

/// Opens a file sealed by [`seal_secret`] with the same `magic`, with `passphrase`.
///
/// Errors, in the order they are checked: [`SealError::WrongFileKind`] (the file does
/// not start with `magic`), [`SealError::UnsupportedFileVersion`],
/// [`SealError::FileDamaged`] (truncated), [`SealError::KdfParamsOutOfBounds`],
/// [`SealError::Schema`] (too large), then [`SealError::WrongPassphrase`]
/// (authentication failed: a wrong passphrase, or any changed byte).
pub fn open_secret(
    magic: [u8; MAGIC_LEN],
    file: &[u8],
    passphrase: &Zeroizing<String>,
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let header = Header::parse(magic, file)?;
    if file.len() < HEADER_LEN + TAG_LEN {
        return Err(truncated());
    }
    if file.len() > HEADER_LEN + MAX_SECRET_BYTES + TAG_LEN {
        return Err(SealError::TooLarge {
            actual: file.len(),
            limit: HEADER_LEN + MAX_SECRET_BYTES + TAG_LEN,
        });
    }
    let (header_bytes, rest) = file.split_at_checked(HEADER_LEN).ok_or_else(truncated)?;
    let (ciphertext, tag) = rest
        .split_at_checked(rest.len().saturating_sub(TAG_LEN))
        .ok_or_else(truncated)?;
    let key = derive_key(passphrase, header.kdf, &header.salt)?;
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
    let mut secret = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_in_place_detached(
            XNonce::from_slice(&header.nonce),
            header_bytes,
            secret.as_mut_slice(),
            Tag::from_slice(tag),
        )
        .map_err(|_| SealError::WrongPassphrase)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    const KEY_MAGIC: [u8; 4] = *b"ECK1";
    const NODE_MAGIC: [u8; 4] = *b"ECN1";

    fn fast() -> KdfParams {
        KdfParams::new(64, 1, 1).unwrap()
    }

    fn pass(text: &str) -> Zeroizing<String> {
        Zeroizing::new(text.to_owned())
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn round_trip() {
        let secret = [0x5au8; 32];
        let file = seal_secret(KEY_MAGIC, &secret, &pass("hunter22"), fast(), &mut OsRng).unwrap();
        assert_eq!(file.len(), HEADER_LEN + secret.len() + TAG_LEN);
        assert_eq!(file.get(..5), Some(&b"ECK1\x01"[..]));
        let opened = open_secret(KEY_MAGIC, &file, &pass("hunter22")).unwrap();
        assert_eq!(opened.as_slice(), &secret);
        assert!(!contains(&file, &secret[..8]));

        // An empty secret, the default parameters, a non-ASCII passphrase.
        let file = seal_secret(
            NODE_MAGIC,
            b"",
            &pass("密码 pass"),
            KdfParams::default(),
            &mut OsRng,
        )
        .unwrap();
        assert_eq!(file.len(), HEADER_LEN + TAG_LEN);
        assert!(open_secret(NODE_MAGIC, &file, &pass("密码 pass"))
            .unwrap()
            .is_empty());

        // Sealing twice gives different files (fresh salt and nonce).
        let a = seal_secret(KEY_MAGIC, &secret, &pass("p"), fast(), &mut OsRng).unwrap();
        let b = seal_secret(KEY_MAGIC, &secret, &pass("p"), fast(), &mut OsRng).unwrap();
        assert_ne!(a, b);
    }

    /// A source that yields 0, 1, 2, ... so that the file is predictable.
    struct Counting(u8);

    impl rand_core::RngCore for Counting {
        fn next_u32(&mut self) -> u32 {
            rand_core::impls::next_u32_via_fill(self)
        }
        fn next_u64(&mut self) -> u64 {
            rand_core::impls::next_u64_via_fill(self)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl rand_core::CryptoRng for Counting {}

    #[test]
    fn the_layout_is_exactly_as_documented() {
        // Built here from the primitives, independently of the code under test.
        let (m, t, p) = (64u32, 2u32, 1u32);
        let salt: Vec<u8> = (0u8..16).collect();
        let nonce: Vec<u8> = (16u8..40).collect();
        let header = [
            &b"ECW1"[..],
            &[1],
            &m.to_be_bytes(),
            &t.to_be_bytes(),
            &p.to_be_bytes(),
            &salt,
            &nonce,
        ]
        .concat();
        assert_eq!(header.len(), 57);
        let mut key = [0u8; 32];
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(m, t, p, Some(32)).unwrap(),
        )
        .hash_password_into(b"pass phrase", &salt, &mut key)
        .unwrap();
        let mut body = b"the secret".to_vec();
        let tag = XChaCha20Poly1305::new(Key::from_slice(&key))
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &header, &mut body)
            .unwrap();
        let expected = [&header[..], &body, &tag].concat();

        let file = seal_secret(
            *b"ECW1",
            b"the secret",
            &pass("pass phrase"),
            KdfParams::new(m, t, p).unwrap(),
            &mut Counting(0),
        )
        .unwrap();
        assert_eq!(file, expected);
        assert_eq!(
            open_secret(*b"ECW1", &expected, &pass("pass phrase"))
                .unwrap()
                .as_slice(),
            b"the secret"
        );
    }

    #[test]
    fn wrong_magic_is_its_own_error() {
        let file = seal_secret(KEY_MAGIC, b"seed", &pass("pw"), fast(), &mut OsRng).unwrap();
        let err = open_secret(NODE_MAGIC, &file, &pass("pw")).unwrap_err();
        assert_eq!(
            err,
            SealError::WrongFileKind {
                expected: "ECN1".into()
            }
        );
        assert!(err.to_string().contains("ECN1"), "{err}");
        for junk in [&b""[..], b"ECN", b"PK\x03\x04 a zip file", b"ecn1\x01"] {
            assert!(matches!(
                open_secret(NODE_MAGIC, junk, &pass("pw")),
                Err(SealError::WrongFileKind { .. })
            ));
        }
        // Rewriting the magic does not turn a key file into a node file: the header is
        // authenticated.
        let mut relabelled = file.clone();
        relabelled[..4].copy_from_slice(&NODE_MAGIC);
        assert_eq!(
            open_secret(NODE_MAGIC, &relabelled, &pass("pw")).unwrap_err(),
            SealError::WrongPassphrase
        );
        // A magic that is not printable is shown in hex.
        let err = open_secret([0, 1, 2, 0xff], &file, &pass("pw")).unwrap_err();
        assert!(err.to_string().contains("000102ff"), "{err}");
    }

    #[test]
    fn wrong_passphrase_and_damage_are_refused() {
        let file = seal_secret(KEY_MAGIC, &[7u8; 64], &pass("right"), fast(), &mut OsRng).unwrap();
        for wrong in ["", "righ", "right ", "Right"] {
            assert_eq!(
                open_secret(KEY_MAGIC, &file, &pass(wrong)).unwrap_err(),
                SealError::WrongPassphrase
            );
        }
        // Every single flipped bit.
        for bit in 0..file.len() * 8 {
            let mut bad = file.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                open_secret(KEY_MAGIC, &bad, &pass("right")).is_err(),
                "bit {bit} flipped was accepted"
            );
        }
        // Truncated anywhere, or extended.
        for len in 0..file.len() {
            assert!(open_secret(KEY_MAGIC, &file[..len], &pass("right")).is_err());
        }
        assert!(matches!(
            open_secret(KEY_MAGIC, &file[..20], &pass("right")),
            Err(SealError::FileDamaged(_))
        ));
        assert!(matches!(
            open_secret(KEY_MAGIC, &file[..HEADER_LEN + 3], &pass("right")),
            Err(SealError::FileDamaged(_))
        ));
        let mut longer = file.clone();
        longer.push(0);
        assert_eq!(
            open_secret(KEY_MAGIC, &longer, &pass("right")).unwrap_err(),
            SealError::WrongPassphrase
        );
        // Another version.
        let mut v2 = file.clone();
        v2[4] = 2;
        assert_eq!(
            open_secret(KEY_MAGIC, &v2, &pass("right")).unwrap_err(),
            SealError::UnsupportedFileVersion {
                found: 2,
                supported: 1
            }
        );
    }

    #[test]
    fn hostile_kdf_parameters_are_refused_before_any_work() {
        let file = seal_secret(KEY_MAGIC, b"x", &pass("pw"), fast(), &mut OsRng).unwrap();
        assert_eq!(&file[5..17], &[0, 0, 0, 64, 0, 0, 0, 1, 0, 0, 0, 1]);
        for (offset, value) in [
            (5, u32::MAX),
            (5, KdfParams::MAX_M_COST_KIB + 1),
            (5, 7),
            (9, 0),
            (9, 1000),
            (13, 0),
            (13, 64),
        ] {
            let mut hostile = file.clone();
            hostile[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
            assert!(
                matches!(
                    open_secret(KEY_MAGIC, &hostile, &pass("pw")),
                    Err(SealError::KdfParamsOutOfBounds(_))
                ),
                "offset {offset} value {value}"
            );
        }
    }

    #[test]
    fn oversize_is_refused() {
        let big = vec![0u8; MAX_SECRET_BYTES + 1];
        assert!(matches!(
            seal_secret(KEY_MAGIC, &big, &pass("pw"), fast(), &mut OsRng),
            Err(SealError::TooLarge { .. })
        ));
        let file = seal_secret(KEY_MAGIC, b"x", &pass("pw"), fast(), &mut OsRng).unwrap();
        let mut huge = file[..HEADER_LEN].to_vec();
        huge.resize(HEADER_LEN + MAX_SECRET_BYTES + TAG_LEN + 1, 0);
        assert!(matches!(
            open_secret(KEY_MAGIC, &huge, &pass("pw")),
            Err(SealError::TooLarge { .. })
        ));
    }

    /// Compiles only for types that wipe their secret when dropped.
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}

    #[test]
    fn keys_and_secrets_are_wiped() {
        // The cipher keeps a copy of the derived key: wiped when it is dropped.
        zeroized_on_drop::<XChaCha20Poly1305>();
        zeroized_on_drop::<Zeroizing<[u8; KEY_LEN]>>();
        zeroized_on_drop::<Zeroizing<Vec<u8>>>();
        // Argon2's working memory, filled as a derivation leaves it.
        let argon = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, Some(KEY_LEN)).unwrap(),
        );
        let mut blocks = vec![Block::default(); argon.params().block_count()];
        let mut key = [0u8; KEY_LEN];
        argon
            .hash_password_into_with_memory(b"pw", &[1; SALT_LEN], &mut key, &mut blocks)
            .unwrap();
        let nonzero = |b: &[Block]| {
            b.iter()
                .any(|block| AsRef::<[u64]>::as_ref(block).iter().any(|w| *w != 0))
        };
        assert!(nonzero(&blocks));
        wipe(&mut blocks);
        assert!(!nonzero(&blocks));
        // The derived key, through the function the envelope uses.
        let derived = derive_key(&pass("pw"), fast(), &[1; SALT_LEN]).unwrap();
        assert_eq!(*derived, key);
    }

    #[test]
    fn kdf_bounds() {
        assert!(KdfParams::new(7, 1, 1).is_err());
        assert!(KdfParams::new(16, 1, 2).is_ok());
        assert!(KdfParams::new(16, 1, 3).is_err());
        assert!(KdfParams::new(64, 0, 1).is_err());
        assert!(KdfParams::new(64, 11, 1).is_err());
        assert!(KdfParams::new(64, 1, 0).is_err());
        assert!(KdfParams::new(64, 1, 9).is_err());
        assert!(KdfParams::new(KdfParams::MAX_M_COST_KIB, 10, 8).is_ok());
        assert!(KdfParams::new(KdfParams::MAX_M_COST_KIB + 1, 1, 1).is_err());
        let d = KdfParams::default();
        assert_eq!((d.m_cost_kib(), d.t_cost(), d.p_cost()), (65_536, 3, 1));
        assert_eq!(KdfParams::new(65_536, 3, 1).unwrap(), d);
    }
}
