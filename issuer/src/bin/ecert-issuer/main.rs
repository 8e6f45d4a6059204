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

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let code = exit::for_error(&error);
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    }
}
