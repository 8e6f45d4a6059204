//! The ledger as openraft's state machine (`RaftStateMachine`), with snapshots that let a
//! node that was down long, or lost its data directory, catch up.
//!
//! The state itself lives in memory (it is rebuilt from the latest snapshot plus the log
//! on restart); applied headers are written to RocksDB so that the node can serve them, and
//! every snapshot is written durably before it is used.

use std::io::Cursor;
use std::sync::{Arc, RwLock};

use ecert_schemas::codec::{from_cbor_bounded, to_cbor};
use ecert_schemas::ledger::Transaction;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, EntryPayload, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftSnapshotBuilder,
    SnapshotMeta, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};

use super::storage::{key, Db, CF_HEADERS, CF_SM_META};
use super::{BlockEvent, BlockReceipt, NodeId, StorageError, TxResult, TypeConfig};
use crate::state::{LedgerSnapshot, LedgerState, TxOutcome};
use crate::NodeError;

/// Largest snapshot accepted (the whole anchor log and status lists).
const MAX_SNAPSHOT_BYTES: usize = 1024 * 1024 * 1024;
const KEY_SNAPSHOT: &[u8] = b"current_snapshot";
const KEY_SNAPSHOT_COUNTER: &[u8] = b"snapshot_counter";

type Entry = openraft::Entry<TypeConfig>;
type Membership = StoredMembership<NodeId, BasicNode>;

fn sm_err(verb: ErrorVerb, e: impl std::fmt::Display) -> StorageError {
    StorageIOError::new(
        ErrorSubject::StateMachine,
        verb,
        openraft::AnyError::error(e.to_string()),
    )
    .into()
}

/// A snapshot as stored: its metadata and its bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredSnapshot {
    /// openraft's metadata (last included log id, membership, snapshot id).
    pub meta: SnapshotMeta<NodeId, BasicNode>,
    /// The encoded [`SnapshotPayload`].
    pub data: Vec<u8>,
}

/// What a snapshot's bytes hold.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SnapshotPayload {
    last_applied: Option<LogId<NodeId>>,
    last_membership: Membership,
    ledger: LedgerSnapshot,
}

struct Applied {
    state: LedgerState,
    last_applied: Option<LogId<NodeId>>,
    last_membership: Membership,
}

/// The ledger state machine. Cloning shares the state, so the node's API can read it while
/// Raft applies to it.
#[derive(Clone)]
pub struct LedgerStateMachine {
    db: Db,
    applied: Arc<RwLock<Applied>>,
    events: Option<tokio::sync::mpsc::UnboundedSender<BlockEvent>>,
}

impl LedgerStateMachine {
    /// Opens the state machine: the latest stored snapshot if there is one, else `genesis`.
    pub fn open(db: Db, genesis: LedgerState) -> Result<LedgerStateMachine, NodeError> {
        LedgerStateMachine::open_with_events(db, genesis, None)
    }

    /// Opens the state machine and sends a [`BlockEvent`] to `events` after each applied
    /// block (what the node's certification and waiting clients follow).
    pub fn open_with_events(
        db: Db,
        genesis: LedgerState,
        events: Option<tokio::sync::mpsc::UnboundedSender<BlockEvent>>,
    ) -> Result<LedgerStateMachine, NodeError> {
        let machine = LedgerStateMachine {
            events,
            db,
            applied: Arc::new(RwLock::new(Applied {
                state: genesis,
                last_applied: None,
                last_membership: Membership::default(),
            })),
        };
        if let Some(stored) = machine
            .stored_snapshot()
            .map_err(|e| NodeError::Storage(e.to_string()))?
        {
            machine
                .restore(&stored.data)
                .map_err(|e| NodeError::Storage(e.to_string()))?;
        }
        Ok(machine)
    }

    /// Reads the current ledger state.
    pub fn read<T>(&self, f: impl FnOnce(&LedgerState) -> T) -> Result<T, NodeError> {
        let guard = self
            .applied
            .read()
            .map_err(|_| NodeError::Storage("state lock poisoned".into()))?;
        Ok(f(&guard.state))
    }

