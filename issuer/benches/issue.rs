//! Issuing benchmarks: one certificate whole, and an ID card as 30 one-time copies; anchor
//! batches of 1,000 and 100,000 certificates (Merkle tree plus every audit path), and a
//! batch tree over 30,000 copies (128-bit tree plus every copy's audit path).
//!
//! Run: `cargo bench -p ecert-issuer --bench issue`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // bench setup: fail loudly

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ecert_issuer::{issue, issue_copies, CertificateRequest, CopiesRequest, IssuerKey};
use ecert_schemas::copy::DEFAULT_COPIES;
use ecert_schemas::{Hash16, Hash32, IssuerId, KindId, KindRegistry, StatusIndex};
use ecert_testkit::sample;
use ecert_testkit::world::FIXED_NOW as NOW;
use ecert_verifier::merkle::{leaf_hash, MerkleTree};
use ecert_verifier::merkle16::{copy_leaf, CopyTree};
use rand_core::OsRng;

fn bench_issue(c: &mut Criterion) {
    let kinds = KindRegistry::builtin().unwrap();
    let key = IssuerKey::generate(IssuerId::new("public-security").unwrap(), &mut OsRng);
    let order = sample::id_card(NOW);
    let request = CertificateRequest {
        kind: KindId::new(order.kind).unwrap(),
        claims: order.claims,
        holder: ecert_wallet::HolderKey::generate(&mut OsRng).public_key(),
        valid_from: order.valid_from,
        expires: order.expires,
        status_index: StatusIndex(7),
    };
    c.bench_function("issue/id-card", |b| {
        b.iter(|| issue(&key, &kinds, black_box(&request), NOW, &mut OsRng).unwrap())
    });
    let copies = CopiesRequest {
        kind: request.kind.clone(),
        claims: request.claims.clone(),
        holder: request.holder,
        valid_from: request.valid_from,
        expires: request.expires,
        status_indexes: (0..u32::from(DEFAULT_COPIES))
            .map(|i| StatusIndex(7 + i * 1_009))
            .collect(),
    };
    c.bench_function("issue_copies/id-card-30", |b| {
        b.iter(|| issue_copies(&key, &kinds, black_box(&copies), NOW, &mut OsRng).unwrap())
    });
}

fn bench_batches(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch/tree-and-all-audit-paths");
    group.sample_size(10);
    for size in [1_000u64, 100_000] {
        let leaves: Vec<Hash32> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        group.bench_with_input(BenchmarkId::from_parameter(size), &leaves, |b, leaves| {
            b.iter(|| {
                let tree = MerkleTree::from_leaf_hashes(leaves);
                let mut total = 0usize;
                for i in 0..tree.size() {
                    total += tree.audit_path(i).unwrap().len();
                }
                black_box((tree.root(), total))
            })
        });
    }
    group.finish();
}

fn bench_copy_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("copy-batch/tree-and-all-audit-paths");
    group.sample_size(10);
    // A thousand certificates of 30 copies: the leaves of signed copies, as the batch
    // hashes them (what is signed is about 170 bytes).
    let size = 30_000u64;
    let leaves: Vec<Hash16> = (0..size)
        .map(|i| copy_leaf(&[i.to_be_bytes(); 21].concat(), &[7; 64]))
        .collect();
    group.bench_with_input(BenchmarkId::from_parameter(size), &leaves, |b, leaves| {
        b.iter(|| {
            let tree = CopyTree::new(leaves);
            let mut total = 0usize;
            for i in 0..tree.size() {
                total += tree.audit_path(i).unwrap().len();
            }
            black_box((tree.root(), total))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_issue, bench_batches, bench_copy_batch);
criterion_main!(benches);
