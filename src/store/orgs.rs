//! Roles and organizations, and their members.

use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value};

use super::{Db, Result, StoreError, json_object, new_id};

/// An organization.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub metadata: Map<String, Value>,
}

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

    /// Creates an organization.
    pub fn insert_org(
        &self,
        name: &str,
        display_name: &str,
        metadata: &Map<String, Value>,
        now: &str,
    ) -> Result<Organization> {
        let id = new_id("org");
        self.conn.execute(
            "INSERT INTO organizations (id, name, display_name, metadata, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, display_name, super::json_text(metadata), now],
        )?;
        self.org(&id)?
            .ok_or_else(|| StoreError::Invalid("organization vanished after insert".into()))
    }

    /// The organization with this id or name.
    pub fn org(&self, id_or_name: &str) -> Result<Option<Organization>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, name, display_name, metadata FROM organizations WHERE id = ?1 OR name = ?1",
            )?
            .query_row([id_or_name], |r| {
                Ok(Organization {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    display_name: r.get(2)?,
                    metadata: json_object(&r.get::<_, String>(3)?),
                })
            })
            .optional()?)
    }

    /// Adds a member.
    pub fn add_member(&self, org_id: &str, user_id: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO organization_members (org_id, user_id) VALUES (?1, ?2)",
            params![org_id, user_id],
        )?;
        Ok(())
    }

    /// Whether `user_id` is a member of `org_id`.
    pub fn is_member(&self, org_id: &str, user_id: &str) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM organization_members WHERE org_id = ?1 AND user_id = ?2",
            params![org_id, user_id],
        )
    }
}
