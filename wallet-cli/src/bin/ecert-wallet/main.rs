//! `ecert-wallet`: the citizen's wallet on a computer. It keeps the holder key and the
//! certificate packages in one encrypted file ([`ecert_wallet::store`]) and shows chosen
//! fields as a QR code for a counter.
//!
//! Modules: [`cli`] (commands and help texts), [`commands`] (one module per group of
//! commands), [`wallet`] (open and save), [`files`] (where the wallet lives, atomic
//! writes), [`secrets`] (passphrases, KDF settings), [`certs`] (certificates as people see
//! them), `commands::net` (HTTP through `ecert-client`), [`exit`] (the
//! exit-code table).

mod certs;
mod cli;
mod commands;
mod exit;
mod files;
mod secrets;
mod wallet;

use std::process::ExitCode;

fn main() -> ExitCode {
    ecert_shell::exit::run::<cli::Cli>(exit::USAGE, commands::run, exit::for_anyhow)
}
