//! `ecert-verify`: the service counter's tool. It keeps the ledger's trust anchor and the
//! last synced ledger data in a store folder, and checks citizens' QR codes offline with
//! the pure verifier library.
//!
//! Modules: [`cli`] (commands and help), [`store`] (the folder, atomic writes),
//! [`ledger_dir`] (one ledger's synced data), [`national`] (the national trust list held),
//! [`checker`] (what codes are checked against: one ledger or the provinces on the
//! national list), [`scan`] (QR input: argument, scanner, photo), [`output`] (human and
//! JSON verdicts), [`exit`] (the exit-code table), [`counter`] (counters that ask: the counter's
//! key, registration and pending request), and one module per command
//! ([`sync_list`]: `sync --trust-list`).

mod challenge;
mod checker;
mod cli;
mod counter;
mod exit;
mod init;
mod ledger_dir;
mod national;
mod output;
mod scan;
mod status;
mod store;
mod sync;
mod sync_list;
mod verify;

use std::process::ExitCode;

use anyhow::Result;
use ecert_schemas::UnixTime;

use crate::cli::{Cli, Command};
use crate::store::Store;

fn main() -> ExitCode {
    let cli = cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let code = exit::for_anyhow(&error);
            output::note(&format!("error: {error:#}\n"));
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let store = || Store::locate(cli.store.clone());
    match cli.command {
        Command::Init(args) => finish(init::run(&store()?, &args)?),
        Command::Sync(args) => {
            let transport = cli
                .net
                .transport()
                .map_err(|e| exit::counter(e.to_string()))?;
            finish(sync::run(&store()?, &args, &transport, now()?)?)
        }
        Command::Verify(args) => verify::run(&store()?, args),
        Command::Challenge => {
            let nonce = challenge::fresh()?;
            output::print(&format!("{}\n", nonce.to_hex()))?;
            output::note(&challenge::instructions(&nonce));
            Ok(exit::OK)
        }
        Command::Status => finish(status::run(&store()?, now()?)?),
        Command::CounterKey => finish(counter::counter_key(&store()?)?),
        Command::Registration(args) => finish(counter::install(&store()?, &args, now()?)?),
        Command::Request(args) => {
            counter::request(&store()?, &args, now()?)?;
            Ok(exit::OK)
        }
    }
}

fn finish(text: String) -> Result<u8> {
    output::print(&text)?;
    Ok(exit::OK)
}

/// The counter's clock, in whole seconds since the Unix epoch.
pub fn now() -> Result<UnixTime> {
    ecert_shell::clock::now().map_err(|e| exit::counter(e.to_string()).into())
}
