//! Governance from a validator operator's side:
//!
//! - `propose-validators`: the current validator set read from a node and checked against
//!   the trust anchor, changed as asked (`--add`, `--remove`, `--replace`), written as a
//!   proposal (a CBOR `GovernanceBody` whose action is `ChangeValidators`);
//! - `approve`: what a proposal changes, in words, then this validator's approval, at its
//!   position in the current set (from a node, checked) or in the genesis;
//! - `propose-kind`: a revised kind file checked against the registered one (a compatible
//!   revision, and the file the ledger registers, from a node, checked), written as a
//!   proposal whose action is `ReviseKind`;
//! - `submit-governance`: approvals checked against the current set (each one this
//!   proposal's, by a current validator, more than two thirds of them), the transaction
//!   assembled and sent, and the ledger's answer.
//!
//! A proposal file is one CBOR `GovernanceBody`; an approval file one CBOR `Approval` or a
//! CBOR array of them (as `ecert-issuer rotate-key` reads them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_client::node::Wait;
use ecert_client::{NodeClient, NodeError};
use ecert_schemas::codec::{from_cbor, to_cbor};
use ecert_schemas::ledger::{
    Approval, GovernanceAction, GovernanceBody, GovernanceTx, Transaction, ValidatorInfo,
    ValidatorSetChange, MAX_VALIDATOR_ADDRESS_LEN,
};
use ecert_schemas::{IssuerId, KeyId, Kind, KindRegistry, PublicKeyBytes};
use ecert_shell::files::{read_limited, read_text_limited, write_atomically, Existing};
use ecert_shell::{outln, Failure};
use ecert_verifier::crypto::{self, SigningContext};
use ed25519_dalek::SigningKey;

use crate::exit;
use crate::ledger::{input, quorum, CurrentSet, Trust};

/// Largest proposal or approval file read.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Largest kind file read.
const MAX_KIND_BYTES: u64 = 1024 * 1024;
/// How long a submission waits for its block to be certified, in milliseconds.
const SUBMIT_WAIT_MS: u64 = 60_000;

/// A validator named on the command line: `DEPARTMENT=KEY@ADDRESS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The department running it.
    pub department: IssuerId,
    /// Its validator key (`ecert-node key` prints it).
    pub key: PublicKeyBytes,
    /// Its libp2p address, where the other nodes reach it.
    pub address: String,
}

/// Reads `DEPARTMENT=KEY@ADDRESS` (for clap): a department id, the node's validator key
/// (64 hexadecimal digits, a usable Ed25519 key) and its libp2p address.
pub fn parse_member(text: &str) -> Result<Member, String> {
    const FORM: &str = "expected DEPARTMENT=KEY@ADDRESS, for example \
                        health=5f0c…e1a2@/ip4/10.0.3.9/tcp/7100 (KEY as `ecert-node key` prints it)";
    let (department, rest) = text.split_once('=').ok_or(FORM)?;
    let (key, address) = rest.split_once('@').ok_or(FORM)?;
    let department = IssuerId::new(department.to_owned())
        .map_err(|e| format!("{department:?} is not a department id: {e}"))?;
    let key = PublicKeyBytes::from_hex(key.trim())
        .map_err(|e| format!("the key of {department} is not 64 hexadecimal digits: {e}"))?;
    if crypto::parse_public_key(&key).is_none() {
        return Err(format!(
            "the key of {department} is not a valid Ed25519 public key (give the key \
             `ecert-node key` prints for its node)"
        ));
    }
    let address: libp2p::Multiaddr = address.trim().parse().map_err(|e| {
        format!(
            "the address of {department}, {address:?}, is not a libp2p address such as \
             /ip4/10.0.3.9/tcp/7100: {e}"
        )
    })?;
    let address = address.to_string();
    if address.len() > MAX_VALIDATOR_ADDRESS_LEN {
        return Err(format!(
            "the address of {department} is longer than {MAX_VALIDATOR_ADDRESS_LEN} characters"
        ));
    }
    Ok(Member {
        department,
        key,
        address,
    })
}

