//! Many small files made durable together.
//!
//! [`crate::files::write_atomically`] costs two flushes, a link and an unlink per file:
//! right for a key or a configuration, far too slow for a million certificate packages.
//! Here files are written without a flush of their own ([`write_unsynced`]) and then made
//! durable all at once with [`sync_file_system`] (one `syncfs` on Linux; elsewhere each
//! file is flushed). A caller records that the files exist only after that returns, and
//! writes them again (same bytes) if it was interrupted before: a file cut short by a
//! crash is rewritten, never trusted.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::crash_points::{self, Point};
use crate::files::{write_in_halves, FileError};

/// How [`write_unsynced`] treats an existing file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfExists {
    /// Refuse: the file must not exist.
    Refuse,
    /// Overwrite it (for rewriting the same bytes after an interruption).
    Overwrite,
}

/// Writes `bytes` to `path` (owner-only on Unix) without flushing it to disk: one open,
/// one write, one close. Call [`sync_file_system`] before relying on it.
pub fn write_unsynced(path: &Path, bytes: &[u8], existing: IfExists) -> Result<(), FileError> {
    let mut options = OpenOptions::new();
    options.write(true);
    match existing {
        IfExists::Refuse => options.create_new(true),
        IfExists::Overwrite => options.create(true).truncate(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |action, e| FileError::Io {
        action,
        path: path.to_owned(),
        source: e,
    };
    crash_points::reached(Point::Before, path);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            FileError::AlreadyExists(path.to_owned())
        } else {
            io("create", e)
        }
    })?;
    write_in_halves(&mut file, path, bytes).map_err(|e| io("write", e))?;
    crash_points::reached(Point::Written, path);
    Ok(())
}

/// Flushes to disk everything written to the file system that holds `dir` (Linux:
/// `syncfs`, one call whatever the number of files), then `dir`'s own entries. On other
/// systems, each of `files` and then `dir` is flushed instead.
pub fn sync_file_system(dir: &Path, files: &[PathBuf]) -> Result<(), FileError> {
    crash_points::reached(Point::Sync, dir);
    let folder = File::open(dir).map_err(|e| FileError::Io {
        action: "open the folder",
        path: dir.to_owned(),
        source: e,
    })?;
    #[cfg(target_os = "linux")]
    {
        let _ = files;
        rustix::fs::syncfs(&folder).map_err(|e| FileError::Io {
            action: "flush to disk the file system of",
            path: dir.to_owned(),
            source: e.into(),
        })?;
    }
    #[cfg(not(target_os = "linux"))]
    for path in files {
        File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| FileError::Io {
                action: "flush",
                path: path.clone(),
                source: e,
            })?;
    }
    let _ = folder.sync_all();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_files_refuse_or_overwrite_then_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        write_unsynced(&path, b"one", IfExists::Refuse).unwrap();
        assert!(matches!(
            write_unsynced(&path, b"two", IfExists::Refuse),
            Err(FileError::AlreadyExists(_))
        ));
        write_unsynced(&path, b"3", IfExists::Overwrite).unwrap();
        sync_file_system(dir.path(), std::slice::from_ref(&path)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"3");
    }
}
