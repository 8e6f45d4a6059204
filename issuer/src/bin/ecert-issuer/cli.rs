//! The command line: every command, option and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The department operator's tool.
#[derive(Debug, Parser)]
#[command(
    name = "ecert-issuer",
    version,
    about = "Issue, deliver, revoke and audit your department's electronic certificates.",
    long_about = "Issue your department's electronic certificates (ID cards, licences, \
no-criminal-record certificates, ...) to citizens' wallets, anchor them on the departments' \
shared ledger, deliver them as files or one-time offer codes, revoke them, and check the \
ledger for certificates issued in your department's name.

Getting started (once):
  ecert-issuer init --issuer justice --node http://10.1.2.3:7300 --anchor anchor.toml
  ecert-issuer key                  print the department's public key (for the ledger's genesis)

Every day:
  ecert-issuer issue --kind no-criminal-record --claims wang-fang.json --holder WALLET_ID
  ecert-issuer issue --kind no-criminal-record --csv today.csv --out-dir delivered/
  ecert-issuer list                 see what was issued
  ecert-issuer show --cert 5f0c9e21 one certificate and its copies
  ecert-issuer revoke --cert 5f0c9e21 --reason data-error
  ecert-issuer audit                check the ledger for certificates you did not issue
  ecert-issuer serve                let wallets fetch certificates with offer codes
  ecert-issuer register-counter ... let a counter ask wallets for chosen fields

Where the department's data is kept (its \"home\"): the folder given with --home, else \
$ECERT_ISSUER_HOME, else $XDG_DATA_HOME/ecert-issuer, else ~/.local/share/ecert-issuer. \
Keep it backed up: it holds the department's signing key (encrypted) and its register of \
issued certificates.

Passphrase: the department's signing key is encrypted with a passphrase. You are asked for \
it when a command signs something; for scripts it can be taken from the environment variable \
ECERT_ISSUER_PASSPHRASE instead.",
    after_help = "Run 'ecert-issuer COMMAND --help' for more about a command.",
    after_long_help = crate::exit::help()
)]
pub struct Cli {
    /// The department's home folder [default: $ECERT_ISSUER_HOME, else
    /// $XDG_DATA_HOME/ecert-issuer, else ~/.local/share/ecert-issuer]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    // `--ca`, `--insecure-http` (with 'serve', `--insecure-http` also allows serving plain
    // HTTP on a non-loopback address: see `ServeArgs::listen`).
    #[command(flatten)]
    pub net: ecert_client::TransportArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up this department's home: a new signing key, the ledger node and trust anchor.
    #[command(
        long_about = "Set up this department's home folder: make a new signing \
key (it never leaves this computer, and is stored encrypted with a passphrase you choose), \
and record the department's issuer id, the ledger node to use and the ledger's trust anchor.

The issuer id is the one your department has in the ledger's genesis (for example justice). \
The public key printed at the end must be registered for your department in the ledger's \
genesis (or by a key rotation) before the ledger accepts its certificates: give it to the \
ledger's operators ('ecert-issuer key' prints it again).

--node and --anchor may be left out and set later ('ecert-issuer config --node URL', \
'ecert-issuer set-anchor FILE'), for example when the ledger's genesis does not exist yet.

An existing home is never overwritten."
    )]
    Init(InitArgs),

    /// Print the department's public key (64 hexadecimal digits), for the ledger's genesis.
    #[command(
        long_about = "Print the department's current public signing key as 64 \
hexadecimal digits and nothing else, for the ledger's operators (genesis file) and for \
scripts. No passphrase is needed."
    )]
    Key,

    /// Show or change the settings: the ledger node and the offer endpoint address.
    #[command(
        long_about = "Show the home's settings (issuer id, ledger node, offer \
endpoint address, trust anchor, public key, number of certificates issued), or change them.

--node URL          the ledger node's address, for example http://10.1.2.3:7300
--serve-url URL     the address at which citizens' wallets reach 'ecert-issuer serve', for \
example http://certificates.justice.example:7400; offer QR codes point there"
    )]
    Config(ConfigArgs),

    /// Set the ledger's trust anchor (the anchor file of the ledger's genesis).
    #[command(
        long_about = "Set the ledger's trust anchor: the anchor file (chain_id and \
validators_hash, from the ledger's genesis) that counters use with 'ecert-verify init'. \
Every proof the ledger node sends is checked against it; the node itself is not trusted.

