//! Brute-force protection: consecutive login failures per login name, connection and IP.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result};

impl Db<'_> {
    /// Whether `login` from `ip` is blocked at `now` (RFC 3339 strings compare in time order).
    pub fn is_login_blocked(
        &self,
        connection_id: &str,
        login: &str,
        ip: &str,
        now: &str,
    ) -> Result<bool> {
        let until: Option<Option<String>> = self
            .conn
            .prepare_cached(
                "SELECT blocked_until FROM login_failures WHERE connection_id = ?1 AND login = lower(?2) AND ip = ?3",
            )?
            .query_row(params![connection_id, login, ip], |r| r.get(0))
            .optional()?;
        Ok(until.flatten().is_some_and(|u| u.as_str() > now))
    }

    /// Counts a failure; at `threshold` consecutive failures the name is blocked from this IP
    /// until `blocked_until`. Returns whether it is now blocked.
    pub fn record_login_failure(
        &self,
        connection_id: &str,
        login: &str,
        ip: &str,
        now: &str,
        threshold: u32,
        blocked_until: &str,
    ) -> Result<bool> {
        let count: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO login_failures (connection_id, login, ip, count, last_failure) \
                 VALUES (?1, lower(?2), ?3, 1, ?4) \
                 ON CONFLICT (connection_id, login, ip) DO UPDATE SET \
                   count = CASE WHEN blocked_until IS NOT NULL AND blocked_until <= ?4 THEN 1 ELSE count + 1 END, \
                   blocked_until = CASE WHEN blocked_until IS NOT NULL AND blocked_until <= ?4 THEN NULL ELSE blocked_until END, \
                   last_failure = ?4 \
                 RETURNING count",
            )?
            .query_row(params![connection_id, login, ip, now], |r| r.get(0))?;
        if threshold > 0 && count >= i64::from(threshold) {
            self.conn
                .prepare_cached(
                    "UPDATE login_failures SET blocked_until = ?4 \
                     WHERE connection_id = ?1 AND login = lower(?2) AND ip = ?3",
                )?
                .execute(params![connection_id, login, ip, blocked_until])?;
            return Ok(true);
        }
        Ok(false)
    }

    /// A success resets the count for this name and IP.
    pub fn clear_login_failures(&self, connection_id: &str, login: &str, ip: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "DELETE FROM login_failures WHERE connection_id = ?1 AND login = lower(?2) AND ip = ?3",
            )?
            .execute(params![connection_id, login, ip])?;
        Ok(())
    }

    /// An admin unblock: forgets every failure of the user's email and username, from any IP.
    pub fn clear_user_failures(&self, user_id: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM login_failures WHERE EXISTS (SELECT 1 FROM users u WHERE u.user_id = ?1 \
             AND u.connection_id = login_failures.connection_id \
             AND (lower(u.email) = login_failures.login OR lower(u.username) = login_failures.login))",
            [user_id],
        )?)
    }
}
