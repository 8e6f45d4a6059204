//! Where the wallet lives and how it is read: the shared file plumbing of `ecert-shell`
//! (atomic saves, bounded reads) with the wallet's own places and messages.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
pub use ecert_shell::files::{
    remove_if_present, remove_stale_temporaries, write_atomically, Existing, FileError,
};
use ecert_shell::paths::DataPlace;
use ecert_shell::permissions::{self, Folder, PermissionError};

/// Largest file read as a wallet, a backup, a trust anchor or a certificate package.
const MAX_READ_BYTES: u64 = ecert_shell::files::MAX_READ_BYTES;

/// The wallet file: `--wallet`, else `$ECERT_WALLET`, else `$XDG_DATA_HOME/ecert/wallet.ecw`,
/// else `$HOME/.local/share/ecert/wallet.ecw`.
const WALLET: DataPlace = DataPlace {
    what: "wallet",
    flag: "--wallet FILE",
    env: "ECERT_WALLET",
    name: "ecert/wallet.ecw",
};

/// The wallet file: `--wallet`, else `$ECERT_WALLET`, else `$XDG_DATA_HOME/ecert/wallet.ecw`,
/// else `$HOME/.local/share/ecert/wallet.ecw`.
pub fn wallet_path(flag: Option<&Path>) -> Result<PathBuf> {
    Ok(WALLET.resolve(flag.map(Path::to_owned))?)
}

/// Reads a whole file of at most 64 MiB.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, FileError> {
    ecert_shell::files::read_limited(path, MAX_READ_BYTES)
}

/// Reads the wallet file, explaining what to do if there is none.
pub fn read_wallet(path: &Path) -> Result<Vec<u8>> {
    match read_limited(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.is_not_found() => bail!(
            "there is no wallet at {}: create one with 'ecert-wallet init', or restore a \
             backup with 'ecert-wallet restore FILE'",
            path.display()
        ),
        Err(e) => Err(e).with_context(|| format!("cannot read the wallet {}", path.display())),
    }
}

/// Refuses the wallet at `path` if other users could read it or change its folder
/// ([`ecert_shell::permissions`]: the file `0600`, owned by this user; its folder, which
/// the user chose, not writable by others). The file must exist: read it first.
pub fn check_wallet(path: &Path) -> Result<(), PermissionError> {
    permissions::check_secret_file(path, Folder::Chosen)
}

/// Before a new wallet is written to `path`: refuses a folder that others could change
/// (a missing folder is created private to this user when the wallet is written).
pub fn check_new_wallet_folder(path: &Path) -> Result<(), PermissionError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.exists() {
        return Ok(());
    }
    permissions::check_folder(dir, Folder::Chosen)
}