    /// The stored header at `height`, if this node applied it.
    pub fn header_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, NodeError> {
        let cf = self
            .db
            .cf_handle(CF_HEADERS)
            .ok_or_else(|| NodeError::Storage("column family headers missing".into()))?;
        self.db
            .get_cf(cf, key(height))
            .map_err(|e| NodeError::Storage(e.to_string()))
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StorageError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| sm_err(ErrorVerb::Read, format!("column family {name} missing")))
    }

    fn stored_snapshot(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        let raw = self
            .db
            .get_cf(self.cf(CF_SM_META)?, KEY_SNAPSHOT)
            .map_err(|e| sm_err(ErrorVerb::Read, e))?;
        raw.map(|bytes| from_cbor_bounded("stored snapshot", &bytes, MAX_SNAPSHOT_BYTES))
            .transpose()
            .map_err(|e| sm_err(ErrorVerb::Read, e))
    }

    fn store_snapshot(&self, snapshot: &StoredSnapshot) -> Result<(), StorageError> {
        let bytes = to_cbor(snapshot).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        self.db
            .put_cf_opt(
                self.cf(CF_SM_META)?,
                KEY_SNAPSHOT,
                bytes,
                &super::storage::durable(),
            )
            .map_err(|e| sm_err(ErrorVerb::Write, e))
    }

    fn restore(&self, data: &[u8]) -> Result<(), StorageError> {
        let payload: SnapshotPayload = from_cbor_bounded("snapshot", data, MAX_SNAPSHOT_BYTES)
            .map_err(|e| sm_err(ErrorVerb::Read, e))?;
        let state =
            LedgerState::from_snapshot(payload.ledger).map_err(|e| sm_err(ErrorVerb::Read, e))?;
        let mut guard = self
            .applied
            .write()
            .map_err(|_| sm_err(ErrorVerb::Write, "state lock poisoned"))?;
        guard.state = state;
        guard.last_applied = payload.last_applied;
        guard.last_membership = payload.last_membership;
        Ok(())
    }

    fn apply_block(
        &self,
        state: &mut LedgerState,
        time_ms: u64,
        encoded: &[ecert_schemas::codec::ByteBuf],
    ) -> Result<BlockReceipt, StorageError> {
        // Decode each transaction; a malformed one is skipped here, the others go to the
        // ledger in block order. `slots` maps block order to the decoded list.
        let mut txs = Vec::with_capacity(encoded.len());
        let mut slots = Vec::with_capacity(encoded.len());
        for bytes in encoded {
            match Transaction::from_bytes(bytes) {
                Ok(tx) => {
                    slots.push(Some(txs.len()));
                    txs.push(tx);
                }
                Err(_) => slots.push(None),
            }
        }
        match state.apply_block(&txs, time_ms) {
            Ok(block) => {
                self.db
                    .put_cf(
                        self.cf(CF_HEADERS)?,
                        key(block.header.height),
                        &block.header_bytes,
                    )
                    .map_err(|e| sm_err(ErrorVerb::Write, e))?;
                let outcomes: Vec<TxResult> = slots
                    .iter()
                    .map(|slot| match slot.and_then(|i| block.outcomes.get(i)) {
                        Some(TxOutcome::Anchored { batch_seq }) => TxResult::Anchored {
                            batch_seq: *batch_seq,
                        },
                        Some(TxOutcome::Revoked { .. }) => TxResult::Revoked,
                        Some(TxOutcome::Governed { seq }) => TxResult::Governed { seq: *seq },
                        Some(TxOutcome::Skipped(e)) => TxResult::Skipped {
                            code: e.code().to_owned(),
                        },
                        None => TxResult::Skipped {
                            code: "malformed".to_owned(),
                        },
                    })
                    .collect();
                if let Some(events) = &self.events {
                    let hashed = encoded
                        .iter()
                        .map(|bytes| ecert_verifier::commit::transaction_hash(bytes))
                        .zip(outcomes.iter().cloned())
                        .collect();
                    // A closed receiver means the node is shutting down; applying goes on.
                    let _ = events.send(BlockEvent {
                        applied: Some((block.header.height, block.header_bytes.clone())),
                        txs: hashed,
                    });
                }
                Ok(BlockReceipt::Applied {
                    height: block.header.height,
                    header: block.header_bytes,
                    outcomes,
                })
            }
            Err(e) => {
                let reasons: Vec<String> = slots
                    .iter()
                    .map(|slot| match slot.and_then(|i| txs.get(i)) {
                        Some(tx) => match state.check(tx, time_ms) {
                            Err(e) => e.code().to_owned(),
                            Ok(()) => e.to_string(),
                        },
                        None => "malformed".to_owned(),
                    })
                    .collect();
                if let Some(events) = &self.events {
                    let hashed = encoded
                        .iter()
                        .map(|bytes| ecert_verifier::commit::transaction_hash(bytes))
                        .zip(
                            reasons
                                .iter()
                                .map(|code| TxResult::Skipped { code: code.clone() }),
                        )
                        .collect();
                    let _ = events.send(BlockEvent {
                        applied: None,
                        txs: hashed,
                    });
                }
                Ok(BlockReceipt::Empty { reasons })
            }
        }
    }
}

