//! The commands, grouped: setting up ([`setup`]), issuing ([`issue`]), the register
//! ([`register`]: list, show, revoke, audit), the offer endpoint ([`serve`]) key rotation
//! ([`rotate`]), counters' registrations ([`counter`]) and wallets' refills ([`refill`]).

mod counter;
mod issue;
mod refill;
mod register;
mod rotate;
mod serve;
mod setup;

use std::time::Duration;

use anyhow::Result;
use ecert_client::Transport;
use ecert_issuer::home::Home;
use ecert_issuer::node::NodeClient;
use ecert_schemas::UnixTime;

use crate::cli::{Cli, Command};
use crate::exit;
use crate::secrets;

/// How long one request to the ledger node may take in all (a certified submission waits
/// up to [`SUBMIT_WAIT_MS`] on the node's side).
const NODE_TIMEOUT: Duration = Duration::from_secs(75);
/// How long the node is asked to wait for certification.
pub const SUBMIT_WAIT_MS: u64 = 60_000;

/// Runs the command line's command.
pub fn run(cli: Cli) -> Result<()> {
    let home = Home::locate(cli.home)?;
    // A home or key file open to other users is refused by every command, before anything
    // else is read.
    if !matches!(cli.command, Command::Init(_)) && home.exists() {
        secrets::check_private(&home)?;
    }
    let net = cli
        .net
        .transport()
        .map_err(|e| exit::input(e.to_string()))?;
    match cli.command {
        Command::Init(args) => setup::init(&home, &args),
        Command::Key => setup::key(&home),
        Command::Config(args) => setup::config(&home, &args),
        Command::SetAnchor(args) => setup::set_anchor(&home, &args),
        Command::Issue(args) => issue::run(&home, &args, &net),
        Command::Revoke(args) => register::revoke(&home, &args, &net),
        Command::List(args) => register::list(&home, &args),
        Command::Show(args) => register::show(&home, &args),
        Command::Audit => register::audit(&home, &net),
        Command::Serve(args) => serve::run(&home, &args, &net),
        Command::RotateKey(args) => rotate::run(&home, &args, &net),
        Command::RegisterCounter(args) => counter::run(&home, &args),
        Command::Refill(args) => refill::run(&home, &args, &net),
    }
}

/// This computer's clock, in whole seconds since 1970.
pub fn now() -> Result<UnixTime> {
    Ok(ecert_shell::clock::now()?)
}

/// A client of the configured ledger node, with the connection policy of `--ca` and
/// `--insecure-http`.
pub fn node_client(url: &str, net: &Transport) -> Result<NodeClient> {
    let server = net
        .server(url)
        .map_err(|e| exit::input(format!("the ledger node address {e}")))?;
    let http = ecert_client::Http::with_transport(
        concat!("ecert-issuer/", env!("CARGO_PKG_VERSION")),
        NODE_TIMEOUT,
        net,
    );
    Ok(NodeClient::with_http(server, http))
}

/// Prints to standard output ([`ecert_shell::out!`]: a closed pipe ends the program
/// quietly).
pub fn print(text: &str) -> Result<()> {
    ecert_shell::out!("{text}");
    Ok(())
}

/// The number of one-time copies of a certificate, or `-` for one issued whole (format 1).
pub fn copies_cell(c: &ecert_issuer::register::CertificateRecord) -> String {
    c.issued
        .copies()
        .map_or_else(|| "-".to_owned(), |n| n.to_string())
}

/// A date for people, `YYYY-MM-DD` (UTC).
pub fn date(secs: u64) -> String {
    ecert_schemas::date::date_of_unix(secs).to_string()
}
