//! What a run records: every client operation (invocation and completion), every check a
//! counter made, every sync it did and every fault the nemesis injected, each with the
//! wall-clock time in milliseconds (the clock the nodes stamp their blocks with: all run
//! on this machine).

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use ecert_schemas::{Hash32, IssuerId, StatusIndex};

/// Milliseconds since the epoch, now (0 if the clock is before it).
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// What a client asked the ledger to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Anchor a batch with this root.
    Anchor {
        /// The issuing department.
        issuer: IssuerId,
        /// The batch's Merkle root.
        root: Hash32,
    },
    /// Revoke these status indexes of one issuer.
    Revoke {
        /// The issuing department.
        issuer: IssuerId,
        /// The certificates' status indexes.
        indexes: Vec<StatusIndex>,
    },
}

impl OpKind {
    /// `anchor` or `revoke`.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Anchor { .. } => "anchor",
            OpKind::Revoke { .. } => "revoke",
        }
    }
}

/// How an operation ended, as its client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpOutcome {
    /// Acknowledged as certified, in the block at `height` (an anchor: at `batch_seq` in
    /// the anchor log).
    Certified {
        /// The block.
        height: u64,
        /// The batch's place in the anchor log (anchors only).
        batch_seq: Option<u64>,
    },
    /// Refused for good (the node answered `400` or `429`): never applied.
    Refused {
        /// The node's reason code.
        code: String,
    },
    /// Not known: timed out, no leader, connection lost; it may or may not be applied.
    Unknown {
        /// What the client saw.
        detail: String,
    },
}

impl OpOutcome {
    /// `certified`, `refused` or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            OpOutcome::Certified { .. } => "certified",
            OpOutcome::Refused { .. } => "refused",
            OpOutcome::Unknown { .. } => "unknown",
        }
    }
}

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The client that made it.
    pub client: usize,
    /// The node it was sent to.
    pub node: usize,
    /// What was asked.
    pub kind: OpKind,
    /// When it was sent (ms since the epoch).
    pub invoked_ms: u64,
    /// When its answer came, or the client gave up (ms since the epoch).
    pub completed_ms: u64,
    /// How it ended.
    pub outcome: OpOutcome,
}

/// What a counter's check of one presentation said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// VALID.
    Valid,
    /// Refused as revoked.
    Revoked,
    /// Refused for another reason (the verifier's code).
    Refused(String),
}

/// One check of a presentation by a counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The counter.
    pub counter: usize,
    /// Which of the run's presentable certificates was shown.
    pub cert: usize,
    /// The certified height of the counter's data.
    pub height: u64,
    /// The counter's data "as of" time (seconds since the epoch): the header's time, or
    /// the newer time a quorum of validators vouched for.
    pub as_of: u64,
    /// When it checked (ms since the epoch).
    pub at_ms: u64,
    /// What it said.
    pub verdict: Verdict,
}

/// How a counter brought its data up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncKind {
    /// `GET /v1/updates?since=H`, applied with `TrustStore::apply_update`.
    Update,
    /// `GET /v1/export`, checked with `TrustStore::from_bundle`.
    Export,
}

/// One successful sync of a counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sync {
    /// The counter.
    pub counter: usize,
    /// The node it synced from.
    pub node: usize,
    /// How.
    pub kind: SyncKind,
    /// The certified height it then held.
    pub height: u64,
    /// When the node's answer arrived (ms since the epoch): the height was certified by
    /// then.
    pub at_ms: u64,
}

/// Data a counter refused: a node served something that does not verify against the
/// trust anchor, or that contradicts what the counter holds (a fork).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The counter.
    pub counter: usize,
    /// The node that served it.
    pub node: usize,
    /// When (ms since the epoch).
    pub at_ms: u64,
    /// The verifier's code and message.
    pub detail: String,
}

