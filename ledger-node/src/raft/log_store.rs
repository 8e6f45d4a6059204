//! The Raft log and vote in RocksDB (openraft's `RaftLogStorage`).

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

use ecert_schemas::codec::{from_cbor_bounded, to_cbor};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftLogReader, StorageIOError, Vote};
use rocksdb::{Direction, IteratorMode, WriteBatch};

use super::storage::{durable, from_key, key, Db, CF_LOG, CF_RAFT_META};
use super::{NodeId, StorageError, TypeConfig};

/// Largest single log entry read back (a block's transactions).
const MAX_ENTRY_BYTES: usize = 64 * 1024 * 1024;

const KEY_VOTE: &[u8] = b"vote";
const KEY_COMMITTED: &[u8] = b"committed";
const KEY_LAST_PURGED: &[u8] = b"last_purged";

type Entry = openraft::Entry<TypeConfig>;

fn io_err(
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    e: impl std::fmt::Display,
) -> StorageError {
    StorageIOError::new(subject, verb, openraft::AnyError::error(e.to_string())).into()
}

/// The Raft log store. Cloning shares the database.
#[derive(Clone)]
pub struct LogStore {
    db: Db,
}

impl Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogStore")
    }
}

impl LogStore {
    /// The log store over `db`.
    pub fn new(db: Db) -> LogStore {
        LogStore { db }
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StorageError> {
        self.db.cf_handle(name).ok_or_else(|| {
            io_err(
                ErrorSubject::Store,
                ErrorVerb::Read,
                format!("column family {name} missing"),
            )
        })
    }

    fn get_meta<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        k: &[u8],
    ) -> Result<Option<T>, StorageError> {
        let subject = || ErrorSubject::Store;
        let raw = self
            .db
            .get_cf(self.cf(CF_RAFT_META)?, k)
            .map_err(|e| io_err(subject(), ErrorVerb::Read, e))?;
        raw.map(|bytes| from_cbor_bounded("raft metadata", &bytes, MAX_ENTRY_BYTES))
            .transpose()
            .map_err(|e| io_err(subject(), ErrorVerb::Read, e))
    }

    fn put_meta<T: serde::Serialize>(&self, k: &[u8], value: &T) -> Result<(), StorageError> {
        let bytes = to_cbor(value).map_err(|e| io_err(ErrorSubject::Store, ErrorVerb::Write, e))?;
        self.db
            .put_cf_opt(self.cf(CF_RAFT_META)?, k, bytes, &durable())
            .map_err(|e| io_err(ErrorSubject::Store, ErrorVerb::Write, e))
    }

    fn last_entry(&self) -> Result<Option<Entry>, StorageError> {
        let mut it = self.db.iterator_cf(self.cf(CF_LOG)?, IteratorMode::End);
        match it.next() {
            None => Ok(None),
            Some(item) => {
                let (_, bytes) =
                    item.map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
                let entry = from_cbor_bounded("raft entry", &bytes, MAX_ENTRY_BYTES)
                    .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
                Ok(Some(entry))
            }
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let start_key = key(start);
        let mut entries = Vec::new();
        let it = self.db.iterator_cf(
            self.cf(CF_LOG)?,
            IteratorMode::From(&start_key, Direction::Forward),
        );
        for item in it {
            let (k, bytes) = item.map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
            let index = from_key(&k)
                .ok_or_else(|| io_err(ErrorSubject::Logs, ErrorVerb::Read, "bad log key"))?;
            if !range.contains(&index) {
                break;
            }
            let entry: Entry = from_cbor_bounded("raft entry", &bytes, MAX_ENTRY_BYTES)
                .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
            entries.push(entry);
        }
        Ok(entries)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id: Option<LogId<NodeId>> = self.get_meta(KEY_LAST_PURGED)?;
        let last_log_id = match self.last_entry()? {
            Some(entry) => Some(entry.log_id),
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        self.put_meta(KEY_VOTE, vote)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        self.get_meta(KEY_VOTE)
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError> {
        self.put_meta(KEY_COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError> {
        Ok(self
            .get_meta::<Option<LogId<NodeId>>>(KEY_COMMITTED)?
            .flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let cf = self.cf(CF_LOG)?;
        let mut batch = WriteBatch::default();
        for entry in entries {
            let bytes =
                to_cbor(&entry).map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))?;
            batch.put_cf(cf, key(entry.log_id.index), bytes);
        }
        // Synced: the entries are on disk before Raft is told they are.
        self.db
            .write_opt(batch, &durable())
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))?;
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        let cf = self.cf(CF_LOG)?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(cf, key(log_id.index), key(u64::MAX));
        batch.delete_cf(cf, key(u64::MAX));
        self.db
            .write_opt(batch, &durable())
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Delete, e))
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        self.put_meta(KEY_LAST_PURGED, &log_id)?;
        let cf = self.cf(CF_LOG)?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(cf, key(0), key(log_id.index.saturating_add(1)));
        self.db
            .write_opt(batch, &durable())
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Delete, e))
    }
}
