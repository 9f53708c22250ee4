//! Roles, and which users hold them.

use rusqlite::{OptionalExtension, params};

use super::{Db, Result, StoreError, new_id};

impl Db<'_> {
    /// Creates a role; returns its id.
    pub fn insert_role(&self, name: &str, description: &str) -> Result<String> {
        let id = new_id("rol");
        self.conn.execute(
            "INSERT INTO roles (id, name, description) VALUES (?1, ?2, ?3)",
            params![id, name, description],
        )?;
        Ok(id)
    }

    /// The id of the role called `name`.
    pub fn role_id(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT id FROM roles WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }

    /// Gives `user_id` the role called `role`.
    pub fn assign_role(&self, role: &str, user_id: &str) -> Result<()> {
        let role_id: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM roles WHERE name = ?1 OR id = ?1",
                [role],
                |r| r.get(0),
            )
            .optional()?;
        let role_id = role_id.ok_or_else(|| StoreError::Invalid(format!("unknown role {role}")))?;
        self.conn.execute(
            "INSERT OR IGNORE INTO user_roles (user_id, role_id) VALUES (?1, ?2)",
            params![user_id, role_id],
        )?;
        Ok(())
    }

    /// The names of the user's roles, sorted.
    pub fn user_roles(&self, user_id: &str) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ?1 ORDER BY r.name",
        )?;
        let roles = st
            .query_map([user_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(roles)
    }

    /// Every role with its description and permissions (`audience permission`), by name.
    pub fn list_roles(&self) -> Result<Vec<Role>> {
        let mut st = self
            .conn
            .prepare("SELECT id, name, description FROM roles ORDER BY name")?;
        let mut roles: Vec<Role> = st
            .query_map([], |r| {
                Ok(Role {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    description: r.get(2)?,
                    permissions: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut st = self.conn.prepare(
            "SELECT rs.identifier, rp.permission FROM role_permissions rp \
             JOIN resource_servers rs ON rs.id = rp.resource_server_id WHERE rp.role_id = ?1 \
             ORDER BY rs.identifier, rp.permission",
        )?;
        for role in &mut roles {
            role.permissions = st
                .query_map([&role.id], |r| {
                    Ok(RolePermission {
                        audience: r.get(0)?,
                        permission: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(roles)
    }

    /// Deletes the role with this name or id; its permissions and assignments go with it.
    /// `false` when there is no such role.
    pub fn delete_role(&self, role: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM roles WHERE name = ?1 OR id = ?1", [role])?;
        Ok(n > 0)
    }
}

/// A role, as the CLI lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<RolePermission>,
}

/// A permission a role grants: a scope of an API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RolePermission {
    pub audience: String,
    pub permission: String,
}
