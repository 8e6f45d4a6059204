//! The command line: commands, flags and their help texts.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use ecert_verifier::Policy;

use crate::exit;

const ABOUT: &str = "Check citizens' ecert QR codes at a service counter, offline";

const LONG_ABOUT: &str = "\
Check citizens' ecert QR codes at a service counter, offline.

A citizen shows a QR code from their ecert wallet. This tool checks, without any network,
that each certificate in it was issued by the office entitled to issue it, is on record in
the departments' shared ledger, has not expired, was not revoked as of this counter's last
sync, and is shown by the wallet it was issued to (a screenshot stops working after a
minute). It then shows only the fields the citizen chose to disclose.

First setup (once):  ecert-verify init --anchor anchor.toml
Every day:           ecert-verify sync --node https://HOST:PORT
                     (--ca FILE: trust only the department's certificate authority)
                     (or: ecert-verify sync --from-file bundle.cbor)
At the counter:      ecert-verify verify          (then scan the code)

Certificates from other provinces (a counter that serves several):
  once:              ecert-verify init --national-anchor national-anchor.toml
  when a new list comes out:
                     ecert-verify sync --trust-list trust-list.cbor
  every day, for each province served:
                     ecert-verify sync --province CHAIN_ID --node https://HOST:PORT";

const STORE_HELP: &str = "Folder where this counter keeps its trust anchor and ledger data \
[default: $ECERT_VERIFY_STORE, else $XDG_DATA_HOME/ecert-verify, else \
~/.local/share/ecert-verify]";

/// `ecert-verify`.
#[derive(Parser)]
#[command(
    name = "ecert-verify",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = "Exit codes: 0 VALID or done; 2 the counter could not check (see the \
message); 3 refused to replace stored data; 10 and up: INVALID, one code per reason (see \
`ecert-verify verify --help`)."
)]
pub struct Cli {
    #[arg(long, global = true, value_name = "DIR", help = STORE_HELP)]
    pub store: Option<PathBuf>,
    // `--ca`, `--insecure-http`.
    #[command(flatten)]
    pub net: ecert_client::TransportArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Set up this counter with the ledger's trust anchor and/or the national anchor (once)
    #[command(long_about = "\
Set up this counter with the ledger's trust anchor (do this once).

The anchor file comes from the department running the ledger (it is taken from the ledger's
genesis). It names the ledger and its validators, and holds two lines:

    chain_id = \"ecert-demo-province\"
    validators_hash = \"<64 hex digits>\"

Only ledger data certified by these validators will ever be accepted by `sync`.

A counter that also accepts certificates from other provinces is set up with the national
anchor file from the national body (--national-anchor, alone or with --anchor): the
federation's name and the national body's keys, more than two thirds of which must approve
a national trust list before `sync --trust-list` takes it:

