//! Wallet benchmarks: building and signing a presentation of four ID-card fields, and
//! encoding it as a QR string.
//!
//! Run: `cargo bench -p ecert-wallet --bench present`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // bench setup: fail loudly

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ecert_testkit::world::{Crowd, FIXED_NOW as NOW};
use ecert_wallet::present;

fn bench_present(c: &mut Criterion) {
    let crowd = Crowd::id_cards(1000);
    let selection = crowd.selection(617, &["name", "sex", "birth_date", "id_number"]);
    c.bench_function("present/id-card-4-fields-to-qr-string", |b| {
        b.iter(|| {
            present(
                &crowd.wallet,
                &crowd.province.kinds,
                black_box(&selection),
                NOW,
                None,
            )
            .unwrap()
            .to_qr_string()
            .unwrap()
        })
    });
}

criterion_group!(benches, bench_present);
criterion_main!(benches);
