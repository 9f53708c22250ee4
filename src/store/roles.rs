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
}
