//! Users: lookup for a login, creation and import, login bookkeeping, blocking, metadata PATCH.
//! Their roles are in `roles`, their permissions in `permissions`.

use rusqlite::{OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::{Db, Result, StoreError, json_object, json_text};

/// A stored user, with the name of its connection.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub user_id: String,
    pub connection: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    pub phone_number: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub app_metadata: Map<String, Value>,
    pub user_metadata: Map<String, Value>,
    pub blocked: bool,
    pub logins_count: u64,
    pub last_login: Option<String>,
    pub last_ip: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_password_reset: Option<String>,
}

/// A user to create. `user_id` is generated (`auth0|<24 hex>`) unless an import gives one.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub user_id: Option<String>,
    pub connection: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    pub phone_number: Option<String>,
    pub password_hash: Option<String>,
    pub app_metadata: Map<String, Value>,
    pub user_metadata: Map<String, Value>,
    pub blocked: bool,
}

/// How the CLI names a user: a user id (`auth0|…`) or an email.
pub struct UserRef<'a>(pub &'a str);

pub(super) const COLUMNS: &str = "u.user_id, c.name, u.email, u.username, u.email_verified, u.name, u.nickname, \
    u.given_name, u.family_name, u.picture, u.phone_number, u.password_hash, u.app_metadata, \
    u.user_metadata, u.blocked, u.logins_count, u.last_login, u.last_ip, u.created_at, \
    u.updated_at, u.last_password_reset";

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        user_id: r.get(0)?,
        connection: r.get(1)?,
        email: r.get(2)?,
        username: r.get(3)?,
        email_verified: r.get(4)?,
        name: r.get(5)?,
        nickname: r.get(6)?,
        given_name: r.get(7)?,
        family_name: r.get(8)?,
        picture: r.get(9)?,
        phone_number: r.get(10)?,
        password_hash: r.get(11)?,
        app_metadata: json_object(&r.get::<_, String>(12)?),
        user_metadata: json_object(&r.get::<_, String>(13)?),
        blocked: r.get(14)?,
        logins_count: r.get::<_, i64>(15)?.max(0) as u64,
        last_login: r.get(16)?,
        last_ip: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
        last_password_reset: r.get(20)?,
    })
}

