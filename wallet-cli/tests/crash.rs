//! `ecert-wallet receive` (from a file and with an offer code), `passwd`, `restore`,
//! `present` (which records the presentation in the wallet's history, and marks the
//! one-time copy it shows used, before showing it) and `history --clear` killed with SIGKILL at every write point (the test-only crash
//! points of `ecert_shell::crash_points`) and at random moments; then the wallet must
//! open, with the old or the new passphrase, holding what it held or what it was given
//! (the history with or without the entry being written, never less), and the
//! command run again (or the one its message names) must finish the work. With an offer,
//! the department hands the package again to the wallet that collected it (its redelivery
//! window), so nothing is lost at any point; past that window, the copy the wallet keeps. A full disk (a
//! small tmpfs) during `receive`: a clear message, the wallet unchanged, and the same
//! command succeeds once space is freed.
// Test code: a failed unwrap is a failed test, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ecert_schemas::copy::AnyPresentation;
use ecert_schemas::{CertificateId, OfferRedemption, PublicKeyBytes};
use ecert_testkit::crash::{self, Dice, Tmpfs};
use ecert_testkit::http::{Reply, Server};
use ecert_testkit::{sample, Cmd, Scratch, World, DAY};
use ecert_verifier::copy_key::copy_public_key;
use ecert_verifier::offer::verify_offer_redemption;
use ecert_wallet::{store, Held};
use zeroize::Zeroizing;

const OLD: &str = "correct horse battery staple";
const NEW: &str = "a new and longer passphrase";
const BACKUP: &str = "the backup passphrase";

struct Device {
    dir: Scratch,
    wallet: PathBuf,
}

impl Device {
    fn new(name: &str, wallet: Option<PathBuf>) -> Device {
        let dir = Scratch::new(&format!("wallet-crash-{name}"));
        let wallet = wallet.unwrap_or_else(|| dir.path("data").join("wallet.ecw"));
        let device = Device { dir, wallet };
        device.cmd(&["init"]).run().ok();
        device
    }

    fn cmd(&self, args: &[&str]) -> Cmd {
        Cmd::new("ecert-wallet")
            .args(args)
            .env("ECERT_WALLET", &self.wallet)
            .env("ECERT_WALLET_PASSPHRASE", OLD)
            .env("ECERT_NEW_WALLET_PASSPHRASE", NEW)
            .env("ECERT_BACKUP_PASSPHRASE", BACKUP)
    }

    fn id(&self) -> PublicKeyBytes {
        let out = self.cmd(&["id"]).run().ok();
        let line = out
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 64 && l.chars().all(|c| c.is_ascii_hexdigit()))
            .unwrap();
        PublicKeyBytes::from_hex(line).unwrap()
    }
}

/// How many certificates the wallet at `path` holds, opened with `passphrase` (`None`:
/// it does not open with it).
fn held(path: &Path, passphrase: &str) -> Option<usize> {
    let bytes = std::fs::read(path).ok()?;
    store::open(&bytes, &Zeroizing::new(passphrase.to_owned()))
        .ok()
        .map(|c| c.packages.len())
}

/// The certificates and the history entries of the wallet at `path`, opened with
/// `passphrase` (`None`: it does not open with it).
fn held_with_history(path: &Path, passphrase: &str) -> Option<(usize, usize)> {
    let bytes = std::fs::read(path).ok()?;
    store::open_with_history(&bytes, &Zeroizing::new(passphrase.to_owned()))
        .ok()
        .map(|(c, h)| (c.packages.len(), h.len()))
}

