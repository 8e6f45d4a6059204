//! The Raft storage over RocksDB: openraft's own storage test suite, plus the ledger's
//! blocks applied through Raft entries, snapshots that rebuild the same state on another
//! node, and durability across reopening the database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_ledger_node::raft::{
    open_db, BlockReceipt, LedgerStateMachine, LogStore, ProposedBlock, StorageError, TxResult,
    TypeConfig,
};
use ecert_ledger_node::state::LedgerState;
use ecert_schemas::codec::ByteBuf;
use ecert_testkit::province::Province;
use ecert_testkit::sample;
use ecert_testkit::world::{batch_of, FIXED_NOW as NOW};
use ecert_testkit::Scratch;
use ecert_wallet::HolderKey;
use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::testing::{StoreBuilder, Suite};
use openraft::{
    CommittedLeaderId, Entry, EntryPayload, LogId, RaftLogReader, RaftSnapshotBuilder, Vote,
};
use rand_core::OsRng;

fn genesis() -> (Province, LedgerState) {
    let province = Province::new("ecert-raft-test", NOW.minus(86_400), &mut OsRng).unwrap();
    let state = province.ledger().clone();
    (province, state)
}

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, LedgerStateMachine, Scratch> for Builder {
    async fn build(&self) -> Result<(Scratch, LogStore, LedgerStateMachine), StorageError> {
        let dir = Scratch::new("raft");
        let db = open_db(dir.dir()).unwrap();
        let machine = LedgerStateMachine::open(db.clone(), genesis().1).unwrap();
        Ok((dir, LogStore::new(db), machine))
    }
}

#[test]
fn openraft_storage_suite_passes() {
    Suite::test_all(Builder).unwrap();
}

fn log_id(term: u64, index: u64) -> LogId<u64> {
    LogId::new(CommittedLeaderId::new(term, 0), index)
}

fn anchor_tx(province: &mut Province, holder: &HolderKey) -> Vec<u8> {
    let order = sample::no_criminal_record(NOW);
    let time = NOW.minus(60);
    let (_, tx) = batch_of(province, "justice", holder.public_key(), &[order], time);
    tx.to_bytes().unwrap()
}

#[tokio::test]
async fn blocks_apply_through_raft_and_snapshots_rebuild_the_same_state() {
    let (mut province, state) = genesis();
    let holder = HolderKey::generate(&mut OsRng);
    let dir = Scratch::new("raft");
    let db = open_db(dir.dir()).unwrap();
    let mut machine = LedgerStateMachine::open(db.clone(), state.clone()).unwrap();

    let good = anchor_tx(&mut province, &holder);
    let entries = vec![
        Entry::<TypeConfig> {
            log_id: log_id(1, 1),
            payload: EntryPayload::Blank,
        },
        Entry {
            log_id: log_id(1, 2),
            payload: EntryPayload::Normal(ProposedBlock {
                time_ms: NOW.secs() * 1000,
                txs: vec![ByteBuf::from(good.clone()), ByteBuf::from(vec![0xff])],
            }),
        },
        Entry {
            log_id: log_id(1, 3),
            payload: EntryPayload::Normal(ProposedBlock {
                time_ms: NOW.secs() * 1000 + 200,
                txs: vec![ByteBuf::from(good)],
            }),
        },
    ];
    let receipts = machine.apply(entries).await.unwrap();
    assert_eq!(receipts[0], BlockReceipt::NoBlock);
    match &receipts[1] {
        BlockReceipt::Applied {
            height, outcomes, ..
        } => {
            assert_eq!(*height, 1);
            assert_eq!(outcomes.len(), 2);
            assert_eq!(outcomes[0], TxResult::Anchored { batch_seq: 0 });
            assert_eq!(
                outcomes[1],
                TxResult::Skipped {
                    code: "malformed".to_owned()
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&receipts[2], BlockReceipt::Empty { reasons } if reasons == &["transaction-refused".to_owned()]),
        "the replay is refused: {:?}",
        receipts[2]
    );
    assert_eq!(machine.read(|s| s.height()).unwrap(), 1);
    assert!(machine.header_bytes(1).unwrap().is_some());

    // A snapshot taken here, installed on a fresh node, gives the same state.
    let snapshot = {
        let mut builder = machine.get_snapshot_builder().await;
        builder.build_snapshot().await.unwrap()
    };
    assert_eq!(snapshot.meta.last_log_id, Some(log_id(1, 3)));
    let other_dir = Scratch::new("raft");
    let mut other =
        LedgerStateMachine::open(open_db(other_dir.dir()).unwrap(), state.clone()).unwrap();
    other
        .install_snapshot(&snapshot.meta, snapshot.snapshot)
        .await
        .unwrap();
    let (applied, _) = other.applied_state().await.unwrap();
    assert_eq!(applied, Some(log_id(1, 3)));
    let same = |m: &LedgerStateMachine| {
        m.read(|s| (s.height(), s.last_header_hash(), s.anchors().to_vec()))
            .unwrap()
    };
    assert_eq!(same(&other), same(&machine));

    // Reopening the database restores the latest snapshot (every handle closed first).
    drop(machine);
    drop(db);
    drop(other);
    let reopened = LedgerStateMachine::open(open_db(dir.dir()).unwrap(), state).unwrap();
    assert_eq!(reopened.read(|s| s.height()).unwrap(), 1);
}

#[tokio::test]
async fn the_log_and_vote_survive_reopening() {
    let dir = Scratch::new("raft");
    {
        let mut store = LogStore::new(open_db(dir.dir()).unwrap());
        store.save_vote(&Vote::new(3, 1)).await.unwrap();
        let entries: Vec<Entry<TypeConfig>> = (1..=5)
            .map(|i| Entry {
                log_id: log_id(3, i),
                payload: EntryPayload::Blank,
            })
            .collect();
        // Append through the reader-visible path used by openraft's suite.
        let mut reader = store.get_log_reader().await;
        assert!(reader.try_get_log_entries(0..10).await.unwrap().is_empty());
        for e in entries {
            let db_entries = vec![e];
            ecert_ledger_node_test_append(&mut store, db_entries).await;
        }
    }
    let mut store = LogStore::new(open_db(dir.dir()).unwrap());
    assert_eq!(store.read_vote().await.unwrap(), Some(Vote::new(3, 1)));
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_log_id, Some(log_id(3, 5)));
    let mut reader = store.get_log_reader().await;
    assert_eq!(reader.try_get_log_entries(2..4).await.unwrap().len(), 2);
}

async fn ecert_ledger_node_test_append(store: &mut LogStore, entries: Vec<Entry<TypeConfig>>) {
    use openraft::storage::RaftLogStorageExt;
    store.blocking_append(entries).await.unwrap();
}
