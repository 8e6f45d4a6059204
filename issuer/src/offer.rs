//! One-time offers: a code a citizen's wallet redeems, once, for its certificate package
//! at the department's offer endpoint (`POST /v1/offers/{code}/redeem`, `docs/api.md`).
//!
//! **Codes.** 16 characters in four groups (`K7Q2-99XF-M3TA-HV4C`) from the 32-character
//! alphabet `0-9 A-Z` without `I L O U` (Crockford's), so 80 random bits. Codes are read
//! case-insensitively and without their dashes when looked up; the wallet's signature is
//! checked over the code exactly as it sent it in the URL.
//!
//! **Files** (under `HOME/offers/`):
//!
//! - `open/CODE.offer` — JSON: the code, certificate id, holder's wallet key, creation
//!   time and the package bytes (hex: a `CopyPackage` with all the certificate's one-time
//!   copies, or the `CertificatePackage` of a certificate issued whole). Written when the
//!   certificate is delivered.
//! - `used/CODE.json` — JSON: the code, certificate id, holder key (the key that redeemed
//!   it), creation and redemption times.
//! - `used/CODE.offer` — the offer as it was open, package included, kept for the
//!   **redelivery window** after the redemption (default [`DEFAULT_REDELIVERY_SECS`], 7
//!   days; 0: not kept at all), then deleted. As private as the open offer it was: the
//!   same file, renamed.
//!
//! **Redeeming** checks, in order: the code exists (`404 unknown-offer`) and is not used
//! (`410 offer-used`); the request is a signed [`OfferRedemption`] for this code (`400
//! bad-signature`); its key is the certificate's holder key, the wallet key it was issued
//! to (`403 wrong-holder`). Then the offer is claimed by renaming `open/CODE.offer` into `used/` — atomic, so two requests
//! racing for one code cannot both win — and the rename and the record are flushed to
//! disk *before* the package is answered. Redeeming never needs the department's
//! passphrase.
//!
//! **Redelivery.** A wallet killed after the answer but before its own copy was on disk
//! would otherwise lose the certificate. So a used offer is answered again, with the same
//! package, when the request is signed (checked exactly as the first time) by the key that
//! redeemed it and the window has not passed. Anyone else, and anyone after the window,
//! gets `410 offer-used` as before. Packages whose window has passed are deleted when
//! their offer is asked for and by [`OfferStore::sweep`] (at the endpoint's start and
//! periodically). Time is always passed in.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ecert_schemas::{CertificateId, OfferRedemption, PublicKeyBytes, UnixTime};
use ecert_verifier::offer::verify_offer_redemption;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use ecert_shell::bulk::{write_unsynced, IfExists};
use ecert_shell::files::{
    create_private_dir, remove_if_present, sync_dir, write_atomically, Existing, FileError,
};

use crate::home::{self, HomeError};
use crate::register::HexBytes;

/// The code alphabet: digits and upper-case letters without I, L, O, U.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code, dashes not counted.
pub const CODE_CHARS: usize = 16;
/// How long after a redemption the package is kept for the wallet that redeemed it, by
/// default: 7 days (`ecert-issuer serve --redelivery-days`).
pub const DEFAULT_REDELIVERY_SECS: u64 = 7 * 24 * 60 * 60;

/// Whether a package delivered at `redeemed_at` (seconds since 1970) may be delivered
/// again at `now`, with a redelivery window of `window` seconds (0: never).
pub fn within_redelivery(redeemed_at: u64, now: UnixTime, window: u64) -> bool {
    window > 0 && now.secs() < redeemed_at.saturating_add(window)
}

/// A fresh code: 16 characters (80 bits) from [`ALPHABET`], in groups of four.
pub fn new_code(rng: &mut impl CryptoRngCore) -> String {
    let mut bytes = [0u8; CODE_CHARS];
    rng.fill_bytes(&mut bytes);
    let mut code = String::with_capacity(CODE_CHARS + 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        // 256 is a multiple of 32: taking the low 5 bits is uniform.
        let c = ALPHABET.get(usize::from(b & 31)).copied().unwrap_or(b'0');
        code.push(char::from(c));
    }
    code
}

/// The canonical form of a code as typed or sent: upper case, dashes and spaces removed,
/// 16 characters of the alphabet. `None` if it cannot be a code.
pub fn canonical(code: &str) -> Option<String> {
    let canon: String = code
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = canon.len() == CODE_CHARS && canon.bytes().all(|b| ALPHABET.contains(&b));
    ok.then_some(canon)
}

