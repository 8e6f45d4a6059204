//! Files that are never half-written and never read without a size limit.
//!
//! - [`read_limited`] reads a whole file of at most a given size;
//! - [`write_atomically`] writes so that the destination holds either its old content or
//!   all of the new, never a mix, even if the process is killed or the machine loses
//!   power: a private temporary file beside it is written and flushed, then renamed over
//!   the destination (or linked to it, refusing an existing one), and the folder is
//!   flushed too;
//! - [`write_new`] creates a file that must not exist yet, flushed before it returns;
//! - [`create_private_dir`] creates a folder (and its parents) readable by the owner only.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};
use thiserror::Error;

/// The size limit of [`read_limited`] for the tools' own files (64 MiB): far more than a
/// wallet, a key, a package or a bundle needs, and a guard against reading a wrong, huge
/// file.
pub const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// What went wrong with a file, naming it.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file or folder could not be read, created or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "create", "write", "replace", ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// The file is larger than the limit.
    #[error("{path} is larger than {limit} bytes: not the file expected")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// [`Existing::Refuse`]: the destination exists.
    #[error("{0} already exists; it was left unchanged")]
    AlreadyExists(PathBuf),
    /// The path has no file name.
    #[error("{0} is not a file name")]
    NotAFileName(PathBuf),
}

impl FileError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> FileError {
        FileError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }

    /// Whether the file (or folder) did not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// Reads the whole file at `path` if it holds at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let file = File::open(path).map_err(|e| FileError::io("read", path, e))?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::io("read", path, e))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads a UTF-8 text file of at most `limit` bytes.
pub fn read_text_limited(path: &Path, limit: u64) -> Result<String, FileError> {
    let bytes = read_limited(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        FileError::io(
            "read",
            path,
            io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })
}

/// How [`write_atomically`] treats an existing file at the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Refuse: the destination must not exist.
    Refuse,
    /// Replace it, atomically.
    Replace,
}

/// Writes `bytes` to `path` so that `path` holds either its old content or all of
/// `bytes`, never a mix: a temporary file beside it (readable by the owner only) is
/// written and flushed to disk, then renamed over `path` (or, with [`Existing::Refuse`],
/// linked to `path`, which fails if `path` exists), and the folder is flushed too.
/// A missing folder is created, private to the owner.
pub fn write_atomically(path: &Path, bytes: &[u8], existing: Existing) -> Result<(), FileError> {
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| FileError::NotAFileName(path.to_owned()))?;
    let temp = temp_path(&dir, name);
    let result = write_then_publish(&temp, path, bytes, existing);
    if result.is_err() {
        // Best effort: the temporary file may not exist or may already be renamed.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(&dir);
    Ok(())
}

/// Creates `path`, which must not exist, with `bytes` (owner-only on Unix), flushed to
/// disk before this returns. Unlike [`write_atomically`] a crash may leave a short file;
/// use it for files written once at set-up, before anything depends on them.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut file = private_options().open(path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => FileError::AlreadyExists(path.to_owned()),
        _ => FileError::io("create", path, e),
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| FileError::io("write", path, e))
}

/// Creates `dir` and its parents; on Unix, folders it creates are private to the owner.
pub fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| FileError::io("create the folder", dir, e))
}

/// Restricts an existing folder to its owner (Unix; elsewhere nothing happens).
pub fn make_private(dir: &Path) -> Result<(), FileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| FileError::io("restrict", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Flushes a folder's entries (a rename, a new file) to disk (Unix); elsewhere this is a
/// no-op. Best effort: a file system that cannot is not an error.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn temp_path(dir: &Path, name: &OsStr) -> PathBuf {
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        OsRng.next_u64()
    ));
    dir.join(temp)
}

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn write_then_publish(
    temp: &Path,
    path: &Path,
    bytes: &[u8],
    existing: Existing,
) -> Result<(), FileError> {
    let mut file = private_options()
        .open(temp)
        .map_err(|e| FileError::io("create", temp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| FileError::io("write", temp, e))?;
    drop(file);
    match existing {
        Existing::Replace => {
            fs::rename(temp, path).map_err(|e| FileError::io("replace", path, e))?
        }
        Existing::Refuse => {
            // A hard link is created atomically and only if the name is free.
            match fs::hard_link(temp, path) {
                Ok(()) => {
                    let _ = fs::remove_file(temp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(FileError::AlreadyExists(path.to_owned()))
                }
                Err(_) => {
                    // File systems without hard links: check, then rename.
                    if path.exists() {
                        return Err(FileError::AlreadyExists(path.to_owned()));
                    }
                    fs::rename(temp, path).map_err(|e| FileError::io("write", path, e))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_or_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f");
        write_atomically(&path, b"one", Existing::Refuse).unwrap();
        assert!(matches!(
            write_atomically(&path, b"two", Existing::Refuse),
            Err(FileError::AlreadyExists(_))
        ));
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomically(&path, b"three", Existing::Replace).unwrap();
        assert_eq!(read_limited(&path, 10).unwrap(), b"three");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_new(&path, &[7; 11]).unwrap();
        assert!(matches!(
            read_limited(&path, 10),
            Err(FileError::TooLarge { limit: 10, .. })
        ));
        assert_eq!(read_limited(&path, 11).unwrap().len(), 11);
        assert!(matches!(
            write_new(&path, b"x"),
            Err(FileError::AlreadyExists(_))
        ));
        assert!(read_limited(&dir.path().join("none"), 1)
            .unwrap_err()
            .is_not_found());
    }
}
