//! `ecert-testnet simulate`: a province's year in process, and its figures.

use std::time::Duration;

use anyhow::Result;
use ecert_shell::outln;
use ecert_testnet::simulate::{self, weekday, Options, Report, FRESHNESS_PERIOD_SECS};
use rand_core::{OsRng, RngCore};

/// The options from the command line; `seed` drawn at random when not given.
pub struct Args {
    /// Certificates over the year.
    pub certificates: u64,
    /// Certificates per batch.
    pub batch_size: u64,
    /// Simulated days.
    pub days: u64,
    /// Percent revoked.
    pub revoked_percent: f64,
    /// The seed to replay, if any.
    pub seed: Option<u64>,
    /// Departments work on weekends too.
    pub seven_day_week: bool,
    /// One-time copies per certificate.
    pub copies: u16,
}

/// Runs the simulation and prints its report.
pub fn simulate(args: Args) -> Result<()> {
    let seed = args.seed.unwrap_or_else(|| OsRng.next_u64());
    let options = Options {
        certificates: args.certificates,
        batch_size: args.batch_size,
        days: args.days,
        revoked_percent: args.revoked_percent,
        seed,
        idle_days: 7,
        seven_day_week: args.seven_day_week,
        copies: args.copies,
    };
    options.check()?;
    outln!(
        "A province's year, simulated in process: {} certificates of {} one-time {} in \
         batches of {} ({} leaves), {} days, {} % revoked, seed {seed}",
        group(options.certificates),
        options.copies,
        if options.copies == 1 {
            "copy"
        } else {
            "copies"
        },
        group(options.batch_size),
        group(options.copies_of(options.batch_size)),
        options.days,
        options.revoked_percent
    );
    outln!(
        "(replay: ecert-testnet simulate --certificates {} --copies {} --batch-size {} --days {} \
         --revoked-percent {} --seed {seed}{})",
        options.certificates,
        options.copies,
        options.batch_size,
        options.days,
        options.revoked_percent,
        if options.seven_day_week {
            " --seven-day-week"
        } else {
            ""
        }
    );
    let bar = indicatif::ProgressBar::new(options.days);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  {bar:40} day {pos}/{len}  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = simulate::run(options, |p| {
        bar.set_position(p.day);
        bar.set_message(format!(
            "{} certificates, height {}",
            group(p.certificates),
            p.height
        ));
    })?;
    bar.finish_and_clear();
    print(&report);
    outln!(
        "\nRun: {:.1} s, peak memory {}",
        report.elapsed.as_secs_f64(),
        peak_memory().map_or_else(|| "unknown".into(), mib)
    );
    Ok(())
}

/// Digits in groups of three.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