A different anchor already set is replaced only with --force (only do that when the ledger's \
operators tell you to)."
    )]
    SetAnchor(SetAnchorArgs),

    /// Issue certificates: one from a claims file, or many from a CSV file.
    #[command(
        long_about = "Issue certificates of one kind, anchor them on the ledger and \
write the certificate files for the citizens' wallets.

One certificate:   --claims FILE (.json or .toml) --holder WALLET_ID
Many certificates: --csv FILE (a 'holder' column and one column per field; a list, such as \
driver licence classes, is written C1;C2; the header is row 1)

A kind's derived facts (age_over_18 on an ID card, no_record on a no-criminal-record \
certificate, ...) are computed from the other fields when the certificate is issued: they \
are never given, and input that gives one is refused.

The claims are checked against the kind before anything is signed; a mistake is reported \
with its row and field, and NOTHING is issued from a file with any bad row: fix the rows \
and run the command again. The citizen's wallet ID (64 hexadecimal digits) is shown by their \
'ecert-wallet id'.

All certificates of one command go into one batch, anchored on the ledger (waiting until the \
ledger has certified it), and the ledger's proof is checked against the trust anchor before \
any file is written. Certificate files (.ecp) are written with --out FILE (one \
certificate) or into --out-dir DIR (one per CSV row, named rowNNNN-WALLET.ecp; default: the \
current folder). Existing files are never replaced.

With --offer, each certificate also gets a one-time offer code, printed as text and as a QR \
code of its offer URL (set the address with 'ecert-issuer config --serve-url'); the citizen's \
wallet fetches the certificate from 'ecert-issuer serve' with it. Only the wallet the \
certificate was issued to can redeem the code, once. With --offer, files are written only \
if --out or --out-dir is given.

Each certificate is issued as --copies N one-time copies (default 30, at most 1000), all in \
one file or offer: the citizen's wallet shows a fresh copy at every counter, so that counters \
cannot match two showings beyond what the citizen chose to show. Each copy has its own \
number in the department's revocation list; revoking the certificate revokes them all.

Validity starts now and lasts --valid-days days (default: the longest the kind allows).

A large CSV file is issued in several anchor batches of up to 50,000 certificates (fewer \
with many copies: a batch holds at most 4,000,000 copies). If the \
command is interrupted (a crash, a power cut, the ledger out of reach), nothing signed is \
lost: run 'ecert-issuer issue --resume' to deliver what was signed and issue the rest; no \
other 'issue' runs until then.

The department's register records, for each certificate, its id, kind, wallet ID, dates, \
batch and its copies' status indexes; not the claim values."
    )]
    Issue(IssueArgs),

    /// Revoke certificates this department issued.
    #[command(
        long_about = "Revoke certificates this department issued, by the id shown in \
'ecert-issuer list' (at least its first 8 hexadecimal digits; it is also the short ID the \
citizen's wallet shows). The revocation is signed, sent to the ledger and waited for until \
certified; counters refuse the certificate (every one of its copies) once they have synced.

Reasons: unspecified, superseded, data-error, holder-key-compromised, withdrawn, \
holder-deceased. Revocation cannot be undone."
    )]
    Revoke(RevokeArgs),

    /// List the certificates this department issued.
    #[command(
        long_about = "List the certificates this department issued, oldest first: \
id (first 8 hexadecimal digits; use it with 'revoke' and 'show'), kind, the holder's wallet \
ID (first 8 digits), issue and expiry dates, the number of one-time copies ('-' for a \
certificate issued whole, before copies), the batch's place in the ledger's anchor log, and \
the status: valid, expired, revoked (with the reason), or, for a batch that was not anchored \
and delivered, submitted, refused or undelivered."
    )]
    List(ListArgs),

    /// Show one certificate this department issued: its copies, batch and status.
    #[command(
        long_about = "Show one certificate this department issued, by the id shown in \
'ecert-issuer list' (--cert, at least its first 8 hexadecimal digits) or by the status index \
of one of its copies (--status-index N: the QR code of a copy carries no certificate id, \
only its status index): kind, the holder's wallet ID, issue and expiry dates, its batch and \
the batch's place in the ledger's anchor log, its status, where it was delivered, and the \
status index of each of its one-time copies."
    )]
    Show(ShowArgs),

    /// Check the ledger for batches issued in this department's name that it did not issue.
    #[command(
        long_about = "Ask the ledger node for every batch anchored under this \
department's name and compare them with the department's own records. A batch the \
department did not record means its key was used elsewhere: treat it as a key compromise \
(rotate the key, revoke what was issued). A batch recorded as anchored that the ledger does \
not list is reported too. Exit code 6 when anything is found, 0 when all is in order.

