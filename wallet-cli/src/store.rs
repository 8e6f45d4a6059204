//! The encrypted wallet file: the holder key's seed, the certificate packages (of both
//! formats, with the one-time copies already shown) and the holder's history of
//! presentations ([`crate::history`]), sealed with a passphrase.
//!
//! This module is pure: it reads and writes no files and reads no clock; randomness (the
//! salt and the nonce) is passed in. The command-line wallet writes the bytes to disk.
//!
//! # Format (envelope version 1, contents version 3)
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
//! plaintext = CBOR [ 3, bstr .size 32 (holder key seed), [ * held ], history ]
//! held      = [ package : bstr .cbor (CertificatePackage / CopyPackage),
//!               spent   : bstr ]   ; format 2: one bit per copy, set once it was shown
//!                                  ; (bit i % 8, least significant first, of byte i / 8;
//!                                  ; exactly ⌈copies / 8⌉ bytes, no bit past the last
//!                                  ; copy); format 1: empty
//! history   = [ * entry ]   (crate::history: when, which certificates, which field keys)
//! ```
//!
//! Earlier contents versions are still read: version 2, `[ 2, seed, [ * bstr .cbor
//! CertificatePackage ], history ]` (format-1 packages only), and version 1, the same
//! without the history, as a wallet with an empty history. A wallet is written as version
//! 3 the next time it is saved. Software that reads only an earlier version refuses a
//! later one as [`WalletError::UnsupportedWalletVersion`] rather than misreading it.
//!
//! The marks of the copies shown are in the same file as the packages for the same reason
//! as the history: one atomic write carries the package, its marks and the history entry
//! of a presentation, so that a copy is never marked in one file and shown from another,
//! and a kill at any point leaves the marks of the copies whose code was shown (a kill
//! after the write but before the code is shown only wastes a copy).
//!
//! The history is inside the wallet file rather than in a file of its own so that one
//! atomic write keeps the certificates and the history together: a new passphrase
//! (`passwd`), a backup and a restore carry both, and no crash can leave the two under
//! different passphrases. [`open`] and [`seal`] leave the history out; a tool that writes
//! back a wallet it opened uses [`open_with_history`] and [`seal_with_history`], so that
//! the holder's history is kept.
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

use ecert_schemas::codec::{from_cbor_bounded_in, to_cbor, to_cbor_into, ByteBuf};
use ecert_schemas::copy::{AnyPackage, CopyPackage};
use ecert_schemas::{CertificatePackage, SchemaError};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::copies::HeldCopies;
use crate::history::{Entry, History};
use crate::sealed::{self, open_secret, seal_secret};
use crate::{HolderKey, WalletError};

pub use crate::sealed::KdfParams;

/// The first four bytes of every wallet file.
pub const MAGIC: [u8; 4] = *b"ECW1";
/// The version of the file format (the byte after the magic).
pub const FORMAT_VERSION: u8 = sealed::FORMAT_VERSION;
/// The version of the encrypted contents written (the first item of the plaintext array):
/// 3, with packages of both formats and the copies shown.
pub const CONTENTS_VERSION: u64 = 3;
/// The oldest version of the contents still read: 1, before the history existed.
pub const OLDEST_CONTENTS_VERSION: u64 = 1;
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

/// One certificate in the wallet, as its department delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// Format 1: the whole certificate, shown as it is at every counter.
    Whole(CertificatePackage),
    /// Format 2: one-time copies, and which of them were shown.
    Copies(HeldCopies),
}

impl Held {
    /// A package as received.
    pub fn of(package: AnyPackage) -> Held {
        match package {
            AnyPackage::V1(p) => Held::Whole(p),
            AnyPackage::V2(p) => Held::Copies(HeldCopies::new(p)),
        }
    }

