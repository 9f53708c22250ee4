//! Rotating refresh tokens. Only a SHA-256 of each token is stored (the token is 32 random
//! bytes: a slow hash would add nothing). The tokens of one login form a family: each exchange
//! rotates the presented token (marks it) and adds its successor; presenting a rotated token
//! again is reuse, and the grant revokes the whole family (Auth0's automatic reuse detection).

use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value};

use super::{Db, Result, json_object, json_text, new_id};

/// A stored refresh token.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub client_id: String,
    pub audience: String,
    /// The scopes granted at login, space-separated.
    pub scope: String,
    pub org_id: Option<String>,
    /// `event.refresh_token.metadata`.
    pub metadata: Map<String, Value>,
    pub created_at: String,
    /// The family's absolute expiry (RFC 3339).
    pub expires_at: String,
    /// When this token expires unused; `None` for tokens stored before version 4.
    pub idle_expires_at: Option<String>,
    /// When this token was exchanged (rotated), if it was.
    pub rotated_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token to store: the first of a family (`family_id` None) or a successor.
pub struct NewRefresh<'a> {
    pub token_hash: &'a str,
    pub family_id: Option<&'a str>,
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub audience: &'a str,
    pub scope: &'a str,
    pub org_id: Option<&'a str>,
    pub metadata: &'a Map<String, Value>,
    pub expires_at: &'a str,
    pub idle_expires_at: &'a str,
}

impl Db<'_> {
    /// The token with this hash, whatever its state.
    pub fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, family_id, user_id, client_id, audience, scope, org_id, metadata, \
                 created_at, expires_at, rotated_at, revoked_at, idle_expires_at FROM refresh_tokens \
                 WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok(RefreshToken {
                    id: r.get(0)?,
                    family_id: r.get(1)?,
                    user_id: r.get(2)?,
                    client_id: r.get(3)?,
                    audience: r.get(4)?,
                    scope: r.get(5)?,
                    org_id: r.get(6)?,
                    metadata: json_object(&r.get::<_, String>(7)?),
                    created_at: r.get(8)?,
                    expires_at: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                    rotated_at: r.get(10)?,
                    revoked_at: r.get(11)?,
                    idle_expires_at: r.get(12)?,
                })
            })
            .optional()?)
    }

    /// Stores a token; returns its id.
    pub fn insert_refresh_token(&self, t: &NewRefresh<'_>, now: &str) -> Result<String> {
        let id = new_id("rt");
        let family = t.family_id.map_or_else(|| id.clone(), str::to_owned);
        self.conn
            .prepare_cached(
                "INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, client_id, audience, \
                 scope, org_id, metadata, created_at, expires_at, idle_expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                id,
                t.token_hash,
                family,
                t.user_id,
                t.client_id,
                t.audience,
                t.scope,
                t.org_id,
                json_text(t.metadata),
                now,
                t.expires_at,
                t.idle_expires_at
            ])?;
        Ok(id)
    }

    /// Rotates `old` into `new` (same family), in one transaction, and returns the new id. When
    /// `old` was rotated meanwhile (two exchanges of one token raced) and `retry` is false,
    /// nothing is written and the answer is `None`: the caller treats it as reuse.
    pub fn rotate_refresh_token(
        &self,
        old_id: &str,
        new: &NewRefresh<'_>,
        now: &str,
        retry: bool,
    ) -> Result<Option<String>> {
        self.transaction(|db| {
            let first = db
                .conn
                .prepare_cached(
                    "UPDATE refresh_tokens SET rotated_at = ?2, last_exchanged_at = ?2 \
                     WHERE id = ?1 AND rotated_at IS NULL",
                )?
                .execute(params![old_id, now])?
                == 1;
            if !first && !retry {
                return Ok(None);
            }
            if !first {
                db.conn
                    .prepare_cached(
                        "UPDATE refresh_tokens SET last_exchanged_at = ?2 WHERE id = ?1",
                    )?
                    .execute(params![old_id, now])?;
            }
            db.insert_refresh_token(new, now).map(Some)
        })
    }

    /// Whether a token of the family stored after `id` was rotated too: then `id` is not the
    /// token rotated last, and may not be reused even within the leeway ("only the previous
    /// token can be reused"). Storage order is the rowid's (times tie within a millisecond;
    /// VACUUM keeps the rows' relative order).
    pub fn refresh_rotated_after(&self, family_id: &str, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = ?1 \
                 AND rotated_at IS NOT NULL \
                 AND rowid > (SELECT rowid FROM refresh_tokens WHERE id = ?2))",
            )?
            .query_row(params![family_id, id], |r| r.get(0))?)
    }

    /// Revokes every token of a family; the number of tokens it revoked.
    pub fn revoke_refresh_family(&self, family_id: &str, now: &str) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE refresh_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![family_id, now])?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::{NewClient, NewUser, Store};

    #[test]
    fn a_token_rotates_once_unless_a_retry_is_allowed() {
        let store = Store::in_memory().unwrap();
        store
            .call_sync(|db| {
                db.ensure_connection("c", "t")?;
                let u = db.insert_user(
                    &NewUser {
                        connection: "c".into(),
                        email: Some("a@x".into()),
                        ..NewUser::default()
                    },
                    "t",
                )?;
                db.insert_client(
                    &NewClient {
                        client_id: "cl".into(),
                        name: "cl".into(),
                        secret_hash: None,
                        app_type: "native".into(),
                        grant_types: vec![],
                        metadata: Map::new(),
                        auth_method: crate::store::ClientAuth::None,
                        trusted_forwarded_for: false,
                        connections: vec![],
                    },
                    "t",
                )?;
                let meta = Map::new();
                let token = |hash: &'static str, family: Option<&'static str>| NewRefresh {
                    token_hash: hash,
                    family_id: family,
                    user_id: "",
                    client_id: "cl",
                    audience: "a",
                    scope: "s",
                    org_id: None,
                    metadata: &meta,
                    expires_at: "z",
                    idle_expires_at: "z",
                };
                let first = NewRefresh {
                    user_id: &u.user_id,
                    ..token("h0", None)
                };
                let id = db.insert_refresh_token(&first, "t")?;
                let family = db.refresh_token("h0")?.unwrap().family_id;
                let next = |h| NewRefresh {
                    user_id: &u.user_id,
                    family_id: Some(&family),
                    ..token(h, None)
                };
                assert!(
                    db.rotate_refresh_token(&id, &next("h1"), "t1", false)?
                        .is_some()
                );
                assert!(
                    db.rotate_refresh_token(&id, &next("h2"), "t2", false)?
                        .is_none()
                );
                assert!(db.refresh_token("h2")?.is_none(), "nothing written");
                assert!(
                    db.rotate_refresh_token(&id, &next("h3"), "t3", true)?
                        .is_some()
                );
                let old = db.refresh_token("h0")?.unwrap();
                assert_eq!(
                    old.rotated_at.as_deref(),
                    Some("t1"),
                    "the first rotation stands"
                );
                assert!(!db.refresh_rotated_after(&family, &id)?);
                Ok(())
            })
            .unwrap();
    }
}