/// The process's peak resident memory (Linux: `VmHWM`).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn print(r: &Report) {
    outln!(
        "\nThe year: {} working days, {} blocks ({} transactions), height {}, {} batches, \
         {} certificates ({} copies), {} revoked ({} status indexes)",
        r.working_days,
        group(r.blocks),
        group(r.transactions),
        group(r.height),
        group(r.batches),
        group(r.certificates),
        group(r.copies),
        group(r.revoked),
        group(r.revoked_indexes)
    );
    for rot in &r.rotations {
        outln!(
            "  key rotation: {} on day {} ({}), height {}, approved by 3 of 4 validators",
            rot.issuer,
            rot.day,
            weekday(rot.day),
            rot.height
        );
    }
    match &r.validator_change {
        Some(change) => outln!(
            "  validator change: {}'s validator key replaced on day {} ({}), height {}, \
             approved by 3 of 4 validators; the counter followed it from the genesis anchor",
            change.issuer,
            change.day,
            weekday(change.day),
            change.height
        ),
        None => outln!("  validator change: none (no working day for it)"),
    }

    let s = &r.storage;
    outln!("\nPer node storage (encoded bytes the node writes; RocksDB overhead not counted)");
    outln!(
        "  raft log, every block's entry   {:>14}",
        group(s.raft_log)
    );
    outln!("  headers                        {:>14}", group(s.headers));
    outln!("  signed records                 {:>14}", group(s.signed));
    outln!(
        "  checkpoints (header + votes)   {:>14}",
        group(s.checkpoints)
    );
    outln!(
        "  one Raft snapshot              {:>14}  (ledger state {})",
        group(s.snapshot),
        group(s.snapshot_payload)
    );
    outln!(
        "  total                          {:>14}  ({})  target < 1 GB: {}",
        group(s.total()),
        mib(s.total()),
        mark(s.total() < 1_000_000_000)
    );
    outln!(
        "  with the log purged after snapshots (every 1,000 blocks): {} ({})",
        group(s.total_purged(1_000)),
        mib(s.total_purged(1_000))
    );

    let l = &r.ledger;
    let per_certificate = |bytes: u64| bytes as f64 / r.certificates.max(1) as f64;
    outln!("\nLedger bytes per certificate (encoded transactions over the year's certificates)");
    outln!(
        "  anchors {:>14} bytes  {:.3} a certificate",
        group(l.anchors),
        per_certificate(l.anchors)
    );
    outln!(
        "  revocations {:>10} bytes  {:.3} a certificate",
        group(l.revocations),
        per_certificate(l.revocations)
    );
    outln!("  governance {:>11} bytes", group(l.governance));
    outln!(
        "  total {:>16} bytes  {:.3} a certificate  target <= 1: {}",
        group(l.total()),
        per_certificate(l.total()),
        mark(per_certificate(l.total()) <= 1.0)
    );

    let y = &r.year_end;
    outln!("\nThe counter's full bundle at the year's end");
    outln!(
        "  {} bytes ({} batch records, {} revoked status indexes)  target < 15 MB: {}",
        group(y.bundle_bytes),
        group(y.bundle_batches),
        group(y.bundle_revoked),
        mark(y.bundle_bytes < 15_000_000)
    );
    outln!(
        "  of which anchor records {} bytes, status lists {} bytes ({:.2} bits a revoked \
         index); {:.3} bytes a certificate",
        group(y.bundle_anchor_bytes),
        group(y.bundle_status_bytes),
        y.bundle_status_bytes as f64 * 8.0 / y.bundle_revoked.max(1) as f64,
        per_certificate(y.bundle_bytes)
    );
    outln!(
        "  full sync check: decode {}, TrustStore::from_bundle {}",
        ms(y.bundle_decode),
        ms(y.full_sync_check)
    );

    outln!("\nDaily incremental sync (a counter syncing every morning at 06:00, all year)");
    outln!("  morning of       batches  revoked idx  registry       bytes      serve      check");
    let line = |d: &simulate::DaySync| {
        outln!(
            "  day {:>3} ({})  {:>9}  {:>11}  {:>8}  {:>10}  {:>9}  {:>9}",
            d.day,
            weekday(d.day),
            group(d.batches),
            group(d.revocations),
            if d.registry { "yes" } else { "" },
            group(d.bytes),
            ms(d.serve),
            ms(d.check)
        )
    };
    let mut by_size: Vec<&simulate::DaySync> = r.syncs.iter().collect();
    by_size.sort_by_key(|d| d.bytes);
    if let Some(typical) = by_size.get(by_size.len() / 2) {
        outln!("  a typical day (median size):");
        line(typical);
    }
    if let Some(largest) = by_size.last() {
        outln!("  the largest:");
        line(largest);
    }
    outln!("  the last {} mornings:", r.syncs.len().min(7));
    for d in r.syncs.iter().rev().take(7).rev() {
        line(d);
    }
    let max_bytes = r.syncs.iter().map(|d| d.bytes).max().unwrap_or(0);
    let max_check = r.syncs.iter().map(|d| d.check).max().unwrap_or_default();
    let all_bytes: u64 = r.syncs.iter().map(|d| d.bytes).sum();
    outln!(
        "  largest update {} bytes, slowest check {}  targets < 100 KB: {}, < 100 ms: {}",
        group(max_bytes),
        ms(max_check),
        mark(max_bytes < 100_000),
        mark(max_check < Duration::from_millis(100))
    );
    outln!(
        "  mean per calendar day (the year's updates over its {} days): {} bytes",
        r.options.days,
        group(all_bytes / r.options.days.max(1))
    );
    if let Some(last) = r.syncs.last() {
        outln!(
            "  the last update: {} bytes of anchor records ({} each), {} of revocations ({} \
             each), {} of checkpoint, consistency proof, registry and framing",
            group(last.anchor_bytes),
            last.anchor_bytes.checked_div(last.batches).unwrap_or(0),
            group(last.revocation_bytes),
            last.revocation_bytes
                .checked_div(last.revocations)
                .unwrap_or(0),
            group(
                last.bytes
                    .saturating_sub(last.anchor_bytes + last.revocation_bytes)
            )
        );
    }
    outln!(
        "  the counter that synced incrementally all year holds exactly the full bundle: {}",
        if r.update_equals_bundle { "yes" } else { "NO" }
    );

    outln!("\nApplying a block on the year-end state (LedgerState::apply_block, median of 5)");
    outln!(
        "  one anchor transaction                 {}",
        ms(y.anchor_block)
    );
    outln!(
        "  one revocation of {:<6} indexes         {}  (its list held {} revoked)",
        group(y.revocation_block_indexes),
        ms(y.revocation_block),
        group(y.largest_list)
    );

    outln!(
        "\nThe citizen's real certificates, verified an hour after the last block (default policy)"
    );
    for s in &r.shown {
        outln!(
            "  {:<20} {:<16} issued day {:>3}{}  {}",
            s.kind,
            s.issuer,
            s.issued_day,
            if s.key_rotated {
                ", key rotated since"
            } else {
                ""
            },
            match (s.refused, s.expected) {
                (None, None) => "verified".to_owned(),
                (Some(code), Some(due)) if code == due => format!("refused: {code}, as due"),
                (Some(code), _) => format!("REFUSED: {code}"),
                (None, Some(due)) => format!("VERIFIED, but {due} was due"),
            }
        );
    }

    outln!(
        "  copies shown by the citizen over the run: {}; shown again after all of a \
         certificate's {} had been: {}",
        group(r.presented.copies),
        r.options.copies,
        group(r.presented.reused)
    );

    let i = &r.idle;
    outln!(
        "\nIdle week: {} days without transactions; validators state freshness every {} s \
         ({} statements)",
        i.days,
        FRESHNESS_PERIOD_SECS,
        group(i.statements)
    );
    for (name, c) in [
        ("counter taking freshness each morning", &i.with_freshness),
        ("counter without freshness", &i.without_freshness),
    ] {
        outln!(
            "  {name:<38} verified {:>3} of {} hourly checks{}",
            c.verified,
            c.checks,
            c.first_refusal
                .map_or_else(String::new, |(h, code)| format!(
                    "; refused from hour {h} on ({code})"
                ))
        );
    }
    outln!(
        "  target (every counter verifying for the week): {}",
        mark(i.with_freshness.verified == i.with_freshness.checks && i.with_freshness.checks > 0)
    );
}
