//! Where the wallet lives and how it is read: the shared file plumbing of `ecert-shell`
//! (atomic saves, bounded reads) with the wallet's own places and messages.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
pub use ecert_shell::files::{write_atomically, Existing, FileError};
use ecert_shell::paths::DataPlace;

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
