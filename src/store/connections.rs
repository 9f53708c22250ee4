//! Connections (`realm`s): the database connections users belong to.

use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value};

use super::{Db, Result, StoreError, json_object, new_id};

/// A database connection (`realm`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub strategy: String,
    pub metadata: Map<String, Value>,
}

impl Db<'_> {
    /// The connection called `name`.
    pub fn connection_by_name(&self, name: &str) -> Result<Option<ConnectionRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, name, strategy, metadata FROM connections WHERE name = ?1")?
            .query_row([name], |r| {
                Ok(ConnectionRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    strategy: r.get(2)?,
                    metadata: json_object(&r.get::<_, String>(3)?),
                })
            })
            .optional()?)
    }

    /// Creates the database connection `name` unless it exists.
    pub fn ensure_connection(&self, name: &str, now: &str) -> Result<ConnectionRow> {
        if let Some(c) = self.connection_by_name(name)? {
            return Ok(c);
        }
        self.conn.execute(
            "INSERT INTO connections (id, name, strategy, created_at) VALUES (?1, ?2, 'auth0', ?3)",
            params![new_id("con"), name, now],
        )?;
        self.connection_by_name(name)?
            .ok_or_else(|| StoreError::Invalid("connection vanished after insert".into()))
    }
}
