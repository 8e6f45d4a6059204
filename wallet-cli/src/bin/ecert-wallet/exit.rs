//! Exit codes: one fixed table, used by the program, printed in `--help` and copied into
//! `docs/user-guide.md#citizens-your-certificate-wallet`. Codes are never renumbered or reused.

/// The command did what it was asked (`ecert_shell::exit::run` ends with it).
#[cfg_attr(not(test), allow(dead_code))]
pub const OK: u8 = 0;
/// Something went wrong on this computer or with the input: the wallet, a file, the
/// passphrase, a certificate that cannot be added.
pub const ERROR: u8 = 1;
/// Wrong usage of the command line (unknown option, missing argument); set by the
/// argument parser.
pub const USAGE: u8 = 2;
/// The server could not be reached: no network, wrong address, nothing listening, or no
/// answer in time.
pub const UNREACHABLE: u8 = 3;
/// The server answered, but not usably: an unexpected status, an unreadable or damaged
/// answer, or (`refresh`) an answer that failed its check against the trust anchor.
pub const BAD_ANSWER: u8 = 4;
/// `receive --offer`: the department does not know this offer code (mistyped, or for
/// another department).
pub const OFFER_UNKNOWN: u8 = 5;
/// `receive --offer`: the offer was already collected (by this wallet or another).
pub const OFFER_USED: u8 = 6;
/// `receive --offer`: the certificate of this offer was issued to another wallet ID.
pub const OFFER_OTHER_WALLET: u8 = 7;
/// `receive --offer`: the department refused this wallet's signature on the request.
pub const OFFER_BAD_SIGNATURE: u8 = 8;
/// `refresh`: at least one certificate in the wallet is revoked.
pub const REVOKED: u8 = 9;

/// The table as a string literal (so that help texts can `concat!` it).
macro_rules! help_table {
    () => {
        "Exit codes:
  0  done
  1  error on this computer: wallet, file, passphrase, certificate not added
  2  wrong usage of the command
  3  the server could not be reached (network, address, no answer in time, or its
     certificate is not trusted: see --ca)
  4  the server's answer was not usable (unexpected, damaged, or failed its check)
  5  receive --offer: the offer code is unknown to the department
  6  receive --offer: the offer was already collected
  7  receive --offer: the certificate was issued to another wallet ID
  8  receive --offer: the department refused this wallet's signature
  9  refresh: at least one of your certificates is revoked"
    };
}
pub(crate) use help_table;

pub use ecert_shell::Failure;

/// The exit code for an error that ended a command: a [`Failure`]'s own code (wherever
/// it is in the chain of causes), otherwise [`ERROR`].
pub fn for_anyhow(error: &anyhow::Error) -> u8 {
    ecert_shell::exit::failure_code(error).unwrap_or(ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_listed() {
        let codes = [
            OK,
            ERROR,
            USAGE,
            UNREACHABLE,
            BAD_ANSWER,
            OFFER_UNKNOWN,
            OFFER_USED,
            OFFER_OTHER_WALLET,
            OFFER_BAD_SIGNATURE,
            REVOKED,
        ];
        for (i, code) in codes.iter().enumerate() {
            assert_eq!(usize::from(*code), i);
            assert!(help_table!().contains(&format!("\n  {code}  ")));
        }
        let wrapped = anyhow::Error::new(Failure::new(OFFER_USED, "used")).context("receiving");
        assert_eq!(for_anyhow(&wrapped), OFFER_USED);
        assert_eq!(for_anyhow(&anyhow::anyhow!("plain")), ERROR);
    }
}
