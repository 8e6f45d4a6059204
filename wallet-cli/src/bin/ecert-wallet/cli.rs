//! The command line: every command, option and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ecert_schemas::date::Date;

/// Your electronic certificates (ID card, licences, certificates from government
/// departments), kept encrypted on this computer and shown as a QR code at a counter.
#[derive(Debug, Parser)]
#[command(
    name = "ecert-wallet",
    version,
    about = "Keep your electronic certificates and show them as a QR code at a counter.",
    long_about = "Keep your electronic certificates (ID card, driver licence, social security card, \
no-criminal-record certificate, ...) in an encrypted wallet on this computer, and show them \
as a QR code at a service counter, choosing exactly which details to disclose.

Getting started:
  ecert-wallet init                 create your wallet (you choose a passphrase)
  ecert-wallet id                   show your wallet ID to a department
  ecert-wallet receive FILE         add a certificate a department gave you
  ecert-wallet receive --offer LINK collect a certificate with a department's offer link
  ecert-wallet list                 see your certificates
  ecert-wallet present --show id-card:name,id_number
                                    show name and ID number as a QR code
  ecert-wallet history              see which details you showed, and when
  ecert-wallet backup FILE          keep an encrypted copy somewhere safe

Where the wallet is kept: the file given with --wallet, else $ECERT_WALLET, else \
$XDG_DATA_HOME/ecert/wallet.ecw, else ~/.local/share/ecert/wallet.ecw.

Passphrase: you are asked for it when needed. For scripts it can be taken from the \
environment variable ECERT_WALLET_PASSPHRASE instead (and ECERT_NEW_WALLET_PASSPHRASE, \
ECERT_BACKUP_PASSPHRASE where noted). Nobody can recover a forgotten passphrase.",
    after_help = format!(
        "Run 'ecert-wallet COMMAND --help' for more about a command.\n\n{}",
        crate::exit::help()
    )
)]
pub struct Cli {
    /// The wallet file to use [default: $ECERT_WALLET, else $XDG_DATA_HOME/ecert/wallet.ecw,
    /// else ~/.local/share/ecert/wallet.ecw]
    #[arg(long, global = true, value_name = "FILE")]
    pub wallet: Option<PathBuf>,

    // `--ca`, `--insecure-http`.
    #[command(flatten)]
    pub net: ecert_client::TransportArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty wallet protected by a passphrase you choose.
    #[command(
        long_about = "Create a new, empty wallet protected by a passphrase you choose.

A new wallet key is made on this computer; certificates issued to you are bound to it, so \
only this wallet (or a backup of it) can show them. You are asked for the passphrase twice \
(or it is taken from ECERT_WALLET_PASSPHRASE). It must be at least 8 characters.

If you forget the passphrase, nobody can open the wallet again: keep a backup \
(ecert-wallet backup) and remember its passphrase.

An existing wallet is never overwritten."
    )]
    Init,

    /// Show your wallet ID, to give to a department that issues you a certificate.
    #[command(
        long_about = "Show your wallet ID (your wallet's public key), to give to a \
department that issues you a certificate.

It is printed as text and drawn as a QR code the department's staff can scan. The ID is \
not secret: it lets a department bind a certificate to your wallet, nothing more."
    )]
    Id(IdArgs),

    /// Add a certificate a department gave you: from files, or from its server with an offer.
    #[command(
        long_about = "Add a certificate a department gave you to your wallet: from \
certificate files, or straight from the department's server with a one-time offer.

From files: each FILE is a certificate package (the file the department gives you, \
usually ending in .ecp). It is added only if it is readable, was issued to THIS wallet's \
ID, and is not already in your wallet; if any file cannot be added, none is added and \
your wallet is unchanged. A certificate issued as one-time copies is checked to fit this \
wallet's key; a newer issue of one you hold (the department issued it again) replaces it, \
with all its copies unused.

With an offer: the department gives you an offer link (as text or as a QR code), like \
https://10.1.2.3:8443/v1/offers/K7Q2-99XF, or an offer code and its server's address. \
The wallet proves to the server that it holds the wallet ID the certificate was issued \
to, collects the certificate, and checks and adds it exactly like a file. An offer works \
for one wallet: if this one was interrupted after collecting it, run the same command \
again (the department hands the certificate again to the same wallet for a few days, 7 \
unless it says otherwise). If the certificate cannot be added after it was collected, a \
copy is kept in a file beside your wallet and the message says where.

Examples:
  ecert-wallet receive id-card.ecp
  ecert-wallet receive --offer https://10.1.2.3:8443/v1/offers/K7Q2-99XF
  ecert-wallet receive --offer K7Q2-99XF --issuer https://10.1.2.3:8443
  ecert-wallet --ca department-ca.pem receive --offer https://10.1.2.3:8443/v1/offers/K7Q2-99XF

