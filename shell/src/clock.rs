//! The clock, read only at the tools' edges and passed into the core.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecert_schemas::UnixTime;
use thiserror::Error;

/// The system clock is set before 1970.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the system clock is set before 1970: set the date and time of this computer")]
pub struct ClockError;

/// The time since the Unix epoch.
pub fn since_epoch() -> Result<Duration, ClockError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| ClockError)
}

/// The current time in whole seconds.
pub fn now() -> Result<UnixTime, ClockError> {
    since_epoch().map(|d| UnixTime(d.as_secs()))
}

/// The current time in milliseconds.
pub fn now_ms() -> Result<u64, ClockError> {
    since_epoch().map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_after_2025() {
        assert!(now().unwrap().0 > 1_735_689_600);
        assert!(now_ms().unwrap() / 1000 >= now().unwrap().0 - 1);
    }
}
