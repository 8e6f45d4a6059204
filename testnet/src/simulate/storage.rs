//! What one node keeps on disk, counted in bytes from the encodings the node writes.
//!
//! A node's RocksDB holds, per block: the Raft log entry (`raft_log`: the proposed block as
//! `ecert_ledger_node::raft` encodes an `openraft::Entry`), the header (`headers`), the
//! hash of the header its validator signed (`signed`) and the certified checkpoint
//! (`checkpoints`); and the latest Raft snapshot of the ledger state (`sm_meta`). This crate
//! does not link openraft (only the ledger node does), so the entry and the snapshot are
//! encoded here through serde types of the same shape as openraft's (`LogId`,
//! `EntryPayload`, `SnapshotMeta`, `StoredMembership`): the same CBOR, byte for byte,
//! as `to_cbor` gives for openraft's own types (a test pins an entry to openraft 0.9.25's
//! encoding).
//!
//! Not counted: RocksDB's own overhead (block index, filters, per-key metadata, write-ahead
//! log, files not yet compacted), Raft's vote and commit markers (a few dozen bytes).

use std::collections::{BTreeMap, BTreeSet};

use ecert_ledger_node::state::LedgerSnapshot;
use ecert_schemas::codec::{to_cbor, ByteBuf};
use ecert_schemas::ledger::{Checkpoint, Transaction};
use ecert_schemas::SchemaError;
use serde::Serialize;

/// The length of a RocksDB key of the ledger's column families (big-endian `u64`).
const KEY_BYTES: u64 = 8;
/// A validator's `signed` record: SHA-256 of the header it signed.
const SIGNED_BYTES: u64 = 32;

/// openraft's `LeaderId` (advanced mode, the default): term and node id.
#[derive(Serialize)]
struct LeaderId {
    term: u64,
    node_id: u64,
}

/// openraft's `LogId`.
#[derive(Serialize)]
struct LogId {
    leader_id: LeaderId,
    index: u64,
}

/// `ecert_ledger_node::raft::ProposedBlock`.
#[derive(Serialize)]
struct ProposedBlock {
    time_ms: u64,
    txs: Vec<ByteBuf>,
}

/// openraft's `EntryPayload` (only the variant a block uses).
#[derive(Serialize)]
enum EntryPayload {
    Normal(ProposedBlock),
}

/// openraft's `Entry`.
#[derive(Serialize)]
struct Entry {
    log_id: LogId,
    payload: EntryPayload,
}

/// openraft's `BasicNode`.
#[derive(Serialize)]
struct BasicNode {
    addr: String,
}

/// openraft's `Membership`.
#[derive(Serialize)]
struct Membership {
    configs: Vec<BTreeSet<u64>>,
    nodes: BTreeMap<u64, BasicNode>,
}

/// openraft's `StoredMembership`.
#[derive(Serialize)]
struct StoredMembership {
    log_id: Option<LogId>,
    membership: Membership,
}

/// `ecert_ledger_node::raft`'s snapshot payload.
#[derive(Serialize)]
struct SnapshotPayload<'a> {
    last_applied: Option<LogId>,
    last_membership: StoredMembership,
    ledger: &'a LedgerSnapshot,
}

/// openraft's `SnapshotMeta`.
#[derive(Serialize)]
struct SnapshotMeta {
    last_log_id: Option<LogId>,
    last_membership: StoredMembership,
    snapshot_id: String,
}

/// `ecert_ledger_node::raft::StoredSnapshot` (its data a plain `Vec<u8>`, as there).
#[derive(Serialize)]
struct StoredSnapshot {
    meta: SnapshotMeta,
    data: Vec<u8>,
}

/// The leader's log id for entry `index` (one term, validator 0 leading all year).
fn log_id(index: u64) -> LogId {
    LogId {
        leader_id: LeaderId {
            term: 1,
            node_id: 0,
        },
        index,
    }
}

/// The genesis membership of `validators` nodes, as stored with a snapshot.
fn membership(validators: usize) -> StoredMembership {
    let ids: BTreeSet<u64> = (0..validators as u64).collect();
    StoredMembership {
        log_id: Some(log_id(0)),
        membership: Membership {
            nodes: ids
                .iter()
                .map(|&id| {
                    let addr = format!("/ip4/10.0.0.{}/tcp/7000", id + 1);
                    (id, BasicNode { addr })
                })
                .collect(),
            configs: vec![ids],
        },
    }
}

