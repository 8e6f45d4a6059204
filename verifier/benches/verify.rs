//! Verification benchmarks: an ID-card presentation with four disclosed fields (its
//! certificate anchored in a batch of 1,000), beside the cost of the Ed25519 verifications
//! it performs, and Merkle proof checks.
//!
//! Run: `cargo bench -p ecert-verifier --bench verify`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // bench setup: fail loudly

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ecert_qr::render;
use ecert_schemas::{Certificate, Presentation};
use ecert_testkit::world::{Crowd, FIXED_NOW as NOW};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::merkle::{leaf_hash, verify_inclusion};
use ecert_verifier::{verify_presentation, Policy};
use ecert_wallet::present;

fn bench_verify(c: &mut Criterion) {
    let crowd = Crowd::id_cards(1000);
    let package = &crowd.packages[617];
    let store = crowd.province.sync_counter().unwrap();
    let selection = crowd.selection(617, &["name", "sex", "birth_date", "id_number"]);
    let presentation =
        present(&crowd.wallet, &crowd.province.kinds, &selection, NOW, None).unwrap();
    let qr = presentation.to_qr_string().unwrap();
    let policy = Policy::default();
    verify_presentation(&qr, &store, NOW, &policy).unwrap();
    eprintln!(
        "ID card, 4 fields disclosed, batch of 1000 (audit path {} hashes): QR string {} characters, QR version {} at level M",
        package.anchor.path.len(),
        qr.len(),
        render::qr_version(&qr).unwrap()
    );

    c.bench_function("verify_presentation/id-card-4-fields", |b| {
        b.iter(|| verify_presentation(black_box(&qr), &store, NOW, &policy).unwrap())
    });

    // The Ed25519 work that verification does: decode the holder key, verify the holder
    // proof, verify the issuer's COSE signature (issuer keys are decoded once, at sync).
    let cert = Certificate::from_bytes(&package.certificate).unwrap();
    let decoded = Presentation::from_qr_string(&qr).unwrap();
    let holder_msg = crypto::signing_input(
        SigningContext::HolderProof,
        &ecert_schemas::HolderSignedData {
            time: NOW,
            nonce: None,
            items_hash: decoded.items_hash(),
        }
        .to_bytes()
        .unwrap(),
    );
    let holder_sig = decoded.holder.as_ref().unwrap().signature;
    let issuer_key = crypto::parse_public_key(
        &crowd
            .province
            .department("public-security")
            .unwrap()
            .issuer_key
            .public_key(),
    )
    .unwrap();
    let tbs = cert.cose.to_be_signed(&[]).unwrap();
    let holder_bytes = cert.claims.holder;
    c.bench_function("ed25519/verifications-done-by-one-presentation", |b| {
        b.iter(|| {
            let holder = crypto::parse_public_key(black_box(&holder_bytes)).unwrap();
            assert!(crypto::verify_raw(&holder, &holder_msg, &holder_sig.0));
            assert!(crypto::verify_raw(
                &issuer_key,
                black_box(&tbs),
                &cert.cose.signature
            ));
        })
    });
    c.bench_function("ed25519/verify_strict", |b| {
        b.iter(|| {
            assert!(crypto::verify_raw(
                &issuer_key,
                black_box(&tbs),
                &cert.cose.signature
            ))
        })
    });

    let leaf = leaf_hash(&package.certificate);
    let batch = store.batch(package.anchor.batch_seq).unwrap().clone();
    c.bench_function("merkle/verify_inclusion-1000-leaves", |b| {
        b.iter(|| {
            assert!(verify_inclusion(
                black_box(&leaf),
                package.anchor.leaf_index,
                batch.count,
                &package.anchor.path,
                &batch.batch_root
            ))
        })
    });
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