/// The offer URL for `code` at the offer endpoint `serve_url` (`https://HOST:PORT`).
pub fn offer_url(serve_url: &str, code: &str) -> String {
    format!(
        "{}{}",
        serve_url.trim_end_matches('/'),
        ecert_schemas::api::offer(code)
    )
}

fn ser_bytes<S: serde::Serializer>(value: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(value))
}

fn de_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    hex::decode(text).map_err(serde::de::Error::custom)
}

fn ser_hex<T: HexBytes, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&value.hex())
}

fn de_hex<'de, T: HexBytes, D: serde::Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    T::parse_hex(&text).ok_or_else(|| serde::de::Error::custom("bad hex value"))
}

/// An offer waiting to be redeemed (`open/CODE.offer`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// The code as given to the citizen.
    pub code: String,
    /// The certificate.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub certificate: CertificateId,
    /// The holder's wallet key the certificate was issued to (each copy's key is tweaked
    /// from it): the only key that may redeem the offer.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub holder: PublicKeyBytes,
    /// When it was made (seconds since 1970).
    pub created_at: u64,
    /// The package bytes to hand over: a `CopyPackage` (the certificate's one-time
    /// copies), or a `CertificatePackage` of a certificate issued whole (never empty; left
    /// out of the record of a redeemed offer, which keeps no package).
    #[serde(
        serialize_with = "ser_bytes",
        deserialize_with = "de_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub package: Vec<u8>,
}

/// A redeemed offer (`used/CODE.json`): the offer without its package (the code, the
/// certificate, the holder key that redeemed it, when it was made), and when it was
/// redeemed. The package itself, while it is kept, is in `used/CODE.offer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsedOffer {
    /// The offer, its package dropped.
    #[serde(flatten)]
    pub offer: Offer,
    /// When it was redeemed.
    pub redeemed_at: u64,
}

impl UsedOffer {
    /// The record of `offer` redeemed at `now`, without its package.
    pub fn of(offer: &Offer, now: UnixTime) -> UsedOffer {
        UsedOffer {
            offer: Offer {
                code: offer.code.clone(),
                package: Vec::new(),
                ..*offer
            },
            redeemed_at: now.secs(),
        }
    }
}

/// What [`OfferStore::redeem`] reads back of a `used/CODE.json` record.
#[derive(Deserialize)]
struct UsedRecord {
    #[serde(deserialize_with = "de_hex")]
    holder: PublicKeyBytes,
    redeemed_at: u64,
}

/// Why an offer was not handed over. Each maps to the HTTP answer of `docs/api.md`.
#[derive(Debug, Error)]
pub enum RedeemError {
    /// No such offer.
    #[error("there is no offer with this code")]
    UnknownOffer,
    /// Already redeemed.
    #[error("this offer has already been redeemed")]
    OfferUsed,
    /// The key is not the certificate's holder key.
    #[error("this offer is for another wallet")]
    WrongHolder,
    /// The request is unreadable or its signature does not verify.
    #[error("the request is not a valid signed offer redemption for this code")]
    BadSignature,
    /// The offer store failed.
    #[error("the offer store failed: {0}")]
    Store(#[from] HomeError),
}

impl RedeemError {
    /// The HTTP status and the stable error code.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            RedeemError::UnknownOffer => (404, "unknown-offer"),
            RedeemError::OfferUsed => (410, "offer-used"),
            RedeemError::WrongHolder => (403, "wrong-holder"),
            RedeemError::BadSignature => (400, "bad-signature"),
            RedeemError::Store(_) => (500, "internal"),
        }
    }
}

/// The offers folder of a home, and how long delivered packages are kept for their
/// wallet.
#[derive(Clone, Debug)]
pub struct OfferStore {
    dir: PathBuf,
    redelivery_secs: u64,
}

/// What a successful redemption hands over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redeemed {
    /// The package bytes.
    pub package: Vec<u8>,
    /// The certificate.
    pub certificate: CertificateId,
    /// The canonical code.
    pub code: String,
    /// Whether it was delivered before and is handed again to the wallet that redeemed it.
    pub again: bool,
}

