//! Exit codes: one fixed table, used by the program, printed in `--help` and copied into
//! `docs/user-guide.md#citizens-your-certificate-wallet`. Codes are never renumbered or reused.

use ecert_shell::permissions::PermissionError;

ecert_shell::exit_codes! {
    /// The table, for `--help` ([`help`]).
    pub const CODES;
    /// The command did what it was asked (`ecert_shell::exit::run` ends with it).
    OK = 0: "done";
    /// Something went wrong on this computer or with the input: the wallet, a file, the
    /// passphrase, a certificate that cannot be added.
    ERROR = 1: "error on this computer: wallet, file, passphrase, certificate not added";
    /// Wrong usage of the command line (unknown option, missing argument); set by the
    /// argument parser.
    USAGE = 2: "wrong usage of the command";
    /// The server could not be reached: no network, wrong address, nothing listening, or no
    /// answer in time.
    UNREACHABLE = 3: "the server could not be reached (network, address, no answer in time, \
                      or its\ncertificate is not trusted: see --ca)";
    /// The server answered, but not usably: an unexpected status, an unreadable or damaged
    /// answer, or (`refresh`) an answer that failed its check against the trust anchor.
    BAD_ANSWER = 4: "the server's answer was not usable (unexpected, damaged, or failed its \
                     check)";
    /// `receive --offer`: the department does not know this offer code (mistyped, or for
    /// another department).
    OFFER_UNKNOWN = 5: "receive --offer: the offer code is unknown to the department";
    /// `receive --offer`: the offer was already collected (by this wallet or another).
    OFFER_USED = 6: "receive --offer: the offer was already collected";
    /// `receive --offer`: the certificate of this offer was issued to another wallet ID.
    OFFER_OTHER_WALLET = 7: "receive --offer: the certificate was issued to another wallet ID";
    /// `receive --offer`: the department refused this wallet's signature on the request.
    OFFER_BAD_SIGNATURE = 8: "receive --offer: the department refused this wallet's \
                              signature";
    /// `refresh`: at least one certificate in the wallet is revoked.
    REVOKED = 9: "refresh: at least one of your certificates is revoked";
    /// The wallet file, or its folder, is open to other users (or is another user's): the
    /// message gives the command that fixes it. Nothing was read or changed.
    PERMISSIONS = 10: "the wallet file or its folder is open to other users: the message \
                       says how to fix it";
    /// `present`: every copy of a certificate issued as one-time copies has been shown;
    /// showing one again would let counters link the presentations. Nothing was shown.
    NO_COPIES_LEFT = 11: "present: every copy of a certificate has been shown: ask its \
                          department for new copies (refill, or see --reuse-copy)";
    /// `present --request`: the counter's request was refused (unreadable, not from a
    /// counter registered on this wallet's ledger, altered, too old, or asking for more
    /// than its registration allows). Nothing was shown.
    REQUEST_REFUSED = 12: "present --request: the counter's request was refused (not \
                           registered, altered, too old, asks too much); nothing was shown";
    /// `refill`: the department refused to issue new copies of a certificate (revoked,
    /// expired, not its own, or the request was refused).
    REFILL_REFUSED = 13: "refill: the department refused new copies of a certificate \
                          (revoked, expired, not its own); the message says why";
}

/// The table as `--help` shows it.
pub fn help() -> String {
    ecert_shell::exit::help_table(CODES, 3)
}

pub use ecert_shell::Failure;

/// The exit code for an error that ended a command: a [`Failure`]'s own code (wherever
/// it is in the chain of causes), [`PERMISSIONS`] for a wallet open to other users,
/// otherwise [`ERROR`].
pub fn for_anyhow(error: &anyhow::Error) -> u8 {
    if let Some(code) = ecert_shell::exit::failure_code(error) {
        return code;
    }
    let permissions = error.chain().any(|cause| cause.is::<PermissionError>());
    if permissions {
        PERMISSIONS
    } else {
        ERROR
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
        assert_eq!(CODES.last().map(|c| c.code), Some(REFILL_REFUSED));
        let wrapped = anyhow::Error::new(Failure::new(OFFER_USED, "used")).context("receiving");
        assert_eq!(for_anyhow(&wrapped), OFFER_USED);
        assert_eq!(for_anyhow(&anyhow::anyhow!("plain")), ERROR);
        let open = PermissionError::Io {
            path: "w".into(),
            source: std::io::ErrorKind::NotFound.into(),
        };
        let wrapped = anyhow::Error::new(open).context("opening the wallet");
        assert_eq!(for_anyhow(&wrapped), PERMISSIONS);
    }
}
