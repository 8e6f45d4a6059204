//! Who the validators are, as the node sees them: the validator sets of the applied state
//! (genesis, then each change applied by governance), a newer set proven by a peer while
//! the state has not caught up, and Raft's membership. From it come the peers to dial,
//! the peers to spread votes and freshness statements to, and who may send which request.
//!
//! The state is the authority: a set proven by a peer (a `ValidatorSetProof` checked
//! against the genesis trust anchor) only lets a node that is not a validator yet, or lags
//! behind, find and accept the validators the ledger has now, until its state has caught
//! up.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ecert_schemas::ledger::{Checkpoint, ValidatorChange, ValidatorInfo, ValidatorSetProof};
use ecert_schemas::PublicKeyBytes;
use ecert_verifier::validator_chain::verify_validator_set;
use libp2p::{Multiaddr, PeerId};

use super::net::peer_id_of;
use super::raft_net::{dial_address, peer_in};
use super::shared::Shared;
use super::wire::{NodeRequest, NodeResponse};
use crate::raft::{node_id_of, NodeId};
use crate::state::LedgerState;
use crate::vote_pool::ValidatorSets;
use crate::NodeError;

/// How often a node that is a validator asks a peer for the proven validator set (a node
/// that is not asks every [`LEARN_EVERY_OUTSIDE`]), unless a refused Raft message asks
/// for it at once.
const LEARN_EVERY: Duration = Duration::from_secs(10);
/// How often a node that is no validator of its current set asks.
const LEARN_EVERY_OUTSIDE: Duration = Duration::from_secs(2);
/// Shortest time between two asks.
const LEARN_AT_MOST_EVERY: Duration = Duration::from_millis(500);
/// How long an ask may take.
const LEARN_TIMEOUT: Duration = Duration::from_secs(5);

/// A validator set a peer proved, newer than the applied state's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ProvenSet {
    /// The height of the certified header it was proven at.
    pub(super) height: u64,
    /// The set, each validator with its address when the proof names it.
    pub(super) validators: Vec<(ValidatorInfo, Option<String>)>,
}

/// The node's view of the validators.
pub(super) struct Roster {
    /// The sets of the applied state, by height.
    pub(super) sets: ValidatorSets,
    /// The current set (the state's newest), each validator with its address.
    current: Vec<(ValidatorInfo, Option<String>)>,
    /// A newer set a peer proved.
    proven: Option<ProvenSet>,
    /// What the roster was last built from: the applied height and number of changes.
    synced: Option<(u64, usize)>,
    /// Whether this node was in the current set at the last sync (to say so once when it
    /// changes).
    member: Option<bool>,
    /// The peers last given to the network to dial.
    dialled: Vec<(PeerId, Multiaddr)>,
    /// Peer ids of the keys seen so far.
    peer_ids: HashMap<PublicKeyBytes, PeerId>,
}

/// Each validator of `validators` with its address in `addresses` (same order), when there
/// is one.
fn addressed(
    validators: &[ValidatorInfo],
    addresses: &[String],
) -> Vec<(ValidatorInfo, Option<String>)> {
    validators
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), addresses.get(i).cloned()))
        .collect()
}

impl Roster {
    /// The genesis set, before the state is read.
    pub(super) fn new(genesis: &crate::genesis::Genesis) -> Roster {
        Roster {
            sets: ValidatorSets::genesis(genesis.validators.clone()),
            current: addressed(&genesis.validators, &genesis.addresses),
            proven: None,
            synced: None,
            member: None,
            dialled: Vec::new(),
            peer_ids: HashMap::new(),
        }
    }

    /// The current set.
    pub(super) fn current(&self) -> impl Iterator<Item = &ValidatorInfo> {
        self.current.iter().map(|(v, _)| v)
    }

    /// Whether `key` is in the current set.
    pub(super) fn is_current(&self, key: &PublicKeyBytes) -> bool {
        self.current().any(|v| &v.key == key)
    }

