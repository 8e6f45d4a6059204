//! The rules for a new passphrase, the same for the wallet (command line and app), the
//! department's key and the node's key:
//!
//! - at least [`MIN_CHARS`] (8) characters, counted as Unicode characters, not bytes;
//! - at most [`MAX_CHARS`] (1024) characters;
//! - not only spaces (or other white space);
//! - when it replaces one, not the same as the one it replaces.
//!
//! Any other character is allowed, and nothing else is required (no mix of letters and
//! digits): a long sentence is the strongest passphrase people remember. Pure: the tools
//! ask for passphrases (`ecert_shell::passphrase`), the apps in the browser; both check
//! them here.

use thiserror::Error;

/// Shortest new passphrase accepted, in characters.
pub const MIN_CHARS: usize = 8;
/// Longest new passphrase accepted, in characters: far beyond anything typed, and a guard
/// against a wrong file given as the passphrase file.
pub const MAX_CHARS: usize = 1024;

/// Why a new passphrase is refused.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum WeakPassphrase {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("it must be at least {MIN_CHARS} characters long")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("it must be at most {MAX_CHARS} characters long")]
    TooLong,
    /// Only white space.
    #[error("it must not be only spaces")]
    Blank,
    /// The same as the one it replaces.
    #[error("it is the same as the current one")]
    Unchanged,
}

/// Checks a new passphrase against the rules.
pub fn check_new(passphrase: &str) -> Result<(), WeakPassphrase> {
    let chars = passphrase.chars().count();
    if chars < MIN_CHARS {
        return Err(WeakPassphrase::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(WeakPassphrase::TooLong);
    }
    if passphrase.chars().all(char::is_whitespace) {
        return Err(WeakPassphrase::Blank);
    }
    Ok(())
}

/// Checks a passphrase that replaces `current`: [`check_new`], and not the same.
pub fn check_change(current: &str, new: &str) -> Result<(), WeakPassphrase> {
    check_new(new)?;
    if current == new {
        return Err(WeakPassphrase::Unchanged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules() {
        assert_eq!(check_new("1234567"), Err(WeakPassphrase::TooShort));
        assert_eq!(check_new("12345678"), Ok(()));
        // Characters, not bytes: eight Chinese characters are enough, seven are not.
        assert_eq!(check_new("口令口令口令口令"), Ok(()));
        assert_eq!(check_new("口令口令口令口"), Err(WeakPassphrase::TooShort));
        assert_eq!(check_new(&"x".repeat(MAX_CHARS)), Ok(()));
        assert_eq!(
            check_new(&"x".repeat(MAX_CHARS + 1)),
            Err(WeakPassphrase::TooLong)
        );
        assert_eq!(check_new("        \t"), Err(WeakPassphrase::Blank));
        assert_eq!(check_new(" a long sentence "), Ok(()));
        assert_eq!(
            check_change("old passphrase", "old passphrase"),
            Err(WeakPassphrase::Unchanged)
        );
        assert_eq!(check_change("old passphrase", "new passphrase"), Ok(()));
        assert_eq!(
            check_change("old passphrase", "short"),
            Err(WeakPassphrase::TooShort)
        );
    }
}