/// What [`OfferStore::sweep`] did.
#[derive(Debug, Default)]
pub struct Swept {
    /// Packages deleted: their redelivery window had passed.
    pub deleted: usize,
    /// Packages still kept, within their window.
    pub kept: usize,
    /// Packages that could not be checked or deleted (each is tried again by the next
    /// sweep).
    pub failed: Vec<HomeError>,
}

impl OfferStore {
    /// The store in `dir` (`HOME/offers`), keeping delivered packages for
    /// [`DEFAULT_REDELIVERY_SECS`].
    pub fn new(dir: PathBuf) -> OfferStore {
        OfferStore {
            dir,
            redelivery_secs: DEFAULT_REDELIVERY_SECS,
        }
    }

    /// The same store, keeping delivered packages for `secs` seconds after their
    /// redemption (0: deleted at once, never delivered twice).
    pub fn with_redelivery_secs(self, secs: u64) -> OfferStore {
        OfferStore {
            redelivery_secs: secs,
            ..self
        }
    }

    /// How long delivered packages are kept, in seconds.
    pub fn redelivery_secs(&self) -> u64 {
        self.redelivery_secs
    }

    fn open_dir(&self) -> PathBuf {
        self.dir.join("open")
    }

    fn used_dir(&self) -> PathBuf {
        self.dir.join("used")
    }

    fn open_path(&self, canon: &str) -> PathBuf {
        self.open_dir().join(format!("{canon}.offer"))
    }

    fn used_paths(&self, canon: &str) -> (PathBuf, PathBuf) {
        (
            self.used_dir().join(format!("{canon}.offer")),
            self.used_dir().join(format!("{canon}.json")),
        )
    }

    /// Stores a new offer; refuses a code already in use.
    pub fn create(&self, offer: &Offer) -> Result<(), HomeError> {
        self.create_dirs()?;
        let (path, text) = self.prepare(offer)?;
        Ok(write_atomically(&path, &text, Existing::Refuse)?)
    }

    /// The folders of the store, created if missing.
    pub fn create_dirs(&self) -> Result<(), HomeError> {
        create_private_dir(&self.open_dir())?;
        Ok(create_private_dir(&self.used_dir())?)
    }

    fn prepare(&self, offer: &Offer) -> Result<(PathBuf, Vec<u8>), HomeError> {
        let canon = canonical(&offer.code)
            .ok_or_else(|| HomeError::BadValue(format!("{:?} is not an offer code", offer.code)))?;
        let (used_offer, used_json) = self.used_paths(&canon);
        if used_offer.exists() || used_json.exists() {
            return Err(FileError::AlreadyExists(used_json).into());
        }
        let text = serde_json::to_vec(offer).map_err(|e| HomeError::BadValue(e.to_string()))?;
        Ok((self.open_path(&canon), text))
    }

    /// Stores an offer of a batch being delivered, without flushing it to disk (see
    /// [`ecert_shell::bulk`]): the caller flushes the file system once for the whole
    /// batch. An open offer with the same code (the same batch, delivered again after an
    /// interruption) is overwritten; the folders must exist ([`OfferStore::create_dirs`]).
    pub fn create_unsynced(&self, offer: &Offer) -> Result<(), HomeError> {
        let (path, text) = self.prepare(offer)?;
        Ok(write_unsynced(&path, &text, IfExists::Overwrite)?)
    }

    /// The folder the open offers are in.
    pub fn open_folder(&self) -> PathBuf {
        self.open_dir()
    }

    /// Whether an offer is waiting, used, or unknown.
    pub fn state(&self, code: &str) -> OfferState {
        let Some(canon) = canonical(code) else {
            return OfferState::Unknown;
        };
        if self.open_path(&canon).exists() {
            return OfferState::Open;
        }
        let (a, b) = self.used_paths(&canon);
        if a.exists() || b.exists() {
            OfferState::Used
        } else {
            OfferState::Unknown
        }
    }

    fn gone(&self, canon: &str) -> RedeemError {
        let (a, b) = self.used_paths(canon);
        if a.exists() || b.exists() {
            RedeemError::OfferUsed
        } else {
            RedeemError::UnknownOffer
        }
    }

