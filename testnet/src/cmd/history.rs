//! `history`: four nodes of their own (in the network lab when namespaces are available)
//! under concurrent anchoring, revocation and counters while a seeded nemesis injects
//! faults; then the history checker's report (`ecert_testnet::history`). Fails when it
//! finds an anomaly.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use ecert_testnet::history::{self, Cluster, HistoryOptions};
use ecert_testnet::network::find_binary;
use rand_core::{OsRng, RngCore};

/// What to run.
pub struct Options {
    /// Seconds of clients and faults.
    pub duration: u64,
    /// The nemesis's seed (random when not given).
    pub seed: Option<u64>,
    /// Process faults only, even where namespaces are available.
    pub no_netns: bool,
    /// Keep the network's folder (node logs) afterwards.
    pub keep: bool,
}

/// Runs it.
pub fn history(options: &Options) -> Result<()> {
    let node_bin = find_binary("ecert-node")?;
    let seed = options.seed.unwrap_or_else(|| OsRng.next_u64());
    let dir: PathBuf = std::env::temp_dir().join(format!("ecert-history-{}", std::process::id()));
    ecert_shell::outln!(
        "History check for {} s, seed {seed} (replay: ecert-testnet history --duration {} \
         --seed {seed})",
        options.duration,
        options.duration
    );
    #[cfg(target_os = "linux")]
    let lab = if options.no_netns {
        None
    } else {
        match ecert_testnet::netns::NetLab::create(4) {
            Ok(lab) => Some(lab),
            Err(ecert_testnet::netns::NetnsError::Unavailable(reason))
                if !ecert_testnet::netns::required() =>
            {
                ecert_shell::outln!("Network faults off: {reason}");
                None
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut cluster = Cluster::create(
        &dir,
        &node_bin,
        #[cfg(target_os = "linux")]
        lab,
        50,
        500,
    )?;
    let run = HistoryOptions::new(Duration::from_secs(options.duration), seed);
    let result = history::run(&mut cluster, &run, &|line| ecert_shell::outln!("  {line}"));
    drop(cluster);
    let report = result?;
    ecert_shell::outln!("\n{report}");
    if options.keep || !report.clean() {
        ecert_shell::outln!("The nodes' folders and logs are in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if !report.clean() {
        bail!(
            "{} anomalies found (seed {seed})",
            report.findings.anomalies.len()
        );
    }
    Ok(())
}
