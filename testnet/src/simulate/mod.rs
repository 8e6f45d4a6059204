//! A province's year, simulated in process: the real ledger state machine, certification
//! and verifier, with a simulated clock and no network (`ecert-testnet simulate`).
//!
//! Certificates are issued as one-time copies (format 2, [`Options::copies`] each): a
//! batch of certificates is a batch of copies, each copy a leaf of the batch tree with a
//! status index of its own. The ledger sees only batches: every anchor transaction is a
//! real `AnchorBatch` signed by the department's current issuer key, over a random root
//! (the root of copies the simulation does not keep; the ledger cannot tell) with the
//! batch's count of copies. A batch takes a run of consecutive status indexes, one per
//! copy, handed to its copies in an order drawn at random (as its leaves are), so a
//! certificate's copies hold indexes spread over its batch's run. Batches are anchored by
//! each department's issuance job every quarter hour of office hours on working days (one
//! block per job run), the departments revoke a share of their certificates every working
//! evening (each certificate with all its copies' indexes, in one transaction), and each
//! department rotates its issuer key once through governance approved by three of the four
//! validators; halfway through the year one validator key is replaced. A citizen holds a
//! few real certificates, issued along the way (some under keys rotated since), and shows
//! the next copy of each at every presentation (once all are spent, from the first
//! again: new copies would need a new batch), which a counter verifies at the end of the
//! year and through an idle week after it.
//!
//! Measured on the way: what a node stores ([`storage`]), the ledger's transaction bytes
//! per certificate, a counter's daily incremental sync, and at the year's end the full
//! bundle, the time to check it, and the time to apply a block.

mod calendar;
mod citizen;
mod idle;
mod run;
pub mod storage;

pub use calendar::{weekday, YEAR_START};
pub use idle::{Checks, IdleWeek, FRESHNESS_PERIOD_SECS};
pub use run::run;
pub use storage::NodeStorage;

use std::time::Duration;

use ecert_schemas::copy::{DEFAULT_COPIES, MAX_COPIES};
use ecert_schemas::ledger::MAX_STATUS_INDEX;

use crate::TestnetError;

/// Most copies (leaves) in one simulated batch.
pub const MAX_BATCH_COPIES: u64 = 1 << 20;

/// The largest department's share of the issuance, in percent (public security's).
pub const LARGEST_SHARE_PERCENT: u64 = 45;

/// How much more than its share the largest department may issue by chance, in percent,
/// when the options are checked against its status list.
pub const CHANCE_PERCENT: u64 = 5;

/// The simulation's scale and seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Certificates issued over the year.
    pub certificates: u64,
    /// Certificates per anchored batch.
    pub batch_size: u64,
    /// Simulated days (the year's first is a Monday).
    pub days: u64,
    /// Share of the certificates revoked over the year, in percent.
    pub revoked_percent: f64,
    /// Seed of every random choice and key: the same seed replays the same ledger.
    pub seed: u64,
    /// Idle days simulated after the year.
    pub idle_days: u64,
    /// Departments work seven days a week (default: Monday to Friday).
    pub seven_day_week: bool,
    /// One-time copies per certificate (format 2): each copy is a leaf of its batch and
    /// has a status index of its own. With 1, the ledger carries what format 1 gives it.
    pub copies: u16,
}

impl Options {
    /// A year of a province: 100 M certificates in batches of 1,000, 1 % revoked.
    pub fn province(seed: u64) -> Options {
        Options {
            certificates: 100_000_000,
            batch_size: 1_000,
            days: 365,
            revoked_percent: 1.0,
            seed,
            idle_days: 7,
            seven_day_week: false,
            copies: DEFAULT_COPIES,
        }
    }

