//! `ecert-testnet`: a local network of department nodes, its load generator, and ecert's
//! whole story end to end.

mod cmd;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Runs a local ecert network of four department nodes on this machine (public
/// security, human resources and social security, transport, justice), drives it with
/// load, and tells the whole story: issue, hold, show, verify, revoke.
#[derive(Parser)]
#[command(name = "ecert-testnet", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the four department nodes (created with fresh keys and a genesis on first
    /// use; data survives `down` and `up`).
    Up {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
        /// First port: libp2p on PORT..PORT+3, client API on PORT+100..PORT+103 (default:
        /// free ports chosen on creation).
        #[arg(long)]
        base_port: Option<u16>,
    },
    /// Show each node: process, role, leader, height and certified height.
    Status {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
    },
    /// Stop the nodes (their data stays).
    Down {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
    },
    /// Drive the running network with the four departments anchoring batches; report
    /// certificates anchored per second and submission→certified latency.
    Load {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
        /// How long to run, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Certificates per batch.
        #[arg(long, default_value_t = 1_000)]
        batch_size: u64,
        /// Concurrent issuing clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// Issue all four kinds to a new wallet, present ID card + no-criminal-record in one
    /// QR, verify it offline, revoke, re-sync and verify again.
    Story {
        /// Where to write the QR code (PNG, SVG and the text string).
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Run every department in this process, with no network (fast, for a first look).
        #[arg(long)]
        in_process: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Up { dir, base_port } => cmd::net::up(&dir, base_port).map(|_| ()),
        Command::Status { dir } => cmd::net::status(&dir),
        Command::Down { dir } => cmd::net::down(&dir),
        Command::Load {
            dir,
            seconds,
            batch_size,
            clients,
        } => cmd::net::load(&dir, seconds, batch_size, clients),
        Command::Story { out, in_process } => {
            if in_process {
                cmd::local_story::story(&out)
            } else {
                cmd::story::story(&out)
            }
        }
    }
}