/// Bytes a node keeps, by column family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStorage {
    /// Blocks counted.
    pub blocks: u64,
    /// `raft_log`: every block's Raft entry (key and value), the whole year's log.
    pub raft_log: u64,
    /// The largest single Raft entry.
    pub largest_entry: u64,
    /// `headers`: every header's exact bytes.
    pub headers: u64,
    /// `signed`: this validator's record of what it signed at each height.
    pub signed: u64,
    /// `checkpoints`: every certified checkpoint (header and votes).
    pub checkpoints: u64,
    /// `sm_meta`: one stored Raft snapshot of the ledger state at the end.
    pub snapshot: u64,
    /// The snapshot's payload alone (the encoded ledger state inside it).
    pub snapshot_payload: u64,
}

impl NodeStorage {
    /// Counts one applied block: its transactions as proposed at `time_ms`, its header's
    /// bytes and its checkpoint.
    pub fn add_block(
        &mut self,
        txs: &[Transaction],
        time_ms: u64,
        header_bytes: &[u8],
        checkpoint: &Checkpoint,
    ) -> Result<(), SchemaError> {
        self.blocks += 1;
        let entry = Entry {
            // Entry 0 is the genesis membership; blocks follow.
            log_id: log_id(self.blocks),
            payload: EntryPayload::Normal(ProposedBlock {
                time_ms,
                txs: txs
                    .iter()
                    .map(|tx| tx.to_bytes().map(ByteBuf::from))
                    .collect::<Result<_, _>>()?,
            }),
        };
        let entry_bytes = to_cbor(&entry)?.len() as u64;
        self.largest_entry = self.largest_entry.max(entry_bytes);
        self.raft_log += KEY_BYTES + entry_bytes;
        self.headers += KEY_BYTES + header_bytes.len() as u64;
        self.signed += KEY_BYTES + SIGNED_BYTES;
        self.checkpoints += KEY_BYTES + checkpoint.to_bytes()?.len() as u64;
        Ok(())
    }

    /// Counts the Raft snapshot of `ledger` (the state after the last block), stored once.
    pub fn set_snapshot(
        &mut self,
        ledger: &LedgerSnapshot,
        validators: usize,
    ) -> Result<(), SchemaError> {
        let last = self.blocks;
        let payload = to_cbor(&SnapshotPayload {
            last_applied: Some(log_id(last)),
            last_membership: membership(validators),
            ledger,
        })?;
        self.snapshot_payload = payload.len() as u64;
        let stored = StoredSnapshot {
            meta: SnapshotMeta {
                last_log_id: Some(log_id(last)),
                last_membership: membership(validators),
                snapshot_id: format!("1-0-{last}-{}", last / 1_000),
            },
            data: payload,
        };
        self.snapshot = to_cbor(&stored)?.len() as u64;
        Ok(())
    }

    /// Everything counted: the whole year's Raft log, headers, signed records,
    /// checkpoints and one snapshot.
    pub fn total(&self) -> u64 {
        self.raft_log + self.headers + self.signed + self.checkpoints + self.snapshot
    }

    /// What a node holds with a snapshot policy instead: the Raft log purged up to the
    /// last snapshot (taken every `snapshot_every` blocks; `ecert-node run
    /// --snapshot-every`, default 1,000), so about `snapshot_every` entries of the
    /// year's mean size stay besides the snapshot.
    pub fn total_purged(&self, snapshot_every: u64) -> u64 {
        let mean = self.raft_log.checked_div(self.blocks).unwrap_or(0);
        let kept_log = mean
            .saturating_mul(snapshot_every.min(self.blocks))
            .min(self.raft_log);
        kept_log + self.headers + self.signed + self.checkpoints + self.snapshot
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_encodes_as_openraft_encodes_it() {
        let entry = Entry {
            log_id: log_id(7),
            payload: EntryPayload::Normal(ProposedBlock {
                time_ms: 1_767_571_200_123,
                txs: vec![ByteBuf::from(vec![0xaa; 150])],
            }),
        };
        // openraft 0.9.25's own `Entry` of this block, encoded with `serde_cbor`.
        let openraft = format!(
            "{}{}",
            "a2666c6f675f6964a2696c65616465725f6964a2647465726d01676e6f64655f69640065696e6465\
             7807677061796c6f6164a1664e6f726d616ca26774696d655f6d731b0000019b8b74187b63747873815896",
            "aa".repeat(150)
        );
        assert_eq!(hex::encode(to_cbor(&entry).unwrap()), openraft);
    }
}
