//! Client grants: which APIs a client may get client-credentials tokens for, with which scopes
//! (Auth0's "client grants").

use rusqlite::{OptionalExtension, params};

use super::{Db, Result, StoreError};

impl Db<'_> {
    /// The scopes granted to `client_id` on the API `api_id`; `None` without a grant.
    pub fn client_grant(&self, client_id: &str, api_id: &str) -> Result<Option<Vec<String>>> {
        let text: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT scopes FROM client_grants WHERE client_id = ?1 AND resource_server_id = ?2",
            )?
            .query_row(params![client_id, api_id], |r| r.get(0))
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t).unwrap_or_default()))
    }

    /// Grants `client_id` the API `audience` with `scopes` (replacing an earlier grant). Every
    /// scope must be one the API defines.
    pub fn set_client_grant(
        &self,
        client_id: &str,
        audience: &str,
        scopes: &[String],
    ) -> Result<()> {
        if self.client(client_id)?.is_none() {
            return Err(StoreError::Invalid(format!("no client {client_id}")));
        }
        let Some(api) = self.api(audience)? else {
            return Err(StoreError::Invalid(format!("no API {audience}")));
        };
        if let Some(s) = scopes.iter().find(|s| !api.scopes.contains(s)) {
            return Err(StoreError::Invalid(format!(
                "the API {audience} has no scope {s}"
            )));
        }
        self.conn.execute(
            "INSERT INTO client_grants (client_id, resource_server_id, scopes) VALUES (?1, ?2, ?3) \
             ON CONFLICT (client_id, resource_server_id) DO UPDATE SET scopes = excluded.scopes",
            params![client_id, api.id, super::json_text(&scopes)],
        )?;
        Ok(())
    }

    /// Removes a client grant; whether there was one.
    pub fn delete_client_grant(&self, client_id: &str, audience: &str) -> Result<bool> {
        let Some(api) = self.api(audience)? else {
            return Ok(false);
        };
        let n = self.conn.execute(
            "DELETE FROM client_grants WHERE client_id = ?1 AND resource_server_id = ?2",
            params![client_id, api.id],
        )?;
        Ok(n > 0)
    }
}
