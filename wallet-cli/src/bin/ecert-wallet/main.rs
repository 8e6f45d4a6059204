//! `ecert-wallet`: the citizen's wallet on a computer. It keeps the holder key and the
//! certificate packages in one encrypted file ([`ecert_wallet::store`]) and shows chosen
//! fields as a QR code for a counter.
//!
//! Modules: [`cli`] (commands and help texts), [`commands`] (one module per group of
//! commands), [`wallet`] (open and save), [`files`] (where the wallet lives, atomic
//! writes), [`secrets`] (passphrases, KDF settings), [`certs`] (certificates as people see
//! them).

mod certs;
mod cli;
mod commands;
mod files;
mod secrets;
mod wallet;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
