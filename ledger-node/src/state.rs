//! The ledger's deterministic state machine: the registry, the anchor log, the revocation
//! status lists, and the header that commits to them after each block.
//!
//! Pure: the same transactions at the same block times give the same headers on every
//! node. Every transaction is checked with `ecert-verifier`'s rules; one that fails is
//! skipped and reported, never applied.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ecert_schemas::ledger::{
    AnchorReceipt, BatchRecord, BlockHeader, Checkpoint, GovernanceAction, GovernanceTx, Registry,
    RevocationDelta, RevocationSnapshot, RevokedAt, RevokedGroup, StatusList, StatusListProof,
    Transaction, TrustBundle, TrustUpdate, ValidatorChange, ValidatorInfo, ValidatorSetChange,
    ValidatorSetProof, TRUST_BUNDLE_VERSION, TRUST_UPDATE_VERSION,
};
use ecert_schemas::{ChainId, Hash32, IssuerId, StatusIndex, UnixTime};
use ecert_verifier::merkle::LeafTree;
use ecert_verifier::merkle_log::LogTree;
use ecert_verifier::{commit, transaction, VerifyError};

use crate::governance::apply_governance;
use crate::LedgerError;

/// What applying one transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxOutcome {
    /// A batch was anchored at this position of the anchor log.
    Anchored {
        /// Position in the anchor log.
        batch_seq: u64,
    },
    /// Certificates were revoked.
    Revoked {
        /// How many status indexes were newly set.
        newly_revoked: usize,
    },
    /// A governance change was applied to the registry.
    Governed {
        /// Its sequence number (the registry's `governance_seq` before it).
        seq: u64,
    },
    /// The transaction was invalid and skipped.
    Skipped(VerifyError),
}

/// A validator-set change the ledger applied: the block that holds it (alone), the set
/// before it (which approved it and certifies that block) and the transaction. With the
/// block's certified checkpoint it is the [`ValidatorChange`] every artefact carries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppliedValidatorChange {
    /// The height of the block holding the change.
    pub height: u64,
    /// The set before the change.
    pub previous: Vec<ValidatorInfo>,
    /// The governance transaction (a `ChangeValidators` action).
    pub change: GovernanceTx,
}

impl AppliedValidatorChange {
    /// The new set and its addresses.
    pub fn new_set(&self) -> Option<&ValidatorSetChange> {
        match &self.change.body.action {
            GovernanceAction::ChangeValidators(set) => Some(set),
            _ => None,
        }
    }
}

/// Whether `tx` changes the validator set: such a transaction is applied only alone in
/// its block (a block cutter puts it in one of its own).
pub fn is_validator_change(tx: &Transaction) -> bool {
    matches!(
        tx,
        Transaction::Governance(g) if matches!(g.body.action, GovernanceAction::ChangeValidators(_))
    )
}

/// A block after it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedBlock {
    /// Its header.
    pub header: BlockHeader,
    /// The header's exact bytes (what validators sign).
    pub header_bytes: Vec<u8>,
    /// One outcome per transaction, in block order.
    pub outcomes: Vec<TxOutcome>,
    /// Whether the block changed the validator set (it certifies from the next block).
    pub validators_changed: bool,
}

/// Everything needed to rebuild a [`LedgerState`]: what a Raft snapshot carries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LedgerSnapshot {
    chain_id: ChainId,
    validators: Vec<ValidatorInfo>,
    registry: Registry,
    anchors: Vec<BatchRecord>,
    revocations: Vec<StatusList>,
    /// Every newly revoked status index with its height, in ledger order.
    revocation_log: Vec<RevokedAt>,
    height: u64,
    last_header_hash: Hash32,
    last_time_ms: u64,
    /// The validator-set changes, in ledger order (`validators` is the set after them).
    validator_changes: Vec<AppliedValidatorChange>,
}

/// The ledger state after some height.
#[derive(Clone, Debug)]
pub struct LedgerState {
    chain_id: ChainId,
    validators: Vec<ValidatorInfo>,
    validators_hash: Hash32,
    registry: Registry,
    registry_root: Hash32,
    anchors: Vec<BatchRecord>,
    /// The anchor log's Merkle tree, every complete subtree kept: roots, receipts and
    /// consistency proofs for any earlier size in O(log² n).
    anchor_log: LogTree,
    anchored_roots: HashMap<Hash32, u64>,
    /// The issuers' status lists, sorted by issuer, none empty.
    revocations: Vec<StatusList>,
    /// The RFC 6962 tree over the lists (one leaf each, same order): the revocation root.
    revocation_tree: LeafTree,
    revocation_log: Vec<RevokedAt>,
    height: u64,
    last_header_hash: Hash32,
    last_time_ms: u64,
    /// The validator-set changes, in ledger order.
    validator_changes: Vec<AppliedValidatorChange>,
}

/// What a block changed in place, to put back if the block is refused. The anchor log,
/// its index and the revocation log only grow within a block, so their lengths suffice;
/// the registry (small) is copied whole, and a status list (and the revocation tree's
/// hashes, one per issuer's list) only when a block touches it.
struct Undo {
    anchors: usize,
    revocation_log: usize,
    registry: Registry,
    registry_root: Hash32,
    height: u64,
    last_header_hash: Hash32,
    last_time_ms: u64,
    /// Each touched issuer's list before the block (`None`: it had none).
    lists: BTreeMap<IssuerId, Option<StatusList>>,
    /// The revocation tree before the block, once a list was touched.
    revocation_tree: Option<LeafTree>,
}

