//! The province's simulated year at a thousandth of its scale (`ecert-testnet simulate`):
//! the structural results, never timings. Certificates are issued as one-time copies
//! (format 2, 30 each unless said otherwise).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests: fail loudly

use ecert_schemas::copy::DEFAULT_COPIES;
use ecert_testnet::simulate::{run, Options, Report};

fn small(seed: u64) -> Options {
    Options {
        certificates: 100_000,
        days: 7,
        ..Options::province(seed)
    }
}

fn simulate(options: Options) -> Report {
    run(options, |_| {}).unwrap()
}

#[test]
fn a_week_at_a_thousandth_of_the_scale() {
    let r = simulate(small(11));

    // Monday to Friday: every certificate anchored in batches as 30 copies, 1 % revoked
    // with every copy.
    let copies = u64::from(DEFAULT_COPIES);
    assert_eq!(r.working_days, 5);
    assert_eq!(r.certificates, 100_000);
    assert_eq!(r.copies, 100_000 * copies);
    assert_eq!(r.batches, 100);
    assert_eq!(r.revoked, 1_000);
    assert_eq!(r.revoked_indexes, 1_000 * copies);
    assert_eq!(r.blocks, r.height, "every block applied and certified");
    assert!(r.ledger.anchors > 0 && r.ledger.revocations > 0 && r.ledger.governance > 0);

    // Every department rotated its key through governance, and anchoring went on.
    let mut rotated: Vec<&str> = r.rotations.iter().map(|x| x.issuer.as_str()).collect();
    rotated.sort_unstable();
    assert_eq!(
        rotated,
        ["justice", "public-security", "social-security", "transport"]
    );

    // The counter synced every morning incrementally and holds exactly the full bundle.
    assert!(r.syncs.len() >= 4, "{:?}", r.syncs);
    assert!(r.syncs.iter().all(|d| d.bytes > 0 && d.batches > 0));
    assert!(
        r.syncs.iter().any(|d| d.registry),
        "a rotation brings the registry"
    );
    // A validator key replaced on the middle working day (Wednesday): the counter that
    // synced incrementally followed the change and still holds exactly the full bundle.
    let change = r.validator_change.as_ref().expect("a validator change");
    assert_eq!((change.day, change.issuer.as_str()), (2, "social-security"));
    assert!(change.height > 1 && change.height < r.height);
    assert!(r.update_equals_bundle);
    assert_eq!(r.year_end.bundle_batches, 100);
    assert_eq!(r.year_end.bundle_revoked, 1_000 * copies);
    assert!(r.year_end.bundle_status_bytes > 0 && r.year_end.bundle_anchor_bytes > 0);
    // Whole certificates' copies in the year-end revocation: 33 certificates of 30.
    assert_eq!(r.year_end.revocation_block_indexes, 990);

    // The citizen's certificates verify, those under rotated keys included.
    assert_eq!(r.shown.len(), 6);
    for shown in &r.shown {
        assert_eq!(shown.refused, shown.expected, "{shown:?}");
    }
    assert!(r.shown.iter().any(|s| s.key_rotated && s.refused.is_none()));
    assert!(r
        .shown
        .iter()
        .any(|s| !s.key_rotated && s.refused.is_none()));

    // The idle week: freshness each morning keeps the counter verifying; without it the
    // data is too old after a day.
    let idle = &r.idle;
    assert_eq!(idle.with_freshness.checks, 7 * 24);
    assert_eq!(idle.with_freshness.verified, 7 * 24);
    assert_eq!(idle.with_freshness.first_refusal, None);
    assert_eq!(idle.without_freshness.verified, 24);
    assert_eq!(
        idle.without_freshness.first_refusal,
        Some((25, "revocation-data-too-old"))
    );
    // Each presentation spends a copy of each certificate shown: six at the year's end,
    // then two certificates an hour (one code shown to both counters); past 30 a
    // certificate's copies are shown again.
    assert_eq!(r.presented.copies, 6 + 2 * 7 * 24);
    assert_eq!(r.presented.reused, 2 * (1 + 7 * 24 - copies));

    // Storage counts every block's entry, header, signed record and checkpoint.
    let s = &r.storage;
    assert_eq!(s.blocks, r.blocks);
    assert!(s.raft_log > 0 && s.headers > 0 && s.checkpoints > 0);
    assert!(s.snapshot > s.snapshot_payload);
    assert!(s.total_purged(1_000) <= s.total());
}

#[test]
fn the_seed_replays_the_same_ledger() {
    let options = Options {
        certificates: 20_000,
        days: 2,
        seven_day_week: true,
        ..Options::province(5)
    };
    let (a, b) = (simulate(options.clone()), simulate(options));
    assert_eq!(a.storage, b.storage);
    assert_eq!(a.year_end.bundle_bytes, b.year_end.bundle_bytes);
    assert_eq!(a.rotations, b.rotations);
    let sizes = |r: &Report| r.syncs.iter().map(|d| d.bytes).collect::<Vec<_>>();
    assert_eq!(sizes(&a), sizes(&b));
    assert_eq!(a.revoked, 200);
}

#[test]
fn options_outside_a_simulation_are_refused() {
    for options in [
        Options {
            days: 0,
            ..Options::province(1)
        },
        Options {
            batch_size: 0,
            ..Options::province(1)
        },
        Options {
            revoked_percent: 80.0,
            ..Options::province(1)
        },
        // More than the departments' status lists hold.
        Options {
            certificates: 5_000_000_000,
            copies: 1,
            ..Options::province(1)
        },
        // A year's 100 M certificates as 100 copies each: the largest department's 4.5 G
        // copies do not fit its 2^31 status indexes.
        Options {
            copies: 100,
            ..Options::province(1)
        },
        Options {
            copies: 0,
            ..Options::province(1)
        },
        // A batch of more than 2^20 copies.
        Options {
            certificates: 100_000,
            batch_size: 40_000,
            ..Options::province(1)
        },
    ] {
        assert!(run(options, |_| {}).is_err());
    }
    let fits = Options::province(1);
    assert!(fits.max_certificates() > 150_000_000 && fits.max_certificates() < 170_000_000);
}

#[test]
fn one_copy_gives_the_ledger_what_format_1_gives_it() {
    let r = simulate(Options {
        copies: 1,
        ..small(11)
    });
    assert_eq!((r.certificates, r.copies), (100_000, 100_000));
    assert_eq!((r.revoked, r.revoked_indexes), (1_000, 1_000));
    assert_eq!(r.year_end.revocation_block_indexes, 1_000);
    assert!(r.update_equals_bundle);
    for shown in &r.shown {
        assert_eq!(shown.refused, shown.expected, "{shown:?}");
    }
    // The one copy is shown again at every presentation after the first.
    assert_eq!(r.presented.reused, r.presented.copies - 6);
    assert_eq!(r.idle.with_freshness.verified, 7 * 24);
}
