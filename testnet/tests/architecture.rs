//! The crate graph as `docs/ARCHITECTURE.md` draws it, checked against `cargo metadata`.
//!
//! Rules (each a function below, each also run against a broken graph to show it can
//! fail):
//! - the pure core (`ecert-schemas`, `ecert-verifier`'s library, `ecert-sealed`,
//!   `ecert-qr`, the `ecert-wallet` library) reaches no I/O crate, however indirectly;
//! - RocksDB, libp2p and openraft are dependencies of `ecert-ledger-node` only;
//! - `ureq` is a dependency of `ecert-client` only;
//! - the server plumbing (`axum-server`, `tokio-rustls`, `tower-http`) is `ecert-serve`'s
//!   alone, `rustls` is named only by `ecert-serve` and `ecert-client`, `axum` only by
//!   `ecert-serve` and the two services that define routes (`ecert-ledger-node`,
//!   `ecert-issuer`), and `rcgen` (the test CA) only by `ecert-testnet`;
//! - no library depends on the wallet crate (only the tools that hold a wallet);
//! - no crate's `[dependencies]` name the test kit;
//! - a crate depends only on crates of a lower layer (no upward or sideways edge).
//!
//! Dev-dependency policy: integration tests and benches (never unit tests' logic) may
//! use `ecert-testkit` and any workspace crate; that is the only way up.

// Test code: a failed expect is a failed test, with its message.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// The workspace's layers, bottom first. A crate may depend on crates of lower layers
/// only, feature-gated (tool) dependencies included.
const LAYERS: &[(&str, u8)] = &[
    ("ecert-schemas", 0),
    ("ecert-sealed", 0),
    ("ecert-qr", 0),
    ("ecert-shell", 1),
    ("ecert-client", 2),
    ("ecert-serve", 2),
    ("ecert-verifier", 3),
    ("ecert-wallet", 4),
    ("ecert-issuer", 5),
    ("ecert-ledger-node", 5),
    ("ecert-web", 5),
    ("ecert-testnet", 6),
    ("ecert-testkit", 7),
];

/// The pure core: no I/O crate anywhere below them (default features, normal edges).
const PURE: &[&str] = &[
    "ecert-schemas",
    "ecert-verifier",
    "ecert-sealed",
    "ecert-qr",
    "ecert-wallet",
];

/// Crates that do I/O (files, sockets, terminals, processes, storage): never below the
/// pure core.
const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "ureq",
    "hyper",
    "axum",
    "axum-server",
    "tower-http",
    "tokio-rustls",
    "reqwest",
    "rustls",
    "rcgen",
    "rocksdb",
    "librocksdb-sys",
    "libp2p",
    "openraft",
    "rpassword",
    "tempfile",
    "indicatif",
    "tracing-subscriber",
    "ecert-shell",
    "ecert-client",
    "ecert-serve",
    "ecert-testkit",
];

/// Crates only some workspace crates may name as a dependency, and which.
const CONFINED: &[(&str, &[&str])] = &[
    ("axum-server", &["ecert-serve"]),
    ("tokio-rustls", &["ecert-serve"]),
    ("tower-http", &["ecert-serve"]),
    ("rustls", &["ecert-serve", "ecert-client"]),
    (
        "axum",
        &["ecert-serve", "ecert-ledger-node", "ecert-issuer"],
    ),
    ("rcgen", &["ecert-testnet"]),
];

/// Heavy crates that belong to the ledger node alone.
const LEDGER_ONLY: &[&str] = &["rocksdb", "libp2p", "openraft"];

/// Crates that may depend on the wallet library: the tools that hold a wallet.
const MAY_HOLD_A_WALLET: &[&str] = &["ecert-testnet", "ecert-web", "ecert-testkit"];

/// One declared dependency of a workspace crate.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    /// `normal`, `dev` or `build`.
    kind: String,
    optional: bool,
}

