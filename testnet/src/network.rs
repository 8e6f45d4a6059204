//! A local network of department nodes on loopback, as separate `ecert-node` processes:
//! created once (keys, genesis, trust anchor, ports in `DIR/testnet.toml`), then started,
//! stopped, killed, wiped and restarted at will. Data survives stop and start.
//!
//! Nodes can be added after genesis ([`LocalNetwork::add_node`]: a department's node with a
//! key that is not in the genesis, which becomes a validator once a validator-set change
//! names it; [`LocalNetwork::add_replacement`]: a department's node with a new key, to
//! replace its validator) and retired for good ([`LocalNetwork::retire`]).
//!
//! Layout of `DIR`:
//!
//! ```text
//! testnet.toml        chain id, departments, ports, block interval
//! genesis.toml        the genesis every node runs
//! anchor.toml         the trust anchor for counters, issuers and wallets
//! anchor.svg          the same as a QR code, for the apps to scan
//! dev-passphrase      the passphrase of every node key (local networks only)
//! nodes/<department>/ node home: node.key (sealed), node.pub, data/, node.log, node.pid
//!                     (a node added later for a department that already has one, with a
//!                     new key: nodes/<department>-2/, ...)
//! tls/                with TLS: the local CA (ca.pem, ca.key) and each node's
//!                     certificate and key (<department>.pem, <department>.key)
//! ```

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecert_client::Transport;
use ecert_ledger_node::genesis::{
    Genesis, GenesisFile, GenesisIssuer, GenesisKind, GenesisValidator,
};
use ecert_schemas::KindRegistry;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::http::Http;
use crate::tls::LocalCa;
use crate::TestnetError;

const LAYOUT_FILE: &str = "testnet.toml";
const GENESIS_FILE: &str = "genesis.toml";
const ANCHOR_FILE: &str = "anchor.toml";
/// The trust anchor as a QR code (SVG), for the apps to scan.
const ANCHOR_QR_FILE: &str = "anchor.svg";
/// The departments' key passphrase of a local network (test use only).
pub const PASSPHRASE_FILE: &str = "dev-passphrase";
/// The folder of the local CA and the nodes' certificates.
pub const TLS_DIR: &str = "tls";

/// One node as the layout records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeEntry {
    /// The department running it.
    pub department: String,
    /// Its libp2p TCP port on 127.0.0.1.
    pub p2p_port: u16,
    /// Its client API port on 127.0.0.1.
    pub http_port: u16,
    /// Where it runs, when not on this computer's loopback: see [`Placement`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Its home's folder name under `nodes/` when not the department's name (a second
    /// node of the department, with a new key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    /// Added after genesis: its key and address are not in the genesis file, so it runs
    /// with its own `--listen` address, and validates only once a validator-set change
    /// names it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub added: bool,
    /// Stopped for good ([`LocalNetwork::retire`]): `start_all` leaves it stopped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

/// Where a node runs when not on loopback: inside a network namespace (for example one of
/// a [`crate::netns::NetLab`]), listening for other nodes and for clients on its address
/// there. Its client API then serves plain HTTP off loopback (`--insecure-http`) unless
/// the network serves HTTPS, and this network's clients allow that.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The network namespace the node runs in (`ip netns exec NAME`).
    pub netns: String,
    /// Its address there, for libp2p and the client API.
    pub host: std::net::Ipv4Addr,
}

/// The network's layout, kept in `DIR/testnet.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Layout {
    /// The chain id.
    pub chain_id: String,
    /// The nodes, in validator order.
    pub nodes: Vec<NodeEntry>,
    /// The block interval every node runs with.
    pub block_interval_ms: u64,
    /// Raft snapshot interval (blocks).
    pub snapshot_every: u64,
    /// Whether node keys use the weak test-only key derivation.
    pub weak_kdf: bool,
    /// Whether the nodes serve HTTPS with certificates of the network's own CA
    /// (`tls/ca.pem`).
    #[serde(default)]
    pub tls: bool,
    /// How often each validator states freshness, in seconds (`None`: the node's
    /// default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness_period_secs: Option<u64>,
    /// Raft's heartbeat interval in milliseconds (`None`: the node's default); it must
    /// exceed the round trip between nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<u64>,
}

