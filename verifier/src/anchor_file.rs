//! The trust anchor file: the two lines, taken from the ledger's genesis, that a counter
//! (`ecert-verify init --anchor`) and a department's issuing tool (`ecert-issuer init
//! --anchor`) are set up with.
//!
//! ```toml
//! chain_id = "ecert-demo-province"
//! validators_hash = "<64 hex digits>"
//! ```
//!
//! Comments are allowed; any other key is refused. Pure text in, [`TrustAnchor`] out.
//!
//! The national anchor file (`ecert-verify init --national-anchor`) names a federation
//! and its national body's keys, in signer order:
//!
//! ```toml
//! federation = "ecert-national"
//! keys = ["<64 hex digits>", "<64 hex digits>", "<64 hex digits>", "<64 hex digits>"]
//! ```
//!
//! Pure text in, [`NationalAnchor`] out ([`parse_national_anchor`]).

use ecert_schemas::federation::NationalAnchor;
use ecert_schemas::{ChainId, Hash32, PublicKeyBytes};
use serde::Deserialize;
use thiserror::Error;

use crate::{crypto, TrustAnchor};

/// Why a text is not a trust anchor file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnchorFileError {
    /// Not TOML with exactly the two keys.
    #[error(
        "expected two lines, chain_id = \"...\" and validators_hash = \"<64 hex digits>\": {0}"
    )]
    Syntax(String),
    /// The chain id breaks the naming rules.
    #[error("bad chain_id: {0}")]
    ChainId(String),
    /// The validators hash is not 64 hexadecimal digits.
    #[error("bad validators_hash (64 hex digits expected): {0}")]
    ValidatorsHash(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnchorFile {
    chain_id: String,
    validators_hash: String,
}

/// Reads an anchor file: `chain_id = "..."` and `validators_hash = "<64 hex digits>"`.
pub fn parse_anchor(text: &str) -> Result<TrustAnchor, AnchorFileError> {
    let file: AnchorFile =
        toml::from_str(text).map_err(|e| AnchorFileError::Syntax(e.message().to_owned()))?;
    let chain_id =
        ChainId::new(file.chain_id).map_err(|e| AnchorFileError::ChainId(e.to_string()))?;
    let validators_hash = Hash32::from_hex(&file.validators_hash)
        .map_err(|e| AnchorFileError::ValidatorsHash(e.to_string()))?;
    Ok(TrustAnchor {
        chain_id,
        validators_hash,
    })
}

/// An anchor as the file [`parse_anchor`] reads, after a one-line `comment` (without the
/// leading `#`).
pub fn anchor_to_toml(anchor: &TrustAnchor, comment: &str) -> String {
    let comment = comment.replace(['\n', '\r'], " ");
    format!(
        "# {comment}\n\
         chain_id = \"{}\"\n\
         validators_hash = \"{}\"\n",
        anchor.chain_id,
        anchor.validators_hash.to_hex()
    )
}

/// Most national keys a national anchor file may name (a list approval names its signer
/// by a 16-bit position).
pub const MAX_NATIONAL_KEYS: usize = 1024;

/// Why a text is not a national anchor file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NationalAnchorFileError {
    /// Not TOML with exactly the two keys.
    #[error(
        "expected two entries, federation = \"...\" and keys = [\"<64 hex digits>\", ...]: {0}"
    )]
    Syntax(String),
    /// The federation's name breaks the naming rules.
    #[error("bad federation: {0}")]
    Federation(String),
    /// No keys, or more than [`MAX_NATIONAL_KEYS`].
    #[error("keys: expected 1 to {MAX_NATIONAL_KEYS} national keys, found {0}")]
    KeyCount(usize),
    /// A key is not 64 hexadecimal digits of an Ed25519 public key.
    #[error("key #{index} is not an Ed25519 public key (64 hex digits expected): {detail}")]
    Key {
        /// Its position in `keys`, from 0.
        index: usize,
        /// What is wrong with it.
        detail: String,
    },
    /// A key is named twice: it would count twice towards the two thirds.
    #[error("key #{index} repeats key #{first}")]
    RepeatedKey {
        /// The repeated key's position.
        index: usize,
        /// Its first position.
        first: usize,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalAnchorFile {
    federation: String,
    keys: Vec<String>,
}

/// Reads a national anchor file: `federation = "..."` and `keys = ["<64 hex digits>", ...]`
/// (1 to [`MAX_NATIONAL_KEYS`] distinct Ed25519 public keys, in signer order).
pub fn parse_national_anchor(text: &str) -> Result<NationalAnchor, NationalAnchorFileError> {
    let file: NationalAnchorFile = toml::from_str(text)
        .map_err(|e| NationalAnchorFileError::Syntax(e.message().to_owned()))?;
    let federation = ChainId::new(file.federation)
        .map_err(|e| NationalAnchorFileError::Federation(e.to_string()))?;
    if file.keys.is_empty() || file.keys.len() > MAX_NATIONAL_KEYS {
        return Err(NationalAnchorFileError::KeyCount(file.keys.len()));
    }
    let mut keys: Vec<PublicKeyBytes> = Vec::with_capacity(file.keys.len());
    for (index, text) in file.keys.iter().enumerate() {
        let key = PublicKeyBytes::from_hex(text).map_err(|e| NationalAnchorFileError::Key {
            index,
            detail: e.to_string(),
        })?;
        if crypto::parse_public_key(&key).is_none() {
            return Err(NationalAnchorFileError::Key {
                index,
                detail: "not a usable key (not a curve point, or of small order)".into(),
            });
        }
        if let Some(first) = keys.iter().position(|k| *k == key) {
            return Err(NationalAnchorFileError::RepeatedKey { index, first });
        }
        keys.push(key);
    }
    Ok(NationalAnchor { federation, keys })
}

/// A national anchor as the file [`parse_national_anchor`] reads, after a one-line
/// `comment` (without the leading `#`): one key a line, in signer order.
pub fn national_anchor_to_toml(anchor: &NationalAnchor, comment: &str) -> String {
    let comment = comment.replace(['\n', '\r'], " ");
    let keys: String = anchor
        .keys
        .iter()
        .map(|k| format!("    \"{}\",\n", k.to_hex()))
        .collect();
    format!(
        "# {comment}\n\
         federation = \"{}\"\n\
         keys = [\n{keys}]\n",
        anchor.federation
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let anchor = TrustAnchor {
            chain_id: ChainId::new("ecert-test").unwrap(),
            validators_hash: Hash32([7; 32]),
        };
        let text = anchor_to_toml(&anchor, "a comment\nover two lines");
        assert_eq!(parse_anchor(&text).unwrap(), anchor);
        assert!(matches!(
            parse_anchor("chain_id = \"x\"\n"),
            Err(AnchorFileError::Syntax(_))
        ));
        assert!(matches!(
            parse_anchor(&format!("{text}extra = 1\n")),
            Err(AnchorFileError::Syntax(_))
        ));
        assert!(matches!(
            parse_anchor("chain_id = \"Bad Id\"\nvalidators_hash = \"00\"\n"),
            Err(AnchorFileError::ChainId(_))
        ));
        assert!(matches!(
            parse_anchor("chain_id = \"ok\"\nvalidators_hash = \"00\"\n"),
            Err(AnchorFileError::ValidatorsHash(_))
        ));
    }

    #[test]
    fn national_anchor_round_trip_and_refusals() {
        let keys: Vec<PublicKeyBytes> = (1..=4u8)
            .map(|i| crypto::public_key(&ed25519_dalek::SigningKey::from_bytes(&[i; 32])))
            .collect();
        let anchor = NationalAnchor {
            federation: ChainId::new("ecert-national").unwrap(),
            keys: keys.clone(),
        };
        let text = national_anchor_to_toml(&anchor, "national\nkeys");
        assert_eq!(parse_national_anchor(&text).unwrap(), anchor);
        let file = |federation: &str, keys: &[String]| {
            format!("federation = \"{federation}\"\nkeys = {keys:?}\n")
        };
        let hex: Vec<String> = keys.iter().map(PublicKeyBytes::to_hex).collect();
        assert!(matches!(
            parse_national_anchor("federation = \"x\"\n"),
            Err(NationalAnchorFileError::Syntax(_))
        ));
        assert!(matches!(
            parse_national_anchor(&format!("{text}chain_id = \"x\"\n")),
            Err(NationalAnchorFileError::Syntax(_))
        ));
        assert!(matches!(
            parse_national_anchor(&file("Bad Name", &hex)),
            Err(NationalAnchorFileError::Federation(_))
        ));
        assert_eq!(
            parse_national_anchor(&file("ok", &[])),
            Err(NationalAnchorFileError::KeyCount(0))
        );
        let short = vec![hex[0].clone(), "00".to_owned()];
        assert!(matches!(
            parse_national_anchor(&file("ok", &short)),
            Err(NationalAnchorFileError::Key { index: 1, .. })
        ));
        let repeated = vec![hex[0].clone(), hex[1].clone(), hex[0].clone()];
        assert_eq!(
            parse_national_anchor(&file("ok", &repeated)),
            Err(NationalAnchorFileError::RepeatedKey { index: 2, first: 0 })
        );
    }
}