/// What the checks need from `cargo metadata`.
struct Graph {
    members: BTreeSet<String>,
    edges: Vec<Edge>,
    /// package name → names of the packages it depends on in the resolved graph (normal
    /// and build edges).
    resolved: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn from_metadata(meta: &Value) -> Graph {
        let packages = meta["packages"].as_array().expect("packages");
        let workspace: BTreeSet<&str> = meta["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .map(|v| v.as_str().expect("id"))
            .collect();
        let mut members = BTreeSet::new();
        let mut edges = Vec::new();
        let mut names_by_id = BTreeMap::new();
        for package in packages {
            let id = package["id"].as_str().expect("id");
            let name = package["name"].as_str().expect("name").to_owned();
            names_by_id.insert(id.to_owned(), name.clone());
            if !workspace.contains(id) {
                continue;
            }
            members.insert(name.clone());
            for dep in package["dependencies"].as_array().expect("dependencies") {
                edges.push(Edge {
                    from: name.clone(),
                    to: dep["name"].as_str().expect("dep name").to_owned(),
                    kind: dep["kind"].as_str().unwrap_or("normal").to_owned(),
                    optional: dep["optional"].as_bool().unwrap_or(false),
                });
            }
        }
        let mut resolved: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for node in meta["resolve"]["nodes"].as_array().into_iter().flatten() {
            let from = names_by_id[node["id"].as_str().expect("node id")].clone();
            let entry = resolved.entry(from).or_default();
            for dep in node["deps"].as_array().into_iter().flatten() {
                let not_dev_only = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].as_str() != Some("dev"));
                if not_dev_only {
                    entry.insert(names_by_id[dep["pkg"].as_str().expect("pkg")].clone());
                }
            }
        }
        Graph {
            members,
            edges,
            resolved,
        }
    }

    /// Normal, non-optional edges between workspace crates and to the outside.
    fn required(&self) -> impl Iterator<Item = &Edge> {
        self.edges
            .iter()
            .filter(|e| e.kind == "normal" && !e.optional)
    }

    /// Everything `root` reaches through required edges inside the workspace, then
    /// through the resolved graph outside it.
    fn reach(&self, root: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![root.to_owned()];
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if self.members.contains(&name) {
                todo.extend(
                    self.required()
                        .filter(|e| e.from == name)
                        .map(|e| e.to.clone()),
                );
            } else if let Some(next) = self.resolved.get(&name) {
                todo.extend(next.iter().cloned());
            }
        }
        seen.remove(root);
        seen
    }
}

