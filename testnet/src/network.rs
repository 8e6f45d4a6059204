//! A local network of department nodes on loopback, as separate `ecert-node` processes:
//! created once (keys, genesis, trust anchor, ports in `DIR/testnet.toml`), then started,
//! stopped, killed, wiped and restarted at will. Data survives stop and start.
//!
//! Layout of `DIR`:
//!
//! ```text
//! testnet.toml        chain id, departments, ports, block interval
//! genesis.toml        the genesis every node runs
//! anchor.toml         the trust anchor for counters, issuers and wallets
//! dev-passphrase      the passphrase of every node key (local networks only)
//! nodes/<department>/ node home: node.key (sealed), node.pub, data/, node.log, node.pid
//! ```

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecert_ledger_node::genesis::{
    Genesis, GenesisFile, GenesisIssuer, GenesisKind, GenesisValidator,
};
use ecert_schemas::KindRegistry;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::http::Http;
use crate::TestnetError;

const LAYOUT_FILE: &str = "testnet.toml";
const GENESIS_FILE: &str = "genesis.toml";
const ANCHOR_FILE: &str = "anchor.toml";
const PASSPHRASE_FILE: &str = "dev-passphrase";

/// One node as the layout records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeEntry {
    /// The department running it.
    pub department: String,
    /// Its libp2p TCP port on 127.0.0.1.
    pub p2p_port: u16,
    /// Its client API port on 127.0.0.1.
    pub http_port: u16,
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
}

/// A local network of node processes.
pub struct LocalNetwork {
    dir: PathBuf,
    layout: Layout,
    node_bin: PathBuf,
    passphrase: String,
    children: Vec<Option<Child>>,
    kill_on_drop: bool,
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
            let mut init = Command::new(node_bin);
            init.args(["init", "--department", department, "--home"])
                .arg(&home)
                .env("ECERT_NODE_PASSPHRASE", &passphrase);
            if options.weak_kdf {
                init.env(ecert_shell::passphrase::TEST_KDF_ENV, "1");
            }
            run_tool(&mut init, &format!("ecert-node init for {department}"))?;
            let key = run_tool(
                Command::new(node_bin).arg("key").arg("--home").arg(&home),
                &format!("ecert-node key for {department}"),
            )?;
            validators.push(GenesisValidator {
                department: department.clone(),
                key: key.trim().to_owned(),
                address: format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
            });
            nodes.push(NodeEntry {
                department: department.clone(),
                p2p_port,
                http_port,
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
        fs::write(
            dir.join(ANCHOR_FILE),
            ecert_verifier::anchor_file::anchor_to_toml(
                &anchor,
                "The ecert ledger to trust: pin this file in counters, issuers and wallets.",
            ),
        )
        .map_err(|e| TestnetError::local("write anchor.toml", e))?;
        let layout = Layout {
            chain_id: options.chain_id,
            nodes,
            block_interval_ms: options.block_interval_ms,
            snapshot_every: options.snapshot_every,
            weak_kdf: options.weak_kdf,
        };
        let text = toml::to_string(&layout).map_err(|e| TestnetError::local("layout", e))?;
        fs::write(dir.join(LAYOUT_FILE), text)
            .map_err(|e| TestnetError::local("write testnet.toml", e))?;
        LocalNetwork::open(dir, node_bin)
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
        })
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

    /// Node `i`'s home.
    pub fn home(&self, i: usize) -> PathBuf {
        let dept = self
            .layout
            .nodes
            .get(i)
            .map(|n| n.department.as_str())
            .unwrap_or("unknown");
        self.dir.join("nodes").join(dept)
    }

    /// Node `i`'s client API base URL.
    pub fn url(&self, i: usize) -> String {
        let port = self.layout.nodes.get(i).map(|n| n.http_port).unwrap_or(0);
        format!("http://127.0.0.1:{port}")
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
        let mut command = Command::new(&self.node_bin);
        command
            .arg("run")
            .arg("--home")
            .arg(&home)
            .arg("--genesis")
            .arg(self.genesis_path())
            .args([
                "--http",
                &format!("127.0.0.1:{}", entry.http_port),
                "--block-interval-ms",
                &self.layout.block_interval_ms.to_string(),
                "--snapshot-every",
                &self.layout.snapshot_every.to_string(),
            ])
            .env("ECERT_NODE_PASSPHRASE", &self.passphrase)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        if self.layout.weak_kdf {
            command.env(ecert_shell::passphrase::TEST_KDF_ENV, "1");
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

    /// Starts every node.
    pub fn start_all(&mut self) -> Result<(), TestnetError> {
        for i in 0..self.len() {
            self.start(i)?;
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
