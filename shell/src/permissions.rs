//! Who may use a file that keeps a secret, and the folder it is kept in.
//!
//! A wallet, a department's signing key and a node's validator key are sealed under a
//! passphrase, but a sealed file that other users can copy can be attacked by guessing
//! passphrases at leisure, and a folder that others can change lets them replace what is
//! in it. Every tool checks, before it uses such a file:
//!
//! - the file ([`check_secret_file`]): owned by the user running the tool, with no access
//!   at all for group or others (fix: `chmod 600 FILE`);
//! - a home of the tool's own ([`Folder::Home`]: an issuer or node home, which holds keys,
//!   records and delivered certificates): owned by the user, no access for group or
//!   others (fix: `chmod 700 DIR`);
//! - a folder the user chose for one secret file ([`Folder::Chosen`]: the wallet's, which
//!   may be any folder of theirs): owned by the user (or by the system, user id 0) and not
//!   writable by group or others, so nobody else can replace or remove what is in it
//!   (fix: `chmod go-w DIR`).
//!
//! A refusal is a [`PermissionError`] whose message names the path, the mode found and the
//! command that fixes it. The tools create their files and folders this way
//! ([`crate::files`]), so only a file copied, unpacked or changed by hand is ever refused.
//!
//! Elsewhere than on Unix there are no such modes: every check here passes, and access is
//! left to the platform's own access lists.

// Elsewhere than on Unix the rule below is only used by the tests.
#![cfg_attr(not(unix), allow(dead_code))]

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The folder a secret file is kept in, and how strictly it is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folder {
    /// A home of the tool's own (an issuer's or a node's): nobody else may read, enter or
    /// change it (`0700`).
    Home,
    /// A folder the user chose for one secret file (the wallet's): nobody else may change
    /// it (no write access for group or others); reading its list of names is allowed.
    Chosen,
}

/// A secret file or its folder that other users could read or change.
#[derive(Debug, Error)]
pub enum PermissionError {
    /// Group or others have access they must not have.
    #[error(
        "{path} is open to other users (mode {mode:04o}: they can {access} it) and it holds \
         {holds}, so it was not used; fix it with: {fix}"
    )]
    TooOpen {
        /// The file or folder.
        path: PathBuf,
        /// Its permission bits, as `ls -l` shows them in octal (e.g. `0644`).
        mode: u32,
        /// What group or others can do with it ("read", "read and change", ...).
        access: String,
        /// What it holds ("a secret", "secrets", "a secret file").
        holds: &'static str,
        /// The command that fixes it (`chmod 600 PATH`, `chmod 700 PATH`, `chmod go-w PATH`).
        fix: String,
    },
    /// Another user owns it.
    #[error(
        "{path} belongs to another user (user id {owner}; this command runs as user id {me}), \
         so it was not used; run the command as its owner, or make it yours with: {fix}"
    )]
    NotOwned {
        /// The file or folder.
        path: PathBuf,
        /// Its owner's user id.
        owner: u32,
        /// The user id this process runs as.
        me: u32,
        /// The command that fixes it (`sudo chown ME PATH`).
        fix: String,
    },
    /// Its permissions could not be read.
    #[error("cannot check who may use {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
}

/// What is checked: a secret file, or a folder under one of the [`Folder`] rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Folder(Folder),
}

impl Kind {
    /// The mode bits group and others must not have.
    fn forbidden(self) -> u32 {
        match self {
            Kind::File | Kind::Folder(Folder::Home) => 0o077,
            Kind::Folder(Folder::Chosen) => 0o022,
        }
    }

    /// The `chmod` arguments that remove the forbidden bits.
    fn chmod(self) -> &'static str {
        match self {
            Kind::File => "600",
            Kind::Folder(Folder::Home) => "700",
            Kind::Folder(Folder::Chosen) => "go-w",
        }
    }

    fn holds(self) -> &'static str {
        match self {
            Kind::File => "a secret",
            Kind::Folder(Folder::Home) => "secrets",
            Kind::Folder(Folder::Chosen) => "a secret file",
        }
    }

    /// Whether the system (user id 0) may own it as well as the user.
    fn root_may_own(self) -> bool {
        self == Kind::Folder(Folder::Chosen)
    }
}