impl Db<'_> {
    /// The user of `connection_id` whose email or username is `login` (case-insensitive).
    pub fn user_by_login(&self, connection_id: &str, login: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users u JOIN connections c ON c.id = u.connection_id \
             WHERE u.connection_id = ?1 AND (u.email = ?2 OR u.username = ?2) \
             ORDER BY u.email = ?2 DESC LIMIT 1"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![connection_id, login], from_row)
            .optional()?)
    }

    /// The user with this id.
    pub fn user_by_id(&self, user_id: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users u JOIN connections c ON c.id = u.connection_id WHERE u.user_id = ?1"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([user_id], from_row)
            .optional()?)
    }

    /// A user named by id or by email (any connection; an email found in two connections is
    /// ambiguous and refused).
    pub fn find_user(&self, who: UserRef<'_>) -> Result<Option<User>> {
        if let Some(u) = self.user_by_id(who.0)? {
            return Ok(Some(u));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM users u JOIN connections c ON c.id = u.connection_id \
             WHERE u.email = ?1 OR u.username = ?1 LIMIT 2"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let found = st
            .query_map([who.0], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        match found.len() {
            0 | 1 => Ok(found.into_iter().next()),
            _ => Err(StoreError::Invalid(format!(
                "{} names users in several connections; use the user id",
                who.0
            ))),
        }
    }

    /// Every user, oldest first.
    pub fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users u JOIN connections c ON c.id = u.connection_id ORDER BY u.created_at, u.user_id"
        );
        let mut st = self.conn.prepare(&sql)?;
        let users = st
            .query_map([], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(users)
    }

    /// Creates a user; its connection must exist.
    pub fn insert_user(&self, u: &NewUser, now: &str) -> Result<User> {
        let conn = self
            .connection_by_name(&u.connection)?
            .ok_or_else(|| StoreError::Invalid(format!("unknown connection {}", u.connection)))?;
        if u.email.is_none() && u.username.is_none() {
            return Err(StoreError::Invalid(
                "a user needs an email or a username".into(),
            ));
        }
        // Auth0's own store lower-cases emails (spec §6).
        let email = u.email.as_deref().map(str::to_lowercase);
        let u = &NewUser { email, ..u.clone() };
        let user_id = match &u.user_id {
            Some(id) if id.contains('|') => id.clone(),
            Some(id) => format!("auth0|{id}"),
            None => format!("auth0|{}", hex_id()),
        };
        self.conn
            .prepare_cached(
                "INSERT INTO users (user_id, connection_id, email, username, email_verified, name, \
                 nickname, given_name, family_name, picture, phone_number, password_hash, \
                 app_metadata, user_metadata, blocked, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
            )?
            .execute(params![
                user_id,
                conn.id,
                u.email,
                u.username,
                u.email_verified,
                u.name.clone().or_else(|| u.email.clone()).or_else(|| u.username.clone()),
                u.nickname.clone().or_else(|| default_nickname(u)),
                u.given_name,
                u.family_name,
                u.picture,
                u.phone_number,
                u.password_hash,
                json_text(&u.app_metadata),
                json_text(&u.user_metadata),
                u.blocked,
                now,
            ])
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "a user with this email or username already exists in {}",
                    u.connection
                )),
                other => other,
            })?;
        self.user_by_id(&user_id)?
            .ok_or_else(|| StoreError::Invalid("user vanished after insert".into()))
    }

    /// Counts a successful login (before the scripts run, so the first login sees 1) and returns
    /// the new count.
    pub fn record_login(&self, user_id: &str, ip: &str, now: &str) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "UPDATE users SET logins_count = logins_count + 1, last_login = ?2, last_ip = ?3 \
                 WHERE user_id = ?1 RETURNING logins_count",
            )?
            .query_row(params![user_id, now, ip], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Replaces a user's password hash.
    pub fn set_password_hash(&self, user_id: &str, hash: &str, now: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET password_hash = ?2, last_password_reset = ?3, updated_at = ?3 WHERE user_id = ?1",
            params![user_id, hash, now],
        )?;
        Ok(())
    }

    /// Blocks or unblocks a user; false when there is no such user.
    pub fn set_blocked(&self, user_id: &str, blocked: bool, now: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE users SET blocked = ?2, updated_at = ?3 WHERE user_id = ?1",
            params![user_id, blocked, now],
        )?;
        Ok(n == 1)
    }

    /// Deletes a user; what hangs off it (roles, memberships, refresh tokens, failed-login
    /// counts by user) goes with it. False when there is no such user.
    pub fn delete_user(&self, user_id: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM users WHERE user_id = ?1", [user_id])?;
        Ok(n == 1)
    }

    /// PATCHes a metadata object: top-level keys merged, `null` deletes a key (Auth0's semantics
    /// for both `api.user.set*Metadata` and `auth0.users.update*Metadata`).
    pub fn patch_metadata(
        &self,
        user_id: &str,
        app: &Map<String, Value>,
        user: &Map<String, Value>,
        now: &str,
    ) -> Result<bool> {
        if app.is_empty() && user.is_empty() {
            return Ok(true);
        }
        self.transaction(|db| {
            let row: Option<(String, String)> = db
                .conn
                .prepare_cached("SELECT app_metadata, user_metadata FROM users WHERE user_id = ?1")?
                .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((a, u)) = row else { return Ok(false) };
            let (a, u) = (merged(json_object(&a), app), merged(json_object(&u), user));
            db.conn
                .prepare_cached(
                    "UPDATE users SET app_metadata = ?2, user_metadata = ?3, updated_at = ?4 WHERE user_id = ?1",
                )?
                .execute(params![user_id, json_text(&a), json_text(&u), now])?;
            Ok(true)
        })
    }

    /// One stored hash of each scheme and cost in use, the most common first: the dummy hash that
    /// unknown users are checked against copies the first, and failed logins are paced to the
    /// slowest (`credentials::FailurePace`).
    pub fn password_hash_classes(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL")?;
        let mut rows = st.query([])?;
        let mut classes: std::collections::HashMap<String, (usize, String)> = Default::default();
        while let Some(r) = rows.next()? {
            let hash: String = r.get(0)?;
            if let Some(class) = crate::credentials::hash_class(&hash) {
                classes.entry(class).or_insert((0, hash)).0 += 1;
            }
        }
        let mut classes: Vec<(usize, String)> = classes.into_values().collect();
        classes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(classes.into_iter().map(|(_, h)| h).collect())
    }

    /// Replaces a hash of an older scheme or cost after a successful login, unless the password
    /// changed meanwhile (the stored hash is no longer `old`). Not a password reset.
    pub fn upgrade_password_hash(&self, user_id: &str, old: &str, new: &str) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE users SET password_hash = ?3 WHERE user_id = ?1 AND password_hash = ?2",
            )?
            .execute(params![user_id, old, new])?;
        Ok(n == 1)
    }
}

