//! Wallet benchmarks: building and signing a presentation of four ID-card fields, and
//! encoding it as a QR string.
//!
//! Run: `cargo bench -p ecert-wallet --bench present`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // bench setup: fail loudly

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ecert_schemas::UnixTime;
use ecert_testnet::province::Province;
use ecert_testnet::sample;
use ecert_wallet::{present, HolderKey, Selection};
use rand_core::OsRng;

const NOW: UnixTime = UnixTime(1_790_000_000);

fn bench_present(c: &mut Criterion) {
    let mut province = Province::new("ecert-bench", NOW.minus(86_400), &mut OsRng).unwrap();
    let wallet = HolderKey::generate(&mut OsRng);
    let orders: Vec<_> = (0..1000).map(|_| sample::id_card(NOW)).collect();
    let packages = province
        .issue_and_anchor(
            "public-security",
            wallet.public_key(),
            &orders,
            NOW.minus(3600),
            &mut OsRng,
        )
        .unwrap();
    let fields = ["name", "sex", "birth_date", "id_number"]
        .map(String::from)
        .to_vec();
    let selection = [Selection {
        package: &packages[617],
        fields,
    }];
    c.bench_function("present/id-card-4-fields-to-qr-string", |b| {
        b.iter(|| {
            present(&wallet, &province.kinds, black_box(&selection), NOW, None)
                .unwrap()
                .to_qr_string()
                .unwrap()
        })
    });
}

criterion_group!(benches, bench_present);
criterion_main!(benches);
