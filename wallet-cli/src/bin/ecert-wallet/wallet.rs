//! Opening and saving the wallet: the file, the passphrase and the encrypted store
//! together.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_wallet::{store, WalletContents, WalletError};
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::files::{self, Existing};
use crate::secrets;

/// An opened wallet: where it lives, its passphrase and its decrypted contents.
pub struct Wallet {
    /// The wallet file.
    pub path: PathBuf,
    /// The passphrase it was opened with (kept to save it again).
    pub passphrase: Zeroizing<String>,
    /// The key and certificates.
    pub contents: WalletContents,
}

impl Wallet {
    /// Reads the wallet at `path`, asking for its passphrase.
    pub fn open(path: PathBuf) -> Result<Wallet> {
        let bytes = files::read_wallet(&path)?;
        let passphrase = secrets::existing(secrets::WALLET)?;
        let contents = open_bytes(&bytes, &passphrase, &path, "wallet")?;
        Ok(Wallet {
            path,
            passphrase,
            contents,
        })
    }

    /// Encrypts the contents again and replaces the wallet file atomically.
    pub fn save(&self) -> Result<()> {
        let bytes = seal(&self.contents, &self.passphrase)?;
        Ok(files::write_atomically(
            &self.path,
            &bytes,
            Existing::Replace,
        )?)
    }
}

/// Encrypts `contents` under `passphrase` with fresh randomness.
pub fn seal(contents: &WalletContents, passphrase: &Zeroizing<String>) -> Result<Vec<u8>> {
    store::seal(contents, passphrase, secrets::kdf_params()?, &mut OsRng)
        .context("cannot encrypt the wallet")
}

/// Decrypts the bytes of a wallet or backup file, with messages for people.
pub fn open_bytes(
    bytes: &[u8],
    passphrase: &Zeroizing<String>,
    path: &Path,
    what: &str,
) -> Result<WalletContents> {
    store::open(bytes, passphrase).map_err(|e| match e {
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