    /// Redeems `code` (as it appears in the URL) with the CBOR `OfferRedemption` in
    /// `body`, at `now`. On success the offer is used, durably, before this returns. A used
    /// offer is answered again with its package when the request is signed by the key that
    /// redeemed it within the redelivery window (see the module's documentation).
    pub fn redeem(&self, code: &str, body: &[u8], now: UnixTime) -> Result<Redeemed, RedeemError> {
        let canon = canonical(code).ok_or(RedeemError::UnknownOffer)?;
        let open = self.open_path(&canon);
        let bytes = match home::read_limited(&open) {
            Ok(bytes) => bytes,
            Err(HomeError::File(e)) if e.is_not_found() => {
                return self.redeliver(&canon, code, body, now);
            }
            Err(e) => return Err(e.into()),
        };
        let offer = parse_offer(&open, &bytes)?;
        let key = signer(code, body).ok_or(RedeemError::BadSignature)?;
        if key != offer.holder {
            return Err(RedeemError::WrongHolder);
        }

        // Claim: one atomic rename; whoever renames first wins.
        let (claimed, record) = self.used_paths(&canon);
        if let Err(e) = fs::rename(&open, &claimed) {
            if e.kind() == io::ErrorKind::NotFound {
                return Err(self.gone(&canon));
            }
            return Err(HomeError::File(FileError::Io {
                action: "claim the offer",
                path: open,
                source: e,
            })
            .into());
        }
        sync_dir(&self.used_dir());
        sync_dir(&self.open_dir());

        // Who redeemed it and when; the package itself stays in the claimed file for the
        // redelivery window, or goes at once without one.
        let written = write_record(&record, &offer, now);
        if written.is_ok() && self.redelivery_secs == 0 {
            // A package left behind by a failed removal is deleted by the next sweep.
            let _ = remove_if_present(&claimed);
        }
        Ok(Redeemed {
            package: offer.package,
            certificate: offer.certificate,
            code: canon,
            again: false,
        })
    }

    /// A request for an offer that is no longer open: the same package again for the key
    /// that redeemed it, within the window; otherwise `410 offer-used` (or `404` for a
    /// code never made). A package past its window is deleted on the way.
    fn redeliver(
        &self,
        canon: &str,
        code: &str,
        body: &[u8],
        now: UnixTime,
    ) -> Result<Redeemed, RedeemError> {
        let Some(redeemed) = self.used_record(canon, now)? else {
            return Err(self.gone(canon));
        };
        let (claimed, _) = self.used_paths(canon);
        if !within_redelivery(redeemed.redeemed_at, now, self.redelivery_secs) {
            // A failed removal is retried, and reported, by the next sweep.
            let _ = remove_if_present(&claimed);
            return Err(RedeemError::OfferUsed);
        }
        // Only the wallet that redeemed it learns anything more than "used".
        let Some(key) = signer(code, body) else {
            return Err(RedeemError::OfferUsed);
        };
        if key != redeemed.holder {
            return Err(RedeemError::OfferUsed);
        }
        let bytes = match home::read_limited(&claimed) {
            Ok(bytes) => bytes,
            Err(HomeError::File(e)) if e.is_not_found() => return Err(RedeemError::OfferUsed),
            Err(e) => return Err(e.into()),
        };
        let offer = parse_offer(&claimed, &bytes)?;
        if offer.holder != key || offer.package.is_empty() {
            return Err(RedeemError::OfferUsed);
        }
        Ok(Redeemed {
            package: offer.package,
            certificate: offer.certificate,
            code: canon.to_owned(),
            again: true,
        })
    }

