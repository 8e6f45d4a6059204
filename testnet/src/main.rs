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
    /// Trust only this certificate authority (PEM) when talking to the nodes [default:
    /// the network's own CA, DIR/tls/ca.pem]
    #[arg(long, global = true, value_name = "FILE")]
    ca: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the four department nodes over HTTPS (created with fresh keys, a genesis and
    /// a local certificate authority on first use; data survives `down` and `up`), serving
    /// the wallet and counter web apps. Prints the apps' addresses and how to trust the CA.
    Up {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
        /// First port: libp2p on PORT..PORT+3, client API on PORT+100..PORT+103 (default:
        /// free ports chosen on creation).
        #[arg(long)]
        base_port: Option<u16>,
        /// Serve the web apps from this folder [default: ./web when ./web/wallet/index.html
        /// exists].
        #[arg(long, value_name = "DIR")]
        web: Option<PathBuf>,
        /// Also make the nodes' certificates for this name or address (for example this
        /// computer's LAN address, so a phone can reach the apps); the nodes then listen
        /// on every interface. Repeatable.
        #[arg(long = "tls-host", value_name = "NAME")]
        tls_hosts: Vec<String>,
        /// How often each node vouches that the newest certified block is still the
        /// newest, in seconds (the node's default: 120). Kept for later `up`s.
        #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
        freshness_period: Option<u64>,
    },
    /// Show each node: process, role, leader, height and certified height.
    Status {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
    },
    /// Make a server certificate signed by the network's CA (DIR/tls/ca.pem), for
    /// 127.0.0.1, ::1, localhost and any --host: for example for a department's offer
    /// server (`ecert-issuer serve --tls-cert ... --tls-key ...`).
    TlsCert {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
        /// A name for the certificate (its subject), for example offers-justice.
        #[arg(long)]
        name: String,
        /// Where to write the certificate (PEM).
        #[arg(long, value_name = "FILE")]
        out_cert: PathBuf,
        /// Where to write its private key (PEM, readable by its owner only).
        #[arg(long, value_name = "FILE")]
        out_key: PathBuf,
        /// Another name or address the certificate is for. Repeatable.
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
    },
    /// Issue the sample citizen's certificate of one kind to a wallet with a one-time
    /// offer, through the department's offer server (started over HTTPS on first use,
    /// stopped by `down`); prints the offer link, its QR code and the wallet app link.
    Offer {
        /// The network's folder.
        #[arg(long, default_value = "testnet-data")]
        dir: PathBuf,
        /// The wallet ID to issue to (wallet app: More → My wallet ID; `ecert-wallet id`).
        #[arg(long, value_name = "WALLET_ID")]
        holder: String,
        /// The kind: id-card, social-security-card, driver-licence or no-criminal-record.
        #[arg(long, default_value = "id-card")]
        kind: String,
        /// A name or address a phone reaches this computer by (the offer server then
        /// listens on every interface and its certificate names it). Repeatable.
        #[arg(long = "tls-host", value_name = "NAME")]
        tls_hosts: Vec<String>,
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
    /// Attack a one-node ledger of its own with hostile clients (a submission flood from
    /// one client, malformed and oversized bodies, slow clients, thousands of connections
    /// held open from many addresses) while an honest client submits and reads; report
    /// the honest client's latency in each phase, the node's memory and the answers the
    /// attackers got (docs/reliability.md, "Hostile clients").
    #[cfg(target_os = "linux")]
    Hostile {
        /// Seconds per phase (idle, flood, connections, after).
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Connections held open in the connections phase.
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Connections from each attacking address then.
        #[arg(long, default_value_t = 50)]
        per_address: usize,
    },
    /// Check the ledger's promises under faults: four nodes of their own (each in its own
    /// network namespace when it can be made) under concurrent anchoring and revocation
    /// clients and counters, while a seeded nemesis kills, restarts, wipes and partitions
    /// them; then every node's certified state is checked against every client's history
    /// (docs/reliability.md, "A history checker"). Fails on any anomaly.
    History {
        /// Seconds of clients and faults.
        #[arg(long, default_value_t = 600)]
        duration: u64,
        /// The nemesis's seed, to replay a run [default: random, printed].
        #[arg(long)]
        seed: Option<u64>,
        /// Process faults only (kill, restart, wipe), even where namespaces can be made.
        #[arg(long)]
        no_netns: bool,
        /// Keep the network's folder and the node logs afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// Simulate a province's year in process (the real ledger state machine and verifier,
    /// a simulated clock, no network): certificates issued as one-time copies in batches
    /// anchored on working days, revocations (every copy of a certificate) every evening,
    /// each department's key rotated once; prints per node storage, ledger bytes per
    /// certificate, the counter's full bundle, the daily incremental sync, block times at
    /// the year's end and an idle week kept current by freshness statements.
    Simulate {
        /// Certificates issued over the year.
        #[arg(long, default_value_t = 100_000_000)]
        certificates: u64,
        /// Certificates per anchored batch.
        #[arg(long, default_value_t = 1_000)]
        batch_size: u64,
        /// Simulated days (the first is a Monday; Saturdays and Sundays are idle).
        #[arg(long, default_value_t = 365)]
        days: u64,
        /// Share of the certificates revoked over the year, in percent.
        #[arg(long, default_value_t = 1.0)]
        revoked_percent: f64,
        /// Seed of every random choice and key, to replay a run [default: random, printed].
        #[arg(long)]
        seed: Option<u64>,
        /// Departments issue and revoke seven days a week (default: Monday to Friday).
        #[arg(long)]
        seven_day_week: bool,
        /// One-time copies per certificate (format 2), each a leaf of its batch with a
        /// status index of its own; 1 gives the ledger what format 1 gives it.
        #[arg(long, default_value_t = ecert_schemas::copy::DEFAULT_COPIES)]
        copies: u16,
    },
    /// Issue all four kinds to a new wallet, answer an employer's counter's request for ID
    /// card + no-criminal-record fields in one QR, verify it offline, revoke, re-sync and
    /// verify again.
    Story {
        /// Where to write the QR code (PNG, SVG and the text string).
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Run every department in this process, with no network (fast, for a first look).
        #[arg(long)]
        in_process: bool,
        /// Serve the web apps from this folder [default: ./web when ./web/wallet/index.html
        /// exists].
        #[arg(long, value_name = "DIR")]
        web: Option<PathBuf>,
    },
    /// Make a national body's keys (one secret seed file each) and the national anchor
    /// file counters pin (`ecert-verify init --national-anchor`). For tests and demos: a
    /// real national body keeps each key offline.
    NationalKeys(cmd::trust_list::NationalKeysArgs),
    /// Make and approve a version of the national trust list (each province by its trust
    /// anchor file, with the kinds it may issue), for `ecert-verify sync --trust-list`.
    TrustList(cmd::trust_list::TrustListArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let ca = cli.ca;
    match cli.command {
        Command::Up {
            dir,
            base_port,
            web,
            tls_hosts,
            freshness_period,
        } => {
            let options = cmd::net::UpOptions {
                base_port,
                web,
                tls_hosts,
                ca,
                explain_trust: true,
                freshness_period,
            };
            cmd::net::up(&dir, &options).map(|_| ())
        }
        Command::Status { dir } => cmd::net::status(&dir, ca.as_deref()),
        Command::TlsCert {
            dir,
            name,
            out_cert,
            out_key,
            hosts,
        } => cmd::net::tls_cert(&dir, &name, &hosts, &out_cert, &out_key),
        Command::Offer {
            dir,
            holder,
            kind,
            tls_hosts,
        } => cmd::offer::offer(
            &dir,
            &cmd::offer::OfferOptions {
                holder,
                kind,
                tls_hosts,
            },
        ),
        Command::Down { dir } => cmd::net::down(&dir),
        Command::Load {
            dir,
            seconds,
            batch_size,
            clients,
        } => cmd::net::load(&dir, ca.as_deref(), seconds, batch_size, clients),
        #[cfg(target_os = "linux")]
        Command::Hostile {
            seconds,
            connections,
            per_address,
        } => cmd::hostile::hostile(&cmd::hostile::Options {
            seconds,
            connections,
            per_address,
        }),
        Command::History {
            duration,
            seed,
            no_netns,
            keep,
        } => cmd::history::history(&cmd::history::Options {
            duration,
            seed,
            no_netns,
            keep,
        }),
        Command::Simulate {
            certificates,
            batch_size,
            days,
            revoked_percent,
            seed,
            seven_day_week,
            copies,
        } => cmd::simulate::simulate(cmd::simulate::Args {
            certificates,
            batch_size,
            days,
            revoked_percent,
            seed,
            seven_day_week,
            copies,
        }),
        Command::Story {
            out,
            in_process,
            web,
        } => {
            if in_process {
                cmd::local_story::story(&out)
            } else {
                cmd::story::story(&out, web, ca)
            }
        }
        Command::NationalKeys(args) => cmd::trust_list::national_keys(&args),
        Command::TrustList(args) => cmd::trust_list::trust_list(&args, cmd::local_story::now()?),
    }
}
