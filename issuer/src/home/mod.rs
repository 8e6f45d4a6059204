//! The department's home folder: its configuration, trust anchor, sealed signing key,
//! status-index counter and issuance register.
//!
//! ```text
//! HOME/                          private to its owner (0700), checked by every command
//!   config.toml                  issuer id, ledger node URL, offer endpoint URL
//!   anchor.toml                  the ledger's trust anchor (same file as ecert-verify's)
//!   key.eck                      the current signing key's seed, sealed with the passphrase
//!   key.pub                      its public key, 64 hex digits (no passphrase needed)
//!   retired-keys/KEYID.eck|.pub  keys replaced by a rotation, kept sealed for audit
//!   pending-key.eck|.pub         the next key, during a rotation (sealed likewise)
//!   pending-rotation.cbor        its governance proposal (CBOR GovernanceBody)
//!   pending-rotation.certified   present once the ledger certified the rotation: the
//!                                second (decimal) from which the pending key takes over
//!   next-status-index            the next unused status index (decimal)
//!   batches/ROOT.json|.cbor      one issuance batch and its certificates' records
//!                                (JSON; compact CBOR above 1,000 certificates)
//!   revocations/TIME-HASH.json   one revocation transaction and what it revoked
//!   offers/open/CODE.offer       an offer not redeemed yet (holds the package)
//!   offers/used/CODE.json        a redeemed offer (the package is no longer kept)
//!   issuing/job.json             an `issue` command not finished yet (see
//!                                `crate::issuance`): its input file and fingerprint,
//!                                options, how many rows are signed; no claim values
//!   issuing/ROOT.spool           a signed batch not delivered yet: its certificates'
//!                                claim values and copies' secrets, deleted once delivered
//!   .lock                        held by a command while it changes the home
//! ```
//!
//! Every file is written atomically ([`ecert_shell::files::write_atomically`]): a crash
//! leaves the old or the new content, never a mix. Nothing here asks for a passphrase or
//! decrypts: the key file is handed over as sealed bytes.
//!
//! Sub-modules: [`rotation`] (the key rotation files), [`records`] (the register's batch
//! and revocation files).

pub mod records;
pub mod rotation;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use ecert_schemas::{IssuerId, PublicKeyBytes};
use ecert_shell::files::{self, create_private_dir, Existing, FileError};
use ecert_verifier::anchor_file::{anchor_to_toml, parse_anchor};
use ecert_verifier::TrustAnchor;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use rotation::PendingRotation;

/// The environment variable naming the home folder.
pub const HOME_ENV: &str = "ECERT_ISSUER_HOME";

const CONFIG_FILE: &str = "config.toml";
const ANCHOR_FILE: &str = "anchor.toml";
const KEY_FILE: &str = "key.eck";
const PUBLIC_KEY_FILE: &str = "key.pub";
const RETIRED_DIR: &str = "retired-keys";
const STATUS_FILE: &str = "next-status-index";
const PENDING_KEY_FILE: &str = "pending-key.eck";
const PENDING_PUBLIC_FILE: &str = "pending-key.pub";
const PENDING_PROPOSAL_FILE: &str = "pending-rotation.cbor";
const PENDING_CERTIFIED_FILE: &str = "pending-rotation.certified";
const BATCHES_DIR: &str = "batches";
const ISSUING_DIR: &str = "issuing";
const REVOCATIONS_DIR: &str = "revocations";
const OFFERS_DIR: &str = "offers";
const LOCK_FILE: &str = ".lock";

/// Largest small file (configuration, anchor, key, record) read from the home: 16 MiB.
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// What can go wrong with the home folder.
#[derive(Debug, Error)]
pub enum HomeError {
    /// No home at this path (or it was never set up).
    #[error(
        "there is no issuer home at {0}: set one up with 'ecert-issuer init --issuer ID', or \
         point to it with --home DIR or {HOME_ENV}"
    )]
    NotSetUp(PathBuf),
    /// `init` found an existing home.
    #[error("{0} already holds an issuer home; it was left unchanged")]
    AlreadyExists(PathBuf),
    /// Another command holds the lock.
    #[error(
        "another ecert-issuer command is changing this home ({0}); wait until it has finished \
         and try again"
    )]
    Busy(PathBuf),
    /// A file of the home cannot be read or written (or one that must not be replaced
    /// already exists).
    #[error(transparent)]
    File(#[from] FileError),
    /// A file of the home has unexpected content.
    #[error("the file {path} is damaged: {detail}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Something needed is not configured yet.
    #[error("{0}")]
    NotConfigured(String),
    /// A value given by the operator is not acceptable.
    #[error("{0}")]
    BadValue(String),
}

