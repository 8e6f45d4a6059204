//! The encrypted wallet file: the holder key's seed and the certificate packages, sealed
//! with a passphrase.
//!
//! This module is pure: it reads and writes no files and reads no clock; randomness (the
//! salt and the nonce) is passed in. The command-line wallet writes the bytes to disk.
//!
//! # Format (version 1)
//!
//! ```text
//! file      = header ‖ ciphertext ‖ tag
//! header    = "ECW1"            4 bytes, magic
//!             version           1 byte, = 1
//!             m_cost            4 bytes, big-endian: Argon2id memory in KiB
//!             t_cost            4 bytes, big-endian: Argon2id passes
//!             p_cost            4 bytes, big-endian: Argon2id lanes
//!             salt              16 bytes, random
//!             nonce             24 bytes, random            (57 bytes in all)
//! key       = Argon2id v0x13(passphrase (UTF-8), salt, m_cost, t_cost, p_cost) → 32 bytes
//! ciphertext ‖ tag = XChaCha20-Poly1305(key, nonce, associated data = header, plaintext)
//! plaintext = CBOR [ 1, bstr .size 32 (holder key seed), [ * bstr .cbor CertificatePackage ] ]
//! ```
//!
//! The envelope (header, key derivation, encryption) is `ecert_sealed`'s, with the
//! magic `ECW1`. The whole header is authenticated, so a changed byte anywhere in the file
//! (magic, parameters, salt, nonce, ciphertext or tag) makes [`open`] fail. The KDF parameters are
//! checked against [`KdfParams`]' bounds *before* the key is derived, so a hostile file
//! cannot make the wallet allocate gigabytes of memory or run for hours.
//!
//! The passphrase, the derived key, the seed and the plaintext are held in
//! [`Zeroizing`] buffers and wiped when dropped, as are Argon2's working memory blocks.
//! The plaintext is encoded into a buffer reserved for its whole size, so that it never
//! moves (a growing buffer would leave partial copies of the seed in freed memory), and the
//! re-encoding by which strict decoding checks it goes into a wiped buffer too. (A damaged
//! plaintext that re-encodes longer than it is may still make that buffer grow.)

use ecert_schemas::codec::{from_cbor_bounded_in, to_cbor_into, ByteBuf};
use ecert_schemas::{CertificatePackage, SchemaError};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::sealed::{self, open_secret, seal_secret};
use crate::{HolderKey, WalletError};

pub use crate::sealed::KdfParams;

/// The first four bytes of every wallet file.
pub const MAGIC: [u8; 4] = *b"ECW1";
/// The version of the file format (the byte after the magic).
pub const FORMAT_VERSION: u8 = sealed::FORMAT_VERSION;
/// The version of the encrypted contents (the first item of the plaintext array).
pub const CONTENTS_VERSION: u64 = 1;
/// Length of the salt fed to Argon2id.
pub const SALT_LEN: usize = sealed::SALT_LEN;
/// Length of the XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = sealed::NONCE_LEN;
/// Length of the Poly1305 tag at the end of the file.
pub const TAG_LEN: usize = sealed::TAG_LEN;
/// Length of the header: magic, version, three KDF parameters, salt, nonce.
pub const HEADER_LEN: usize = sealed::HEADER_LEN;
/// Largest plaintext a wallet may hold (16 MiB: thousands of certificates).
pub const MAX_CONTENTS_BYTES: usize = sealed::MAX_SECRET_BYTES;

/// What a wallet holds: the holder key and the certificate packages, in the order they
/// were received.
#[derive(Debug)]
pub struct WalletContents {
    /// The wallet's key; every certificate in it is bound to this key.
    pub holder: HolderKey,
    /// The certificate packages, as the departments delivered them.
    pub packages: Vec<CertificatePackage>,
}

/// The plaintext as CBOR: `[CONTENTS_VERSION, seed, [* package bytes]]`.
fn encode_contents(contents: &WalletContents) -> Result<Zeroizing<Vec<u8>>, WalletError> {
    let mut packages = Vec::with_capacity(contents.packages.len());
    for package in &contents.packages {
        packages.push(ByteBuf::from(package.to_bytes()?));
    }
    let seed = contents.holder.seed();
    // Room for the whole encoding (the packages, the seed, and at most 9 bytes of CBOR
    // heads per item), so that it is written in place: a growing buffer would leave
    // partial copies of the seed behind in freed memory.
    let room = packages
        .iter()
        .map(|p| p.len().saturating_add(9))
        .fold(seed.len().saturating_add(64), usize::saturating_add);
    let mut value = (CONTENTS_VERSION, ByteBuf::from(seed.to_vec()), packages);
    let mut encoded = Zeroizing::new(Vec::with_capacity(room));
    let result = to_cbor_into(&value, &mut encoded);
    // The seed's copy inside the tuple: wipe it before it is freed.
    value.1.as_mut_slice().zeroize();
    result?;
    Ok(encoded)
}

