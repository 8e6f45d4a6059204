//! `ecert-node`: a department's ledger node.
//!
//! `init` creates the node's home (its validator key, sealed under a passphrase);
//! `run` joins the ledger named by a genesis file and serves the client API;
//! `key` prints the validator key for the genesis; `trust-anchor` prints what counters,
//! issuers and wallets pin to trust this ledger; `approve`, `propose-validators`,
//! `propose-kind` and `submit-governance` are the validator operators' side of governance
//! (`governance`).

mod exit;
mod governance;
mod home;
mod ledger;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ecert_client::TransportArgs;
use ecert_ledger_node::genesis::Genesis;
use ecert_ledger_node::node::{Node, NodeConfig, Serving};
use ecert_serve::{LimitArgs, Origin, Security, TlsFiles};
use ecert_shell::files::{read_text_limited, Existing};
use ecert_shell::outln;

/// A department's node of the ecert ledger: orders anchor and revocation transactions
/// with the other departments' nodes (Raft over libp2p), signs every block header, and
/// serves certified headers, anchor proofs and revocations to issuers, wallets and
/// counters.
#[derive(Parser)]
#[command(
    name = "ecert-node",
    version,
    about,
    long_about = None,
    after_long_help = exit::help()
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create this node's home folder and its validator key, sealed under a passphrase
    /// (asked twice, or taken from ECERT_NODE_PASSPHRASE). Prints the public key to put in
    /// the genesis file.
    Init {
        /// The node's home folder (created; must not exist yet or be empty).
        #[arg(long, env = "ECERT_NODE_HOME")]
        home: PathBuf,
        /// The department running this node (for people reading logs and status).
        #[arg(long)]
        department: String,
    },
    /// Print this node's validator public key (hex), as the genesis file needs it.
    Key {
        /// The node's home folder.
        #[arg(long, env = "ECERT_NODE_HOME")]
        home: PathBuf,
    },
    /// Run the node until Ctrl-C or SIGTERM. The key's passphrase is asked, or taken from
    /// ECERT_NODE_PASSPHRASE. Logs go to standard error (set RUST_LOG=debug for more).
    Run {
        /// The node's home folder.
        #[arg(long, env = "ECERT_NODE_HOME")]
        home: PathBuf,
        /// The genesis file all departments agreed on.
        #[arg(long)]
        genesis: PathBuf,
        /// libp2p address to listen on (default: this validator's address in the newest
        /// validator-set change naming it, else in the genesis; required for a node whose
        /// key neither names yet).
        #[arg(long)]
        listen: Option<String>,
        /// Address of the client API. Without --tls-cert it serves plain HTTP, which is
        /// only allowed on a loopback address (127.0.0.1, ::1) unless --insecure-http.
        #[arg(long, default_value = "127.0.0.1:7200")]
        http: SocketAddr,
        /// Serve the client API over HTTPS with this certificate (PEM; the server's
        /// certificate first, then any intermediate ones).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Allow plain HTTP on a non-loopback address (unencrypted: only on a network you
        /// trust; browsers refuse the camera and offline use without HTTPS).
        #[arg(long)]
        insecure_http: bool,
        /// Serve the wallet and counter web apps from this folder (the repository's web/):
        /// /wallet/, /counter/, /common/ and /core/pkg/ only.
        #[arg(long, value_name = "DIR")]
        web: Option<PathBuf>,
        /// Let web pages of this origin (https://HOST:PORT) call the API from a browser.
        /// Repeat for several origins; none by default.
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allow_origins: Vec<Origin>,
        /// Longest a transaction waits for a block, in milliseconds (at most 200).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=200))]
        block_interval_ms: u64,
        /// Most transactions in one block.
        #[arg(long, default_value_t = 2_000)]
        max_block_txs: usize,
        /// Take a Raft snapshot every this many blocks (a node that was down long, or
        /// lost its data, catches up from the snapshot).
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(2..))]
        snapshot_every: u64,
        /// How often this validator signs that the newest certified block is still the
        /// newest, in seconds: counters and wallets stay current on a ledger without new
        /// blocks for as long as more than two thirds of the validators do so.
        #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        freshness_period: u64,
        /// Raft's heartbeat interval in milliseconds. The leader also waits this long for
        /// each answer to an append, so it must exceed the longest round trip between
        /// validators, or nothing commits. Election timeouts follow: 6 to 12 heartbeats,
        /// at least 1 to 2 s.
        #[arg(long, value_name = "MS", default_value_t = ecert_ledger_node::node::DEFAULT_HEARTBEAT_MS, value_parser = clap::value_parser!(u64).range(50..=10_000))]
        heartbeat_ms: u64,
        /// The client API's limits against hostile clients (docs/api.md, "Limits").
        #[command(flatten)]
        limits: Box<LimitArgs>,
    },
    /// Approve a governance proposal (a validator-set change, an issuer key registration,
    /// rotation or retirement, a new issuer or kind, a kind's revision) with this node's
    /// validator key. Prints
    /// what the proposal changes (for a validator-set change: who is added, removed or
    /// given a new key); writes the approval to --out for whoever submits the transaction.
    /// More than two thirds of the current validators must approve before the ledger
    /// accepts it.
    #[command(
        after_long_help = "This validator's position comes from the current validator \
set when --node is given (read from that node and checked against the genesis or trust \
anchor, so the node is not trusted), else from the genesis file. Once the validator set has \
changed, give --node: an approval at a genesis position the set no longer has is refused."
    )]
    Approve {
        /// The node's home folder.
        #[arg(long, env = "ECERT_NODE_HOME")]
        home: PathBuf,
        /// The genesis file (its trust anchor checks the node's answer; without --node,
        /// this validator's position is its place in the genesis).
        #[arg(long, required_unless_present = "anchor")]
        genesis: Option<PathBuf>,
        /// With --node, the trust anchor file instead of the genesis file.
        #[arg(
            long,
            value_name = "FILE",
            requires = "node",
            conflicts_with = "genesis"
        )]
        anchor: Option<PathBuf>,
        /// A ledger node (https://HOST:PORT) to read the current validator set from.
        #[arg(long, value_name = "URL")]
        node: Option<String>,
        /// The proposal file (a CBOR governance body, from `ecert-node propose-validators`,
        /// `ecert-node propose-kind` or `ecert-issuer rotate-key`).
        #[arg(long)]
        proposal: PathBuf,
        /// Where to write the approval.
        #[arg(long)]
        out: PathBuf,
        /// How to reach the node (--ca, --insecure-http).
        #[command(flatten)]
        transport: TransportArgs,
    },
    /// Propose a change of the validator set: add a department's node, remove one, or give
    /// one a new key. Reads the current set from a node (checked against the genesis or
    /// trust anchor), prints what changes and writes the proposal for the validators to
    /// approve (`ecert-node approve`).
    #[command(
        after_long_help = "A replaced validator keeps its position; added validators \
come after the others. The change is approved by more than two thirds of the current \
validators, sits alone in its block, which the current set still certifies; from the next \
block on the new set certifies. Start an added department's node (`ecert-node run` with the \
genesis file and its --listen address) before or soon after the change is submitted.

