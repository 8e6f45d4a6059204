//! What a validator operator's commands learn from the ledger, checked: the trust anchor
//! (from the genesis file or an anchor file), a client of a node's API, and the current
//! validator set proven from genesis (`GET /v1/validators`, checked with
//! `ecert_verifier::verify_validator_set`), so that the node answering is not trusted.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use ecert_client::{Http, NodeClient, TransportArgs};
use ecert_ledger_node::genesis::Genesis;
use ecert_schemas::ledger::{GovernanceAction, ValidatorInfo};
use ecert_shell::files::read_text_limited;
use ecert_shell::Failure;
use ecert_verifier::TrustAnchor;

use crate::exit;

/// Longest wait for one answer of the node (a submission waits for certification).
const NODE_TIMEOUT: Duration = Duration::from_secs(75);
/// Largest trust anchor file read.
const MAX_ANCHOR_BYTES: u64 = 64 * 1024;

/// What the operator trusts: the genesis file (its trust anchor, validators and their
/// addresses), or only the trust anchor.
pub struct Trust {
    /// The ledger's trust anchor.
    pub anchor: TrustAnchor,
    /// The genesis file, when given.
    pub genesis: Option<Genesis>,
}

impl Trust {
    /// The trust of `--genesis FILE` or `--anchor FILE` (one of them is given).
    pub fn read(genesis: Option<&Path>, anchor: Option<&Path>) -> Result<Trust> {
        if let Some(path) = genesis {
            let genesis = crate::read_genesis(path).map_err(|e| input(format!("{e:#}")))?;
            let anchor = genesis
                .trust_anchor()
                .with_context(|| format!("the trust anchor of {}", path.display()))?;
            return Ok(Trust {
                anchor,
                genesis: Some(genesis),
            });
        }
        let Some(path) = anchor else {
            return Err(input(
                "give the genesis file (--genesis FILE) or the trust anchor (--anchor FILE)",
            )
            .into());
        };
        let text = read_text_limited(path, MAX_ANCHOR_BYTES)
            .map_err(|e| input(format!("cannot read the trust anchor: {e}")))?;
        let anchor = ecert_verifier::anchor_file::parse_anchor(&text).map_err(|e| {
            input(format!(
                "{} is not a trust anchor file (from `ecert-node trust-anchor`): {e}",
                path.display()
            ))
        })?;
        Ok(Trust {
            anchor,
            genesis: None,
        })
    }
}

/// Bad input (exit code [`exit::INPUT`]).
pub fn input(message: impl Into<String>) -> Failure {
    Failure::new(exit::INPUT, message)
}

/// A client of the node at `url` (`https://HOST:PORT`, or plain `http://` on this
/// computer), with the connection policy of `--ca` and `--insecure-http`.
pub fn client(url: &str, transport: &TransportArgs) -> Result<NodeClient> {
    let net = transport.transport().map_err(|e| input(e.to_string()))?;
    let server = net
        .server(url)
        .map_err(|e| input(format!("--node: the ledger node address {e}")))?;
    let http = Http::with_transport(
        concat!("ecert-node/", env!("CARGO_PKG_VERSION")),
        NODE_TIMEOUT,
        &net,
    );
    Ok(NodeClient::with_http(server, http))
}

/// The current validator set.
#[derive(Clone, Debug)]
pub struct CurrentSet {
    /// The validators, in order: a validator's position is its approval index.
    pub validators: Vec<ValidatorInfo>,
    /// Their libp2p addresses, in the same order, when known (from the last change, or
    /// from the genesis file while the set never changed).
    pub addresses: Option<Vec<String>>,
    /// Where it comes from, for people: the node (proven from genesis, at a height) or
    /// the genesis file.
    pub source: String,
}

impl CurrentSet {
    /// The genesis set.
    pub fn of_genesis(genesis: &Genesis) -> CurrentSet {
        CurrentSet {
            validators: genesis.validators.clone(),
            addresses: Some(genesis.addresses.clone()),
            source: "the genesis file".into(),
        }
    }

    /// The set `node` serves, checked against `trust`'s anchor: the newest certified
    /// header, certified by this set, which the validator-set changes since genesis lead
    /// to. A set that does not verify fails with [`exit::PROOF`].
    pub fn from_node(node: &NodeClient, trust: &Trust) -> Result<CurrentSet> {
        let proof = node
            .validator_set()
            .with_context(|| format!("cannot read the validator set from {}", node.base()))?;
        let verified =
            ecert_verifier::verify_validator_set(&proof, &trust.anchor).map_err(|e| {
                Failure::new(
                    exit::PROOF,
                    format!(
                        "the validator set served by {} does not verify against the trust anchor \
                     of ledger {} ({}): {e}; do not trust that node",
                        node.base(),
                        trust.anchor.chain_id,
                        e.code()
                    ),
                )
            })?;
        // The last change's addresses are the current set's: the proof's set is the one
        // that change made (checked above).
        let addresses = match proof.changes.last() {
            Some(last) => match &last.change.body.action {
                GovernanceAction::ChangeValidators(change) => Some(change.addresses.clone()),
                _ => None,
            },
            None => trust.genesis.as_ref().map(|g| g.addresses.clone()),
        };
        let changes = match verified.changes {
            0 => "no change since genesis".to_owned(),
            1 => "1 change since genesis".to_owned(),
            n => format!("{n} changes since genesis"),
        };
        Ok(CurrentSet {
            validators: verified.validators,
            addresses,
            source: format!(
                "the current set served by {}, proven from the genesis trust anchor ({changes}, \
                 certified height {})",
                node.base(),
                verified.header.height
            ),
        })
    }

    /// Validator `index` as people name it: `#1 transport`.
    pub fn name(&self, index: usize) -> String {
        match self.validators.get(index) {
            Some(v) => format!("#{index} {}", v.department),
            None => format!("#{index}"),
        }
    }

    /// Every validator, `#0 a, #1 b, ...`.
    pub fn names(&self) -> String {
        (0..self.validators.len())
            .map(|i| self.name(i))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Smallest number of `validators` that is more than two thirds of them: the votes a
/// certified header needs, and the approvals a governance change needs.
pub fn quorum(validators: usize) -> usize {
    validators.saturating_mul(2) / 3 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quorum_is_the_verifiers() {
        for n in 1..50 {
            let q = quorum(n);
            assert!(ecert_verifier::checkpoint::is_quorum(q, n), "{n}");
            assert!(!ecert_verifier::checkpoint::is_quorum(q - 1, n), "{n}");
        }
    }
}