pub(crate) fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> HomeError + 'a {
    move |source| {
        HomeError::File(FileError::Io {
            action,
            path: path.to_owned(),
            source,
        })
    }
}

/// [`files::write_atomically`], for the home's files.
pub(crate) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    existing: Existing,
) -> Result<(), HomeError> {
    Ok(files::write_atomically(path, bytes, existing)?)
}

/// Reads a small file of the home (at most 16 MiB).
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>, HomeError> {
    Ok(files::read_limited(path, MAX_RECORD_BYTES)?)
}

/// Reads a small UTF-8 text file of the home.
pub(crate) fn read_text(path: &Path) -> Result<String, HomeError> {
    String::from_utf8(read_limited(path)?).map_err(|_| HomeError::Damaged {
        path: path.to_owned(),
        detail: "not UTF-8 text".into(),
    })
}

/// Removes a file if it exists, its folder flushed ([`files::remove_if_present`]).
pub(crate) fn remove_if_present(path: &Path) -> Result<(), HomeError> {
    files::remove_if_present(path)?;
    Ok(())
}

/// The configuration file `config.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This department's issuer id, as registered in the ledger's genesis.
    pub issuer: String,
    /// The ledger node's client API, e.g. `https://10.1.2.3:7200`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Where citizens reach this department's offer endpoint (`ecert-issuer serve`), e.g.
    /// `http://10.1.2.3:7400`: offer URLs and QR codes are built from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve_url: Option<String>,
}

impl Config {
    /// The issuer id, checked.
    pub fn issuer_id(&self) -> Result<IssuerId, HomeError> {
        IssuerId::new(self.issuer.clone())
            .map_err(|e| HomeError::BadValue(format!("the configured issuer id: {e}")))
    }

    /// The node URL, or a hint to configure it.
    pub fn node_url(&self) -> Result<&str, HomeError> {
        self.node.as_deref().ok_or_else(|| {
            HomeError::NotConfigured(
                "no ledger node is configured: run 'ecert-issuer config --node https://HOST:PORT'"
                    .into(),
            )
        })
    }

    /// The offer endpoint URL, or a hint to configure it.
    pub fn serve_url(&self) -> Result<&str, HomeError> {
        self.serve_url.as_deref().ok_or_else(|| {
            HomeError::NotConfigured(
                "no offer endpoint address is configured: run 'ecert-issuer config --serve-url \
                 https://HOST:PORT' with the address citizens' wallets reach 'ecert-issuer serve' at"
                    .into(),
            )
        })
    }
}

/// Checks and normalises a server address with the one parser of the tools
/// ([`ecert_client::ServerUrl`]): `https://HOST[:PORT]` (or `http://`), without a trailing
/// slash. Whether plain HTTP may be used is decided when it is used (`--insecure-http`).
pub fn check_http_url(what: &str, url: &str) -> Result<String, HomeError> {
    ecert_client::ServerUrl::parse(url)
        .map(|server| server.base().to_owned())
        .map_err(|e| HomeError::BadValue(format!("the {what}: {e}")))
}

/// A lock on the home, released when dropped.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