/// Checks a secret file and the folder it is in (under the `folder` rule): both owned by
/// this user, the file with no access for group or others, the folder as [`Folder`] says.
/// The folder is checked first, since whoever may change it may replace the file.
///
/// A file that does not exist is an error ([`PermissionError::Io`]); read the file first
/// to give a better message for a missing one.
pub fn check_secret_file(path: &Path, folder: Folder) -> Result<(), PermissionError> {
    check_folder(&parent_dir(path), folder)?;
    check(path, Kind::File)
}

/// Checks a folder that holds secrets under the `folder` rule.
pub fn check_folder(dir: &Path, folder: Folder) -> Result<(), PermissionError> {
    check(dir, Kind::Folder(folder))
}

/// Checks a home of the tool's own ([`Folder::Home`]): owned by this user, no access for
/// group or others.
pub fn check_home(dir: &Path) -> Result<(), PermissionError> {
    check_folder(dir, Folder::Home)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn check(path: &Path, kind: Kind) -> Result<(), PermissionError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|source| PermissionError::Io {
        path: path.to_owned(),
        source,
    })?;
    let me = rustix::process::geteuid().as_raw();
    judge(path, kind, meta.mode(), meta.uid(), me)
}

/// Not Unix: no modes to check (see the module's documentation).
#[cfg(not(unix))]
fn check(path: &Path, kind: Kind) -> Result<(), PermissionError> {
    let _ = (path, kind);
    Ok(())
}

/// The rule itself, on a mode and owner as read from the file system.
fn judge(path: &Path, kind: Kind, mode: u32, owner: u32, me: u32) -> Result<(), PermissionError> {
    if owner != me && !(owner == 0 && kind.root_may_own()) {
        return Err(PermissionError::NotOwned {
            path: path.to_owned(),
            owner,
            me,
            fix: format!("sudo chown {me} {}", quoted(path)),
        });
    }
    let open = mode & kind.forbidden();
    if open != 0 {
        return Err(PermissionError::TooOpen {
            path: path.to_owned(),
            mode: mode & 0o7777,
            access: access(open, kind),
            holds: kind.holds(),
            fix: format!("chmod {} {}", kind.chmod(), quoted(path)),
        });
    }
    Ok(())
}