Example:
  ecert-node propose-validators --node https://10.0.3.7:7200 --genesis genesis.toml \\
      --add health=5f0c…e1a2@/ip4/10.0.3.9/tcp/7100 --out add-health.cbor"
    )]
    ProposeValidators {
        /// The node to read the current validator set and the next governance number
        /// from, and the genesis or trust anchor to check its answer with.
        #[command(flatten)]
        ledger: LedgerArgs,
        /// Add a department's validator: its key (`ecert-node key`) and libp2p address.
        /// Repeatable.
        #[arg(long, value_name = "DEPT=KEY@ADDRESS", value_parser = governance::parse_member)]
        add: Vec<governance::Member>,
        /// Remove a validator: its department (or its key in hex). Repeatable.
        #[arg(long, value_name = "DEPT")]
        remove: Vec<String>,
        /// Give a department's validator a new key (a new node), at a new address.
        /// Repeatable.
        #[arg(long, value_name = "DEPT=KEY@ADDRESS", value_parser = governance::parse_member)]
        replace: Vec<governance::Member>,
        /// Where to write the proposal (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// How to reach the node (--ca, --insecure-http).
        #[command(flatten)]
        transport: TransportArgs,
    },
    /// Propose a revision of a registered certificate kind: its new kind file replaces the
    /// registered one. Checks that the new file keeps what certificates already issued rely
    /// on (every field and derived fact in place, unchanged; none added; no issuer dropped;
    /// a greater version) and that the previous file is the one the ledger registers (read
    /// from a node, checked against the genesis or trust anchor); writes the proposal for
    /// the validators to approve (`ecert-node approve`).
    #[command(
        after_long_help = "Names, labels, the description, the audience and the validity \
may change; a text field's max_len may grow and an enum field may gain values. Once the \
change is certified, counters, wallets and issuers need the new kind file: certificates of \
the kind are checked against it from that block on, those issued before included.

