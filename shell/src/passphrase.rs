//! Passphrases and the key-derivation settings they are used with.
//!
//! A passphrase comes, in this order, from the environment variable named by its
//! [`Source`] (for scripts), from the file named by that variable with `_FILE` appended
//! (for services: the first line of the file), or from the terminal. A new passphrase is
//! asked twice.
//!
//! # The rules for a new passphrase
//!
//! The same for the wallet (command line and app), the department's key and the node's
//! key, wherever a new one is chosen (`ecert-wallet init`, `passwd`, `restore`, `backup`;
//! `ecert-issuer init`; `ecert-node init`), checked by [`check_new`] and, for a change,
//! [`check_change`], with the rules of [`ecert_sealed::passphrase_rule`]: 8 to 1024
//! characters, not only white space, and not the one it replaces. Nobody can recover a
//! forgotten passphrase.

use std::path::PathBuf;

use ecert_sealed::KdfParams;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::files::{read_text_limited, FileError};

use ecert_sealed::passphrase_rule::{self, WeakPassphrase};
pub use ecert_sealed::passphrase_rule::{MAX_CHARS, MIN_CHARS};

/// TEST ONLY: when this environment variable is `1`, [`kdf_params`] returns cheap
/// settings so that tests and throw-away test networks run fast.
pub const TEST_KDF_ENV: &str = "ECERT_TEST_KDF";

/// Largest passphrase file read.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// One passphrase: where it may come from and what to call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    /// Environment variable that, when set, supplies it without asking (and, with
    /// `_FILE` appended, names a file holding it).
    pub env: &'static str,
    /// What it is, for prompts and messages ("wallet passphrase").
    pub what: &'static str,
}

/// Why no passphrase could be had.
#[derive(Debug, Error)]
pub enum PassphraseError {
    /// The environment variable holds bytes that are not UTF-8.
    #[error("{0} is not valid UTF-8 text")]
    NotText(String),
    /// The passphrase file could not be read.
    #[error("cannot read the passphrase file: {0}")]
    File(#[from] FileError),
    /// No terminal to ask on.
    #[error("cannot ask for the {what} (no terminal?); for scripts, set {env} or {env}_FILE")]
    NoTerminal {
        /// What was asked for.
        what: &'static str,
        /// The variable that would supply it.
        env: &'static str,
    },
    /// The two entries of a new passphrase differ.
    #[error("the two passphrases differ; nothing was changed")]
    Mismatch,
    /// A new passphrase is too short.
    #[error("the {what} must be at least {MIN_CHARS} characters long; nothing was changed")]
    TooShort {
        /// What it is.
        what: &'static str,
    },
    /// A new passphrase is too long.
    #[error("the {what} must be at most {MAX_CHARS} characters long; nothing was changed")]
    TooLong {
        /// What it is.
        what: &'static str,
    },
    /// A new passphrase is only white space.
    #[error("the {what} must not be only spaces; nothing was changed")]
    Blank {
        /// What it is.
        what: &'static str,
    },
    /// A new passphrase is the same as the one it replaces.
    #[error("the {what} is the same as the current one; nothing was changed")]
    Unchanged {
        /// What it is.
        what: &'static str,
    },
    /// The key-derivation settings are out of bounds (never for the built-in ones).
    #[error(transparent)]
    Kdf(#[from] ecert_sealed::SealError),
}

fn from_environment(source: Source) -> Result<Option<Zeroizing<String>>, PassphraseError> {
    if let Some(value) = std::env::var_os(source.env) {
        return match value.into_string() {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(_) => Err(PassphraseError::NotText(source.env.to_owned())),
        };
    }
    let file_var = format!("{}_FILE", source.env);
    match std::env::var_os(&file_var) {
        None => Ok(None),
        Some(path) => {
            let text = Zeroizing::new(read_text_limited(&PathBuf::from(path), MAX_FILE_BYTES)?);
            let first = text.lines().next().unwrap_or_default();
            Ok(Some(Zeroizing::new(first.to_owned())))
        }
    }
}

fn prompt(text: &str, source: Source) -> Result<Zeroizing<String>, PassphraseError> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|_| PassphraseError::NoTerminal {
            what: source.what,
            env: source.env,
        })
}

/// An existing passphrase: from the environment or its file, or asked once.
pub fn existing(source: Source) -> Result<Zeroizing<String>, PassphraseError> {
    match from_environment(source)? {
        Some(p) => Ok(p),
        None => prompt(&format!("{}: ", capitalised(source.what)), source),
    }
}

/// A new passphrase: from the environment or its file, or asked twice; checked by
/// [`check_new`] (see [the rules](self#the-rules-for-a-new-passphrase)).
pub fn new(source: Source) -> Result<Zeroizing<String>, PassphraseError> {
    let passphrase = match from_environment(source)? {
        Some(p) => p,
        None => {
            eprintln!(
                "Choose a {} (at least {MIN_CHARS} characters). Nobody can recover it if it \
                 is forgotten.",
                source.what
            );
            let first = prompt(&format!("{}: ", capitalised(source.what)), source)?;
            let second = prompt(&format!("Repeat the {}: ", source.what), source)?;
            if *first != *second {
                return Err(PassphraseError::Mismatch);
            }
            first
        }
    };
    check_new(source, &passphrase)?;
    Ok(passphrase)
}