/// What group or others can do, from the bits they have: "read", "read and change", ...
fn access(bits: u32, kind: Kind) -> String {
    let mut can = Vec::new();
    if bits & 0o044 != 0 {
        can.push("read");
    }
    if bits & 0o022 != 0 {
        can.push("change");
    }
    if bits & 0o011 != 0 {
        can.push(if kind == Kind::File { "run" } else { "enter" });
    }
    match can.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The path as a shell word: as it is when it holds only safe characters, else in single
/// quotes.
fn quoted(path: &Path) -> String {
    let text = path.to_string_lossy();
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c));
    if safe {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_for_files_homes_and_chosen_folders() {
        let p = Path::new("/srv/ecert/key");
        for mode in [0o100600, 0o100400, 0o100700] {
            assert!(judge(p, Kind::File, mode, 7, 7).is_ok(), "{mode:o}");
        }
        let err = judge(p, Kind::File, 0o100644, 7, 7).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/srv/ecert/key is open to other users (mode 0644: they can read it) and it holds \
             a secret, so it was not used; fix it with: chmod 600 /srv/ecert/key"
        );
        let err = judge(p, Kind::File, 0o100666, 7, 7).unwrap_err();
        assert!(
            err.to_string().contains("they can read and change it"),
            "{err}"
        );
        let err = judge(p, Kind::File, 0o100610, 7, 7).unwrap_err();
        assert!(
            err.to_string().contains("mode 0610: they can run it"),
            "{err}"
        );

        let home = Path::new("/srv/ecert");
        assert!(judge(home, Kind::Folder(Folder::Home), 0o40700, 7, 7).is_ok());
        let err = judge(home, Kind::Folder(Folder::Home), 0o40755, 7, 7).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/srv/ecert is open to other users (mode 0755: they can read and enter it) and it \
             holds secrets, so it was not used; fix it with: chmod 700 /srv/ecert"
        );
        let err = judge(home, Kind::Folder(Folder::Home), 0o40777, 7, 7).unwrap_err();
        assert!(err.to_string().contains("read, change and enter"), "{err}");

        let chosen = Kind::Folder(Folder::Chosen);
        assert!(judge(home, chosen, 0o40755, 7, 7).is_ok());
        assert!(
            judge(home, chosen, 0o40750, 0, 7).is_ok(),
            "owned by the system"
        );
        let err = judge(home, chosen, 0o41777, 7, 7).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/srv/ecert is open to other users (mode 1777: they can change it) and it holds \
             a secret file, so it was not used; fix it with: chmod go-w /srv/ecert"
        );
    }

    #[test]
    fn another_owner_is_refused() {
        let p = Path::new("/srv/ecert/key");
        let err = judge(p, Kind::File, 0o100600, 1001, 1000).unwrap_err();
        assert!(matches!(
            err,
            PermissionError::NotOwned {
                owner: 1001,
                me: 1000,
                ..
            }
        ));
        assert!(
            err.to_string()
                .ends_with("make it yours with: sudo chown 1000 /srv/ecert/key"),
            "{err}"
        );
        // The system may own a chosen folder, not a file or a home.
        assert!(judge(p, Kind::File, 0o100600, 0, 1000).is_err());
        assert!(judge(p, Kind::Folder(Folder::Home), 0o40700, 0, 1000).is_err());
    }

    #[test]
    fn paths_in_the_fix_are_quoted_when_needed() {
        assert_eq!(quoted(Path::new("/a/b-c_d.e")), "/a/b-c_d.e");
        assert_eq!(quoted(Path::new("/my keys/k")), "'/my keys/k'");
        assert_eq!(quoted(Path::new("/it's")), r"'/it'\''s'");
        assert_eq!(quoted(Path::new("")), "''");
    }

    #[cfg(unix)]
    #[test]
    fn files_and_folders_on_disk() {
        use std::fs;
        use std::os::unix::fs::PermissionsExt;
        let set = |p: &Path, mode: u32| {
            fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
        };
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        crate::files::create_private_dir(&home).unwrap();
        let key = home.join("key");
        crate::files::write_new(&key, b"sealed").unwrap();
        // What the tools create passes.
        check_home(&home).unwrap();
        check_secret_file(&key, Folder::Home).unwrap();

        set(&key, 0o644);
        let err = check_secret_file(&key, Folder::Home).unwrap_err();
        assert!(matches!(err, PermissionError::TooOpen { mode: 0o644, .. }));
        assert!(err
            .to_string()
            .contains(&format!("chmod 600 {}", key.display())));
        set(&key, 0o600);

        set(&home, 0o755);
        let err = check_secret_file(&key, Folder::Home).unwrap_err();
        assert!(err
            .to_string()
            .contains(&format!("chmod 700 {}", home.display())));
        // A chosen folder may be listed by others, not changed.
        check_secret_file(&key, Folder::Chosen).unwrap();
        set(&home, 0o775);
        let err = check_secret_file(&key, Folder::Chosen).unwrap_err();
        assert!(err
            .to_string()
            .contains(&format!("chmod go-w {}", home.display())));
        set(&home, 0o700);

        let missing = check_secret_file(&home.join("none"), Folder::Home).unwrap_err();
        assert!(matches!(missing, PermissionError::Io { .. }));
    }
}
