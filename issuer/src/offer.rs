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
//! - `open/CODE.offer` — JSON: the code, certificate id, holder key, creation time and the
//!   package bytes (hex). Written atomically when the certificate is issued.
//! - `used/CODE.json` — JSON: the code, certificate id, holder key, creation and
//!   redemption times. The package is not kept once delivered.
//!
//! **Redeeming** checks, in order: the code exists (`404 unknown-offer`) and is not used
//! (`410 offer-used`); the request is a signed [`OfferRedemption`] for this code (`400
//! bad-signature`); its key is the certificate's holder key (`403 wrong-holder`). Then the
//! offer is claimed by renaming `open/CODE.offer` into `used/` — atomic, so two requests
//! racing for one code cannot both win — and the rename is flushed to disk *before* the
//! package is answered. Redeeming never needs the department's passphrase.

use std::fs;
use std::io;
use std::path::PathBuf;

use ecert_schemas::{CertificateId, OfferRedemption, PublicKeyBytes, UnixTime};
use ecert_verifier::offer::verify_offer_redemption;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use ecert_shell::bulk::{write_unsynced, IfExists};
use ecert_shell::files::{create_private_dir, sync_dir, write_atomically, Existing, FileError};

use crate::home::{self, HomeError};
use crate::register::HexBytes;

/// The code alphabet: digits and upper-case letters without I, L, O, U.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code, dashes not counted.
pub const CODE_CHARS: usize = 16;

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
    /// The holder key the certificate is bound to.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub holder: PublicKeyBytes,
    /// When it was made (seconds since 1970).
    pub created_at: u64,
    /// The `CertificatePackage` bytes to hand over (never empty; left out of the
    /// record of a redeemed offer, which keeps no package).
    #[serde(
        serialize_with = "ser_bytes",
        deserialize_with = "de_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub package: Vec<u8>,
}

/// A redeemed offer (`used/CODE.json`): the offer without its package (the code, the
/// certificate, the holder key that redeemed it, when it was made), and when it was
/// redeemed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsedOffer {
    /// The offer, its package dropped.
    #[serde(flatten)]
    pub offer: Offer,
    /// When it was redeemed.
    pub redeemed_at: u64,
}

impl UsedOffer {
    /// The record of `offer` redeemed at `now`: the package is not kept once delivered.
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

/// The offers folder of a home.
#[derive(Clone, Debug)]
pub struct OfferStore {
    dir: PathBuf,
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
}

impl OfferStore {
    /// The store in `dir` (`HOME/offers`).
    pub fn new(dir: PathBuf) -> OfferStore {
        OfferStore { dir }
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
    /// `body`, at `now`. On success the offer is used, durably, before this returns.
    pub fn redeem(&self, code: &str, body: &[u8], now: UnixTime) -> Result<Redeemed, RedeemError> {
        let canon = canonical(code).ok_or(RedeemError::UnknownOffer)?;
        let open = self.open_path(&canon);
        let bytes = match home::read_limited(&open) {
            Ok(bytes) => bytes,
            Err(HomeError::File(e)) if e.is_not_found() => {
                return Err(self.gone(&canon));
            }
            Err(e) => return Err(e.into()),
        };
        let offer: Offer = serde_json::from_slice(&bytes).map_err(|e| {
            RedeemError::Store(HomeError::Damaged {
                path: open.clone(),
                detail: e.to_string(),
            })
        })?;
        let redemption =
            OfferRedemption::from_bytes(body).map_err(|_| RedeemError::BadSignature)?;
        let key =
            verify_offer_redemption(code, &redemption).map_err(|_| RedeemError::BadSignature)?;
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

        // The package is not kept once delivered: keep only who redeemed it and when.
        let written = serde_json::to_vec_pretty(&UsedOffer::of(&offer, now))
            .map_err(|e| HomeError::BadValue(e.to_string()))
            .and_then(|text| Ok(write_atomically(&record, &text, Existing::Replace)?));
        if written.is_ok() {
            let _ = fs::remove_file(&claimed);
            sync_dir(&self.used_dir());
        }
        Ok(Redeemed {
            package: offer.package,
            certificate: offer.certificate,
            code: canon,
        })
    }
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

    #[test]
    fn redeemed_once_by_the_holder_only() {
        let dir = std::env::temp_dir().join(format!(
            "ecert-offers-{}-{:x}",
            std::process::id(),
            OsRng.next_u64()
        ));
        let store = OfferStore::new(dir.clone());
        let holder = SigningKey::from_bytes(&[5; 32]);
        let other = SigningKey::from_bytes(&[6; 32]);
        let code = new_code(&mut OsRng);
        let offer = Offer {
            code: code.clone(),
            certificate: CertificateId([1; 16]),
            holder: crypto::public_key(&holder),
            created_at: 1,
            package: vec![1, 2, 3],
        };
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
}
