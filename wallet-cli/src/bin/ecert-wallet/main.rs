//! `ecert-wallet`: the citizen's wallet on a computer. It keeps the holder key and the
//! certificate packages in one encrypted file ([`ecert_wallet::store`]) and shows chosen
//! fields as a QR code for a counter.
//!
//! Modules: [`cli`] (commands and help texts), [`commands`] (one module per group of
//! commands), [`wallet`] (open and save), [`files`] (where the wallet lives, atomic
//! writes), [`secrets`] (passphrases, KDF settings), [`certs`] (certificates as people see
//! them), [`net`] (HTTP to departments' servers and ledger nodes), [`exit`] (the
//! exit-code table).

mod certs;
mod cli;
mod commands;
mod exit;
mod files;
mod net;
mod secrets;
mod wallet;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to standard output with exit code 0; usage errors to
            // standard error.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::for_anyhow(&e))
        }
    }
}
