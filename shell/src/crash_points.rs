//! TEST ONLY: crash points in the tools' durable writes, for the crash-safety tests.
//!
//! Every file the tools keep is written or removed through [`crate::files`] or
//! [`crate::bulk`], which call [`reached`] where a crash matters: before a file is
//! written, with it half written, written and flushed but not yet in its place, in its
//! place with its folder not flushed yet, and before a file is removed or a file system
//! flushed. Two environment variables, read once per process, drive it; with neither set
//! (as in every real use) a point costs one atomic increment:
//!
//! - [`COUNT_ENV`]`=FILE`: each point reached appends a line `N POINT PATH` to `FILE`, so
//!   that a test can learn how many points a command passes;
//! - [`CRASH_AT_ENV`]`=N`: at the `N`-th point (counting from 1, all threads together) the
//!   process kills itself with SIGKILL (elsewhere than Linux: aborts): no destructor, no
//!   flush, nothing of its own runs after it, as when the machine loses power or an
//!   operator kills it.
//!
//! Like [`crate::passphrase::TEST_KDF_ENV`], these are switches for tests; nothing else
//! sets them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// TEST ONLY: the environment variable naming the point (1, 2, ...) at which the process
/// kills itself.
pub const CRASH_AT_ENV: &str = "ECERT_CRASH_AT_WRITE";
/// TEST ONLY: the environment variable naming a file to which every point reached is
/// appended, one line each.
pub const COUNT_ENV: &str = "ECERT_COUNT_WRITES";

/// Where in a write a point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// Nothing of this write is done yet.
    Before,
    /// About half of the bytes are written to the (temporary or final) file, not flushed.
    HalfWritten,
    /// All bytes are written (and, for an atomic write, flushed), the file is not in its
    /// place yet.
    Written,
    /// The file is in its place; its folder is not flushed yet.
    Published,
    /// A file is about to be removed.
    Remove,
    /// A file system is about to be flushed.
    Sync,
}

impl Point {
    /// The point's name, as written to the count file.
    pub fn name(self) -> &'static str {
        match self {
            Point::Before => "before",
            Point::HalfWritten => "half-written",
            Point::Written => "written",
            Point::Published => "published",
            Point::Remove => "remove",
            Point::Sync => "sync",
        }
    }
}

struct Settings {
    crash_at: Option<u64>,
    count_file: Option<PathBuf>,
}

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| Settings {
        crash_at: std::env::var(CRASH_AT_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok()),
        count_file: std::env::var_os(COUNT_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    })
}

static REACHED: AtomicU64 = AtomicU64::new(0);

/// Marks a crash point of a write to `path`: counted, and the process killed here if it
/// is the one asked for (see the module's documentation).
pub fn reached(point: Point, path: &Path) {
    let n = REACHED.fetch_add(1, Ordering::SeqCst).saturating_add(1);
    let settings = settings();
    if let Some(file) = &settings.count_file {
        let line = format!("{n} {} {}\n", point.name(), path.display());
        // Best effort: a test that cannot count sees too few points and says so.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
    if settings.crash_at == Some(n) {
        die();
    }
}

#[cfg(target_os = "linux")]
fn die() -> ! {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    std::process::abort()
}

#[cfg(not(target_os = "linux"))]
fn die() -> ! {
    std::process::abort()
}
