//! Applying a block: one anchor transaction on a ledger that already holds 1,000 or
//! 100,000 anchored batches, and one revocation by an issuer while another issuer's
//! status list holds 10,000 or 1,000,000 revoked indexes. A block must cost the same
//! however long the ledger is, and a revocation must not re-hash the lists it does not
//! touch.
//!
//! Run: `cargo bench -p ecert-ledger-node --bench apply`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // bench setup: fail loudly

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use ecert_issuer::revocation_transaction;
use ecert_schemas::ledger::{RevocationEntry, RevocationReason, Transaction};
use ecert_schemas::{StatusIndex, UnixTime};
use ecert_testkit::province::Province;
use ecert_testkit::sample;
use ecert_testkit::world::{batch_of, FIXED_NOW as NOW};
use ecert_wallet::HolderKey;
use rand_core::OsRng;

/// An anchor transaction of a fresh one-certificate batch.
fn anchor_tx(p: &mut Province, holder: &HolderKey) -> Transaction {
    let order = sample::id_card(NOW);
    let time = NOW.minus(60);
    batch_of(p, "public-security", holder.public_key(), &[order], time).1
}

fn bench_apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply/one-anchor-block");
    group.sample_size(20);
    for size in [1_000u64, 100_000] {
        let mut p = Province::new("ecert-bench", NOW.minus(86_400), &mut OsRng).unwrap();
        let holder = HolderKey::generate(&mut OsRng);
        let mut second = NOW.secs();
        while (p.ledger().anchors().len() as u64) < size {
            let txs: Vec<Transaction> = (0..1_000).map(|_| anchor_tx(&mut p, &holder)).collect();
            second += 1;
            p.commit_block(&txs, UnixTime(second)).unwrap();
        }
        let mut ledger = p.ledger().clone();
        let mut time_ms = second * 1000;
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter_batched(
                || anchor_tx(&mut p, &holder),
                |tx| {
                    time_ms += 1;
                    ledger.apply_block(&[tx], time_ms).unwrap()
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn bench_revoke(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply/one-revocation-block");
    group.sample_size(20);
    for others in [10_000u32, 1_000_000] {
        let mut p = Province::new("ecert-bench", NOW.minus(86_400), &mut OsRng).unwrap();
        // Public security: `others` revoked, 1 % of its certificates.
        let mut second = NOW.secs();
        for chunk in (0..others).collect::<Vec<_>>().chunks(10_000) {
            let indexes: Vec<StatusIndex> = chunk.iter().map(|i| StatusIndex(i * 100)).collect();
            second += 1;
            p.revoke(
                "public-security",
                &indexes,
                RevocationReason::Withdrawn,
                UnixTime(second),
            )
            .unwrap();
        }
        let mut ledger = p.ledger().clone();
        let key = &p.department("justice").unwrap().issuer_key;
        let chain = ledger.chain_id().clone();
        let mut time_ms = second * 1000;
        let mut next = 0u32;
        group.bench_with_input(BenchmarkId::from_parameter(others), &others, |b, _| {
            b.iter_batched(
                || {
                    next += 1;
                    let entries = vec![RevocationEntry {
                        index: StatusIndex(next),
                        reason: RevocationReason::Withdrawn,
                    }];
                    Transaction::Revocation(
                        revocation_transaction(key, &chain, entries, UnixTime(second)).unwrap(),
                    )
                },
                |tx| {
                    time_ms += 1;
                    ledger.apply_block(&[tx], time_ms).unwrap()
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_apply, bench_revoke);
criterion_main!(benches);
