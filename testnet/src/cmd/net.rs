//! `up`, `status`, `down`, `tls-cert`: the local network of four department nodes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ecert_client::Transport;
use ecert_ledger_node::genesis::{GenesisIssuer, GenesisIssuerKey};
use ecert_testnet::http::Http;
use ecert_testnet::network::{dev_passphrase, find_binary, CreateOptions, LocalNetwork};
use ecert_testnet::province::DEPARTMENTS;
use ecert_testnet::tls::LocalCa;

/// How `up` starts the network.
#[derive(Clone, Debug, Default)]
pub struct UpOptions {
    /// First port (on creation only).
    pub base_port: Option<u16>,
    /// The web apps' folder (`--web`), else `./web` when it holds the apps.
    pub web: Option<PathBuf>,
    /// Extra names or addresses for the nodes' certificates (`--tls-host`), for a phone on
    /// the local network; the nodes then listen on every interface.
    pub tls_hosts: Vec<String>,
    /// A CA to trust instead of the network's own (`--ca`).
    pub ca: Option<PathBuf>,
    /// Print how to trust the CA in browsers and phones.
    pub explain_trust: bool,
    /// How often each node states freshness, in seconds (`--freshness-period`; kept for
    /// later starts). `None`: as before, else the node's default.
    pub freshness_period: Option<u64>,
}

/// The folder the web apps are served from: `--web DIR`, else `./web` when
/// `./web/wallet/index.html` exists; `None` when neither.
fn web_folder(flag: Option<&Path>) -> Result<Option<PathBuf>> {
    let folder = match flag {
        Some(dir) => {
            if !dir.is_dir() {
                bail!("--web {}: no such folder", dir.display());
            }
            dir.to_owned()
        }
        None if Path::new("web/wallet/index.html").is_file() => PathBuf::from("web"),
        None => return Ok(None),
    };
    let folder = folder.canonicalize().unwrap_or(folder);
    if !folder.join("core/pkg/ecert_web_bg.wasm").is_file() {
        ecert_shell::outln!(
            "Note: {} has no core/pkg/ecert_web_bg.wasm: the web apps need scripts/build-web first",
            folder.display()
        );
    }
    Ok(Some(folder))
}

/// A client of the network, trusting `ca` if given, else the network's own CA.
fn client(net: &LocalNetwork, timeout: Duration) -> Result<Http> {
    Ok(net.http(timeout)?)
}

/// Uses `--ca FILE` instead of the network's own CA, if given.
fn use_ca(net: &mut LocalNetwork, ca: Option<&Path>) -> Result<()> {
    if let Some(ca) = ca {
        net.set_transport(Transport::pinned_file(ca)?);
    }
    Ok(())
}

/// The chain id of the local network.
pub const CHAIN_ID: &str = "ecert-demo-province";

/// A field of a JSON answer (`null` when absent).
fn field<'a>(value: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    value.get(key).unwrap_or(&serde_json::Value::Null)
}

/// Where department `id`'s issuer home lives in a network folder.
pub fn issuer_home(dir: &Path, id: &str) -> PathBuf {
    dir.join("issuers").join(id)
}