Example:
  ecert-node propose-kind --node https://10.0.3.7:7200 --genesis genesis.toml \\
      --revise no-criminal-record.toml --previous no-criminal-record.v3.toml \\
      --out revise-ncr.cbor"
    )]
    ProposeKind {
        /// The node to read the registry from, and the genesis or trust anchor to check its
        /// answer with.
        #[command(flatten)]
        ledger: LedgerArgs,
        /// The revised kind file.
        #[arg(long, value_name = "NEW.toml")]
        revise: PathBuf,
        /// The kind file the ledger registers now (whose hash it lists).
        #[arg(long, value_name = "OLD.toml")]
        previous: PathBuf,
        /// Where to write the proposal (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// How to reach the node (--ca, --insecure-http).
        #[command(flatten)]
        transport: TransportArgs,
    },
    /// Submit a governance proposal with its approvals to the ledger, and wait until it is
    /// certified. The approvals are checked first against the current validator set (read
    /// from the node, checked against the genesis or trust anchor): each must be this
    /// proposal's, by a current validator, and more than two thirds of them are needed.
    SubmitGovernance {
        /// The node to submit to, and the genesis or trust anchor to check its answers
        /// with.
        #[command(flatten)]
        ledger: LedgerArgs,
        /// The proposal file.
        #[arg(long, value_name = "FILE")]
        proposal: PathBuf,
        /// The validators' approval files (from `ecert-node approve`).
        #[arg(long = "approval", value_name = "FILE", num_args = 1.., required = true)]
        approvals: Vec<PathBuf>,
        /// How to reach the node (--ca, --insecure-http).
        #[command(flatten)]
        transport: TransportArgs,
    },
    /// Print the trust anchor of a genesis (chain id and validator-set hash): the file
    /// counters (`ecert-verify init --anchor`), issuers and wallets pin.
    TrustAnchor {
        /// The genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// Also write the anchor as a QR code to this file (SVG if it ends in `.svg`, else
        /// PNG), for counters and wallets to scan instead of typing it.
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
    },
}

/// A ledger node and what checks its answers: the genesis file or the trust anchor.
#[derive(clap::Args)]
struct LedgerArgs {
    /// A ledger node (https://HOST:PORT).
    #[arg(long, value_name = "URL")]
    node: String,
    /// The genesis file: its trust anchor checks the node's answers, and it gives the
    /// validators' addresses while the set has never changed.
    #[arg(long, value_name = "FILE", required_unless_present = "anchor")]
    genesis: Option<PathBuf>,
    /// The trust anchor file instead of the genesis file.
    #[arg(long, value_name = "FILE", conflicts_with = "genesis")]
    anchor: Option<PathBuf>,
}

impl LedgerArgs {
    /// The trust read from the genesis or anchor file, and the client of the node.
    fn open(&self, transport: &TransportArgs) -> Result<(ledger::Trust, ecert_client::NodeClient)> {
        let trust = ledger::Trust::read(self.genesis.as_deref(), self.anchor.as_deref())?;
        let node = ledger::client(&self.node, transport)?;
        Ok((trust, node))
    }
}

/// Writes the trust anchor's text as a QR code to `path`: SVG if it ends in `.svg`, else
/// PNG. An existing file is replaced (the anchor of a genesis never changes).
fn write_anchor_qr(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let bytes = if svg {
        ecert_qr::render::to_svg(text)?.into_bytes()
    } else {
        ecert_qr::render::to_png(text, 6)?
    };
    ecert_shell::files::write_atomically(path, &bytes, Existing::Replace)
        .with_context(|| format!("writing the trust anchor's QR code to {}", path.display()))?;
    Ok(())
}

/// Largest genesis or proposal file read.
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

fn main() -> ExitCode {
    ecert_shell::exit::run::<Cli>(exit::USAGE, run, exit::for_error)
}