    /// The package's bytes, as the department delivered it.
    pub fn package_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        match self {
            Held::Whole(p) => p.to_bytes(),
            Held::Copies(c) => c.package().to_bytes(),
        }
    }

    /// The format-1 package, if it is one.
    pub fn whole(&self) -> Option<&CertificatePackage> {
        match self {
            Held::Whole(p) => Some(p),
            Held::Copies(_) => None,
        }
    }

    /// The format-2 package and its marks, if it is one.
    pub fn copies(&self) -> Option<&HeldCopies> {
        match self {
            Held::Whole(_) => None,
            Held::Copies(c) => Some(c),
        }
    }

    /// The marks of the copies shown, as the file keeps them (empty for format 1).
    fn spent_bits(&self) -> Vec<u8> {
        match self {
            Held::Whole(_) => Vec::new(),
            Held::Copies(c) => c.to_bits(),
        }
    }

    /// Reads one `held` item of a version-3 file.
    fn read(package: &[u8], spent: &[u8]) -> Result<Held, String> {
        match AnyPackage::from_bytes(package).map_err(|e| e.to_string())? {
            AnyPackage::V1(p) if spent.is_empty() => Ok(Held::Whole(p)),
            AnyPackage::V1(_) => Err("a certificate of format 1 has marks of copies".into()),
            AnyPackage::V2(p) => HeldCopies::from_bits(p, spent).map(Held::Copies),
        }
    }
}

impl From<CertificatePackage> for Held {
    fn from(package: CertificatePackage) -> Held {
        Held::Whole(package)
    }
}

impl From<CopyPackage> for Held {
    fn from(package: CopyPackage) -> Held {
        Held::Copies(HeldCopies::new(package))
    }
}

/// What a wallet holds: the holder key and the certificates, in the order they were
/// received (a new issue of a certificate takes the place of the one it replaces).
#[derive(Debug)]
pub struct WalletContents {
    /// The wallet's key; every certificate in it is bound to this key.
    pub holder: HolderKey,
    /// The certificates, as the departments delivered them, with the copies shown.
    pub packages: Vec<Held>,
}

impl WalletContents {
    /// A wallet with `holder`'s key and no certificates.
    pub fn new(holder: HolderKey) -> WalletContents {
        WalletContents {
            holder,
            packages: Vec::new(),
        }
    }
}

/// The plaintext as CBOR: `[CONTENTS_VERSION, seed, [* [package bytes, spent]], history]`.
fn encode_contents(
    contents: &WalletContents,
    history: &History,
) -> Result<Zeroizing<Vec<u8>>, WalletError> {
    let mut packages = Vec::with_capacity(contents.packages.len());
    for held in &contents.packages {
        packages.push((
            ByteBuf::from(held.package_bytes()?),
            ByteBuf::from(held.spent_bits()),
        ));
    }
    let history_len = to_cbor(&history.entries())?.len();
    let seed = contents.holder.seed();
    // Room for the whole encoding (the packages and their marks, the history, the seed,
    // and at most 9 bytes of CBOR heads per item), so that it is written in place: a
    // growing buffer would leave partial copies of the seed behind in freed memory.
    let room = packages
        .iter()
        .map(|(p, s)| p.len().saturating_add(s.len()).saturating_add(27))
        .fold(
            seed.len().saturating_add(64).saturating_add(history_len),
            usize::saturating_add,
        );
    let mut value = (
        CONTENTS_VERSION,
        ByteBuf::from(seed.to_vec()),
        packages,
        history.entries(),
    );
    let mut encoded = Zeroizing::new(Vec::with_capacity(room));
    let result = to_cbor_into(&value, &mut encoded);
    // The seed's copy inside the tuple: wipe it before it is freed.
    value.1.as_mut_slice().zeroize();
    result?;
    Ok(encoded)
}

/// The version a plaintext says it is: its first item, when it is an array (of up to 23
/// items) whose first item is an unsigned integer, as every version's is.
fn contents_version(plaintext: &[u8]) -> Option<u64> {
    if !matches!(plaintext.first(), Some(0x80..=0x97)) {
        return None;
    }
    let head = *plaintext.get(1)?;
    let big_endian = |n: usize| -> Option<u64> {
        let bytes = plaintext.get(2..2 + n)?;
        Some(bytes.iter().fold(0u64, |v, b| v << 8 | u64::from(*b)))
    };
    match head {
        0x00..=0x17 => Some(u64::from(head)),
        0x18 => big_endian(1),
        0x19 => big_endian(2),
        0x1a => big_endian(4),
        0x1b => big_endian(8),
        _ => None,
    }
}

/// A package of a version-1 or version-2 file: format 1 only.
fn read_whole(bytes: &[u8]) -> Result<Held, String> {
    CertificatePackage::from_bytes(bytes)
        .map(Held::Whole)
        .map_err(|e| e.to_string())
}