/// A wallet holding the world's ID card, and the world (its record not received yet).
fn setup(name: &str) -> (Device, World, PathBuf, Vec<u8>) {
    let device = Device::new(name, None);
    let world = World::builder()
        .chain("ecert-wallet-crash")
        .genesis_age(200 * DAY)
        .build_for(device.id());
    let id_card = device
        .dir
        .write("id-card.ecp", world.id_card.to_bytes().unwrap());
    device
        .cmd(&["receive", id_card.to_str().unwrap()])
        .run()
        .ok();
    let record = device
        .dir
        .write("record.ecp", world.record.to_bytes().unwrap());
    let start = std::fs::read(&device.wallet).unwrap();
    (device, world, record, start)
}

#[test]
fn receive_from_a_file_killed_at_every_write_point_and_at_random() {
    let (device, _world, record, start) = setup("receive");
    let receive = || device.cmd(&["receive", record.to_str().unwrap()]);
    let (done, points) = crash::points(receive(), &device.dir);
    done.ok();
    assert!(points.len() >= 4, "{points:?}");
    let check_and_finish = || {
        let n = held(&device.wallet, OLD).expect("the wallet opens");
        assert!(n == 1 || n == 2, "{n} certificates");
        let out = receive().run().ok();
        assert!(
            out.contains("Added") || out.contains("already in your wallet"),
            "{out}"
        );
        assert_eq!(held(&device.wallet, OLD), Some(2));
        // The finishing run removed what killed saves left behind.
        let temporaries = crash::temporaries(device.wallet.parent().unwrap());
        assert!(temporaries.is_empty(), "{temporaries:?}");
    };
    for n in 1..=points.len() {
        std::fs::write(&device.wallet, &start).unwrap();
        crash::crash_at(receive(), n);
        check_and_finish();
    }
    std::fs::write(&device.wallet, &start).unwrap();
    let whole = crash::duration(receive());
    let mut dice = Dice::new("wallet receive");
    for _ in 0..8 {
        std::fs::write(&device.wallet, &start).unwrap();
        crash::kill_after(receive(), dice.delay(whole));
        check_and_finish();
    }
    eprintln!(
        "receive FILE: {} write points, all tried; 8 random kills",
        points.len()
    );
}

/// A department's offer endpoint for `package`, over offer code `CODE1`. The first signed
/// request gets the package; with `redelivers` (as `ecert-issuer serve` within its
/// redelivery window) the wallet that collected it gets it again, and anyone else — or,
/// without `redelivers` (past the window, or `--redelivery-days 0`), everyone — is told
/// the offer was used.
fn offer_server(package: Vec<u8>, redelivers: bool) -> Server {
    let collected_by = Arc::new(Mutex::new(None::<PublicKeyBytes>));
    Server::start(move |request| {
        if request.method != "POST" {
            return Reply::error(404, "unknown-offer", "no such offer");
        }
        let code = request
            .path()
            .strip_prefix("/v1/offers/")
            .and_then(|rest| rest.strip_suffix("/redeem"))
            .unwrap_or_default();
        let key = OfferRedemption::from_bytes(&request.body)
            .ok()
            .and_then(|r| verify_offer_redemption(code, &r).ok());
        let Some(key) = key else {
            return Reply::error(400, "bad-signature", "not a signed redemption");
        };
        let mut collected_by = collected_by.lock().unwrap();
        match *collected_by {
            None => {
                *collected_by = Some(key);
                Reply::cbor(package.clone())
            }
            Some(first) if redelivers && first == key => Reply::cbor(package.clone()),
            Some(_) => Reply::error(410, "offer-used", "already collected"),
        }
    })
}

/// The copies of offer `CODE1`'s package the wallet keeps in `dir`.
fn copies(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("offer-CODE1"))
        .map(|e| e.path())
        .collect()
}