    /// Whether `key` is in the current set or in a newer set a peer proved.
    pub(super) fn is_current_or_proven(&self, key: &PublicKeyBytes) -> bool {
        self.is_current(key)
            || self
                .proven
                .as_ref()
                .is_some_and(|p| p.validators.iter().any(|(v, _)| &v.key == key))
    }

    /// The peer id of `key` (cached).
    fn peer_of(&mut self, key: &PublicKeyBytes) -> Option<PeerId> {
        if let Some(peer) = self.peer_ids.get(key) {
            return Some(*peer);
        }
        let peer = peer_id_of(&key.0).ok()?;
        self.peer_ids.insert(*key, peer);
        Some(peer)
    }
}

/// The sets of `state` and its current set with addresses (the last change's, or the
/// genesis file's while the set never changed).
fn sets_of(
    genesis: &crate::genesis::Genesis,
    state: &LedgerState,
) -> (ValidatorSets, Vec<(ValidatorInfo, Option<String>)>) {
    let sets = ValidatorSets::from_changes(
        genesis.validators.clone(),
        state
            .validator_changes()
            .iter()
            .filter_map(|c| c.new_set().map(|set| (c.height, set.validators.clone()))),
        state.height(),
    );
    let addresses = if state.validator_changes().is_empty() {
        genesis.addresses.as_slice()
    } else {
        state.validator_addresses()
    };
    let current = addressed(state.validators(), addresses);
    (sets, current)
}

/// The set a checked proof shows, with the addresses its last change names (or the
/// genesis file's when it carries no change).
fn proven_set(genesis: &crate::genesis::Genesis, proof: &ValidatorSetProof) -> ProvenSet {
    let named = match proof.changes.last() {
        Some(change) => match &change.change.body.action {
            ecert_schemas::ledger::GovernanceAction::ChangeValidators(set)
                if set.validators == proof.validators =>
            {
                set.addresses.clone()
            }
            _ => Vec::new(),
        },
        None => genesis.addresses.clone(),
    };
    let height = proof
        .checkpoint
        .decode_header()
        .map(|h| h.height)
        .unwrap_or(0);
    ProvenSet {
        height,
        validators: addressed(&proof.validators, &named),
    }
}

/// Why an artefact cannot carry its validator-set changes yet.
#[derive(Debug)]
pub(super) enum ChangesUnavailable {
    /// The block holding a change below the artefact's height is not certified on this
    /// node yet (its height).
    NotCertified(u64),
    /// The node failed.
    Node(NodeError),
}

