//! `ecert-issuer`: the department operator's tool. It keeps the department's sealed
//! signing key and issuance register in a home folder ([`ecert_issuer::home`]), issues and
//! anchors certificates, delivers them as files or one-time offers, revokes them and
//! audits the ledger.
//!
//! Modules: [`cli`] (commands and help texts), [`exit`] (the exit-code table),
//! [`secrets`] (passphrase and sealed key), [`commands`] (one module per group of
//! commands).

mod cli;
mod commands;
mod exit;
mod secrets;

use std::process::ExitCode;

fn main() -> ExitCode {
    ecert_shell::exit::run::<cli::Cli>(exit::INPUT, commands::run, exit::for_error)
}
