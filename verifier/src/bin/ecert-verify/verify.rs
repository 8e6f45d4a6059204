//! `verify`: check a citizen's QR code offline against the synced ledger data.

use anyhow::Result;
use ecert_schemas::{KindRegistry, Nonce};
use ecert_verifier::Policy;

use crate::checker::Checker;
use crate::cli::VerifyArgs;
use crate::exit;
use crate::output;
use crate::scan::{self, Source};
use crate::store::Store;

/// Verifies the code given, or every code the scanner sends until the end of its input,
/// printing one verdict per code. The exit code is the last verdict's (0 only for VALID).
/// With a national anchor and list, codes are checked against every synced province.
pub fn run(store: &Store, args: VerifyArgs) -> Result<u8> {
    let expected_nonce = args.nonce.as_deref().map(parse_nonce).transpose()?;
    // Load the ledger data first: a counter that cannot check says so before the scan.
    let synced = Checker::load(store, crate::now()?)?;
    let kinds = KindRegistry::builtin()?;
    let policy = Policy {
        max_revocation_age_secs: args.max_revocation_age,
        holder_proof_max_age_secs: args.holder_window,
        expected_nonce,
        ..Policy::default()
    };
    let check = |qr: &str| -> Result<u8> {
        // The clock is read after each scan: the holder proof's age counts from now.
        let now = crate::now()?;
        let result = synced.verify(qr, now, &policy);
        let text = if args.json {
            output::json(&result, &synced, &kinds, now)?
        } else {
            match &result {
                Ok(verdict) => output::valid_text(verdict, &synced, &kinds, now),
                Err(e) => output::invalid_text(e, &synced, now),
            }
        };
        output::print(&text)?;
        Ok(match &result {
            Ok(_) => exit::OK,
            Err(e) => exit::for_error(e),
        })
    };
    match scan::source(args.qr, args.image.as_deref())? {
        Source::One(qr) => check(&qr),
        Source::Scanner(mut scanner) => {
            let mut last = exit::OK;
            while let Some(qr) = scanner.next_code()? {
                last = check(&qr)?;
            }
            Ok(last)
        }
    }
}

/// The challenge as typed by staff: hex digits, spaces and dashes ignored.
fn parse_nonce(text: &str) -> Result<Nonce> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    Nonce::from_hex(&digits).map_err(|_| {
        crate::exit::counter(format!(
            "--nonce {text:?} is not a challenge: give the hex digits printed by \
             `ecert-verify challenge` (0-9, A-F)"
        ))
        .into()
    })
}