impl RaftStateMachine<TypeConfig> for LedgerStateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId<NodeId>>, Membership), StorageError> {
        let guard = self
            .applied
            .read()
            .map_err(|_| sm_err(ErrorVerb::Read, "state lock poisoned"))?;
        Ok((guard.last_applied, guard.last_membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<BlockReceipt>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut guard = self
            .applied
            .write()
            .map_err(|_| sm_err(ErrorVerb::Write, "state lock poisoned"))?;
        let mut receipts = Vec::new();
        for entry in entries {
            guard.last_applied = Some(entry.log_id);
            let receipt = match entry.payload {
                EntryPayload::Blank => BlockReceipt::NoBlock,
                EntryPayload::Normal(block) => {
                    self.apply_block(&mut guard.state, block.time_ms, &block.txs)?
                }
                EntryPayload::Membership(m) => {
                    guard.last_membership = StoredMembership::new(Some(entry.log_id), m);
                    BlockReceipt::NoBlock
                }
            };
            receipts.push(receipt);
        }
        Ok(receipts)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        SnapshotBuilder {
            machine: self.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        self.restore(&data)?;
        {
            let mut guard = self
                .applied
                .write()
                .map_err(|_| sm_err(ErrorVerb::Write, "state lock poisoned"))?;
            guard.last_applied = meta.last_log_id;
            guard.last_membership = meta.last_membership.clone();
        }
        self.store_snapshot(&StoredSnapshot {
            meta: meta.clone(),
            data,
        })
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.stored_snapshot()?.map(|s| Snapshot {
            meta: s.meta,
            snapshot: Box::new(Cursor::new(s.data)),
        }))
    }
}

/// Builds a snapshot of the state as applied now.
pub struct SnapshotBuilder {
    machine: LedgerStateMachine,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let payload = {
            let guard = self
                .machine
                .applied
                .read()
                .map_err(|_| sm_err(ErrorVerb::Read, "state lock poisoned"))?;
            SnapshotPayload {
                last_applied: guard.last_applied,
                last_membership: guard.last_membership.clone(),
                ledger: guard.state.snapshot(),
            }
        };
        let data = to_cbor(&payload).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let cf = self.machine.cf(CF_SM_META)?;
        let counter = self
            .machine
            .db
            .get_cf(cf, KEY_SNAPSHOT_COUNTER)
            .map_err(|e| sm_err(ErrorVerb::Read, e))?
            .and_then(|v| super::storage::from_key(&v))
            .unwrap_or(0)
            + 1;
        self.machine
            .db
            .put_cf(cf, KEY_SNAPSHOT_COUNTER, key(counter))
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let snapshot_id = match payload.last_applied {
            Some(last) => format!("{}-{}-{counter}", last.leader_id, last.index),
            None => format!("--{counter}"),
        };
        let meta = SnapshotMeta {
            last_log_id: payload.last_applied,
            last_membership: payload.last_membership,
            snapshot_id,
        };
        self.machine.store_snapshot(&StoredSnapshot {
            meta: meta.clone(),
            data: data.clone(),
        })?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}
