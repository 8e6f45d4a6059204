//! Exit codes: one fixed table, printed in `--help` and copied into
//! `docs/user-guide.md#department-operators-issuing-certificates`.

use ecert_issuer::anchoring::ReceiptError;
use ecert_issuer::claims_input::InputError;
use ecert_issuer::home::HomeError;
use ecert_issuer::issuance::IssuanceError;
use ecert_issuer::node::NodeError;
use ecert_issuer::register::FindError;
use ecert_shell::files::FileError;
use ecert_shell::passphrase::PassphraseError;
use ecert_shell::permissions::PermissionError;

ecert_shell::exit_codes! {
    /// The table, for `--help` ([`help`]).
    pub const CODES;
    /// The command did what it was asked (`ecert_shell::exit::run` ends with it).
    OK = 0: "done";
    /// Failed for a reason not listed below (a file could not be written, ...).
    OTHER = 1: "failed for another reason (for example a file could not be written)";
    /// Wrong usage or bad input: options, claims, CSV rows, certificate ids, files given.
    INPUT = 2: "wrong usage or bad input (options, claims, CSV rows, certificate ids); \
                nothing was issued";
    /// The home: not set up, already set up, not configured, wrong passphrase, busy.
    HOME = 3: "the issuer home: not set up, already set up, not configured, wrong \
               passphrase, or busy";
    /// The ledger node: unreachable, unavailable, refused the transaction, not certified in
    /// time.
    NODE = 4: "the ledger node: unreachable (network, or its certificate not trusted), \
               unavailable,\nrefused the transaction, or too slow";
    /// The ledger's proof, or its certified export, did not verify against the trust anchor.
    PROOF = 5: "the ledger's proof or data did not verify against the trust anchor: do not \
                trust that node";
    /// `audit` found batches this department did not issue, or misses some of its own.
    AUDIT = 6: "audit: batches this department did not issue, or its own batches missing";
    /// The home or a key file in it is open to other users (or is another user's): the
    /// message gives the command that fixes it. Nothing was read or changed.
    PERMISSIONS = 7: "the home or its key file is open to other users: the message says how \
                      to fix it";
}

/// The table as `--help` shows it.
pub fn help() -> String {
    ecert_shell::exit::help_table(CODES, 2)
}

pub use ecert_shell::Failure;

/// Bad input (exit code 2).
pub fn input(message: impl Into<String>) -> Failure {
    Failure::new(INPUT, message)
}

/// A problem with the home (exit code 3).
pub fn home(message: impl Into<String>) -> Failure {
    Failure::new(HOME, message)
}

/// The exit code for an error: the first cause in the chain whose kind is known.
pub fn for_error(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.code;
        }
        if cause.downcast_ref::<InputError>().is_some()
            || cause.downcast_ref::<FindError>().is_some()
        {
            return INPUT;
        }
        if let Some(e) = cause.downcast_ref::<IssuanceError>() {
            match e {
                IssuanceError::Read { .. }
                | IssuanceError::Row { .. }
                | IssuanceError::InputChanged(_)
                | IssuanceError::TooMany
                | IssuanceError::StatusListFull { .. } => return INPUT,
                IssuanceError::Pending | IssuanceError::NothingPending => return HOME,
                IssuanceError::NotAnchored { source, .. } => return node_code(source),
                IssuanceError::NotProven { .. } => return PROOF,
                IssuanceError::Input(_) => return INPUT,
                IssuanceError::Home(h) => return home_code(h),
                IssuanceError::Issue(_)
                | IssuanceError::Schema(_)
                | IssuanceError::WorkerFailed => return OTHER,
            }
        }
        if cause.is::<PermissionError>() {
            return PERMISSIONS;
        }
        if let Some(e) = cause.downcast_ref::<PassphraseError>() {
            return match e {
                PassphraseError::Mismatch
                | PassphraseError::TooShort { .. }
                | PassphraseError::TooLong { .. }
                | PassphraseError::Blank { .. }
                | PassphraseError::Unchanged { .. } => INPUT,
                _ => OTHER,
            };
        }
        if let Some(e) = cause.downcast_ref::<FileError>() {
            return match e {
                FileError::AlreadyExists(_) | FileError::TooLarge { .. } => INPUT,
                _ => OTHER,
            };
        }
        if let Some(h) = cause.downcast_ref::<HomeError>() {
            return home_code(h);
        }
        if let Some(e) = cause.downcast_ref::<NodeError>() {
            return node_code(e);
        }
        if cause.downcast_ref::<ReceiptError>().is_some() {
            return PROOF;
        }
    }
    OTHER
}

fn node_code(e: &NodeError) -> u8 {
    match e {
        NodeError::Unverified { .. } => PROOF,
        _ => NODE,
    }
}

fn home_code(h: &HomeError) -> u8 {
    match h {
        HomeError::File(FileError::AlreadyExists(_) | FileError::TooLarge { .. }) => INPUT,
        HomeError::File(_) => OTHER,
        HomeError::BadValue(_) => INPUT,
        HomeError::NotSetUp(_)
        | HomeError::AlreadyExists(_)
        | HomeError::Busy(_)
        | HomeError::Damaged { .. }
        | HomeError::NotConfigured(_) => HOME,
    }
}
