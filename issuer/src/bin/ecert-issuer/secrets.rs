//! The department's passphrase (from the terminal, or from the environment for scripts),
//! the key-derivation settings, and the sealed key file (`ECK1`).

use anyhow::{bail, Context, Result};
use ecert_issuer::home::Home;
use ecert_issuer::IssuerKey;
use ecert_schemas::IssuerId;
use ecert_wallet::sealed::{open_secret, seal_secret};
use ecert_wallet::{KdfParams, WalletError};
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::exit::Failure;

/// The environment variable that supplies the passphrase without asking.
pub const PASSPHRASE_ENV: &str = "ECERT_ISSUER_PASSPHRASE";
/// The magic of the sealed key file.
pub const KEY_MAGIC: [u8; 4] = *b"ECK1";
/// TEST ONLY: the environment variable selecting cheap key-derivation settings.
pub const TEST_KDF_ENV: &str = "ECERT_ISSUER_TEST_KDF";
/// Shortest new passphrase accepted, in characters.
const MIN_PASSPHRASE_CHARS: usize = 8;

fn from_env() -> Result<Option<Zeroizing<String>>> {
    match std::env::var_os(PASSPHRASE_ENV) {
        None => Ok(None),
        Some(value) => match value.into_string() {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(_) => bail!("{PASSPHRASE_ENV} is not valid UTF-8 text"),
        },
    }
}

fn prompt(text: &str) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .with_context(|| {
            format!(
                "cannot ask for the passphrase (no terminal?); for scripts, set {PASSPHRASE_ENV}"
            )
        })
}

/// The passphrase of an existing home: from the environment, or asked once.
pub fn existing() -> Result<Zeroizing<String>> {
    match from_env()? {
        Some(p) => Ok(p),
        None => prompt("Department key passphrase: "),
    }
}

/// A new passphrase: from the environment, or asked twice; at least 8 characters.
pub fn new() -> Result<Zeroizing<String>> {
    let passphrase = match from_env()? {
        Some(p) => p,
        None => {
            eprintln!(
                "Choose a passphrase for the department's signing key (at least \
                 {MIN_PASSPHRASE_CHARS} characters). Nobody can recover it if it is forgotten."
            );
            let first = prompt("Department key passphrase: ")?;
            let second = prompt("Repeat the passphrase: ")?;
            if *first != *second {
                return Err(
                    Failure::input("the two passphrases differ; nothing was changed").into(),
                );
            }
            first
        }
    };
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Failure::input(format!(
            "the passphrase must be at least {MIN_PASSPHRASE_CHARS} characters long; nothing was \
             changed"
        ))
        .into());
    }
    Ok(passphrase)
}

/// The Argon2id settings for sealing: 64 MiB, 3 passes.
///
/// TEST ONLY: with `test` (the hidden `--kdf-test` option) or the environment variable
/// `ECERT_ISSUER_TEST_KDF=1`, cheap settings (256 KiB, 1 pass) are used so that tests and
/// throw-away test networks run fast. A key sealed this way is far easier to attack by
/// guessing passphrases; a warning is printed whenever it takes effect.
pub fn kdf_params(test: bool) -> Result<KdfParams> {
    if test || std::env::var_os(TEST_KDF_ENV).is_some_and(|v| v == "1") {
        eprintln!("warning: test-only key encryption settings are in use: never use this home for real certificates");
        return Ok(KdfParams::new(256, 1, 1)?);
    }
    Ok(KdfParams::default())
}

/// Seals a key's seed under `passphrase`.
pub fn seal_key(
    key: &IssuerKey,
    passphrase: &Zeroizing<String>,
    params: KdfParams,
) -> Result<Vec<u8>> {
    let seed = key.seed();
    seal_secret(KEY_MAGIC, seed.as_slice(), passphrase, params, &mut OsRng)
        .context("cannot encrypt the department's key")
}

/// Opens sealed key bytes with `passphrase`.
pub fn open_key(
    sealed: &[u8],
    passphrase: &Zeroizing<String>,
    issuer: IssuerId,
) -> Result<IssuerKey> {
    let secret = open_secret(KEY_MAGIC, sealed, passphrase).map_err(|e| match e {
        WalletError::WrongPassphrase => anyhow::Error::new(Failure::home(
            "cannot open the department's key: wrong passphrase (or the key file is damaged); \
             nothing was changed",
        )),
        other => anyhow::Error::new(Failure::home(format!(
            "cannot open the department's key file: {other}"
        ))),
    })?;
    let mut seed = Zeroizing::new([0u8; 32]);
    if secret.len() != seed.len() {
        return Err(
            Failure::home("the department's key file is damaged (wrong key length)").into(),
        );
    }
    seed.copy_from_slice(&secret);
    Ok(IssuerKey::from_seed(issuer, &seed))
}

/// Asks for the passphrase and opens the home's current key, checking it against the
/// recorded public key.
pub fn unlock(home: &Home, issuer: IssuerId) -> Result<IssuerKey> {
    unlock_keeping_passphrase(home, issuer).map(|(key, _)| key)
}

/// [`unlock`], also returning the passphrase (to seal a new key with it).
pub fn unlock_keeping_passphrase(
    home: &Home,
    issuer: IssuerId,
) -> Result<(IssuerKey, Zeroizing<String>)> {
    let now = crate::commands::now()?;
    if home.promote_due_rotation(now.secs())? {
        eprintln!(
            "The new signing key approved by the ledger took over; the old one is kept in {}.",
            home.dir().join("retired-keys").display()
        );
    }
    let sealed = home.sealed_key()?;
    let expected = home.public_key()?;
    let passphrase = existing()?;
    let key = open_key(&sealed, &passphrase, issuer)?;
    if key.public_key() != expected {
        return Err(Failure::home(format!(
            "the key in {} does not match key.pub: the home is damaged",
            home.key_path().display()
        ))
        .into());
    }
    Ok((key, passphrase))
}
