//! The end-to-end figure of `docs/benchmarks.md` against the test kit's fake node (one
//! certified block per anchor transaction, four validators' votes), for a machine without
//! a release testnet. Ignored by default: it needs a release `ecert-issuer` and minutes.
//!
//! ```text
//! cargo build --release -p ecert-issuer --features cli
//! ECERT_BENCH_ISSUER=$PWD/target/release/ecert-issuer ECERT_BENCH_ROWS=1000000 \
//!   cargo test -p ecert-issuer --features cli --test throughput -- --ignored --nocapture
//! ```
//!
//! It writes an ID-card CSV of `ECERT_BENCH_ROWS` rows (default 20,000), then runs
//! `/usr/bin/time -v ecert-issuer issue --kind id-card --csv ROWS.csv --out-dir OUT
//! --copies N` (`ECERT_BENCH_COPIES`, default 30 one-time copies per certificate) and
//! prints the rate, wall time and peak RSS. The work folder is `ECERT_BENCH_DIR` (kept) or
//! a scratch folder.
// Test code: a failed unwrap is a failed test, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ecert_schemas::PublicKeyBytes;
use ecert_testkit::issuer::{cmd, CHAIN};
use ecert_testkit::{Cmd, FakeNode, Scratch};
use ecert_verifier::crypto;
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};

/// The resident ID number `base` (17 digits) with its ISO 7064 MOD 11-2 check character.
fn resident_id(base: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = base
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{base}{}", CHECK[(sum % 11) as usize] as char)
}

/// An ID-card CSV of `rows` rows: 1,000 distinct wallet IDs in turn (file names stay
/// distinct: they carry the row), distinct names, ID numbers and portrait digests.
fn write_id_cards(path: &Path, rows: u64) {
    let holders: Vec<PublicKeyBytes> = (0..1000)
        .map(|_| crypto::public_key(&SigningKey::generate(&mut OsRng)))
        .collect();
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        out,
        "holder,name,sex,ethnicity,birth_date,address,id_number,issuing_authority,portrait_digest"
    )
    .unwrap();
    let mut digest = [0u8; 32];
    for i in 0..rows {
        OsRng.fill_bytes(&mut digest);
        let day = 1 + i % 28;
        let month = 1 + (i / 28) % 12;
        let id = resident_id(&format!("1101081990{month:02}{day:02}{:03}", i % 1000));
        writeln!(
            out,
            "{},张伟{i},{},汉,1990-{month:02}-{day:02},北京市海淀区中关村大街{}号,{id},北京市公安局海淀分局,{}",
            holders[(i % 1000) as usize].to_hex(),
            if i % 2 == 0 { "male" } else { "female" },
            i % 500 + 1,
            hex(&digest)
        )
        .unwrap();
    }
    out.flush().unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
#[ignore = "a benchmark: needs ECERT_BENCH_ISSUER (a release ecert-issuer) and minutes"]
fn issue_id_cards_end_to_end() {
    let bin = PathBuf::from(std::env::var("ECERT_BENCH_ISSUER").expect("ECERT_BENCH_ISSUER"));
    let rows: u64 = std::env::var("ECERT_BENCH_ROWS")
        .map(|r| r.parse().unwrap())
        .unwrap_or(20_000);
    let copies: u64 = std::env::var("ECERT_BENCH_COPIES")
        .map(|r| r.parse().unwrap())
        .unwrap_or(u64::from(ecert_schemas::copy::DEFAULT_COPIES));
    let scratch = Scratch::new("issuer-throughput");
    let dir =
        std::env::var("ECERT_BENCH_DIR").map_or_else(|_| scratch.dir().to_owned(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let home = dir.join("home");
    cmd(&home)
        .args(["init", "--issuer", "public-security"])
        .run()
        .ok();
    let key = PublicKeyBytes::from_hex(cmd(&home).arg("key").run().ok().trim()).unwrap();
    let node = FakeNode::for_issuer(CHAIN, "public-security", &key, &["id-card"]);
    let anchor = dir.join("anchor.toml");
    std::fs::write(&anchor, node.anchor_toml()).unwrap();
    cmd(&home).args(["config", "--node", &node.url]).run().ok();
    cmd(&home)
        .args(["set-anchor", anchor.to_str().unwrap()])
        .run()
        .ok();
    let csv = dir.join(format!("id-cards-{rows}.csv"));
    if !csv.exists() {
        write_id_cards(&csv, rows);
    }
    let out = dir.join("delivered");
    let start = Instant::now();
    // `ECERT_BENCH_PERF=FILE`: recorded with `perf record -g` into FILE as well.
    let mut command = Cmd::at("/usr/bin/time")
        .env("ECERT_ISSUER_PASSPHRASE", ecert_testkit::issuer::PASSPHRASE)
        .arg("-v");
    if let Ok(data) = std::env::var("ECERT_BENCH_PERF") {
        command = command.args(["perf", "record", "-F", "499", "-g", "-o", &data, "--"]);
    }
    let run = command
        .arg(&bin)
        .arg("--home")
        .arg(&home)
        .args(["issue", "--kind", "id-card", "--csv"])
        .arg(&csv)
        .arg("--out-dir")
        .arg(&out)
        .args(["--copies", &copies.to_string()])
        .run();
    let secs = start.elapsed().as_secs_f64();
    let tail: String = run
        .stdout
        .lines()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(run.success(), "{}\n{}", tail, run.stderr);
    let rss = run
        .stderr
        .lines()
        .find(|l| l.contains("Maximum resident set size"))
        .unwrap_or_default();
    let cpu = run
        .stderr
        .lines()
        .find(|l| l.contains("Percent of CPU"))
        .unwrap_or_default();
    let wall = run
        .stderr
        .lines()
        .find(|l| l.contains("Elapsed (wall clock)"))
        .unwrap_or_default();
    eprintln!(
        "{rows} id-card certificates of {copies} copies in {secs:.1} s: {:.0} certificates/s, \
         {:.0} copies/s\n{wall}\n{cpu}\n{rss}\nanchors on the ledger: {}",
        rows as f64 / secs,
        (rows * copies) as f64 / secs,
        node.anchors().len()
    );
    assert_eq!(
        node.anchors().iter().map(|a| a.count).sum::<u64>(),
        rows * copies,
        "every copy of every row anchored"
    );
}
