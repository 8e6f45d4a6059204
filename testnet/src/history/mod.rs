//! A history checker in the manner of Jepsen: a bounded run of concurrent anchoring and
//! revocation clients and of counters, while a seeded nemesis kills, restarts, wipes and
//! (in the network lab) partitions the nodes; then everything is repaired, the nodes
//! converge, and a checker reads every node's certified state and every client's history
//! and reports what breaks a promise of the ledger ([`check`]).
//!
//! - [`workload`]: issuers anchoring batches and revoking certificates through random
//!   nodes with `wait=certified`, every operation recorded ([`record`]);
//! - [`counter`]: counters syncing from random nodes and checking presentations of real
//!   certificates issued as one-time copies ([`certs`]), some revoked during the run (all
//!   copies at once);
//! - [`nemesis`]: the faults, from a seed printed for replay ([`rng`]);
//! - [`observe`]: reading the nodes afterwards; [`check`]: the checks; [`report`]: the
//!   figures.
//!
//! `ecert-testnet history --duration SECS [--seed N]` runs it on four nodes of their own;
//! `ledger-node/tests/history.rs` is the short form in the tests.

pub mod certs;
pub mod check;
pub mod counter;
pub mod nemesis;
pub mod observe;
pub mod record;
pub mod report;
pub mod rng;
pub mod workload;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ecert_schemas::ChainId;
use ecert_verifier::TrustAnchor;
use ecert_wallet::HolderKey;
use rand_core::OsRng;

use self::check::CertInfo;
use self::counter::CounterSetup;
use self::nemesis::{Nemesis, Pace};
use self::record::Recorder;
use self::report::Report;
use self::workload::{Clients, Issuer, Planned};
use crate::network::{CreateOptions, LocalNetwork, Placement};
use crate::province::Province;
use crate::TestnetError;

#[cfg(target_os = "linux")]
use crate::netns::NetLab;

/// The chain id of a run's ledger.
pub const CHAIN: &str = "ecert-history";

/// How many times the nodes' certified state is read again when a block was certified
/// while they were read.
const READ_AGAIN: usize = 3;

/// What to run.
#[derive(Clone, Debug)]
pub struct HistoryOptions {
    /// How long the clients and the nemesis run.
    pub duration: Duration,
    /// The nemesis's seed.
    pub seed: u64,
    /// Concurrent anchoring clients.
    pub anchor_clients: usize,
    /// Concurrent counters.
    pub counters: usize,
    /// The nemesis's pace.
    pub pace: Pace,
    /// How long a submission asks the node to wait for certification (ms).
    pub submit_timeout_ms: u64,
    /// Presentable certificates per department (two departments).
    pub presentable_per_department: usize,
    /// One-time copies of each presentable certificate (format 2); the counters show
    /// them in turn.
    pub copies: u16,
    /// How long the nodes may take to converge after the last repair.
    pub converge_within: Duration,
}

impl HistoryOptions {
    /// The full run's settings for `duration` and `seed`.
    pub fn new(duration: Duration, seed: u64) -> HistoryOptions {
        HistoryOptions {
            duration,
            seed,
            anchor_clients: 3,
            counters: 2,
            pace: Pace {
                quiet: (2, 8),
                hold: (3, 12),
            },
            submit_timeout_ms: 10_000,
            presentable_per_department: 3,
            copies: ecert_schemas::copy::DEFAULT_COPIES,
            converge_within: Duration::from_secs(120),
        }
    }
}

/// Four nodes for a run: in the network lab when there is one (its fields drop in order:
/// the nodes stop before the lab goes).
pub struct Cluster {
    /// The nodes.
    pub net: LocalNetwork,
    /// The lab they run in, when namespaces are available.
    #[cfg(target_os = "linux")]
    pub lab: Option<NetLab>,
    /// The departments (their issuer keys) and the kinds.
    pub province: Province,
    /// The trust anchor of the nodes' genesis.
    pub anchor: TrustAnchor,
}