With an offer, the exit code says what went wrong: 3 the server could not be reached, \
4 its answer was not usable, 5 unknown offer code, 6 offer already collected, 7 the \
certificate is for another wallet ID, 8 the server refused the wallet's signature."
    )]
    Receive(ReceiveArgs),

    /// List the certificates in your wallet.
    #[command(
        long_about = "List the certificates in your wallet, one per line: its short ID \
(used to pick it in other commands), its kind, who issued it and until when it is valid. \
Certificates past their end date are marked EXPIRED. For a certificate issued as one-time \
copies, how many copies are left to show ('copies left: 27 of 30')."
    )]
    List,

    /// Show everything one certificate says (only you see this).
    #[command(
        long_about = "Show all details of one certificate: every field with its label \
and its key (the name you use with 'present --show'). This is your own view on this screen; \
nothing is sent anywhere.

CERTIFICATE is the certificate's short ID (or its first few characters) as shown by \
'ecert-wallet list', or a kind such as id-card if you have only one of that kind."
    )]
    Show(ShowArgs),

    /// Show certificates as a QR code at a counter, disclosing only the details you choose.
    #[command(
        long_about = "Show one or more certificates as a QR code for a counter to scan, \
disclosing only the details you choose.

Choose with --show CERTIFICATE:field,field. CERTIFICATE is a kind (id-card, \
driver-licence, social-security-card, no-criminal-record) or a certificate's short ID from \
'ecert-wallet list'; the fields are keys as shown by 'ecert-wallet show'. Repeat --show to \
put several certificates in one QR code. With nothing after the colon, the counter learns \
only the certificate's kind, issuer and validity. If you have several certificates of one kind, the one \
valid today is used; if more than one is, pick by short ID.

The QR code is signed by your wallet and is valid for about one minute, so a photo of it \
soon stops working. Use --live to keep showing a fresh one, or --nonce when the counter \
shows you a challenge code.

Certificates issued as one-time copies ('ecert-wallet list' shows the copies left): each \
QR code shows a copy not shown before, so counters cannot tell that two of your QR codes \
came from the same certificate. The copy is marked used before the code is shown (a live \
code shows one copy for the whole session). When 5 or fewer are left you are told to ask \
the department for new copies. When none is left the code is refused (exit code 11): ask \
the department to issue the certificate again, and receive the new file, which replaces \
the old one. Only if you cannot wait, --reuse-copy shows the last copy again: the \
counters that see it can then tell it is the same certificate. One QR code cannot mix \
certificates of one-time copies with certificates of the older kind: show them in two \
codes.

Counters that ask: a counter registered by its department can show you a request (a QR \
code whose text starts with ECQ1:). Give it with --request: the wallet checks that the \
counter is registered on your ledger by a department (it needs the ledger's list of \
departments, kept by 'ecert-wallet refresh'), and that it asks only for what its \
registration allows; it tells you who asks, why and what, which certificate it will use \
and what it will not show, and asks you to confirm (unless --yes). The QR code then shows \
exactly the fields asked, answers this request only, and your history records the \
counter's name. Leave out a field with --decline KIND:FIELD. A request that fails its \
checks is refused (exit code 12) and nothing is shown.

Examples:
  hotel check-in:      ecert-wallet present --show id-card:name,id_number
  job application:     ecert-wallet present --show id-card:name,id_number \\
                                            --show no-criminal-record:result,purpose
  counter challenge:   ecert-wallet present --show id-card:name --nonce 9f3a61c2
  counter's request:   ecert-wallet present --request 'ECQ1:...'"
    )]
    Present(PresentArgs),

    /// See which details your wallet has shown, and when (your history of QR codes).
    #[command(
        long_about = "See which details your wallet has shown, and when: every QR code \
made with 'ecert-wallet present' is recorded before it is shown, and listed here newest \
first with the certificates it showed (short ID, kind, issuer), the details it disclosed, \
and whether it answered a counter's challenge code. A live session (--live) is one entry.

Only the names of the details are kept (for example Name, ID number), never their \
values: the history tells you where your data went without becoming another copy of it. \
It is kept inside your encrypted wallet file, so only your passphrase opens it, and \
travels with your backups. The newest 10000 presentations are kept; older ones are \
dropped as new ones come.

--clear deletes the whole history from your wallet (backups made earlier keep theirs). \
It asks you to confirm, unless you add --yes.

Examples:
  ecert-wallet history
  ecert-wallet history --since 2026-05-01 --limit 20
  ecert-wallet history --json
  ecert-wallet history --clear"
    )]
    History(HistoryArgs),

    /// Write an encrypted backup of your wallet to a file.
    #[command(
        long_about = "Write an encrypted backup of your whole wallet (its key and all \
certificates) to FILE, protected by a backup passphrase you choose (asked twice, or taken \
from ECERT_BACKUP_PASSPHRASE). Keep it somewhere safe, away from this computer; restore it \
on a new phone or computer with 'ecert-wallet restore'.

