//! The idle week after the year: no transaction, so no block; every validator states every
//! period that the newest certified header is still the newest (a node's
//! `FreshnessPool`, time passed in), and two counters check a real presentation every hour
//! (the same code, made that hour with the next copies): one takes the validators'
//! freshness at its morning sync, the other never does.

use ecert_ledger_node::freshness_pool::{FreshHeader, FreshnessPool};
use ecert_schemas::freshness::FreshnessStatement;
use ecert_schemas::{KindRegistry, UnixTime};
use ecert_verifier::freshness::sign_statement;
use ecert_verifier::TrustStore;
use ed25519_dalek::SigningKey;

use super::calendar::{COUNTER_SYNC_AT, DAY, HOUR, YEAR_START};
use super::citizen::{verify, Citizen};
use crate::TestnetError;

/// The nodes' default freshness period (`ecert-node run --freshness-period`).
pub const FRESHNESS_PERIOD_SECS: u64 = 120;

/// One counter's hourly checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checks {
    /// Checks made.
    pub checks: u64,
    /// Checks that verified.
    pub verified: u64,
    /// The first refusal: hours after the last block, and the reason's code.
    pub first_refusal: Option<(u64, &'static str)>,
}

impl Checks {
    fn record(&mut self, hour: u64, outcome: Result<(), ecert_verifier::VerifyError>) {
        self.checks += 1;
        match outcome {
            Ok(()) => self.verified += 1,
            Err(e) => {
                if self.first_refusal.is_none() {
                    self.first_refusal = Some((hour, e.code()));
                }
            }
        }
    }
}

/// What the idle week showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdleWeek {
    /// Simulated days.
    pub days: u64,
    /// Freshness statements signed (every validator, every period).
    pub statements: u64,
    /// Morning freshness syncs of the first counter.
    pub syncs: u64,
    /// The counter that takes freshness every morning.
    pub with_freshness: Checks,
    /// The counter that never does.
    pub without_freshness: Checks,
}

/// What happens next in the idle week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Moment {
    /// Validators state (first at any given time: a sync then sees the new statements).
    State,
    /// The first counter syncs freshness.
    Sync,
    /// Both counters check the presentation (hours after the last block).
    Check(u64),
}

/// Runs `days` idle days after the last block (at `last_block`): `validator_keys` state
/// freshness every [`FRESHNESS_PERIOD_SECS`] into a validator's pool (statements older
/// than three periods not served, as on a node); `synced` is a counter's store synced to
/// the last header, from which both counters start; each hour the citizen presents its
/// certificates `shown` (positions in its wallet) once and shows the code to both.
pub fn idle_week(
    synced: &TrustStore,
    validator_keys: &[SigningKey],
    citizen: &mut Citizen,
    shown: &[usize],
    kinds: &KindRegistry,
    last_block: UnixTime,
    days: u64,
) -> Result<IdleWeek, TestnetError> {
    let header = FreshHeader {
        height: synced.header().height,
        hash: synced.header_hash(),
    };
    // The pool of the first validator's node, which serves what every validator states.
    let me = validator_keys
        .first()
        .map(ecert_verifier::crypto::public_key)
        .ok_or_else(|| TestnetError::local("freshness", "no validator"))?;
    let mut pool = FreshnessPool::new(
        synced.chain_id().clone(),
        me,
        3 * FRESHNESS_PERIOD_SECS * 1000,
    );
    pool.advance(header, synced.validators(), true);
    let mut fresh = synced.clone();
    let stale = synced.clone();
    let start = last_block.secs();
    let end = start + days * DAY;

    let mut moments = Vec::new();
    let mut t = start;
    while t <= end {
        moments.push((t, Moment::State));
        t += FRESHNESS_PERIOD_SECS;
    }
    // Mornings at 06:00 from the day after the last block on.
    let first_day = (start - YEAR_START.secs()) / DAY + 1;
    for day in first_day.. {
        let t = YEAR_START.secs() + day * DAY + COUNTER_SYNC_AT;
        if t > end {
            break;
        }
        moments.push((t, Moment::Sync));
    }
    for hour in 1..=days * 24 {
        moments.push((start + hour * HOUR, Moment::Check(hour)));
    }
    moments.sort();

    let mut week = IdleWeek {
        days,
        ..IdleWeek::default()
    };
    for (t, moment) in moments {
        let now = UnixTime(t);
        let now_ms = t * 1000;
        match moment {
            Moment::State => {
                for (i, key) in (0u16..).zip(validator_keys) {
                    let statement = FreshnessStatement {
                        chain_id: synced.chain_id().clone(),
                        height: header.height,
                        header_hash: header.hash,
                        time_ms: now_ms,
                    };
                    let vote = sign_statement(key, i, &statement)?;
                    pool.on_statement(header, vote);
                    week.statements += 1;
                }
            }
            Moment::Sync => {
                let served = pool
                    .freshness(now_ms)
                    .ok_or_else(|| TestnetError::local("freshness", "nothing certified"))?;
                fresh.apply_freshness(&served)?;
                week.syncs += 1;
            }
            Moment::Check(hour) => {
                let qr = citizen.present(kinds, shown, now)?;
                week.with_freshness.record(hour, verify(&qr, &fresh, now));
                week.without_freshness
                    .record(hour, verify(&qr, &stale, now));
            }
        }
    }
    Ok(week)
}