#[test]
fn receive_with_an_offer_killed_at_every_write_point() {
    let (device, world, _, start) = setup("offer");
    let package = world.record.to_bytes().unwrap();
    let data = device.wallet.parent().unwrap().to_owned();
    let receive = |server: &Server| {
        device.cmd(&[
            "receive",
            "--offer",
            &format!("{}/v1/offers/CODE1", server.url),
        ])
    };
    let server = offer_server(package.clone(), true);
    let (done, points) = crash::points(receive(&server), &device.dir);
    done.ok();
    assert!(
        copies(&data).is_empty(),
        "the copy is deleted once received"
    );
    let mut again = 0;
    for n in 1..=points.len() {
        std::fs::write(&device.wallet, &start).unwrap();
        for copy in copies(&data) {
            std::fs::remove_file(copy).unwrap();
        }
        let server = offer_server(package.clone(), true);
        crash::crash_at(receive(&server), n);
        let held_now = held(&device.wallet, OLD).expect("the wallet opens");
        // Every point is after the department's answer: the offer is used. The same
        // command run again collects the package again and adds it, or says it is held.
        let out = receive(&server).run().ok();
        match held_now {
            1 => {
                assert!(out.contains("Added"), "after a kill at point {n}: {out}");
                again += 1;
            }
            2 => assert!(
                out.contains("already in your wallet"),
                "after a kill at point {n}: {out}"
            ),
            other => panic!("after a kill at point {n}: {other} certificates"),
        }
        assert_eq!(
            held(&device.wallet, OLD),
            Some(2),
            "point {n}: nothing lost"
        );
        assert!(
            copies(&data).is_empty(),
            "point {n}: no copy left behind: {:?}",
            copies(&data)
        );
    }
    assert!(
        again >= 3,
        "the kills before the copy was in place: {again}"
    );
    eprintln!(
        "receive --offer: {} write points, all tried; nothing lost, {again} collected again",
        points.len()
    );
}

#[test]
fn receive_with_an_offer_the_department_no_longer_hands_again() {
    let (device, world, _, start) = setup("offer-once");
    let package = world.record.to_bytes().unwrap();
    let data = device.wallet.parent().unwrap().to_owned();
    let receive = |server: &Server| {
        device.cmd(&[
            "receive",
            "--offer",
            &format!("{}/v1/offers/CODE1", server.url),
        ])
    };
    let (done, points) = crash::points(receive(&offer_server(package.clone(), false)), &device.dir);
    done.ok();
    let mut lost = 0;
    for n in 1..=points.len() {
        std::fs::write(&device.wallet, &start).unwrap();
        for copy in copies(&data) {
            std::fs::remove_file(copy).unwrap();
        }
        let server = offer_server(package.clone(), false);
        crash::crash_at(receive(&server), n);
        let held_now = held(&device.wallet, OLD).expect("the wallet opens");
        let err = receive(&server).run().fails_with(6);
        assert!(err.contains("already collected"), "{err}");
        match copies(&data).first() {
            Some(copy) => {
                let told = format!("ecert-wallet receive {}", copy.display());
                assert!(err.contains(&told), "the message says what to run: {err}");
                let out = device.cmd(&["receive", copy.to_str().unwrap()]).run().ok();
                assert!(out.contains("Added") || out.contains("already"), "{out}");
                assert_eq!(held(&device.wallet, OLD), Some(2));
            }
            None => {
                // Killed between the department's answer and the copy being in place, and
                // the department no longer hands it again (past its redelivery window).
                assert_eq!(held_now, 1);
                assert!(err.contains("tell the department"), "{err}");
                lost += 1;
            }
        }
    }
    assert!(
        lost <= 3,
        "only the copy's own write may lose the offer: {lost}"
    );
    eprintln!(
        "receive --offer, not handed again: {} write points, all tried; {lost} before the \
         copy was in place",
        points.len()
    );
}

