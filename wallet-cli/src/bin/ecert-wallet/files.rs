//! Where the wallet lives and how it is read and written: atomic saves (temporary file,
//! fsync, rename), never a half-written wallet, never a silently overwritten one.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand_core::{OsRng, RngCore};

/// Largest file read as a wallet, a backup or a certificate package (64 MiB): far more
/// than any of them needs, and a guard against reading a wrong, huge file.
const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// The wallet file: `--wallet`, else `$ECERT_WALLET`, else `$XDG_DATA_HOME/ecert/wallet.ecw`,
/// else `$HOME/.local/share/ecert/wallet.ecw`.
pub fn wallet_path(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = flag {
        return Ok(path.to_owned());
    }
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(path) = var("ECERT_WALLET") {
        return Ok(PathBuf::from(path));
    }
    // The XDG base directory specification ignores relative paths.
    if let Some(data) = var("XDG_DATA_HOME").map(PathBuf::from) {
        if data.is_absolute() {
            return Ok(data.join("ecert").join("wallet.ecw"));
        }
    }
    if let Some(home) = var("HOME") {
        return Ok(PathBuf::from(home)
            .join(".local")
            .join("share")
            .join("ecert")
            .join("wallet.ecw"));
    }
    bail!("cannot tell where to keep the wallet: give --wallet FILE or set ECERT_WALLET")
}

/// Reads a whole file of at most [`MAX_READ_BYTES`].
pub fn read_limited(path: &Path) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_READ_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_READ_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "file too large"));
    }
    Ok(bytes)
}

/// Reads the wallet file, explaining what to do if there is none.
pub fn read_wallet(path: &Path) -> Result<Vec<u8>> {
    match read_limited(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
            "there is no wallet at {}: create one with 'ecert-wallet init', or restore a \
             backup with 'ecert-wallet restore FILE'",
            path.display()
        ),
        Err(e) => Err(e).with_context(|| format!("cannot read the wallet {}", path.display())),
    }
}

/// How [`write_atomically`] treats an existing file at the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Refuse: the destination must not exist.
    Refuse,
    /// Replace it, atomically.
    Replace,
}

/// Writes `bytes` to `path` so that `path` holds either its old content or all of `bytes`,
/// never a mix: a temporary file beside it (readable by the owner only) is written and
/// flushed to disk, then renamed over `path` (or, with [`Existing::Refuse`], linked to
/// `path`, which fails if `path` exists), and the directory is flushed too.
pub fn write_atomically(path: &Path, bytes: &[u8], existing: Existing) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
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

fn temp_path(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        OsRng.next_u64()
    ));
    dir.join(temp)
}

fn write_then_publish(temp: &Path, path: &Path, bytes: &[u8], existing: Existing) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(temp)
        .with_context(|| format!("cannot create {}", temp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", temp.display()))?;
    drop(file);
    match existing {
        Existing::Replace => {
            fs::rename(temp, path).with_context(|| format!("cannot replace {}", path.display()))?
        }
        Existing::Refuse => {
            // A hard link is created atomically and only if the name is free.
            match fs::hard_link(temp, path) {
                Ok(()) => {
                    let _ = fs::remove_file(temp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    bail!("{} already exists; it was left unchanged", path.display())
                }
                Err(_) => {
                    // File systems without hard links: check, then rename.
                    if path.exists() {
                        bail!("{} already exists; it was left unchanged", path.display());
                    }
                    fs::rename(temp, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
            }
        }
    }
    Ok(())
}

/// Creates `dir` and its parents; on Unix new folders are private to the owner.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Flushes a rename to disk (Unix); elsewhere this is a no-op.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
