//! The node's home folder: `node.key` (the validator key, sealed under the operator's
//! passphrase with Argon2id + XChaCha20-Poly1305), `node.pub` (the public key, hex),
//! `node.toml` (the department), and `data/` (RocksDB).
//!
//! The home and the key file are private to the node's user (`0700`, `0600`): `init`
//! creates them so, and the key is not opened, nor its passphrase asked for, while other
//! users could read or change either ([`ecert_shell::permissions`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ecert_sealed::{open_secret, seal_secret};
use ecert_shell::files::{self, read_limited, read_text_limited, FileError};
use ecert_shell::passphrase::{self, Source};
use ecert_shell::permissions::{self, Folder};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use zeroize::Zeroizing;

/// File magic of a sealed node key.
const KEY_MAGIC: [u8; 4] = *b"ECN1";
const KEY_FILE: &str = "node.key";
const PUB_FILE: &str = "node.pub";
const CONFIG_FILE: &str = "node.toml";
/// Largest key or public-key file read.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The node key's passphrase.
const PASSPHRASE: Source = Source {
    env: "ECERT_NODE_PASSPHRASE",
    what: "node key passphrase",
};

/// Creates the home and the key; returns the public key (hex).
pub fn init(home: &Path, department: &str) -> Result<String> {
    if home.join(KEY_FILE).exists() {
        bail!(
            "{} already holds a node key; refusing to replace it",
            home.display()
        );
    }
    ecert_schemas::IssuerId::new(department.to_owned())
        .with_context(|| format!("--department {department}: not a department id"))?;
    let pass = passphrase::new(PASSPHRASE)?;
    files::create_private_dir(home)?;
    files::make_private(home)?;
    let key = SigningKey::generate(&mut OsRng);
    let seed = Zeroizing::new(key.to_bytes());
    let sealed = seal_secret(
        KEY_MAGIC,
        seed.as_slice(),
        &pass,
        passphrase::kdf_params(false)?,
        &mut OsRng,
    )?;
    let public = ecert_verifier::crypto::public_key(&key).to_hex();
    files::write_new(
        &home.join(CONFIG_FILE),
        format!("department = \"{department}\"\n").as_bytes(),
    )?;
    files::write_new(&home.join(PUB_FILE), format!("{public}\n").as_bytes())?;
    files::write_new(&home.join(KEY_FILE), &sealed)?;
    Ok(public)
}

/// The file `name` of the home, of at most [`MAX_KEY_FILE_BYTES`], with `read`; the
/// error names the file and says what to do if this is no node home.
fn read_home_file<T>(
    home: &Path,
    name: &str,
    read: fn(&Path, u64) -> Result<T, FileError>,
) -> Result<(PathBuf, T)> {
    let path = home.join(name);
    let content = read(&path, MAX_KEY_FILE_BYTES).with_context(|| {
        format!(
            "cannot read {} (is this a node home? run `ecert-node init`)",
            path.display()
        )
    })?;
    Ok((path, content))
}

/// The public key (hex) stored beside the sealed key.
pub fn public_key(home: &Path) -> Result<String> {
    let (_, text) = read_home_file(home, PUB_FILE, read_text_limited)?;
    Ok(text.trim().to_owned())
}

/// Refuses the home and its key file if other users could read or change them (the home
/// `0700`, `node.key` `0600`, both owned by this user): `run` and `approve` check this
/// first, before reading anything else. A home without a key is left to [`open_key`],
/// which says what to do.
pub fn check_private(home: &Path) -> Result<()> {
    let key = home.join(KEY_FILE);
    if key.exists() {
        permissions::check_secret_file(&key, Folder::Home)?;
    }
    Ok(())
}

/// Opens the sealed validator key; refuses it, before asking for the passphrase, if other
/// users could read or change the key file or the home.
pub fn open_key(home: &Path) -> Result<SigningKey> {
    let (path, sealed) = read_home_file(home, KEY_FILE, read_limited)?;
    permissions::check_secret_file(&path, Folder::Home)?;
    let pass = passphrase::existing(PASSPHRASE)?;
    let seed = open_secret(KEY_MAGIC, &sealed, &pass)
        .with_context(|| format!("cannot open the node key {}", path.display()))?;
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} does not hold an Ed25519 key", path.display()))?;
    Ok(SigningKey::from_bytes(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles only for types that wipe their secret when dropped.
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}

    #[test]
    fn the_validator_key_and_its_seed_are_zeroized_on_drop() {
        // `ed25519-dalek`'s `zeroize` feature, on for the whole workspace.
        zeroized_on_drop::<SigningKey>();
        zeroized_on_drop::<Zeroizing<[u8; 32]>>();
        zeroized_on_drop::<Zeroizing<Vec<u8>>>();
    }
}