    /// The record of used offer `canon`: `used/CODE.json`, or, for an offer claimed whose
    /// record was never written (the record's write failed, or the server stopped between
    /// the two), one written now from the claimed file, redeemed as of `now`. `None`: the
    /// offer was never redeemed.
    fn used_record(&self, canon: &str, now: UnixTime) -> Result<Option<UsedRecord>, HomeError> {
        let (claimed, record) = self.used_paths(canon);
        match home::read_limited(&record) {
            Ok(bytes) => {
                return serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| HomeError::Damaged {
                        path: record,
                        detail: e.to_string(),
                    })
            }
            Err(HomeError::File(e)) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let bytes = match home::read_limited(&claimed) {
            Ok(bytes) => bytes,
            Err(HomeError::File(e)) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let offer = parse_offer(&claimed, &bytes)?;
        write_record(&record, &offer, now)?;
        Ok(Some(UsedRecord {
            holder: offer.holder,
            redeemed_at: now.secs(),
        }))
    }

    /// Deletes the kept packages whose redelivery window has passed at `now` (all of them
    /// without a window). Run at the endpoint's start and periodically; each package's
    /// failure is reported and the others go on.
    pub fn sweep(&self, now: UnixTime) -> Result<Swept, HomeError> {
        let dir = self.used_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Swept::default()),
            Err(e) => {
                return Err(HomeError::File(FileError::Io {
                    action: "list",
                    path: dir,
                    source: e,
                }))
            }
        };
        let mut swept = Swept::default();
        for entry in entries {
            let name = match entry {
                Ok(entry) => entry.file_name(),
                Err(e) => {
                    swept.failed.push(HomeError::File(FileError::Io {
                        action: "list",
                        path: dir.clone(),
                        source: e,
                    }));
                    continue;
                }
            };
            // Kept packages only (`CODE.offer`): not records, not temporary files.
            let Some(canon) = name.to_str().and_then(|n| n.strip_suffix(".offer")) else {
                continue;
            };
            if canonical(canon).as_deref() != Some(canon) {
                continue;
            }
            match self.used_record(canon, now) {
                Ok(Some(record))
                    if within_redelivery(record.redeemed_at, now, self.redelivery_secs) =>
                {
                    swept.kept += 1;
                }
                Ok(Some(_)) => match remove_if_present(&self.used_paths(canon).0) {
                    Ok(true) => swept.deleted += 1,
                    Ok(false) => {}
                    Err(e) => swept.failed.push(e.into()),
                },
                Ok(None) => {}
                Err(e) => swept.failed.push(e),
            }
        }
        Ok(swept)
    }
}

