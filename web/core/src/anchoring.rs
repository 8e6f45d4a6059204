//! Whether the wallet's certificates are anchored on the ledger, as `ecert-wallet refresh`
//! checks it: one anchor receipt per batch (`GET /v1/anchors/{root}`), checked against the
//! trust anchor with the verifier's rule ([`LedgerCheck::check_anchor_receipt`], i.e.
//! `ecert_verifier::verify_anchor_receipt`), then matched to the certificates it covers
//! with the wallet library's rule ([`ecert_wallet::anchoring`]). A certificate of one-time
//! copies is looked at through the copy it shows next.

use ecert_schemas::api::LedgerCheck;
use ecert_schemas::ledger::AnchorReceipt;
use ecert_schemas::{KindRegistry, PublicKeyBytes, UnixTime};
use ecert_verifier::anchor_file::parse_anchor;
use ecert_verifier::report::day;
use ecert_verifier::VerifyError;
use ecert_wallet::anchoring::{batch_root, check_record};
use ecert_wallet::certs::Entry;

use crate::views::{AnchorStatus, AnchoredCertificate, BatchView, CertificateSummary};
use crate::WebError;

/// The wallet's distinct batches in the order their first certificate was received, each
/// with the ids of its certificates; the certificates whose anchor proof is damaged come
/// last, under no root. `wallet`: the wallet's key (a copy's batch follows from it).
pub fn batches(entries: &[Entry<'_>], wallet: &PublicKeyBytes) -> Vec<BatchView> {
    let mut found: Vec<BatchView> = Vec::new();
    let mut damaged = Vec::new();
    for entry in entries {
        let Some(root) = batch_root(entry, wallet) else {
            damaged.push(entry.id_hex());
            continue;
        };
        let root = root.to_hex();
        match found
            .iter_mut()
            .find(|b| b.root.as_deref() == Some(root.as_str()))
        {
            Some(batch) => batch.certificates.push(entry.id_hex()),
            None => found.push(BatchView {
                root: Some(root),
                certificates: vec![entry.id_hex()],
            }),
        }
    }
    if !damaged.is_empty() {
        found.push(BatchView {
            root: None,
            certificates: damaged,
        });
    }
    found
}

/// Checks a ledger node's anchor receipt (`GET /v1/anchors/{root}`, CBOR) against the
/// trust anchor file's text, and says for each certificate of `entries` in the receipt's
/// batch whether the ledger's record of the batch is its own: the certificate is in the
/// batch (of the record's size), anchored by its issuer with its key for its kind, as the
/// batch number its file gives — the checks of `ecert-wallet refresh`, and what a counter
/// will check. A receipt that fails its check is an error with the verifier's code
/// (`malformed`, `header-not-certified`, `anchor-proof-invalid`, ...); one about a batch
/// that holds none of these certificates is `other-batch`.
pub fn check_receipt(
    entries: &[Entry<'_>],
    wallet: &PublicKeyBytes,
    kinds: &KindRegistry,
    receipt: &[u8],
    anchor_text: &str,
    now: UnixTime,
) -> Result<AnchorStatus, WebError> {
    let anchor = parse_anchor(anchor_text)?;
    let receipt = AnchorReceipt::from_bytes(receipt).map_err(VerifyError::from)?;
    let verified = anchor.check_anchor_receipt(&receipt)?;
    let record = &verified.record;
    let certificates: Vec<AnchoredCertificate> = entries
        .iter()
        .filter(|e| batch_root(e, wallet) == Some(record.batch_root))
        .map(|entry| {
            // What a counter would refuse it for: the verifier's reason and code.
            let problem = check_record(entry, wallet, record, verified.batch_seq)
                .err()
                .map(|m| VerifyError::AnchorProofInvalid {
                    detail: m.to_string(),
                });
            AnchoredCertificate {
                certificate: CertificateSummary::of(entry, kinds, now),
                anchored: problem.is_none(),
                code: problem.as_ref().map(VerifyError::code),
                reason: problem.as_ref().map(ToString::to_string),
            }
        })
        .collect();
    if certificates.is_empty() {
        return Err(WebError::OtherBatch {
            root: record.batch_root.to_hex(),
        });
    }
    let time = record.time_ms / 1000;
    Ok(AnchorStatus {
        root: record.batch_root.to_hex(),
        batch_seq: verified.batch_seq,
        height: record.height,
        time,
        date: day(UnixTime(time)),
        certified_height: verified.header.height,
        certificates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_schemas::presentation::CertificatePackage;
    use ecert_testkit::world::FIXED_NOW;
    use ecert_testkit::{sample, World, HOUR};
    use ecert_wallet::{certs, Held};
    use rand_core::OsRng;

    fn wallet_of(packages: &[CertificatePackage]) -> Vec<Held> {
        packages.iter().cloned().map(Held::from).collect()
    }

    /// A world whose holder has its ID card (batch 0), its record (batch 1) and two
    /// ID cards anchored together (batch 2).
    fn world() -> (World, Vec<CertificatePackage>) {
        let mut world = World::at(FIXED_NOW);
        let order = sample::id_card(FIXED_NOW);
        let holder = world.holder;
        let pair = world
            .province
            .issue_and_anchor(
                "public-security",
                holder,
                &[order.clone(), order],
                FIXED_NOW.minus(HOUR),
                &mut OsRng,
            )
            .unwrap();
        let packages = vec![
            world.id_card.clone(),
            pair[0].clone(),
            world.record.clone(),
            pair[1].clone(),
        ];
        (world, packages)
    }

    fn receipt(world: &World, batch_seq: u64) -> Vec<u8> {
        let checkpoint = world.province.checkpoint().unwrap();
        world
            .province
            .ledger()
            .anchor_receipt(batch_seq, checkpoint, Vec::new())
            .unwrap()
            .unwrap()
            .to_bytes()
            .unwrap()
    }

    fn root_of(package: &CertificatePackage) -> String {
        let held = wallet_of(std::slice::from_ref(package));
        let entries = certs::entries(&held).unwrap();
        // A format-1 certificate's batch does not depend on the wallet key.
        batch_root(&entries[0], &PublicKeyBytes([0; 32]))
            .unwrap()
            .to_hex()
    }

    fn id(package: &CertificatePackage) -> String {
        certs::entries(&wallet_of(std::slice::from_ref(package))).unwrap()[0].id_hex()
    }

    #[test]
    fn batches_are_distinct_roots_with_their_certificates() {
        let (_, mut packages) = world();
        let mut damaged = packages[0].clone();
        damaged.anchor.leaf_index = u64::MAX;
        packages.push(damaged);
        let held = wallet_of(&packages);
        let entries = certs::entries(&held).unwrap();
        let found = batches(&entries, &PublicKeyBytes([0; 32]));
        let roots: Vec<Option<String>> = found.iter().map(|b| b.root.clone()).collect();
        assert_eq!(
            roots,
            [
                Some(root_of(&packages[0])),
                Some(root_of(&packages[1])),
                Some(root_of(&packages[2])),
                None
            ]
        );
        assert_eq!(roots[0].as_ref().map(String::len), Some(64));
        assert_eq!(found[0].certificates, [id(&packages[0])]);
        assert_eq!(found[1].certificates, [id(&packages[1]), id(&packages[3])]);
        assert_eq!(found[3].certificates, [id(&packages[4])]);
        assert!(batches(&[], &PublicKeyBytes([0; 32])).is_empty());
    }

    #[test]
    fn a_certified_receipt_says_which_certificates_are_anchored_where() {
        let (world, packages) = world();
        let held = wallet_of(&packages);
        let entries = certs::entries(&held).unwrap();
        let kinds = crate::builtin_kinds().unwrap();
        let anchor = world.anchor_toml();
        let seq = packages[1].anchor.batch_seq;
        let me = world.holder;
        let status = check_receipt(
            &entries,
            &me,
            &kinds,
            &receipt(&world, seq),
            &anchor,
            world.now,
        )
        .unwrap();
        let record = &world.province.ledger().anchors()[seq as usize];
        assert_eq!(status.root, root_of(&packages[1]));
        assert_eq!(status.batch_seq, seq);
        assert_eq!(status.height, record.height);
        assert_eq!(status.time, record.time_ms / 1000);
        assert_eq!(status.date.len(), 10);
        let header = world
            .province
            .checkpoint()
            .unwrap()
            .decode_header()
            .unwrap();
        assert_eq!(status.certified_height, header.height);
        assert!(status.certified_height >= status.height);
        let covered: Vec<(&str, bool, Option<&str>)> = status
            .certificates
            .iter()
            .map(|c| (c.certificate.id.as_str(), c.anchored, c.code))
            .collect();
        assert_eq!(
            covered,
            [
                (id(&packages[1]).as_str(), true, None),
                (id(&packages[3]).as_str(), true, None)
            ]
        );
        assert_eq!(status.certificates[1].certificate.index, 3);

        // The first batch: the ID card alone.
        let first = check_receipt(
            &entries,
            &me,
            &kinds,
            &receipt(&world, 0),
            &anchor,
            world.now,
        )
        .unwrap();
        assert_eq!(first.certificates.len(), 1);
        assert_eq!(first.certificates[0].certificate.id, id(&packages[0]));
    }

    #[test]
    fn receipts_that_fail_their_check_or_do_not_match_are_refused() {
        let (world, packages) = world();
        let kinds = crate::builtin_kinds().unwrap();
        let anchor = world.anchor_toml();
        let held = wallet_of(&packages);
        let entries = certs::entries(&held).unwrap();
        let me = world.holder;
        let good = receipt(&world, 2);
        let code = |r: Result<AnchorStatus, WebError>| r.unwrap_err().code();

        assert_eq!(
            code(check_receipt(
                &entries,
                &me,
                &kinds,
                &good,
                "not an anchor",
                world.now
            )),
            "bad-anchor"
        );
        assert_eq!(
            code(check_receipt(
                &entries, &me, &kinds, b"\xa0", &anchor, world.now
            )),
            "malformed"
        );
        assert_eq!(
            code(check_receipt(
                &entries,
                &me,
                &kinds,
                &good[..good.len() - 1],
                &anchor,
                world.now
            )),
            "malformed"
        );
        // Another ledger's anchor: its validators did not certify this receipt.
        let elsewhere = World::at(FIXED_NOW);
        assert_eq!(
            code(check_receipt(
                &entries,
                &me,
                &kinds,
                &good,
                &elsewhere.anchor_toml(),
                world.now
            )),
            "header-not-certified"
        );
        // A receipt with too few votes.
        let mut thin = AnchorReceipt::from_bytes(&good).unwrap();
        thin.checkpoint.votes.truncate(1);
        assert_eq!(
            code(check_receipt(
                &entries,
                &me,
                &kinds,
                &thin.to_bytes().unwrap(),
                &anchor,
                world.now
            )),
            "header-not-certified"
        );
        // A receipt whose record was changed no longer proves it is in the anchor log.
        let mut changed = AnchorReceipt::from_bytes(&good).unwrap();
        changed.record.count += 1;
        assert_eq!(
            code(check_receipt(
                &entries,
                &me,
                &kinds,
                &changed.to_bytes().unwrap(),
                &anchor,
                world.now
            )),
            "anchor-proof-invalid"
        );
        // A genuine receipt of a batch holding none of the wallet's certificates.
        let err = check_receipt(&entries[..1], &me, &kinds, &good, &anchor, world.now).unwrap_err();
        assert_eq!(err.code(), "other-batch");
        assert!(
            err.message().contains(&root_of(&packages[1])),
            "{}",
            err.message()
        );

        // A certificate file that gives its batch another number: anchored, but not as
        // its file says, so a counter would refuse it.
        let mut renumbered = packages[1].clone();
        renumbered.anchor.batch_seq = 0;
        let renumbered = wallet_of(std::slice::from_ref(&renumbered));
        let entries = certs::entries(&renumbered).unwrap();
        let status = check_receipt(&entries, &me, &kinds, &good, &anchor, world.now).unwrap();
        let only = &status.certificates[0];
        assert!(!only.anchored);
        assert_eq!(only.code, Some("anchor-proof-invalid"));
        assert!(
            only.reason
                .as_deref()
                .unwrap_or_default()
                .contains("number 2"),
            "{:?}",
            only.reason
        );
    }

    #[test]
    fn a_certificate_of_copies_is_anchored_through_the_copy_it_shows_next() {
        let mut world = World::at(FIXED_NOW);
        let card = world.issue_copies_now("public-security", sample::id_card(FIXED_NOW), 6);
        let seq = card.copies[0].batch_seq;
        let mut copies = ecert_wallet::copies::HeldCopies::new(card);
        copies.spend(0).unwrap();
        let held = vec![Held::from(world.id_card.clone()), Held::Copies(copies)];
        let entries = certs::entries(&held).unwrap();
        let me = world.holder;
        let found = batches(&entries, &me);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].certificates, [entries[1].id_hex()]);
        let kinds = crate::builtin_kinds().unwrap();
        let anchor = world.anchor_toml();
        let status = check_receipt(
            &entries,
            &me,
            &kinds,
            &receipt(&world, seq),
            &anchor,
            world.now,
        )
        .unwrap();
        assert_eq!(status.root.as_str(), found[1].root.as_deref().unwrap());
        assert_eq!(status.certificates.len(), 1);
        assert!(
            status.certificates[0].anchored,
            "{:?}",
            status.certificates[0]
        );
        assert_eq!(status.certificates[0].certificate.copies_left, Some(5));
        // With another wallet's key, the copy's batch is not found.
        let stranger = ecert_wallet::HolderKey::generate(&mut OsRng).public_key();
        let err = check_receipt(
            &entries,
            &stranger,
            &kinds,
            &receipt(&world, seq),
            &anchor,
            world.now,
        )
        .unwrap_err();
        assert_eq!(err.code(), "other-batch");
    }
}