/// A new passphrase that replaces `current` (a changed wallet passphrase): [`new`], and
/// refused if it is the same as `current` ([`check_change`]).
pub fn replacement(
    source: Source,
    current: &Zeroizing<String>,
) -> Result<Zeroizing<String>, PassphraseError> {
    let passphrase = new(source)?;
    check_change(source, current, &passphrase)?;
    Ok(passphrase)
}

/// The rules for a new passphrase (see [the rules](self#the-rules-for-a-new-passphrase)):
/// [`MIN_CHARS`] to [`MAX_CHARS`] characters, not only white space.
pub fn check_new(source: Source, passphrase: &str) -> Result<(), PassphraseError> {
    passphrase_rule::check_new(passphrase).map_err(|weak| refusal(source, weak))
}

/// The rules for a passphrase that replaces `current`: [`check_new`], and not the same.
pub fn check_change(source: Source, current: &str, new: &str) -> Result<(), PassphraseError> {
    passphrase_rule::check_change(current, new).map_err(|weak| refusal(source, weak))
}

/// The tool's words for a broken rule.
fn refusal(source: Source, weak: WeakPassphrase) -> PassphraseError {
    let what = source.what;
    match weak {
        WeakPassphrase::TooShort => PassphraseError::TooShort { what },
        WeakPassphrase::TooLong => PassphraseError::TooLong { what },
        WeakPassphrase::Blank => PassphraseError::Blank { what },
        WeakPassphrase::Unchanged => PassphraseError::Unchanged { what },
    }
}

/// The Argon2id settings for sealing: [`KdfParams::default`] (64 MiB, 3 passes).
///
/// TEST ONLY: with `test` (a tool's hidden option) or [`TEST_KDF_ENV`]`=1`, cheap
/// settings (256 KiB, 1 pass) are used instead, so that tests run in seconds. A file
/// sealed this way is far easier to attack by guessing passphrases; a warning is printed
/// whenever it takes effect.
pub fn kdf_params(test: bool) -> Result<KdfParams, PassphraseError> {
    if test || std::env::var_os(TEST_KDF_ENV).is_some_and(|v| v == "1") {
        eprintln!(
            "warning: {TEST_KDF_ENV} is in effect: weak test-only encryption settings; never \
             use them for real keys or wallets"
        );
        return Ok(KdfParams::new(256, 1, 1)?);
    }
    Ok(KdfParams::default())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: Source = Source {
        env: "UNUSED",
        what: "test passphrase",
    };

    #[test]
    fn new_passphrases_are_long_enough() {
        let source = SOURCE;
        assert!(matches!(
            check_new(source, "short"),
            Err(PassphraseError::TooShort { .. })
        ));
        assert!(matches!(
            check_new(source, ""),
            Err(PassphraseError::TooShort { .. })
        ));
        // Characters, not bytes.
        assert!(check_new(source, "密码密码密码密码").is_ok());
        assert!(check_new(source, "密码密码密码密").is_err());
        assert_eq!(capitalised("wallet passphrase"), "Wallet passphrase");
        let err = check_new(source, "seven77").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the test passphrase must be at least 8 characters long; nothing was changed"
        );
    }

    #[test]
    fn new_passphrases_are_not_too_long_nor_blank() {
        assert!(check_new(SOURCE, &"x".repeat(MAX_CHARS)).is_ok());
        assert!(check_new(SOURCE, &"密".repeat(MAX_CHARS)).is_ok());
        assert!(matches!(
            check_new(SOURCE, &"x".repeat(MAX_CHARS + 1)),
            Err(PassphraseError::TooLong { .. })
        ));
        for blank in [
            "        ",
            "\t\t\t\t\t\t\t\t",
            "\u{3000}\u{3000}   \u{a0}   ",
        ] {
            assert!(
                matches!(check_new(SOURCE, blank), Err(PassphraseError::Blank { .. })),
                "{blank:?}"
            );
        }
        // Spaces inside a passphrase are fine.
        assert!(check_new(SOURCE, "  a sentence  ").is_ok());
    }

    #[test]
    fn a_changed_passphrase_differs_from_the_current_one() {
        assert!(check_change(SOURCE, "old passphrase", "new passphrase").is_ok());
        let err = check_change(SOURCE, "same passphrase", "same passphrase").unwrap_err();
        assert!(matches!(err, PassphraseError::Unchanged { .. }));
        assert_eq!(
            err.to_string(),
            "the test passphrase is the same as the current one; nothing was changed"
        );
        // The rules for any new passphrase come first.
        assert!(matches!(
            check_change(SOURCE, "short", "short"),
            Err(PassphraseError::TooShort { .. })
        ));
    }
}