fn read_genesis(path: &Path) -> Result<Genesis> {
    let text = read_text_limited(path, MAX_INPUT_BYTES)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    Genesis::from_toml(&text).with_context(|| format!("genesis file {}", path.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { home, department } => {
            let public = home::init(&home, &department)?;
            outln!("Node home created in {}", home.display());
            outln!("Validator key (put it in the genesis file): {public}");
            Ok(())
        }
        Command::Key { home } => {
            outln!("{}", home::public_key(&home)?);
            Ok(())
        }
        Command::Approve {
            home,
            genesis,
            anchor,
            node,
            proposal,
            out,
            transport,
        } => {
            home::check_private(&home)?;
            let trust = ledger::Trust::read(genesis.as_deref(), anchor.as_deref())?;
            let node = node
                .map(|url| ledger::client(&url, &transport))
                .transpose()?;
            // The proposal is read (and refused if it is none) before the passphrase is
            // asked.
            let body = governance::read_proposal(&proposal)?;
            if out.exists() {
                return Err(ledger::input(format!(
                    "{} already exists; nothing was approved (choose another --out)",
                    out.display()
                ))
                .into());
            }
            let key = home::open_key(&home)?;
            governance::approve(&key, &trust, node.as_ref(), &body, &out)
        }
        Command::ProposeValidators {
            ledger,
            add,
            remove,
            replace,
            out,
            transport,
        } => {
            let (trust, node) = ledger.open(&transport)?;
            let changes = governance::Changes {
                add,
                remove,
                replace,
            };
            governance::propose(&node, &trust, &changes, &out)
        }
        Command::ProposeKind {
            ledger,
            revise,
            previous,
            out,
            transport,
        } => {
            let (trust, node) = ledger.open(&transport)?;
            governance::propose_kind(&node, &trust, &revise, &previous, &out)
        }
        Command::SubmitGovernance {
            ledger,
            proposal,
            approvals,
            transport,
        } => {
            let (trust, node) = ledger.open(&transport)?;
            governance::submit(&node, &trust, &proposal, &approvals)
        }
        Command::TrustAnchor { genesis, qr } => {
            let genesis = read_genesis(&genesis)?;
            genesis
                .check_kinds(&ecert_schemas::KindRegistry::builtin()?)
                .context("the genesis kinds do not match this build's kind files")?;
            let anchor = genesis.trust_anchor()?;
            let text = ecert_verifier::anchor_file::anchor_to_toml(
                &anchor,
                "The ecert ledger to trust: pin this file in counters, issuers and wallets.",
            );
            if let Some(path) = qr {
                write_anchor_qr(&path, &text)?;
            }
            ecert_shell::out!("{text}");
            Ok(())
        }
        Command::Run {
            home,
            genesis,
            listen,
            http,
            tls_cert,
            tls_key,
            insecure_http,
            web,
            allow_origins,
            block_interval_ms,
            max_block_txs,
            snapshot_every,
            freshness_period,
            heartbeat_ms,
            limits,
        } => {
            // A key open to other users is refused before anything else is done.
            home::check_private(&home)?;
            // The serving options are checked before the key's passphrase is asked for.
            let security = match TlsFiles::from_flags(tls_cert, tls_key) {
                Some(files) => Security::Tls(files.load()?),
                None => {
                    ecert_serve::check_plain(http, insecure_http)?;
                    Security::Plain
                }
            };
            if let Some(dir) = &web {
                if !dir.is_dir() {
                    return Err(ecert_serve::AppsError::NotAFolder(dir.clone()).into());
                }
            }
            let serving = Serving {
                security,
                insecure_http,
                web,
                allow_origins,
                limits: limits.limits(ecert_ledger_node::node::api::MAX_BODY_BYTES),
            };
            let genesis = read_genesis(&genesis)?;
            genesis
                .check_kinds(&ecert_schemas::KindRegistry::builtin()?)
                .context("the genesis kinds do not match this build's kind files")?;
            let key = home::open_key(&home)?;
            let listen = listen
                .map(|l| {
                    l.parse()
                        .with_context(|| format!("--listen {l}: not a multiaddress"))
                })
                .transpose()?;
            init_logging();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async move {
                let node = Node::start(NodeConfig {
                    data_dir: home.join("data"),
                    genesis,
                    key,
                    listen,
                    http,
                    serving: serving.clone(),
                    block_interval: Duration::from_millis(block_interval_ms),
                    max_block_txs,
                    snapshot_every,
                    freshness_period: Duration::from_secs(freshness_period),
                    heartbeat: Duration::from_millis(heartbeat_ms),
                })
                .await?;
                eprintln!("ecert-node: client API on {}", node.http_url());
                if serving.web.is_some() {
                    eprintln!(
                        "ecert-node: web apps on {0}/wallet/ and {0}/counter/",
                        node.http_url()
                    );
                }
                ecert_serve::shutdown_signal().await;
                tracing::info!("stopping");
                node.shutdown().await;
                Ok(())
            })
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn,libp2p=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