#[test]
fn passwd_killed_at_every_write_point_leaves_one_passphrase_that_opens() {
    let (device, _world, _, start) = setup("passwd");
    let passwd = || device.cmd(&["passwd"]);
    let (done, points) = crash::points(passwd(), &device.dir);
    done.ok();
    assert_eq!(held(&device.wallet, NEW), Some(1));
    for n in 1..=points.len() {
        std::fs::write(&device.wallet, &start).unwrap();
        crash::crash_at(passwd(), n);
        match (held(&device.wallet, OLD), held(&device.wallet, NEW)) {
            (Some(1), None) => {
                passwd().run().ok();
                assert_eq!(held(&device.wallet, NEW), Some(1));
            }
            (None, Some(1)) => {}
            other => panic!("after a kill at point {n}: {other:?}"),
        }
    }
    eprintln!("passwd: {} write points, all tried", points.len());
}

#[test]
fn restore_killed_at_every_write_point_is_whole_or_can_be_run_again() {
    let (device, _world, record, _) = setup("restore");
    device
        .cmd(&["receive", record.to_str().unwrap()])
        .run()
        .ok();
    let backup = device.dir.path("backup.ecb");
    device.cmd(&["backup", backup.to_str().unwrap()]).run().ok();
    let target = device.dir.path("new-device").join("wallet.ecw");
    let restore = || {
        Cmd::new("ecert-wallet")
            .args(["restore", backup.to_str().unwrap()])
            .env("ECERT_WALLET", &target)
            .env("ECERT_WALLET_PASSPHRASE", NEW)
            .env("ECERT_BACKUP_PASSPHRASE", BACKUP)
    };
    let (done, points) = crash::points(restore(), &device.dir);
    done.ok();
    assert_eq!(held(&target, NEW), Some(2));
    for n in 1..=points.len() {
        let _ = std::fs::remove_file(&target);
        crash::crash_at(restore(), n);
        if target.exists() {
            assert_eq!(held(&target, NEW), Some(2), "a restored wallet is whole");
            let err = restore().run().fails_with(1);
            assert!(err.contains("already a wallet"), "{err}");
        } else {
            restore().run().ok();
            assert_eq!(held(&target, NEW), Some(2));
        }
    }
    eprintln!("restore: {} write points, all tried", points.len());
}

#[test]
fn present_killed_at_every_write_point_shows_nothing_unrecorded_and_loses_no_history() {
    let (device, _world, _, _) = setup("present");
    let present = || device.cmd(&["present", "--show", "id-card:name", "--text"]);
    present().run().ok();
    let start = std::fs::read(&device.wallet).unwrap();
    assert_eq!(held_with_history(&device.wallet, OLD), Some((1, 1)));
    let (done, points) = crash::points(present(), &device.dir);
    assert!(done.ok().starts_with("EC1"));
    assert!(points.len() >= 4, "{points:?}");
    let check_and_finish = |killed: Option<&str>| {
        let (certs, entries) = held_with_history(&device.wallet, OLD).expect("the wallet opens");
        assert_eq!(certs, 1, "the certificates are kept");
        assert!(
            entries == 1 || entries == 2,
            "the history has the entry or not, and nothing else lost: {entries}"
        );
        if let Some(printed) = killed {
            // Every write point comes before the code is shown: no code without its entry.
            assert!(printed.is_empty(), "a code was shown: {printed}");
        }
        // The next presentation is recorded, and removes what the kill left behind.
        present().run().ok();
        assert_eq!(
            held_with_history(&device.wallet, OLD),
            Some((1, entries + 1))
        );
        let temporaries = crash::temporaries(device.wallet.parent().unwrap());
        assert!(temporaries.is_empty(), "{temporaries:?}");
    };
    for n in 1..=points.len() {
        std::fs::write(&device.wallet, &start).unwrap();
        let run = crash::crash_at(present(), n);
        check_and_finish(Some(&run.stdout));
    }
    std::fs::write(&device.wallet, &start).unwrap();
    let whole = crash::duration(present());
    let mut dice = Dice::new("wallet present");
    for _ in 0..8 {
        std::fs::write(&device.wallet, &start).unwrap();
        crash::kill_after(present(), dice.delay(whole));
        check_and_finish(None);
    }
    eprintln!(
        "present: {} write points, all tried; 8 random kills",
        points.len()
    );
}

