//! The genesis file: the chain id, the validators (department, Ed25519 key, address), the
//! issuers (department, name, entitled kinds, keys with validity) and the certificate
//! kinds (id and SHA-256 of the kind file). TOML, for operators to read and review.
//!
//! ```toml
//! chain_id = "ecert-demo-province"
//!
//! [[validators]]
//! department = "public-security"
//! key = "<64 hex digits>"
//! address = "/ip4/127.0.0.1/tcp/7101"
//!
//! [[issuers]]
//! id = "public-security"
//! name = "Public Security Bureau"
//! kinds = ["id-card", "no-criminal-record"]
//! keys = [{ key = "<64 hex digits>", valid_from = 1790000000 }]
//!
//! [[kinds]]
//! id = "id-card"
//! content_hash = "<64 hex digits>"
//! ```

use std::collections::BTreeSet;

use ecert_schemas::ledger::{IssuerKeyRecord, IssuerRecord, KindRecord, Registry, ValidatorInfo};
use ecert_schemas::{
    ChainId, Hash32, IssuerId, KeyId, KindId, KindRegistry, PublicKeyBytes, UnixTime,
};
use ecert_verifier::{crypto, TrustAnchor};
use serde::{Deserialize, Serialize};

use crate::state::LedgerState;
use crate::LedgerError;

/// A validator as the genesis file names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// The department running the node.
    pub department: String,
    /// Its Ed25519 public key, hex.
    pub key: String,
    /// Where its node listens (a libp2p multiaddress).
    pub address: String,
}

/// An issuer key as the genesis file names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisIssuerKey {
    /// Ed25519 public key, hex.
    pub key: String,
    /// First second it may issue.
    pub valid_from: u64,
}

/// An issuer as the genesis file names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisIssuer {
    /// The department's id.
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// Kinds it may issue.
    pub kinds: Vec<String>,
    /// Its keys.
    pub keys: Vec<GenesisIssuerKey>,
}

/// A kind as the genesis file names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisKind {
    /// The kind id.
    pub id: String,
    /// SHA-256 of the kind file, hex.
    pub content_hash: String,
}

/// The genesis file's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// The ledger's id.
    pub chain_id: String,
    /// The validators, in order: a validator's position is its vote and approval index
    /// until a validator-set change (its Raft id comes from its key,
    /// `raft::node_id_of`).
    pub validators: Vec<GenesisValidator>,
    /// The issuers.
    pub issuers: Vec<GenesisIssuer>,
    /// The certificate kinds.
    pub kinds: Vec<GenesisKind>,
}

/// A checked genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// The ledger's id.
    pub chain_id: ChainId,
    /// The validator set.
    pub validators: Vec<ValidatorInfo>,
    /// Validator addresses, in validator order.
    pub addresses: Vec<String>,
    /// The initial registry (issuers and kinds sorted by id).
    pub registry: Registry,
}

fn bad(detail: impl Into<String>) -> LedgerError {
    LedgerError::Genesis(detail.into())
}

fn key_from_hex(what: &str, hex_key: &str) -> Result<PublicKeyBytes, LedgerError> {
    let key = PublicKeyBytes::from_hex(hex_key).map_err(|e| bad(format!("{what}: {e}")))?;
    crypto::parse_public_key(&key)
        .ok_or_else(|| bad(format!("{what}: not a valid Ed25519 public key")))?;
    Ok(key)
}

impl Genesis {
    /// Reads and checks a genesis file.
    pub fn from_toml(text: &str) -> Result<Genesis, LedgerError> {
        let file: GenesisFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        Genesis::from_file(file)
    }

