//! `ecert-testnet offer`: a department of the running local network issues the sample
//! citizen's certificate of one kind to a wallet, with a one-time offer the wallet app (or
//! `ecert-wallet receive --offer`) collects. The department's offer server
//! (`ecert-issuer serve`) is started in the background on first use, over HTTPS with a
//! certificate from the network's CA, and stopped by `ecert-testnet down`.
//!
//! Files, beside the nodes' in the network folder:
//!
//! ```text
//! offers/<department>.pid   the offer server's process id
//! offers/<department>.url   its address
//! offers/<department>.log   what it printed
//! tls/offers-<department>.pem, .key   its certificate and key
//! ```

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ecert_testnet::network::{
    dev_passphrase, find_binary, process_alive, LocalNetwork, PASSPHRASE_FILE, TLS_DIR,
};
use ecert_testnet::sample;
use ecert_testnet::tls::{check_host, LocalCa};

use super::local_story::now;
use super::net::issuer_home;

/// The folder of the offer servers' pid and log files.
const OFFERS_DIR: &str = "offers";

/// How long an offer server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// What `offer` issues.
#[derive(Clone, Debug)]
pub struct OfferOptions {
    /// The wallet ID the certificate is issued to (`ecert-wallet id`, or the wallet app's
    /// "Wallet ID" screen).
    pub holder: String,
    /// The kind of certificate (`id-card`, `social-security-card`, `driver-licence`,
    /// `no-criminal-record`).
    pub kind: String,
    /// Names or addresses a phone reaches this computer by (`--tls-host`): the offer server
    /// then listens on every interface and its certificate names them.
    pub tls_hosts: Vec<String>,
}

fn pid_file(dir: &Path, department: &str) -> PathBuf {
    dir.join(OFFERS_DIR).join(format!("{department}.pid"))
}

/// The process id of `department`'s offer server, if it runs.
fn running(dir: &Path, department: &str) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file(dir, department))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    process_alive(pid).then_some(pid)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot pick a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Runs `ecert-issuer` for `department` with `args`; its standard output, or an error
/// with what it printed.
fn issuer(dir: &Path, department: &str, args: &[&str]) -> Result<String> {
    let home = issuer_home(dir, department);
    super::net::issuer(
        &find_binary("ecert-issuer")?,
        &home,
        &dev_passphrase(dir)?,
        args,
    )
}