/// The changes asked with `--add`, `--remove` and `--replace`.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// New validators, appended in the order given.
    pub add: Vec<Member>,
    /// Validators removed: a department, or a validator key in hex.
    pub remove: Vec<String>,
    /// Validators given a new key (and address), at their position.
    pub replace: Vec<Member>,
}

/// The position of the validator `who` names (its department, or its key in hex) in
/// `current`; `flag` names the option for messages.
fn find(current: &[ValidatorInfo], who: &str, flag: &str) -> Result<usize> {
    let by_key = PublicKeyBytes::from_hex(who).ok();
    let found: Vec<usize> = current
        .iter()
        .enumerate()
        .filter(|(_, v)| v.department.as_str() == who || Some(v.key) == by_key)
        .map(|(i, _)| i)
        .collect();
    let departments = current
        .iter()
        .map(|v| v.department.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(input(format!(
            "{flag} {who}: no validator of the current set is {who} (the set: {departments})"
        ))
        .into()),
        _ => Err(input(format!(
            "{flag} {who}: department {who} runs several validators of the current set; name \
             the one meant by its key"
        ))
        .into()),
    }
}

/// The new set: `current` (with `addresses`) changed as `changes` ask. A replaced
/// validator keeps its position; added ones come last. Refuses (exit code
/// [`exit::INPUT`]) an empty change, a validator named twice, an unknown department, a
/// department added that already runs a validator, a key already in the set, and a set
/// the ledger would refuse (`check_validator_set_change`).
pub fn new_set(
    current: &[ValidatorInfo],
    addresses: &[String],
    changes: &Changes,
) -> Result<ValidatorSetChange> {
    if changes.add.is_empty() && changes.remove.is_empty() && changes.replace.is_empty() {
        return Err(input("nothing to change: give --add, --remove or --replace").into());
    }
    if addresses.len() != current.len() {
        return Err(input(format!(
            "{} addresses for {} validators: the current set's addresses are not known",
            addresses.len(),
            current.len()
        ))
        .into());
    }
    let mut slots: Vec<Option<(ValidatorInfo, String)>> = current
        .iter()
        .cloned()
        .zip(addresses.iter().cloned())
        .map(Some)
        .collect();
    let mut touched = BTreeSet::new();
    let mut name_once = |index: usize, flag: &str, who: &str| -> Result<()> {
        if touched.insert(index) {
            Ok(())
        } else {
            Err(input(format!(
                "{flag} {who}: this validator is named by another option too; name each \
                 validator once"
            ))
            .into())
        }
    };
    let key_is_new = |member: &Member, flag: &str| -> Result<()> {
        match current.iter().find(|v| v.key == member.key) {
            Some(holder) => Err(input(format!(
                "{flag} {}: key {} is already the key of validator {} in the current set",
                member.department,
                member.key.to_hex(),
                holder.department
            ))
            .into()),
            None => Ok(()),
        }
    };
    for member in &changes.replace {
        let index = find(current, member.department.as_str(), "--replace")?;
        name_once(index, "--replace", member.department.as_str())?;
        key_is_new(member, "--replace")?;
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some((
                ValidatorInfo {
                    department: member.department.clone(),
                    key: member.key,
                },
                member.address.clone(),
            ));
        }
    }
    for who in &changes.remove {
        let index = find(current, who, "--remove")?;
        name_once(index, "--remove", who)?;
        if let Some(slot) = slots.get_mut(index) {
            *slot = None;
        }
    }
    let mut added: Vec<&IssuerId> = Vec::new();
    for member in &changes.add {
        if current.iter().any(|v| v.department == member.department) {
            return Err(input(format!(
                "--add {0}: department {0} already runs a validator of the current set; give \
                 it a new key with --replace {0}=KEY@ADDRESS",
                member.department
            ))
            .into());
        }
        if added.contains(&&member.department) {
            return Err(input(format!(
                "--add {0}: department {0} is added twice",
                member.department
            ))
            .into());
        }
        key_is_new(member, "--add")?;
        added.push(&member.department);
    }
    let mut validators = Vec::new();
    let mut new_addresses = Vec::new();
    for (validator, address) in slots.into_iter().flatten() {
        validators.push(validator);
        new_addresses.push(address);
    }
    for member in &changes.add {
        validators.push(ValidatorInfo {
            department: member.department.clone(),
            key: member.key,
        });
        new_addresses.push(member.address.clone());
    }
    if let Some((i, v)) = validators
        .iter()
        .enumerate()
        .find(|(i, v)| validators.iter().take(*i).any(|w| w.key == v.key))
    {
        return Err(input(format!(
            "validator #{i} ({}) would have the key of another validator of the new set",
            v.department
        ))
        .into());
    }
    if validators.is_empty() {
        return Err(input("the change would leave no validator").into());
    }
    let change = ValidatorSetChange {
        validators,
        addresses: new_addresses,
    };
    ecert_verifier::transaction::check_validator_set_change(&change, current)
        .map_err(|e| input(format!("the ledger would refuse this validator set: {e}")))?;
    Ok(change)
}

