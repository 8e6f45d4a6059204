//! The node's counters, exposed at `/metrics` in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0];

/// Counters a node keeps while running.
#[derive(Default)]
pub struct Metrics {
    /// Transactions accepted through the API (checked and queued or forwarded).
    pub submitted: AtomicU64,
    /// Transactions refused at submission.
    pub refused: AtomicU64,
    /// Transactions applied in blocks.
    pub applied: AtomicU64,
    /// Transactions skipped in blocks.
    pub skipped: AtomicU64,
    /// Certificates anchored (sum of anchored batches' counts).
    pub certificates: AtomicU64,
    /// Blocks this node proposed as leader.
    pub proposed: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
}

/// One reading of the node's state for `/metrics`.
pub struct Gauges {
    /// Applied height.
    pub height: u64,
    /// Highest certified height.
    pub certified_height: u64,
    /// Connected peers.
    pub peers: u64,
    /// Raft role: 0 follower, 1 candidate, 2 leader, 3 learner or other.
    pub role: u64,
    /// Current Raft term.
    pub term: u64,
    /// Transactions waiting in this node's queue.
    pub queued: u64,
}

impl Metrics {
    /// Records one submission's time from arrival to certification.
    pub fn observe_latency(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(self.latency_buckets.iter()) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_micros.fetch_add(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The Prometheus text.
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            "ecert_height",
            "Height of the last applied block.",
            g.height,
        );
        gauge(
            "ecert_certified_height",
            "Highest certified block height.",
            g.certified_height,
        );
        gauge("ecert_peers", "Connected libp2p peers.", g.peers);
        gauge(
            "ecert_raft_role",
            "Raft role: 0 follower, 1 candidate, 2 leader, 3 other.",
            g.role,
        );
        gauge("ecert_raft_term", "Current Raft term.", g.term);
        gauge(
            "ecert_mempool_transactions",
            "Transactions queued for a block.",
            g.queued,
        );
        let mut counter = |name: &str, help: &str, value: &AtomicU64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        };
        counter(
            "ecert_transactions_submitted_total",
            "Transactions accepted through this node's API.",
            &self.submitted,
        );
        counter(
            "ecert_transactions_refused_total",
            "Transactions refused at submission.",
            &self.refused,
        );
        counter(
            "ecert_transactions_applied_total",
            "Transactions applied in blocks.",
            &self.applied,
        );
        counter(
            "ecert_transactions_skipped_total",
            "Transactions skipped in blocks.",
            &self.skipped,
        );
        counter(
            "ecert_certificates_anchored_total",
            "Certificates anchored (sum of anchored batch counts).",
            &self.certificates,
        );
        counter(
            "ecert_blocks_proposed_total",
            "Blocks this node proposed as leader.",
            &self.proposed,
        );
        let name = "ecert_submit_to_certified_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a submission reaching this node to its block being certified.\n# TYPE {name} histogram"
        );
        for (bound, bucket) in BUCKETS.iter().zip(self.latency_buckets.iter()) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
        out
    }
}
