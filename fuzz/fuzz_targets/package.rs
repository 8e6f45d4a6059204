//! A certificate package as a department delivers it (a file, or an offer's answer): the
//! wallet's `receive::check_package`, adding it to a wallet, listing and showing it, and
//! presenting every field of it. Round trip: a package that decodes re-encodes to the
//! same bytes.
#![no_main]

use ecert_schemas::CertificatePackage;
use ecert_wallet::{certs, present, receive, Selection, WalletContents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(package) = CertificatePackage::from_bytes(data) {
        assert_eq!(package.to_bytes().as_deref(), Ok(data));
    }
    let Ok(received) = receive::check_package(data) else {
        return;
    };
    let world = ecert_fuzz::world();
    let mut wallet = WalletContents {
        holder: world.wallet(),
        packages: Vec::new(),
    };
    let _ = receive::add(&mut wallet, vec![received.clone()]);
    let packages = [received.package.clone()];
    if let Ok(entries) = certs::entries(&packages) {
        for entry in &entries {
            let _ = entry.kind_name(&world.kinds);
            let _ = entry.validity(world.now);
            let _ = entry.fields(&world.kinds);
            let _ = entry.short_id();
        }
    }
    let fields = received
        .certificate
        .claims
        .digests
        .keys()
        .filter_map(|n| {
            world
                .kinds
                .get(&received.certificate.claims.kind)
                .ok()
                .and_then(|k| k.field_by_number(*n))
                .map(|f| f.key.clone())
        })
        .collect();
    let selection = [Selection {
        package: &received.package,
        fields,
    }];
    let _ = present(&world.wallet(), &world.kinds, &selection, world.now, None);
});
