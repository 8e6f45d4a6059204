//! Issuing benchmarks: one certificate, and anchor batches of 1,000 and 100,000
//! certificates (Merkle tree plus every audit path).
//!
//! Run: `cargo bench -p ecert-issuer --bench issue`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // bench setup: fail loudly

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ecert_issuer::{issue, CertificateRequest, IssuerKey};
use ecert_schemas::{Hash32, IssuerId, KindId, KindRegistry, StatusIndex};
use ecert_testkit::sample;
use ecert_testkit::world::FIXED_NOW as NOW;
use ecert_verifier::merkle::{leaf_hash, MerkleTree};
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

criterion_group!(benches, bench_issue, bench_batches);
criterion_main!(benches);
