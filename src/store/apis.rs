//! APIs (resource servers, the `audience` of access tokens) and their scopes.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result, StoreError, new_id};

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

/// Changes to an API: `None` keeps a setting.
#[derive(Debug, Clone, Default)]
pub struct ApiPatch {
    pub name: Option<String>,
    pub token_lifetime_s: Option<u64>,
    pub signing_alg: Option<String>,
    pub rbac_enabled: Option<bool>,
    pub permissions_in_token: Option<bool>,
    pub allow_offline_access: Option<bool>,
    pub add_scopes: Vec<String>,
    /// Removing a scope also removes it from the roles and users that were granted it (ON
    /// DELETE CASCADE).
    pub remove_scopes: Vec<String>,
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

impl Db<'_> {
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

    /// Registers the Management API (`<issuer>api/v2/`) with `scopes` when it is missing, and adds
    /// any of `scopes` it lacks (a newer build may check more).
    pub fn ensure_management_api(&self, audience: &str, scopes: &[&str], now: &str) -> Result<()> {
        let Some(api) = self.api(audience)? else {
            self.insert_api(
                &NewApi {
                    identifier: audience.into(),
                    name: "Auth0 Management API".into(),
                    token_lifetime_s: 86_400,
                    signing_alg: "RS256".into(),
                    rbac_enabled: false,
                    permissions_in_token: false,
                    allow_offline_access: false,
                    scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                },
                now,
            )?;
            return Ok(());
        };
        for s in scopes {
            self.conn.execute(
                "INSERT OR IGNORE INTO scopes (resource_server_id, value) VALUES (?1, ?2)",
                params![api.id, s],
            )?;
        }
        Ok(())
    }

    /// Every API, by identifier, with its scopes.
    pub fn list_apis(&self) -> Result<Vec<Api>> {
        let mut st = self
            .conn
            .prepare("SELECT identifier FROM resource_servers ORDER BY identifier")?;
        let ids: Vec<String> = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut apis = Vec::with_capacity(ids.len());
        for id in ids {
            apis.extend(self.api(&id)?);
        }
        Ok(apis)
    }

    /// Changes an API's settings and scopes in one transaction; `None` when there is no such API.
    pub fn update_api(&self, audience: &str, p: &ApiPatch) -> Result<Option<Api>> {
        self.transaction(|db| {
            let Some(api) = db.api(audience)? else {
                return Ok(None);
            };
            db.conn.execute(
                "UPDATE resource_servers SET name = COALESCE(?2, name), \
                 token_lifetime_s = COALESCE(?3, token_lifetime_s), \
                 signing_alg = COALESCE(?4, signing_alg), rbac_enabled = COALESCE(?5, rbac_enabled), \
                 permissions_in_token = COALESCE(?6, permissions_in_token), \
                 allow_offline_access = COALESCE(?7, allow_offline_access) WHERE id = ?1",
                params![
                    api.id,
                    p.name,
                    p.token_lifetime_s.map(|s| s as i64),
                    p.signing_alg,
                    p.rbac_enabled,
                    p.permissions_in_token,
                    p.allow_offline_access
                ],
            )?;
            for s in &p.add_scopes {
                db.conn.execute(
                    "INSERT OR IGNORE INTO scopes (resource_server_id, value) VALUES (?1, ?2)",
                    params![api.id, s],
                )?;
            }
            for s in &p.remove_scopes {
                db.conn.execute(
                    "DELETE FROM scopes WHERE resource_server_id = ?1 AND value = ?2",
                    params![api.id, s],
                )?;
            }
            db.api(audience)
        })
    }

    /// Deletes an API; its scopes, the permissions roles and users hold on it, and client grants
    /// for it go with it. `false` when there is no such API.
    pub fn delete_api(&self, audience: &str) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM resource_servers WHERE identifier = ?1",
            [audience],
        )?;
        Ok(n == 1)
    }
}