Anyone with the backup file AND its passphrase can show your certificates: choose a strong \
passphrase. An existing FILE is not overwritten unless you add --force."
    )]
    Backup(BackupArgs),

    /// Create your wallet on this device from a backup file.
    #[command(
        long_about = "Create your wallet on this device from a backup made with \
'ecert-wallet backup': on a new phone or computer, or after losing this one. You are asked for the backup's passphrase (or it is taken from \
ECERT_BACKUP_PASSPHRASE), then for a new passphrase for the wallet on this device (or \
ECERT_WALLET_PASSPHRASE).

Your certificates keep working: they are bound to the wallet key inside the backup. An \
existing wallet is not overwritten unless you add --force (its certificates would be lost \
unless they are also in the backup)."
    )]
    Restore(RestoreArgs),

    /// Show, or set, the ledger your wallet checks answers against (its trust anchor).
    #[command(
        long_about = "Show, or set, the trust anchor: the ledger whose answers 'ecert-wallet \
refresh' accepts. The anchor FILE is the same small text file service counters are set up \
with (two lines, chain_id and validators_hash), published by the department running the \
ledger. Get it from a source you trust: with the wrong anchor, refresh would believe the \
wrong ledger.

Without --anchor, shows the current anchor. It is kept beside the wallet file (not in \
backups: set it again after 'ecert-wallet restore'). A different anchor already set is \
not replaced unless you add --force. No passphrase is needed: the anchor is not secret."
    )]
    Trust(TrustArgs),

    /// Ask the ledger whether your certificates are on record and not revoked.
    #[command(
        long_about = "Ask a ledger node, for every certificate in your wallet, whether it \
is anchored (on record in the ledger, which counters require) and whether it is revoked.

For each certificate you see one of:
  anchored in batch N at height H (certified)   on record, proven by the ledger's validators
  anchored ... (unverified)                      the node says so, but nothing was checked
  not anchored                                   the ledger does not know it: counters refuse it
and either 'not revoked' or 'REVOKED by DEPARTMENT'. The ledger records only that a \
certificate was revoked, not why: ask the department.

The node itself is not trusted: its answers are checked against your trust anchor (set \
with 'ecert-wallet trust --anchor FILE'). Without a trust anchor the answers are shown as \
UNVERIFIED: a wrong or dishonest node could then tell you anything. Even when certified, \
the revocation status is as of the block shown; a node could show you an older block, \
never a forged one.

Nothing in your wallet is changed. Exit code 0 when all was checked and nothing is \
revoked, 9 when a certificate is reported revoked, 4 when an answer was refused, 3 when \
the node could not be reached, 1 when a certificate in the wallet is damaged.

Example: ecert-wallet refresh --node https://10.1.2.3:7200"
    )]
    Refresh(RefreshArgs),

    /// Ask the department for new one-time copies of certificates running out of them.
    #[command(
        long_about = "Ask a department's server for new one-time copies of certificates \
in your wallet. Each copy of a certificate is shown once; when few are left, ask for more \
before they run out. The wallet sends the department one copy of the certificate as it \
issued it, signed with your wallet key: nothing the department does not already know.

The department issues new copies in batches with other citizens' (so that they cannot be \
told apart), so the first request is usually queued: run the same command again later \
(for example the next day) to collect them. The new copies replace the old ones; the \
certificate, its fields and its validity stay the same, and facts such as 'age 18 or \
over' are computed again as of the new issue.

Certificates of the older format (issued whole, shown the same at every counter) are asked \
for as one-time copies: that is how the wallet upgrades them.

Without CERT, every certificate with 5 or fewer copies left, and every certificate of the \
older format, is asked for. A certificate from another department is refused by that \
server: ask the department that issued it.

Example: ecert-wallet refill --from https://certificates.justice.example:7400 id-card"
    )]
    Refill(RefillArgs),

    /// Change your wallet's passphrase.
    #[command(
        long_about = "Change your wallet's passphrase. You are asked for the current \
passphrase (or ECERT_WALLET_PASSPHRASE) and then twice for the new one (or \
ECERT_NEW_WALLET_PASSPHRASE). Backups made earlier keep their own passphrase."
    )]
    Passwd,
}

/// Options of `id`.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Also save the QR code as a PNG image in FILE (to print or send).
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
}

/// Options of `receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Certificate files from a department.
    #[arg(
        value_name = "FILE",
        required_unless_present = "offer",
        conflicts_with = "offer"
    )]
    pub files: Vec<PathBuf>,

    /// Collect the certificate with a one-time offer: the offer link
    /// (https://HOST:PORT/v1/offers/CODE), or just the CODE together with --issuer.
    #[arg(long, value_name = "LINK or CODE")]
    pub offer: Option<String>,

    /// With --offer CODE: the department's server, as https://HOST:PORT.
    #[arg(long, value_name = "URL", requires = "offer")]
    pub issuer: Option<String>,
}

