//! Clients (applications): how they authenticate, whether their `auth0-forwarded-for` header is
//! trusted, and the connections enabled for them (Auth0's "enabled connections").

use rusqlite::{OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::{Db, Result, StoreError, json_object, json_text};

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    ClientSecretPost,
    ClientSecretBasic,
    None,
}

impl ClientAuth {
    fn parse(s: &str) -> ClientAuth {
        match s {
            "client_secret_basic" => ClientAuth::ClientSecretBasic,
            "none" => ClientAuth::None,
            _ => ClientAuth::ClientSecretPost,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ClientAuth::ClientSecretPost => "client_secret_post",
            ClientAuth::ClientSecretBasic => "client_secret_basic",
            ClientAuth::None => "none",
        }
    }
}

/// An application.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: Option<String>,
    pub app_type: String,
    pub grant_types: Vec<String>,
    pub metadata: Map<String, Value>,
    pub auth_method: ClientAuth,
    /// Auth0's "Trust Token Endpoint IP Header": its `auth0-forwarded-for` header is the end
    /// user's IP. Only ever true for a confidential client.
    pub trusted_forwarded_for: bool,
}

/// A client to create; `secret_hash` is `None` for a public client.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub app_type: String,
    pub grant_types: Vec<String>,
    pub metadata: Map<String, Value>,
    pub auth_method: ClientAuth,
    /// See [`Client::trusted_forwarded_for`]; refused for a public client.
    pub trusted_forwarded_for: bool,
    /// The names of the connections enabled for it from the start (each must exist).
    pub connections: Vec<String>,
}

fn client_from_row(r: &Row<'_>) -> rusqlite::Result<Client> {
    Ok(Client {
        client_id: r.get(0)?,
        name: r.get(1)?,
        secret_hash: r.get(2)?,
        app_type: r.get(3)?,
        grant_types: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        metadata: json_object(&r.get::<_, String>(5)?),
        auth_method: ClientAuth::parse(&r.get::<_, String>(6)?),
        trusted_forwarded_for: r.get(7)?,
    })
}
impl Db<'_> {
    /// The client with this id.
    pub fn client(&self, client_id: &str) -> Result<Option<Client>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT client_id, name, secret_hash, app_type, grant_types, metadata, auth_method, \
                 trusted_forwarded_for FROM clients WHERE client_id = ?1",
            )?
            .query_row([client_id], client_from_row)
            .optional()?)
    }

    /// Creates a client with its enabled connections, in one transaction.
    pub fn insert_client(&self, c: &NewClient, now: &str) -> Result<Client> {
        if c.trusted_forwarded_for && c.secret_hash.is_none() {
            return Err(public_not_trusted());
        }
        self.transaction(|db| {
            db.conn.execute(
                "INSERT INTO clients (client_id, name, secret_hash, app_type, grant_types, metadata, \
                 auth_method, trusted_forwarded_for, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    c.client_id,
                    c.name,
                    c.secret_hash,
                    c.app_type,
                    json_text(&c.grant_types),
                    json_text(&c.metadata),
                    c.auth_method.as_str(),
                    c.trusted_forwarded_for,
                    now
                ],
            )?;
            for name in &c.connections {
                db.enable_connection(&c.client_id, name)?;
            }
            db.client(&c.client_id)?
                .ok_or_else(|| StoreError::Invalid("client vanished after insert".into()))
        })
    }

    /// Trusts (or stops trusting) the client's `auth0-forwarded-for` header; a public client may
    /// not be trusted, as in Auth0 ("not available for non-authenticated applications"). `false`
    /// when there is no such client.
    pub fn set_trusted_forwarded_for(&self, client_id: &str, trusted: bool) -> Result<bool> {
        let Some(client) = self.client(client_id)? else {
            return Ok(false);
        };
        if trusted && client.secret_hash.is_none() {
            return Err(public_not_trusted());
        }
        self.conn.execute(
            "UPDATE clients SET trusted_forwarded_for = ?2 WHERE client_id = ?1",
            params![client_id, trusted],
        )?;
        Ok(true)
    }

    /// Enables the connection called `name` for the client (again is a no-op).
    pub fn enable_connection(&self, client_id: &str, name: &str) -> Result<()> {
        let (client, connection) = self.client_and_connection(client_id, name)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO client_connections (client_id, connection_id) VALUES (?1, ?2)",
            params![client, connection],
        )?;
        Ok(())
    }

    /// Disables the connection called `name` for the client; `false` when it was not enabled.
    pub fn disable_connection(&self, client_id: &str, name: &str) -> Result<bool> {
        let (client, connection) = self.client_and_connection(client_id, name)?;
        let n = self.conn.execute(
            "DELETE FROM client_connections WHERE client_id = ?1 AND connection_id = ?2",
            params![client, connection],
        )?;
        Ok(n > 0)
    }

    /// Whether the connection with this id is enabled for the client.
    pub fn is_connection_enabled(&self, client_id: &str, connection_id: &str) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM client_connections WHERE client_id = ?1 AND connection_id = ?2",
            params![client_id, connection_id],
        )
    }

    /// The names of the connections enabled for the client, sorted.
    pub fn client_connections(&self, client_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT co.name FROM client_connections cc JOIN connections co ON co.id = cc.connection_id \
             WHERE cc.client_id = ?1 ORDER BY co.name",
        )?;
        let names = stmt.query_map([client_id], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// The client's id and the id of the connection called `name`, both of which must exist.
    fn client_and_connection(&self, client_id: &str, name: &str) -> Result<(String, String)> {
        if self.client(client_id)?.is_none() {
            return Err(StoreError::Invalid(format!("no client {client_id}")));
        }
        let connection = self
            .connection_by_name(name)?
            .ok_or_else(|| StoreError::Invalid(format!("unknown connection {name}")))?;
        Ok((client_id.to_owned(), connection.id))
    }

    /// Replaces a client's secret hash.
    pub fn set_client_secret(&self, client_id: &str, secret_hash: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE clients SET secret_hash = ?2 WHERE client_id = ?1",
            params![client_id, secret_hash],
        )?;
        Ok(())
    }
}