impl Cluster {
    /// Creates four nodes in `dir` (placed in `lab` when given) with blocks every
    /// `block_interval_ms` and a snapshot every `snapshot_every` blocks, and starts them.
    pub fn create(
        dir: &Path,
        node_bin: &Path,
        #[cfg(target_os = "linux")] lab: Option<NetLab>,
        block_interval_ms: u64,
        snapshot_every: u64,
    ) -> Result<Cluster, TestnetError> {
        let now =
            ecert_shell::clock::now().map_err(|e| TestnetError::local("read the clock", e))?;
        let province = Province::new(CHAIN, now.minus(86_400), &mut OsRng)?;
        let options = CreateOptions {
            chain_id: CHAIN.into(),
            departments: province
                .departments
                .iter()
                .map(|d| d.id.to_string())
                .collect(),
            base_port: None,
            block_interval_ms,
            snapshot_every,
            issuers: province.genesis_issuers(),
            weak_kdf: true,
            tls: false,
        };
        #[cfg(target_os = "linux")]
        let placements: Vec<Placement> = match &lab {
            Some(lab) => (0..options.departments.len())
                .map(|i| {
                    Ok(Placement {
                        netns: lab
                            .namespace(i)
                            .map_err(|e| TestnetError::local("network lab", e))?
                            .to_owned(),
                        host: lab
                            .node_ip(i)
                            .map_err(|e| TestnetError::local("network lab", e))?,
                    })
                })
                .collect::<Result<_, TestnetError>>()?,
            None => Vec::new(),
        };
        #[cfg(not(target_os = "linux"))]
        let placements: Vec<Placement> = Vec::new();
        let mut net = LocalNetwork::create_placed(dir, node_bin, options, &placements)?;
        // Freshness statements every 2 s: counters' data keeps its "as of" time current
        // while blocks are not certified.
        net.set_freshness_period(2)?;
        net.start_all()?;
        let text = std::fs::read_to_string(net.anchor_path())
            .map_err(|e| TestnetError::local("anchor.toml", e))?;
        let anchor = ecert_verifier::anchor_file::parse_anchor(&text)
            .map_err(|e| TestnetError::local("anchor.toml", e))?;
        Ok(Cluster {
            net,
            #[cfg(target_os = "linux")]
            lab,
            province,
            anchor,
        })
    }

    fn has_lab(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.lab.is_some();
        #[cfg(not(target_os = "linux"))]
        false
    }
}

/// The four presentable certificates revoked during the run, at a fifth, two fifths,
/// three fifths and four fifths of it; the others are never revoked.
fn plan(certs: &[certs::Presentable], duration: Duration, per_department: usize) -> Vec<Planned> {
    let picks = [0, per_department, 1, per_department + 1];
    picks
        .iter()
        .zip(1u32..)
        .filter_map(|(&n, k)| {
            let cert = certs.get(n)?;
            Some(Planned {
                after: duration * k / 5,
                issuer: cert.issuer.clone(),
                indexes: cert.indexes.clone(),
            })
        })
        .collect()
}