/// Options of `refill`.
#[derive(Debug, Args)]
pub struct RefillArgs {
    /// The department's server, as https://HOST:PORT (the address in its offer links).
    #[arg(long, value_name = "URL")]
    pub from: String,

    /// The certificates: a kind (e.g. id-card) or a short ID from 'ecert-wallet list'.
    #[arg(value_name = "CERT")]
    pub certs: Vec<String>,
}

/// Options of `trust`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The trust anchor file from the department running the ledger.
    #[arg(long, value_name = "FILE")]
    pub anchor: Option<PathBuf>,

    /// Replace a different trust anchor that is already set.
    #[arg(long, requires = "anchor")]
    pub force: bool,
}

/// Options of `refresh`.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// The ledger node to ask, as https://HOST:PORT.
    #[arg(long, value_name = "URL")]
    pub node: String,
}

/// Options of `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The certificate: its short ID from 'ecert-wallet list' (or its first characters),
    /// or its kind (e.g. id-card).
    #[arg(value_name = "CERTIFICATE")]
    pub certificate: String,
}

/// Options of `present`.
#[derive(Debug, Args)]
pub struct PresentArgs {
    /// What to disclose: CERTIFICATE:field,field (e.g. id-card:name,id_number). Repeat for
    /// several certificates in one QR code.
    #[arg(
        long = "show",
        value_name = "CERTIFICATE:FIELDS",
        required_unless_present = "request"
    )]
    pub show: Vec<String>,

    /// Answer a counter's request: its text (ECQ1:...), a file holding it, or - to read
    /// it from standard input. The wallet checks who asks and shows exactly what was asked.
    #[arg(
        long,
        value_name = "REQUEST",
        conflicts_with_all = ["show", "nonce", "live"]
    )]
    pub request: Option<String>,

    /// With --request: leave out one field asked for (KIND:FIELD); repeat for several.
    #[arg(long, value_name = "KIND:FIELD", requires = "request")]
    pub decline: Vec<String>,

    /// With --request: do not ask to confirm.
    #[arg(long, requires = "request")]
    pub yes: bool,

    /// Challenge mode: the code the counter shows you (hexadecimal, 2 to 64 digits). The
    /// QR code then answers that challenge only.
    #[arg(long, value_name = "HEX")]
    pub nonce: Option<String>,

    /// Save the QR code as a PNG image in FILE instead of drawing it here.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,

    /// Save the QR code as an SVG image in FILE instead of drawing it here.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Print the QR code's text instead of drawing it (for copying into another app).
    #[arg(long)]
    pub text: bool,

    /// Keep showing a fresh QR code, redrawn every --interval seconds, until Ctrl-C.
    #[arg(long, conflicts_with_all = ["nonce", "png", "svg", "text"])]
    pub live: bool,

    /// With --live: seconds between redraws (1 to 50).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        requires = "live",
        value_parser = clap::value_parser!(u64).range(1..=50)
    )]
    pub interval: u64,

    /// With --live: stop after N QR codes.
    #[arg(
        long,
        value_name = "N",
        requires = "live",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub count: Option<u64>,

    /// For a certificate of one-time copies whose copies have all been shown: show the
    /// last copy again. The counters that see it can then tell that both presentations
    /// are of the same certificate; ask the department for new copies instead when you can.
    #[arg(long)]
    pub reuse_copy: bool,
}

/// Options of `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Print the history as JSON, for scripts.
    #[arg(long, conflicts_with = "clear")]
    pub json: bool,

    /// Only presentations made on or after DATE (YYYY-MM-DD, from 00:00 UTC).
    #[arg(
        long,
        value_name = "DATE",
        value_parser = parse_date,
        conflicts_with = "clear"
    )]
    pub since: Option<Date>,

    /// Only the newest N presentations.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..),
        conflicts_with = "clear"
    )]
    pub limit: Option<u64>,

    /// Delete the whole history from your wallet (you are asked to confirm).
    #[arg(long)]
    pub clear: bool,

    /// With --clear: do not ask to confirm.
    #[arg(long, requires = "clear")]
    pub yes: bool,
}

/// A `--since` date.
fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text.trim())
}

/// Options of `backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the backup.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Replace FILE if it already exists.
    #[arg(long)]
    pub force: bool,
}

/// Options of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file made with 'ecert-wallet backup'.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Replace the wallet on this device if there already is one.
    #[arg(long)]
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_exit_codes_in_help_are_the_table() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains(&crate::exit::help()), "{help}");
    }
}