/// A fault the nemesis injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// SIGKILL, restarted later.
    Kill,
    /// SIGTERM (graceful stop), restarted later.
    Restart,
    /// SIGKILL, data directory deleted, restarted later (rejoins from the others).
    Wipe,
    /// A node cut off from the others, both ways.
    Isolate,
    /// The leader cut off from the others, both ways.
    IsolateLeader,
    /// Everything sent to a node dropped (what it sends arrives).
    CutIncoming,
    /// Everything a node sends dropped (what it is sent arrives).
    CutOutgoing,
    /// Two halves of two nodes each: no quorum anywhere.
    Split,
    /// Two nodes killed at once: no quorum.
    KillTwo,
}

impl FaultKind {
    /// Every kind, in report order.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::Kill,
        FaultKind::Restart,
        FaultKind::Wipe,
        FaultKind::Isolate,
        FaultKind::IsolateLeader,
        FaultKind::CutIncoming,
        FaultKind::CutOutgoing,
        FaultKind::Split,
        FaultKind::KillTwo,
    ];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Restart => "restart",
            FaultKind::Wipe => "wipe",
            FaultKind::Isolate => "isolate",
            FaultKind::IsolateLeader => "isolate-leader",
            FaultKind::CutIncoming => "cut-incoming",
            FaultKind::CutOutgoing => "cut-outgoing",
            FaultKind::Split => "split",
            FaultKind::KillTwo => "kill-two",
        }
    }

    /// Whether it needs the network lab (namespaces).
    pub fn needs_lab(self) -> bool {
        matches!(
            self,
            FaultKind::Isolate
                | FaultKind::IsolateLeader
                | FaultKind::CutIncoming
                | FaultKind::CutOutgoing
                | FaultKind::Split
        )
    }
}

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What.
    pub kind: FaultKind,
    /// The nodes it hit.
    pub nodes: Vec<usize>,
    /// When it began (ms since the epoch).
    pub from_ms: u64,
    /// When it was repaired (ms since the epoch; 0 while it lasts).
    pub until_ms: u64,
    /// What went wrong injecting or repairing it, if anything.
    pub trouble: Option<String>,
}

/// Everything a run recorded.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Client operations.
    pub ops: Vec<Op>,
    /// Counters' checks.
    pub checks: Vec<Check>,
    /// Counters' syncs.
    pub syncs: Vec<Sync>,
    /// Data counters refused.
    pub refusals: Vec<Refusal>,
    /// Faults injected.
    pub faults: Vec<Fault>,
}

/// The history being written by many threads.
#[derive(Debug, Default)]
pub struct Recorder {
    inner: Mutex<History>,
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, History> {
        // A thread that panicked while holding it left whole records only.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an operation.
    pub fn op(&self, op: Op) {
        self.lock().ops.push(op);
    }

    /// Records a counter's check.
    pub fn check(&self, check: Check) {
        self.lock().checks.push(check);
    }

    /// Records a counter's sync.
    pub fn sync(&self, sync: Sync) {
        self.lock().syncs.push(sync);
    }

    /// Records data a counter refused.
    pub fn refusal(&self, refusal: Refusal) {
        self.lock().refusals.push(refusal);
    }

    /// Records a fault; returns its number, to mark it repaired.
    pub fn fault(&self, fault: Fault) -> usize {
        let mut h = self.lock();
        h.faults.push(fault);
        h.faults.len() - 1
    }

    /// Marks fault `n` repaired now, with any trouble repairing it.
    pub fn repaired(&self, n: usize, trouble: Option<String>) {
        if let Some(f) = self.lock().faults.get_mut(n) {
            f.until_ms = wall_ms();
            if trouble.is_some() {
                f.trouble = trouble;
            }
        }
    }

    /// The operations recorded so far.
    pub fn ops(&self) -> Vec<Op> {
        self.lock().ops.clone()
    }

    /// The whole history.
    pub fn into_history(self) -> History {
        self.inner.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}