/// Reads an offer file (`open/CODE.offer`, or one claimed into `used/`).
fn parse_offer(path: &Path, bytes: &[u8]) -> Result<Offer, HomeError> {
    serde_json::from_slice(bytes).map_err(|e| HomeError::Damaged {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// The key that signed `body` as a redemption of `code`, if it is one.
fn signer(code: &str, body: &[u8]) -> Option<PublicKeyBytes> {
    let redemption = OfferRedemption::from_bytes(body).ok()?;
    verify_offer_redemption(code, &redemption).ok()
}

/// Writes the record of `offer` redeemed at `now` to `path` (`used/CODE.json`).
fn write_record(path: &Path, offer: &Offer, now: UnixTime) -> Result<(), HomeError> {
    let text = serde_json::to_vec_pretty(&UsedOffer::of(offer, now))
        .map_err(|e| HomeError::BadValue(e.to_string()))?;
    Ok(write_atomically(path, &text, Existing::Replace)?)
}

/// Where an offer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferState {
    /// Waiting to be redeemed.
    Open,
    /// Redeemed.
    Used,
    /// No such offer.
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_verifier::crypto::{self, SigningContext};
    use ed25519_dalek::SigningKey;
    use rand_core::{OsRng, RngCore};

    fn redemption(key: &SigningKey, code: &str) -> Vec<u8> {
        OfferRedemption {
            holder_key: crypto::public_key(key),
            signature: crypto::sign(key, SigningContext::OfferRedeem, code.as_bytes()),
        }
        .to_bytes()
        .unwrap()
    }

    #[test]
    fn codes_have_80_bits_and_read_back() {
        let code = new_code(&mut OsRng);
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let canon = canonical(&code).unwrap();
        assert_eq!(canonical(&code.to_lowercase()), Some(canon.clone()));
        assert_eq!(canon.len(), CODE_CHARS);
        assert!(
            canonical("ABCD-EFGH-IJKL-MNOP").is_none(),
            "I, L and O are not used"
        );
        assert!(canonical("ABCD").is_none());
        assert_ne!(new_code(&mut OsRng), code);
        assert_eq!(
            offer_url("http://h:1/", &code),
            format!("http://h:1/v1/offers/{code}")
        );
    }

    fn scratch() -> PathBuf {
        std::env::temp_dir().join(format!(
            "ecert-offers-{}-{:x}",
            std::process::id(),
            OsRng.next_u64()
        ))
    }

    fn offer_to(holder: &SigningKey) -> Offer {
        Offer {
            code: new_code(&mut OsRng),
            certificate: CertificateId([1; 16]),
            holder: crypto::public_key(holder),
            created_at: 1,
            package: vec![1, 2, 3],
        }
    }

    /// The names of the files in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    const DAY: u64 = 24 * 60 * 60;

    #[test]
    fn redeemed_once_by_the_holder_only_without_a_redelivery_window() {
        let dir = scratch();
        let store = OfferStore::new(dir.clone()).with_redelivery_secs(0);
        let holder = SigningKey::from_bytes(&[5; 32]);
        let other = SigningKey::from_bytes(&[6; 32]);
        let offer = offer_to(&holder);
        let code = offer.code.clone();
        store.create(&offer).unwrap();
        assert!(store.create(&offer).is_err(), "a code is never reused");
        assert_eq!(store.state(&code), OfferState::Open);
        assert!(matches!(
            store.redeem(
                "0000-0000-0000-0000",
                &redemption(&holder, "x"),
                UnixTime(2)
            ),
            Err(RedeemError::UnknownOffer)
        ));
        assert!(matches!(
            store.redeem(&code, b"junk", UnixTime(2)),
            Err(RedeemError::BadSignature)
        ));
        assert!(matches!(
            store.redeem(&code, &redemption(&holder, "another"), UnixTime(2)),
            Err(RedeemError::BadSignature)
        ));
        assert!(matches!(
            store.redeem(&code, &redemption(&other, &code), UnixTime(2)),
            Err(RedeemError::WrongHolder)
        ));
        let got = store
            .redeem(&code, &redemption(&holder, &code), UnixTime(2))
            .unwrap();
        assert_eq!(got.package, vec![1, 2, 3]);
        assert!(!got.again);
        assert_eq!(store.state(&code), OfferState::Used);
        assert!(matches!(
            store.redeem(&code, &redemption(&holder, &code), UnixTime(3)),
            Err(RedeemError::OfferUsed)
        ));
        // The package is gone from the home once delivered.
        let used: Vec<_> = fs::read_dir(dir.join("used")).unwrap().collect();
        assert_eq!(used.len(), 1);
        let text = fs::read_to_string(used[0].as_ref().unwrap().path()).unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        let members: Vec<&str> = record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            members,
            ["certificate", "code", "created_at", "holder", "redeemed_at"]
        );
        assert_eq!(record["redeemed_at"], 2);
        assert_eq!(record["holder"], crypto::public_key(&holder).to_hex());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_same_wallet_gets_the_same_package_again_within_the_window() {
        let dir = scratch();
        let store = OfferStore::new(dir.clone());
        assert_eq!(store.redelivery_secs(), 7 * DAY, "the default window");
        let holder = SigningKey::from_bytes(&[5; 32]);
        let other = SigningKey::from_bytes(&[6; 32]);
        let offer = offer_to(&holder);
        let code = offer.code.clone();
        store.create(&offer).unwrap();
        let t0 = 1_000_000;
        let first = store
            .redeem(&code, &redemption(&holder, &code), UnixTime(t0))
            .unwrap();
        assert!(!first.again);
        let canon = canonical(&code).unwrap();
        assert_eq!(
            names(&dir.join("used")),
            [format!("{canon}.json"), format!("{canon}.offer")],
            "the record, and the package kept"
        );

        // The wallet that redeemed it, again (the code written in another case, too).
        for (at, asked) in [
            (t0 + 1, code.clone()),
            (t0 + 7 * DAY - 1, code.to_lowercase()),
        ] {
            let again = store
                .redeem(&asked, &redemption(&holder, &asked), UnixTime(at))
                .unwrap();
            assert!(again.again);
            assert_eq!(again.package, first.package, "the same package");
            assert_eq!(again.certificate, first.certificate);
            assert_eq!(again.code, first.code);
        }
        // Anyone else, or a request not signed for this code, learns only "used".
        for body in [
            redemption(&other, &code),
            redemption(&holder, "another"),
            b"junk".to_vec(),
        ] {
            assert!(matches!(
                store.redeem(&code, &body, UnixTime(t0 + 2)),
                Err(RedeemError::OfferUsed)
            ));
        }
        // The record still names who redeemed it and when.
        let record: serde_json::Value = serde_json::from_slice(
            &fs::read(dir.join("used").join(format!("{canon}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(record["redeemed_at"], t0);
        assert_eq!(record["holder"], crypto::public_key(&holder).to_hex());
        assert!(
            record.get("package").is_none(),
            "the record holds no package"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn after_the_window_the_package_is_gone() {
        let dir = scratch();
        let store = OfferStore::new(dir.clone()).with_redelivery_secs(3 * DAY);
        let holder = SigningKey::from_bytes(&[5; 32]);
        let offer = offer_to(&holder);
        let code = offer.code.clone();
        let canon = canonical(&code).unwrap();
        let kept = dir.join("used").join(format!("{canon}.offer"));
        store.create(&offer).unwrap();
        let t0 = 1_000_000;
        store
            .redeem(&code, &redemption(&holder, &code), UnixTime(t0))
            .unwrap();
        assert!(kept.exists());
        // Asked for after the window: refused, and the package deleted on the way.
        assert!(matches!(
            store.redeem(&code, &redemption(&holder, &code), UnixTime(t0 + 3 * DAY)),
            Err(RedeemError::OfferUsed)
        ));
        assert!(!kept.exists(), "the package is deleted");
        assert_eq!(names(&dir.join("used")), [format!("{canon}.json")]);
        assert_eq!(store.state(&code), OfferState::Used);
        // Never handed again, even if the clock is set back.
        assert!(matches!(
            store.redeem(&code, &redemption(&holder, &code), UnixTime(t0 + 1)),
            Err(RedeemError::OfferUsed)
        ));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_sweep_deletes_the_packages_past_their_window_only() {
        let dir = scratch();
        let store = OfferStore::new(dir.clone()).with_redelivery_secs(2 * DAY);
        assert_eq!(
            store.sweep(UnixTime(1)).unwrap().deleted,
            0,
            "no folder yet"
        );
        let holder = SigningKey::from_bytes(&[5; 32]);
        let (early, late, waiting) = (offer_to(&holder), offer_to(&holder), offer_to(&holder));
        for offer in [&early, &late, &waiting] {
            store.create(offer).unwrap();
        }
        let t0 = 1_000_000;
        for (offer, at) in [(&early, t0), (&late, t0 + DAY)] {
            store
                .redeem(&offer.code, &redemption(&holder, &offer.code), UnixTime(at))
                .unwrap();
        }
        let swept = store.sweep(UnixTime(t0 + 2 * DAY)).unwrap();
        assert_eq!((swept.deleted, swept.kept), (1, 1));
        assert!(swept.failed.is_empty(), "{:?}", swept.failed);
        let used = |offer: &Offer| dir.join("used").join(canonical(&offer.code).unwrap());
        assert!(!used(&early).with_extension("offer").exists());
        assert!(
            used(&early).with_extension("json").exists(),
            "the record stays"
        );
        assert!(used(&late).with_extension("offer").exists());
        assert_eq!(
            store.state(&waiting.code),
            OfferState::Open,
            "open offers stay"
        );
        // A store without a window (the endpoint restarted with 0) keeps none.
        let swept = OfferStore::new(dir.clone())
            .with_redelivery_secs(0)
            .sweep(UnixTime(t0 + DAY + 1))
            .unwrap();
        assert_eq!((swept.deleted, swept.kept), (1, 0));
        assert!(!used(&late).with_extension("offer").exists());
        assert_eq!(store.state(&waiting.code), OfferState::Open);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_claim_whose_record_was_not_written_counts_as_redeemed_when_found() {
        let dir = scratch();
        let store = OfferStore::new(dir.clone());
        let holder = SigningKey::from_bytes(&[5; 32]);
        let offer = offer_to(&holder);
        let code = offer.code.clone();
        let canon = canonical(&code).unwrap();
        store.create(&offer).unwrap();
        // Claimed, then stopped before the record was written.
        fs::rename(
            dir.join("open").join(format!("{canon}.offer")),
            dir.join("used").join(format!("{canon}.offer")),
        )
        .unwrap();
        let t0 = 1_000_000;
        let again = store
            .redeem(&code, &redemption(&holder, &code), UnixTime(t0))
            .unwrap();
        assert!(again.again);
        assert_eq!(again.package, offer.package);
        let record: serde_json::Value = serde_json::from_slice(
            &fs::read(dir.join("used").join(format!("{canon}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            record["redeemed_at"], t0,
            "the window starts when it is found"
        );
        let swept = store.sweep(UnixTime(t0 + 7 * DAY)).unwrap();
        assert_eq!(swept.deleted, 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_window_is_half_open_and_zero_means_never() {
        assert!(within_redelivery(10, UnixTime(10), 5));
        assert!(within_redelivery(10, UnixTime(14), 5));
        assert!(!within_redelivery(10, UnixTime(15), 5));
        assert!(!within_redelivery(10, UnixTime(10), 0));
        assert!(within_redelivery(
            u64::MAX,
            UnixTime(u64::MAX - 1),
            u64::MAX
        ));
    }
}
