//! `hostile`: a one-node ledger of its own, attacked by hostile clients while an honest
//! one submits and reads (`ecert_testnet::hostile`); prints what the honest client saw,
//! the node's memory and what the attackers got.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use ecert_schemas::{ChainId, KindId};
use ecert_testnet::hostile::{self, HostileOptions};
use ecert_testnet::load::anchor_transaction;
use ecert_testnet::network::{find_binary, CreateOptions, LocalNetwork};
use ecert_testnet::province::Province;
use rand_core::OsRng;

/// What to run.
pub struct Options {
    /// Seconds per phase.
    pub seconds: u64,
    /// Connections held in the connections phase.
    pub connections: usize,
    /// Connections from each address then.
    pub per_address: usize,
}

/// Runs it.
pub fn hostile(options: &Options) -> Result<()> {
    let node_bin = find_binary("ecert-node")?;
    let dir = std::env::temp_dir().join(format!("ecert-hostile-{}", std::process::id()));
    let chain = "ecert-hostile";
    let now = ecert_shell::clock::now()?;
    let province = Province::new(
        chain,
        ecert_schemas::UnixTime(now.0.saturating_sub(86_400)),
        &mut OsRng,
    )?;
    let mut net = LocalNetwork::create(
        &dir,
        &node_bin,
        CreateOptions {
            chain_id: chain.into(),
            departments: vec!["justice".into()],
            base_port: None,
            block_interval_ms: 100,
            snapshot_every: 1_000,
            issuers: province.genesis_issuers(),
            weak_kdf: true,
            tls: false,
        },
    )?;
    let result = (|| -> Result<()> {
        net.start_all()?;
        let http = net.http(Duration::from_secs(10))?;
        net.wait_ready(&http, &[0], Duration::from_secs(60))?;
        let server: SocketAddr = net
            .url(0)
            .trim_start_matches("http://")
            .parse()
            .context("the node's address")?;
        let department = province.department("justice")?;
        let key = ecert_issuer::IssuerKey::from_seed(
            department.id.clone(),
            &department.issuer_key.seed(),
        );
        let kind = KindId::new("no-criminal-record")?;
        let chain_id = ChainId::new(chain)?;
        ecert_shell::outln!(
            "Hostile clients against one node at {server}: {} s per phase, {} connections held \
             ({} per address)",
            options.seconds,
            options.connections,
            options.per_address
        );
        let report = hostile::run(HostileOptions {
            server,
            pid: net.pid(0),
            phase: Duration::from_secs(options.seconds),
            connections: options.connections,
            per_address: options.per_address,
            slow_clients: 50,
            flood_connections: 16,
            honest_tx: Arc::new(move || anchor_transaction(&chain_id, &key, &kind, 16).ok()),
        })?;
        ecert_shell::out!("{}", hostile::render(&report));
        Ok(())
    })();
    let _ = net.stop_all();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