/// Starts `department`'s offer server unless it runs; returns its address.
fn ensure_server(net: &LocalNetwork, department: &str, hosts: &[String]) -> Result<String> {
    let dir = net.dir();
    let home = issuer_home(dir, department);
    let url_file = dir.join(OFFERS_DIR).join(format!("{department}.url"));
    if running(dir, department).is_some() {
        if let Ok(url) = std::fs::read_to_string(&url_file) {
            return Ok(url.trim().to_owned());
        }
    }
    let ca_path = net
        .ca_path()
        .context("this network was made without HTTPS: make a new one with `ecert-testnet up`")?;
    let now = ecert_shell::clock::now()?.0;
    let ca = LocalCa::open_or_create(&dir.join(TLS_DIR), now)?;
    let name = format!("offers-{department}");
    let cert = dir.join(TLS_DIR).join(format!("{name}.pem"));
    let key = dir.join(TLS_DIR).join(format!("{name}.key"));
    ca.write(&name, hosts, now, &cert, &key)?;

    let port = free_port()?;
    let public = hosts.first().map(|h| {
        if h.contains(':') {
            format!("[{h}]")
        } else {
            h.clone()
        }
    });
    let url = format!(
        "https://{}:{port}",
        public.as_deref().unwrap_or("127.0.0.1")
    );
    let listen = if hosts.is_empty() {
        "127.0.0.1"
    } else {
        "0.0.0.0"
    };
    issuer(dir, department, &["config", "--serve-url", &url])?;

    let offers = dir.join(OFFERS_DIR);
    std::fs::create_dir_all(&offers)
        .with_context(|| format!("cannot create {}", offers.display()))?;
    let log_path = offers.join(format!("{department}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let mut command = Command::new(find_binary("ecert-issuer")?);
    command
        .arg("--ca")
        .arg(&ca_path)
        .arg("serve")
        .args(["--listen", &format!("{listen}:{port}")])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .args(["--wallet-app", &format!("{}/wallet/", net.url(0))]);
    for node in 0..net.len() {
        for origin in net.origins(node) {
            command.args(["--allow-origin", &origin]);
        }
    }
    let child = command
        .env("ECERT_ISSUER_HOME", &home)
        .env("ECERT_ISSUER_PASSPHRASE", dev_passphrase(dir)?)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start ecert-issuer serve")?;
    std::fs::write(pid_file(dir, department), child.id().to_string())
        .context("cannot record the offer server's process id")?;
    std::fs::write(&url_file, &url).context("cannot record the offer server's address")?;
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline || !process_alive(child.id()) {
            bail!(
                "{department}'s offer server did not start; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ecert_shell::outln!(
        "Started {department}'s offer server on {url} (log: {})",
        log_path.display()
    );
    Ok(url)
}

/// `ecert-testnet offer`.
pub fn offer(dir: &Path, options: &OfferOptions) -> Result<()> {
    let node_bin = find_binary("ecert-node")?;
    let mut net = LocalNetwork::open(dir, &node_bin)?;
    net.detach();
    if (0..net.len()).all(|i| net.pid(i).is_none()) {
        bail!(
            "the network in {} is not running: start it with `ecert-testnet up --dir {}`",
            dir.display(),
            dir.display()
        );
    }
    let holder = options.holder.trim();
    if holder.len() != 64 || !holder.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{holder:?} is not a wallet ID: give the 64 hexadecimal characters the wallet \
             shows (wallet app: More → My wallet ID; command line: ecert-wallet id)"
        );
    }
    let mut hosts = Vec::new();
    for host in &options.tls_hosts {
        hosts.push(check_host(host)?);
    }
    let orders = sample::by_department(now()?);
    let Some((department, order)) = orders.iter().find(|(_, o)| o.kind == options.kind) else {
        let kinds: Vec<&str> = orders.iter().map(|(_, o)| o.kind).collect();
        bail!(
            "no sample certificate of kind {:?}: choose one of {}",
            options.kind,
            kinds.join(", ")
        );
    };
    ensure_server(&net, department, &hosts)?;

    let claims = dir
        .join(OFFERS_DIR)
        .join(format!("{}-{}.json", order.kind, &holder[..8]));
    std::fs::write(&claims, sample::claims_json(&order.claims))
        .with_context(|| format!("cannot write {}", claims.display()))?;
    let ca = net
        .ca_path()
        .context("this network was made without HTTPS")?;
    let printed = issuer(
        dir,
        department,
        &[
            "--ca",
            &ca.to_string_lossy(),
            "issue",
            "--kind",
            order.kind,
            "--claims",
            &claims.to_string_lossy(),
            "--holder",
            holder,
            "--offer",
        ],
    )?;
    ecert_shell::out!("{printed}");
    if let Some(cert) = printed
        .lines()
        .find_map(|l| l.strip_prefix("Certificate "))
        .and_then(|rest| rest.split_whitespace().next())
    {
        ecert_shell::outln!(
            "\nTo revoke it later (counters refuse it once they have synced):\n  \
             ECERT_ISSUER_PASSPHRASE_FILE={} ecert-issuer --home {} --ca {} revoke --cert {cert} \
             --reason withdrawn",
            dir.join(PASSPHRASE_FILE).display(),
            issuer_home(dir, department).display(),
            ca.display()
        );
    }
    if let Some(url) = printed
        .split_whitespace()
        .find(|w| w.starts_with("https://") && w.contains(ecert_schemas::api::OFFERS))
    {
        ecert_shell::outln!(
            "\nOn this computer, open it in the wallet app: {}",
            ecert_schemas::address::wallet_app_link(&format!("{}/wallet/", net.url(0)), url)
        );
    }
    Ok(())
}

/// Stops the offer servers `offer` started (for `down`); returns how many ran.
pub fn stop_servers(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir.join(OFFERS_DIR)) else {
        return 0;
    };
    let mut stopped = 0;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "pid") {
            continue;
        }
        let pid = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        if let Some(pid) = pid.filter(|p| process_alive(*p)) {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while process_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            stopped += 1;
        }
        let _ = std::fs::remove_file(&path);
    }
    stopped
}
