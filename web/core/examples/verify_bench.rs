//! The counter's check timed natively, to compare with the same check in WebAssembly:
//! `web/tests/bench.mjs` makes the inputs on a real network (a trust bundle, its anchor,
//! one presentation and the time to check it at) and times both on them in the same run.
//!
//! ```sh
//! cargo run --release -p ecert-web --example verify_bench -- BUNDLE ANCHOR QR_FILE NOW
//! ```
//!
//! Checks the code with [`ecert_web::counter::Counter::verify`] (what the `verify`
//! binding calls) in rounds of a few hundred and prints one JSON line: the median, the
//! fastest and the slowest round's time per check, in microseconds.

use std::hint::black_box;
use std::time::Instant;

use ecert_schemas::UnixTime;
use ecert_web::counter::Counter;
use ecert_web::views::PolicyInput;

/// Checks per round, and rounds.
const PER_ROUND: u32 = 200;
const ROUNDS: usize = 40;

fn main() {
    if let Err(e) = run() {
        eprintln!("verify_bench: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bundle, anchor, qr, now] = args.as_slice() else {
        return Err("usage: verify_bench BUNDLE ANCHOR QR_FILE NOW (seconds since 1970)".into());
    };
    let counter = Counter::sync(
        &std::fs::read(bundle)?,
        &std::fs::read_to_string(anchor)?,
        None,
        false,
    )?;
    let qr = std::fs::read_to_string(qr)?;
    let qr = qr.trim_end_matches(['\r', '\n']);
    let now = UnixTime(now.parse()?);
    let policy = PolicyInput::default();
    let first = counter.verify(qr, now, &policy)?;
    if !first.valid {
        return Err(format!("the code is not VALID: {:?} {:?}", first.code, first.reason).into());
    }
    // Warm up, then time.
    for _ in 0..PER_ROUND {
        black_box(counter.verify(black_box(qr), now, &policy)?);
    }
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..PER_ROUND {
            black_box(counter.verify(black_box(qr), now, &policy)?);
        }
        rounds.push(started.elapsed().as_secs_f64() * 1e6 / f64::from(PER_ROUND));
    }
    rounds.sort_by(f64::total_cmp);
    let median = rounds.get(ROUNDS / 2).copied().unwrap_or(f64::NAN);
    let fastest = rounds.first().copied().unwrap_or(f64::NAN);
    let slowest = rounds.last().copied().unwrap_or(f64::NAN);
    println!(
        "{{\"median_us\": {median:.2}, \"fastest_us\": {fastest:.2}, \"slowest_us\": {slowest:.2}, \
         \"checks\": {}, \"qr_chars\": {}}}",
        u64::from(PER_ROUND) * ROUNDS as u64,
        qr.len()
    );
    Ok(())
}