The list comes from one ledger node; ask more than one node (--home with another config, or \
'ecert-issuer config --node') to be sure no node hides a batch."
    )]
    Audit,

    /// Run the offer endpoint from which citizens' wallets fetch their certificates.
    #[command(
        long_about = "Run the department's offer endpoint: citizens' wallets send the \
one-time offer codes made by 'issue --offer' here and receive their certificate. A code \
works once, and only for the wallet the certificate was issued to. No passphrase is needed: \
the certificates were signed when issued.

A delivered certificate is kept in the home for --redelivery-days (default 7) so that the \
same wallet, if it was interrupted before saving it, can collect it again with the same \
code; nobody else can. Then it is deleted (checked at the start and every hour); only a \
note of who collected it and when stays. --redelivery-days 0 deletes it at once.

Listens on --listen ADDRESS:PORT (default 127.0.0.1:7400; use 0.0.0.0:7400 to accept \
connections from other computers, which needs HTTPS: --tls-cert FILE --tls-key FILE, or \
--insecure-http to serve plain HTTP on a network you trust). \
Wallet apps in a browser need --allow-origin with the app's origin. Opening an offer link \
in a browser shows a page that explains it, in Chinese and English, with a link into the \
wallet app when --wallet-app is given. Logs each request on the screen. Stop with Ctrl-C.

Example:
  ecert-issuer serve --listen 0.0.0.0:7400 --tls-cert offers.pem --tls-key offers.key \\
      --allow-origin https://10.1.2.3:7200 --wallet-app https://10.1.2.3:7200/wallet/"
    )]
    Serve(ServeArgs),

    /// Replace the department's signing key, with the ledger validators' approval.
    #[command(long_about = "Replace the department's signing key, in two steps.

1. 'ecert-issuer rotate-key' makes a new key (kept encrypted with the same passphrase) and \
writes a proposal file. Send it to the operators of the ledger's validator nodes: each \
approves it with 'ecert-node approve' and sends back an approval file.

2. 'ecert-issuer rotate-key --submit PROPOSAL --approvals FILE...' sends the proposal with \
the approvals (more than two thirds of the validators are needed) to the ledger and waits \
until it is certified.

The new key takes over at the time written in the proposal (--start-in, default 24 hours \
after step 1, leaving time for the approvals); until then the current key keeps signing. \
The switch happens at the first command after that time. Certificates issued with the old \
key stay valid; the old key is kept, encrypted, in the home for audits.

'ecert-issuer rotate-key --cancel' abandons a proposal that was not submitted (for example \
when the approvals did not arrive before the start time).")]
    RotateKey(RotateKeyArgs),

    /// Register one of the department's counters: what it may ask citizens' wallets for.
    #[command(
        long_about = "Register one of the department's counters, so that citizens' \
wallets answer its requests: the department signs, with its current key, a statement naming \
the counter's key (printed by 'ecert-verify counter-key' at the counter), its name as \
citizens read it (--name, and --name-local in the local language), its role (one word: \
office, employer, hotel, ...), the fields of each kind it may ask for (--may-ask \
KIND:FIELD,FIELD, repeated for several kinds) and how long the statement is valid (from now, \
--days). The statement is written to FILE for the counter ('ecert-verify registration FILE'); \
it is not secret and nothing is sent to the ledger.

A wallet refuses a request that asks for more than its counter's registration allows, or \
that comes from a counter whose registration was not signed by a key the ledger lists for \
the department.

Example:
  ecert-issuer register-counter --counter-key 3b6a27bc... --name 'Jinjiang Hotel front desk' \\
      --name-local '锦江饭店前台' --role hotel --may-ask id-card:name,id_number,age_over_18 \\
      --days 365 --out jinjiang.ecr"
    )]
    RegisterCounter(RegisterCounterArgs),

    /// Issue new one-time copies for the wallets that asked for them.
    #[command(
        long_about = "Issue new one-time copies of certificates whose holders' wallets asked \
for more ('ecert-wallet refill', sent to 'ecert-issuer serve', which keeps each request in \
the home's refills/pending/). Each request is checked again: the copy it carries must be one \
this department signed for that wallet, and the certificate must be neither revoked nor \
expired. The new copies keep the certificate's id and validity, and its derived facts are \
computed again as of today.

