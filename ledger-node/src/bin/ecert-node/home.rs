//! The node's home folder: `node.key` (the validator key, sealed under the operator's
//! passphrase with Argon2id + XChaCha20-Poly1305), `node.pub` (the public key, hex),
//! `node.toml` (the department), and `data/` (RocksDB).

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use ecert_wallet::sealed::{open_secret, seal_secret};
use ecert_wallet::KdfParams;
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use zeroize::Zeroizing;

/// File magic of a sealed node key.
const KEY_MAGIC: [u8; 4] = *b"ECN1";
const KEY_FILE: &str = "node.key";
const PUB_FILE: &str = "node.pub";
const CONFIG_FILE: &str = "node.toml";
const PASSPHRASE_ENV: &str = "ECERT_NODE_PASSPHRASE";
const MIN_PASSPHRASE_CHARS: usize = 8;

fn passphrase(confirm: bool) -> Result<Zeroizing<String>> {
    let pass = match std::env::var_os(PASSPHRASE_ENV) {
        Some(v) => Zeroizing::new(
            v.into_string()
                .map_err(|_| anyhow::anyhow!("{PASSPHRASE_ENV} is not valid UTF-8 text"))?,
        ),
        None => {
            let ask = |text: &str| {
                rpassword::prompt_password(text).map(Zeroizing::new).with_context(|| {
                    format!("cannot ask for the node key passphrase (no terminal?); for scripts, set {PASSPHRASE_ENV}")
                })
            };
            let first = ask("Node key passphrase: ")?;
            if confirm {
                let second = ask("Repeat the node key passphrase: ")?;
                if *first != *second {
                    bail!("the two passphrases differ; nothing was created");
                }
            }
            first
        }
    };
    if confirm && pass.chars().count() < MIN_PASSPHRASE_CHARS {
        bail!("the passphrase must be at least {MIN_PASSPHRASE_CHARS} characters long");
    }
    Ok(pass)
}

/// Argon2id settings: the default (64 MiB, 3 passes). TEST ONLY: `ECERT_NODE_TEST_KDF=1`
/// selects cheap settings so that tests start nodes quickly; never set it for real nodes.
fn kdf() -> Result<KdfParams> {
    if std::env::var_os("ECERT_NODE_TEST_KDF").is_some_and(|v| v == "1") {
        eprintln!("warning: ECERT_NODE_TEST_KDF is set: weak test-only key encryption");
        return Ok(KdfParams::new(256, 1, 1)?);
    }
    Ok(KdfParams::default())
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

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
    let pass = passphrase(true)?;
    fs::create_dir_all(home).with_context(|| format!("cannot create {}", home.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(home, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", home.display()))?;
    }
    let key = SigningKey::generate(&mut OsRng);
    let seed = Zeroizing::new(key.to_bytes());
    let sealed = seal_secret(KEY_MAGIC, seed.as_slice(), &pass, kdf()?, &mut OsRng)?;
    let public = ecert_verifier::crypto::public_key(&key).to_hex();
    write_new(
        &home.join(CONFIG_FILE),
        format!("department = \"{department}\"\n").as_bytes(),
    )?;
    write_new(&home.join(PUB_FILE), format!("{public}\n").as_bytes())?;
    write_new(&home.join(KEY_FILE), &sealed)?;
    Ok(public)
}

/// The public key (hex) stored beside the sealed key.
pub fn public_key(home: &Path) -> Result<String> {
    let path = home.join(PUB_FILE);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (is this a node home? run `ecert-node init`)",
            path.display()
        )
    })?;
    Ok(text.trim().to_owned())
}

/// Opens the sealed validator key.
pub fn open_key(home: &Path) -> Result<SigningKey> {
    let path = home.join(KEY_FILE);
    let sealed = fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (is this a node home? run `ecert-node init`)",
            path.display()
        )
    })?;
    let pass = passphrase(false)?;
    let seed = open_secret(KEY_MAGIC, &sealed, &pass)
        .with_context(|| format!("cannot open the node key {}", path.display()))?;
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} does not hold an Ed25519 key", path.display()))?;
    Ok(SigningKey::from_bytes(seed))
}