    federation = \"ecert-national\"
    keys = [\"<64 hex digits>\", \"<64 hex digits>\", ...]

If the counter already has a different anchor (or national anchor), `init` refuses unless
you add --force.")]
    Init(InitArgs),
    /// Load the ledger's latest data from a ledger node, or from a file it exported
    #[command(long_about = "\
Load the ledger's latest data (issuers, anchored certificates, revocations) from a ledger
node over the network (--node), or from a file exported by a ledger node (--from-file). Do
this at least once a day: `verify` refuses to work with data older than 24 hours (see its
--max-revocation-age).

  ecert-verify sync --node https://10.1.2.3:7200
  ecert-verify --ca department-ca.pem sync --node https://10.1.2.3:7200
  ecert-verify sync --from-file bundle.cbor

The node is not trusted, and neither is the file: the data is checked before anything is
stored, the same way for both. It must be certified by more than two thirds of the
validators named in this counter's trust anchor, and everything in it must match what they
certified. Data older than the data already stored is refused unless you add
--allow-older. Prints the certified block height, the number of batches known, the block's
time and how old the data is.

Other provinces (a counter set up with `init --national-anchor`):

  ecert-verify sync --trust-list trust-list.cbor
  ecert-verify sync --province ecert-east --node https://10.9.8.7:7200
  ecert-verify sync --province ecert-east --from-file east-bundle.cbor

--trust-list takes the national body's list when more than two thirds of the national keys
approved it, it has not expired, and it is newer (higher version) than the list held; an
older list is always refused. The synced data of a province the new list leaves out, or
names with another validator set, is deleted. --province syncs a listed province's ledger
exactly as the counter's own (same checks, incremental updates, freshness), against the
trust anchor the list gives it; a province not on the list is refused (exit code 46).

Exit codes: 0 synced (or already up to date); 2 the data could not be had (file unreadable,
node unreachable or not answering in time, counter not set up); 3 older than the stored
data (or trust list); 10 and up: the data was refused, one code per reason (see
`verify --help`).")]
    Sync(SyncArgs),
    /// Check a citizen's QR code (from a scanner, an argument or a photo)
    #[command(long_about = "\
Check a citizen's QR code, offline, against the ledger data this counter synced.

Where the code comes from:
  ecert-verify verify                 read codes from a scanner (keyboard mode), one
                                      verdict per scan, until the end of input (Ctrl-D)
  ecert-verify verify 'EC1Z:...'      the code's text as an argument (quote it: it may
                                      contain spaces)
  ecert-verify verify --image p.jpg   a photo of the code (PNG or JPEG)

The result is a big VALID or INVALID. VALID lists each certificate (kind, issuing office,
validity) with the fields the citizen chose to show. INVALID gives the reason, its code and
what to do. Challenge mode: run `ecert-verify challenge`, read the challenge to the
citizen, and check their code with --nonce.

Counters that ask: after `ecert-verify request`, check the citizen's answer with --request.
The code must answer that request (exit code 25 otherwise). A VALID answer that shows fields
the request did not ask for is NOT ACCEPTED (exit code 4); one that leaves out fields asked
for is VALID, with the missing fields listed (exit code 5). An accepted answer retires the
pending request: make a new one for the next citizen.")]
    Verify(VerifyArgs),
    /// Print a fresh challenge for the citizen's wallet (challenge mode)
    #[command(long_about = "\
Print a fresh random challenge (16 hex digits) for challenge mode.

Read it to the citizen; they make their code with `ecert-wallet present --nonce <HEX> ...`.
Then check it with `ecert-verify verify --nonce <HEX>`: a code made earlier (a
screenshot, someone else's phone) is then refused at once, not only after a minute.

The challenge alone is printed on standard output; the instructions go to standard error.")]
    Challenge,
    /// Show what this counter trusts and how fresh its ledger data is
    #[command(long_about = "\
Show what this counter trusts and how fresh its ledger data is: the ledger (chain id) and
validator set of its trust anchor, the synced block height, that block's time and age, the
number of anchored batches, revoked certificates, and the issuing offices with the kinds of
certificate each may issue. With a national anchor: the national trust list (federation,
version, expiry, approvals) and each listed province, with its synced height and data age.
Exits with 2 if the counter is not set up or not synced.")]
    Status,
    /// Make this counter's own key (once) and print its public key, for the department
    #[command(long_about = "\
Make this counter's own key, if it has none, and print its public key (64 hex digits) on
standard output. Give it to your department: it registers the counter with
`ecert-issuer register-counter --counter-key HEX ...` and gives you a registration file to
install with `ecert-verify registration FILE`.

The key signs this counter's requests. It is kept in the store folder as counter-key.hex,
readable by this user only (a key file open to other users is refused). Anyone who copies it
can make requests in this counter's name until the registration ends: keep the store folder
private, and ask the department to register a new key if it was copied.")]
    CounterKey,
    /// Install the registration your department made for this counter
    #[command(long_about = "\
Install the registration your department made for this counter with `ecert-issuer
register-counter`. It is checked first: it must name this counter's key, this counter's
ledger, and be signed by a key the ledger lists for the department (sync first), and be valid
now. Exit codes: 0 installed; 2 the counter has no key, is not set up or not synced; 3 the
registration was refused (another counter's, another ledger's, altered, expired).")]
    Registration(RegistrationArgs),
    /// Make a signed request for the fields this counter needs, as a QR code for the wallet
    #[command(long_about = "\
Make a request for the fields this counter needs, signed with its key, and show it as a QR
code for the citizen's wallet (or as text with --text, or a PNG image with --png FILE).

  ecert-verify request --ask id-card:name,age_over_18 --purpose 'Hotel check-in'

Each --ask names one kind and its fields (KIND:FIELD,FIELD). The request may ask only for
what the counter's registration allows; a request a wallet would refuse is not made. The
wallet shows the citizen who asks (the counter's name and its department), why, and what,
and answers with exactly those fields. The request is kept as this counter's pending request:
check the citizen's code with `ecert-verify verify --request`. A wallet answers a request
for 10 minutes after it was made.")]
    Request(RequestArgs),
}

/// `registration`.
#[derive(Args)]
pub struct RegistrationArgs {
    /// The registration file from the department
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `request`.
#[derive(Args)]
pub struct RequestArgs {
    /// Fields of one kind to ask for: KIND:FIELD,FIELD (repeat for several kinds)
    #[arg(long, value_name = "KIND:FIELDS", required = true)]
    pub ask: Vec<String>,
    /// Why the counter asks, in words for the citizen
    #[arg(long, value_name = "TEXT")]
    pub purpose: String,
    /// Print the request's text (ECQ1:...) instead of drawing the QR code
    #[arg(long)]
    pub text: bool,
    /// Save the QR code as a PNG image in FILE instead of drawing it
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
}

/// `init`.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("anchors").required(true).multiple(true))]
pub struct InitArgs {
    /// The trust anchor file from the department running the ledger (TOML: chain_id and
    /// validators_hash)
    #[arg(long, value_name = "FILE", group = "anchors")]
    pub anchor: Option<PathBuf>,
    /// The national anchor file from the national body (TOML: federation and keys), for
    /// certificates from other provinces
    #[arg(long, value_name = "FILE", group = "anchors")]
    pub national_anchor: Option<PathBuf>,
    /// Replace a different anchor (or national anchor) this counter already has (this also
    /// deletes the data synced under it). Only do this when the department running the
    /// ledger (or the national body) tells you to
    #[arg(long)]
    pub force: bool,
}

/// `sync`.
#[derive(Args)]
pub struct SyncArgs {
    /// The trust bundle file exported by a ledger node
    #[arg(
        long,
        value_name = "BUNDLE",
        required_unless_present_any = ["node", "trust_list"],
        conflicts_with = "node"
    )]
    pub from_file: Option<PathBuf>,
    /// A national trust list file from the national body: checked against the national
    /// anchor and kept if newer than the one held
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["node", "from_file", "province", "allow_older"]
    )]
    pub trust_list: Option<PathBuf>,
    /// Sync another province's ledger (by its chain id on the national trust list), with
    /// --node or --from-file: checked against the trust anchor the list gives it
    #[arg(long, value_name = "CHAIN_ID")]
    pub province: Option<String>,
    /// Fetch the data from this ledger node over the network: https://HOST:PORT
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,
    /// With --node: give up if the whole download takes longer than this many seconds
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 300,
        requires = "node",
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub timeout: u64,
    /// Accept data older (lower block height) than the data already stored
    #[arg(long)]
    pub allow_older: bool,
    /// With --node: fetch the node's whole export, not only what changed since the data
    /// this counter holds
    #[arg(long, requires = "node")]
    pub full: bool,
}