/// Runs `issuer_bin` with `args` for the issuer home `home`, unlocked with `passphrase`;
/// its standard output, or an error with what it printed.
pub fn issuer(issuer_bin: &Path, home: &Path, passphrase: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(issuer_bin)
        .args(args)
        .env("ECERT_ISSUER_HOME", home)
        .env("ECERT_ISSUER_PASSPHRASE", passphrase)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", issuer_bin.display()))?;
    if !out.status.success() {
        bail!(
            "ecert-issuer {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Creates the network in `dir` if it does not exist yet: four node keys, four department
/// issuer homes, the genesis naming them, and the trust anchor.
fn create(dir: &Path, base_port: Option<u16>) -> Result<()> {
    let node_bin = find_binary("ecert-node")?;
    let issuer_bin = find_binary("ecert-issuer")?;
    let passphrase = dev_passphrase(dir)?;
    let now = ecert_shell::clock::now()?.0;
    ecert_shell::outln!("Creating a local network in {}", dir.display());
    let mut issuers = Vec::new();
    for (id, name, kinds) in DEPARTMENTS {
        let home = issuer_home(dir, id);
        issuer(&issuer_bin, &home, &passphrase, &["init", "--issuer", id])?;
        let key = issuer(&issuer_bin, &home, &passphrase, &["key"])?;
        issuers.push(GenesisIssuer {
            id: id.to_owned(),
            name: name.to_owned(),
            kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
            keys: vec![GenesisIssuerKey {
                key: key.trim().to_owned(),
                valid_from: now.saturating_sub(60),
            }],
        });
    }
    let net = LocalNetwork::create(
        dir,
        &node_bin,
        CreateOptions {
            chain_id: CHAIN_ID.into(),
            departments: DEPARTMENTS
                .iter()
                .map(|(id, _, _)| (*id).to_owned())
                .collect(),
            base_port,
            block_interval_ms: 100,
            snapshot_every: 1_000,
            issuers,
            weak_kdf: false,
            tls: true,
        },
    )?;
    for (id, _, _) in DEPARTMENTS {
        let home = issuer_home(dir, id);
        let anchor = net.anchor_path();
        let anchor = anchor.to_string_lossy();
        issuer(&issuer_bin, &home, &passphrase, &["set-anchor", &anchor])?;
    }
    Ok(())
}

/// Points each department's issuer home at its node's current address (`https://` once
/// the network serves TLS).
fn configure_issuers(net: &LocalNetwork) -> Result<()> {
    let issuer_bin = find_binary("ecert-issuer")?;
    let passphrase = dev_passphrase(net.dir())?;
    for (i, (id, _, _)) in DEPARTMENTS.iter().enumerate() {
        let home = issuer_home(net.dir(), id);
        if home.is_dir() {
            let url = net.url(i);
            issuer(&issuer_bin, &home, &passphrase, &["config", "--node", &url])?;
        }
    }
    Ok(())
}

/// `ecert-testnet up`.
pub fn up(dir: &Path, options: &UpOptions) -> Result<LocalNetwork> {
    let mut hosts = Vec::new();
    for host in &options.tls_hosts {
        hosts.push(ecert_testnet::tls::check_host(host)?);
    }
    let web = web_folder(options.web.as_deref())?;
    if !dir.join("testnet.toml").exists() {
        create(dir, options.base_port)?;
    }
    let node_bin = find_binary("ecert-node")?;
    let mut net = LocalNetwork::open(dir, &node_bin)?;
    // The CA is kept; the nodes' certificates are made afresh for the names asked now.
    net.make_certificates(&hosts)?;
    use_ca(&mut net, options.ca.as_deref())?;
    net.serve_apps(web.clone());
    if let Some(secs) = options.freshness_period {
        net.set_freshness_period(secs)?;
    }
    configure_issuers(&net)?;
    ecert_shell::outln!("Starting {} department nodes", net.len());
    net.start_all()?;
    let http = client(&net, Duration::from_secs(5))?;
    let all: Vec<usize> = (0..net.len()).collect();
    let leader = net.wait_ready(&http, &all, Duration::from_secs(60))?;
    net.detach();
    ecert_shell::outln!(
        "The network is up: {} nodes, leader {}",
        net.len(),
        net.layout()
            .nodes
            .get(leader)
            .map(|n| n.department.as_str())
            .unwrap_or("?")
    );
    print_status(&net, &http);
    ecert_shell::outln!(
        "Trust anchor for counters, issuers and wallets: {}",
        net.anchor_path().display()
    );
    if net.anchor_qr_path().is_file() {
        ecert_shell::outln!(
            "  as a QR code for the apps to scan: {}",
            net.anchor_qr_path().display()
        );
    }
    if let Some(ca) = net.ca_path() {
        ecert_shell::outln!(
            "HTTPS certificates from this network's own CA: {} (tools: --ca {})",
            ca.display(),
            ca.display()
        );
    }
    if web.is_some() {
        let base = net.url(0);
        ecert_shell::outln!("Wallet app:  {base}/wallet/");
        ecert_shell::outln!("Counter app: {base}/counter/");
        for host in &hosts {
            let port = net.layout().nodes.first().map(|n| n.http_port).unwrap_or(0);
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            ecert_shell::outln!(
                "  on the local network: https://{host}:{port}/wallet/ and /counter/"
            );
        }
        ecert_shell::outln!("  (every node serves both apps on its own port)");
    }
    if options.explain_trust {
        if let Some(ca) = net.ca_path() {
            explain_trust(&net, &ca, web.is_some());
        }
    }
    Ok(net)
}

/// How to trust the network's CA: browsers, phones, and a department's offer server.
fn explain_trust(net: &LocalNetwork, ca: &Path, apps: bool) {
    let ca = ca.display();
    let dir = net.dir().display();
    let node = net.url(0);
    ecert_shell::outln!("To open the apps without warnings, trust the CA once:");
    ecert_shell::outln!(
        "  Chromium on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t \"C,,\" -n ecert-testnet -i {ca}"
    );
    ecert_shell::outln!(
        "  Firefox: Settings > Privacy & Security > Certificates > View Certificates > \
         Authorities > Import {ca}, tick \"Trust this CA to identify websites\""
    );
    ecert_shell::outln!(
        "  A phone: copy {ca} to it and install it as a CA certificate (Android: Settings > \
         Security > Encryption & credentials > Install a certificate > CA certificate; iOS: \
         install the profile, then turn on full trust in Settings > General > About > \
         Certificate Trust Settings); start with --tls-host YOUR_LAN_ADDRESS so the nodes' \
         certificates name it"
    );
    if apps {
        ecert_shell::outln!(
            "A department's offer server over HTTPS, with a certificate from the same CA:"
        );
        ecert_shell::outln!(
            "  ecert-testnet tls-cert --dir {dir} --name offers-justice --out-cert {dir}/tls/offers-justice.pem --out-key {dir}/tls/offers-justice.key"
        );
        ecert_shell::outln!(
            "  ecert-issuer --home {dir}/issuers/justice serve --listen 127.0.0.1:7400 \
             --tls-cert {dir}/tls/offers-justice.pem --tls-key {dir}/tls/offers-justice.key \
             --allow-origin {node} --wallet-app {node}/wallet/"
        );
    }
}

/// `ecert-testnet tls-cert`: a server certificate from the network's CA (made if the
/// folder has none yet), for this computer's names plus `hosts`.
pub fn tls_cert(
    dir: &Path,
    name: &str,
    hosts: &[String],
    out_cert: &Path,
    out_key: &Path,
) -> Result<()> {
    let mut checked = Vec::new();
    for host in hosts {
        checked.push(ecert_testnet::tls::check_host(host)?);
    }
    let now = ecert_shell::clock::now()?.0;
    let ca = LocalCa::open_or_create(&dir.join(ecert_testnet::network::TLS_DIR), now)?;
    ca.write(name, &checked, now, out_cert, out_key)?;
    let mut names: Vec<String> = ecert_testnet::tls::LOOPBACK_NAMES
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    names.extend(checked);
    ecert_shell::outln!(
        "Certificate {} (key {}) for {}, signed by {}",
        out_cert.display(),
        out_key.display(),
        names.join(", "),
        ca.ca_path().display()
    );
    Ok(())
}

fn print_status(net: &LocalNetwork, http: &Http) {
    ecert_shell::outln!(
        "  {:<17} {:>7} {:<26} {:<10} {:<17} {:>7} {:>10}",
        "node",
        "pid",
        "client API",
        "role",
        "leader",
        "height",
        "certified"
    );
    for (i, node) in net.layout().nodes.iter().enumerate() {
        let pid = net
            .pid(i)
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into());
        match net.health(http, i) {
            Some(h) => {
                let leader = field(&h, "leader")
                    .as_u64()
                    .and_then(|l| net.layout().nodes.get(l as usize))
                    .map(|n| n.department.clone())
                    .unwrap_or_else(|| "none".into());
                ecert_shell::outln!(
                    "  {:<17} {:>7} {:<26} {:<10} {:<17} {:>7} {:>10}",
                    node.department,
                    pid,
                    net.url(i),
                    field(&h, "role").as_str().unwrap_or("?"),
                    leader,
                    field(&h, "height").to_string(),
                    field(&h, "certified_height").to_string()
                );
            }
            None => ecert_shell::outln!(
                "  {:<17} {:>7} {:<26} {:<10}",
                node.department,
                pid,
                net.url(i),
                "DOWN"
            ),
        }
    }
}

/// `ecert-testnet status`.
pub fn status(dir: &Path, ca: Option<&Path>) -> Result<()> {
    let node_bin = find_binary("ecert-node")?;
    let mut net = LocalNetwork::open(dir, &node_bin)?;
    net.detach();
    use_ca(&mut net, ca)?;
    print_status(&net, &client(&net, Duration::from_secs(3))?);
    Ok(())
}

/// `ecert-testnet down`.
pub fn down(dir: &Path) -> Result<()> {
    let node_bin = find_binary("ecert-node")?;
    let mut net = LocalNetwork::open(dir, &node_bin)?;
    net.detach();
    let offer_servers = super::offer::stop_servers(dir);
    if offer_servers > 0 {
        ecert_shell::outln!("Stopped {offer_servers} offer servers");
    }
    net.stop_all()?;
    ecert_shell::outln!(
        "Stopped {} nodes; their data stays in {} (`up` starts them again)",
        net.len(),
        dir.display()
    );
    Ok(())
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Opens department `id`'s issuer key from its home in the network folder.
fn issuer_key(dir: &Path, id: &str, passphrase: &str) -> Result<ecert_issuer::IssuerKey> {
    let path = issuer_home(dir, id).join("key.eck");
    let sealed = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let seed = ecert_sealed::open_secret(
        *b"ECK1",
        &sealed,
        &zeroize::Zeroizing::new(passphrase.to_owned()),
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    let seed: [u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} does not hold a key", path.display()))?;
    Ok(ecert_issuer::IssuerKey::from_seed(
        ecert_schemas::IssuerId::new(id)?,
        &zeroize::Zeroizing::new(seed),
    ))
}

/// `ecert-testnet load`: the four departments anchor batches as fast as the network
/// certifies them, for `seconds`; prints certificates anchored per second, latency
/// percentiles and ledger bytes per certificate.
pub fn load(
    dir: &Path,
    ca: Option<&Path>,
    seconds: u64,
    batch_size: u64,
    clients: usize,
) -> Result<()> {
    let node_bin = find_binary("ecert-node")?;
    let mut net = LocalNetwork::open(dir, &node_bin)?;
    net.detach();
    use_ca(&mut net, ca)?;
    let passphrase = dev_passphrase(dir)?;
    let mut issuers = Vec::new();
    for (id, _, kinds) in DEPARTMENTS {
        let kind = kinds
            .first()
            .ok_or_else(|| anyhow::anyhow!("{id} issues no kind"))?;
        issuers.push((
            issuer_key(dir, id, &passphrase)?,
            ecert_schemas::KindId::new(*kind)?,
        ));
    }
    let http = client(&net, Duration::from_secs(5))?;
    let all: Vec<usize> = (0..net.len()).collect();
    net.wait_ready(&http, &all, Duration::from_secs(30))?;
    let data = net.home(0).join("data");
    let size_before = dir_size(&data);
    let height_before = net
        .health(&http, 0)
        .and_then(|h| field(&h, "height").as_u64())
        .unwrap_or(0);
    ecert_shell::outln!(
        "Load: {clients} clients, batches of {batch_size} certificates, {seconds} s, {} nodes",
        net.len()
    );
    let bar = indicatif::ProgressBar::new(seconds);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  {bar:40} {pos}/{len} s  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let report = ecert_testnet::load::run(
        ecert_testnet::load::LoadOptions {
            urls: (0..net.len()).map(|i| net.url(i)).collect(),
            chain_id: ecert_schemas::ChainId::new(net.layout().chain_id.clone())?,
            issuers,
            duration: Duration::from_secs(seconds),
            batch_size,
            clients,
            transport: net.transport()?,
        },
        |certs| {
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            bar.set_position(started.elapsed().as_secs().min(seconds));
            bar.set_message(format!(
                "{certs} certificates, {:.0}/s",
                certs as f64 / secs
            ));
        },
    )?;
    bar.finish_and_clear();
    // Let the last blocks settle before measuring the disk.
    std::thread::sleep(Duration::from_secs(1));
    let size_after = dir_size(&data);
    let height_after = net
        .health(&http, 0)
        .and_then(|h| field(&h, "height").as_u64())
        .unwrap_or(0);
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    ecert_shell::outln!("  batches certified      {}", report.batches);
    ecert_shell::outln!("  certificates anchored  {}", report.certificates);
    ecert_shell::outln!("  failed submissions     {}", report.failures);
    ecert_shell::outln!(
        "  blocks                 {}",
        height_after.saturating_sub(height_before)
    );
    ecert_shell::outln!(
        "  throughput             {:.0} certificates/s ({:.1} batches/s)",
        report.certificates_per_second(),
        report.batches as f64 / report.elapsed.as_secs_f64().max(1e-9)
    );
    ecert_shell::outln!(
        "  latency submit→certified  p50 {:.0} ms   p95 {:.0} ms   p99 {:.0} ms   max {:.0} ms",
        ms(report.percentile(50.0)),
        ms(report.percentile(95.0)),
        ms(report.percentile(99.0)),
        ms(report.latencies.last().copied())
    );
    let certs = report.certificates.max(1) as f64;
    ecert_shell::outln!(
        "  ledger bytes per certificate: {:.3} (transactions), {:.3} (node 0's RocksDB growth, {} bytes)",
        report.tx_bytes as f64 / certs,
        size_after.saturating_sub(size_before) as f64 / certs,
        size_after.saturating_sub(size_before)
    );
    Ok(())
}
