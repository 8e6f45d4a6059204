//! The report of a run: operations by kind and outcome, faults injected by kind, what the
//! counters did, and the checker's findings.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::check::Findings;
use super::record::{FaultKind, History, SyncKind};

/// Operations of one kind, by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Acknowledged as certified.
    pub certified: usize,
    /// Refused for good.
    pub refused: usize,
    /// Outcome not known to the client.
    pub unknown: usize,
}

/// What a run did and found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The nemesis's seed.
    pub seed: u64,
    /// How long the clients and the nemesis ran.
    pub ran: Duration,
    /// Whether the nodes ran in the network lab (network faults possible).
    pub network_faults: bool,
    /// Anchor operations.
    pub anchors: Outcomes,
    /// Revocation operations.
    pub revocations: Outcomes,
    /// Faults injected, by kind: how many, and how many had trouble being injected or
    /// repaired.
    pub faults: BTreeMap<FaultKind, (usize, usize)>,
    /// Counter syncs: incremental, full.
    pub syncs: (usize, usize),
    /// Presentation checks made by the counters.
    pub checks: usize,
    /// How long the nodes took to converge after the last repair.
    pub converged_after: Option<Duration>,
    /// Packets the lab's switch dropped on cut links (with the lab).
    pub packets_cut: u64,
    /// What the checker found.
    pub findings: Findings,
}

impl Report {
    /// Counts `history` into a report (the findings and timings are set by the caller).
    pub fn count(seed: u64, network_faults: bool, history: &History) -> Report {
        let mut report = Report {
            seed,
            network_faults,
            ..Report::default()
        };
        for op in &history.ops {
            let outcomes = match op.kind.name() {
                "anchor" => &mut report.anchors,
                _ => &mut report.revocations,
            };
            match op.outcome.name() {
                "certified" => outcomes.certified += 1,
                "refused" => outcomes.refused += 1,
                _ => outcomes.unknown += 1,
            }
        }
        for fault in &history.faults {
            let entry = report.faults.entry(fault.kind).or_default();
            entry.0 += 1;
            entry.1 += usize::from(fault.trouble.is_some());
        }
        for sync in &history.syncs {
            match sync.kind {
                SyncKind::Update => report.syncs.0 += 1,
                SyncKind::Export => report.syncs.1 += 1,
            }
        }
        report.checks = history.checks.len();
        report
    }

    /// Whether the checker found nothing wrong.
    pub fn clean(&self) -> bool {
        self.findings.anomalies.is_empty()
    }

    /// Faults injected in all.
    pub fn fault_count(&self) -> usize {
        self.faults.values().map(|(n, _)| n).sum()
    }
}

fn outcomes(f: &mut fmt::Formatter<'_>, what: &str, o: &Outcomes) -> fmt::Result {
    writeln!(
        f,
        "  {what:<12} {:>6} certified, {:>4} refused, {:>4} unknown ({} in all)",
        o.certified,
        o.refused,
        o.unknown,
        o.certified + o.refused + o.unknown
    )
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "History check: seed {}, {:.0} s of clients and faults, {}",
            self.seed,
            self.ran.as_secs_f64(),
            if self.network_faults {
                "process and network faults"
            } else {
                "process faults only (no network namespaces)"
            }
        )?;
        writeln!(f, "Operations:")?;
        outcomes(f, "anchor", &self.anchors)?;
        outcomes(f, "revoke", &self.revocations)?;
        let (unknown, present) = self.findings.unknown_anchors;
        writeln!(
            f,
            "  of the unknown anchors, {present} of {unknown} turned out anchored"
        )?;
        writeln!(f, "Faults injected: {}", self.fault_count())?;
        for kind in FaultKind::ALL {
            if let Some((n, trouble)) = self.faults.get(&kind) {
                write!(f, "  {:<15} {n:>4}", kind.name())?;
                if *trouble > 0 {
                    write!(f, " ({trouble} with trouble injecting or repairing)")?;
                }
                writeln!(f)?;
            }
        }
        if self.network_faults {
            writeln!(f, "  packets dropped on cut links: {}", self.packets_cut)?;
        }
        let (valid, revoked, early) = self.findings.verdicts;
        writeln!(
            f,
            "Counters: {} syncs ({} incremental, {} full), {} checks: {valid} VALID, {revoked} \
             REVOKED, {early} refused on data older than the certificate",
            self.syncs.0 + self.syncs.1,
            self.syncs.0,
            self.syncs.1,
            self.checks
        )?;
        writeln!(
            f,
            "Ledger: {} batches anchored, {} certified headers compared across the nodes ({} \
             heights certified only through a later header), newest common certified height \
             {}{}",
            self.findings.anchored,
            self.findings.headers_compared,
            self.findings.uncertified_heights,
            self.findings.common_height,
            self.converged_after
                .map(|d| format!(", converged {:.1} s after the last repair", d.as_secs_f64()))
                .unwrap_or_default()
        )?;
        writeln!(f, "Anomalies: {}", self.findings.anomalies.len())?;
        for anomaly in &self.findings.anomalies {
            writeln!(f, "  {anomaly}")?;
        }
        Ok(())
    }
}
