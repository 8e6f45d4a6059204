//! Opening and saving the wallet: the file, the passphrase and the encrypted store
//! together, the holder's history of presentations included.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_wallet::history::History;
use ecert_wallet::{store, WalletContents, WalletError};
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::files::{self, Existing};
use crate::secrets;

/// An opened wallet: where it lives, its passphrase, its decrypted contents and history.
pub struct Wallet {
    /// The wallet file.
    pub path: PathBuf,
    /// The passphrase it was opened with (kept to save it again).
    pub passphrase: Zeroizing<String>,
    /// The key and certificates.
    pub contents: WalletContents,
    /// The presentations made from it, kept in the same file.
    pub history: History,
}

impl Wallet {
    /// Reads the wallet at `path`, asking for its passphrase; refuses it first if other
    /// users could read it or change its folder ([`files::check_wallet`]). A file that is
    /// no wallet at all holds no secret: it is refused as such once it is opened.
    pub fn open(path: PathBuf) -> Result<Wallet> {
        let bytes = files::read_wallet(&path)?;
        if bytes.starts_with(&store::MAGIC) {
            files::check_wallet(&path)?;
        }
        let passphrase = secrets::existing(secrets::WALLET)?;
        let (contents, history) = open_bytes(&bytes, &passphrase, &path, "wallet")?;
        Ok(Wallet {
            path,
            passphrase,
            contents,
            history,
        })
    }

    /// Encrypts the contents and the history again and replaces the wallet file
    /// atomically: a crash leaves the old file or the new one, whole. Temporary
    /// files that an earlier save left beside it when it was killed (encrypted, but
    /// possibly under an old passphrase) are removed first.
    pub fn save(&self) -> Result<()> {
        let bytes = seal(&self.contents, &self.history, &self.passphrase)?;
        let folder = match self.path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        files::remove_stale_temporaries(folder)?;
        Ok(files::write_atomically(
            &self.path,
            &bytes,
            Existing::Replace,
        )?)
    }
}

/// Encrypts `contents` and `history` under `passphrase` with fresh randomness.
pub fn seal(
    contents: &WalletContents,
    history: &History,
    passphrase: &Zeroizing<String>,
) -> Result<Vec<u8>> {
    store::seal_with_history(
        contents,
        history,
        passphrase,
        secrets::kdf_params()?,
        &mut OsRng,
    )
    .context("cannot encrypt the wallet")
}

/// Decrypts the bytes of a wallet or backup file (a file written before the history
/// existed opens with an empty one), with messages for people.
pub fn open_bytes(
    bytes: &[u8],
    passphrase: &Zeroizing<String>,
    path: &Path,
    what: &str,
) -> Result<(WalletContents, History)> {
    store::open_with_history(bytes, passphrase).map_err(|e| match e {
        WalletError::WrongPassphrase => anyhow::anyhow!(
            "cannot open the {what} {}: wrong passphrase (or the file is damaged); nothing \
             was changed",
            path.display()
        ),
        WalletError::NotAWalletFile => {
            anyhow::anyhow!("{} is not an ecert wallet or backup file", path.display())
        }
        other => {
            anyhow::Error::new(other).context(format!("cannot open the {what} {}", path.display()))
        }
    })
}