Requests wait until at least --min-requests of one kind are queued, so that the new copies \
are anchored in one batch with other wallets' and cannot be told apart by their batch. Run \
the command regularly (for example every night). The new packages wait in refills/ready/ \
until each wallet asks again; they are anchored like any batch, and an interrupted run is \
finished by 'ecert-issuer issue --resume'.

Example:
  ecert-issuer refill --min-requests 100"
    )]
    Refill(RefillArgs),
}

/// Options of `refill`.
#[derive(Debug, Args)]
pub struct RefillArgs {
    /// Issue a kind's requests only when at least this many are queued (the batch the new
    /// copies hide in).
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub min_requests: u64,

    /// One-time copies per certificate, 1 to 1000.
    #[arg(
        long,
        value_name = "N",
        default_value_t = ecert_schemas::copy::DEFAULT_COPIES,
        value_parser = copies
    )]
    pub copies: u16,

    /// Most certificates per anchor batch.
    #[arg(long, value_name = "N", hide = true, default_value_t = ecert_issuer::issuance::DEFAULT_BATCH_SIZE)]
    pub batch_size: u64,
}

/// Options of `register-counter`.
#[derive(Debug, Args)]
pub struct RegisterCounterArgs {
    /// The counter's public key (64 hexadecimal digits, from 'ecert-verify counter-key').
    #[arg(long, value_name = "HEX")]
    pub counter_key: String,

    /// The counter's name, as citizens should read it.
    #[arg(long, value_name = "TEXT")]
    pub name: String,

    /// The counter's name in the local language.
    #[arg(long, value_name = "TEXT")]
    pub name_local: Option<String>,

    /// What kind of counter it is, one word (office, employer, hotel, ...).
    #[arg(long, value_name = "WORD")]
    pub role: String,

    /// Fields of one kind the counter may ask for: KIND:FIELD,FIELD (repeat for several
    /// kinds).
    #[arg(long, value_name = "KIND:FIELDS", required = true)]
    pub may_ask: Vec<String>,

    /// How many days from now the registration is valid (1 to 3660).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=3660))]
    pub days: u64,

    /// Where to write the registration.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Options of `rotate-key`.
#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    /// Step 1: minutes from now until the new key takes over.
    #[arg(
        long,
        value_name = "MINUTES",
        default_value_t = 1440,
        conflicts_with = "submit",
        value_parser = clap::value_parser!(u64).range(1..=525_600)
    )]
    pub start_in: u64,

    /// Step 1: where to write the proposal [default: rotate-key-ISSUER-SEQ.cbor here].
    #[arg(long, value_name = "FILE", conflicts_with = "submit")]
    pub out: Option<PathBuf>,

    /// Step 2: the proposal file written in step 1.
    #[arg(long, value_name = "PROPOSAL", requires = "approvals")]
    pub submit: Option<PathBuf>,

    /// Step 2: the validators' approval files.
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "submit")]
    pub approvals: Vec<PathBuf>,

    /// Abandon a proposed rotation that the ledger has not certified (deletes the new key).
    #[arg(long, conflicts_with_all = ["submit", "out"])]
    pub cancel: bool,
}

/// Options of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The department's issuer id in the ledger's genesis (for example justice).
    #[arg(long, value_name = "ID")]
    pub issuer: String,

    /// The ledger node's address, for example http://10.1.2.3:7300.
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,

    /// The ledger's trust anchor file (chain_id and validators_hash from its genesis).
    #[arg(long, value_name = "FILE")]
    pub anchor: Option<PathBuf>,

    /// The address at which wallets reach 'ecert-issuer serve' (for offer QR codes), for
    /// example https://certificates.justice.example:7400.
    #[arg(long, value_name = "URL")]
    pub serve_url: Option<String>,

    /// TEST ONLY: weak, fast key encryption (never for real certificates).
    #[arg(long, hide = true)]
    pub kdf_test: bool,
}

/// Options of `config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Set the ledger node's address, for example http://10.1.2.3:7300.
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,

    /// Set the address at which wallets reach 'ecert-issuer serve'.
    #[arg(long, value_name = "URL")]
    pub serve_url: Option<String>,
}

/// Options of `set-anchor`.
#[derive(Debug, Args)]
pub struct SetAnchorArgs {
    /// The anchor file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Replace a different anchor already set.
    #[arg(long)]
    pub force: bool,
}

