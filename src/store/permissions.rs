//! Permissions: an API's scopes granted to roles, and through them (or directly) to users.

use rusqlite::params;

use super::{Db, Result};

impl Db<'_> {
    /// Lets a role grant one of an API's scopes (creating the scope if the API lacks it).
    pub fn grant_role_permission(
        &self,
        role_id: &str,
        api_id: &str,
        permission: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO scopes (resource_server_id, value) VALUES (?1, ?2)",
            params![api_id, permission],
        )?;
        self.conn.execute(
            "INSERT OR IGNORE INTO role_permissions (role_id, resource_server_id, permission) VALUES (?1, ?2, ?3)",
            params![role_id, api_id, permission],
        )?;
        Ok(())
    }

    /// The user's permissions on an API, through roles and directly, sorted.
    pub fn user_permissions(&self, user_id: &str, api_id: &str) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT rp.permission FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id \
             WHERE ur.user_id = ?1 AND rp.resource_server_id = ?2 \
             UNION SELECT permission FROM user_permissions WHERE user_id = ?1 AND resource_server_id = ?2 \
             ORDER BY 1",
        )?;
        let perms = st
            .query_map(params![user_id, api_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(perms)
    }
}