impl Db<'_> {
    /// Every client, by name.
    pub fn list_clients(&self) -> Result<Vec<Client>> {
        let mut st = self.conn.prepare(
            "SELECT client_id, name, secret_hash, app_type, grant_types, metadata, auth_method, \
             trusted_forwarded_for FROM clients ORDER BY name, client_id",
        )?;
        let rows = st.query_map([], client_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes a client; its grants, enabled connections and refresh tokens go with it (ON
    /// DELETE CASCADE). `false` when there is no such client.
    pub fn delete_client(&self, client_id: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM clients WHERE client_id = ?1", [client_id])?;
        Ok(n == 1)
    }
}

fn public_not_trusted() -> StoreError {
    StoreError::Invalid(
        "only a confidential client (one with a secret) may have its auth0-forwarded-for trusted"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::store::{MIGRATIONS, SCHEMA, SCHEMA_VERSION, Store};

    fn new_client(id: &str, secret: bool, connections: &[&str]) -> NewClient {
        NewClient {
            client_id: id.into(),
            name: id.into(),
            secret_hash: secret.then(|| "sha256:x".into()),
            app_type: "non_interactive".into(),
            grant_types: vec!["password".into()],
            metadata: Map::new(),
            auth_method: ClientAuth::ClientSecretPost,
            trusted_forwarded_for: false,
            connections: connections.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn migration_3_enables_every_existing_connection_for_every_existing_client() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        {
            // A version-2 database, as the build before migration 3 left it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(MIGRATIONS[0].1).unwrap();
            conn.execute_batch(
                "INSERT INTO connections (id, name, created_at) VALUES ('con_a', 'A', 't'), ('con_b', 'B', 't');
                 INSERT INTO clients (client_id, name, secret_hash, created_at) VALUES ('web', 'web', 'sha256:x', 't'), ('spa', 'spa', NULL, 't');
                 PRAGMA user_version = 2;",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        s.call_sync(|db| {
            assert_eq!(db.schema_version()?, SCHEMA_VERSION);
            for id in ["web", "spa"] {
                assert_eq!(db.client_connections(id)?, ["A", "B"], "{id}");
                assert!(!db.client(id)?.unwrap().trusted_forwarded_for);
            }
            // A connection made after the migration is enabled for no one until asked.
            db.ensure_connection("C", "t")?;
            assert!(!db.is_connection_enabled("web", &db.connection_by_name("C")?.unwrap().id)?);
            Ok(())
        })
        .unwrap();
        drop(s);
        Store::open(&path).unwrap();
    }

    #[test]
    fn enabled_connections_and_trust_are_kept_per_client() {
        let s = Store::in_memory().unwrap();
        s.call_sync(|db| {
            let a = db.ensure_connection("A", "t")?;
            db.ensure_connection("B", "t")?;
            db.insert_client(&new_client("web", true, &["A"]), "t")?;
            assert_eq!(db.client_connections("web")?, ["A"]);
            assert!(db.is_connection_enabled("web", &a.id)?);
            db.enable_connection("web", "B")?;
            db.enable_connection("web", "B")?;
            assert_eq!(db.client_connections("web")?, ["A", "B"]);
            assert!(db.disable_connection("web", "A")?);
            assert!(!db.disable_connection("web", "A")?);
            assert!(!db.is_connection_enabled("web", &a.id)?);
            assert!(matches!(
                db.enable_connection("web", "Z"),
                Err(StoreError::Invalid(_))
            ));
            assert!(matches!(
                db.enable_connection("nope", "A"),
                Err(StoreError::Invalid(_))
            ));
            // An unknown connection fails the whole insert.
            assert!(
                db.insert_client(&new_client("half", true, &["Z"]), "t")
                    .is_err()
            );
            assert!(db.client("half")?.is_none());

            assert!(db.set_trusted_forwarded_for("web", true)?);
            assert!(db.client("web")?.unwrap().trusted_forwarded_for);
            assert!(!db.set_trusted_forwarded_for("nope", true)?);
            db.insert_client(&new_client("spa", false, &[]), "t")?;
            assert!(matches!(
                db.set_trusted_forwarded_for("spa", true),
                Err(StoreError::Invalid(_))
            ));
            let trusted_public = NewClient {
                trusted_forwarded_for: true,
                ..new_client("spa2", false, &[])
            };
            assert!(matches!(
                db.insert_client(&trusted_public, "t"),
                Err(StoreError::Invalid(_))
            ));
            Ok(())
        })
        .unwrap();
    }
}