/// Options of `issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The kind of certificate: id-card, driver-licence, social-security-card,
    /// no-criminal-record.
    #[arg(long, value_name = "KIND", required_unless_present = "resume")]
    pub kind: Option<String>,

    /// Finish an 'issue' command that was interrupted (a crash, a power cut, the ledger
    /// out of reach): deliver what it signed, then issue the rest of its input.
    #[arg(long, conflicts_with_all = ["kind", "claims", "holder", "csv", "valid_days", "out", "out_dir", "offer", "copies"])]
    pub resume: bool,

    /// Most certificates per anchor batch (a command issues several batches if needed).
    #[arg(long, value_name = "N", hide = true, default_value_t = ecert_issuer::issuance::DEFAULT_BATCH_SIZE)]
    pub batch_size: u64,

    /// One-time copies per certificate, 1 to 1000: the citizen's wallet shows each copy
    /// once, so that counters cannot tell two showings of one certificate apart.
    #[arg(
        long,
        value_name = "N",
        default_value_t = ecert_schemas::copy::DEFAULT_COPIES,
        value_parser = copies
    )]
    pub copies: u16,

    /// One certificate's claims: a .json or .toml file mapping field keys to values.
    #[arg(long, value_name = "FILE", requires = "holder", conflicts_with = "csv")]
    pub claims: Option<PathBuf>,

    /// With --claims: the citizen's wallet ID (64 hexadecimal digits, from 'ecert-wallet id').
    #[arg(long, value_name = "WALLET_ID", requires = "claims")]
    pub holder: Option<String>,

    /// Many certificates: a CSV file with a holder column and one column per field.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["claims", "resume"])]
    pub csv: Option<PathBuf>,

    /// Days of validity from now [default: the longest the kind allows].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub valid_days: Option<u32>,

    /// Write the one certificate file here (with --claims).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["out_dir", "csv"])]
    pub out: Option<PathBuf>,

    /// Write the certificate files into this folder [default: the current folder].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Also make a one-time offer code per certificate, for 'ecert-issuer serve'.
    #[arg(long)]
    pub offer: bool,
}

/// `--copies N`, checked with the workflow's own rule.
fn copies(text: &str) -> Result<u16, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of copies"))?;
    ecert_issuer::issuance::job::check_copies(n)
}

/// Options of `revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The certificate's id from 'ecert-issuer list' (at least 8 hexadecimal digits).
    /// Repeat to revoke several in one transaction.
    #[arg(long = "cert", value_name = "ID", required = true)]
    pub certs: Vec<String>,

    /// Why: unspecified, superseded, data-error, holder-key-compromised, withdrawn,
    /// holder-deceased.
    #[arg(long, value_name = "REASON")]
    pub reason: String,
}

/// Options of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only certificates of this kind.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,

    /// Only revoked certificates.
    #[arg(long)]
    pub revoked: bool,
}

/// Options of `show`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["cert", "status_index"])))]
pub struct ShowArgs {
    /// The certificate's id from 'ecert-issuer list' (at least 8 hexadecimal digits).
    #[arg(long, value_name = "ID")]
    pub cert: Option<String>,

    /// The certificate one of whose copies has this status index (a copy's QR code
    /// carries its status index, and no certificate id).
    #[arg(long, value_name = "N")]
    pub status_index: Option<u32>,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on. Without --tls-cert only a loopback address
    /// (127.0.0.1, ::1) is allowed, unless --insecure-http.
    #[arg(long, value_name = "ADDRESS:PORT", default_value = "127.0.0.1:7400")]
    pub listen: String,

    /// Serve HTTPS with this certificate (PEM; the server's certificate first, then any
    /// intermediate ones).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Let web pages of this origin (https://HOST:PORT, for example the wallet app served
    /// by a ledger node) redeem offers from a browser. Repeat for several; none by default.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<ecert_serve::Origin>,

    /// The wallet web app (for example https://10.1.2.3:7200/wallet/): the page an offer
    /// link opens in a browser links to it, with the offer.
    #[arg(long, value_name = "URL")]
    pub wallet_app: Option<String>,

    /// Days a delivered certificate is kept after its offer was redeemed, to be handed
    /// again to the same wallet only (one that was interrupted before saving it); then it
    /// is deleted. 0: deleted at once, an offer is answered only once.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 7,
        value_parser = clap::value_parser!(u64).range(0..=365)
    )]
    pub redelivery_days: u64,

    /// The offer endpoint's limits against hostile clients (docs/api.md, "Limits").
    #[command(flatten)]
    pub limits: ecert_serve::LimitArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
