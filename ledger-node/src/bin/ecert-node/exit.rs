//! Exit codes: one fixed table, printed in `--help` and copied into
//! `docs/operator-guide.md`. Codes are never renumbered or reused.

use ecert_client::NodeError;
use ecert_shell::permissions::PermissionError;
use ecert_shell::Failure;

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
    /// Governance input that cannot be used: a file that is not a proposal or approval (or
    /// not this proposal's), an unknown department, a key or address that is not valid, a
    /// change the ledger would refuse, a node address refused. Nothing was written or sent.
    INPUT = 4: "governance: bad input (a proposal or approval file, a department, key or \
                address);\nthe message says which; nothing was written or sent";
    /// `submit-governance`: the approvals are not from more than two thirds of the current
    /// validators. Nothing was sent.
    NO_QUORUM = 5: "submit-governance: approvals from two thirds of the current validators or \
                    fewer;\nnothing was sent";
    /// The ledger node could not be reached, was unavailable, or did not certify in time.
    NODE = 6: "the ledger node: unreachable (network, or its certificate not trusted), \
               unavailable,\nor too slow";
    /// The ledger refused the governance transaction; the message gives its reason.
    REFUSED = 7: "the ledger refused the governance transaction: the message gives its reason";
    /// The node's validator set did not verify against the trust anchor.
    PROOF = 8: "the node's validator set did not verify against the genesis or trust \
                anchor:\ndo not trust that node";
}

/// The table as `--help` shows it.
pub fn help() -> String {
    ecert_shell::exit::help_table(CODES, 2)
}

/// The exit code for an error that ended a command: the code a [`Failure`] carries,
/// [`PERMISSIONS`] for a home or key open to other users, [`REFUSED`], [`PROOF`] or
/// [`NODE`] for the ledger node's answers, otherwise [`FAILED`].
pub fn for_error(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return failure.code;
        }
        if cause.is::<PermissionError>() {
            return PERMISSIONS;
        }
        if let Some(e) = cause.downcast_ref::<NodeError>() {
            return match e {
                NodeError::Refused { .. } => REFUSED,
                NodeError::Unverified { .. } => PROOF,
                NodeError::InvalidUrl { .. } => INPUT,
                NodeError::Request(_) => FAILED,
                _ => NODE,
            };
        }
    }
    FAILED
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
        let refused = NodeError::Refused {
            code: "too-few-approvals".into(),
            message: "2 of 4".into(),
        };
        assert_eq!(
            for_error(&anyhow::Error::new(refused).context("sent")),
            REFUSED
        );
        let quorum = anyhow::Error::new(Failure::new(NO_QUORUM, "2 of 4")).context("x");
        assert_eq!(for_error(&quorum), NO_QUORUM);
        assert_eq!(for_error(&NodeError::NotAnchored.into()), NODE);
    }
}
