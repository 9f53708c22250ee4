//! Signing keys. Private key bytes leave this table only into the in-memory key ring.

use rusqlite::params;

use super::{Db, Result};

/// A stored signing key.
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub pkcs8: Vec<u8>,
    pub created_at: String,
    /// Replaced by a newer key: still published, no longer signs.
    pub rotated: bool,
    /// No longer published.
    pub retired: bool,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyRow({}, {}, rotated={}, retired={})",
            self.kid, self.alg, self.rotated, self.retired
        )
    }
}

impl Db<'_> {
    /// Every key, newest first.
    pub fn keys(&self) -> Result<Vec<KeyRow>> {
        let mut st = self.conn.prepare(
            "SELECT kid, alg, pkcs8, created_at, rotated_at IS NOT NULL, retired_at IS NOT NULL \
             FROM signing_keys ORDER BY created_at DESC, rowid DESC",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(KeyRow {
                    kid: r.get(0)?,
                    alg: r.get(1)?,
                    pkcs8: r.get(2)?,
                    created_at: r.get(3)?,
                    rotated: r.get(4)?,
                    retired: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Stores a new key of `alg`; the key it replaces stays published but stops signing.
    pub fn insert_key(&self, kid: &str, alg: &str, pkcs8: &[u8], now: &str) -> Result<()> {
        self.transaction(|db| {
            db.conn.execute(
                "UPDATE signing_keys SET rotated_at = ?2 WHERE alg = ?1 AND rotated_at IS NULL",
                params![alg, now],
            )?;
            db.conn.execute(
                "INSERT INTO signing_keys (kid, alg, pkcs8, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![kid, alg, pkcs8, now],
            )?;
            Ok(())
        })
    }

    /// Marks the keys that sign from now on (a server is starting with them).
    pub fn activate_signing_keys(&self, now: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE signing_keys SET activated_at = ?1 \
             WHERE activated_at IS NULL AND rotated_at IS NULL AND retired_at IS NULL",
            [now],
        )?;
        Ok(())
    }

    /// Stops publishing rotated keys whose successor of the same algorithm has been signing since
    /// before `expired_before` (every token they signed has expired). Returns how many.
    pub fn retire_old_keys(&self, now: &str, expired_before: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL AND rotated_at IS NOT NULL \
             AND EXISTS (SELECT 1 FROM signing_keys n WHERE n.alg = signing_keys.alg \
                         AND n.rowid > signing_keys.rowid AND n.activated_at IS NOT NULL \
                         AND n.activated_at <= ?2)",
            params![now, expired_before],
        )?)
    }

    /// The longest lifetime of any token issued (the APIs' and `floor_s`), in seconds.
    pub fn longest_token_lifetime(&self, floor_s: u64) -> Result<u64> {
        let longest: Option<i64> = self.conn.query_row(
            "SELECT max(token_lifetime_s) FROM resource_servers",
            [],
            |r| r.get(0),
        )?;
        Ok(longest.map_or(0, |l| l.max(0) as u64).max(floor_s))
    }
}