    /// Checks the options make a simulation: some certificates, batches, 1 to
    /// [`MAX_COPIES`] copies each and at most [`MAX_BATCH_COPIES`] copies in a batch, at
    /// least one working day, a share of revocations between 0 and 50 %, and status
    /// indexes enough for the largest department's copies.
    pub fn check(&self) -> Result<(), TestnetError> {
        let bad = |detail: &str| Err(TestnetError::local("simulation options", detail));
        if self.certificates == 0 || self.batch_size == 0 {
            return bad("certificates and batch size must be at least 1");
        }
        if self.copies == 0 || usize::from(self.copies) > MAX_COPIES {
            return bad(&format!("a certificate has 1 to {MAX_COPIES} copies"));
        }
        if self.batch_size.saturating_mul(u64::from(self.copies)) > MAX_BATCH_COPIES {
            return bad(&format!(
                "a batch holds at most {MAX_BATCH_COPIES} copies: at {} copies a \
                 certificate, at most {} certificates",
                self.copies,
                MAX_BATCH_COPIES / u64::from(self.copies)
            ));
        }
        if self.days == 0 || self.days > 3_650 {
            return bad("simulate 1 to 3,650 days (the first is a Monday)");
        }
        if !(0.0..=50.0).contains(&self.revoked_percent) {
            return bad("revoke 0 to 50 percent of the certificates");
        }
        if self.idle_days > 365 {
            return bad("simulate at most 365 idle days");
        }
        if self.certificates > self.max_certificates() {
            return bad(&format!(
                "{} certificates of {} copies do not fit the status lists: an issuer's \
                 indexes end at {}, one per copy, and the largest department issues {} % of \
                 the certificates; at {} copies a province issues at most {} certificates, \
                 and {} certificates fit at most {} copies each",
                grouped(self.certificates),
                self.copies,
                grouped(u64::from(MAX_STATUS_INDEX)),
                LARGEST_SHARE_PERCENT,
                self.copies,
                grouped(self.max_certificates()),
                grouped(self.certificates),
                self.max_copies()
            ));
        }
        Ok(())
    }

    /// The most copies each of [`Options::certificates`] can have within the status
    /// lists (0 when not even one fits).
    pub fn max_copies(&self) -> u64 {
        let indexes = u64::from(MAX_STATUS_INDEX) + 1;
        let largest = self
            .certificates
            .saturating_mul(LARGEST_SHARE_PERCENT * (100 + CHANCE_PERCENT))
            / 10_000;
        indexes.checked_div(largest).unwrap_or(indexes)
    }

    /// The most certificates whose copies fit the departments' status lists: the largest
    /// department's share, with [`CHANCE_PERCENT`] % more for chance (batches go to the
    /// departments at random), times the copies, within [`MAX_STATUS_INDEX`] + 1 indexes.
    pub fn max_certificates(&self) -> u64 {
        let indexes = u64::from(MAX_STATUS_INDEX) + 1;
        let per_department = indexes / u64::from(self.copies.max(1));
        // certificates × share / 100 × (100 + chance) / 100 ≤ per_department
        per_department * 100 * 100 / (LARGEST_SHARE_PERCENT * (100 + CHANCE_PERCENT))
    }

    /// How many status indexes (copies) a batch of `certificates` certificates takes.
    pub fn copies_of(&self, certificates: u64) -> u64 {
        certificates.saturating_mul(u64::from(self.copies))
    }

    /// How many certificates are revoked over the year (each with all its copies).
    pub fn revocations(&self) -> u64 {
        (self.certificates as f64 * self.revoked_percent / 100.0).round() as u64
    }

    /// How many batches are anchored over the year.
    pub fn batches(&self) -> u64 {
        self.certificates.div_ceil(self.batch_size)
    }
}

/// Digits in groups of three.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A counter's morning sync of the previous day's changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaySync {
    /// The morning it ran (0 = the year's first day); it carries the changes since the
    /// previous one (the previous working day's).
    pub day: u64,
    /// Anchor-log records in the update.
    pub batches: u64,
    /// Status indexes revoked in the update (every copy of each revoked certificate).
    pub revocations: u64,
    /// Whether the registry came with it (a key rotation that day).
    pub registry: bool,
    /// The update's encoded size (`TrustUpdate::to_bytes`).
    pub bytes: u64,
    /// Of which the anchor-log records.
    pub anchor_bytes: u64,
    /// Of which the revocations.
    pub revocation_bytes: u64,
    /// The node's time to build it (`LedgerState::trust_update`).
    pub serve: Duration,
    /// The counter's time to decode, check and apply it (`TrustUpdate::from_bytes` and
    /// `TrustStore::apply_update` on the store held since the previous morning).
    pub check: Duration,
}

/// A key rotation on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The day.
    pub day: u64,
    /// The department.
    pub issuer: String,
    /// The ledger height that applied it.
    pub height: u64,
}