/// The home folder.
#[derive(Clone, Debug)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// The home at `dir` (nothing is read yet).
    pub fn at(dir: PathBuf) -> Home {
        Home { dir }
    }

    /// The home at `--home`, else `$ECERT_ISSUER_HOME`, else
    /// `$XDG_DATA_HOME/ecert-issuer`, else `$HOME/.local/share/ecert-issuer`.
    pub fn locate(flag: Option<PathBuf>) -> Result<Home, HomeError> {
        let env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        flag.or_else(|| env(HOME_ENV))
            .or_else(|| {
                env("XDG_DATA_HOME")
                    .filter(|p| p.is_absolute())
                    .map(|p| p.join("ecert-issuer"))
            })
            .or_else(|| env("HOME").map(|h| h.join(".local/share/ecert-issuer")))
            .map(Home::at)
            .ok_or_else(|| {
                HomeError::NotConfigured(format!(
                    "cannot tell where the issuer home is: pass --home DIR or set {HOME_ENV}"
                ))
            })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether the home was set up (its configuration exists).
    pub fn exists(&self) -> bool {
        self.path(CONFIG_FILE).exists()
    }

    /// Creates a new home: the folder (private), its sub-folders, the configuration, the
    /// sealed key and its public key, and the status counter at 0. Refuses a folder that
    /// already holds a home or any other file.
    pub fn create(
        &self,
        config: &Config,
        sealed_key: &[u8],
        public_key: &PublicKeyBytes,
    ) -> Result<HomeLock, HomeError> {
        if self.exists() || self.path(KEY_FILE).exists() {
            return Err(HomeError::AlreadyExists(self.dir.clone()));
        }
        if let Ok(mut entries) = fs::read_dir(&self.dir) {
            if entries.next().is_some() {
                return Err(HomeError::BadValue(format!(
                    "{} is not empty: choose a new folder for the issuer home",
                    self.dir.display()
                )));
            }
        }
        create_private_dir(&self.dir)?;
        // An empty folder made beforehand (with the user's default mode) becomes private.
        files::make_private(&self.dir)?;
        let lock = self.lock()?;
        for sub in [
            BATCHES_DIR,
            ISSUING_DIR,
            REVOCATIONS_DIR,
            RETIRED_DIR,
            "offers/open",
            "offers/used",
        ] {
            create_private_dir(&self.path(sub))?;
        }
        write_atomically(&self.path(KEY_FILE), sealed_key, Existing::Refuse)?;
        write_atomically(
            &self.path(PUBLIC_KEY_FILE),
            format!("{}\n", public_key.to_hex()).as_bytes(),
            Existing::Refuse,
        )?;
        write_atomically(&self.path(STATUS_FILE), b"0\n", Existing::Refuse)?;
        // The configuration last: its presence is what makes the home "set up".
        self.write_config(config)?;
        Ok(lock)
    }

    /// Takes the home's lock, or fails at once if another command holds it.
    pub fn lock(&self) -> Result<HomeLock, HomeError> {
        let path = self.path(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io_err("open", &path))?;
        match file.try_lock() {
            Ok(()) => {
                let lock = HomeLock { _file: file };
                self.remove_stale_temporaries()?;
                Ok(lock)
            }
            Err(fs::TryLockError::WouldBlock) => Err(HomeError::Busy(self.dir.clone())),
            Err(fs::TryLockError::Error(e)) => Err(io_err("lock", &path)(e)),
        }
    }

    /// Removes what a command killed while writing left half-written: the temporary files
    /// of its atomic writes (a spool's may hold claim values). Only under the lock, so that
    /// no other command of this home is writing them.
    fn remove_stale_temporaries(&self) -> Result<(), HomeError> {
        for sub in ["", BATCHES_DIR, ISSUING_DIR, REVOCATIONS_DIR, RETIRED_DIR] {
            files::remove_stale_temporaries(&self.path(sub))?;
        }
        Ok(())
    }

    /// Fails with [`HomeError::NotSetUp`] unless the home exists.
    pub fn require(&self) -> Result<(), HomeError> {
        if self.exists() {
            Ok(())
        } else {
            Err(HomeError::NotSetUp(self.dir.clone()))
        }
    }

    /// The configuration.
    pub fn config(&self) -> Result<Config, HomeError> {
        self.require()?;
        let path = self.path(CONFIG_FILE);
        let text = read_text(&path)?;
        let config: Config = toml::from_str(&text).map_err(|e| HomeError::Damaged {
            path: path.clone(),
            detail: e.message().to_owned(),
        })?;
        config.issuer_id().map_err(|e| HomeError::Damaged {
            path,
            detail: e.to_string(),
        })?;
        Ok(config)
    }

    /// Replaces the configuration.
    pub fn write_config(&self, config: &Config) -> Result<(), HomeError> {
        let body = toml::to_string(config).map_err(|e| HomeError::BadValue(e.to_string()))?;
        let text =
            format!("# ecert-issuer configuration. Change it with 'ecert-issuer config'.\n{body}");
        write_atomically(&self.path(CONFIG_FILE), text.as_bytes(), Existing::Replace)
    }

    /// The trust anchor, if one was set.
    pub fn anchor(&self) -> Result<Option<TrustAnchor>, HomeError> {
        let path = self.path(ANCHOR_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = read_text(&path)?;
        parse_anchor(&text)
            .map(Some)
            .map_err(|e| HomeError::Damaged {
                path,
                detail: e.to_string(),
            })
    }

    /// The trust anchor, or a hint to set it.
    pub fn require_anchor(&self) -> Result<TrustAnchor, HomeError> {
        self.anchor()?.ok_or_else(|| {
            HomeError::NotConfigured(
                "no trust anchor is set: run 'ecert-issuer set-anchor FILE' with the anchor \
                 file of the ledger's genesis"
                    .into(),
            )
        })
    }

    /// Stores the trust anchor.
    pub fn write_anchor(&self, anchor: &TrustAnchor) -> Result<(), HomeError> {
        let text = anchor_to_toml(
            anchor,
            "The ledger this department anchors on (set by ecert-issuer).",
        );
        write_atomically(&self.path(ANCHOR_FILE), text.as_bytes(), Existing::Replace)
    }

    /// The sealed key file's bytes.
    pub fn sealed_key(&self) -> Result<Vec<u8>, HomeError> {
        self.require()?;
        read_limited(&self.path(KEY_FILE))
    }

    /// Where the sealed key is kept.
    pub fn key_path(&self) -> PathBuf {
        self.path(KEY_FILE)
    }

    /// Every file of the home that keeps a key sealed: the current key, the next one while
    /// a rotation is pending, and the retired ones (`retired-keys/*.eck`), for checking who
    /// may read them.
    pub fn sealed_key_files(&self) -> Result<Vec<PathBuf>, HomeError> {
        let mut keys = vec![self.key_path()];
        let pending = self.path(PENDING_KEY_FILE);
        if pending.exists() {
            keys.push(pending);
        }
        keys.extend(self.retired_files("eck")?);
        Ok(keys)
    }

    /// The files of retired keys (`retired-keys/*.EXTENSION`: `eck` sealed keys, `pub`
    /// public keys), sorted; none if there are none.
    pub(crate) fn retired_files(&self, extension: &str) -> Result<Vec<PathBuf>, HomeError> {
        let retired = self.path(RETIRED_DIR);
        let entries = match fs::read_dir(&retired) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read", &retired)(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(io_err("read", &retired))?.path();
            if path.extension().is_some_and(|e| e == extension) {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// The current public key (from `key.pub`, no passphrase needed).
    pub fn public_key(&self) -> Result<PublicKeyBytes, HomeError> {
        self.require()?;
        let path = self.path(PUBLIC_KEY_FILE);
        let text = read_text(&path)?;
        PublicKeyBytes::from_hex(text.trim()).map_err(|e| HomeError::Damaged {
            path,
            detail: e.to_string(),
        })
    }

    /// The next unused status index.
    pub fn next_status_index(&self) -> Result<u32, HomeError> {
        let path = self.path(STATUS_FILE);
        let text = read_text(&path)?;
        text.trim().parse().map_err(|_| HomeError::Damaged {
            path,
            detail: "expected a whole number".into(),
        })
    }

    /// How many status indexes are left to hand out (each copy of a certificate takes
    /// one).
    pub fn status_indexes_left(&self) -> Result<u64, HomeError> {
        let next = u64::from(self.next_status_index()?);
        Ok((u64::from(ecert_schemas::ledger::MAX_STATUS_INDEX) + 1).saturating_sub(next))
    }

    /// Reserves `count` status indexes: returns the first and records the new next index
    /// durably before returning, so an index is never handed out twice.
    pub fn reserve_status_indexes(&self, count: u32) -> Result<u32, HomeError> {
        let first = self.next_status_index()?;
        let next = first
            .checked_add(count)
            .filter(|n| n.saturating_sub(1) <= ecert_schemas::ledger::MAX_STATUS_INDEX)
            .ok_or_else(|| {
                HomeError::BadValue(format!(
                    "this department's status list is full: {count} more status indexes (one \
                     per copy of each certificate) would go past the last status index {}",
                    ecert_schemas::ledger::MAX_STATUS_INDEX
                ))
            })?;
        write_atomically(
            &self.path(STATUS_FILE),
            format!("{next}\n").as_bytes(),
            Existing::Replace,
        )?;
        Ok(first)
    }

    /// The offers folder.
    pub fn offers_dir(&self) -> PathBuf {
        self.path(OFFERS_DIR)
    }

    /// The folder of the issuance in progress (`issuing/`), created if missing.
    pub fn issuing_dir(&self) -> Result<PathBuf, HomeError> {
        let dir = self.path(ISSUING_DIR);
        create_private_dir(&dir)?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_schemas::KeyId;
    use rand_core::{OsRng, RngCore};

    fn temp_home(name: &str) -> Home {
        let dir = std::env::temp_dir().join(format!(
            "ecert-issuer-home-{name}-{}-{:x}",
            std::process::id(),
            OsRng.next_u64()
        ));
        Home::at(dir)
    }

    fn config() -> Config {
        Config {
            issuer: "justice".into(),
            node: None,
            serve_url: None,
        }
    }

    #[test]
    fn create_refuses_an_existing_home_and_counts_status_indexes() {
        let home = temp_home("create");
        let lock = home
            .create(&config(), b"sealed", &PublicKeyBytes([1; 32]))
            .unwrap();
        assert!(matches!(home.lock(), Err(HomeError::Busy(_))));
        drop(lock);
        assert!(matches!(
            home.create(&config(), b"x", &PublicKeyBytes([1; 32])),
            Err(HomeError::AlreadyExists(_))
        ));
        assert_eq!(home.config().unwrap(), config());
        assert_eq!(home.public_key().unwrap(), PublicKeyBytes([1; 32]));
        assert_eq!(home.reserve_status_indexes(3).unwrap(), 0);
        assert_eq!(home.reserve_status_indexes(2).unwrap(), 3);
        assert_eq!(home.next_status_index().unwrap(), 5);
        assert_eq!(
            home.status_indexes_left().unwrap(),
            u64::from(ecert_schemas::ledger::MAX_STATUS_INDEX) + 1 - 5
        );
        assert!(home.anchor().unwrap().is_none());
        assert_eq!(home.sealed_key_files().unwrap(), vec![home.key_path()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(home.dir()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        fs::remove_dir_all(home.dir()).unwrap();
    }

    #[test]
    fn a_certified_rotation_takes_over_when_due() {
        let home = temp_home("rotate");
        let old = PublicKeyBytes([1; 32]);
        let new = PublicKeyBytes([2; 32]);
        drop(home.create(&config(), b"old sealed", &old).unwrap());
        assert!(!home.promote_due_rotation(100).unwrap());
        home.write_pending_rotation(b"new sealed", &new, b"proposal")
            .unwrap();
        assert!(home
            .write_pending_rotation(b"again", &new, b"proposal")
            .is_err());
        assert!(
            !home.promote_due_rotation(100).unwrap(),
            "not certified yet"
        );
        assert!(home.cancel_pending_rotation().unwrap());
        assert!(home.pending_rotation().unwrap().is_none());
        home.write_pending_rotation(b"new sealed", &new, b"proposal")
            .unwrap();
        home.mark_rotation_certified(50).unwrap();
        assert_eq!(
            home.pending_rotation().unwrap().unwrap().takes_over,
            Some(50)
        );
        assert!(!home.promote_due_rotation(49).unwrap(), "not due yet");
        assert!(
            home.cancel_pending_rotation().is_err(),
            "certified: too late"
        );
        assert!(home.promote_due_rotation(50).unwrap());
        assert_eq!(home.public_key().unwrap(), new);
        assert_eq!(home.sealed_key().unwrap(), b"new sealed");
        assert!(home.pending_rotation().unwrap().is_none());
        let old_id = KeyId::of(&old).to_hex();
        let retired = home.dir().join(RETIRED_DIR);
        assert_eq!(
            fs::read(retired.join(format!("{old_id}.eck"))).unwrap(),
            b"old sealed"
        );
        assert!(retired.join(format!("{old_id}.rotation.cbor")).exists());
        assert_eq!(
            home.sealed_key_files().unwrap(),
            vec![home.key_path(), retired.join(format!("{old_id}.eck"))]
        );
        fs::remove_dir_all(home.dir()).unwrap();
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            check_http_url("node", "http://127.0.0.1:7300/").unwrap(),
            "http://127.0.0.1:7300"
        );
        assert_eq!(
            check_http_url("node", "HTTPS://node.example:8443/").unwrap(),
            "https://node.example:8443"
        );
        assert!(check_http_url("node", "ftp://x").is_err());
        assert!(check_http_url("node", "http://").is_err());
    }
}
