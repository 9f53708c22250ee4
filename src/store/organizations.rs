//! Organizations and their members.

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

fn org_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Organization> {
    Ok(Organization {
        id: r.get(0)?,
        name: r.get(1)?,
        display_name: r.get(2)?,
        metadata: json_object(&r.get::<_, String>(3)?),
    })
}

impl Db<'_> {
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
            .query_row([id_or_name], org_row)
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

    /// Every organization, by name.
    pub fn list_orgs(&self) -> Result<Vec<Organization>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, display_name, metadata FROM organizations ORDER BY name",
        )?;
        let orgs = st
            .query_map([], org_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(orgs)
    }

    /// The user ids of an organization's members, sorted.
    pub fn org_member_ids(&self, org_id: &str) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT user_id FROM organization_members WHERE org_id = ?1 ORDER BY user_id",
        )?;
        let ids = st
            .query_map([org_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Deletes an organization; its memberships (and their roles) go with it.
    pub fn delete_org(&self, org_id: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM organizations WHERE id = ?1", [org_id])?;
        Ok(n == 1)
    }
}
