//! A counter's daily incremental sync at a province's scale: a ledger of a year's anchor
//! log (100,000 batches of 1,000 certificates) and 1,000,000 revocations, then one day
//! more (270 batches, 2,700 revocations). Measures what the node computes to serve the
//! update (`LedgerState::trust_update`), what the counter does to check and apply it
//! (`TrustStore::apply_update`), and prints the update's size next to the full export's.
//!
//! Run: `cargo bench -p ecert-ledger-node --bench sync` (set `ECERT_SYNC_BATCHES` for a
//! smaller ledger).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // bench setup: fail loudly

use criterion::{criterion_group, criterion_main, Criterion};
use ecert_schemas::ledger::{RevocationReason, Transaction};
use ecert_schemas::{KindRegistry, StatusIndex, UnixTime};
use ecert_testkit::province::Province;
use ecert_testkit::sample;
use ecert_testkit::world::{batch_of, FIXED_NOW as NOW};
use ecert_verifier::TrustStore;
use ecert_wallet::HolderKey;
use rand_core::OsRng;

/// Batches of a year: 100 M certificates in batches of 1,000.
const YEAR_BATCHES: u64 = 100_000;
/// A day: 270 batches and 2,700 revocations.
const DAY_BATCHES: u64 = 270;
const DAY_REVOCATIONS: u32 = 2_700;

/// An anchor transaction of a fresh one-certificate batch (the anchor log's cost does not
/// depend on how many certificates a batch holds).
fn anchor_tx(p: &mut Province, holder: &HolderKey) -> Transaction {
    let order = sample::id_card(NOW);
    batch_of(
        p,
        "public-security",
        holder.public_key(),
        &[order],
        NOW.minus(60),
    )
    .1
}

/// Anchors `n` batches in blocks of up to 1,000 and revokes `revocations` indexes of
/// `dept` from `first` on, one in every hundred, in blocks of up to 10,000.
fn grow(
    p: &mut Province,
    holder: &HolderKey,
    second: &mut u64,
    n: u64,
    dept: &str,
    first: u32,
    revocations: u32,
) {
    let mut left = n;
    while left > 0 {
        let now = left.min(1_000);
        let txs: Vec<Transaction> = (0..now).map(|_| anchor_tx(p, holder)).collect();
        *second += 1;
        p.commit_block(&txs, UnixTime(*second)).unwrap();
        left -= now;
    }
    let indexes: Vec<StatusIndex> = (first..first + revocations)
        .map(|i| StatusIndex(i * 100))
        .collect();
    for chunk in indexes.chunks(10_000) {
        *second += 1;
        p.revoke(dept, chunk, RevocationReason::Withdrawn, UnixTime(*second))
            .unwrap();
    }
}

fn bench_day(c: &mut Criterion) {
    let batches = std::env::var("ECERT_SYNC_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(YEAR_BATCHES);
    let revocations = u32::try_from(batches * 10).unwrap_or(u32::MAX);
    let mut p = Province::new("ecert-bench", NOW.minus(86_400), &mut OsRng).unwrap();
    let holder = HolderKey::generate(&mut OsRng);
    let mut second = NOW.secs();
    grow(
        &mut p,
        &holder,
        &mut second,
        batches,
        "public-security",
        0,
        revocations,
    );
    let anchor = p.trust_anchor().unwrap();
    let held = TrustStore::from_bundle(
        p.trust_bundle().unwrap(),
        &anchor,
        KindRegistry::builtin().unwrap(),
    )
    .unwrap();
    let year_export = p.trust_bundle().unwrap().to_bytes().unwrap().len();

    grow(
        &mut p,
        &holder,
        &mut second,
        DAY_BATCHES,
        "justice",
        0,
        DAY_REVOCATIONS,
    );
    let checkpoint = p.checkpoint().unwrap().clone();
    let update = p
        .ledger()
        .trust_update(held.header(), checkpoint.clone(), Vec::new())
        .unwrap();
    let update_bytes = update.to_bytes().unwrap().len();
    let export = p.trust_bundle().unwrap().to_bytes().unwrap().len();
    eprintln!(
        "ledger of {batches} batches and {revocations} revocations: export {year_export} \
         bytes; a day later ({DAY_BATCHES} batches, {DAY_REVOCATIONS} revocations): update \
         {update_bytes} bytes ({} consistency hashes), export {export} bytes",
        update.consistency.len()
    );

    let mut group = c.benchmark_group("sync/day");
    group.sample_size(10);
    group.bench_function("serve (node)", |b| {
        b.iter(|| {
            p.ledger()
                .trust_update(held.header(), checkpoint.clone(), Vec::new())
        })
    });
    group.bench_function("check and apply (counter)", |b| {
        b.iter(|| held.apply_update(&update, &anchor).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_day);
criterion_main!(benches);
