//! Calendar dates (`YYYY-MM-DD`, proleptic Gregorian) without a clock or time-zone database.

/// A calendar date, as used by date fields (birth date, first issue date, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, 1 to 9999.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (RFC 3339 full-date) and checks the day exists.
    pub fn parse(text: &str) -> Result<Date, String> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 10
            && b.get(4) == Some(&b'-')
            && b.get(7) == Some(&b'-')
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(format!("{text:?} is not a date of the form YYYY-MM-DD"));
        }
        let num = |r: core::ops::Range<usize>| -> u16 {
            text.get(r).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0)
        };
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        if year == 0 || !(1..=12).contains(&month) {
            return Err(format!("{text:?} is not a valid date"));
        }
        let month = month as u8;
        if day == 0 || day > u16::from(days_in_month(year, month)) {
            return Err(format!("{text:?} is not a valid date"));
        }
        Ok(Date {
            year,
            month,
            day: day as u8,
        })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, self.day)
    }
}

impl core::fmt::Display for Date {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Splits seconds since the epoch into (year, month, day, hour, minute, second) in UTC.
pub fn civil_from_unix(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

/// The calendar date (UTC) of a point in time.
pub fn date_of_unix(secs: u64) -> Date {
    let (y, m, d, ..) = civil_from_unix(secs);
    Date {
        year: y.clamp(1, 9999) as u16,
        month: m as u8,
        day: d as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            Date::parse("2024-02-29").unwrap(),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "20240101",
            "0000-01-01",
            "2024-04-31",
            "２０２４-01-01",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn epoch_conversions() {
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        assert_eq!(
            Date::parse("2000-03-01").unwrap().days_since_epoch(),
            11_017
        );
        assert_eq!(civil_from_unix(951_868_800), (2000, 3, 1, 0, 0, 0));
        assert_eq!(civil_from_unix(1_700_000_000), (2023, 11, 14, 22, 13, 20));
    }

    proptest! {
        #[test]
        fn date_round_trip(days in 0u64..2_900_000) {
            let d = date_of_unix(days * 86_400);
            prop_assert_eq!(d.days_since_epoch(), days as i64);
            prop_assert_eq!(Date::parse(&d.to_string()).unwrap(), d);
        }
    }
}
