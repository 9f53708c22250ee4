//! Connections (`realm`s): the database connections users belong to.

use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value};

use super::{Db, Result, StoreError, json_object, json_text, new_id};

/// A database connection (`realm`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub strategy: String,
    pub metadata: Map<String, Value>,
    /// Auth0's `connection.options`: Rules see it as `context.connectionOptions`.
    pub options: Map<String, Value>,
}

impl Db<'_> {
    /// The connection called `name`.
    pub fn connection_by_name(&self, name: &str) -> Result<Option<ConnectionRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, name, strategy, metadata, options FROM connections WHERE name = ?1",
            )?
            .query_row([name], |r| {
                Ok(ConnectionRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    strategy: r.get(2)?,
                    metadata: json_object(&r.get::<_, String>(3)?),
                    options: json_object(&r.get::<_, String>(4)?),
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

    /// Replaces the metadata and/or the options of the connection with this id (`None` keeps
    /// the stored one); `false` when there is no such connection.
    pub fn update_connection(
        &self,
        connection_id: &str,
        metadata: Option<&Map<String, Value>>,
        options: Option<&Map<String, Value>>,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE connections SET metadata = COALESCE(?2, metadata), options = COALESCE(?3, options)
             WHERE id = ?1",
            params![
                connection_id,
                metadata.map(json_text),
                options.map(json_text)
            ],
        )?;
        Ok(n > 0)
    }

    /// Every connection, by name.
    pub fn list_connections(&self) -> Result<Vec<ConnectionRow>> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM connections ORDER BY name")?;
        let names: Vec<String> = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut rows = Vec::with_capacity(names.len());
        for name in names {
            rows.extend(self.connection_by_name(&name)?);
        }
        Ok(rows)
    }

    /// How many users belong to the connection with this id.
    pub fn connection_user_count(&self, connection_id: &str) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM users WHERE connection_id = ?1",
            [connection_id],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Deletes the connection with this id and, in the same transaction, its users (and what
    /// hangs off them). `users.connection_id` has no ON DELETE CASCADE, so a caller that must not
    /// lose users checks [`Db::connection_user_count`] first. Returns the users deleted.
    pub fn delete_connection(&self, connection_id: &str) -> Result<u64> {
        self.transaction(|db| {
            let users = db.conn.execute(
                "DELETE FROM users WHERE connection_id = ?1",
                [connection_id],
            )?;
            db.conn
                .execute("DELETE FROM connections WHERE id = ?1", [connection_id])?;
            Ok(users as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use serde_json::json;

    use crate::store::{SCHEMA, SCHEMA_VERSION, Store};

    /// A version-1 database, as a build before `options` left it, with one connection.
    fn version_1_db(path: &std::path::Path) {
        let conn = Connection::open(path).unwrap();
        // schema.sql is version 1 and never edited in place.
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(
            "INSERT INTO connections (id, name, created_at) VALUES ('con_old', 'Old', 'then');
             PRAGMA user_version = 1;",
        )
        .unwrap();
        let has_options = conn.prepare("SELECT options FROM connections").is_ok();
        assert!(!has_options, "the old shape has no options column");
    }

    #[test]
    fn migration_adds_empty_options_to_an_old_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        version_1_db(&path);
        let s = Store::open(&path).unwrap();
        s.call_sync(|db| {
            assert_eq!(db.schema_version()?, SCHEMA_VERSION);
            let old = db.connection_by_name("Old")?.unwrap();
            assert_eq!(old.id, "con_old", "existing rows survive");
            assert_eq!(old.options, serde_json::Map::new());
            Ok(())
        })
        .unwrap();
        drop(s);
        // Opening again does not migrate twice.
        Store::open(&path).unwrap();
    }

    #[test]
    fn connection_options_read_back_and_missing_is_refused() {
        let s = Store::in_memory().unwrap();
        s.call_sync(|db| {
            let name = "Username-Password-Authentication";
            let c = db.ensure_connection(name, "now")?;
            assert_eq!(c.options, serde_json::Map::new());
            let options = json!({"requires_username": true, "passwordPolicy": "good"});
            let options = options.as_object().unwrap();
            assert!(db.update_connection(&c.id, None, Some(options))?);
            let read = db.connection_by_name(name)?.unwrap();
            assert_eq!(&read.options, options);
            assert_eq!(read.metadata, c.metadata, "None keeps the metadata");
            assert!(!db.update_connection("con_missing", None, Some(options))?);
            Ok(())
        })
        .unwrap();
    }
}