/// How to create a network.
#[derive(Clone, Debug)]
pub struct CreateOptions {
    /// The chain id.
    pub chain_id: String,
    /// The departments running nodes.
    pub departments: Vec<String>,
    /// First port: libp2p on `base`, `base+1`..., client API on `base+100`... `None`: free
    /// ports chosen by the system.
    pub base_port: Option<u16>,
    /// Block interval, milliseconds.
    pub block_interval_ms: u64,
    /// Raft snapshot interval (blocks).
    pub snapshot_every: u64,
    /// The issuers of the genesis.
    pub issuers: Vec<GenesisIssuer>,
    /// Weak, fast key derivation for node keys (tests only).
    pub weak_kdf: bool,
    /// Serve HTTPS: make a local CA and a certificate per node (see [`crate::tls`]).
    pub tls: bool,
}

/// A local network of node processes.
pub struct LocalNetwork {
    dir: PathBuf,
    layout: Layout,
    node_bin: PathBuf,
    passphrase: String,
    children: Vec<Option<Child>>,
    kill_on_drop: bool,
    web: Option<PathBuf>,
    public_hosts: Vec<String>,
    transport: Option<Transport>,
}

fn free_port() -> Result<u16, TestnetError> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| TestnetError::local("pick a free port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| TestnetError::local("pick a free port", e))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TestnetError> {
    fs::write(path, bytes).map_err(|e| TestnetError::local(path.display().to_string(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| TestnetError::local(path.display().to_string(), e))?;
    }
    Ok(())
}

fn run_tool(command: &mut Command, what: &str) -> Result<String, TestnetError> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TestnetError::local(what, e))?;
    if !out.status.success() {
        return Err(TestnetError::local(
            what,
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Creates a node home at `home` for `department` with a new key (`ecert-node init`);
/// returns its validator key (hex).
fn init_home(
    node_bin: &Path,
    home: &Path,
    department: &str,
    passphrase: &str,
    weak_kdf: bool,
) -> Result<String, TestnetError> {
    let mut init = Command::new(node_bin);
    init.args(["init", "--department", department, "--home"])
        .arg(home)
        .env("ECERT_NODE_PASSPHRASE", passphrase);
    if weak_kdf {
        init.env(ecert_shell::passphrase::TEST_KDF_ENV, "1");
    }
    run_tool(&mut init, &format!("ecert-node init for {department}"))?;
    let key = run_tool(
        Command::new(node_bin).arg("key").arg("--home").arg(home),
        &format!("ecert-node key for {department}"),
    )?;
    Ok(key.trim().to_owned())
}

/// The kinds of this build, as the genesis lists them.
pub fn genesis_kinds() -> Result<Vec<GenesisKind>, TestnetError> {
    Ok(KindRegistry::builtin()?
        .iter()
        .map(|k| GenesisKind {
            id: k.id.to_string(),
            content_hash: k.content_hash.to_hex(),
        })
        .collect())
}

impl LocalNetwork {
    /// Creates the network in `dir` (which must not hold one yet): a key per node through
    /// `ecert-node init`, the genesis and the trust anchor.
    pub fn create(
        dir: &Path,
        node_bin: &Path,
        options: CreateOptions,
    ) -> Result<LocalNetwork, TestnetError> {
        LocalNetwork::create_placed(dir, node_bin, options, &[])
    }

    /// Creates the network like [`LocalNetwork::create`], node `i` placed at
    /// `placements[i]` (in its network namespace, on its address there); nodes without a
    /// placement run on loopback.
    pub fn create_placed(
        dir: &Path,
        node_bin: &Path,
        options: CreateOptions,
        placements: &[Placement],
    ) -> Result<LocalNetwork, TestnetError> {
        if dir.join(LAYOUT_FILE).exists() {
            return Err(TestnetError::local(
                dir.display().to_string(),
                "a local network already exists here",
            ));
        }
        fs::create_dir_all(dir.join("nodes"))
            .map_err(|e| TestnetError::local(dir.display().to_string(), e))?;
        let passphrase = dev_passphrase(dir)?;

        let mut nodes = Vec::new();
        let mut validators = Vec::new();
        for (i, department) in options.departments.iter().enumerate() {
            let offset = u16::try_from(i).map_err(|e| TestnetError::local("ports", e))?;
            let (p2p_port, http_port) = match options.base_port {
                Some(base) => (base + offset, base + 100 + offset),
                None => (free_port()?, free_port()?),
            };
            let home = dir.join("nodes").join(department);
            let key = init_home(node_bin, &home, department, &passphrase, options.weak_kdf)?;
            let placement = placements.get(i).cloned();
            let host = placement
                .as_ref()
                .map_or_else(|| "127.0.0.1".to_owned(), |p| p.host.to_string());
            validators.push(GenesisValidator {
                department: department.clone(),
                key,
                address: format!("/ip4/{host}/tcp/{p2p_port}"),
            });
            nodes.push(NodeEntry {
                department: department.clone(),
                p2p_port,
                http_port,
                placement,
                home: None,
                added: false,
                retired: false,
            });
        }
        let file = GenesisFile {
            chain_id: options.chain_id.clone(),
            validators,
            issuers: options.issuers,
            kinds: genesis_kinds()?,
        };
        let genesis = Genesis::from_file(file.clone())?;
        let anchor = genesis.trust_anchor()?;
        let toml_text = genesis.to_toml()?;
        fs::write(dir.join(GENESIS_FILE), toml_text)
            .map_err(|e| TestnetError::local("write genesis.toml", e))?;
        let anchor_text = ecert_verifier::anchor_file::anchor_to_toml(
            &anchor,
            "The ecert ledger to trust: pin this file in counters, issuers and wallets.",
        );
        fs::write(dir.join(ANCHOR_FILE), &anchor_text)
            .map_err(|e| TestnetError::local("write anchor.toml", e))?;
        // The same anchor as a QR code, for the counter and wallet apps to scan.
        let svg = ecert_qr::render::to_svg(&anchor_text)
            .map_err(|e| TestnetError::local("draw anchor.svg", e))?;
        fs::write(dir.join(ANCHOR_QR_FILE), svg)
            .map_err(|e| TestnetError::local("write anchor.svg", e))?;
        let layout = Layout {
            chain_id: options.chain_id,
            nodes,
            block_interval_ms: options.block_interval_ms,
            snapshot_every: options.snapshot_every,
            weak_kdf: options.weak_kdf,
            tls: false,
            freshness_period_secs: None,
            heartbeat_ms: None,
        };
        write_layout(dir, &layout)?;
        let mut net = LocalNetwork::open(dir, node_bin)?;
        if options.tls {
            net.make_certificates(&[])?;
        }
        Ok(net)
    }

    /// Opens a network created earlier in `dir`.
    pub fn open(dir: &Path, node_bin: &Path) -> Result<LocalNetwork, TestnetError> {
        let text = fs::read_to_string(dir.join(LAYOUT_FILE)).map_err(|e| {
            TestnetError::local(
                format!(
                    "{} (no local network here? run `ecert-testnet up`)",
                    dir.display()
                ),
                e,
            )
        })?;
        let layout: Layout =
            toml::from_str(&text).map_err(|e| TestnetError::local("testnet.toml", e))?;
        let passphrase = fs::read_to_string(dir.join(PASSPHRASE_FILE))
            .map_err(|e| TestnetError::local("dev-passphrase", e))?
            .trim()
            .to_owned();
        let count = layout.nodes.len();
        Ok(LocalNetwork {
            dir: dir.to_owned(),
            layout,
            node_bin: node_bin.to_owned(),
            passphrase,
            children: (0..count).map(|_| None).collect(),
            kill_on_drop: true,
            web: None,
            public_hosts: Vec::new(),
            transport: None,
        })
    }

    /// Makes (or keeps) the network's CA in `tls/` and writes a fresh certificate for each
    /// node, for this computer's names plus `hosts` (a LAN address or name, for a phone);
    /// from now on the nodes serve HTTPS. The nodes listen on every interface when `hosts`
    /// is not empty, else on loopback only.
    pub fn make_certificates(&mut self, hosts: &[String]) -> Result<(), TestnetError> {
        let now = ecert_shell::clock::now()
            .map_err(|e| TestnetError::local("read the clock", e))?
            .0;
        let ca = LocalCa::open_or_create(&self.tls_dir(), now)?;
        for i in 0..self.len() {
            let (cert, key) = self.node_tls_files(i);
            let name = format!("ecert node {}", self.home_name(i));
            ca.write(&name, hosts, now, &cert, &key)?;
        }
        hosts.clone_into(&mut self.public_hosts);
        self.transport = None;
        if !self.layout.tls {
            self.layout.tls = true;
            write_layout(&self.dir, &self.layout)?;
        }
        Ok(())
    }

    /// Makes every node started from now on state freshness every `secs` seconds (kept in
    /// `testnet.toml`).
    pub fn set_freshness_period(&mut self, secs: u64) -> Result<(), TestnetError> {
        self.layout.freshness_period_secs = Some(secs);
        write_layout(&self.dir, &self.layout)
    }

    /// Makes every node started from now on use this Raft heartbeat interval (kept in
    /// `testnet.toml`): longer than the round trip between nodes.
    pub fn set_heartbeat_ms(&mut self, ms: u64) -> Result<(), TestnetError> {
        self.layout.heartbeat_ms = Some(ms);
        write_layout(&self.dir, &self.layout)
    }

    /// Serves the web apps from `web` (the repository's `web/` folder) on every node
    /// started from now on.
    pub fn serve_apps(&mut self, web: Option<PathBuf>) {
        self.web = web;
    }

    /// The folder of the CA and the nodes' certificates.
    pub fn tls_dir(&self) -> PathBuf {
        self.dir.join(TLS_DIR)
    }

    /// The CA certificate clients pin (`--ca`), when the network serves HTTPS.
    pub fn ca_path(&self) -> Option<PathBuf> {
        self.layout
            .tls
            .then(|| self.tls_dir().join(crate::tls::CA_FILE))
    }

    /// Node `i`'s certificate and key files.
    pub fn node_tls_files(&self, i: usize) -> (PathBuf, PathBuf) {
        let dept = self.home_name(i);
        let dir = self.tls_dir();
        (
            dir.join(format!("{dept}.pem")),
            dir.join(format!("{dept}.key")),
        )
    }

    /// The connection policy of a client of these nodes: the network's CA pinned when it
    /// serves HTTPS; plain HTTP to placed nodes' addresses when it does not.
    pub fn transport(&self) -> Result<Transport, TestnetError> {
        if let Some(transport) = &self.transport {
            return Ok(transport.clone());
        }
        match self.ca_path() {
            Some(ca) => Transport::pinned_file(&ca).map_err(|e| TestnetError::local("the CA", e)),
            None => Ok(Transport::default().allow_insecure_http(self.is_placed())),
        }
    }

    /// Whether some node runs in a network namespace rather than on loopback.
    fn is_placed(&self) -> bool {
        self.layout.nodes.iter().any(|n| n.placement.is_some())
    }

    /// Node `i`'s placement, when it runs in a network namespace.
    pub fn placement(&self, i: usize) -> Option<&Placement> {
        self.layout.nodes.get(i).and_then(|n| n.placement.as_ref())
    }

    /// Uses `transport` for this network's clients instead of the network's own CA.
    pub fn set_transport(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    /// A client of the nodes' API, each exchange limited to `timeout`.
    pub fn http(&self, timeout: Duration) -> Result<Http, TestnetError> {
        Ok(Http::with_transport(
            concat!("ecert-testnet/", env!("CARGO_PKG_VERSION")),
            timeout,
            &self.transport()?,
        ))
    }

    /// The web origins of node `i` as browsers see them: its URL on this computer's names
    /// and on the public hosts.
    pub fn origins(&self, i: usize) -> Vec<String> {
        let port = self.layout.nodes.get(i).map(|n| n.http_port).unwrap_or(0);
        let scheme = self.scheme();
        let mut hosts = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        hosts.extend(self.public_hosts.iter().map(|h| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.clone()
            }
        }));
        hosts
            .into_iter()
            .map(|h| format!("{scheme}://{h}:{port}"))
            .collect()
    }

    fn scheme(&self) -> &'static str {
        if self.layout.tls {
            "https"
        } else {
            "http"
        }
    }

    /// The department running node `i`.
    pub fn department(&self, i: usize) -> &str {
        self.layout
            .nodes
            .get(i)
            .map(|n| n.department.as_str())
            .unwrap_or("unknown")
    }

    /// The folder name of node `i`'s home under `nodes/` (its department's name, unless
    /// it is a department's second node).
    fn home_name(&self, i: usize) -> &str {
        self.layout
            .nodes
            .get(i)
            .map(|n| n.home.as_deref().unwrap_or(n.department.as_str()))
            .unwrap_or("unknown")
    }

    /// Leaves the node processes running when this value is dropped (for `up`).
    pub fn detach(&mut self) {
        self.kill_on_drop = false;
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The network's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The genesis file.
    pub fn genesis_path(&self) -> PathBuf {
        self.dir.join(GENESIS_FILE)
    }

    /// The trust-anchor file.
    pub fn anchor_path(&self) -> PathBuf {
        self.dir.join(ANCHOR_FILE)
    }

    /// The trust anchor as a QR code (SVG), for the apps to scan.
    pub fn anchor_qr_path(&self) -> PathBuf {
        self.dir.join(ANCHOR_QR_FILE)
    }

    /// Node `i`'s home.
    pub fn home(&self, i: usize) -> PathBuf {
        self.dir.join("nodes").join(self.home_name(i))
    }

    /// Node `i`'s validator key (hex), as `ecert-node key` prints it.
    pub fn node_key(&self, i: usize) -> Result<String, TestnetError> {
        let text = run_tool(
            Command::new(&self.node_bin)
                .arg("key")
                .arg("--home")
                .arg(self.home(i)),
            &format!("ecert-node key for {}", self.home_name(i)),
        )?;
        Ok(text.trim().to_owned())
    }

    /// Node `i`'s libp2p address, where the other nodes reach it.
    pub fn p2p_address(&self, i: usize) -> String {
        let port = self.layout.nodes.get(i).map(|n| n.p2p_port).unwrap_or(0);
        let host = self
            .placement(i)
            .map_or_else(|| "127.0.0.1".to_owned(), |p| p.host.to_string());
        format!("/ip4/{host}/tcp/{port}")
    }

    /// Node `i` as a validator-set change names it: `DEPARTMENT=KEY@ADDRESS` (the form of
    /// `ecert-node propose-validators --add` and `--replace`).
    pub fn member(&self, i: usize) -> Result<String, TestnetError> {
        Ok(format!(
            "{}={}@{}",
            self.department(i),
            self.node_key(i)?,
            self.p2p_address(i)
        ))
    }

    /// Adds a node for `department` that is not in the genesis: a new home with a new key
    /// (`ecert-node init`), free ports, its certificate when the network serves HTTPS.
    /// It runs against the same genesis and becomes a validator once a validator-set
    /// change names it ([`LocalNetwork::member`]). Returns its index; start it with
    /// [`LocalNetwork::start`].
    pub fn add_node(&mut self, department: &str) -> Result<usize, TestnetError> {
        if self.layout.nodes.iter().any(|n| n.department == department) {
            return Err(TestnetError::local(
                format!("add a node for {department}"),
                "the department has a node already (add_replacement gives it another)",
            ));
        }
        self.add_entry(department, None)
    }

    /// Adds a second node for the department of node `i`, with a new key (its home is
    /// `nodes/<department>-2/`, ...): what a department runs when its validator key is
    /// replaced. It is not in the genesis; it validates once a validator-set change gives
    /// the department its key ([`LocalNetwork::member`] in `--replace`). Returns its index.
    pub fn add_replacement(&mut self, i: usize) -> Result<usize, TestnetError> {
        let department = self
            .layout
            .nodes
            .get(i)
            .map(|n| n.department.clone())
            .ok_or_else(|| TestnetError::local("add a replacement", format!("no node {i}")))?;
        let taken = |name: &str| {
            self.layout
                .nodes
                .iter()
                .any(|n| n.home.as_deref().unwrap_or(n.department.as_str()) == name)
                || self.dir.join("nodes").join(name).exists()
        };
        let home = (2u32..)
            .map(|n| format!("{department}-{n}"))
            .find(|name| !taken(name))
            .ok_or_else(|| TestnetError::local("add a replacement", "no free home name"))?;
        self.add_entry(&department, Some(home))
    }

    fn add_entry(&mut self, department: &str, home: Option<String>) -> Result<usize, TestnetError> {
        let folder = home.clone().unwrap_or_else(|| department.to_owned());
        let path = self.dir.join("nodes").join(&folder);
        init_home(
            &self.node_bin,
            &path,
            department,
            &self.passphrase,
            self.layout.weak_kdf,
        )?;
        self.layout.nodes.push(NodeEntry {
            department: department.to_owned(),
            p2p_port: free_port()?,
            http_port: free_port()?,
            placement: None,
            home,
            added: true,
            retired: false,
        });
        self.children.push(None);
        let index = self.len() - 1;
        if self.layout.tls {
            let now = ecert_shell::clock::now()
                .map_err(|e| TestnetError::local("read the clock", e))?
                .0;
            let ca = LocalCa::open_or_create(&self.tls_dir(), now)?;
            let (cert, key) = self.node_tls_files(index);
            let name = format!("ecert node {folder}");
            ca.write(&name, &self.public_hosts, now, &cert, &key)?;
        }
        write_layout(&self.dir, &self.layout)?;
        Ok(index)
    }

    /// Stops node `i` for good (SIGTERM, waits): [`LocalNetwork::start_all`] leaves it
    /// stopped from now on, as a department does with a node whose validator was removed
    /// or replaced. Its home stays (its key too, for tests that use it afterwards).
    pub fn retire(&mut self, i: usize) -> Result<(), TestnetError> {
        self.stop(i)?;
        let entry = self
            .layout
            .nodes
            .get_mut(i)
            .ok_or_else(|| TestnetError::local("retire", format!("no node {i}")))?;
        entry.retired = true;
        write_layout(&self.dir, &self.layout)
    }

    /// Whether node `i` was retired.
    pub fn is_retired(&self, i: usize) -> bool {
        self.layout.nodes.get(i).is_some_and(|n| n.retired)
    }

    /// Node `i`'s client API base URL (`https://127.0.0.1:PORT` with TLS; its address in
    /// its namespace when placed).
    pub fn url(&self, i: usize) -> String {
        let port = self.layout.nodes.get(i).map(|n| n.http_port).unwrap_or(0);
        let host = self
            .placement(i)
            .map_or_else(|| "127.0.0.1".to_owned(), |p| p.host.to_string());
        format!("{}://{host}:{port}", self.scheme())
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.layout.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.layout.nodes.is_empty()
    }

    fn pid_file(&self, i: usize) -> PathBuf {
        self.home(i).join("node.pid")
    }

    /// The process id recorded for node `i`, if that process still runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        let pid: u32 = fs::read_to_string(self.pid_file(i))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        process_alive(pid).then_some(pid)
    }

    /// Starts node `i` (no-op if it runs).
    pub fn start(&mut self, i: usize) -> Result<(), TestnetError> {
        if let Some(Some(child)) = self.children.get_mut(i) {
            if matches!(child.try_wait(), Ok(None)) {
                return Ok(());
            }
        }
        if self.pid(i).is_some() {
            return Ok(());
        }
        let entry = self
            .layout
            .nodes
            .get(i)
            .cloned()
            .ok_or_else(|| TestnetError::local("start", format!("no node {i}")))?;
        let home = self.home(i);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.join("node.log"))
            .map_err(|e| TestnetError::local("node.log", e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| TestnetError::local("node.log", e))?;
        let listen = if let Some(placement) = &entry.placement {
            placement.host.to_string()
        } else if self.layout.tls && !self.public_hosts.is_empty() {
            "0.0.0.0".to_owned()
        } else {
            "127.0.0.1".to_owned()
        };
        // A placed node runs inside its namespace; `ip netns exec` replaces itself with
        // the node, so the child's id is the node's.
        let mut command = match &entry.placement {
            Some(placement) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &placement.netns])
                    .arg(&self.node_bin);
                c
            }
            None => Command::new(&self.node_bin),
        };
        command.arg("run");
        if entry.placement.is_some() && !self.layout.tls {
            // The lab's private subnet, reached only through the lab's own switch.
            command.arg("--insecure-http");
        }
        command
            .arg("--home")
            .arg(&home)
            .arg("--genesis")
            .arg(self.genesis_path())
            .args([
                "--http",
                &format!("{listen}:{}", entry.http_port),
                "--block-interval-ms",
                &self.layout.block_interval_ms.to_string(),
                "--snapshot-every",
                &self.layout.snapshot_every.to_string(),
            ])
            .env("ECERT_NODE_PASSPHRASE", &self.passphrase)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        if entry.added {
            // Not in the genesis: its own address.
            let host = entry
                .placement
                .as_ref()
                .map_or_else(|| "127.0.0.1".to_owned(), |p| p.host.to_string());
            command.args(["--listen", &format!("/ip4/{host}/tcp/{}", entry.p2p_port)]);
        }
        if let Some(secs) = self.layout.freshness_period_secs {
            command.args(["--freshness-period", &secs.to_string()]);
        }
        if let Some(ms) = self.layout.heartbeat_ms {
            command.args(["--heartbeat-ms", &ms.to_string()]);
        }
        if self.layout.weak_kdf {
            command.env(ecert_shell::passphrase::TEST_KDF_ENV, "1");
        }
        if self.layout.tls {
            let (cert, key) = self.node_tls_files(i);
            command
                .arg("--tls-cert")
                .arg(cert)
                .arg("--tls-key")
                .arg(key);
        }
        if let Some(web) = &self.web {
            command.arg("--web").arg(web);
            for node in 0..self.len() {
                for origin in self.origins(node) {
                    command.args(["--allow-origin", &origin]);
                }
            }
        }
        let child = command
            .spawn()
            .map_err(|e| TestnetError::local(format!("start {}", self.node_bin.display()), e))?;
        fs::write(self.pid_file(i), child.id().to_string())
            .map_err(|e| TestnetError::local("node.pid", e))?;
        if let Some(slot) = self.children.get_mut(i) {
            *slot = Some(child);
        }
        Ok(())
    }

    /// Starts every node but the retired ones.
    pub fn start_all(&mut self) -> Result<(), TestnetError> {
        for i in 0..self.len() {
            if !self.is_retired(i) {
                self.start(i)?;
            }
        }
        Ok(())
    }

    fn signal(&mut self, i: usize, signal: &str) -> Result<(), TestnetError> {
        let owned = self.children.get_mut(i).and_then(Option::take);
        let pid = match &owned {
            Some(child) => Some(child.id()),
            None => self.pid(i),
        };
        let Some(pid) = pid else { return Ok(()) };
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .map_err(|e| TestnetError::local("kill", e))?;
        if !status.success() && process_alive(pid) {
            return Err(TestnetError::local(
                "kill",
                format!("could not signal {pid}"),
            ));
        }
        match owned {
            Some(mut child) => {
                let _ = child.wait();
            }
            None => {
                let deadline = Instant::now() + Duration::from_secs(15);
                while process_alive(pid) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        let _ = fs::remove_file(self.pid_file(i));
        Ok(())
    }

    /// Kills node `i` abruptly (SIGKILL: no graceful shutdown).
    pub fn kill(&mut self, i: usize) -> Result<(), TestnetError> {
        self.signal(i, "-KILL")
    }

    /// Stops node `i` gracefully (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self, i: usize) -> Result<(), TestnetError> {
        self.signal(i, "-TERM")
    }

    /// Stops every node.
    pub fn stop_all(&mut self) -> Result<(), TestnetError> {
        for i in 0..self.len() {
            self.stop(i)?;
        }
        Ok(())
    }

    /// Deletes node `i`'s ledger data (it must be stopped): on restart it rejoins from the
    /// other nodes.
    pub fn wipe(&mut self, i: usize) -> Result<(), TestnetError> {
        let data = self.home(i).join("data");
        if data.exists() {
            fs::remove_dir_all(&data).map_err(|e| TestnetError::local("wipe", e))?;
        }
        Ok(())
    }

    /// Node `i`'s `/health`, if it answers.
    pub fn health(&self, http: &Http, i: usize) -> Option<serde_json::Value> {
        let reply = http.get(&format!("{}/health", self.url(i))).ok()?;
        reply.ok().then(|| reply.json())
    }

    /// The node the running nodes name as leader, if they agree on one.
    pub fn leader(&self, http: &Http) -> Option<usize> {
        let leaders: Vec<Option<u64>> = (0..self.len())
            .filter_map(|i| self.health(http, i))
            .map(|h| h.get("leader").and_then(|l| l.as_u64()))
            .collect();
        let first = (*leaders.first()?)?;
        leaders
            .iter()
            .all(|l| *l == Some(first))
            .then_some(usize::try_from(first).ok()?)
    }

    /// Waits until `running` nodes answer and agree on a leader.
    pub fn wait_ready(
        &self,
        http: &Http,
        running: &[usize],
        timeout: Duration,
    ) -> Result<usize, TestnetError> {
        let deadline = Instant::now() + timeout;
        loop {
            let all_up = running.iter().all(|i| self.health(http, *i).is_some());
            if all_up {
                if let Some(leader) = self.leader(http) {
                    if running.contains(&leader) {
                        return Ok(leader);
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(TestnetError::Timeout(format!(
                    "the nodes did not agree on a leader within {} s (see the node.log files in {})",
                    timeout.as_secs(),
                    self.dir.join("nodes").display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for LocalNetwork {
    fn drop(&mut self) {
        if !self.kill_on_drop {
            return;
        }
        for child in self.children.iter_mut().filter_map(Option::take) {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn write_layout(dir: &Path, layout: &Layout) -> Result<(), TestnetError> {
    let text = toml::to_string(layout).map_err(|e| TestnetError::local("layout", e))?;
    fs::write(dir.join(LAYOUT_FILE), text).map_err(|e| TestnetError::local("write testnet.toml", e))
}

/// The passphrase of every key of the local network in `dir` (created on first use):
/// local networks only; a real department keeps its passphrase to itself.
pub fn dev_passphrase(dir: &Path) -> Result<String, TestnetError> {
    let path = dir.join(PASSPHRASE_FILE);
    if let Ok(text) = fs::read_to_string(&path) {
        return Ok(text.trim().to_owned());
    }
    fs::create_dir_all(dir).map_err(|e| TestnetError::local(dir.display().to_string(), e))?;
    let mut secret = [0u8; 16];
    OsRng.fill_bytes(&mut secret);
    let passphrase = hex::encode(secret);
    write_private(&path, passphrase.as_bytes())?;
    Ok(passphrase)
}

/// Whether a process with this id runs (Linux: `/proc/<pid>` exists and is not a zombie).
pub fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Finds a sibling executable of the running program (cargo puts every workspace binary
/// in one folder), or on `ECERT_BIN_DIR`.
pub fn find_binary(name: &str) -> Result<PathBuf, TestnetError> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("ECERT_BIN_DIR") {
        candidates.push(PathBuf::from(dir).join(name));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join(name));
            if let Some(up) = dir.parent() {
                candidates.push(up.join(name));
            }
        }
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        TestnetError::local(
            format!("find {name}"),
            "not built: run `cargo build --release --workspace --all-features` first \
             (or set ECERT_BIN_DIR)",
        )
    })
}