/// A time for people, `YYYY-MM-DD HH:MM:SS UTC`.
fn when(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = ecert_schemas::date::civil_from_unix(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// What a validator-set change does to `current`, one line each: who is added, removed,
/// given a new key, moved or kept, and the votes a block needs before and after.
pub fn describe_change(current: &[ValidatorInfo], change: &ValidatorSetChange) -> Vec<String> {
    let mut lines = Vec::new();
    let address = |j: usize| {
        change
            .addresses
            .get(j)
            .map_or_else(String::new, |a| format!(", reached at {a}"))
    };
    let kept = |key: &PublicKeyBytes| change.validators.iter().any(|v| &v.key == key);
    for (j, v) in change.validators.iter().enumerate() {
        let before = current.iter().position(|c| c.key == v.key);
        let replaced = current
            .iter()
            .find(|c| c.department == v.department && !kept(&c.key));
        match (before, replaced) {
            (Some(i), _) if i == j => lines.push(format!(
                "keeps     #{j} {} (key {})",
                v.department,
                v.key.to_hex()
            )),
            (Some(i), _) => lines.push(format!(
                "keeps     #{j} {} (key {}), until now #{i}",
                v.department,
                v.key.to_hex()
            )),
            (None, Some(old)) => lines.push(format!(
                "REPLACES  #{j} {}'s key: the old key {} stops counting, the new key {} \
                 takes its place{}",
                v.department,
                old.key.to_hex(),
                v.key.to_hex(),
                address(j)
            )),
            (None, None) => lines.push(format!(
                "ADDS      #{j} {} (key {}){}",
                v.department,
                v.key.to_hex(),
                address(j)
            )),
        }
    }
    for c in current {
        let has_successor = change
            .validators
            .iter()
            .any(|v| v.department == c.department);
        if !kept(&c.key) && !has_successor {
            lines.push(format!(
                "REMOVES   {} (key {}): its votes and approvals stop counting",
                c.department,
                c.key.to_hex()
            ));
        }
    }
    let (n, m) = (current.len(), change.validators.len());
    lines.push(if n == m {
        format!(
            "The set keeps {m} validators: a block needs {} of {m} votes, as now, from the block \
             after the one holding this change",
            quorum(m)
        )
    } else {
        format!(
            "The set goes from {n} to {m} validators: a block then needs {} of {m} votes (now {} \
             of {n}), from the block after the one holding this change",
            quorum(m),
            quorum(n)
        )
    });
    lines
}

/// What a governance proposal does, in words (validator-set changes against `current`).
pub fn describe(body: &GovernanceBody, current: &[ValidatorInfo]) -> Vec<String> {
    match &body.action {
        GovernanceAction::ChangeValidators(change) => {
            let mut lines = vec!["Change the validator set:".to_owned()];
            lines.extend(
                describe_change(current, change)
                    .into_iter()
                    .map(|l| format!("  {l}")),
            );
            lines
        }
        GovernanceAction::RegisterIssuerKey(a) => vec![format!(
            "Register a new key {} ({}) for issuer {}, usable from {}",
            KeyId::of(&a.key).to_hex(),
            a.key.to_hex(),
            a.issuer,
            when(a.valid_from.secs())
        )],
        GovernanceAction::RotateIssuerKey(a) => vec![format!(
            "Replace issuer {}'s key {} by the new key {} ({}) at {}",
            a.issuer,
            a.old_key_id.to_hex(),
            KeyId::of(&a.new_key).to_hex(),
            a.new_key.to_hex(),
            when(a.valid_from.secs())
        )],
        GovernanceAction::RetireIssuerKey(a) => vec![format!(
            "Retire issuer {}'s key {} at {}",
            a.issuer,
            a.key_id.to_hex(),
            when(a.at.secs())
        )],
        GovernanceAction::RegisterIssuer(record) => vec![format!(
            "Register a new issuer {} ({}), entitled to {}, with {} key(s)",
            record.issuer,
            record.name,
            if record.kinds.is_empty() {
                "no kind".to_owned()
            } else {
                record
                    .kinds
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            record.keys.len()
        )],
        GovernanceAction::AddKind(kind) => vec![format!(
            "Add the certificate kind {} (kind file SHA-256 {})",
            kind.kind,
            kind.content_hash.to_hex()
        )],
        GovernanceAction::GrantKind(g) => {
            vec![format!("Entitle issuer {} to issue {}", g.issuer, g.kind)]
        }
        GovernanceAction::ReviseKind(kind) => vec![format!(
            "Revise the certificate kind {}: its kind file is now the one with SHA-256 {} \
             (from the block holding this change, counters, wallets and issuers need that \
             file; certificates already issued stay valid)",
            kind.kind,
            kind.content_hash.to_hex()
        )],
    }
}

/// Reads a kind file given on the command line (`flag` names the option for messages).
fn read_kind(path: &Path, flag: &str) -> Result<Kind> {
    let text = read_text_limited(path, MAX_KIND_BYTES)
        .map_err(|e| input(format!("{flag}: cannot read {}: {e}", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Kind::from_toml(&name, &text).map_err(|e| {
        input(format!(
            "{flag}: {} is not a kind file: {e}",
            path.display()
        ))
        .into()
    })
}

/// `propose-kind --revise NEW --previous OLD`: checks that `new` is a compatible revision
/// of `previous` (`Kind::check_revision`), that `previous` is the kind file the ledger
/// registers (its registry read from `node` and checked against the trust anchor), and
/// writes the proposal to `out`.
pub fn propose_kind(
    node: &NodeClient,
    trust: &Trust,
    new: &Path,
    previous: &Path,
    out: &Path,
) -> Result<()> {
    if out.exists() {
        return Err(input(format!(
            "{} already exists; nothing was written (choose another --out)",
            out.display()
        ))
        .into());
    }
    let new_kind = read_kind(new, "--revise")?;
    let old_kind = read_kind(previous, "--previous")?;
    old_kind.check_revision(&new_kind).map_err(|e| {
        input(format!(
            "{} is not a compatible revision of {}: {e}. Certificates already issued must \
             still verify under the revised file. Nothing was written.",
            new.display(),
            previous.display()
        ))
    })?;
    let store = node
        .certified_export(&trust.anchor, KindRegistry::default())
        .with_context(|| format!("cannot read the registry from {}", node.base()))?;
    let registry = store.registry();
    let Some(registered) = registry.kind(&old_kind.id) else {
        return Err(input(format!(
            "kind {} is not registered on ledger {}: there is nothing to revise",
            old_kind.id, trust.anchor.chain_id
        ))
        .into());
    };
    if registered.content_hash == new_kind.content_hash {
        return Err(input(format!(
            "the ledger already registers {} (SHA-256 {}) for kind {}: nothing to revise",
            new.display(),
            new_kind.content_hash.to_hex(),
            new_kind.id
        ))
        .into());
    }
    if registered.content_hash != old_kind.content_hash {
        return Err(input(format!(
            "--previous {} (SHA-256 {}) is not the kind file ledger {} registers for {} \
             (SHA-256 {}): give the registered file, so that the revision is checked against \
             what certificates were issued under",
            previous.display(),
            old_kind.content_hash.to_hex(),
            trust.anchor.chain_id,
            old_kind.id,
            registered.content_hash.to_hex()
        ))
        .into());
    }
    let seq = registry.governance_seq;
    let body = GovernanceBody {
        chain_id: trust.anchor.chain_id.clone(),
        seq,
        action: GovernanceAction::ReviseKind(new_kind.record()),
    };
    let bytes = body.to_bytes()?;
    write_atomically(out, &bytes, Existing::Refuse)
        .with_context(|| format!("writing the proposal to {}", out.display()))?;
    outln!(
        "Proposal #{seq} for ledger {} (registry certified at height {}):",
        body.chain_id,
        store.header().height
    );
    for line in describe(&body, &[]) {
        outln!("  {line}");
    }
    outln!(
        "  {} version {} replaces version {} (SHA-256 {}): every field kept, certificates \
         already issued stay valid.",
        new_kind.id,
        new_kind.version,
        old_kind.version,
        old_kind.content_hash.to_hex()
    );
    outln!("Proposal written to {}.", out.display());
    outln!(
        "Each validator approves it with\n  ecert-node approve --home HOME --genesis GENESIS \
         --node {} --proposal {} --out approval-DEPARTMENT.cbor\nand with the approvals of \
         more than two thirds of the validators anyone submits it:\n  ecert-node \
         submit-governance --node {} --genesis GENESIS --proposal {} --approval FILE...\n\
         Give the new kind file to counters, wallets and issuers before it applies.",
        node.base(),
        out.display(),
        node.base(),
        out.display()
    );
    Ok(())
}

/// Reads a proposal file.
pub fn read_proposal(path: &Path) -> Result<GovernanceBody> {
    let bytes = read_limited(path, MAX_FILE_BYTES)
        .map_err(|e| input(format!("cannot read the proposal: {e}")))?;
    from_cbor::<GovernanceBody>("governance proposal", &bytes).map_err(|e| {
        input(format!(
            "{} is not a governance proposal (from `ecert-node propose-validators`, \
             `ecert-node propose-kind` or `ecert-issuer rotate-key`): {e}",
            path.display()
        ))
        .into()
    })
}

/// Reads an approval file: one approval, or a list of them.
fn read_approvals(path: &Path) -> Result<Vec<Approval>> {
    let bytes = read_limited(path, MAX_FILE_BYTES)
        .map_err(|e| input(format!("cannot read the approval file: {e}")))?;
    if let Ok(one) = from_cbor::<Approval>("approval", &bytes) {
        return Ok(vec![one]);
    }
    from_cbor::<Vec<Approval>>("approvals", &bytes).map_err(|e| {
        input(format!(
            "{} is not an approval file (from `ecert-node approve`): {e}",
            path.display()
        ))
        .into()
    })
}

/// Refuses a proposal for another ledger than the trusted one.
fn check_chain(body: &GovernanceBody, trust: &Trust) -> Result<()> {
    if body.chain_id != trust.anchor.chain_id {
        return Err(input(format!(
            "the proposal is for ledger {}, the genesis or trust anchor given is ledger {}",
            body.chain_id, trust.anchor.chain_id
        ))
        .into());
    }
    Ok(())
}

/// Refuses a proposal whose sequence number the ledger is past (it applied already, or
/// another change took its number); says so when it is ahead. The registry is the node's
/// word, not checked: the ledger checks the number itself.
fn check_seq(body: &GovernanceBody, node: &NodeClient) -> Result<()> {
    let next = node
        .registry()
        .with_context(|| format!("cannot read the registry from {}", node.base()))?
        .governance_seq;
    if body.seq < next {
        return Err(input(format!(
            "proposal #{} can no longer apply: the ledger has applied {next} governance \
             changes (this one was submitted already, or another change took its number); \
             ask for a new proposal",
            body.seq
        ))
        .into());
    }
    if body.seq > next {
        eprintln!(
            "Note: the ledger's next governance change is #{next}; this proposal (#{}) \
             applies only after the ones before it.",
            body.seq
        );
    }
    Ok(())
}

/// `propose-validators`: the proposal, written to `out`; returns nothing but prints what
/// changes and what to do next.
pub fn propose(node: &NodeClient, trust: &Trust, changes: &Changes, out: &Path) -> Result<()> {
    if out.exists() {
        return Err(input(format!(
            "{} already exists; nothing was written (choose another --out)",
            out.display()
        ))
        .into());
    }
    let current = CurrentSet::from_node(node, trust)?;
    let Some(addresses) = &current.addresses else {
        return Err(input(
            "the current validators' addresses are in the genesis file (the set has not \
             changed since genesis): give --genesis FILE instead of --anchor",
        )
        .into());
    };
    let change = new_set(&current.validators, addresses, changes)?;
    let seq = node
        .registry()
        .with_context(|| format!("cannot read the registry from {}", node.base()))?
        .governance_seq;
    let body = GovernanceBody {
        chain_id: trust.anchor.chain_id.clone(),
        seq,
        action: GovernanceAction::ChangeValidators(change),
    };
    let bytes = body.to_bytes()?;
    write_atomically(out, &bytes, Existing::Refuse)
        .with_context(|| format!("writing the proposal to {}", out.display()))?;
    let n = current.validators.len();
    outln!(
        "Proposal #{seq} for ledger {}, compared with {}:",
        body.chain_id,
        current.source
    );
    for line in describe(&body, &current.validators) {
        outln!("  {line}");
    }
    outln!("Proposal written to {}.", out.display());
    outln!(
        "Each validator of the current set ({}) approves it with\n  ecert-node approve \
         --home HOME --genesis GENESIS --node {} --proposal {} --out approval-DEPARTMENT.cbor\n\
         and with the approvals of {} of the {n} validators anyone submits it:\n  ecert-node \
         submit-governance --node {} --genesis GENESIS --proposal {} --approval FILE...",
        current.names(),
        node.base(),
        out.display(),
        quorum(n),
        node.base(),
        out.display()
    );
    Ok(())
}

/// `approve`: prints what the proposal does, compared with the current set (from `node`,
/// checked, or the genesis file's without it), and writes this validator's approval.
pub fn approve(
    key: &SigningKey,
    trust: &Trust,
    node: Option<&NodeClient>,
    body: &GovernanceBody,
    out: &Path,
) -> Result<()> {
    check_chain(body, trust)?;
    let current = match (node, &trust.genesis) {
        (Some(node), _) => {
            check_seq(body, node)?;
            CurrentSet::from_node(node, trust)?
        }
        (None, Some(genesis)) => CurrentSet::of_genesis(genesis),
        (None, None) => {
            return Err(
                input("give the node (--node URL) to read the current validator set").into(),
            )
        }
    };
    let public = crypto::public_key(key);
    let index = current
        .validators
        .iter()
        .position(|v| v.key == public)
        .ok_or_else(|| {
            input(format!(
                "this node's key {} is not a validator of {} ({}): only its validators \
                 approve",
                public.to_hex(),
                current.source,
                current.names()
            ))
        })?;
    let position = u16::try_from(index).context("validator position")?;
    outln!("Proposal #{} for ledger {}:", body.seq, body.chain_id);
    for line in describe(body, &current.validators) {
        outln!("  {line}");
    }
    outln!("Compared with {}.", current.source);
    if node.is_none() && body.seq > 0 {
        outln!(
            "(If the validator set changed since genesis, positions differ: give --node URL \
             to approve at this validator's position in the current set.)"
        );
    }
    let approval = ecert_ledger_node::governance::approve(key, position, body)?;
    let encoded = to_cbor(&approval)?;
    write_atomically(out, &encoded, Existing::Refuse)
        .with_context(|| format!("writing the approval to {}", out.display()))?;
    outln!(
        "Approved as validator {}; approval written to {}",
        current.name(index),
        out.display()
    );
    Ok(())
}

/// `submit-governance`: the approvals in `approval_files` checked against the current set
/// `node` serves (checked against `trust`), assembled with the proposal and sent; waits
/// until the ledger certifies it.
pub fn submit(
    node: &NodeClient,
    trust: &Trust,
    proposal: &Path,
    approval_files: &[PathBuf],
) -> Result<()> {
    let body = read_proposal(proposal)?;
    check_chain(&body, trust)?;
    let current = CurrentSet::from_node(node, trust)?;
    let message = body.to_bytes()?;
    let mut approvals: Vec<Approval> = Vec::new();
    for path in approval_files {
        for approval in read_approvals(path)? {
            let index = usize::from(approval.validator);
            let Some(validator) = current.validators.get(index) else {
                return Err(input(format!(
                    "{}: an approval by validator #{index}, but {} has {} validators (#0 to \
                     #{}): it was made for another validator set",
                    path.display(),
                    current.source,
                    current.validators.len(),
                    current.validators.len().saturating_sub(1)
                ))
                .into());
            };
            let valid = crypto::parse_public_key(&validator.key).is_some_and(|key| {
                crypto::verify(
                    &key,
                    SigningContext::Governance,
                    &message,
                    &approval.signature,
                )
            });
            if !valid {
                return Err(input(format!(
                    "{} is not validator {}'s approval of this proposal: it approves another \
                     proposal, or it was signed with a key that is not {}'s current key",
                    path.display(),
                    current.name(index),
                    validator.department
                ))
                .into());
            }
            if approvals.iter().any(|a| a.validator == approval.validator) {
                eprintln!(
                    "Note: validator {} approved twice; one approval is used.",
                    current.name(index)
                );
                continue;
            }
            approvals.push(approval);
        }
    }
    approvals.sort_by_key(|a| a.validator);
    let n = current.validators.len();
    if !ecert_verifier::checkpoint::is_quorum(approvals.len(), n) {
        let approved: Vec<usize> = approvals.iter().map(|a| usize::from(a.validator)).collect();
        let missing = (0..n)
            .filter(|i| !approved.contains(i))
            .map(|i| current.name(i))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Failure::new(
            exit::NO_QUORUM,
            format!(
                "approvals from {} of the {n} current validators: more than two thirds are \
                 needed, that is {} of {n}; not approved by {missing}. Nothing was sent.",
                approvals.len(),
                quorum(n)
            ),
        )
        .into());
    }
    check_seq(&body, node)?;
    outln!("Proposal #{} for ledger {}:", body.seq, body.chain_id);
    for line in describe(&body, &current.validators) {
        outln!("  {line}");
    }
    outln!(
        "Approved by {} of the {n} current validators.",
        approvals.len()
    );
    let tx = Transaction::Governance(GovernanceTx {
        body: body.clone(),
        approvals,
    });
    eprintln!(
        "Sending the governance change to the ledger ({}); waiting until it is certified...",
        node.base()
    );
    let receipt = node
        .submit(&tx, Wait::Certified, SUBMIT_WAIT_MS)
        .map_err(|e| match e {
            NodeError::Refused { code, message } => anyhow::Error::new(Failure::new(
                exit::REFUSED,
                format!("the ledger refused the governance change ({code}): {message}"),
            )),
            other => anyhow::Error::new(other).context("the governance change was not recorded"),
        })?;
    let height = receipt
        .height
        .map_or_else(|| "?".to_owned(), |h| h.to_string());
    outln!(
        "The ledger certified the change in block {height} (transaction {}).",
        receipt.tx_hash
    );
    if let GovernanceAction::ReviseKind(kind) = &body.action {
        outln!(
            "From block {height} on, certificates of {} are checked against the kind file with \
             SHA-256 {}.",
            kind.kind,
            kind.content_hash.to_hex()
        );
    }
    if let GovernanceAction::ChangeValidators(change) = &body.action {
        let names = change
            .validators
            .iter()
            .enumerate()
            .map(|(i, v)| format!("#{i} {}", v.department))
            .collect::<Vec<_>>()
            .join(", ");
        outln!(
            "From the next block on, the new set certifies: {names}. Added validators' nodes \
             take part once they run and have caught up; removed ones may be stopped."
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PublicKeyBytes {
        crypto::public_key(&SigningKey::from_bytes(&[seed; 32]))
    }

    fn validator(dept: &str, seed: u8) -> ValidatorInfo {
        ValidatorInfo {
            department: IssuerId::new(dept.to_owned()).unwrap(),
            key: key(seed),
        }
    }

    fn member(dept: &str, seed: u8, port: u16) -> Member {
        parse_member(&format!(
            "{dept}={}@/ip4/127.0.0.1/tcp/{port}",
            key(seed).to_hex()
        ))
        .unwrap()
    }

    fn four() -> (Vec<ValidatorInfo>, Vec<String>) {
        let set = ["a", "b", "c", "d"]
            .iter()
            .zip(1u8..)
            .map(|(d, s)| validator(d, s))
            .collect();
        let addresses = (0..4)
            .map(|i| format!("/ip4/127.0.0.1/tcp/{}", 7100 + i))
            .collect();
        (set, addresses)
    }

    #[test]
    fn members_are_read_with_clear_refusals() {
        let m = member("health", 9, 7200);
        assert_eq!(m.department.as_str(), "health");
        assert_eq!(m.address, "/ip4/127.0.0.1/tcp/7200");
        let hex = key(9).to_hex();
        for (text, says) in [
            ("health", "DEPARTMENT=KEY@ADDRESS"),
            (&format!("health={hex}") as &str, "DEPARTMENT=KEY@ADDRESS"),
            ("Health Dept=00@/ip4/1.2.3.4/tcp/1", "not a department id"),
            ("health=abcd@/ip4/1.2.3.4/tcp/1", "64 hexadecimal digits"),
            (
                &format!("health={}@/ip4/1.2.3.4/tcp/1", "00".repeat(32)),
                "not a valid Ed25519 public key",
            ),
            (
                &format!("health={hex}@10.0.0.1:7100"),
                "not a libp2p address",
            ),
        ] {
            let e = parse_member(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn a_new_set_adds_removes_and_replaces_in_place() {
        let (set, addresses) = four();
        let changes = Changes {
            add: vec![member("e", 5, 7104)],
            remove: vec!["b".into()],
            replace: vec![member("c", 7, 7110)],
        };
        let change = new_set(&set, &addresses, &changes).unwrap();
        let names: Vec<&str> = change
            .validators
            .iter()
            .map(|v| v.department.as_str())
            .collect();
        assert_eq!(names, ["a", "c", "d", "e"]);
        assert_eq!(change.validators[1].key, key(7));
        assert_eq!(change.addresses[1], "/ip4/127.0.0.1/tcp/7110");
        assert_eq!(change.addresses[3], "/ip4/127.0.0.1/tcp/7104");
        let words = describe_change(&set, &change).join("\n");
        assert!(words.contains("ADDS      #3 e"), "{words}");
        assert!(words.contains("REMOVES   b"), "{words}");
        assert!(words.contains("REPLACES  #1 c's key"), "{words}");
        assert!(words.contains("keeps     #2 d"), "{words}");
        assert!(
            words.contains("keeps 4 validators: a block needs 3 of 4 votes, as now"),
            "{words}"
        );
        // By key too.
        let by_key = Changes {
            remove: vec![key(4).to_hex()],
            ..Changes::default()
        };
        assert_eq!(
            new_set(&set, &addresses, &by_key).unwrap().validators.len(),
            3
        );
    }

    #[test]
    fn bad_changes_are_refused_with_the_reason() {
        let (set, addresses) = four();
        let refused = |changes: Changes, says: &str| {
            let e = new_set(&set, &addresses, &changes).unwrap_err();
            assert_eq!(exit::for_error(&e), exit::INPUT, "{e:#}");
            assert!(format!("{e:#}").contains(says), "{says}: {e:#}");
        };
        refused(Changes::default(), "nothing to change");
        refused(
            Changes {
                remove: vec!["x".into()],
                ..Changes::default()
            },
            "no validator of the current set is x",
        );
        refused(
            Changes {
                add: vec![member("a", 9, 1)],
                ..Changes::default()
            },
            "already runs a validator",
        );
        refused(
            Changes {
                add: vec![member("e", 2, 1)],
                ..Changes::default()
            },
            "already the key of validator b",
        );
        refused(
            Changes {
                remove: vec!["a".into()],
                replace: vec![member("a", 9, 1)],
                ..Changes::default()
            },
            "named by another option too",
        );
        refused(
            Changes {
                remove: vec!["a".into(), "b".into(), "c".into(), "d".into()],
                ..Changes::default()
            },
            "no validator",
        );
        refused(
            Changes {
                add: vec![member("e", 9, 1), member("f", 9, 2)],
                ..Changes::default()
            },
            "key of another validator",
        );
    }
}
