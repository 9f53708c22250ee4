//! The only reader of wall time. Tests fix it so that `iat` and `exp` can be compared exactly.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall time, injectable: `system()` in production, `fixed(..)` in tests.
#[derive(Debug, Clone)]
pub struct Clock {
    fixed_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed_ms: None }
    }

    /// A clock stopped at `ms` milliseconds since the epoch; [`Clock::advance`] moves it.
    pub fn fixed(ms: i64) -> Self {
        Self {
            fixed_ms: Some(Arc::new(AtomicI64::new(ms))),
        }
    }

    /// Moves a fixed clock forward (no effect on the system clock).
    pub fn advance(&self, ms: i64) {
        if let Some(f) = &self.fixed_ms {
            f.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// Milliseconds since the Unix epoch.
    #[allow(clippy::disallowed_methods)]
    pub fn now_ms(&self) -> i64 {
        match &self.fixed_ms {
            Some(f) => f.load(Ordering::Relaxed),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        }
    }

    /// Seconds since the Unix epoch (JWT `iat`).
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// RFC 3339 with milliseconds, UTC, as Auth0 writes `created_at` and `last_login`.
    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now_ms())
    }
}

/// Formats milliseconds since the epoch as `2026-11-26T08:21:34.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Milliseconds since the epoch of an RFC 3339 time (as [`rfc3339`] writes them).
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_formats_and_advances() {
        let c = Clock::fixed(1_700_000_000_123);
        assert_eq!(c.now_rfc3339(), "2023-11-14T22:13:20.123Z");
        c.advance(1000);
        assert_eq!(c.now_secs(), 1_700_000_001);
    }

    #[test]
    fn iso_timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_434_454_643_024), "2015-06-16T11:37:23.024Z");
        assert_eq!(
            parse_rfc3339_ms("2015-06-16T11:37:23.024Z"),
            Some(1_434_454_643_024)
        );
    }
}
