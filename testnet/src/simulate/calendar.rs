//! The simulated calendar: days from a Monday, working days Monday to Friday, office
//! hours, and what happens on a working day (the departments' issuance jobs, the
//! evening's revocations, a key rotation at noon).

use ecert_schemas::UnixTime;
use rand_core::RngCore;

/// Monday 5 January 2026, 00:00 UTC: the simulated year's first day.
pub const YEAR_START: UnixTime = UnixTime(1_767_571_200);
/// One day, in seconds.
pub const DAY: u64 = 86_400;
/// One hour, in seconds.
pub const HOUR: u64 = 3_600;
/// Offices open at 08:00.
const OPEN: u64 = 8 * HOUR;
/// Offices close at 18:00.
const CLOSE: u64 = 18 * HOUR;
/// Each department's issuance job runs every 15 minutes in office hours and anchors the
/// batches signed since its last run, together (one block: they reach the leader within
/// one block interval).
const JOB_EVERY: u64 = 15 * 60;
/// Key rotations are approved and applied at noon.
const ROTATION_AT: u64 = 12 * HOUR;
/// The departments revoke the day's certificates after closing time, one a minute.
const REVOCATIONS_AT: u64 = CLOSE + 5 * 60;
/// Counters sync every morning at 06:00.
pub const COUNTER_SYNC_AT: u64 = 6 * HOUR;

/// Whether `day` (0 = the year's first Monday) is a working day.
pub fn is_working_day(day: u64) -> bool {
    day % 7 < 5
}

/// The weekday's short name.
pub fn weekday(day: u64) -> &'static str {
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .get((day % 7) as usize)
        .copied()
        .unwrap_or("?")
}

/// `secs` seconds into `day`.
pub fn at(day: u64, secs: u64) -> UnixTime {
    YEAR_START.plus(day * DAY + secs)
}

/// What happens at one moment of a working day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// Department `dept` rotates its issuer key (a governance transaction).
    Rotate {
        /// Its index in the province.
        dept: usize,
    },
    /// Department `dept`'s issuance job anchors `batches` batches.
    Anchor {
        /// Its index in the province.
        dept: usize,
        /// How many.
        batches: u64,
    },
    /// Department `dept` revokes its share of the day's revocations.
    Revoke {
        /// Its index in the province.
        dept: usize,
    },
}

/// A working day's events, in time order: `batches` batches spread at random over the
/// issuance jobs of the departments (department `d` gets a batch with probability
/// `weights[d] / sum`), the key rotations of `rotating`, and every department's evening
/// revocation.
pub fn working_day(
    day: u64,
    batches: u64,
    weights: &[u64],
    rotating: &[usize],
    rng: &mut impl RngCore,
) -> Vec<(UnixTime, Event)> {
    let jobs = (CLOSE - OPEN) / JOB_EVERY;
    let total: u64 = weights.iter().sum();
    // batches[job][dept]
    let mut planned = vec![vec![0u64; weights.len()]; jobs as usize];
    for _ in 0..batches {
        let job = rng.next_u64() % jobs;
        let dept = pick(weights, rng.next_u64() % total.max(1));
        if let Some(n) = planned
            .get_mut(job as usize)
            .and_then(|row| row.get_mut(dept))
        {
            *n += 1;
        }
    }
    let mut events = Vec::new();
    for (job, row) in (0u64..).zip(&planned) {
        for (dept, &n) in row.iter().enumerate().filter(|(_, &n)| n > 0) {
            // A second within the job's quarter hour, never on the quarter itself.
            let second = 1 + rng.next_u64() % (JOB_EVERY - 1);
            let time = at(day, OPEN + job * JOB_EVERY + second);
            events.push((time, Event::Anchor { dept, batches: n }));
        }
    }
    for &dept in rotating {
        events.push((at(day, ROTATION_AT), Event::Rotate { dept }));
    }
    for dept in 0..weights.len() {
        let time = at(day, REVOCATIONS_AT + 60 * dept as u64);
        events.push((time, Event::Revoke { dept }));
    }
    events.sort();
    events
}

/// The index whose cumulative weight first exceeds `draw`.
pub fn pick(weights: &[u64], draw: u64) -> usize {
    let mut sum = 0;
    for (i, w) in weights.iter().enumerate() {
        sum += w;
        if draw < sum {
            return i;
        }
    }
    weights.len().saturating_sub(1)
}

/// The time of the issuance of the real certificates on a working day: before the first
/// job runs.
pub fn real_issuance_at(day: u64, dept: usize) -> UnixTime {
    at(day, OPEN - 10 * 60 + dept as u64)
}

/// When a validator-set change is applied: 07:00, after the counters' morning sync and
/// before the offices open.
pub fn validator_change_at(day: u64) -> UnixTime {
    at(day, 7 * HOUR)
}

/// The time of the late issuance of real certificates under rotated keys: mid-afternoon.
pub fn late_issuance_at(day: u64, dept: usize) -> UnixTime {
    at(day, 16 * HOUR + JOB_EVERY / 2 + dept as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn the_year_starts_on_a_monday_and_weekends_are_idle() {
        assert_eq!(weekday(0), "Mon");
        assert!(is_working_day(4) && !is_working_day(5) && !is_working_day(6));
        assert_eq!((0..365).filter(|&d| is_working_day(d)).count(), 261);
    }

    #[test]
    fn a_day_holds_every_batch_in_office_hours_in_time_order() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let events = working_day(2, 383, &[10, 45, 25, 20], &[1], &mut rng);
        let batches: u64 = events
            .iter()
            .map(|(_, e)| match e {
                Event::Anchor { batches, .. } => *batches,
                _ => 0,
            })
            .sum();
        assert_eq!(batches, 383);
        assert!(events.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(events
            .iter()
            .all(|(t, _)| *t >= at(2, OPEN) && *t < at(3, 0)));
        assert_eq!(pick(&[1, 2], 0), 0);
        assert_eq!(pick(&[1, 2], 2), 1);
    }
}