/// Reads the plaintext written by [`encode_contents`], or by a version-1 or version-2
/// wallet.
fn decode_contents(plaintext: &[u8]) -> Result<(WalletContents, History), WalletError> {
    type PlainV1 = (u64, ByteBuf, Vec<ByteBuf>);
    type PlainV2 = (u64, ByteBuf, Vec<ByteBuf>, Vec<Entry>);
    type PlainV3 = (u64, ByteBuf, Vec<(ByteBuf, ByteBuf)>, Vec<Entry>);
    let unsupported = |found: u64| WalletError::UnsupportedWalletVersion {
        found,
        supported: CONTENTS_VERSION,
    };
    // The strict decoder re-encodes the contents to compare them: into a buffer wiped
    // when dropped, since the re-encoding holds the seed too.
    let mut again = Zeroizing::new(Vec::new());
    let what = "wallet contents";
    let without_marks =
        |packages: Vec<ByteBuf>| packages.into_iter().map(|p| (p, None)).collect::<Vec<_>>();
    let decoded = match contents_version(plaintext) {
        Some(1) => from_cbor_bounded_in::<PlainV1>(what, plaintext, MAX_CONTENTS_BYTES, &mut again)
            .map(|(v, seed, packages)| (v, seed, without_marks(packages), Vec::new())),
        Some(2) => from_cbor_bounded_in::<PlainV2>(what, plaintext, MAX_CONTENTS_BYTES, &mut again)
            .map(|(v, seed, packages, history)| (v, seed, without_marks(packages), history)),
        Some(CONTENTS_VERSION) | None => {
            from_cbor_bounded_in::<PlainV3>(what, plaintext, MAX_CONTENTS_BYTES, &mut again).map(
                |(v, seed, packages, history)| {
                    let packages = packages.into_iter().map(|(p, s)| (p, Some(s))).collect();
                    (v, seed, packages, history)
                },
            )
        }
        // A future layout still starts with its version number.
        Some(other) => return Err(unsupported(other)),
    };
    let (version, seed_buf, packages, history) =
        decoded.map_err(|e| WalletError::WalletDamaged(e.to_string()))?;
    let seed_vec = Zeroizing::new(seed_buf.into_vec());
    if !(OLDEST_CONTENTS_VERSION..=CONTENTS_VERSION).contains(&version) {
        return Err(unsupported(version));
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
    for (i, (bytes, spent)) in packages.iter().enumerate() {
        let held = match spent {
            Some(spent) => Held::read(bytes, spent),
            None => read_whole(bytes),
        };
        parsed.push(held.map_err(|e| {
            WalletError::WalletDamaged(format!("certificate package {}: {e}", i + 1))
        })?);
    }
    let contents = WalletContents {
        holder,
        packages: parsed,
    };
    Ok((contents, History::from_entries(history)))
}

/// Encrypts `contents` under `passphrase`, with an empty history: a fresh random salt and
/// nonce from `rng`, key from Argon2id with `params`. Returns the whole file.
///
/// To write back a wallet that was opened, use [`seal_with_history`] with the history
/// [`open_with_history`] gave, or the holder's history is lost.
pub fn seal(
    contents: &WalletContents,
    passphrase: &Zeroizing<String>,
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, WalletError> {
    seal_with_history(contents, &History::new(), passphrase, params, rng)
}

/// Encrypts `contents` and `history` under `passphrase`: a fresh random salt and nonce
/// from `rng`, key from Argon2id with `params`. Returns the whole file.
pub fn seal_with_history(
    contents: &WalletContents,
    history: &History,
    passphrase: &Zeroizing<String>,
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, WalletError> {
    let plaintext = encode_contents(contents, history)?;
    if plaintext.len() > MAX_CONTENTS_BYTES {
        return Err(WalletError::Schema(SchemaError::TooLarge {
            actual: plaintext.len(),
            limit: MAX_CONTENTS_BYTES,
        }));
    }
    Ok(seal_secret(MAGIC, &plaintext, passphrase, params, rng)?)
}

/// Decrypts a wallet file with `passphrase`: its key and certificates (its history is
/// left out; see [`open_with_history`]).
///
/// Errors, in the order they are checked: [`WalletError::NotAWalletFile`] (no `ECW1`
/// magic), [`WalletError::UnsupportedWalletVersion`], [`WalletError::WalletDamaged`]
/// (truncated), [`WalletError::KdfParamsOutOfBounds`], [`WalletError::Schema`] (too
/// large), [`WalletError::WrongPassphrase`] (authentication failed: a wrong passphrase or
/// any changed byte), then [`WalletError::WalletDamaged`] or
/// [`WalletError::UnsupportedWalletVersion`] for authentic contents this software cannot
/// read.
pub fn open(file: &[u8], passphrase: &Zeroizing<String>) -> Result<WalletContents, WalletError> {
    open_with_history(file, passphrase).map(|(contents, _)| contents)
}

/// Decrypts a wallet file with `passphrase`: its key and certificates, and the holder's
/// history (empty for a wallet of contents version 1). Errors as [`open`].
pub fn open_with_history(
    file: &[u8],
    passphrase: &Zeroizing<String>,
) -> Result<(WalletContents, History), WalletError> {
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

    fn entry(time: u64, fields: &[&str]) -> Entry {
        Entry {
            time: ecert_schemas::UnixTime(time),
            challenge: None,
            counter: None,
            certificates: vec![crate::history::Shown {
                short_id: "abababab".into(),
                kind: ecert_schemas::KindId::new("id-card").unwrap(),
                issuer: ecert_schemas::IssuerId::new("public-security").unwrap(),
                fields: fields.iter().map(|f| f.to_string()).collect(),
            }],
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
                    .map(|i| package("张伟", &"9".repeat(i)).into())
                    .collect(),
            };
            let mut history = History::new();
            for t in 0..count {
                history
                    .record(entry(t as u64, &["name", "id_number"]))
                    .unwrap();
            }
            let mut plaintext = encode_contents(&contents, &history).unwrap();
            // The buffer never grew: what is left of it is the room reserved beyond the
            // encoding, not the doubling of a buffer that moved (and left copies behind).
            let slack = plaintext.capacity() - plaintext.len();
            assert!(slack <= 64 + 27 * (count + 1), "{count}: slack {slack}");
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
            packages: vec![
                package("张伟", "110108199003070016").into(),
                package("李娜", "X").into(),
            ],
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
        assert_eq!(file.len(), HEADER_LEN + 1 + 1 + 2 + 32 + 1 + 1 + TAG_LEN);
        assert!(open(&file, &pass("")).unwrap().packages.is_empty());

        // Sealing twice gives different files (fresh salt and nonce).
        let again = seal(&empty, &pass(""), KdfParams::default(), &mut OsRng).unwrap();
        assert_ne!(file, again);
    }

    #[test]
    fn wrong_passphrase_is_refused() {
        let contents = WalletContents {
            holder: HolderKey::generate(&mut OsRng),
            packages: vec![package("张伟", "110108199003070016").into()],
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
            packages: vec![package("张伟", "110108199003070016").into()],
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
        let none = Vec::<ByteBuf>::new();
        let no_history = Vec::<Entry>::new();
        for future in [
            to_cbor(&(4u64, seed.clone(), none.clone(), no_history.clone())).unwrap(),
            to_cbor(&(4u64, seed.clone(), none.clone())).unwrap(),
            to_cbor(&(99u64, seed.clone())).unwrap(),
            to_cbor(&(1000u64, seed.clone(), none.clone(), no_history.clone())).unwrap(),
        ] {
            assert!(
                matches!(
                    open(&seal_raw(&future), &p),
                    Err(WalletError::UnsupportedWalletVersion { supported: 3, .. })
                ),
                "{future:02x?}"
            );
        }
        // A version's number with the other version's layout.
        for mixed in [
            to_cbor(&(2u64, seed.clone(), none.clone())).unwrap(),
            to_cbor(&(1u64, seed.clone(), none.clone(), no_history.clone())).unwrap(),
            to_cbor(&(3u64, seed.clone(), none.clone())).unwrap(),
            // Version 3 with version 2's packages (no marks).
            to_cbor(&(
                3u64,
                seed.clone(),
                vec![ByteBuf::from(vec![0x80])],
                no_history.clone(),
            ))
            .unwrap(),
        ] {
            assert!(matches!(
                open(&seal_raw(&mixed), &p),
                Err(WalletError::WalletDamaged(_))
            ));
        }
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
        let good = to_cbor(&(2u64, seed.clone(), none.clone(), no_history.clone())).unwrap();
        assert!(open(&seal_raw(&good), &p).is_ok());
        let pairs = Vec::<(ByteBuf, ByteBuf)>::new();
        let good = to_cbor(&(3u64, seed.clone(), pairs, no_history)).unwrap();
        assert!(open(&seal_raw(&good), &p).is_ok());
        // A damaged history entry (an authentic one is always well formed).
        let bad_entry = to_cbor(&(
            2u64,
            seed,
            none,
            vec![(
                1u64,
                Option::<ByteBuf>::None,
                Option::<String>::None,
                none_shown(),
            )],
        ))
        .unwrap();
        assert!(matches!(
            open(&seal_raw(&bad_entry), &p),
            Err(WalletError::WalletDamaged(_))
        ));
    }

    fn none_shown() -> Vec<(String, String, String, Vec<String>)> {
        Vec::new()
    }

    #[test]
    fn the_history_is_kept_and_sealed_with_the_wallet() {
        let holder = HolderKey::generate(&mut OsRng);
        let contents = WalletContents {
            holder,
            packages: vec![package("张伟", "110108199003070016").into()],
        };
        let mut history = History::new();
        history
            .record(entry(1_000, &["name", "id_number"]))
            .unwrap();
        let mut challenged = entry(2_000, &[]);
        challenged.challenge = Some(ecert_schemas::Nonce::from_hex("9f3a61c2").unwrap());
        history.record(challenged).unwrap();
        let p = pass("correct horse");
        let file = seal_with_history(&contents, &history, &p, fast(), &mut OsRng).unwrap();
        let (opened, again) = open_with_history(&file, &p).unwrap();
        assert_eq!(again, history);
        assert_eq!(opened.packages, contents.packages);
        // `open` and `seal` leave it out.
        assert_eq!(open(&file, &p).unwrap().packages, contents.packages);
        let without = seal(&opened, &p, fast(), &mut OsRng).unwrap();
        assert!(open_with_history(&without, &p).unwrap().1.is_empty());
        // Nothing of it in clear: not the kind, the issuer, a key, the short id.
        for clear in [
            &b"id-card"[..],
            b"public-security",
            b"id_number",
            b"name",
            b"abababab",
        ] {
            assert!(
                !contains(&file, clear),
                "{}",
                String::from_utf8_lossy(clear)
            );
        }
        assert_eq!(
            open_with_history(&file, &pass("wrong horse")).unwrap_err(),
            WalletError::WrongPassphrase
        );
    }

    #[test]
    fn a_version_1_wallet_opens_with_an_empty_history_and_is_saved_as_version_3() {
        // A wallet written before the history existed: `[1, seed, [* package]]`.
        let holder = HolderKey::generate(&mut OsRng);
        let pkg = package("张伟", "110108199003070016");
        let seed = ByteBuf::from(holder.seed().to_vec());
        let v1 = to_cbor(&(1u64, seed, vec![ByteBuf::from(pkg.to_bytes().unwrap())])).unwrap();
        let p = pass("correct horse");
        let file = seal_secret(MAGIC, &v1, &p, fast(), &mut OsRng).unwrap();
        let (contents, mut history) = open_with_history(&file, &p).unwrap();
        assert_eq!(contents.holder.public_key(), holder.public_key());
        assert_eq!(contents.packages, vec![Held::from(pkg.clone())]);
        assert!(history.is_empty());
        assert_eq!(open(&file, &p).unwrap().packages, vec![Held::from(pkg)]);
        // Saved again, it is version 3 and holds the history.
        history.record(entry(5, &["name"])).unwrap();
        let saved = seal_with_history(&contents, &history, &p, fast(), &mut OsRng).unwrap();
        let plaintext = open_secret(MAGIC, &saved, &p).unwrap();
        assert_eq!(plaintext.get(..2), Some(&[0x84, 0x03][..]));
        let (again, kept) = open_with_history(&saved, &p).unwrap();
        assert_eq!(again.packages, contents.packages);
        assert_eq!(*again.holder.seed(), *holder.seed());
        assert_eq!(kept, history);
    }

    #[test]
    fn nothing_secret_or_personal_in_clear() {
        let holder = HolderKey::generate(&mut OsRng);
        let seed = holder.seed();
        let public = holder.public_key();
        let pkg = package("张伟", "110108199003070016");
        let contents = WalletContents {
            holder,
            packages: vec![pkg.clone().into()],
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

    /// A wallet written as contents version 2 (format-1 packages and a history), exactly
    /// as software before version 3 wrote it.
    fn version_2_file(
        holder: &HolderKey,
        packages: &[CertificatePackage],
        history: &History,
    ) -> Vec<u8> {
        let seed = ByteBuf::from(holder.seed().to_vec());
        let packages: Vec<ByteBuf> = packages
            .iter()
            .map(|p| ByteBuf::from(p.to_bytes().unwrap()))
            .collect();
        let v2 = to_cbor(&(2u64, seed, packages, history.entries())).unwrap();
        seal_secret(MAGIC, &v2, &pass("correct horse"), fast(), &mut OsRng).unwrap()
    }

    #[test]
    fn a_version_2_wallet_is_read_and_saved_as_version_3() {
        let holder = HolderKey::generate(&mut OsRng);
        let pkgs = [package("张伟", "110108199003070016"), package("李娜", "X")];
        let mut history = History::new();
        history.record(entry(7, &["name"])).unwrap();
        let p = pass("correct horse");
        let file = version_2_file(&holder, &pkgs, &history);
        let plaintext = open_secret(MAGIC, &file, &p).unwrap();
        assert_eq!(plaintext.get(..2), Some(&[0x84, 0x02][..]));
        let (contents, kept) = open_with_history(&file, &p).unwrap();
        assert_eq!(*contents.holder.seed(), *holder.seed());
        let expected: Vec<Held> = pkgs.iter().cloned().map(Held::from).collect();
        assert_eq!(contents.packages, expected);
        assert_eq!(kept, history);
        // Saved again: version 3, the same certificates and history.
        let saved = seal_with_history(&contents, &kept, &p, fast(), &mut OsRng).unwrap();
        let plaintext = open_secret(MAGIC, &saved, &p).unwrap();
        assert_eq!(plaintext.get(..2), Some(&[0x84, 0x03][..]));
        let (again, kept_again) = open_with_history(&saved, &p).unwrap();
        assert_eq!(again.packages, expected);
        assert_eq!(kept_again, history);
    }

    #[test]
    fn copies_and_their_marks_are_kept_with_certificates_of_both_formats() {
        let holder = HolderKey::generate(&mut OsRng);
        let copies =
            crate::copies::tests::package(&holder.public_key(), [4; 16], 1, 9, &[(0, "张伟")], 12);
        let mut held = HeldCopies::new(copies.clone());
        for copy in [0, 1, 2, 11] {
            held.spend(copy).unwrap();
        }
        let contents = WalletContents {
            holder,
            packages: vec![
                package("张伟", "110108199003070016").into(),
                Held::Copies(held.clone()),
                Held::from(copies.clone()),
            ],
        };
        let p = pass("correct horse");
        let file = seal(&contents, &p, fast(), &mut OsRng).unwrap();
        let opened = open(&file, &p).unwrap();
        assert_eq!(opened.packages, contents.packages);
        let again = opened.packages[1].copies().unwrap();
        assert_eq!(again.count().left, 8);
        assert_eq!(again.next_unspent(), Some(3));
        assert_eq!(opened.packages[2].copies().unwrap().count().left, 12);
        assert!(opened.packages[0].whole().is_some());
        // Nothing of a copy in clear.
        assert!(!contains(&file, &copies.copies[0].secret.0));
        assert!(!contains(&file, &copies.id.0));

        // Marks that do not fit their package, and marks on a certificate of format 1.
        let seed = ByteBuf::from(vec![3u8; 32]);
        let copies_bytes = ByteBuf::from(copies.to_bytes().unwrap());
        let whole_bytes = ByteBuf::from(package("李娜", "X").to_bytes().unwrap());
        let no_history = Vec::<Entry>::new();
        for (package, marks) in [
            (&copies_bytes, vec![0u8]),
            (&copies_bytes, vec![0, 0, 0]),
            (&copies_bytes, vec![0, 0b0001_0000]),
            (&whole_bytes, vec![1]),
        ] {
            let plain = to_cbor(&(
                3u64,
                seed.clone(),
                vec![(package.clone(), ByteBuf::from(marks))],
                no_history.clone(),
            ))
            .unwrap();
            let file = seal_secret(MAGIC, &plain, &p, fast(), &mut OsRng).unwrap();
            assert!(matches!(
                open(&file, &p),
                Err(WalletError::WalletDamaged(_))
            ));
        }
        // A format-2 package in a version-2 file (which never held one) is damaged too.
        let plain = to_cbor(&(2u64, seed, vec![copies_bytes], no_history)).unwrap();
        let file = seal_secret(MAGIC, &plain, &p, fast(), &mut OsRng).unwrap();
        assert!(matches!(
            open(&file, &p),
            Err(WalletError::WalletDamaged(_))
        ));
    }
}
