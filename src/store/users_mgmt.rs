//! What the Management API asks of users beyond a login's needs: pages of users with a filter,
//! users by email, and one update of several fields in one transaction.

use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value};

use super::users::{COLUMNS, from_row};
use super::{Db, Result, StoreError, User};

/// The exact-match filters of `GET /api/v2/users?q=…` that claimsmith reads.
#[derive(Debug, Clone, PartialEq)]
pub enum UserFilter {
    Email(String),
    UserId(String),
}

/// A user's fields to change (`PATCH /api/v2/users/{id}`); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    pub blocked: Option<bool>,
    pub password_hash: Option<String>,
    /// Merged one level deep; `null` deletes a key (`patch_metadata`).
    pub app_metadata: Map<String, Value>,
    pub user_metadata: Map<String, Value>,
}

impl Db<'_> {
    /// One page of users, oldest first, and how many match in all.
    pub fn users_page(
        &self,
        filter: Option<&UserFilter>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<User>, u64)> {
        let (clause, arg) = match filter {
            Some(UserFilter::Email(e)) => ("WHERE u.email = ?1", e.to_lowercase()),
            Some(UserFilter::UserId(id)) => ("WHERE u.user_id = ?1", id.clone()),
            None => ("WHERE ?1 = ?1", String::new()),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM users u JOIN connections c ON c.id = u.connection_id {clause} \
             ORDER BY u.created_at, u.user_id LIMIT ?2 OFFSET ?3"
        );
        let users = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![arg, limit as i64, offset as i64], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM users u {clause}"))?
            .query_row([&arg], |r| r.get(0))?;
        Ok((users, total.max(0) as u64))
    }

    /// Every user with this email, in any connection.
    pub fn users_by_email(&self, email: &str) -> Result<Vec<User>> {
        Ok(self
            .users_page(Some(&UserFilter::Email(email.into())), 0, 1000)?
            .0)
    }

    /// Applies `u` to the user in one transaction; `None` when there is no such user. An email or
    /// username another user of the connection has is a `Conflict`.
    pub fn update_user(&self, user_id: &str, u: &UserUpdate, now: &str) -> Result<Option<User>> {
        self.transaction(|db| {
            let exists = db
                .conn
                .prepare_cached("SELECT 1 FROM users WHERE user_id = ?1")?
                .query_row([user_id], |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                return Ok(None);
            }
            let text = |v: &Option<String>| v.clone();
            db.conn
                .prepare_cached(
                    "UPDATE users SET email = COALESCE(?2, email), \
                     email_verified = COALESCE(?3, email_verified), username = COALESCE(?4, username), \
                     name = COALESCE(?5, name), nickname = COALESCE(?6, nickname), \
                     given_name = COALESCE(?7, given_name), family_name = COALESCE(?8, family_name), \
                     picture = COALESCE(?9, picture), blocked = COALESCE(?10, blocked), \
                     password_hash = COALESCE(?11, password_hash), \
                     last_password_reset = CASE WHEN ?11 IS NULL THEN last_password_reset ELSE ?12 END, \
                     updated_at = ?12 WHERE user_id = ?1",
                )?
                .execute(params![
                    user_id,
                    u.email.as_deref().map(str::to_lowercase),
                    u.email_verified,
                    text(&u.username),
                    text(&u.name),
                    text(&u.nickname),
                    text(&u.given_name),
                    text(&u.family_name),
                    text(&u.picture),
                    u.blocked,
                    text(&u.password_hash),
                    now
                ])
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => {
                        StoreError::Conflict("the email or username is taken".into())
                    }
                    other => other,
                })?;
            db.patch_metadata(user_id, &u.app_metadata, &u.user_metadata, now)?;
            db.user_by_id(user_id)
        })
    }
}