fn layer(name: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

fn pure_core_reaches_no_io(graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    for crate_name in PURE {
        for reached in graph.reach(crate_name) {
            if IO_CRATES.contains(&reached.as_str()) {
                problems.push(format!("{crate_name} reaches the I/O crate {reached}"));
            }
        }
    }
    problems
}

fn normal_edges_into<'a>(graph: &'a Graph, to: &'a str) -> impl Iterator<Item = &'a Edge> {
    graph
        .edges
        .iter()
        .filter(move |e| e.to == to && e.kind == "normal")
}

fn heavy_crates_stay_in_the_ledger_node(graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    for heavy in LEDGER_ONLY {
        for edge in normal_edges_into(graph, heavy) {
            if edge.from != "ecert-ledger-node" {
                problems.push(format!("{} depends on {heavy}", edge.from));
            }
        }
    }
    problems
}

fn one_http_client(graph: &Graph) -> Vec<String> {
    graph
        .edges
        .iter()
        .filter(|e| e.to == "ureq" && e.from != "ecert-client")
        .map(|e| format!("{} depends on ureq ({})", e.from, e.kind))
        .collect()
}

fn server_plumbing_lives_once(graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    for (confined, allowed) in CONFINED {
        for edge in normal_edges_into(graph, confined) {
            if !allowed.contains(&edge.from.as_str()) {
                problems.push(format!(
                    "{} depends on {confined} (only {} may)",
                    edge.from,
                    allowed.join(", ")
                ));
            }
        }
    }
    problems
}

fn no_library_holds_a_wallet(graph: &Graph) -> Vec<String> {
    normal_edges_into(graph, "ecert-wallet")
        .filter(|e| !MAY_HOLD_A_WALLET.contains(&e.from.as_str()))
        .map(|e| format!("{} depends on the wallet crate", e.from))
        .collect()
}

fn test_kit_is_dev_only(graph: &Graph) -> Vec<String> {
    graph
        .edges
        .iter()
        .filter(|e| e.to == "ecert-testkit" && e.kind != "dev")
        .map(|e| {
            format!(
                "{} names ecert-testkit in [{}-dependencies]",
                e.from, e.kind
            )
        })
        .collect()
}

fn no_upward_edge(graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    for member in &graph.members {
        if layer(member).is_none() {
            problems.push(format!(
                "{member} has no layer: add it to LAYERS and to docs/ARCHITECTURE.md"
            ));
        }
    }
    for edge in graph.edges.iter().filter(|e| e.kind == "normal") {
        if let (Some(from), Some(to)) = (layer(&edge.from), layer(&edge.to)) {
            if to >= from {
                problems.push(format!(
                    "{} (layer {from}) depends on {} (layer {to})",
                    edge.from, edge.to
                ));
            }
        }
    }
    problems
}

/// One rule: the problems it finds in a graph.
type Rule = fn(&Graph) -> Vec<String>;

fn all_rules(graph: &Graph) -> Vec<String> {
    [
        pure_core_reaches_no_io(graph),
        heavy_crates_stay_in_the_ledger_node(graph),
        one_http_client(graph),
        server_plumbing_lives_once(graph),
        no_library_holds_a_wallet(graph),
        test_kit_is_dev_only(graph),
        no_upward_edge(graph),
    ]
    .concat()
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata output")
}

#[test]
fn the_crate_graph_is_as_drawn() {
    let graph = Graph::from_metadata(&metadata());
    assert!(graph.members.contains("ecert-schemas"));
    let problems = all_rules(&graph);
    assert!(
        problems.is_empty(),
        "the crate graph breaks docs/ARCHITECTURE.md:\n  {}",
        problems.join("\n  ")
    );
}

/// Each rule catches what it is for: the real graph with one bad edge added.
#[test]
fn each_rule_catches_a_bad_edge() {
    let real = Graph::from_metadata(&metadata());
    // Each case: a normal dependency `from` → `to`, and the rule it breaks.
    let cases: [(&str, &str, Rule); 10] = [
        ("ecert-schemas", "tokio", pure_core_reaches_no_io),
        ("ecert-schemas", "ecert-shell", pure_core_reaches_no_io),
        (
            "ecert-issuer",
            "rocksdb",
            heavy_crates_stay_in_the_ledger_node,
        ),
        ("ecert-wallet", "ureq", one_http_client),
        ("ecert-issuer", "axum-server", server_plumbing_lives_once),
        ("ecert-verifier", "rustls", server_plumbing_lives_once),
        ("ecert-serve", "ecert-client", no_upward_edge),
        ("ecert-issuer", "ecert-wallet", no_library_holds_a_wallet),
        ("ecert-testnet", "ecert-testkit", test_kit_is_dev_only),
        ("ecert-verifier", "ecert-issuer", no_upward_edge),
    ];
    for (i, (from, to, rule)) in cases.into_iter().enumerate() {
        let mut graph = Graph {
            members: real.members.clone(),
            edges: real.edges.clone(),
            resolved: real.resolved.clone(),
        };
        graph.edges.push(Edge {
            from: from.into(),
            to: to.into(),
            kind: "normal".into(),
            optional: false,
        });
        assert!(
            rule(&real).is_empty(),
            "case {i}: the real graph already fails"
        );
        assert!(
            !rule(&graph).is_empty(),
            "case {i} ({from} → {to}): the bad edge went unnoticed"
        );
    }
}