/// Reads the plaintext written by [`encode_contents`].
fn decode_contents(plaintext: &[u8]) -> Result<WalletContents, WalletError> {
    type Plain = (u64, ByteBuf, Vec<ByteBuf>);
    // The strict decoder re-encodes the contents to compare them: into a buffer wiped
    // when dropped, since the re-encoding holds the seed too.
    let mut again = Zeroizing::new(Vec::new());
    let (version, seed_buf, packages) = match from_cbor_bounded_in::<Plain>(
        "wallet contents",
        plaintext,
        MAX_CONTENTS_BYTES,
        &mut again,
    ) {
        Ok(value) => value,
        Err(e) => {
            // A future layout still starts with its version number.
            if let (Some(0x80..=0x97), Some(&v @ 0..=0x17)) = (plaintext.first(), plaintext.get(1))
            {
                if u64::from(v) != CONTENTS_VERSION {
                    return Err(WalletError::UnsupportedWalletVersion {
                        found: u64::from(v),
                        supported: CONTENTS_VERSION,
                    });
                }
            }
            return Err(WalletError::WalletDamaged(e.to_string()));
        }
    };
    let seed_vec = Zeroizing::new(seed_buf.into_vec());
    if version != CONTENTS_VERSION {
        return Err(WalletError::UnsupportedWalletVersion {
            found: version,
            supported: CONTENTS_VERSION,
        });
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    if seed_vec.len() != seed.len() {
        return Err(WalletError::WalletDamaged(format!(
            "the holder key is {} bytes, not 32",
            seed_vec.len()
        )));
    }
    seed.copy_from_slice(&seed_vec);
    let holder = HolderKey::from_seed(&seed);
    let mut parsed = Vec::with_capacity(packages.len());
    for (i, bytes) in packages.iter().enumerate() {
        parsed.push(CertificatePackage::from_bytes(bytes).map_err(|e| {
            WalletError::WalletDamaged(format!("certificate package {}: {e}", i + 1))
        })?);
    }
    Ok(WalletContents {
        holder,
        packages: parsed,
    })
}

/// Encrypts `contents` under `passphrase`: a fresh random salt and nonce from `rng`, key
/// from Argon2id with `params`. Returns the whole file.
pub fn seal(
    contents: &WalletContents,
    passphrase: &Zeroizing<String>,
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, WalletError> {
    let plaintext = encode_contents(contents)?;
    if plaintext.len() > MAX_CONTENTS_BYTES {
        return Err(WalletError::Schema(SchemaError::TooLarge {
            actual: plaintext.len(),
            limit: MAX_CONTENTS_BYTES,
        }));
    }
    Ok(seal_secret(MAGIC, &plaintext, passphrase, params, rng)?)
}

/// Decrypts a wallet file with `passphrase`.
///
/// Errors, in the order they are checked: [`WalletError::NotAWalletFile`] (no `ECW1`
/// magic), [`WalletError::UnsupportedWalletVersion`], [`WalletError::WalletDamaged`]
/// (truncated), [`WalletError::KdfParamsOutOfBounds`], [`WalletError::Schema`] (too
/// large), [`WalletError::WrongPassphrase`] (authentication failed: a wrong passphrase or
/// any changed byte), then [`WalletError::WalletDamaged`] or
/// [`WalletError::UnsupportedWalletVersion`] for authentic contents this software cannot
/// read.
pub fn open(file: &[u8], passphrase: &Zeroizing<String>) -> Result<WalletContents, WalletError> {
    let plaintext = open_secret(MAGIC, file, passphrase)?;
    decode_contents(&plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_schemas::codec::to_cbor;
    use ecert_schemas::{AnchorProof, Disclosure, FieldValue, Hash32, Salt};
    use rand_core::OsRng;

    fn fast() -> KdfParams {
        KdfParams::new(64, 1, 1).unwrap()
    }

    fn pass(text: &str) -> Zeroizing<String> {
        Zeroizing::new(text.to_owned())
    }

    /// A package-shaped value whose "certificate" bytes and disclosure are recognisable.
    fn package(name: &str, id_number: &str) -> CertificatePackage {
        let disclosure = |field: u16, value: &str| {
            ByteBuf::from(
                Disclosure {
                    salt: Salt([7; 16]),
                    field,
                    value: FieldValue::Text(value.into()),
                }
                .to_bytes()
                .unwrap(),
            )
        };
        CertificatePackage {
            version: 1,
            certificate: ByteBuf::from(b"CERTIFICATE-BYTES-0123456789abcdef".to_vec()),
            disclosures: vec![disclosure(0, name), disclosure(5, id_number)],
            anchor: AnchorProof {
                batch_seq: 3,
                leaf_index: 1,
                path: vec![Hash32([9; 32])],
            },
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn the_plaintext_is_written_in_place_and_wiped() {
        for count in [0, 1, 5, 40] {
            let contents = WalletContents {
                holder: HolderKey::generate(&mut OsRng),
                packages: (0..count)
                    .map(|i| package("张伟", &"9".repeat(i)))
                    .collect(),
            };
            let mut plaintext = encode_contents(&contents).unwrap();
            // The buffer never grew: what is left of it is the room reserved beyond the
            // encoding, not the doubling of a buffer that moved (and left copies behind).
            let slack = plaintext.capacity() - plaintext.len();
            assert!(slack <= 64 + 9 * (count + 1), "{count}: slack {slack}");
            assert!(contains(&plaintext, contents.holder.seed().as_slice()));
            // What `Zeroizing` does when it is dropped.
            plaintext.zeroize();
            assert!(plaintext.iter().all(|b| *b == 0));
        }
    }

    #[test]
    fn round_trip() {
        let holder = HolderKey::generate(&mut OsRng);
        let public = holder.public_key();
        let contents = WalletContents {
            holder,
            packages: vec![package("张伟", "110108199003070016"), package("李娜", "X")],
        };
        let file = seal(&contents, &pass("correct horse"), fast(), &mut OsRng).unwrap();
        assert_eq!(file.get(..4), Some(&b"ECW1"[..]));
        let opened = open(&file, &pass("correct horse")).unwrap();
        assert_eq!(opened.holder.public_key(), public);
        assert_eq!(*opened.holder.seed(), *contents.holder.seed());
        assert_eq!(opened.packages, contents.packages);

        // An empty wallet, and the default parameters.
        let empty = WalletContents {
            holder: HolderKey::generate(&mut OsRng),
            packages: vec![],
        };
        let file = seal(&empty, &pass(""), KdfParams::default(), &mut OsRng).unwrap();
        assert_eq!(file.len(), HEADER_LEN + 1 + 1 + 2 + 32 + 1 + TAG_LEN);
        assert!(open(&file, &pass("")).unwrap().packages.is_empty());

        // Sealing twice gives different files (fresh salt and nonce).
        let again = seal(&empty, &pass(""), KdfParams::default(), &mut OsRng).unwrap();
        assert_ne!(file, again);
    }

    #[test]
    fn wrong_passphrase_is_refused() {
        let contents = WalletContents {
            holder: HolderKey::generate(&mut OsRng),
            packages: vec![package("张伟", "110108199003070016")],
        };
        let file = seal(&contents, &pass("correct horse"), fast(), &mut OsRng).unwrap();
        for wrong in ["", "correct hors", "correct horse ", "Correct horse"] {
            assert_eq!(
                open(&file, &pass(wrong)).unwrap_err(),
                WalletError::WrongPassphrase
            );
        }
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let empty = WalletContents {
            holder: HolderKey::generate(&mut OsRng),
            packages: vec![],
        };
        let full = WalletContents {
            holder: HolderKey::generate(&mut OsRng),
            packages: vec![package("张伟", "110108199003070016")],
        };
        let p = pass("pw");
        // Every bit of an empty wallet; every bit of the header and the tag and every
        // 7th bit of the rest of a wallet with a package.
        let small = seal(&empty, &p, fast(), &mut OsRng).unwrap();
        let big = seal(&full, &p, fast(), &mut OsRng).unwrap();
        let mut checked = 0;
        for (file, all) in [(&small, true), (&big, false)] {
            let bits = file.len() * 8;
            for bit in 0..bits {
                let edge = bit < HEADER_LEN * 8 || bit >= bits - TAG_LEN * 8;
                if !all && !edge && bit % 7 != 0 {
                    continue;
                }
                let mut bad = file.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(open(&bad, &p).is_err(), "bit {bit} flipped was accepted");
                checked += 1;
            }
            // Truncation and extension, too.
            assert!(open(&file[..file.len() - 1], &p).is_err());
            let mut longer = file.clone();
            longer.push(0);
            assert!(open(&longer, &p).is_err());
            assert!(open(&file[..HEADER_LEN], &p).is_err());
        }
        assert!(checked > 1000);
    }

    #[test]
    fn distinct_errors() {
        let p = pass("pw");
        let contents = WalletContents {
            holder: HolderKey::generate(&mut OsRng),
            packages: vec![],
        };
        let file = seal(&contents, &p, fast(), &mut OsRng).unwrap();

        for not_wallet in [&b""[..], b"ECW", b"PK\x03\x04 a zip file", b"ecw1\x01"] {
            assert_eq!(
                open(not_wallet, &p).unwrap_err(),
                WalletError::NotAWalletFile
            );
        }
        let mut v2 = file.clone();
        v2[4] = 2;
        assert_eq!(
            open(&v2, &p).unwrap_err(),
            WalletError::UnsupportedWalletVersion {
                found: 2,
                supported: 1
            }
        );
        assert!(matches!(
            open(&file[..20], &p),
            Err(WalletError::WalletDamaged(_))
        ));

        // Absurd memory (4 GiB), passes and lanes are refused before any work.
        for (offset, value) in [(5, u32::MAX), (5, 256 * 1024 + 1), (9, 1000), (13, 64)] {
            let mut hostile = file.clone();
            hostile[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
            assert!(
                matches!(
                    open(&hostile, &p),
                    Err(WalletError::KdfParamsOutOfBounds(_))
                ),
                "offset {offset} value {value}"
            );
        }
        // (The bounds themselves are tested in `ecert-sealed`.)
        // The parameters in the header are the ones used.
        assert_eq!(&file[5..17], &[0, 0, 0, 64, 0, 0, 0, 1, 0, 0, 0, 1]);
    }

    #[test]
    fn authentic_but_unreadable_contents() {
        // Encrypt hand-made plaintexts with the file's real machinery.
        let p = pass("pw");
        let seal_raw =
            |plaintext: &[u8]| seal_secret(MAGIC, plaintext, &p, fast(), &mut OsRng).unwrap();
        let seed = ByteBuf::from(vec![3u8; 32]);
        let v2 = to_cbor(&(2u64, seed.clone(), Vec::<ByteBuf>::new())).unwrap();
        assert!(matches!(
            open(&seal_raw(&v2), &p),
            Err(WalletError::UnsupportedWalletVersion { found: 2, .. })
        ));
        let short_seed =
            to_cbor(&(1u64, ByteBuf::from(vec![3u8; 31]), Vec::<ByteBuf>::new())).unwrap();
        assert!(matches!(
            open(&seal_raw(&short_seed), &p),
            Err(WalletError::WalletDamaged(_))
        ));
        let bad_package = to_cbor(&(1u64, seed.clone(), vec![ByteBuf::from(vec![0u8])])).unwrap();
        assert!(matches!(
            open(&seal_raw(&bad_package), &p),
            Err(WalletError::WalletDamaged(_))
        ));
        assert!(matches!(
            open(&seal_raw(b"not cbor at all"), &p),
            Err(WalletError::WalletDamaged(_))
        ));
        let good = to_cbor(&(1u64, seed, Vec::<ByteBuf>::new())).unwrap();
        assert!(open(&seal_raw(&good), &p).is_ok());
    }

    #[test]
    fn nothing_secret_or_personal_in_clear() {
        let holder = HolderKey::generate(&mut OsRng);
        let seed = holder.seed();
        let public = holder.public_key();
        let pkg = package("张伟", "110108199003070016");
        let contents = WalletContents {
            holder,
            packages: vec![pkg.clone()],
        };
        let file = seal(&contents, &pass("correct horse"), fast(), &mut OsRng).unwrap();
        assert!(!contains(&file, seed.as_slice()));
        assert!(!contains(&file, &seed[..8]));
        assert!(!contains(&file, public.as_bytes()));
        assert!(!contains(&file, "张伟".as_bytes()));
        assert!(!contains(&file, b"110108199003070016"));
        assert!(!contains(&file, &pkg.certificate));
        assert!(!contains(&file, b"CERTIFICATE"));
        assert!(!contains(&file, &pkg.to_bytes().unwrap()));
        for d in &pkg.disclosures {
            assert!(!contains(&file, d));
        }
        assert!(!contains(&file, b"correct horse"));
    }
}
