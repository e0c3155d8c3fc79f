//! Timestamps as the service stores them: UTC, whole microseconds.
//!
//! PostgreSQL (`timestamptz`) and MariaDB (`datetime(6)`) keep microseconds
//! (PostgreSQL rounds finer input, MariaDB truncates it), and SQLite keeps
//! whatever text it is given. Truncating every timestamp to microseconds
//! before it is written makes the three store, return and compare the same
//! values.

use chrono::{DateTime, SubsecRound, Utc};

/// Fractional-second digits of every stored timestamp.
pub const PRECISION: u16 = 6;

/// The current time at the stored precision.
pub fn now() -> DateTime<Utc> {
    stored(Utc::now())
}

/// `t` truncated to the stored precision.
pub fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(PRECISION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_to_microseconds() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(stored(t).to_rfc3339(), "2026-01-02T03:04:05.123456+00:00");
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
