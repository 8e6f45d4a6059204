//! Exit codes: one fixed table, printed in `--help` and copied into
//! `docs/operator-guide.md`. Codes are never renumbered or reused.

use ecert_shell::permissions::PermissionError;

ecert_shell::exit_codes! {
    /// The table, for `--help` ([`help`]).
    pub const CODES;
    /// The command did what it was asked (`ecert_shell::exit::run` ends with it).
    OK = 0: "done (`run`: stopped by Ctrl-C or SIGTERM)";
    /// Failed for a reason not listed below; the message says why.
    FAILED = 1: "failed: the message says why";
    /// Wrong usage of the command line; set by the argument parser.
    USAGE = 2: "wrong usage of the command";
    /// The node's home or its key file is open to other users (or is another user's): the
    /// message gives the command that fixes it. The key was not opened.
    PERMISSIONS = 3: "the home or its key file is open to other users: the message says how \
                      to fix it";
}

/// The table as `--help` shows it.
pub fn help() -> String {
    ecert_shell::exit::help_table(CODES, 2)
}

/// The exit code for an error that ended a command: [`PERMISSIONS`] for a home or key
/// open to other users, otherwise [`FAILED`].
pub fn for_error(error: &anyhow::Error) -> u8 {
    if error.chain().any(|cause| cause.is::<PermissionError>()) {
        PERMISSIONS
    } else {
        FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_numbered_in_order() {
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(usize::from(c.code), i, "{}", c.meaning);
        }
        let open = PermissionError::Io {
            path: "node.key".into(),
            source: std::io::ErrorKind::NotFound.into(),
        };
        let wrapped = anyhow::Error::new(open).context("opening the node key");
        assert_eq!(for_error(&wrapped), PERMISSIONS);
        assert_eq!(for_error(&anyhow::anyhow!("plain")), FAILED);
    }
}