impl Undo {
    fn mark(state: &LedgerState) -> Undo {
        Undo {
            anchors: state.anchors.len(),
            revocation_log: state.revocation_log.len(),
            registry: state.registry.clone(),
            registry_root: state.registry_root,
            height: state.height,
            last_header_hash: state.last_header_hash,
            last_time_ms: state.last_time_ms,
            lists: BTreeMap::new(),
            revocation_tree: None,
        }
    }

    /// Keeps `issuer`'s list as it was before the block, the first time it is touched
    /// (and the revocation tree, the first time any list is).
    fn touch_list(&mut self, issuer: &IssuerId, state: &LedgerState) {
        if !self.lists.contains_key(issuer) {
            let list = state
                .list_position(issuer)
                .ok()
                .and_then(|p| state.revocations.get(p));
            self.lists.insert(issuer.clone(), list.cloned());
        }
        if self.revocation_tree.is_none() {
            self.revocation_tree = Some(state.revocation_tree.clone());
        }
    }

    fn restore(self, state: &mut LedgerState) {
        if state.anchors.len() > self.anchors {
            for record in state.anchors.split_off(self.anchors) {
                state.anchored_roots.remove(&record.batch_root);
            }
        }
        state.anchor_log.truncate(self.anchors as u64);
        state.revocation_log.truncate(self.revocation_log);
        state.registry = self.registry;
        state.registry_root = self.registry_root;
        state.height = self.height;
        state.last_header_hash = self.last_header_hash;
        state.last_time_ms = self.last_time_ms;
        for (issuer, list) in self.lists {
            match (state.list_position(&issuer), list) {
                (Ok(p), Some(list)) => {
                    if let Some(slot) = state.revocations.get_mut(p) {
                        *slot = list;
                    }
                }
                (Err(p), Some(list)) => state.revocations.insert(p, list),
                (Ok(p), None) => {
                    state.revocations.remove(p);
                }
                (Err(_), None) => {}
            }
        }
        if let Some(tree) = self.revocation_tree {
            state.revocation_tree = tree;
        }
    }
}

