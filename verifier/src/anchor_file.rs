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

use ecert_schemas::{ChainId, Hash32};
use serde::Deserialize;
use thiserror::Error;

use crate::TrustAnchor;

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
}
