//! Brute-force protection: consecutive login failures per login name, connection and IP.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result};

/// Whether a password check may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Allowed,
    /// Allowed, and the block starts now unless this very attempt succeeds.
    Last,
    /// Blocked: answer without verifying anything.
    Blocked,
}

impl Db<'_> {
    /// Reserves one password check for `login` from `ip` before it runs, so that however many
    /// attempts arrive at once, at most `threshold` are ever verified in one block window: every
    /// reserved attempt counts as a failure until a success resets the count, and the one that
    /// reaches `threshold` starts the block (lifted by its own success). An expired block starts
    /// the count again. RFC 3339 strings compare in time order.
    pub fn reserve_login_attempt(
        &self,
        connection_id: &str,
        login: &str,
        ip: &str,
        now: &str,
        threshold: u32,
        blocked_until: &str,
    ) -> Result<Attempt> {
        self.transaction(|db| {
            let row: Option<(i64, Option<String>)> = db
                .conn
                .prepare_cached(
                    "SELECT count, blocked_until FROM login_failures \
                     WHERE connection_id = ?1 AND login = lower(?2) AND ip = ?3",
                )?
                .query_row(params![connection_id, login, ip], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let count = match row {
                Some((_, Some(until))) if until.as_str() > now => return Ok(Attempt::Blocked),
                Some((_, Some(_))) | None => 0, // an expired block starts the count again
                Some((count, None)) if count >= i64::from(threshold) => {
                    return Ok(Attempt::Blocked); // the threshold was lowered meanwhile
                }
                Some((count, None)) => count,
            };
            let count = count + 1;
            let last = count >= i64::from(threshold);
            db.conn
                .prepare_cached(
                    "INSERT INTO login_failures (connection_id, login, ip, count, last_failure, blocked_until) \
                     VALUES (?1, lower(?2), ?3, ?4, ?5, ?6) \
                     ON CONFLICT (connection_id, login, ip) DO UPDATE SET \
                       count = excluded.count, last_failure = excluded.last_failure, \
                       blocked_until = excluded.blocked_until",
                )?
                .execute(params![
                    connection_id,
                    login,
                    ip,
                    count,
                    now,
                    last.then_some(blocked_until)
                ])?;
            Ok(if last { Attempt::Last } else { Attempt::Allowed })
        })
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