fn merged(mut base: Map<String, Value>, patch: &Map<String, Value>) -> Map<String, Value> {
    for (k, v) in patch {
        if v.is_null() {
            base.remove(k);
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

fn default_nickname(u: &NewUser) -> Option<String> {
    u.email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .or(u.username.as_deref())
        .map(str::to_owned)
}

/// 24 hex characters, the shape of Auth0's own user ids.
fn hex_id() -> String {
    let mut b = [0u8; 12];
    aws_lc_rs::rand::fill(&mut b).expect("the OS random source is available");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Db<'_> {
    /// Sets a user's `name` (the CLI's `users update --name`); false when there is no such user.
    pub fn set_user_name(&self, user_id: &str, name: &str, now: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE users SET name = ?2, updated_at = ?3 WHERE user_id = ?1",
            params![user_id, name, now],
        )?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn users_are_found_by_email_or_username_and_patched() {
        let s = Store::in_memory().unwrap();
        s.call_sync(|db| {
            db.ensure_connection(
                "Username-Password-Authentication",
                "2026-01-01T00:00:00.000Z",
            )?;
            let u = db.insert_user(
                &NewUser {
                    connection: "Username-Password-Authentication".into(),
                    email: Some("Ann@Example.com".into()),
                    username: Some("ann".into()),
                    app_metadata: serde_json::json!({"role": "admin", "keep": 1})
                        .as_object()
                        .cloned()
                        .unwrap(),
                    ..Default::default()
                },
                "2026-01-01T00:00:00.000Z",
            )?;
            assert!(u.user_id.starts_with("auth0|") && u.user_id.len() == 30);
            assert_eq!(u.nickname.as_deref(), Some("ann"));
            let c = db
                .connection_by_name("Username-Password-Authentication")?
                .unwrap();
            assert_eq!(
                db.user_by_login(&c.id, "ANN@example.com")?.unwrap().user_id,
                u.user_id
            );
            assert_eq!(db.user_by_login(&c.id, "ann")?.unwrap().user_id, u.user_id);
            assert!(db.user_by_login(&c.id, "bob")?.is_none());
            assert_eq!(db.record_login(&u.user_id, "1.2.3.4", "t")?, 1);
            let patch = serde_json::json!({"role": null, "org": "o1"});
            db.patch_metadata(&u.user_id, patch.as_object().unwrap(), &Map::new(), "t2")?;
            let u = db.user_by_id(&u.user_id)?.unwrap();
            assert_eq!(
                Value::Object(u.app_metadata),
                serde_json::json!({"keep": 1, "org": "o1"})
            );
            assert_eq!(u.logins_count, 1);
            let more = |i: usize, hash: String| NewUser {
                connection: "Username-Password-Authentication".into(),
                email: Some(format!("u{i}@example.com")),
                password_hash: Some(hash),
                ..Default::default()
            };
            for i in 0..5 {
                db.insert_user(&more(i, bcrypt::hash("x", 4).unwrap()), "t")?;
            }
            db.insert_user(
                &more(10, crate::credentials::hash_password("x").unwrap()),
                "t",
            )?;
            let classes = db.password_hash_classes()?;
            assert_eq!(classes.len(), 2, "one sample per class: {classes:?}");
            assert!(
                classes[0].starts_with("$2b$04$"),
                "the majority class first: {classes:?}"
            );
            assert!(classes[1].starts_with("$argon2id$"), "{classes:?}");
            let dup = db.insert_user(
                &NewUser {
                    connection: "Username-Password-Authentication".into(),
                    email: Some("ann@example.com".into()),
                    ..Default::default()
                },
                "t",
            );
            assert!(matches!(dup, Err(StoreError::Conflict(_))));
            Ok(())
        })
        .unwrap();
    }
}
