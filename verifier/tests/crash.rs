//! `ecert-verify sync` killed with SIGKILL at every write point (the test-only crash
//! points of `ecert_shell::crash_points`) and at random moments: the counter's stored
//! ledger data must then load (`status` succeeds) and be exactly the old data or the new,
//! and `sync` run again must finish.
// Test code: a failed unwrap is a failed test, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_testkit::crash::{self, Dice};
use ecert_testkit::{sample, Cmd, Scratch, World};

#[test]
fn sync_killed_at_every_write_point_and_at_random_keeps_old_or_new_data() {
    let mut world = World::new();
    let dir = Scratch::new("verify-crash-sync");
    let store = dir.path("store");
    let counter = |args: &[&str]| {
        Cmd::new("ecert-verify")
            .args(args)
            .env("ECERT_VERIFY_STORE", &store)
    };
    let anchor = world.write_anchor(&dir.path("anchor.toml"));
    counter(&["init", "--anchor", anchor.to_str().unwrap()])
        .run()
        .ok();
    let old_file = world.write_bundle(&dir.path("old.cbor"));
    counter(&["sync", "--from-file", old_file.to_str().unwrap()])
        .run()
        .ok();
    let t = world.now.minus(60);
    world.issue_one("justice", sample::no_criminal_record(world.now), t, t);
    let new_file = world.write_bundle(&dir.path("new.cbor"));
    let (old, new) = (
        std::fs::read(&old_file).unwrap(),
        std::fs::read(&new_file).unwrap(),
    );
    assert_ne!(old, new);
    let stored = store.join("bundle.cbor");
    let sync = || counter(&["sync", "--from-file", new_file.to_str().unwrap()]);
    let check_and_finish = |what: &str| {
        let held = std::fs::read(&stored).unwrap();
        assert!(
            held == old || held == new,
            "{what}: neither the old data nor the new"
        );
        counter(&["status"]).run().ok();
        let out = sync().run().ok();
        assert!(
            out.contains("Synced") || out.contains("Already up to date"),
            "{out}"
        );
        assert_eq!(std::fs::read(&stored).unwrap(), new);
        std::fs::write(&stored, &old).unwrap();
    };

    let (done, points) = crash::points(sync(), &dir);
    done.ok();
    std::fs::write(&stored, &old).unwrap();
    assert!(points.len() >= 4, "{points:?}");
    for n in 1..=points.len() {
        crash::crash_at(sync(), n);
        check_and_finish(&format!("killed at write point {n}"));
    }
    let whole = crash::duration(sync());
    std::fs::write(&stored, &old).unwrap();
    let mut dice = Dice::new("ecert-verify sync");
    for i in 0..8 {
        crash::kill_after(sync(), dice.delay(whole));
        check_and_finish(&format!("random kill {i}"));
    }
    eprintln!(
        "sync: {} write points, all tried; 8 random kills",
        points.len()
    );
}