#[test]
fn history_clear_killed_at_every_write_point_clears_all_or_nothing() {
    let (device, _world, _, _) = setup("clear");
    for _ in 0..3 {
        device
            .cmd(&["present", "--show", "id-card:name", "--text"])
            .run()
            .ok();
    }
    let start = std::fs::read(&device.wallet).unwrap();
    let clear = || device.cmd(&["history", "--clear", "--yes"]);
    let (done, points) = crash::points(clear(), &device.dir);
    done.ok();
    assert_eq!(held_with_history(&device.wallet, OLD), Some((1, 0)));
    for n in 1..=points.len() {
        std::fs::write(&device.wallet, &start).unwrap();
        crash::crash_at(clear(), n);
        match held_with_history(&device.wallet, OLD) {
            Some((1, 3)) => {
                clear().run().ok();
                assert_eq!(held_with_history(&device.wallet, OLD), Some((1, 0)));
            }
            Some((1, 0)) => {}
            other => panic!("after a kill at point {n}: {other:?}"),
        }
    }
    eprintln!("history --clear: {} write points, all tried", points.len());
}

#[test]
fn receive_on_a_full_disk_says_so_and_keeps_the_wallet() {
    let Some(disk) = Tmpfs::mount("wallet-full-disk", 256) else {
        return;
    };
    let (device, world, record, _) = setup("full-disk");
    let wallet = disk.dir().join("wallet.ecw");
    std::fs::copy(&device.wallet, &wallet).unwrap();
    let device = Device {
        dir: device.dir,
        wallet,
    };
    let before = std::fs::read(&device.wallet).unwrap();
    let filler = disk.fill(512);
    let receive = || device.cmd(&["receive", record.to_str().unwrap()]);
    let err = receive().run().fails_with(1);
    assert!(err.contains("the disk is full"), "{err}");
    assert!(err.contains("nothing was added"), "{err}");
    assert_eq!(std::fs::read(&device.wallet).unwrap(), before, "unchanged");
    assert!(
        crash::temporaries(disk.dir()).is_empty(),
        "no half-written file"
    );
    std::fs::remove_file(filler).unwrap();
    receive().run().ok();
    assert_eq!(held(&device.wallet, OLD), Some(2));
    drop(world);
}

#[test]
fn present_on_a_full_disk_shows_nothing_and_keeps_the_wallet() {
    let Some(disk) = Tmpfs::mount("wallet-present-full-disk", 256) else {
        return;
    };
    let (device, _world, _, _) = setup("present-full-disk");
    let wallet = disk.dir().join("wallet.ecw");
    std::fs::copy(&device.wallet, &wallet).unwrap();
    let device = Device {
        dir: device.dir,
        wallet,
    };
    let before = std::fs::read(&device.wallet).unwrap();
    let filler = disk.fill(512);
    let present = || device.cmd(&["present", "--show", "id-card:name", "--text"]);
    let run = present().run();
    let err = run.fails_with(1);
    assert!(err.contains("the disk is full"), "{err}");
    assert!(err.contains("the QR code was not shown"), "{err}");
    assert!(run.stdout.is_empty(), "a code was shown: {}", run.stdout);
    assert_eq!(std::fs::read(&device.wallet).unwrap(), before, "unchanged");
    assert!(crash::temporaries(disk.dir()).is_empty());
    std::fs::remove_file(filler).unwrap();
    assert!(present().run().ok().starts_with("EC1"));
    assert_eq!(held_with_history(&device.wallet, OLD), Some((1, 1)));
}

