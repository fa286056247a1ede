//! Wall-clock helpers: one clock (the system's, in Unix time) and the one
//! date format the API speaks (RFC 3339, UTC, milliseconds), by the `time`
//! crate.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// Milliseconds in a UTC day: days are the unit of usage rollups.
pub const DAY_MS: u64 = 86_400_000;

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `2026-11-27T10:57:19.123Z` for a Unix time in milliseconds (the epoch
/// for an instant past the calendar `time` supports).
pub fn rfc3339_millis(ms: u64) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    i128::from(ms)
        .checked_mul(1_000_000)
        .and_then(|ns| OffsetDateTime::from_unix_timestamp_nanos(ns).ok())
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Unix milliseconds from `1795777039123`, `2026-11-27` (midnight UTC), or
/// RFC 3339 (`2026-11-27T10:57:19Z`, `…19.123+02:00`; digits past the
/// millisecond are dropped). `None` if malformed or before 1970.
pub fn parse_time(s: &str) -> Option<u64> {
    if !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let instant = if s.len() == 10 {
        let date = Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
        PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc()
    } else {
        OffsetDateTime::parse(s, &Rfc3339).ok()?
    };
    let ms = instant.unix_timestamp_nanos().div_euclid(1_000_000);
    u64::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_795_777_039_123),
            "2026-11-27T10:57:19.123Z"
        );
    }

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("0"), Some(0));
        assert_eq!(parse_time("1795777039123"), Some(1_795_777_039_123));
        assert_eq!(
            parse_time("2026-11-27T10:57:19.123Z"),
            Some(1_795_777_039_123)
        );
        assert_eq!(parse_time("2026-11-27T10:57:19Z"), Some(1_795_777_039_000));
        assert_eq!(
            parse_time("2026-11-27T12:57:19.1234+02:00"),
            Some(1_795_777_039_123)
        );
        assert_eq!(parse_time("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        for bad in [
            "",
            "-5",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-11-27T25:00:00Z",
            "2026-11-27T10:57:19",
            "2026-11-27T10:57:19.Z",
            "1969-12-31T23:59:59Z",
            "2026-11-27T10:57:19+0200",
            "１２３",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
        // Formatting and parsing agree.
        let t = 1_795_777_039_123;
        assert_eq!(parse_time(&rfc3339_millis(t)), Some(t));
    }
}
