//! The whole story on the local network, through the tools people use: four department
//! nodes start, departments issue all four kinds to a new wallet with `ecert-issuer`, an
//! employer's counter registered by social security asks for ID card and no-criminal-record
//! fields with `ecert-verify request`, the citizen's wallet answers in one QR with
//! `ecert-wallet` (and refuses to show the no-criminal-record certificate without a
//! request), the counter checks the answer offline, the court revokes the record
//! certificate, the counter re-syncs and the same QR is refused as revoked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use ecert_schemas::copy::{AnyPackage, AnyPresentation};
use ecert_schemas::Certificate;
use ecert_testnet::network::{dev_passphrase, find_binary};
use ecert_testnet::sample;

use super::local_story::now;
use super::net::{issuer_home, up, UpOptions};

/// The citizen's wallet passphrase in the story.
const WALLET_PASSPHRASE: &str = "story-wallet-passphrase";

struct Tools {
    issuer: PathBuf,
    wallet: PathBuf,
    verify: PathBuf,
}

fn step(n: u32, text: &str) {
    ecert_shell::outln!("\n[{n}] {text}");
}

fn show(command: &Command) {
    let program = Path::new(command.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args: Vec<String> = command
        .get_args()
        .map(|a| {
            let a = a.to_string_lossy();
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        })
        .collect();
    ecert_shell::outln!("    $ {program} {}", args.join(" "));
}

fn run(mut command: Command, what: &str) -> Result<Output> {
    show(&command);
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    Ok(out)
}

fn run_ok(command: Command, what: &str) -> Result<String> {
    let out = run(command, what)?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn indent(text: &str, most: usize) {
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(most) {
        ecert_shell::outln!("      {line}");
    }
}

/// Runs the story; everything it writes goes under `out`. The nodes serve HTTPS with the
/// network's own CA (or the apps from `web` too); every tool that talks to a node is given
/// that CA with `--ca` (or `ca`, when given).
pub fn story(out: &Path, web: Option<PathBuf>, ca: Option<PathBuf>) -> Result<()> {
    let started = Instant::now();
    let tools = Tools {
        issuer: find_binary("ecert-issuer")?,
        wallet: find_binary("ecert-wallet")?,
        verify: find_binary("ecert-verify")?,
    };
    let network_dir = out.join("network");
    if network_dir.exists() {
        // A previous story's network: stop it if it runs, and start afresh.
        if let Ok(node_bin) = find_binary("ecert-node") {
            if let Ok(mut old) = ecert_testnet::network::LocalNetwork::open(&network_dir, &node_bin)
            {
                old.detach();
                let _ = old.stop_all();
            }
        }
        std::fs::remove_dir_all(&network_dir)
            .with_context(|| format!("cannot clear {}", network_dir.display()))?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for stale in ["wallet.ecw", "counter"] {
        let path = out.join(stale);
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else if path.exists() {
            std::fs::remove_file(&path)?;
        }
    }

    step(
        1,
        "Four departments start the provincial ledger: one node each, on this machine",
    );
    let options = UpOptions {
        web,
        ca: ca.clone(),
        ..UpOptions::default()
    };
    let mut net = up(&network_dir, &options)?;
    let passphrase = dev_passphrase(&network_dir)?;
    let ca = ca
        .or_else(|| net.ca_path())
        .ok_or_else(|| anyhow::anyhow!("the network has no CA"))?;
    let result = tell(out, &tools, &network_dir, &passphrase, &ca);
    step(
        9,
        "The departments stop their nodes (data stays for the next `up`)",
    );
    net.stop_all()?;
    result?;
    ecert_shell::outln!(
        "\nThe story took {:.1} s. The QR code is in {}.",
        started.elapsed().as_secs_f64(),
        out.join("presentation.png").display()
    );
    Ok(())
}

fn tell(out: &Path, tools: &Tools, network_dir: &Path, passphrase: &str, ca: &Path) -> Result<()> {
    let wallet_file = out.join("wallet.ecw");
    let counter = out.join("counter");
    let anchor = network_dir.join("anchor.toml");
    let node_url = {
        let node_bin = find_binary("ecert-node")?;
        let mut net = ecert_testnet::network::LocalNetwork::open(network_dir, &node_bin)?;
        net.detach();
        net.url(1)
    };
    // The tools that talk to a node trust only the network's CA.
    let wallet = |args: &[&str]| {
        let mut c = Command::new(&tools.wallet);
        c.arg("--wallet").arg(&wallet_file);
        if args.first() == Some(&"refresh") {
            c.arg("--ca").arg(ca);
        }
        c.args(args)
            .env("ECERT_WALLET_PASSPHRASE", WALLET_PASSPHRASE);
        c
    };
    let issuer = |dept: &str, args: &[&str]| {
        let mut c = Command::new(&tools.issuer);
        c.arg("--ca")
            .arg(ca)
            .args(args)
            .env("ECERT_ISSUER_HOME", issuer_home(network_dir, dept))
            .env("ECERT_ISSUER_PASSPHRASE", passphrase);
        c
    };
    let verify = |args: &[&str]| {
        let mut c = Command::new(&tools.verify);
        c.arg("--store").arg(&counter);
        if args.first() == Some(&"sync") {
            c.arg("--ca").arg(ca);
        }
        c.args(args);
        c
    };

    step(
        2,
        "A citizen creates a wallet on their phone (here: a file)",
    );
    run_ok(wallet(&["init"]), "ecert-wallet init")?;
    let id_text = run_ok(wallet(&["id"]), "ecert-wallet id")?;
    let holder = id_text
        .split_whitespace()
        .find(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| anyhow::anyhow!("ecert-wallet id printed no wallet ID"))?
        .to_owned();
    ecert_shell::outln!("    wallet ID {holder}");

    step(
        3,
        "Four departments issue certificates to that wallet ID; each is anchored and certified by the ledger",
    );
    let t = now()?;
    let orders = sample::by_department(t);
    let mut packages = Vec::new();
    for (dept, order) in &orders {
        let kind = order.kind;
        let claims = out.join(format!("{kind}.json"));
        std::fs::write(&claims, sample::claims_json(&order.claims))?;
        let package = out.join(format!("{kind}.ecp"));
        if package.exists() {
            std::fs::remove_file(&package)?;
        }
        let claims_arg = claims.to_string_lossy().into_owned();
        let package_arg = package.to_string_lossy().into_owned();
        let printed = run_ok(
            issuer(
                dept,
                &[
                    "issue",
                    "--kind",
                    kind,
                    "--claims",
                    &claims_arg,
                    "--holder",
                    &holder,
                    "--out",
                    &package_arg,
                ],
            ),
            "ecert-issuer issue",
        )?;
        indent(&printed, 3);
        packages.push(package);
    }

    step(4, "The citizen puts the four certificates in the wallet");
    let mut receive = wallet(&["receive"]);
    receive.args(&packages);
    indent(&run_ok(receive, "ecert-wallet receive")?, 6);
    indent(&run_ok(wallet(&["list"]), "ecert-wallet list")?, 6);

    step(
        5,
        "An employer's counter asks for name and ID number from the ID card and the \
         no-criminal-record result; the citizen's wallet answers in one QR",
    );
    // The counter: set up with the ledger's anchor and synced while online, its own key
    // registered by social security as an employer's, then a signed request.
    let anchor_arg = anchor.to_string_lossy().into_owned();
    run_ok(
        verify(&["init", "--anchor", &anchor_arg]),
        "ecert-verify init",
    )?;
    indent(
        &run_ok(verify(&["sync", "--node", &node_url]), "ecert-verify sync")?,
        4,
    );
    let counter_key = run_ok(verify(&["counter-key"]), "ecert-verify counter-key")?;
    let counter_key = counter_key.trim().to_owned();
    ecert_shell::outln!("      counter key {counter_key}");
    let registration = out.join("employer.ecr");
    let registration_arg = registration.to_string_lossy().into_owned();
    indent(
        &run_ok(
            issuer(
                "social-security",
                &[
                    "register-counter",
                    "--counter-key",
                    &counter_key,
                    "--name",
                    "Riverside Logistics, hiring desk",
                    "--name-local",
                    "河畔物流招聘处",
                    "--role",
                    "employer",
                    "--may-ask",
                    "id-card:name,id_number",
                    "--may-ask",
                    "no-criminal-record:result",
                    "--days",
                    "30",
                    "--out",
                    &registration_arg,
                ],
            ),
            "ecert-issuer register-counter",
        )?,
        1,
    );
    indent(
        &run_ok(
            verify(&["registration", &registration_arg]),
            "ecert-verify registration",
        )?,
        1,
    );
    let request = |what: &str| -> Result<String> {
        let text = run_ok(
            verify(&[
                "request",
                "--ask",
                "id-card:name,id_number",
                "--ask",
                "no-criminal-record:result",
                "--purpose",
                "Job application",
                "--text",
            ]),
            what,
        )?;
        let text = text.trim().to_owned();
        if !text.starts_with("ECQ1:") {
            bail!("{what} printed no request: {text}");
        }
        Ok(text)
    };
    let first_request = request("ecert-verify request")?;
    ecert_shell::outln!(
        "      request QR code ({} characters): who asks, why, and exactly which fields",
        first_request.len()
    );
    // The wallet keeps the ledger's registry (checked against the anchor) to check who
    // asks, with no network at the counter.
    run_ok(
        wallet(&["trust", "--anchor", &anchor_arg]),
        "ecert-wallet trust",
    )?;
    indent(
        &run_ok(
            wallet(&["refresh", "--node", &node_url]),
            "ecert-wallet refresh",
        )?,
        2,
    );
    // Without a request, the wallet will not show the no-criminal-record certificate.
    let refused = run(
        wallet(&["present", "--show", "no-criminal-record:result", "--text"]),
        "ecert-wallet present",
    )?;
    let said = String::from_utf8_lossy(&refused.stderr);
    if refused.status.success() || !said.contains("in answer to their request") {
        bail!("the wallet showed the no-criminal-record certificate without a request: {said}");
    }
    ecert_shell::outln!(
        "      refused without a request: {}",
        said.trim().trim_start_matches("error: ")
    );
    let png = out.join("presentation.png");
    let png_arg = png.to_string_lossy().into_owned();
    let svg_arg = out.join("presentation.svg").to_string_lossy().into_owned();
    let printed = run_ok(
        wallet(&[
            "present",
            "--request",
            &first_request,
            "--yes",
            "--png",
            &png_arg,
            "--svg",
            &svg_arg,
            "--text",
        ]),
        "ecert-wallet present",
    )?;
    let qr_text = printed
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("EC1"))
        .ok_or_else(|| anyhow::anyhow!("ecert-wallet present printed no QR text"))?;
    std::fs::write(out.join("presentation.txt"), qr_text)?;
    ecert_shell::outln!(
        "      QR code ({} characters) written to {} (and .svg, .txt)",
        qr_text.len(),
        png.display()
    );

    step(
        6,
        "The counter reads the QR photo and checks it, with no network, against the ledger \
         data it synced and the request it made",
    );
    let check_answer = |args: &[&str]| -> Result<()> {
        let mut all = vec!["verify", "--request"];
        all.extend_from_slice(args);
        let verdict = run(verify(&all), "ecert-verify verify --request")?;
        indent(&String::from_utf8_lossy(&verdict.stdout), 20);
        if !verdict.status.success() {
            bail!(
                "the counter refused a valid answer: {}{}",
                String::from_utf8_lossy(&verdict.stdout),
                String::from_utf8_lossy(&verdict.stderr)
            );
        }
        Ok(())
    };
    check_answer(&["--image", &png_arg])?;

    // The same certificates shown again, as at another counter: the counter's next
    // request, answered with other one-time copies.
    let second_request = request("ecert-verify request")?;
    let again = run_ok(
        wallet(&["present", "--request", &second_request, "--yes", "--text"]),
        "ecert-wallet present",
    )?;
    let again = again
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("EC1"))
        .ok_or_else(|| anyhow::anyhow!("ecert-wallet present printed no QR text"))?
        .to_owned();
    check_answer(&[&again])?;
    ecert_shell::outln!("      {}", unlinked(qr_text, &again)?);

    // The counter's routine from now on: sync from a node, then verify the photo with no
    // network.
    let sync_and_verify = || -> Result<Output> {
        indent(
            &run_ok(verify(&["sync", "--node", &node_url]), "ecert-verify sync")?,
            4,
        );
        let verdict = run(
            verify(&["verify", "--image", &png_arg]),
            "ecert-verify verify",
        )?;
        indent(&String::from_utf8_lossy(&verdict.stdout), 20);
        Ok(verdict)
    };

    step(7, "The court revokes the no-criminal-record certificate");
    let record_path = packages
        .last()
        .ok_or_else(|| anyhow::anyhow!("no packages"))?;
    let cert_id = match AnyPackage::from_bytes(&std::fs::read(record_path)?)? {
        AnyPackage::V2(copies) => copies.id.to_hex(),
        AnyPackage::V1(whole) => Certificate::from_bytes(&whole.certificate)?
            .claims
            .id
            .to_hex(),
    };
    indent(
        &run_ok(
            issuer(
                "justice",
                &["revoke", "--cert", &cert_id, "--reason", "withdrawn"],
            ),
            "ecert-issuer revoke",
        )?,
        3,
    );

    step(
        8,
        "The counter re-syncs and verifies the same QR again: refused as revoked; the \
         citizen's wallet, asking the ledger itself, sees the revocation too",
    );
    let verdict = sync_and_verify()?;
    let text = String::from_utf8_lossy(&verdict.stdout).to_lowercase();
    if verdict.status.success() || !text.contains("revoked") {
        bail!("the counter did not refuse the revoked certificate");
    }
    ecert_shell::outln!(
        "    exit code {} (INVALID: revoked)",
        verdict.status.code().unwrap_or(-1)
    );
    let refresh = run(
        wallet(&["refresh", "--node", &node_url]),
        "ecert-wallet refresh",
    )?;
    let report = String::from_utf8_lossy(&refresh.stdout);
    indent(&report, 20);
    if !report.contains("REVOKED by justice (certified") {
        bail!(
            "the wallet did not see the certified revocation: {report}{}",
            String::from_utf8_lossy(&refresh.stderr)
        );
    }
    ecert_shell::outln!(
        "    exit code {} (a certificate in the wallet is revoked)",
        refresh.status.code().unwrap_or(-1)
    );
    Ok(())
}

/// What a second presentation shares with the first: nothing a counter could match if
/// both are one-time copies (other copy keys, signatures and status indexes).
fn unlinked(first: &str, second: &str) -> Result<String> {
    let copies = |text: &str| -> Result<Vec<ecert_schemas::copy::PresentedCopy>> {
        match AnyPresentation::from_qr_string(text)? {
            AnyPresentation::V2(p) => Ok(p.decode_items()?),
            AnyPresentation::V1(_) => bail!("the wallet showed whole certificates, not copies"),
        }
    };
    let (a, b) = (copies(first)?, copies(second)?);
    let shared = a.iter().zip(&b).any(|(x, y)| {
        x.holder == y.holder || x.signature == y.signature || x.status_index == y.status_index
    });
    if shared || a.len() != b.len() {
        bail!("the second presentation reused a copy of the first");
    }
    Ok(format!(
        "Shown again at another counter ({} characters): other one-time copies — no copy key, \
         signature or status index in common with the first code, and no certificate id in \
         either",
        second.len()
    ))
}
