//! A province's year, simulated in process: the real ledger state machine, certification
//! and verifier, with a simulated clock and no network (`ecert-testnet simulate`).
//!
//! The ledger sees only batches: every anchor transaction is a real `AnchorBatch` signed
//! by the department's current issuer key, over a random root (the root of certificates
//! the simulation does not keep; the ledger cannot tell) with the batch's count. Batches
//! are anchored by each department's issuance job every quarter hour of office hours on
//! working days (one block per job run), the departments revoke a share of their
//! certificates every working evening, and each department rotates its issuer key once
//! through governance approved by three of the four validators. A citizen holds a few real
//! certificates, issued along the way (some under keys rotated since), which a counter
//! verifies at the end of the year and through an idle week after it.
//!
//! Measured on the way: what a node stores ([`storage`]), a counter's daily incremental
//! sync, and at the year's end the full bundle, the time to check it, and the time to
//! apply a block. Validator-set changes are not implemented by the ledger, so none is
//! simulated.

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

use crate::TestnetError;

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
        }
    }

    /// Checks the options make a simulation: some certificates, batches, at least one
    /// working day, a share of revocations between 0 and 50 %.
    pub fn check(&self) -> Result<(), TestnetError> {
        let bad = |detail: &str| Err(TestnetError::local("simulation options", detail));
        if self.certificates == 0 || self.batch_size == 0 {
            return bad("certificates and batch size must be at least 1");
        }
        if self.batch_size > 1 << 20 {
            return bad("a batch holds at most 1,048,576 certificates");
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
        Ok(())
    }

    /// How many certificates are revoked over the year.
    pub fn revocations(&self) -> u64 {
        (self.certificates as f64 * self.revoked_percent / 100.0).round() as u64
    }

    /// How many batches are anchored over the year.
    pub fn batches(&self) -> u64 {
        self.certificates.div_ceil(self.batch_size)
    }
}

/// A counter's morning sync of the previous day's changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaySync {
    /// The morning it ran (0 = the year's first day); it carries the changes since the
    /// previous one (the previous working day's).
    pub day: u64,
    /// Anchor-log records in the update.
    pub batches: u64,
    /// Revocations in the update.
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
    /// Revoked certificates in it.
    pub bundle_revoked: u64,
    /// Decoding it (`TrustBundle::from_bytes`).
    pub bundle_decode: Duration,
    /// Checking it (`TrustStore::from_bundle`): a counter's full sync.
    pub full_sync_check: Duration,
    /// `apply_block` of one anchor transaction on the year-end state (median of 5).
    pub anchor_block: Duration,
    /// `apply_block` of one revocation of [`YEAR_END_REVOCATIONS`] indexes in the
    /// largest list (median of 5).
    pub revocation_block: Duration,
    /// The largest list's revoked indexes before that block.
    pub largest_list: u64,
}

/// Indexes in the year-end revocation block.
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
    /// Certificates revoked.
    pub revoked: u64,
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
    /// The idle week.
    pub idle: IdleWeek,
    /// The simulation's running time (measurements included).
    pub elapsed: Duration,
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
