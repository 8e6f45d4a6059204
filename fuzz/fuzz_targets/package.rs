//! A certificate package as a department delivers it (a file, or an offer's answer), of
//! either format. Round trip: a package that decodes (`AnyPackage`, the version read
//! first) re-encodes to the same bytes, and the version dispatch agrees with each
//! format's decoder. Then what the wallet does with it: `receive::check_package`, the
//! check against the world's wallet (a format-2 package's copies rebuilt from the wallet
//! key and, with the counter's synced data as the issuers' keys, their signatures),
//! adding it to a wallet, listing and showing it; and presenting it: every field of a
//! format-1 certificate; every field of the first and last copy of a format-2 package and
//! none of another, each presentation checked by the counter against the world's trust
//! store.
#![no_main]

use ecert_schemas::copy::{AnyPackage, CopyPackage, PresentationV2};
use ecert_schemas::CertificatePackage;
use ecert_verifier::{verify_decoded_v2, Policy};
use ecert_wallet::receive::{self, Received};
use ecert_wallet::{certs, present, present_copies, CopySelection, Selection, WalletContents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let v1 = CertificatePackage::from_bytes(data).ok();
    let v2 = CopyPackage::from_bytes(data).ok();
    let expected = match (&v1, &v2) {
        (Some(p), None) => Some(AnyPackage::V1(p.clone())),
        (None, Some(p)) => Some(AnyPackage::V2(p.clone())),
        (None, None) => None,
        (Some(_), Some(_)) => panic!("bytes decode as a package of both formats"),
    };
    let any = AnyPackage::from_bytes(data).ok();
    assert_eq!(any, expected);
    if let Some(package) = &any {
        assert_eq!(package.to_bytes().as_deref(), Ok(data));
    }
    let Ok(received) = receive::check_package(data) else {
        return;
    };
    let world = ecert_fuzz::world();
    let wallet_key = world.wallet().public_key();
    let _ = receive::check_holder(&wallet_key, &received, None);
    let _ = receive::check_holder(&wallet_key, &received, Some(&world.store));
    let mut wallet = WalletContents::new(world.wallet());
    let _ = receive::add(&mut wallet, vec![received.clone()]);
    if let Ok(entries) = certs::entries(&wallet.packages) {
        for entry in &entries {
            let _ = entry.kind_name(&world.kinds);
            let _ = entry.validity(world.now);
            let _ = entry.fields(&world.kinds);
            let _ = entry.short_id();
            let _ = entry.copies();
        }
    }
    match &received {
        Received::Whole {
            package,
            certificate,
        } => whole(package, certificate),
        Received::Copies(package) => copies(package),
    }
});

/// Format 1: every field of the certificate presented.
fn whole(package: &CertificatePackage, certificate: &ecert_schemas::Certificate) {
    let world = ecert_fuzz::world();
    let fields = certificate
        .claims
        .digests
        .keys()
        .filter_map(|n| {
            world
                .kinds
                .get(&certificate.claims.kind)
                .ok()
                .and_then(|k| k.field_by_number(*n))
                .map(|f| f.key.clone())
        })
        .collect();
    let selection = [Selection { package, fields }];
    let _ = present(&world.wallet(), &world.kinds, &selection, world.now, None);
}

/// Format 2: the wallet presents copies of the package, and a counter checks them.
fn copies(package: &CopyPackage) {
    let world = ecert_fuzz::world();
    let fields: Vec<String> = world
        .kinds
        .get(&package.kind)
        .map(|kind| {
            kind.fields
                .iter()
                .filter(|f| {
                    package
                        .fields
                        .iter()
                        .any(|p| p.field == f.number && p.value.is_some())
                })
                .map(|f| f.key.clone())
                .collect()
        })
        .unwrap_or_default();
    let last = package.copies.len().saturating_sub(1);
    let shows = [
        (0, fields.clone()),
        (last, fields),
        (package.copies.len() / 2, Vec::new()),
    ];
    let wallet = world.wallet();
    for (copy, fields) in shows {
        let selection = [CopySelection {
            package,
            copy,
            fields,
        }];
        let Ok(presentation) =
            present_copies(&wallet, &world.kinds, &selection, world.now.minus(5), None)
        else {
            continue;
        };
        // What the wallet made decodes to itself (unless a field is past a QR code's
        // bounds, which the decoder refuses).
        let bytes = presentation.to_bytes().expect("a presentation encodes");
        if let Ok(decoded) = PresentationV2::from_bytes(&bytes) {
            assert_eq!(decoded, presentation);
        }
        let _ = verify_decoded_v2(&presentation, &world.store, world.now, &Policy::default());
    }
}