impl Shared {
    /// The changes below `height`, each with its block's certified checkpoint
    /// ([`LedgerState::certified_changes`]), read from `state`.
    pub(super) fn changes_below(
        &self,
        state: &LedgerState,
        height: u64,
    ) -> Result<Vec<ValidatorChange>, ChangesUnavailable> {
        let mut failed = None;
        let changes = state.certified_changes(height, |h| match self.certifier.checkpoint(h) {
            Ok(found) => found,
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        if let Some(e) = failed {
            return Err(ChangesUnavailable::Node(e));
        }
        changes.ok_or_else(|| {
            let missing = state
                .validator_changes()
                .iter()
                .take_while(|c| c.height < height)
                .map(|c| c.height)
                .find(|h| matches!(self.certifier.checkpoint(*h), Ok(None)))
                .unwrap_or(0);
            ChangesUnavailable::NotCertified(missing)
        })
    }

    /// The validator set after `checkpoint` (a certified checkpoint this node holds),
    /// proven from genesis: its changes up to and including the checkpoint's height.
    pub(super) fn validator_set_proof(
        &self,
        checkpoint: Checkpoint,
    ) -> Result<ValidatorSetProof, ChangesUnavailable> {
        let height = checkpoint
            .decode_header()
            .map_err(|e| ChangesUnavailable::Node(e.into()))?
            .height;
        self.machine
            .read(|s| {
                let changes = self.changes_below(s, height.saturating_add(1))?;
                s.validator_set_proof(checkpoint, changes)
                    .map_err(|e| ChangesUnavailable::Node(e.into()))
            })
            .map_err(ChangesUnavailable::Node)?
    }

    /// Rebuilds the roster when the applied state moved on (a block, a validator-set
    /// change), tells the certifier, and gives the network the peers to dial. Cheap when
    /// nothing changed. Says once when this node joins or leaves the validator set.
    pub(super) fn sync_roster(&self) {
        let read = self.machine.read(|s| {
            let key = (s.height(), s.validator_changes().len());
            let keys: Vec<PublicKeyBytes> = s
                .validator_changes()
                .iter()
                .flat_map(|c| c.previous.iter().map(|v| v.key))
                .chain(s.validators().iter().map(|v| v.key))
                .collect();
            (key, sets_of(&self.genesis, s), keys)
        });
        let Ok((synced, (sets, current), keys)) = read else {
            return;
        };
        let height = synced.0;
        let Ok(mut roster) = self.roster.write() else {
            return;
        };
        // Another task may have synced from a newer state meanwhile: never go back.
        let newer = roster.synced.is_none_or(|(h, _)| height >= h);
        if newer && roster.synced != Some(synced) {
            if roster
                .synced
                .is_some_and(|(_, changes)| changes != synced.1)
            {
                self.set_changed.notify_one();
            }
            roster.synced = Some(synced);
            roster.sets = sets.clone();
            roster.current = current;
            if roster.proven.as_ref().is_some_and(|p| p.height <= height) {
                roster.proven = None;
            }
            self.directory.learn(&keys);
            let member = roster.is_current(&self.key);
            if roster.member != Some(member) {
                match (roster.member, member) {
                    (_, true) => tracing::info!(
                        height,
                        "this node is a validator: it votes from block {}",
                        height.saturating_add(1)
                    ),
                    (Some(true), false) => tracing::warn!(
                        height,
                        "this node left the validator set: it no longer votes or states \
                         freshness, and serves the ledger read-only"
                    ),
                    (_, false) => tracing::info!(
                        height,
                        "this node is not a validator: it follows the ledger and serves it \
                         read-only"
                    ),
                }
                roster.member = Some(member);
            }
            drop(roster);
            if let Err(e) = self.certifier.update_sets(sets) {
                tracing::error!("certification: {e}");
            }
            let Ok(roster) = self.roster.write() else {
                return;
            };
            self.redial(roster);
        } else {
            self.redial(roster);
        }
    }

    /// Gives the network the peers to dial when they changed: the current set, a newer
    /// proven set, Raft's members, and the genesis validators while this node is not a
    /// validator (to find the network).
    fn redial(&self, mut roster: std::sync::RwLockWriteGuard<'_, Roster>) {
        let members: Vec<String> = {
            let metrics = self.raft.metrics();
            let metrics = metrics.borrow();
            metrics
                .membership_config
                .nodes()
                .map(|(_, node)| node.addr.clone())
                .collect()
        };
        let mut wanted: Vec<(PublicKeyBytes, Option<String>)> = roster
            .current
            .iter()
            .map(|(v, a)| (v.key, a.clone()))
            .collect();
        if let Some(proven) = &roster.proven {
            wanted.extend(proven.validators.iter().map(|(v, a)| (v.key, a.clone())));
        }
        if !roster.is_current(&self.key) {
            wanted.extend(
                self.genesis
                    .validators
                    .iter()
                    .zip(&self.genesis.addresses)
                    .map(|(v, a)| (v.key, Some(a.clone()))),
            );
        }
        let mut dial: Vec<(PeerId, Multiaddr)> = Vec::new();
        let mut seen = BTreeSet::new();
        if let Some(own) = roster.peer_of(&self.key) {
            seen.insert(own);
        }
        for (key, address) in wanted {
            let (Some(peer), Some(address)) = (
                roster.peer_of(&key),
                address.as_deref().and_then(dial_address),
            ) else {
                continue;
            };
            if seen.insert(peer) {
                dial.push((peer, address));
            }
        }
        for addr in members {
            if let (Some(peer), Some(address)) = (peer_in(&addr), dial_address(&addr)) {
                if seen.insert(peer) {
                    dial.push((peer, address));
                }
            }
        }
        if roster.dialled != dial {
            roster.dialled = dial.clone();
            self.net.set_dial(dial);
        }
    }

    /// Whether this node is a validator of the ledger's current set (it votes, states
    /// freshness, takes submissions).
    pub fn is_validator(&self) -> bool {
        self.roster
            .read()
            .is_ok_and(|roster| roster.is_current(&self.key))
    }

    /// The current validator set.
    pub(super) fn current_validators(&self) -> Vec<ValidatorInfo> {
        self.roster
            .read()
            .map(|roster| roster.current().cloned().collect())
            .unwrap_or_default()
    }

    /// The current validator set, each validator with its address when known.
    pub(super) fn current_validators_addressed(&self) -> Vec<(ValidatorInfo, Option<String>)> {
        self.roster
            .read()
            .map(|roster| roster.current.clone())
            .unwrap_or_default()
    }

    /// The position in the current set of the validator with Raft id `id`.
    pub(super) fn position_of_node(&self, id: NodeId) -> Option<usize> {
        let roster = self.roster.read().ok()?;
        let position = roster.current().position(|v| node_id_of(&v.key) == id);
        position
    }

    /// The peer id of Raft node `id`: a validator this node knows, or a Raft member.
    pub(super) fn peer_of_node(&self, id: NodeId) -> Option<PeerId> {
        if let Some(peer) = self.directory.get(id) {
            return Some(peer);
        }
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        metrics
            .membership_config
            .membership()
            .get_node(&id)
            .and_then(|node| peer_in(&node.addr))
    }

    /// The peers to send a vote or statement about `height` to: the validators of that
    /// height's set and of the current set, but this node.
    pub(super) fn peers_for(&self, height: u64) -> Vec<PeerId> {
        let Ok(mut roster) = self.roster.write() else {
            return Vec::new();
        };
        let mut keys: Vec<PublicKeyBytes> = roster
            .sets
            .at(height)
            .unwrap_or_default()
            .iter()
            .map(|v| v.key)
            .collect();
        keys.extend(roster.current().map(|v| v.key));
        let mut seen = BTreeSet::new();
        keys.into_iter()
            .filter(|k| *k != self.key && seen.insert(*k))
            .filter_map(|k| roster.peer_of(&k))
            .collect()
    }

    /// The peers this node dials (to ask for checkpoints or the validator set).
    pub(super) fn dialled_peers(&self) -> Vec<PeerId> {
        self.roster
            .read()
            .map(|roster| roster.dialled.iter().map(|(p, _)| *p).collect())
            .unwrap_or_default()
    }

    /// Whether Raft messages from `key` are taken: it is in the current set or a newer
    /// proven one, or a member (voter or learner) of Raft's membership as this node has it
    /// (a validator that left stays one until the leader removes it).
    pub(super) fn raft_permitted(&self, key: &PublicKeyBytes) -> bool {
        if self
            .roster
            .read()
            .is_ok_and(|roster| roster.is_current_or_proven(key))
        {
            return true;
        }
        let id = node_id_of(key);
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        metrics
            .membership_config
            .membership()
            .get_node(&id)
            .is_some()
    }

    /// Whether `key` may send a vote or statement about `height` as validator `index`: it
    /// is that validator of the height's set; for a height whose set is not known yet, a
    /// validator of the current or a newer proven set (the vote is checked against its
    /// height's set once that is known).
    pub(super) fn may_vote(&self, height: u64, key: &PublicKeyBytes, index: u16) -> bool {
        let Ok(roster) = self.roster.read() else {
            return false;
        };
        match roster.sets.at(height) {
            Some(set) => set.get(usize::from(index)).is_some_and(|v| &v.key == key),
            None => roster.is_current_or_proven(key),
        }
    }

    /// Whether a forwarded transaction from `key` is taken: it is a validator of the
    /// current set.
    pub(super) fn may_forward(&self, key: &PublicKeyBytes) -> bool {
        self.roster
            .read()
            .is_ok_and(|roster| roster.is_current(key))
    }

    /// Asks for the proven validator set at once, from `peer` (a peer whose Raft message
    /// was refused: it may know validators this node does not yet).
    pub(super) fn learn_from(&self, peer: PeerId) {
        if let Ok(mut next) = self.learn_from.lock() {
            *next = Some(peer);
        }
        self.learn.notify_one();
    }

    /// Keeps a proven set newer than the applied state (checked by the caller).
    fn take_proven(&self, genesis_keys: &[PublicKeyBytes], proof: &ValidatorSetProof) {
        let proven = proven_set(&self.genesis, proof);
        let keys: Vec<PublicKeyBytes> = genesis_keys
            .iter()
            .copied()
            .chain(
                proof
                    .changes
                    .iter()
                    .flat_map(|c| c.previous.iter().map(|v| v.key)),
            )
            .chain(proof.validators.iter().map(|v| v.key))
            .collect();
        self.directory.learn(&keys);
        let Ok(mut roster) = self.roster.write() else {
            return;
        };
        let applied = roster.synced.map_or(0, |(h, _)| h);
        let newer = proven.height > applied
            && roster
                .proven
                .as_ref()
                .is_none_or(|p| proven.height > p.height);
        if newer {
            tracing::info!(
                height = proven.height,
                validators = proven.validators.len(),
                "learned the validator set from a peer"
            );
            roster.proven = Some(proven);
            self.redial(roster);
        }
    }
}

/// Asks peers in turn for the proven validator set, keeps a set newer than the applied
/// state once it verifies against the genesis trust anchor, and so finds and accepts the
/// validators of a ledger this node has not caught up with: often while this node is no
/// validator, now and then otherwise, and at once when a Raft message from a peer it does
/// not know was refused.
pub(super) async fn learn_validator_sets(shared: Arc<Shared>) {
    let anchor = match shared.genesis.trust_anchor() {
        Ok(anchor) => anchor,
        Err(e) => {
            tracing::error!("no trust anchor from the genesis: {e}");
            return;
        }
    };
    let genesis_keys: Vec<PublicKeyBytes> =
        shared.genesis.validators.iter().map(|v| v.key).collect();
    let mut next = 0usize;
    loop {
        let every = if shared.is_validator() {
            LEARN_EVERY
        } else {
            LEARN_EVERY_OUTSIDE
        };
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shared.learn.notified() => {}
        }
        let asked = shared.learn_from.lock().ok().and_then(|mut p| p.take());
        let peer = asked.or_else(|| {
            let peers = shared.dialled_peers();
            next = next.wrapping_add(1);
            peers.get(next % peers.len().max(1)).copied()
        });
        if let Some(peer) = peer {
            let answer = tokio::time::timeout(
                LEARN_TIMEOUT,
                shared.net.request(peer, NodeRequest::ValidatorSet),
            )
            .await;
            if let Ok(Ok(NodeResponse::ValidatorSet(Some(bytes)))) = answer {
                let checked = ValidatorSetProof::from_bytes(&bytes)
                    .map_err(ecert_verifier::VerifyError::from)
                    .and_then(|proof| verify_validator_set(&proof, &anchor).map(|_| proof));
                match checked {
                    Ok(proof) => shared.take_proven(&genesis_keys, &proof),
                    Err(e) => tracing::warn!(%peer, "a validator set that does not verify: {e}"),
                }
            }
        }
        tokio::time::sleep(LEARN_AT_MOST_EVERY).await;
    }
}