impl LedgerState {
    /// The state at genesis (height 0).
    pub fn genesis(
        chain_id: ChainId,
        validators: Vec<ValidatorInfo>,
        registry: Registry,
    ) -> Result<LedgerState, LedgerError> {
        if validators.is_empty() || validators.len() > usize::from(u16::MAX) {
            return Err(LedgerError::Genesis(
                "a ledger needs 1 to 65535 validators".into(),
            ));
        }
        if registry
            .issuers
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.issuer >= b.issuer))
            || registry
                .kinds
                .windows(2)
                .any(|w| matches!(w, [a, b] if a.kind >= b.kind))
        {
            return Err(LedgerError::Genesis(
                "issuers and kinds must be sorted by id, without repeats".into(),
            ));
        }
        for issuer in &registry.issuers {
            let mut seen = std::collections::BTreeSet::new();
            for key in &issuer.keys {
                if ecert_schemas::KeyId::of(&key.key) != key.key_id || !seen.insert(key.key_id) {
                    return Err(LedgerError::Genesis(format!(
                        "issuer {}: key id {} is not SHA-256(key)[0..8] or is repeated",
                        issuer.issuer, key.key_id
                    )));
                }
            }
        }
        Ok(LedgerState {
            validators_hash: commit::validators_hash(&validators)?,
            registry_root: commit::registry_root(&registry)?,
            revocation_tree: LeafTree::default(),
            chain_id,
            validators,
            registry,
            anchors: Vec::new(),
            anchor_log: LogTree::new(),
            anchored_roots: HashMap::new(),
            revocations: Vec::new(),
            revocation_log: Vec::new(),
            height: 0,
            last_header_hash: Hash32([0; 32]),
            last_time_ms: 0,
            validator_changes: Vec::new(),
        })
    }

    /// The chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// The validator set now: it certifies the next block.
    pub fn validators(&self) -> &[ValidatorInfo] {
        &self.validators
    }

    /// The current set's libp2p addresses, as the last validator-set change named them
    /// (same order as [`LedgerState::validators`]); empty while the set is the genesis
    /// one, whose addresses are in the genesis file.
    pub fn validator_addresses(&self) -> &[String] {
        self.validator_changes
            .last()
            .and_then(AppliedValidatorChange::new_set)
            .map_or(&[], |set| set.addresses.as_slice())
    }

    /// The validator-set changes applied so far, in ledger order.
    pub fn validator_changes(&self) -> &[AppliedValidatorChange] {
        &self.validator_changes
    }

    /// The set that certifies block `height`: the set before the first change at or
    /// above it, or the current set.
    pub fn validators_at(&self, height: u64) -> &[ValidatorInfo] {
        self.validator_changes
            .iter()
            .find(|c| c.height >= height)
            .map_or(&self.validators, |c| &c.previous)
    }

    /// The changes below `height`, each with the certified checkpoint of its block
    /// (`checkpoint_at`): what an artefact of a checkpoint at `height` carries. `None`
    /// when one of those blocks has no checkpoint yet.
    pub fn certified_changes(
        &self,
        height: u64,
        mut checkpoint_at: impl FnMut(u64) -> Option<Checkpoint>,
    ) -> Option<Vec<ValidatorChange>> {
        self.validator_changes
            .iter()
            .take_while(|c| c.height < height)
            .map(|c| {
                Some(ValidatorChange {
                    previous: c.previous.clone(),
                    checkpoint: checkpoint_at(c.height)?,
                    change: c.change.clone(),
                })
            })
            .collect()
    }

    /// The current registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Where `issuer`'s list is among the sorted lists (`Err`: where it would go).
    fn list_position(&self, issuer: &IssuerId) -> Result<usize, usize> {
        self.revocations
            .binary_search_by(|list| list.issuer.cmp(issuer))
    }

    /// The last applied height (0 at genesis).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The last block's time, milliseconds since the epoch (0 at genesis).
    pub fn last_time_ms(&self) -> u64 {
        self.last_time_ms
    }

    /// The anchor log.
    pub fn anchors(&self) -> &[BatchRecord] {
        &self.anchors
    }

    /// Where a batch root sits in the anchor log, if anchored.
    pub fn batch_seq_of(&self, root: &Hash32) -> Option<u64> {
        self.anchored_roots.get(root).copied()
    }

    /// The receipt of the batch at `batch_seq` as of `checkpoint` (a certified checkpoint
    /// of this ledger, at or below the current height): the record, its inclusion path in
    /// the anchor log of the checkpoint header's `anchor_count` records, the checkpoint, the
    /// validator set that certified it and `changes` ([`LedgerState::certified_changes`]
    /// of its height). `None` when the checkpoint does not cover the batch yet (it was
    /// anchored later, or not at all) or this state has fewer records than the checkpoint's
    /// header counts. Computes O(log² anchor_count) hashes.
    pub fn anchor_receipt(
        &self,
        batch_seq: u64,
        checkpoint: &Checkpoint,
        changes: Vec<ValidatorChange>,
    ) -> Result<Option<AnchorReceipt>, LedgerError> {
        let header = checkpoint.decode_header()?;
        let record = usize::try_from(batch_seq)
            .ok()
            .and_then(|i| self.anchors.get(i));
        let Some(record) = record else {
            return Ok(None);
        };
        let Some(path) = self
            .anchor_log
            .inclusion_path(batch_seq, header.anchor_count)
        else {
            return Ok(None);
        };
        Ok(Some(AnchorReceipt {
            record: record.clone(),
            batch_seq,
            path,
            checkpoint: checkpoint.clone(),
            validators: self.validators_at(header.height).to_vec(),
            changes,
        }))
    }

    /// Checks a transaction as if it were applied in a block at `time_ms`: what a node
    /// does before ordering it.
    pub fn check(&self, tx: &Transaction, time_ms: u64) -> Result<(), VerifyError> {
        let at = UnixTime(time_ms / 1000);
        match tx {
            Transaction::AnchorBatch(tx) => {
                transaction::check_anchor_batch(tx, &self.chain_id, &self.registry, at, |root| {
                    self.anchored_roots.contains_key(root)
                })
            }
            Transaction::Revocation(tx) => {
                transaction::check_revocation(tx, &self.chain_id, &self.registry, at)
            }
            Transaction::Governance(tx) => transaction::check_governance(
                tx,
                &self.chain_id,
                &self.validators,
                &self.registry,
                at,
            ),
        }
    }

    /// Applies a block of transactions at `time_ms` and returns its header. Invalid
    /// transactions are skipped; a block in which none applies is refused and leaves the
    /// state unchanged.
    ///
    /// The block is applied in place rather than to a copy of the state, which would cost
    /// O(ledger) per block: what a refused block changed is undone ([`Undo`]).
    pub fn apply_block(
        &mut self,
        txs: &[Transaction],
        time_ms: u64,
    ) -> Result<AppliedBlock, LedgerError> {
        if time_ms < self.last_time_ms {
            return Err(LedgerError::TimeWentBackwards {
                time_ms,
                previous_ms: self.last_time_ms,
            });
        }
        let encoded = txs
            .iter()
            .map(Transaction::to_bytes)
            .collect::<Result<Vec<_>, _>>()?;
        let mut undo = Undo::mark(self);
        let applied = self.apply_in_place(txs, &encoded, time_ms, &mut undo);
        if applied.is_err() {
            undo.restore(self);
        }
        applied
    }

    fn apply_in_place(
        &mut self,
        txs: &[Transaction],
        encoded: &[Vec<u8>],
        time_ms: u64,
        undo: &mut Undo,
    ) -> Result<AppliedBlock, LedgerError> {
        let height = self.height + 1;
        let mut outcomes = Vec::with_capacity(txs.len());
        // Issuers whose lists this block changed.
        let mut touched: BTreeSet<IssuerId> = BTreeSet::new();
        let mut registry_changed = false;
        // A validator-set change applied in this block (it is alone in it).
        let mut new_set: Option<(&GovernanceTx, &ValidatorSetChange)> = None;
        for tx in txs {
            if is_validator_change(tx) && txs.len() > 1 {
                outcomes.push(TxOutcome::Skipped(VerifyError::TransactionRefused {
                    detail: "a validator-set change must be alone in its block".into(),
                }));
                continue;
            }
            if let Err(e) = self.check(tx, time_ms) {
                outcomes.push(TxOutcome::Skipped(e));
                continue;
            }
            match tx {
                Transaction::AnchorBatch(tx) => {
                    let body = &tx.body;
                    let record = BatchRecord {
                        issuer: body.issuer.clone(),
                        key_id: body.key_id,
                        kinds: body.kinds.clone(),
                        batch_root: body.batch_root,
                        count: body.count,
                        height,
                        time_ms,
                    };
                    let seq = self.anchors.len() as u64;
                    self.anchor_log.push(commit::anchor_leaf(&record)?);
                    self.anchored_roots.insert(body.batch_root, seq);
                    self.anchors.push(record);
                    outcomes.push(TxOutcome::Anchored { batch_seq: seq });
                }
                Transaction::Revocation(tx) => {
                    let issuer = &tx.body.issuer;
                    undo.touch_list(issuer, self);
                    let indexes: Vec<StatusIndex> =
                        tx.body.entries.iter().map(|e| e.index).collect();
                    let newly = match self.list_position(issuer) {
                        Ok(p) => match self.revocations.get_mut(p) {
                            Some(list) => list.revoke(&indexes),
                            None => Ok(Vec::new()),
                        },
                        Err(p) => {
                            let mut list = StatusList::new(issuer.clone());
                            let newly = list.revoke(&indexes);
                            if newly.as_ref().is_ok_and(|n| !n.is_empty()) {
                                self.revocations.insert(p, list);
                            }
                            newly
                        }
                    };
                    match newly {
                        Ok(newly) => {
                            if !newly.is_empty() {
                                touched.insert(issuer.clone());
                            }
                            self.revocation_log
                                .extend(newly.iter().map(|&index| RevokedAt {
                                    height,
                                    issuer: issuer.clone(),
                                    index,
                                }));
                            outcomes.push(TxOutcome::Revoked {
                                newly_revoked: newly.len(),
                            });
                        }
                        // Checked above (indexes in range), so this does not happen; were
                        // it to, the transaction is skipped like any refused one.
                        Err(e) => {
                            outcomes.push(TxOutcome::Skipped(VerifyError::TransactionRefused {
                                detail: e.to_string(),
                            }))
                        }
                    }
                }
                Transaction::Governance(tx) => {
                    // Checked above, so this applies; were it not to, it is skipped like
                    // any refused transaction.
                    match apply_governance(&mut self.registry, &tx.body) {
                        Ok(()) => {
                            if let GovernanceAction::ChangeValidators(set) = &tx.body.action {
                                new_set = Some((tx, set));
                            }
                            registry_changed = true;
                            outcomes.push(TxOutcome::Governed { seq: tx.body.seq });
                        }
                        Err(e) => outcomes.push(TxOutcome::Skipped(e)),
                    }
                }
            }
        }
        if outcomes.iter().all(|o| matches!(o, TxOutcome::Skipped(_))) {
            return Err(LedgerError::EmptyBlock);
        }
        // Only the touched lists' leaves change: O(log issuers) hashes each, plus hashing
        // those lists; a list new in this block is inserted at its place. Ascending
        // order, so the lists before each one are already in the tree.
        for issuer in &touched {
            let Ok(p) = self.list_position(issuer) else {
                continue;
            };
            let Some(list) = self.revocations.get(p) else {
                continue;
            };
            let leaf = commit::status_list_leaf(list)?;
            let is_new = matches!(undo.lists.get(issuer), Some(None));
            if is_new {
                self.revocation_tree.insert(p as u64, leaf);
            } else {
                self.revocation_tree.set(p as u64, leaf);
            }
        }
        if registry_changed {
            self.registry_root = commit::registry_root(&self.registry)?;
        }
        let header = BlockHeader {
            chain_id: self.chain_id.clone(),
            height,
            prev_hash: self.last_header_hash,
            time_ms,
            txs_root: commit::txs_root(encoded),
            anchors_root: self.anchor_log.root(),
            anchor_count: self.anchor_log.size(),
            revocation_root: self.revocation_tree.root(),
            registry_root: self.registry_root,
            validators_hash: self.validators_hash,
        };
        let header_bytes = header.to_bytes()?;
        // This block is certified by the set before the change; the new set certifies
        // from the next one. Nothing can fail after this point, so no undo is needed.
        let validators_changed = match new_set {
            Some((tx, set)) => {
                let new_hash = commit::validators_hash(&set.validators)?;
                let previous = std::mem::replace(&mut self.validators, set.validators.clone());
                self.validators_hash = new_hash;
                self.validator_changes.push(AppliedValidatorChange {
                    height,
                    previous,
                    change: tx.clone(),
                });
                true
            }
            None => false,
        };
        self.height = height;
        self.last_header_hash = commit::header_hash(&header_bytes);
        self.last_time_ms = time_ms;
        Ok(AppliedBlock {
            header,
            header_bytes,
            outcomes,
            validators_changed,
        })
    }

    /// Hash of the last applied header (zeros at genesis).
    pub fn last_header_hash(&self) -> Hash32 {
        self.last_header_hash
    }

    /// The state as a snapshot.
    pub fn snapshot(&self) -> LedgerSnapshot {
        LedgerSnapshot {
            chain_id: self.chain_id.clone(),
            validators: self.validators.clone(),
            registry: self.registry.clone(),
            anchors: self.anchors.clone(),
            revocations: self.revocations.clone(),
            revocation_log: self.revocation_log.clone(),
            height: self.height,
            last_header_hash: self.last_header_hash,
            last_time_ms: self.last_time_ms,
            validator_changes: self.validator_changes.clone(),
        }
    }

    /// Rebuilds the state from a snapshot, recomputing every derived index and root.
    pub fn from_snapshot(snapshot: LedgerSnapshot) -> Result<LedgerState, LedgerError> {
        let mut state =
            LedgerState::genesis(snapshot.chain_id, snapshot.validators, snapshot.registry)?;
        for (seq, record) in snapshot.anchors.iter().enumerate() {
            state.anchor_log.push(commit::anchor_leaf(record)?);
            state.anchored_roots.insert(record.batch_root, seq as u64);
        }
        state.anchors = snapshot.anchors;
        // The log must add up to the lists (sorted by issuer, none empty), or the deltas
        // served from it would not.
        let mut logged: BTreeMap<&IssuerId, Vec<StatusIndex>> = BTreeMap::new();
        for entry in &snapshot.revocation_log {
            logged.entry(&entry.issuer).or_default().push(entry.index);
        }
        let mut replayed = Vec::with_capacity(logged.len());
        for (issuer, indexes) in logged {
            let mut list = StatusList::new(issuer.clone());
            list.revoke(&indexes).map_err(|e| {
                LedgerError::InconsistentSnapshot(format!("its revocation log: {e}"))
            })?;
            replayed.push(list);
        }
        if replayed != snapshot.revocations {
            return Err(LedgerError::InconsistentSnapshot(
                "its revocation log does not add up to its status lists".into(),
            ));
        }
        state.revocation_tree = commit::revocation_tree(&snapshot.revocations)?;
        state.revocations = snapshot.revocations;
        state.revocation_log = snapshot.revocation_log;
        state.height = snapshot.height;
        state.last_header_hash = snapshot.last_header_hash;
        state.last_time_ms = snapshot.last_time_ms;
        // The changes must lead to the snapshot's set, in ledger order, below its height.
        let ordered = snapshot
            .validator_changes
            .windows(2)
            .all(|w| matches!(w, [a, b] if a.height < b.height));
        let leads_to_set = snapshot.validator_changes.last().is_none_or(|c| {
            c.height <= snapshot.height
                && c.new_set().map(|set| &set.validators) == Some(&state.validators)
        });
        if !ordered || !leads_to_set {
            return Err(LedgerError::InconsistentSnapshot(
                "its validator-set changes do not lead to its validator set".into(),
            ));
        }
        state.validator_changes = snapshot.validator_changes;
        Ok(state)
    }

    /// The revocation state now.
    pub fn revocation_snapshot(&self) -> RevocationSnapshot {
        RevocationSnapshot {
            height: self.height,
            lists: self.revocations.clone(),
        }
    }

    /// The revocation root now (that of the last header).
    pub fn revocation_root(&self) -> Hash32 {
        self.revocation_tree.root()
    }

    /// `issuer`'s status list now, with its place in the revocation tree and its
    /// inclusion path: checked against the last header with
    /// [`ecert_verifier::commit::verify_status_list`] without the other lists. `None` when
    /// the issuer revoked nothing.
    pub fn status_list_proof(&self, issuer: &IssuerId) -> Option<StatusListProof> {
        let position = self.list_position(issuer).ok()?;
        Some(StatusListProof {
            list: self.revocations.get(position)?.clone(),
            position: position as u64,
            list_count: self.revocation_tree.size(),
            path: self.revocation_tree.audit_path(position as u64)?,
        })
    }

    /// What was newly revoked after height `since` up to the height of `checkpoint` (a
    /// certified header at or below the applied height), with the checkpoint and the
    /// validator set: [`ecert_verifier::verify_revocation_delta`] checks it. `None` when
    /// `since` is above the checkpoint's height or the checkpoint is above the applied
    /// height.
    pub fn revocation_delta(
        &self,
        since: u64,
        checkpoint: &Checkpoint,
        changes: Vec<ValidatorChange>,
    ) -> Result<Option<RevocationDelta>, LedgerError> {
        let upto = checkpoint.decode_header()?.height;
        if since > upto || upto > self.height {
            return Ok(None);
        }
        let from = self.revocation_log.partition_point(|e| e.height <= since);
        let to = self.revocation_log.partition_point(|e| e.height <= upto);
        Ok(Some(RevocationDelta {
            since,
            entries: self
                .revocation_log
                .get(from..to)
                .map(<[RevokedAt]>::to_vec)
                .unwrap_or_default(),
            checkpoint: checkpoint.clone(),
            validators: self.validators_at(upto).to_vec(),
            changes,
        }))
    }

    /// What changed after the certified header `since` (of this ledger, at or below the
    /// current height) up to the current height, with that height's certified
    /// `checkpoint`: a counter's incremental sync, checked by
    /// `TrustStore::apply_update`. The new anchor records and their consistency proof, the
    /// registry only when its root changed, and the revocations after `since`: O(changes)
    /// and O(log² n) hashes, never O(ledger). `None` when `since` is above the current
    /// height or counts more anchored batches than this state holds.
    pub fn trust_update(
        &self,
        since: &BlockHeader,
        checkpoint: Checkpoint,
        changes: Vec<ValidatorChange>,
    ) -> Option<TrustUpdate> {
        let new_count = self.anchor_log.size();
        if since.height > self.height || since.anchor_count > new_count {
            return None;
        }
        let from = usize::try_from(since.anchor_count).ok()?;
        let revocations_from = self
            .revocation_log
            .partition_point(|e| e.height <= since.height);
        Some(TrustUpdate {
            version: TRUST_UPDATE_VERSION,
            chain_id: self.chain_id.clone(),
            since: since.height,
            since_anchor_count: since.anchor_count,
            anchors: self.anchors.get(from..)?.to_vec(),
            consistency: self
                .anchor_log
                .consistency_proof(since.anchor_count, new_count)?,
            registry: if since.registry_root == self.registry_root {
                Vec::new()
            } else {
                vec![self.registry.clone()]
            },
            revocations: RevokedGroup::group(self.revocation_log.get(revocations_from..)?),
            checkpoint,
            validators: self.validators_at(self.height).to_vec(),
            changes,
        })
    }

    /// Everything a counter needs, as of the current height, with that height's
    /// certified checkpoint and the validator-set changes below it
    /// ([`LedgerState::certified_changes`]).
    pub fn trust_bundle(
        &self,
        checkpoint: Checkpoint,
        changes: Vec<ValidatorChange>,
    ) -> TrustBundle {
        TrustBundle {
            version: TRUST_BUNDLE_VERSION,
            chain_id: self.chain_id.clone(),
            validators: self.validators_at(self.height).to_vec(),
            checkpoint,
            registry: self.registry.clone(),
            anchors: self.anchors.clone(),
            revocations: self.revocation_snapshot(),
            changes,
        }
    }

    /// The validator set that certifies the blocks after `checkpoint` (a certified header
    /// of this ledger, at or below the current height), with `changes`, the changes up to
    /// and including its height ([`LedgerState::certified_changes`] of the height after
    /// it): `GET /v1/validators`. When the checkpoint's block is a change, the set is the
    /// one it brings in, so tools see it without waiting for another block.
    pub fn validator_set_proof(
        &self,
        checkpoint: Checkpoint,
        changes: Vec<ValidatorChange>,
    ) -> Result<ValidatorSetProof, LedgerError> {
        let height = checkpoint.decode_header()?.height;
        Ok(ValidatorSetProof {
            validators: self.validators_at(height.saturating_add(1)).to_vec(),
            checkpoint,
            changes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::{approve, assemble_governance};
    use ecert_issuer::{revocation_transaction, sign_anchor_body, IssuerKey};
    use ecert_schemas::ledger::{
        AnchorBatchBody, GovernanceAction, GovernanceBody, GrantKind, IssuerKeyRecord,
        IssuerRecord, KindRecord, RevocationEntry, RevocationReason,
    };
    use ecert_schemas::{KindId, StatusIndex};
    use ed25519_dalek::SigningKey;
    use rand_core::OsRng;

    const NOW: UnixTime = UnixTime(1_790_000_000);

    /// A small ledger built here: two issuers (`justice`, `transport`), two kinds, four
    /// validators.
    struct Ledger {
        state: LedgerState,
        issuers: Vec<IssuerKey>,
        validators: Vec<SigningKey>,
    }

    fn ledger() -> Ledger {
        let kinds = [
            KindId::new("id-card").unwrap(),
            KindId::new("licence").unwrap(),
        ];
        let issuers: Vec<IssuerKey> = ["justice", "transport"]
            .iter()
            .map(|id| IssuerKey::generate(IssuerId::new(*id).unwrap(), &mut OsRng))
            .collect();
        let validators: Vec<SigningKey> =
            (0..4).map(|_| SigningKey::generate(&mut OsRng)).collect();
        let registry = Registry {
            issuers: issuers
                .iter()
                .map(|key| IssuerRecord {
                    issuer: key.issuer().clone(),
                    name: key.issuer().to_string(),
                    kinds: vec![kinds[0].clone()],
                    keys: vec![IssuerKeyRecord {
                        key_id: key.key_id(),
                        key: key.public_key(),
                        valid_from: NOW.minus(86_400),
                        valid_until: None,
                    }],
                })
                .collect(),
            kinds: kinds
                .iter()
                .map(|kind| KindRecord {
                    kind: kind.clone(),
                    content_hash: Hash32([7; 32]),
                })
                .collect(),
            governance_seq: 0,
        };
        let infos = validators
            .iter()
            .enumerate()
            .map(|(n, v)| ValidatorInfo {
                department: IssuerId::new(format!("validator-{n}")).unwrap(),
                key: ecert_verifier::crypto::public_key(v),
            })
            .collect();
        let chain = ChainId::new("ecert-test").unwrap();
        Ledger {
            state: LedgerState::genesis(chain, infos, registry).unwrap(),
            issuers,
            validators,
        }
    }

    impl Ledger {
        fn anchor(&self, issuer: usize, root: u8) -> Transaction {
            let key = &self.issuers[issuer];
            let body = AnchorBatchBody {
                chain_id: self.state.chain_id().clone(),
                issuer: key.issuer().clone(),
                key_id: key.key_id(),
                kinds: vec![KindId::new("id-card").unwrap()],
                batch_root: Hash32([root; 32]),
                count: 3,
            };
            Transaction::AnchorBatch(sign_anchor_body(key, body).unwrap())
        }

        fn revoke(&self, issuer: usize, index: u32) -> Transaction {
            let entries = vec![RevocationEntry {
                index: StatusIndex(index),
                reason: RevocationReason::DataError,
            }];
            let chain = self.state.chain_id();
            Transaction::Revocation(
                revocation_transaction(&self.issuers[issuer], chain, entries, NOW).unwrap(),
            )
        }

        fn grant(&self, issuer: usize, kind: &str) -> Transaction {
            let body = GovernanceBody {
                chain_id: self.state.chain_id().clone(),
                seq: self.state.registry().governance_seq,
                action: GovernanceAction::GrantKind(GrantKind {
                    issuer: self.issuers[issuer].issuer().clone(),
                    kind: KindId::new(kind).unwrap(),
                }),
            };
            let approvals = (0..3u16)
                .map(|i| approve(&self.validators[usize::from(i)], i, &body).unwrap())
                .collect();
            Transaction::Governance(
                assemble_governance(body, approvals, self.validators.len()).unwrap(),
            )
        }
    }

    #[test]
    fn undo_puts_back_everything_a_block_changed_in_place() {
        let mut ledger = ledger();
        let first = [ledger.anchor(0, 1), ledger.revoke(0, 1)];
        ledger.state.apply_block(&first, NOW.secs() * 1000).unwrap();
        let before = ledger.state.clone();

        let second = [
            ledger.anchor(0, 2),
            ledger.revoke(0, 2),
            ledger.revoke(1, 0),
            ledger.grant(1, "licence"),
        ];
        let encoded: Vec<Vec<u8>> = second.iter().map(|t| t.to_bytes().unwrap()).collect();
        let time_ms = NOW.secs() * 1000 + 1;
        let state = &mut ledger.state;
        let mut undo = Undo::mark(state);
        let applied = state
            .apply_in_place(&second, &encoded, time_ms, &mut undo)
            .unwrap();
        assert!(applied
            .outcomes
            .iter()
            .all(|o| !matches!(o, TxOutcome::Skipped(_))));
        assert_eq!(state.anchors.len(), 2);
        assert_eq!(state.revocations.len(), 2);
        assert_eq!(state.registry.governance_seq, 1);
        undo.restore(state);

        assert_eq!(state.snapshot(), before.snapshot());
        assert_eq!(state.anchor_log, before.anchor_log);
        assert_eq!(state.anchored_roots, before.anchored_roots);
        assert_eq!(state.revocations, before.revocations);
        assert_eq!(state.revocation_tree, before.revocation_tree);
        assert_eq!(state.registry_root, before.registry_root);
        // And the same block applies again to the same header.
        let again = state.apply_block(&second, time_ms).unwrap();
        assert_eq!(again.header_bytes, applied.header_bytes);
    }

    #[test]
    fn a_refused_block_leaves_the_state_unchanged() {
        let mut ledger = ledger();
        let block = [ledger.anchor(0, 1)];
        ledger.state.apply_block(&block, NOW.secs() * 1000).unwrap();
        let before = ledger.state.snapshot();
        // The same batch again: a replay, skipped, so the block is empty.
        assert_eq!(
            ledger.state.apply_block(&block, NOW.secs() * 1000 + 1),
            Err(LedgerError::EmptyBlock)
        );
        let later = [ledger.anchor(0, 2)];
        assert!(matches!(
            ledger.state.apply_block(&later, 0),
            Err(LedgerError::TimeWentBackwards { .. })
        ));
        assert_eq!(ledger.state.snapshot(), before);
    }

    fn info(n: usize, key: &SigningKey) -> ValidatorInfo {
        ValidatorInfo {
            department: IssuerId::new(format!("validator-{n}")).unwrap(),
            key: ecert_verifier::crypto::public_key(key),
        }
    }

    impl Ledger {
        /// A change to `new_set`, approved by the current validators at `approvers`.
        fn change_validators(
            &self,
            new_set: &[(usize, &SigningKey)],
            approvers: &[u16],
        ) -> Transaction {
            let validators: Vec<ValidatorInfo> = new_set.iter().map(|(n, k)| info(*n, k)).collect();
            let addresses = (0..validators.len())
                .map(|n| format!("/ip4/127.0.0.1/tcp/{}", 7000 + n))
                .collect();
            let body = GovernanceBody {
                chain_id: self.state.chain_id().clone(),
                seq: self.state.registry().governance_seq,
                action: GovernanceAction::ChangeValidators(ValidatorSetChange {
                    validators,
                    addresses,
                }),
            };
            let approvals = approvers
                .iter()
                .map(|&i| approve(&self.validators[usize::from(i)], i, &body).unwrap())
                .collect();
            Transaction::Governance(GovernanceTx { body, approvals })
        }
    }

    fn certify(block: &AppliedBlock, keys: &[&SigningKey]) -> Checkpoint {
        let votes = keys
            .iter()
            .enumerate()
            .map(|(i, k)| crate::certify::sign_vote(k, i as u16, &block.header_bytes))
            .collect();
        crate::certify::assemble_checkpoint(&block.header_bytes, votes, keys.len()).unwrap()
    }

    #[test]
    fn a_validator_change_applies_alone_and_the_new_set_certifies_from_the_next_block() {
        let mut ledger = ledger();
        let genesis_set = ledger.state.validators().to_vec();
        let anchor =
            ecert_verifier::TrustAnchor::new(ledger.state.chain_id().clone(), &genesis_set)
                .unwrap();
        let first = ledger
            .state
            .apply_block(&[ledger.anchor(0, 1)], NOW.secs() * 1000)
            .unwrap();
        let old: Vec<&SigningKey> = ledger.validators.iter().collect();
        let first_checkpoint = certify(&first, &old);

        // Validator 3's key replaced, a fifth validator added.
        let replacement = SigningKey::generate(&mut OsRng);
        let fifth = SigningKey::generate(&mut OsRng);
        let keys = &ledger.validators;
        let new_set = [
            (0, &keys[0]),
            (1, &keys[1]),
            (2, &keys[2]),
            (3, &replacement),
            (4, &fifth),
        ];
        let change = ledger.change_validators(&new_set, &[0, 1, 2]);

        // Not alone in its block: skipped, the set stays.
        let mixed = ledger
            .state
            .apply_block(
                &[ledger.anchor(0, 2), change.clone()],
                NOW.secs() * 1000 + 1,
            )
            .unwrap();
        assert!(matches!(mixed.outcomes[1], TxOutcome::Skipped(_)));
        assert!(!mixed.validators_changed);
        assert_eq!(ledger.state.validators(), genesis_set.as_slice());
        let mixed_checkpoint = certify(&mixed, &old);

        // Too few approvals: refused when checked, and skipped when applied.
        let weak = ledger.change_validators(&new_set, &[0, 1]);
        assert!(matches!(
            ledger.state.check(&weak, NOW.secs() * 1000),
            Err(VerifyError::TooFewApprovals { .. })
        ));

        let applied = ledger
            .state
            .apply_block(&[change], NOW.secs() * 1000 + 2)
            .unwrap();
        assert!(applied.validators_changed);
        let change_height = applied.header.height;
        assert_eq!(applied.header.validators_hash, anchor.validators_hash);
        assert_eq!(
            ledger.state.validators_at(change_height),
            genesis_set.as_slice()
        );
        assert_eq!(ledger.state.validators().len(), 5);
        assert_eq!(ledger.state.validators_at(change_height + 1).len(), 5);
        assert_eq!(ledger.state.validator_addresses().len(), 5);
        let change_checkpoint = certify(&applied, &old);

        let next = ledger
            .state
            .apply_block(&[ledger.anchor(1, 3)], NOW.secs() * 1000 + 3)
            .unwrap();
        let new_keys = [&keys[0], &keys[1], &keys[2], &replacement, &fifth];
        assert_eq!(
            next.header.validators_hash,
            commit::validators_hash(ledger.state.validators()).unwrap()
        );
        let next_checkpoint = certify(&next, &new_keys);

        let lookup = |h: u64| (h == change_height).then(|| change_checkpoint.clone());
        assert!(ledger
            .state
            .certified_changes(next.header.height, |_| None)
            .is_none());
        let changes = ledger
            .state
            .certified_changes(next.header.height, lookup)
            .unwrap();
        assert_eq!(changes.len(), 1);
        assert!(ledger
            .state
            .certified_changes(change_height, lookup)
            .unwrap()
            .is_empty());

        // A counter pinned at genesis follows the change to the new set's checkpoint.
        let bundle = ledger
            .state
            .trust_bundle(next_checkpoint.clone(), changes.clone());
        let bytes = bundle.to_bytes().unwrap();
        let bundle = TrustBundle::from_bytes(&bytes).unwrap();
        let kinds = ecert_schemas::KindRegistry::builtin().unwrap();
        let store = ecert_verifier::TrustStore::from_bundle(bundle.clone(), &anchor, kinds.clone())
            .unwrap();
        assert_eq!(store.validators().len(), 5);
        assert_eq!(store.anchor().unwrap(), anchor);
        // Without the change it does not.
        let bare = TrustBundle {
            changes: Vec::new(),
            ..bundle.clone()
        };
        assert!(matches!(
            ecert_verifier::TrustStore::from_bundle(bare, &anchor, kinds.clone()),
            Err(VerifyError::HeaderNotCertified { .. })
        ));
        // The replaced key's vote no longer counts: in its old position it does not verify.
        let mut stolen = next_checkpoint.clone();
        stolen.votes[3] = crate::certify::sign_vote(&keys[3], 3, &next.header_bytes);
        let forged = TrustBundle {
            checkpoint: stolen,
            ..bundle.clone()
        };
        assert!(matches!(
            ecert_verifier::TrustStore::from_bundle(forged, &anchor, kinds.clone()),
            Err(VerifyError::HeaderNotCertified { .. })
        ));
        // A change the old set did not approve is not followed.
        let mut unapproved = changes.clone();
        if let Some(c) = unapproved.first_mut() {
            c.change.approvals.truncate(2);
        }
        let forged = TrustBundle {
            changes: unapproved,
            ..bundle
        };
        assert!(matches!(
            ecert_verifier::TrustStore::from_bundle(forged, &anchor, kinds),
            Err(VerifyError::HeaderNotCertified { .. })
        ));
        // A change in a block with other transactions is not followed either.
        let mut not_alone = changes.clone();
        if let Some(c) = not_alone.first_mut() {
            c.checkpoint = mixed_checkpoint.clone();
        }
        assert!(matches!(
            ecert_verifier::validator_chain::follow_changes(&anchor, &not_alone),
            Err(VerifyError::HeaderNotCertified { .. })
        ));

        // Receipts before the change need no change; after it, they carry it.
        let old_receipt = ledger
            .state
            .anchor_receipt(0, &first_checkpoint, Vec::new())
            .unwrap()
            .unwrap();
        assert!(ecert_verifier::verify_anchor_receipt(&old_receipt, &anchor).is_ok());
        let new_receipt = ledger
            .state
            .anchor_receipt(1, &next_checkpoint, changes.clone())
            .unwrap()
            .unwrap();
        let new_receipt = AnchorReceipt::from_bytes(&new_receipt.to_bytes().unwrap()).unwrap();
        assert!(ecert_verifier::verify_anchor_receipt(&new_receipt, &anchor).is_ok());
        let proof = ledger
            .state
            .validator_set_proof(next_checkpoint, changes)
            .unwrap();
        let set = ecert_verifier::verify_validator_set(&proof, &anchor).unwrap();
        assert_eq!(set.validators.len(), 5);
        // At the change block itself, the proof already names the set it brings in.
        let at_change = ledger
            .state
            .validator_set_proof(
                change_checkpoint.clone(),
                ledger
                    .state
                    .certified_changes(change_height + 1, lookup)
                    .unwrap(),
            )
            .unwrap();
        let set = ecert_verifier::verify_validator_set(&at_change, &anchor).unwrap();
        assert_eq!(set.validators, ledger.state.validators());
        assert_eq!(set.header.height, change_height);
        // Before it, the genesis set.
        let before = ledger
            .state
            .validator_set_proof(mixed_checkpoint.clone(), Vec::new())
            .unwrap();
        let set = ecert_verifier::verify_validator_set(&before, &anchor).unwrap();
        assert_eq!(set.validators, genesis_set);

        // A snapshot keeps the history; one whose history does not add up is refused.
        let snapshot = ledger.state.snapshot();
        let rebuilt = LedgerState::from_snapshot(snapshot.clone()).unwrap();
        assert_eq!(
            rebuilt.validator_changes(),
            ledger.state.validator_changes()
        );
        assert_eq!(rebuilt.validators_at(change_height), genesis_set.as_slice());
        let mut broken = snapshot;
        broken.validators = genesis_set;
        assert!(matches!(
            LedgerState::from_snapshot(broken),
            Err(LedgerError::InconsistentSnapshot(_))
        ));
    }
}
