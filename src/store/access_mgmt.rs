//! What the Management API asks of roles and organizations beyond the CLI's lists
//! (`list_roles`, `list_orgs`): a user's roles as rows, several roles or members given or taken at
//! once (one transaction each), and an organization's members as users.

use rusqlite::{OptionalExtension, params};

use super::users::{COLUMNS, from_row};
use super::{Db, Result, StoreError, User};

/// A role as the Management API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoleRow {
    pub id: String,
    pub name: String,
    pub description: String,
}

fn role_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RoleRow> {
    Ok(RoleRow {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
    })
}

impl Db<'_> {
    /// The user's roles as rows, by name.
    pub fn user_role_rows(&self, user_id: &str) -> Result<Vec<RoleRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.id, r.name, r.description FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
             WHERE ur.user_id = ?1 ORDER BY r.name",
        )?;
        let rows = st
            .query_map([user_id], role_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Gives (`give`) or takes the roles with these ids; every id must name a role. One
    /// transaction: all or nothing.
    pub fn set_user_roles(&self, user_id: &str, role_ids: &[String], give: bool) -> Result<()> {
        self.transaction(|db| {
            for id in role_ids {
                let known = db
                    .conn
                    .prepare_cached("SELECT 1 FROM roles WHERE id = ?1")?
                    .query_row([id], |_| Ok(()))
                    .optional()?
                    .is_some();
                if !known {
                    return Err(StoreError::Invalid(format!("no role {id}")));
                }
                let sql = if give {
                    "INSERT OR IGNORE INTO user_roles (user_id, role_id) VALUES (?1, ?2)"
                } else {
                    "DELETE FROM user_roles WHERE user_id = ?1 AND role_id = ?2"
                };
                db.conn.prepare_cached(sql)?.execute(params![user_id, id])?;
            }
            Ok(())
        })
    }

    /// Adds these users to the organization; every id must name a user. One transaction.
    pub fn add_members(&self, org_id: &str, user_ids: &[String]) -> Result<()> {
        self.transaction(|db| {
            for id in user_ids {
                if db.user_by_id(id)?.is_none() {
                    return Err(StoreError::Invalid(format!("no user {id}")));
                }
                db.add_member(org_id, id)?;
            }
            Ok(())
        })
    }

    /// The organization's members, oldest first.
    pub fn org_members(&self, org_id: &str) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM organization_members m JOIN users u ON u.user_id = m.user_id \
             JOIN connections c ON c.id = u.connection_id WHERE m.org_id = ?1 ORDER BY u.created_at, u.user_id"
        );
        let users = self
            .conn
            .prepare_cached(&sql)?
            .query_map([org_id], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(users)
    }
}
