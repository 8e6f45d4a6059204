//! Passphrases (from the terminal, or from the environment for scripts) and the
//! key-derivation settings used when sealing.

use anyhow::{bail, Context, Result};
use ecert_wallet::KdfParams;
use zeroize::Zeroizing;

/// Shortest new passphrase accepted, in characters.
const MIN_PASSPHRASE_CHARS: usize = 8;

/// One passphrase: where it may come from and what to call it when asking.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// Environment variable that, when set, supplies it without asking.
    pub env: &'static str,
    /// What it is, for prompts and messages ("wallet passphrase").
    pub what: &'static str,
}

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

fn from_env(source: Source) -> Result<Option<Zeroizing<String>>> {
    match std::env::var_os(source.env) {
        None => Ok(None),
        Some(value) => match value.into_string() {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(_) => bail!("{} is not valid UTF-8 text", source.env),
        },
    }
}

fn prompt(text: &str, source: Source) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .with_context(|| {
            format!(
                "cannot ask for the {} (no terminal?); for scripts, set {}",
                source.what, source.env
            )
        })
}

/// An existing passphrase: from the environment, or asked once.
pub fn existing(source: Source) -> Result<Zeroizing<String>> {
    match from_env(source)? {
        Some(p) => Ok(p),
        None => prompt(&format!("{}: ", capitalised(source.what)), source),
    }
}

/// A new passphrase: from the environment, or asked twice; at least 8 characters.
pub fn new(source: Source) -> Result<Zeroizing<String>> {
    let passphrase = match from_env(source)? {
        Some(p) => p,
        None => {
            eprintln!(
                "Choose a {} (at least {MIN_PASSPHRASE_CHARS} characters). Nobody can recover \
                 it if you forget it.",
                source.what
            );
            let first = prompt(&format!("{}: ", capitalised(source.what)), source)?;
            let second = prompt(&format!("Repeat the {}: ", source.what), source)?;
            if *first != *second {
                bail!("the two passphrases differ; nothing was changed");
            }
            first
        }
    };
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        bail!(
            "the {} must be at least {MIN_PASSPHRASE_CHARS} characters long; nothing was changed",
            source.what
        );
    }
    Ok(passphrase)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The Argon2id settings for sealing: [`KdfParams::default`] (64 MiB, 3 passes).
///
/// TEST ONLY: when the environment variable `ECERT_WALLET_TEST_KDF` is `1`, cheap
/// settings (256 KiB, 1 pass) are used instead, so that the command-line tests run in
/// seconds. A wallet sealed this way is far easier to attack by guessing passphrases. The
/// variable is deliberately not documented in `--help` and must never be set by users;
/// a warning is printed whenever it takes effect.
pub fn kdf_params() -> Result<KdfParams> {
    if std::env::var_os("ECERT_WALLET_TEST_KDF").is_some_and(|v| v == "1") {
        eprintln!(
            "warning: ECERT_WALLET_TEST_KDF is set: using weak test-only encryption settings"
        );
        return Ok(KdfParams::new(256, 1, 1)?);
    }
    Ok(KdfParams::default())
}
