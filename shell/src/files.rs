//! Files that are never half-written and never read without a size limit.
//!
//! - [`read_limited`] reads a whole file of at most a given size;
//! - [`write_atomically`] writes so that the destination holds either its old content or
//!   all of the new, never a mix, even if the process is killed or the machine loses
//!   power: a private temporary file beside it is written and flushed, then renamed over
//!   the destination (or linked to it, refusing an existing one), and the folder is
//!   flushed too;
//! - [`write_new`] creates a file that must not exist yet, flushed before it returns;
//! - [`create_private_dir`] creates a folder (and its parents) readable by the owner only;
//! - [`remove_if_present`] removes a file, its folder flushed.
//!
//! A full disk is named as such in [`FileError`]'s message. Each write and removal passes
//! the test-only crash points of [`crate::crash_points`].

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};
use thiserror::Error;

use crate::crash_points::{self, Point};

/// The size limit of [`read_limited`] for the tools' own files (64 MiB): far more than a
/// wallet, a key, a package or a bundle needs, and a guard against reading a wrong, huge
/// file.
pub const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// What went wrong with a file, naming it.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file or folder could not be read, created or written (a full disk is said
    /// in plain words).
    #[error("cannot {action} {path}: {}", reason(.source))]
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

    /// Whether the disk (or the owner's quota on it) is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, FileError::Io { source, .. } if is_disk_full(source))
    }
}

/// Whether `e` says that the disk, or the owner's quota on it, is full.
pub fn is_disk_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull || e.kind() == io::ErrorKind::QuotaExceeded
}

fn reason(e: &io::Error) -> String {
    if is_disk_full(e) {
        format!("the disk is full ({e}): free some space on it")
    } else {
        e.to_string()
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
    crash_points::reached(Point::Before, path);
    let result = write_then_publish(&temp, path, bytes, existing);
    if result.is_err() {
        // Best effort: the temporary file may not exist or may already be renamed.
        let _ = fs::remove_file(&temp);
    }
    result?;
    crash_points::reached(Point::Published, path);
    sync_dir(&dir);
    Ok(())
}

/// Creates `path`, which must not exist, with `bytes` (owner-only on Unix), flushed to
/// disk before this returns. Unlike [`write_atomically`] a crash may leave a short file;
/// use it for files written once at set-up, before anything depends on them.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    crash_points::reached(Point::Before, path);
    let mut file = private_options().open(path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => FileError::AlreadyExists(path.to_owned()),
        _ => FileError::io("create", path, e),
    })?;
    write_in_halves(&mut file, path, bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| FileError::io("write", path, e))?;
    crash_points::reached(Point::Written, path);
    Ok(())
}

/// Writes `bytes` to `file` in two parts, passing the half-written crash point of `path`
/// between them.
pub(crate) fn write_in_halves(file: &mut File, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (first, second) = bytes.split_at(bytes.len() / 2);
    file.write_all(first)?;
    crash_points::reached(Point::HalfWritten, path);
    file.write_all(second)
}

/// Removes the file at `path` if it exists, then flushes its folder; whether it existed.
pub fn remove_if_present(path: &Path) -> Result<bool, FileError> {
    crash_points::reached(Point::Remove, path);
    match fs::remove_file(path) {
        Ok(()) => {
            sync_dir(&parent_dir(path));
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FileError::io("remove", path, e)),
    }
}

/// Removes the temporary files that [`write_atomically`] left in `dir` when a process
/// writing them was killed (their process is gone: Linux only, elsewhere nothing is
/// removed); how many. Temporary files may hold what the final file would have held, so
/// they must not outlive the crash.
pub fn remove_stale_temporaries(dir: &Path) -> Result<usize, FileError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(FileError::io("read the folder", dir, e)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| FileError::io("remove", &path, e))?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir);
    }
    Ok(removed)
}

/// The process that wrote a temporary file named by [`temp_path`].
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".tmp-")?;
    let (pid, random) = tail.split_once('-')?;
    (random.len() == 16 && random.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Creates `dir` and its parents; on Unix, folders it creates are private to the owner.
/// Each folder it creates is flushed into its parent, so that a file written into it
/// afterwards does not vanish with it in a power loss.
pub fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| FileError::io("create the folder", dir, e))?;
    for created in missing.iter().rev() {
        sync_dir(&parent_dir(created));
    }
    Ok(())
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
    // Errors name the destination: the temporary file is no name a person knows.
    let mut file = private_options()
        .open(temp)
        .map_err(|e| FileError::io("create", path, e))?;
    write_in_halves(&mut file, path, bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| FileError::io("write", path, e))?;
    drop(file);
    crash_points::reached(Point::Written, path);
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
    fn stale_temporaries_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join(".spool.tmp-999999999-0123456789abcdef");
        let mine = temp_path(dir.path(), OsStr::new("wallet"));
        let other = dir.path().join(".x.tmp-12-short");
        for path in [&gone, &mine, &other] {
            write_new(path, b"x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(dir.path()).unwrap(), 1);
        assert!(!gone.exists() && mine.exists() && other.exists());
        assert_eq!(
            remove_stale_temporaries(&dir.path().join("none")).unwrap(),
            0
        );
    }

    #[test]
    fn a_full_disk_is_named() {
        let full = FileError::io("write", Path::new("w"), io::ErrorKind::StorageFull.into());
        assert!(full.is_disk_full());
        assert!(full.to_string().contains("the disk is full"), "{full}");
        assert!(
            !FileError::io("write", Path::new("w"), io::ErrorKind::NotFound.into()).is_disk_full()
        );
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
