//! The ledger's deterministic state machine: the registry, the anchor log, the revocation
//! status lists, and the header that commits to them after each block.
//!
//! Pure: the same transactions at the same block times give the same headers on every
//! node. Every transaction is checked with `ecert-verifier`'s rules; one that fails is
//! skipped and reported, never applied.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ecert_schemas::ledger::{
    AnchorReceipt, BatchRecord, BlockHeader, Checkpoint, Registry, RevocationDelta,
    RevocationSnapshot, RevokedAt, RevokedGroup, StatusList, StatusListProof, Transaction,
    TrustBundle, TrustUpdate, ValidatorInfo, TRUST_BUNDLE_VERSION, TRUST_UPDATE_VERSION,
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

/// A block after it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedBlock {
    /// Its header.
    pub header: BlockHeader,
    /// The header's exact bytes (what validators sign).
    pub header_bytes: Vec<u8>,
    /// One outcome per transaction, in block order.
    pub outcomes: Vec<TxOutcome>,
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
        })
    }

    /// The chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// The validator set.
    pub fn validators(&self) -> &[ValidatorInfo] {
        &self.validators
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
    /// the anchor log of the checkpoint header's `anchor_count` records, the checkpoint and
    /// the validator set. `None` when the checkpoint does not cover the batch yet (it was
    /// anchored later, or not at all) or this state has fewer records than the checkpoint's
    /// header counts. Computes O(log² anchor_count) hashes.
    pub fn anchor_receipt(
        &self,
        batch_seq: u64,
        checkpoint: &Checkpoint,
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
            validators: self.validators.clone(),
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
        for tx in txs {
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
        self.height = height;
        self.last_header_hash = commit::header_hash(&header_bytes);
        self.last_time_ms = time_ms;
        Ok(AppliedBlock {
            header,
            header_bytes,
            outcomes,
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
            validators: self.validators.clone(),
        }))
    }

    /// What changed after the certified header `since` (of this ledger, at or below the
    /// current height) up to the current height, with that height's certified
    /// `checkpoint`: a counter's incremental sync, checked by
    /// `TrustStore::apply_update`. The new anchor records and their consistency proof, the
    /// registry only when its root changed, and the revocations after `since`: O(changes)
    /// and O(log² n) hashes, never O(ledger). `None` when `since` is above the current
    /// height or counts more anchored batches than this state holds.
    pub fn trust_update(&self, since: &BlockHeader, checkpoint: Checkpoint) -> Option<TrustUpdate> {
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
            validators: self.validators.clone(),
        })
    }

    /// Everything a counter needs, as of the current height, with that height's
    /// certified checkpoint.
    pub fn trust_bundle(&self, checkpoint: Checkpoint) -> TrustBundle {
        TrustBundle {
            version: TRUST_BUNDLE_VERSION,
            chain_id: self.chain_id.clone(),
            validators: self.validators.clone(),
            checkpoint,
            registry: self.registry.clone(),
            anchors: self.anchors.clone(),
            revocations: self.revocation_snapshot(),
        }
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
}
