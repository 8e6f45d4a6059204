//! Decoding synthetic camera captures of a version-25 code: the rate this crate reaches
//! (against `rqrr` alone, the decoder it used to be), that every read is exact, and the
//! time a 640×480 webcam frame takes.
//!
//! `cargo test -p ecert-qr --release --test decode_rate -- --nocapture` prints a table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod captures;

use std::time::{Duration, Instant};

use captures::{base_image, capture, qr_text, shots, Capture, Shot};
use ecert_qr::QrError;

/// Base45 characters after `EC1R:`: with EC level M this is a version-25 code.
const TEXT_LEN: usize = 1400;

/// Captures (of 44) this crate must read. Measured: 44 of 44; `rqrr` alone reads 13 and
/// zbar (`zbarimg` 0.23) 35.
const MIN_READ: usize = 42;

/// The old decoder: `rqrr` straight on the grey picture. Run in optimised builds only
/// (its generic code is compiled with this test, unoptimised in a debug build: seconds).
fn rqrr_only(capture: &Capture) -> Option<String> {
    if cfg!(debug_assertions) {
        return None;
    }
    let mut prepared = rqrr::PreparedImage::prepare(capture.grey());
    let grids = prepared.detect_grids();
    match grids.as_slice() {
        [grid] => grid.decode().ok().map(|(_, text)| text),
        _ => None,
    }
}

fn text() -> String {
    let text = qr_text(25, TEXT_LEN);
    assert_eq!(ecert_qr::render::qr_version(&text).unwrap(), 25);
    text
}

#[test]
fn capture_set_is_read_and_read_exactly() {
    let text = text();
    let base = base_image(&text);
    let generating = Instant::now();
    let set: Vec<(Shot, Capture)> = shots()
        .into_iter()
        .enumerate()
        .map(|(i, shot)| {
            let c = capture(&base, &shot, 1000 + i as u64);
            (shot, c)
        })
        .collect();
    println!(
        "{} captures made in {:.1?}",
        set.len(),
        generating.elapsed()
    );
    // ECERT_QR_CAPTURES=DIR writes the captures there, to try other decoders on them.
    if let Some(dir) = std::env::var_os("ECERT_QR_CAPTURES") {
        for (i, (_, c)) in set.iter().enumerate() {
            let path = std::path::Path::new(&dir).join(format!("{i:02}"));
            match c {
                Capture::File(bytes) => std::fs::write(path.with_extension("img"), bytes).unwrap(),
                Capture::Luma { .. } => c.grey().save(path.with_extension("png")).unwrap(),
            }
        }
    }
    let mut ours = 0;
    let mut old = 0;
    let mut slowest = Duration::ZERO;
    let mut rqrr_time = Duration::ZERO;
    let mut our_time = Duration::ZERO;
    for (shot, c) in &set {
        let started = Instant::now();
        let got = c.decode();
        let took = started.elapsed();
        slowest = slowest.max(took);
        our_time += took;
        let started = Instant::now();
        let by_rqrr = rqrr_only(c);
        rqrr_time += started.elapsed();
        if let Ok(read) = &got {
            assert_eq!(read, &text, "{}: read the wrong text", shot.name);
            ours += 1;
        }
        if let Some(read) = &by_rqrr {
            assert_eq!(read, &text, "{}: rqrr read the wrong text", shot.name);
            old += 1;
        }
        let (w, h) = c.grey().dimensions();
        println!(
            "{:<26} {w:>4}×{h:<4} ours: {:<10} rqrr: {:<4} {took:>9.1?}",
            shot.name,
            match &got {
                Ok(_) => "read".to_owned(),
                Err(QrError::NoCode) => "no code".to_owned(),
                Err(e) => format!("{e:.10}"),
            },
            if by_rqrr.is_some() { "read" } else { "-" },
        );
    }
    println!(
        "read {ours} of {} captures (rqrr alone: {old}); {our_time:.1?} in all, slowest \
         {slowest:.1?} (rqrr: {rqrr_time:.1?} in all)",
        set.len()
    );
    assert!(
        ours >= MIN_READ,
        "read only {ours} of {} captures",
        set.len()
    );
    assert!(ours >= old, "worse than rqrr alone ({ours} < {old})");
    if cfg!(debug_assertions) {
        println!("(rqrr alone is run in optimised builds only: add --release)");
    }
}

/// Two different codes side by side are refused, whichever decoder pass finds them.
#[test]
fn two_different_codes_are_refused() {
    let a = base_image(&qr_text(1, 300));
    let b = base_image(&qr_text(2, 300));
    let (w, h) = (a.width() + b.width() + 40, a.height().max(b.height()) + 40);
    let mut both = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    image::imageops::overlay(&mut both, &a, 20, 20);
    image::imageops::overlay(&mut both, &b, i64::from(a.width()) + 20, 20);
    let (w, h) = both.dimensions();
    assert_eq!(
        ecert_qr::scan::decode_luma(w, h, both.into_raw()),
        Err(QrError::SeveralCodes(2))
    );
}

/// A webcam frame with a code and one without (the common case at a counter: nobody is
/// showing anything yet) must both be answered well within a frame budget. Timings are
/// printed; the bound is checked in optimised builds only.
#[test]
fn webcam_frame_time() {
    let text = text();
    let base = base_image(&text);
    let with_code = capture(
        &base,
        &Shot::camera("webcam", 0.85, -3.0, 0.7, 5.0, (25.0, 150.0)).webcam(),
        7,
    );
    let mut rng = captures::Rng::new(9);
    let empty: Vec<u8> = (0..640 * 480)
        .map(|i| {
            // A desk: smooth shading and noise, no code.
            let (x, y) = ((i % 640) as f64, (i / 640) as f64);
            (90.0 + 40.0 * (x / 90.0).sin() * (y / 70.0).cos() + 8.0 * rng.gauss())
                .clamp(0.0, 255.0) as u8
        })
        .collect();
    let empty = Capture::Luma {
        width: 640,
        height: 480,
        pixels: empty,
    };
    assert_eq!(with_code.decode().unwrap(), text);
    assert_eq!(empty.decode(), Err(QrError::NoCode));
    for (name, frame) in [("with a code", &with_code), ("without a code", &empty)] {
        let runs = if cfg!(debug_assertions) { 1 } else { 10 };
        let started = Instant::now();
        for _ in 0..runs {
            let _ = frame.decode();
        }
        let per_frame = started.elapsed() / runs;
        // Reported, not asserted: speed goals live in docs/benchmarks.md.
        println!("640×480 frame {name}: {per_frame:.1?} a frame");
    }
}
