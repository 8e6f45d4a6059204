//! The commands, grouped: setting up ([`setup`]), receiving ([`receive`]: files, offers,
//! new copies), looking at
//! certificates ([`browse`]), presenting ([`present`]) and the record of what was
//! presented ([`history`]), backups ([`backup`]) and the ledger ([`ledger`]: trust
//! anchor, refresh); [`net`] is the wallet's side of `ecert-client` (addresses, exit codes
//! of network failures).

mod backup;
mod browse;
mod history;
mod ledger;
mod net;
mod present;
mod receive;
mod setup;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::files;

/// Runs the command line's command.
pub fn run(cli: Cli) -> Result<()> {
    let path = files::wallet_path(cli.wallet.as_deref())?;
    let transport = net::transport(&cli.net)?;
    match cli.command {
        Command::Init => setup::init(path),
        Command::Id(args) => setup::id(path, &args),
        Command::Passwd => setup::passwd(path),
        Command::Receive(args) => receive::receive(path, &args, &transport),
        Command::List => browse::list(path),
        Command::Show(args) => browse::show(path, &args),
        Command::Present(args) => present::present(path, &args),
        Command::History(args) => history::history(path, &args),
        Command::Backup(args) => backup::backup(path, &args),
        Command::Restore(args) => backup::restore(path, &args),
        Command::Trust(args) => ledger::trust(path, &args),
        Command::Refresh(args) => ledger::refresh(path, &args, &transport),
        Command::Refill(args) => receive::refill(path, &args, &transport),
    }
}
