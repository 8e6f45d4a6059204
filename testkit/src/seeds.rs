//! What a world built apart from [`World`](crate::World) (from a seeded random source, as
//! the fuzz targets' seed corpora are) needs of it: a wallet's presentations.

use ecert_schemas::copy::CopyPackage;
use ecert_schemas::{CertificatePackage, KindRegistry, Nonce, UnixTime};
use ecert_wallet::{present, present_copies, CopySelection, HolderKey, Selection};

/// The presentation by `wallet` of several packages' fields at `time`, answering `nonce`,
/// as a QR string ([`World::show_all`](crate::World::show_all) for any wallet key).
pub fn show_all(
    wallet: &HolderKey,
    kinds: &KindRegistry,
    packages: &[(&CertificatePackage, &[&str])],
    time: UnixTime,
    nonce: Option<Nonce>,
) -> String {
    let selections: Vec<Selection<'_>> = packages
        .iter()
        .map(|(package, fields)| Selection {
            package,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        })
        .collect();
    present(wallet, kinds, &selections, time, nonce)
        .unwrap()
        .to_qr_string()
        .unwrap()
}

/// The format-2 presentation by `wallet` of one copy of each of several packages (the
/// package, which copy, the fields) at `time`, answering `nonce`, as a QR string
/// ([`World::show_copies`](crate::World::show_copies) for any wallet key).
pub fn show_copies(
    wallet: &HolderKey,
    kinds: &KindRegistry,
    copies: &[(&CopyPackage, usize, &[&str])],
    time: UnixTime,
    nonce: Option<Nonce>,
) -> String {
    let selections: Vec<CopySelection<'_>> = copies
        .iter()
        .map(|(package, copy, fields)| CopySelection {
            package,
            copy: *copy,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        })
        .collect();
    present_copies(wallet, kinds, &selections, time, nonce)
        .unwrap()
        .to_qr_string()
        .unwrap()
}
