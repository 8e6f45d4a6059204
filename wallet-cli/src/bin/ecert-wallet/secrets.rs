//! The wallet's passphrases (read through `ecert-shell`: environment, file, or terminal)
//! and the key-derivation settings used when sealing.

use anyhow::Result;
use ecert_shell::passphrase::{self, Source};
use ecert_wallet::KdfParams;
use zeroize::Zeroizing;

/// The passphrase of the wallet on this device.
pub const WALLET: Source = Source {
    env: "ECERT_WALLET_PASSPHRASE",
    what: "wallet passphrase",
};
/// The new passphrase in `passwd`.
pub const NEW_WALLET: Source = Source {
    env: "ECERT_NEW_WALLET_PASSPHRASE",
    what: "new wallet passphrase",
};
/// The passphrase of a backup file.
pub const BACKUP: Source = Source {
    env: "ECERT_BACKUP_PASSPHRASE",
    what: "backup passphrase",
};

/// An existing passphrase: from the environment, or asked once.
pub fn existing(source: Source) -> Result<Zeroizing<String>> {
    Ok(passphrase::existing(source)?)
}

/// A new passphrase: from the environment, or asked twice; the rules of
/// [`ecert_shell::passphrase`] (8 to 1024 characters, not only spaces).
pub fn new(source: Source) -> Result<Zeroizing<String>> {
    Ok(passphrase::new(source)?)
}

/// A new passphrase replacing `current` (`passwd`): as [`new`], and not the same.
pub fn replacement(source: Source, current: &Zeroizing<String>) -> Result<Zeroizing<String>> {
    Ok(passphrase::replacement(source, current)?)
}

/// The Argon2id settings for sealing (see [`ecert_shell::passphrase::kdf_params`]).
pub fn kdf_params() -> Result<KdfParams> {
    Ok(passphrase::kdf_params(false)?)
}
