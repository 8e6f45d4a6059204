//! The commands, grouped: setting up ([`setup`]), issuing ([`issue`]), the register
//! ([`register`]: list, revoke, audit), the offer endpoint ([`serve`]) and key rotation
//! ([`rotate`]).

mod issue;
mod register;
mod rotate;
mod serve;
mod setup;

use std::time::Duration;

use anyhow::Result;
use ecert_issuer::home::Home;
use ecert_issuer::node::NodeClient;
use ecert_schemas::UnixTime;

use crate::cli::{Cli, Command};

/// How long one request to the ledger node may take in all (a certified submission waits
/// up to [`SUBMIT_WAIT_MS`] on the node's side).
const NODE_TIMEOUT: Duration = Duration::from_secs(75);
/// How long the node is asked to wait for certification.
pub const SUBMIT_WAIT_MS: u64 = 60_000;

/// Runs the command line's command.
pub fn run(cli: Cli) -> Result<()> {
    let home = Home::locate(cli.home)?;
    match cli.command {
        Command::Init(args) => setup::init(&home, &args),
        Command::Key => setup::key(&home),
        Command::Config(args) => setup::config(&home, &args),
        Command::SetAnchor(args) => setup::set_anchor(&home, &args),
        Command::Issue(args) => issue::run(&home, &args),
        Command::Revoke(args) => register::revoke(&home, &args),
        Command::List(args) => register::list(&home, &args),
        Command::Audit => register::audit(&home),
        Command::Serve(args) => serve::run(&home, &args),
        Command::RotateKey(args) => rotate::run(&home, &args),
    }
}

/// This computer's clock, in whole seconds since 1970.
pub fn now() -> Result<UnixTime> {
    Ok(ecert_shell::clock::now()?)
}

/// A client of the configured ledger node.
pub fn node_client(url: &str) -> NodeClient {
    NodeClient::new(url, NODE_TIMEOUT)
}

/// Prints to standard output ([`ecert_shell::out!`]: a closed pipe ends the program
/// quietly).
pub fn print(text: &str) -> Result<()> {
    ecert_shell::out!("{text}");
    Ok(())
}

/// A date for people, `YYYY-MM-DD` (UTC).
pub fn date(secs: u64) -> String {
    ecert_schemas::date::date_of_unix(secs).to_string()
}
