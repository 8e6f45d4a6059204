//! The node's RocksDB database: column families and durable writes.

use std::path::Path;
use std::sync::Arc;

use rocksdb::{ColumnFamilyDescriptor, Options, WriteOptions, DB};

use crate::NodeError;

/// Raft log entries, keyed by big-endian index.
pub(crate) const CF_LOG: &str = "raft_log";
/// Raft metadata: vote, committed id, last purged id.
pub(crate) const CF_RAFT_META: &str = "raft_meta";
/// Certified-state metadata: the current snapshot.
pub(crate) const CF_SM_META: &str = "sm_meta";
/// Block headers by big-endian height.
pub(crate) const CF_HEADERS: &str = "headers";

/// Certification: for each height this validator signed, the hash of the header it
/// signed (so it never signs two headers at one height, across restarts).
pub const CF_SIGNED: &str = "signed";
/// Certification: certified checkpoints (header and quorum of votes) by height.
pub const CF_CHECKPOINTS: &str = "checkpoints";

const FAMILIES: [&str; 6] = [
    CF_LOG,
    CF_RAFT_META,
    CF_SM_META,
    CF_HEADERS,
    CF_SIGNED,
    CF_CHECKPOINTS,
];

/// Memtable size of every column family.
const WRITE_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// The shared database handle.
pub type Db = Arc<DB>;

/// Opens (or creates) the node's database with its column families.
pub fn open_db(path: &Path) -> Result<Db, NodeError> {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    // The ledger's writes are small (roots, counts, indexes): 8 MiB memtables, which also
    // keeps the write-ahead log's preallocated file at ~9 MiB instead of ~70 MiB.
    opts.set_write_buffer_size(WRITE_BUFFER_BYTES);
    let families = FAMILIES.iter().map(|name| {
        let mut cf = Options::default();
        cf.set_write_buffer_size(WRITE_BUFFER_BYTES);
        ColumnFamilyDescriptor::new(*name, cf)
    });
    let db = DB::open_cf_descriptors(&opts, path, families)
        .map_err(|e| NodeError::Storage(e.to_string()))?;
    Ok(Arc::new(db))
}

/// Write options for everything that is acknowledged: the WAL is synced before the write
/// returns, so an acknowledged write survives a crash or power loss.
pub fn durable() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
}

/// Big-endian key for an index or height (so that keys sort numerically).
pub fn key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// The number in a big-endian key.
pub fn from_key(k: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(k).ok().map(u64::from_be_bytes)
}
