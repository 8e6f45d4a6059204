//! `verify`: check a citizen's QR code offline against the synced ledger data.

use anyhow::Result;
use ecert_schemas::{KindRegistry, Nonce};
use ecert_verifier::request::compare_answer;
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
/// With `--request`, one code is checked as the answer to the counter's pending request
/// ([`compare_answer`]): one that shows fields not asked for is not accepted
/// ([`exit::UNASKED`]), one that leaves out fields asked for is reported
/// ([`exit::INCOMPLETE`]); an accepted answer retires the request.
pub fn run(store: &Store, args: VerifyArgs) -> Result<u8> {
    let mut expected_nonce = args.nonce.as_deref().map(parse_nonce).transpose()?;
    // Counters that ask: the answer carries the pending request's binding.
    let request = if args.request {
        let request = crate::counter::pending(store)?;
        expected_nonce = Some(request.binding()?);
        Some(request)
    } else {
        None
    };
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
        let (Some(request), Ok(verdict)) = (&request, &result) else {
            return Ok(match &result {
                Ok(_) => exit::OK,
                Err(e) => exit::for_error(e),
            });
        };
        let answer = compare_answer(verdict, &request.body.asks);
        let report = crate::counter::answer_text(&answer);
        if args.json {
            output::note(&report);
        } else {
            output::print(&report)?;
        }
        if !answer.unasked.is_empty() {
            return Ok(exit::UNASKED);
        }
        crate::counter::retire(store)?;
        Ok(if answer.missing.is_empty() {
            exit::OK
        } else {
            exit::INCOMPLETE
        })
    };
    match scan::source(args.qr, args.image.as_deref())? {
        Source::One(qr) => check(&qr),
        // One answer to one request.
        Source::Scanner(mut scanner) if request.is_some() => match scanner.next_code()? {
            Some(qr) => check(&qr),
            None => Ok(exit::OK),
        },
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