/// The copies left of the certificate of one-time copies `id` and the history entries of
/// the wallet at `path` (`None`: it does not open with `passphrase`).
fn copies_left(path: &Path, passphrase: &str, id: &CertificateId) -> Option<(usize, usize)> {
    let bytes = std::fs::read(path).ok()?;
    let (contents, history) =
        store::open_with_history(&bytes, &Zeroizing::new(passphrase.to_owned())).ok()?;
    let left = contents
        .packages
        .iter()
        .filter_map(Held::copies)
        .find(|c| c.package().id == *id)?
        .count()
        .left;
    Some((left, history.len()))
}

/// The holder key of the one copy a format-2 QR string shows.
fn shown_copy(qr: &str) -> PublicKeyBytes {
    match AnyPresentation::from_qr_string(qr.trim()).unwrap() {
        AnyPresentation::V2(p) => p.decode_items().unwrap()[0].holder,
        AnyPresentation::V1(_) => panic!("a format-2 code expected"),
    }
}

#[test]
fn presenting_a_copy_killed_at_every_write_point_never_shows_a_copy_twice() {
    let (device, mut world, _, _) = setup("copies");
    let me = device.id();
    let card = world.issue_copies_now("public-security", sample::id_card(world.now), 40);
    let file = device.dir.write("card.ecp", card.to_bytes().unwrap());
    device.cmd(&["receive", file.to_str().unwrap()]).run().ok();
    let short = card.id.to_hex()[..8].to_owned();
    let choice = format!("{short}:name");
    let present = || device.cmd(&["present", "--show", &choice, "--text"]);
    // The holder key of copy `i`: what a presentation of it shows.
    let copy_key = |i: usize| copy_public_key(&me, &card.copies[i].secret).unwrap();
    let first = present().run().ok();
    assert_eq!(shown_copy(&first), copy_key(0));
    let start = std::fs::read(&device.wallet).unwrap();
    assert_eq!(copies_left(&device.wallet, OLD, &card.id), Some((39, 1)));
    let (done, points) = crash::points(present(), &device.dir);
    assert_eq!(shown_copy(&done.ok()), copy_key(1));
    assert!(points.len() >= 4, "{points:?}");
    // After a kill: the copy is marked used exactly when the presentation is recorded
    // (one save); the next presentation shows the first copy not marked, never one shown.
    let check_and_finish = |killed: Option<&str>| {
        let (left, entries) = copies_left(&device.wallet, OLD, &card.id).expect("it opens");
        assert!(
            (left, entries) == (39, 1) || (left, entries) == (38, 2),
            "marks and history disagree: {left} left, {entries} entries"
        );
        if let Some(printed) = killed {
            // Every write point comes before the code is shown.
            assert!(printed.is_empty(), "a code was shown: {printed}");
        }
        let next = present().run().ok();
        let expected = 40 - left;
        assert_eq!(shown_copy(&next), copy_key(expected), "not the next copy");
        assert_ne!(shown_copy(&next), copy_key(0));
        assert_eq!(
            copies_left(&device.wallet, OLD, &card.id),
            Some((left - 1, entries + 1))
        );
        let temporaries = crash::temporaries(device.wallet.parent().unwrap());
        assert!(temporaries.is_empty(), "{temporaries:?}");
    };
    let mut wasted = 0;
    for n in 1..=points.len() {
        std::fs::write(&device.wallet, &start).unwrap();
        let run = crash::crash_at(present(), n);
        if copies_left(&device.wallet, OLD, &card.id) == Some((38, 2)) {
            wasted += 1;
        }
        check_and_finish(Some(&run.stdout));
    }
    assert!(
        wasted >= 1,
        "a kill after the save wastes the copy it marked: {wasted}"
    );
    std::fs::write(&device.wallet, &start).unwrap();
    let whole = crash::duration(present());
    let mut dice = Dice::new("wallet present a copy");
    for _ in 0..8 {
        std::fs::write(&device.wallet, &start).unwrap();
        crash::kill_after(present(), dice.delay(whole));
        check_and_finish(None);
    }
    eprintln!(
        "present a copy: {} write points, all tried ({wasted} after the save); 8 random kills",
        points.len()
    );
}