/// Runs the clients, counters and nemesis on `cluster` for `options.duration`, repairs
/// everything, waits for the nodes to converge and checks the history; `say` is told
/// what happens, a line at a time.
pub fn run(
    cluster: &mut Cluster,
    options: &HistoryOptions,
    say: &(dyn Fn(&str) + Sync),
) -> Result<Report, TestnetError> {
    let network_faults = cluster.has_lab();
    let net = &mut cluster.net;
    let urls: Vec<String> = (0..net.len()).map(|i| net.url(i)).collect();
    let quick = net.http(Duration::from_secs(3))?;
    let reads = net.http(Duration::from_secs(20))?;
    let submits = net.http(Duration::from_millis(options.submit_timeout_ms + 10_000))?;
    let all: Vec<usize> = (0..net.len()).collect();
    net.wait_ready(&quick, &all, Duration::from_secs(60))?;

    let recorder = Recorder::default();
    let stop = AtomicBool::new(false);
    let clients = Clients {
        urls: &urls,
        http: submits,
        chain_id: ChainId::new(CHAIN)?,
        timeout_ms: options.submit_timeout_ms,
        recorder: &recorder,
        stop: &stop,
    };
    let holder = HolderKey::generate(&mut OsRng);
    let certs = certs::issue_presentable(
        &mut cluster.province,
        &holder,
        &clients,
        options.presentable_per_department,
        options.copies,
        Duration::from_secs(60),
    )?;
    say(&format!(
        "{} certificates issued to a wallet and anchored; running for {} s, seed {}",
        certs.len(),
        options.duration.as_secs(),
        options.seed
    ));
    let province = &cluster.province;
    let issuers: Vec<Issuer<'_>> = province
        .departments
        .iter()
        .filter_map(|d| {
            Some(Issuer {
                key: &d.issuer_key,
                kind: d.kinds.first().cloned()?,
            })
        })
        .collect();
    let counter_clients = Clients {
        http: reads.clone(),
        ..clients.clone()
    };
    let setup = CounterSetup {
        anchor: &cluster.anchor,
        kinds: &province.kinds,
        holder: &holder,
        province,
        certs: &certs,
    };
    let planned = plan(&certs, options.duration, options.presentable_per_department);
    let started = Instant::now();
    let deadline = started + options.duration;
    #[cfg(target_os = "linux")]
    let lab = cluster.lab.as_ref();
    #[cfg(not(target_os = "linux"))]
    let lab = None;
    let mut nemesis = Nemesis {
        net: &mut cluster.net,
        lab,
        http: quick.clone(),
        recorder: &recorder,
        pace: options.pace,
    };
    let seed = options.seed;
    let outcome = std::thread::scope(|s| {
        let mut workers = Vec::new();
        for c in 0..options.anchor_clients {
            let (clients, issuers) = (&clients, &issuers);
            workers.push(s.spawn(move || {
                workload::anchor_client(clients, c, issuers, seed ^ ((c as u64 + 1) << 8))
            }));
        }
        let (clients_ref, issuers_ref) = (&clients, &issuers);
        let revoker = options.anchor_clients;
        workers.push(s.spawn(move || {
            workload::revocation_client(clients_ref, revoker, issuers_ref, planned, seed ^ 0x5eed)
        }));
        for c in 0..options.counters {
            let (clients, setup) = (&counter_clients, &setup);
            workers.push(
                s.spawn(move || counter::counter(clients, setup, c, seed ^ ((c as u64 + 1) << 16))),
            );
        }
        let nemesis_result = nemesis.run(seed, deadline);
        stop.store(true, Ordering::Relaxed);
        say("faults repaired; waiting for the clients' last operations");
        let mut result = nemesis_result;
        for worker in workers {
            let joined = worker
                .join()
                .unwrap_or_else(|_| Err(TestnetError::local("history", "a client thread failed")));
            if result.is_ok() {
                result = joined;
            }
        }
        result
    });
    let ran = started.elapsed();
    outcome?;

    let history = recorder.into_history();
    let highest = history
        .ops
        .iter()
        .filter_map(|op| match op.outcome {
            record::OpOutcome::Certified { height, .. } => Some(height),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    say("waiting for the nodes to converge");
    let mut converged = observe::wait_converged(&urls, &quick, highest, options.converge_within);
    say("reading every node's certified state");
    // The nodes are read one after the other: a block certified meanwhile (a new leader's
    // first entry, say) leaves the first read a height behind the others. Read again, once
    // they have converged on it, until every node was read at one height (or a few tries:
    // the checker then reports what it saw).
    let read_all = || -> Vec<observe::NodeView> {
        urls.iter()
            .enumerate()
            .map(|(i, url)| observe::read_node(i, url, &reads, &cluster.anchor, &province.kinds))
            .collect()
    };
    let mut views = read_all();
    for _ in 0..READ_AGAIN {
        let heights: BTreeSet<Option<u64>> = views
            .iter()
            .map(|v| v.export.as_ref().map(|e| e.height))
            .collect();
        if heights.len() <= 1 || converged.is_err() {
            break;
        }
        say("a block was certified while the nodes were read; reading them again");
        converged = observe::wait_converged(&urls, &quick, highest, options.converge_within);
        views = read_all();
    }
    let cert_info: Vec<CertInfo> = certs
        .iter()
        .map(|c| CertInfo {
            issuer: c.issuer.clone(),
            indexes: c.indexes.clone(),
            height: c.height,
        })
        .collect();
    let mut report = Report::count(options.seed, network_faults, &history);
    report.ran = ran;
    report.findings = check::check(&history, &views, &cert_info);
    match converged {
        Ok(after) => report.converged_after = Some(after),
        Err(said) => report.findings.anomalies.push(check::Anomaly {
            check: "convergence",
            detail: format!(
                "the nodes did not converge within {} s of the last repair: {said}",
                options.converge_within.as_secs()
            ),
        }),
    }
    #[cfg(target_os = "linux")]
    if let Some(lab) = &cluster.lab {
        report.packets_cut = lab.stats().cut;
    }
    Ok(report)
}
