//! Connections, clients (applications) and APIs (resource servers with their scopes).

use rusqlite::{OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::{Db, Result, StoreError, json_object, json_text, new_id};

/// A database connection (`realm`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub strategy: String,
    pub metadata: Map<String, Value>,
}

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
}

/// An API: the `audience` of access tokens.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Api {
    pub id: String,
    pub identifier: String,
    pub name: String,
    pub token_lifetime_s: u64,
    pub signing_alg: String,
    pub rbac_enabled: bool,
    pub permissions_in_token: bool,
    pub allow_offline_access: bool,
    pub scopes: Vec<String>,
}

/// An API to create.
#[derive(Debug, Clone)]
pub struct NewApi {
    pub identifier: String,
    pub name: String,
    pub token_lifetime_s: u64,
    pub signing_alg: String,
    pub rbac_enabled: bool,
    pub permissions_in_token: bool,
    pub allow_offline_access: bool,
    pub scopes: Vec<String>,
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
    })
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

    /// The client with this id.
    pub fn client(&self, client_id: &str) -> Result<Option<Client>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT client_id, name, secret_hash, app_type, grant_types, metadata, auth_method \
                 FROM clients WHERE client_id = ?1",
            )?
            .query_row([client_id], client_from_row)
            .optional()?)
    }

    /// Creates a client.
    pub fn insert_client(&self, c: &NewClient, now: &str) -> Result<Client> {
        self.conn.execute(
            "INSERT INTO clients (client_id, name, secret_hash, app_type, grant_types, metadata, auth_method, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                c.client_id,
                c.name,
                c.secret_hash,
                c.app_type,
                json_text(&c.grant_types),
                json_text(&c.metadata),
                c.auth_method.as_str(),
                now
            ],
        )?;
        self.client(&c.client_id)?
            .ok_or_else(|| StoreError::Invalid("client vanished after insert".into()))
    }

    /// Replaces a client's secret hash.
    pub fn set_client_secret(&self, client_id: &str, secret_hash: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE clients SET secret_hash = ?2 WHERE client_id = ?1",
            params![client_id, secret_hash],
        )?;
        Ok(())
    }

    /// The API whose identifier is `audience`, with its scopes.
    pub fn api(&self, audience: &str) -> Result<Option<Api>> {
        let api = self
            .conn
            .prepare_cached(
                "SELECT id, identifier, name, token_lifetime_s, signing_alg, rbac_enabled, \
                 permissions_in_token, allow_offline_access FROM resource_servers WHERE identifier = ?1",
            )?
            .query_row([audience], |r| {
                Ok(Api {
                    id: r.get(0)?,
                    identifier: r.get(1)?,
                    name: r.get(2)?,
                    token_lifetime_s: r.get::<_, i64>(3)?.max(1) as u64,
                    signing_alg: r.get(4)?,
                    rbac_enabled: r.get(5)?,
                    permissions_in_token: r.get(6)?,
                    allow_offline_access: r.get(7)?,
                    scopes: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut api) = api else { return Ok(None) };
        let mut st = self.conn.prepare_cached(
            "SELECT value FROM scopes WHERE resource_server_id = ?1 ORDER BY value",
        )?;
        api.scopes = st
            .query_map([&api.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(api))
    }

    /// Creates an API and its scopes.
    pub fn insert_api(&self, a: &NewApi, now: &str) -> Result<Api> {
        self.transaction(|db| {
            let id = new_id("rs");
            db.conn.execute(
                "INSERT INTO resource_servers (id, identifier, name, token_lifetime_s, signing_alg, \
                 rbac_enabled, permissions_in_token, allow_offline_access, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    a.identifier,
                    a.name,
                    a.token_lifetime_s as i64,
                    a.signing_alg,
                    a.rbac_enabled,
                    a.permissions_in_token,
                    a.allow_offline_access,
                    now
                ],
            )?;
            for s in &a.scopes {
                db.conn.execute(
                    "INSERT OR IGNORE INTO scopes (resource_server_id, value) VALUES (?1, ?2)",
                    params![id, s],
                )?;
            }
            db.api(&a.identifier)?
                .ok_or_else(|| StoreError::Invalid("api vanished after insert".into()))
        })
    }
}
