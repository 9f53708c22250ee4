//! Clients (applications) and how they authenticate.

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
}
