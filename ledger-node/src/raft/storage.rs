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

const FAMILIES: [&str; 4] = [CF_LOG, CF_RAFT_META, CF_SM_META, CF_HEADERS];

/// The shared database handle.
pub type Db = Arc<DB>;

/// Opens (or creates) the node's database with its column families.
pub fn open_db(path: &Path) -> Result<Db, NodeError> {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    let families = FAMILIES
        .iter()
        .map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
    let db = DB::open_cf_descriptors(&opts, path, families)
        .map_err(|e| NodeError::Storage(e.to_string()))?;
    Ok(Arc::new(db))
}

/// Write options for everything that is acknowledged: the WAL is synced before the write
/// returns, so an acknowledged write survives a crash or power loss.
pub(crate) fn durable() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
}

/// Big-endian key for an index or height (so that keys sort numerically).
pub(crate) fn key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// The number in a big-endian key.
pub(crate) fn from_key(k: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(k).ok().map(u64::from_be_bytes)
}