/// A real certificate checked at the year's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// Its kind.
    pub kind: String,
    /// Its issuer.
    pub issuer: String,
    /// The day it was issued.
    pub issued_day: u64,
    /// Whether its key was rotated away since.
    pub key_rotated: bool,
    /// The verdict: `None` verified, or the reason's code.
    pub refused: Option<&'static str>,
    /// The verdict due: `None` verified, or `expired` for a certificate whose validity
    /// ended before the check (a no-criminal-record certificate lasts 90 days).
    pub expected: Option<&'static str>,
}

/// Timings at the year's end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct YearEnd {
    /// The full bundle a counter syncs (`TrustBundle::to_bytes`).
    pub bundle_bytes: u64,
    /// Its records and revoked indexes.
    pub bundle_batches: u64,
    /// Revoked status indexes in it (copies of revoked certificates).
    pub bundle_revoked: u64,
    /// Of the bundle, the anchor log's records (encoded).
    pub bundle_anchor_bytes: u64,
    /// Of the bundle, the revocation state: the coded status lists (encoded).
    pub bundle_status_bytes: u64,
    /// Decoding it (`TrustBundle::from_bytes`).
    pub bundle_decode: Duration,
    /// Checking it (`TrustStore::from_bundle`): a counter's full sync.
    pub full_sync_check: Duration,
    /// `apply_block` of one anchor transaction on the year-end state (median of 5).
    pub anchor_block: Duration,
    /// `apply_block` of one revocation of about [`YEAR_END_REVOCATIONS`] indexes (whole
    /// certificates' copies) in the largest list (median of 5).
    pub revocation_block: Duration,
    /// The status indexes in that revocation.
    pub revocation_block_indexes: u64,
    /// The largest list's revoked indexes before that block.
    pub largest_list: u64,
}

/// Status indexes in the year-end revocation block, rounded down to whole certificates'
/// copies (at least one certificate).
pub const YEAR_END_REVOCATIONS: u32 = 1_000;

/// Everything the simulation measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The options it ran with.
    pub options: Options,
    /// Working days in the year.
    pub working_days: u64,
    /// Blocks, all kinds.
    pub blocks: u64,
    /// Transactions, all kinds.
    pub transactions: u64,
    /// The ledger's height at the end.
    pub height: u64,
    /// Batches anchored.
    pub batches: u64,
    /// Certificates in them.
    pub certificates: u64,
    /// Certificates revoked (each with all its copies).
    pub revoked: u64,
    /// Status indexes revoked: the copies of the revoked certificates.
    pub revoked_indexes: u64,
    /// Copies anchored (leaves of all batches).
    pub copies: u64,
    /// The transactions' encoded bytes, by kind.
    pub ledger: LedgerBytes,
    /// The key rotations.
    pub rotations: Vec<Rotation>,
    /// The validator-set change: a department's validator key replaced halfway through
    /// the year (none when the year has no working day left for it).
    pub validator_change: Option<Rotation>,
    /// What one node stores.
    pub storage: NodeStorage,
    /// A counter's mornings: one per day with changes.
    pub syncs: Vec<DaySync>,
    /// Whether the counter that synced incrementally all year holds exactly the full
    /// bundle at the end.
    pub update_equals_bundle: bool,
    /// The year's end.
    pub year_end: YearEnd,
    /// The citizen's real certificates, checked at the year's end.
    pub shown: Vec<Shown>,
    /// The citizen's presentations of copies: copies shown, and of them the ones shown
    /// again after every copy of the certificate had been shown once.
    pub presented: Presented,
    /// The idle week.
    pub idle: IdleWeek,
    /// The simulation's running time (measurements included).
    pub elapsed: Duration,
}

/// The encoded bytes of the year's transactions, by kind (as submitted: what every
/// node's Raft log carries, before any framing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerBytes {
    /// Anchor transactions.
    pub anchors: u64,
    /// Revocation transactions.
    pub revocations: u64,
    /// Governance transactions (key rotations, the validator change).
    pub governance: u64,
}

impl LedgerBytes {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.anchors + self.revocations + self.governance
    }
}

/// The citizen's copies shown over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Presented {
    /// Copies shown (one per certificate per presentation).
    pub copies: u64,
    /// Of them, copies shown again: the certificate's copies were all spent, and the
    /// idle week has no transaction that could bring new ones.
    pub reused: u64,
}

/// Where the simulation is, told after each day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Days done.
    pub day: u64,
    /// Days in all.
    pub days: u64,
    /// Certificates anchored so far.
    pub certificates: u64,
    /// The ledger's height.
    pub height: u64,
}
