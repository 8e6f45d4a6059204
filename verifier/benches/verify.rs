//! Verification benchmarks: an ID-card presentation with four disclosed fields (its
//! certificate anchored in a batch of 1,000), beside the cost of the Ed25519 verifications
//! it performs, and Merkle proof checks.
//!
//! Run: `cargo bench -p ecert-verifier --bench verify`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // bench setup: fail loudly

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ecert_qr::render;
use ecert_schemas::copy::AnyPresentation;
use ecert_schemas::{Certificate, Presentation};
use ecert_testkit::world::{Crowd, DAY, FIXED_NOW as NOW, HOUR};
use ecert_testnet::province::Province;
use ecert_testnet::sample;
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::merkle::{leaf_hash, verify_inclusion};
use ecert_verifier::{verify_presentation, Policy};
use ecert_wallet::present;
use ecert_wallet::{present_copies, CopySelection, HolderKey};
use rand_core::OsRng;

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

/// Format 2: one copy of an ID card in a batch of exactly 1,000 copies (the holder's 30
/// and 970 of 97 other certificates), four fields disclosed.
fn bench_verify_copies(c: &mut Criterion) {
    let mut province = Province::new("ecert-bench-copies", NOW.minus(DAY), &mut OsRng).unwrap();
    let wallet = HolderKey::generate(&mut OsRng);
    let others = HolderKey::generate(&mut OsRng);
    let at = NOW.minus(HOUR);
    let card = sample::id_card(NOW);
    let mut issued = province
        .issue_copies(
            "public-security",
            wallet.public_key(),
            std::slice::from_ref(&card),
            30,
            at,
            &mut OsRng,
        )
        .unwrap();
    issued.extend(
        province
            .issue_copies(
                "public-security",
                others.public_key(),
                &vec![card; 97],
                10,
                at,
                &mut OsRng,
            )
            .unwrap(),
    );
    let package = province
        .anchor_copies("public-security", issued, at, &mut OsRng)
        .unwrap()
        .remove(0);
    let record = province
        .issue_copies(
            "justice",
            wallet.public_key(),
            &[sample::no_criminal_record(NOW)],
            30,
            at,
            &mut OsRng,
        )
        .unwrap();
    let record = province
        .anchor_copies("justice", record, at, &mut OsRng)
        .unwrap()
        .remove(0);
    let store = province.sync_counter().unwrap();
    let show = |selections: &[CopySelection<'_>]| {
        present_copies(&wallet, &province.kinds, selections, NOW, None)
            .unwrap()
            .to_qr_string()
            .unwrap()
    };
    let select = |package, fields: &[&str]| CopySelection {
        package,
        copy: 0,
        fields: fields.iter().map(|f| f.to_string()).collect(),
    };
    let qr = show(&[select(
        &package,
        &["name", "sex", "birth_date", "id_number"],
    )]);
    let policy = Policy::default();
    verify_presentation(&qr, &store, NOW, &policy).unwrap();
    let over_18 = show(&[select(&package, &["age_over_18"])]);
    let story = show(&[
        select(&package, &["name", "id_number"]),
        select(&record, &["result", "purpose"]),
    ]);
    verify_presentation(&story, &store, NOW, &policy).unwrap();
    for (what, text) in [
        ("ID card, 4 fields disclosed", &qr),
        ("ID card, only age_over_18 disclosed", &over_18),
        (
            "ID card (name, ID number) + no-criminal-record (result, purpose)",
            &story,
        ),
    ] {
        eprintln!(
            "format 2, {what}, copy in a batch of 1000 copies (path {} hashes): QR string {} characters, QR version {} at level M",
            package.copies[0].path.len(),
            text.len(),
            render::qr_version(text).unwrap()
        );
    }

    c.bench_function("verify_presentation/id-card-4-fields-copy", |b| {
        b.iter(|| verify_presentation(black_box(&qr), &store, NOW, &policy).unwrap())
    });
    c.bench_function("verify_presentation/story-2-copies", |b| {
        b.iter(|| verify_presentation(black_box(&story), &store, NOW, &policy).unwrap())
    });

    // The Ed25519 work it does: decode the copy key, verify the holder proof and the
    // issuer's signature over the copy.
    let AnyPresentation::V2(decoded) = AnyPresentation::from_qr_string(&qr).unwrap() else {
        panic!("not format 2");
    };
    let item = decoded.decode_items().unwrap().remove(0);
    let holder_msg = crypto::signing_input(
        SigningContext::HolderProofV2,
        &ecert_schemas::HolderSignedData {
            time: NOW,
            nonce: None,
            items_hash: decoded.items_hash(),
        }
        .to_bytes()
        .unwrap(),
    );
    let issuer_key = crypto::parse_public_key(
        &province
            .department("public-security")
            .unwrap()
            .issuer_key
            .public_key(),
    )
    .unwrap();
    let envelope = &package.copies[0];
    let fields = ecert_verifier::copy_key::field_leaves(&package.fields, &envelope.secret).unwrap();
    let signed = ecert_schemas::copy::CopySignedData {
        issuer: package.issuer.clone(),
        key_id: package.key_id,
        kind: package.kind.clone(),
        issued_at: package.issued_at,
        valid_from: package.valid_from,
        expires: package.expires,
        status_index: envelope.status_index,
        holder: item.holder,
        field_root: ecert_verifier::merkle16::field_root(&fields).unwrap(),
    }
    .to_bytes()
    .unwrap();
    let copy_msg = crypto::signing_input(SigningContext::CopyIssue, &signed);
    assert!(crypto::verify_raw(
        &issuer_key,
        &copy_msg,
        &envelope.signature.0
    ));
    c.bench_function("ed25519/verifications-done-by-one-copy-presentation", |b| {
        b.iter(|| {
            let holder = crypto::parse_public_key(black_box(&item.holder)).unwrap();
            assert!(crypto::verify_raw(
                &holder,
                &holder_msg,
                &decoded.holder.signature.0
            ));
            assert!(crypto::verify_raw(
                &issuer_key,
                black_box(&copy_msg),
                &envelope.signature.0
            ));
        })
    });
}

criterion_group!(benches, bench_verify, bench_verify_copies);
criterion_main!(benches);