    /// Checks a parsed genesis file: valid identifiers and keys, no repeated validator
    /// key, department or issuer, issuers entitled only to listed kinds.
    pub fn from_file(file: GenesisFile) -> Result<Genesis, LedgerError> {
        let chain_id = ChainId::new(file.chain_id).map_err(|e| bad(e.to_string()))?;
        if file.validators.is_empty() {
            return Err(bad("at least one validator is needed"));
        }
        let mut validators = Vec::new();
        let mut addresses = Vec::new();
        let mut seen_keys = BTreeSet::new();
        for v in file.validators {
            let department = IssuerId::new(v.department).map_err(|e| bad(e.to_string()))?;
            let key = key_from_hex(&format!("validator {department}"), &v.key)?;
            if !seen_keys.insert(key) {
                return Err(bad(format!(
                    "validator key of {department} is listed twice"
                )));
            }
            if v.address.trim().is_empty() {
                return Err(bad(format!("validator {department} has no address")));
            }
            validators.push(ValidatorInfo { department, key });
            addresses.push(v.address);
        }
        let mut kinds = Vec::new();
        for k in file.kinds {
            let kind = KindId::new(k.id).map_err(|e| bad(e.to_string()))?;
            let content_hash =
                Hash32::from_hex(&k.content_hash).map_err(|e| bad(format!("kind {kind}: {e}")))?;
            kinds.push(KindRecord { kind, content_hash });
        }
        kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
        if kinds
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.kind == b.kind))
        {
            return Err(bad("a kind is listed twice"));
        }
        let mut issuers = Vec::new();
        for i in file.issuers {
            let issuer = IssuerId::new(i.id).map_err(|e| bad(e.to_string()))?;
            let mut entitled = Vec::new();
            for k in i.kinds {
                let kind = KindId::new(k).map_err(|e| bad(e.to_string()))?;
                if !kinds.iter().any(|r| r.kind == kind) {
                    return Err(bad(format!(
                        "issuer {issuer} is entitled to {kind}, which is not a listed kind"
                    )));
                }
                entitled.push(kind);
            }
            entitled.sort();
            entitled.dedup();
            let mut keys = Vec::new();
            for k in i.keys {
                let key = key_from_hex(&format!("issuer {issuer}"), &k.key)?;
                keys.push(IssuerKeyRecord {
                    key_id: KeyId::of(&key),
                    key,
                    valid_from: UnixTime(k.valid_from),
                    valid_until: None,
                });
            }
            if keys.is_empty() {
                return Err(bad(format!("issuer {issuer} has no key")));
            }
            issuers.push(IssuerRecord {
                issuer,
                name: i.name,
                kinds: entitled,
                keys,
            });
        }
        issuers.sort_by(|a, b| a.issuer.cmp(&b.issuer));
        let genesis = Genesis {
            chain_id,
            validators,
            addresses,
            registry: Registry {
                issuers,
                kinds,
                governance_seq: 0,
            },
        };
        // The state machine's own genesis checks (sorted, no repeats, key ids) apply too.
        genesis.ledger_state()?;
        Ok(genesis)
    }

    /// Checks that every kind in the genesis matches a kind file this software has.
    pub fn check_kinds(&self, local: &KindRegistry) -> Result<(), LedgerError> {
        for record in &self.registry.kinds {
            let kind = local
                .get(&record.kind)
                .map_err(|_| bad(format!("kind {} has no kind file here", record.kind)))?;
            if kind.content_hash != record.content_hash {
                return Err(bad(format!(
                    "kind {}: the local kind file differs from the genesis hash",
                    record.kind
                )));
            }
        }
        Ok(())
    }

    /// The ledger state at height 0.
    pub fn ledger_state(&self) -> Result<LedgerState, LedgerError> {
        LedgerState::genesis(
            self.chain_id.clone(),
            self.validators.clone(),
            self.registry.clone(),
        )
    }

    /// What counters of this ledger are configured with.
    pub fn trust_anchor(&self) -> Result<TrustAnchor, LedgerError> {
        Ok(TrustAnchor::new(self.chain_id.clone(), &self.validators)?)
    }

    /// The genesis as a file.
    pub fn to_file(&self) -> GenesisFile {
        GenesisFile {
            chain_id: self.chain_id.to_string(),
            validators: self
                .validators
                .iter()
                .zip(&self.addresses)
                .map(|(v, address)| GenesisValidator {
                    department: v.department.to_string(),
                    key: v.key.to_hex(),
                    address: address.clone(),
                })
                .collect(),
            issuers: self
                .registry
                .issuers
                .iter()
                .map(|i| GenesisIssuer {
                    id: i.issuer.to_string(),
                    name: i.name.clone(),
                    kinds: i.kinds.iter().map(ToString::to_string).collect(),
                    keys: i
                        .keys
                        .iter()
                        .map(|k| GenesisIssuerKey {
                            key: k.key.to_hex(),
                            valid_from: k.valid_from.secs(),
                        })
                        .collect(),
                })
                .collect(),
            kinds: self
                .registry
                .kinds
                .iter()
                .map(|k| GenesisKind {
                    id: k.kind.to_string(),
                    content_hash: k.content_hash.to_hex(),
                })
                .collect(),
        }
    }

    /// The genesis as TOML text.
    pub fn to_toml(&self) -> Result<String, LedgerError> {
        toml::to_string_pretty(&self.to_file()).map_err(|e| bad(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn key(seed: u8) -> String {
        crypto::public_key(&SigningKey::from_bytes(&[seed; 32])).to_hex()
    }

    fn sample() -> String {
        let kinds = KindRegistry::builtin().unwrap();
        let id_hash = kinds.get_str("id-card").unwrap().content_hash.to_hex();
        format!(
            r#"
chain_id = "ecert-test"

[[validators]]
department = "public-security"
key = "{v1}"
address = "/ip4/127.0.0.1/tcp/7101"

[[validators]]
department = "transport"
key = "{v2}"
address = "/ip4/127.0.0.1/tcp/7102"

[[issuers]]
id = "public-security"
name = "Public Security Bureau"
kinds = ["id-card"]
keys = [{{ key = "{i1}", valid_from = 1790000000 }}]

[[kinds]]
id = "id-card"
content_hash = "{id_hash}"
"#,
            v1 = key(1),
            v2 = key(2),
            i1 = key(3),
        )
    }

    #[test]
    fn reads_checks_and_writes_back() {
        let g = Genesis::from_toml(&sample()).unwrap();
        assert_eq!(g.validators.len(), 2);
        assert_eq!(
            g.registry.issuers[0].keys[0].key_id,
            KeyId::of(&g.registry.issuers[0].keys[0].key)
        );
        g.check_kinds(&KindRegistry::builtin().unwrap()).unwrap();
        let again = Genesis::from_toml(&g.to_toml().unwrap()).unwrap();
        assert_eq!(again, g);
        let state = g.ledger_state().unwrap();
        assert_eq!(state.height(), 0);
        assert_eq!(g.trust_anchor().unwrap().chain_id, g.chain_id);
    }

    #[test]
    fn rejects_bad_genesis_files() {
        let good = sample();
        let cases = [
            good.replace(&key(2), &key(1)),
            good.replace("kinds = [\"id-card\"]", "kinds = [\"driver-licence\"]"),
            good.replace(&key(3), "00"),
            good.replace("chain_id = \"ecert-test\"", "chain_id = \"Ecert Test\""),
            good.replace("address = \"/ip4/127.0.0.1/tcp/7102\"", "address = \" \""),
            good.clone() + "\nsurprise = true\n",
            good.replace("[[validators]]", "[[validatorz]]"),
        ];
        for case in cases {
            assert!(Genesis::from_toml(&case).is_err(), "accepted:\n{case}");
        }
        let g = Genesis::from_toml(&good).unwrap();
        assert!(g.check_kinds(&KindRegistry::default()).is_err());
    }
}
