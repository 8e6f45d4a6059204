//! The province's simulated year at a thousandth of its scale (`ecert-testnet simulate`):
//! the structural results, never timings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests: fail loudly

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

    // Monday to Friday: every certificate anchored in batches, 1 % revoked.
    assert_eq!(r.working_days, 5);
    assert_eq!(r.certificates, 100_000);
    assert_eq!(r.batches, 100);
    assert_eq!(r.revoked, 1_000);
    assert_eq!(r.blocks, r.height, "every block applied and certified");

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
    assert_eq!(r.year_end.bundle_revoked, 1_000);

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
            certificates: 1_000_000_000,
            ..Options::province(1)
        },
    ] {
        assert!(run(options, |_| {}).is_err());
    }
}
