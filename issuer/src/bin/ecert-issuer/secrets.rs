//! The department's passphrase ([`ecert_shell::passphrase`]: the terminal, or the
//! environment for scripts), the key-derivation settings, and the sealed key file
//! (`ECK1`, [`ecert_sealed`]).

use anyhow::{Context, Result};
use ecert_issuer::home::Home;
use ecert_issuer::IssuerKey;
use ecert_schemas::IssuerId;
use ecert_sealed::{open_secret, seal_secret, KdfParams, SealError};
use ecert_shell::passphrase::{self, Source};
use ecert_shell::permissions::{self, Folder};
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::exit;

/// The passphrase: `ECERT_ISSUER_PASSPHRASE` (or `..._FILE`) supplies it without asking.
pub const PASSPHRASE: Source = Source {
    env: "ECERT_ISSUER_PASSPHRASE",
    what: "department key passphrase",
};
/// The magic of the sealed key file.
pub const KEY_MAGIC: [u8; 4] = *b"ECK1";

/// The passphrase of an existing home: from the environment, or asked once.
pub fn existing() -> Result<Zeroizing<String>> {
    Ok(passphrase::existing(PASSPHRASE)?)
}

/// A new passphrase: from the environment, or asked twice; the rules of
/// [`ecert_shell::passphrase`] (8 to 1024 characters, not only spaces).
pub fn new() -> Result<Zeroizing<String>> {
    Ok(passphrase::new(PASSPHRASE)?)
}

/// The Argon2id settings for sealing; TEST ONLY: cheap ones with `test` (the hidden
/// `--kdf-test` option) or `ECERT_TEST_KDF=1`.
pub fn kdf_params(test: bool) -> Result<KdfParams> {
    Ok(passphrase::kdf_params(test)?)
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
        SealError::WrongPassphrase => anyhow::Error::new(exit::home(
            "cannot open the department's key: wrong passphrase (or the key file is damaged); \
             nothing was changed",
        )),
        other => anyhow::Error::new(exit::home(format!(
            "cannot open the department's key file: {other}"
        ))),
    })?;
    let mut seed = Zeroizing::new([0u8; 32]);
    if secret.len() != seed.len() {
        return Err(exit::home("the department's key file is damaged (wrong key length)").into());
    }
    seed.copy_from_slice(&secret);
    Ok(IssuerKey::from_seed(issuer, &seed))
}

/// Asks for the passphrase and opens the home's current key, checking it against the
/// recorded public key.
pub fn unlock(home: &Home, issuer: IssuerId) -> Result<IssuerKey> {
    unlock_keeping_passphrase(home, issuer).map(|(key, _)| key)
}

/// Refuses the home, or any of its sealed keys (current, pending, retired), if other users
/// could read or change them ([`ecert_shell::permissions`]: the home `0700`, the keys
/// `0600`, all owned by this user), before anything else is read from it.
pub fn check_private(home: &Home) -> Result<()> {
    permissions::check_home(home.dir())?;
    for path in home.sealed_key_files()? {
        if path.exists() {
            permissions::check_secret_file(&path, Folder::Home)?;
        }
    }
    Ok(())
}

/// [`unlock`], also returning the passphrase (to seal a new key with it).
pub fn unlock_keeping_passphrase(
    home: &Home,
    issuer: IssuerId,
) -> Result<(IssuerKey, Zeroizing<String>)> {
    home.require()?;
    check_private(home)?;
    let now = ecert_shell::clock::now()?;
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
        return Err(exit::home(format!(
            "the key in {} does not match key.pub: the home is damaged",
            home.key_path().display()
        ))
        .into());
    }
    Ok((key, passphrase))
}