/// `verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The QR code's text, as the scanner reads it. Leave out to read from the scanner
    /// (standard input): one code a line, one verdict each, until the end of input; the
    /// exit code is the last verdict's. `-` also means standard input
    #[arg(value_name = "QR", conflicts_with = "image")]
    pub qr: Option<String>,
    /// Read the QR code from a photo (PNG or JPEG) instead
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Print the result as one JSON object (for other programs)
    #[arg(long)]
    pub json: bool,
    /// Challenge mode: the challenge printed by `ecert-verify challenge`; a code that
    /// does not answer it is INVALID
    #[arg(long, value_name = "HEX", conflicts_with = "request")]
    pub nonce: Option<String>,
    /// Check the code as the answer to this counter's pending request (`ecert-verify
    /// request`): it must carry that request's binding, and show exactly the fields asked
    #[arg(long)]
    pub request: bool,
    /// Refuse to verify when the synced ledger data is older than this many seconds
    #[arg(long, value_name = "SECS", default_value_t = Policy::default().max_revocation_age_secs)]
    pub max_revocation_age: u64,
    /// Accept a code only if the wallet made it at most this many seconds ago
    #[arg(long, value_name = "SECS", default_value_t = Policy::default().holder_proof_max_age_secs)]
    pub holder_window: u64,
}

/// Parses the command line; on `--help`, `--version` or a usage error, prints and exits
/// (0 for help and version, 2 for a usage error).
pub fn parse() -> Cli {
    let command = Cli::command().mut_subcommand("verify", |c| {
        c.after_long_help(exit::help_table())
            .after_help("Exit codes: see --help.")
    });
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
