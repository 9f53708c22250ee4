//! `users`: create, import, list, show, update, set a password, block, remove.

use serde_json::{Value, json};

use super::{AdminError, invalid, object};
use crate::cli::{UserAdd, UserPick, UserUpdate, Users};
use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::{hash_password, is_supported_hash};
use crate::store::{NewUser, Store, StoreError, User, UserRef};

/// Shown for a user: everything but the password hash.
pub(super) fn user_json(u: &User) -> Value {
    serde_json::to_value(u).unwrap_or_default()
}

pub fn users(store: &Store, cfg: &Config, clock: &Clock, cmd: Users) -> Result<Value, AdminError> {
    let now = clock.now_rfc3339();
    match cmd {
        Users::Add(a) => {
            let u = new_user(a, cfg)?;
            Ok(user_json(&store.call_sync(|db| db.insert_user(&u, &now))?))
        }
        Users::Import { file, connection } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| invalid(format!("{}: {e}", file.display())))?;
            let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&text) else {
                return Err(invalid("the import file must be a JSON array of users"));
            };
            let connection = cfg
                .connection_or_default(connection)
                .ok_or_else(|| invalid("give --connection: no default connection is configured"))?;
            let mut imported = Vec::new();
            let mut failed = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let result = import_user(item, &connection)
                    .and_then(|u| Ok(store.call_sync(|db| db.insert_user(&u, &now))?));
                match result {
                    Ok(u) => imported.push(u.user_id),
                    Err(e) => failed.push(
                        json!({"index": i, "email": item.get("email"), "error": e.to_string()}),
                    ),
                }
            }
            Ok(json!({"imported": imported.len(), "user_ids": imported, "failed": failed}))
        }
        Users::List => Ok(Value::Array(
            store
                .call_sync(|db| db.list_users())?
                .iter()
                .map(user_json)
                .collect(),
        )),
        Users::Show(p) => {
            let u = pick_user(store, &p)?;
            let roles = store.call_sync(|db| db.user_roles(&u.user_id))?;
            let mut doc = user_json(&u);
            doc["roles"] = json!(roles);
            Ok(doc)
        }
        Users::Remove(p) => {
            let u = pick_user(store, &p)?;
            // Roles, memberships and refresh tokens go with it (ON DELETE CASCADE).
            if !store.call_sync(|db| db.transaction(|db| db.delete_user(&u.user_id)))? {
                return Err(invalid(format!("no user {}", u.user_id)));
            }
            Ok(json!({"user_id": u.user_id, "removed": true}))
        }
        Users::SetPassword { who, .. } => {
            let u = pick_user(store, &who)?;
            let password = read_password()?.ok_or_else(|| invalid("the password is empty"))?;
            let hash = hash_password(&password).map_err(|e| invalid(e.to_string()))?;
            store.call_sync(|db| db.set_password_hash(&u.user_id, &hash, &now))?;
            Ok(json!({"user_id": u.user_id, "password_set": true}))
        }
        Users::Update(up) => update(store, up, &now),
        Users::Block(p) => set_blocked(store, &p, true, &now),
        Users::Unblock(p) => set_blocked(store, &p, false, &now),
    }
}

/// The user `--email` or `--user` names.
fn pick_user(store: &Store, p: &UserPick) -> Result<User, AdminError> {
    let who = p.user.as_deref().or(p.email.as_deref()).unwrap_or_default();
    store
        .call_sync(|db| db.find_user(UserRef(who)))?
        .ok_or_else(|| invalid(format!("no user {who}")))
}

/// The first line of standard input, without its line end; `None` when it is empty.
fn read_password() -> Result<Option<String>, AdminError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| invalid(format!("cannot read the password from stdin: {e}")))?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()).filter(|p| !p.is_empty()))
}

/// `users update`: name, blocked state and metadata PATCH, in one transaction.
fn update(store: &Store, up: UserUpdate, now: &str) -> Result<Value, AdminError> {
    let u = pick_user(store, &up.who)?;
    let app = object(up.app_metadata.as_deref(), "--app-metadata")?;
    let user = object(up.user_metadata.as_deref(), "--user-metadata")?;
    let id = u.user_id.as_str();
    let u = store.call_sync(|db| {
        db.transaction(|db| {
            if let Some(name) = &up.name {
                db.set_user_name(id, name, now)?;
            }
            if let Some(blocked) = up.blocked {
                db.set_blocked(id, blocked, now)?;
            }
            db.patch_metadata(id, &app, &user, now)?;
            db.user_by_id(id)?
                .ok_or_else(|| StoreError::Invalid(format!("no user {id}")))
        })
    })?;
    Ok(user_json(&u))
}

fn new_user(a: UserAdd, cfg: &Config) -> Result<NewUser, AdminError> {
    let password = match (a.password, a.password_stdin) {
        (Some(p), _) => Some(p),
        (None, true) => read_password()?,
        (None, false) => None,
    };
    let password_hash = match (password, a.password_hash) {
        (Some(p), _) => hash_password(&p).map_err(|e| invalid(e.to_string()))?,
        (None, Some(h)) if is_supported_hash(&h) => h,
        (None, Some(_)) => return Err(invalid("--password-hash must be a bcrypt or argon2 hash")),
        (None, None) => return Err(invalid("give --password or --password-hash")),
    };
    Ok(NewUser {
        connection: cfg
            .connection_or_default(a.connection)
            .ok_or_else(|| invalid("give --connection: no default connection is configured"))?,
        email: a.email,
        username: a.username,
        email_verified: a.email_verified,
        name: a.name,
        password_hash: Some(password_hash),
        app_metadata: object(a.app_metadata.as_deref(), "--app-metadata")?,
        user_metadata: object(a.user_metadata.as_deref(), "--user-metadata")?,
        ..NewUser::default()
    })
}

/// One user of Auth0's bulk import format: `password_hash` (bcrypt) or `custom_password_hash`
/// `{algorithm: "bcrypt" | "argon2", hash: {value}}`.
fn import_user(v: &Value, connection: &str) -> Result<NewUser, AdminError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let hash = s("password_hash").or_else(|| {
        v.pointer("/custom_password_hash/hash/value")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let hash = match hash {
        Some(h) if !h.is_empty() => {
            if !is_supported_hash(&h) {
                return Err(invalid(
                    "only bcrypt and argon2 password hashes can be imported",
                ));
            }
            Some(h)
        }
        _ => None,
    };
    let obj = |k: &str| {
        v.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    Ok(NewUser {
        user_id: s("user_id"),
        connection: connection.to_owned(),
        email: s("email"),
        username: s("username"),
        email_verified: v
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        name: s("name"),
        nickname: s("nickname"),
        given_name: s("given_name"),
        family_name: s("family_name"),
        picture: s("picture"),
        phone_number: s("phone_number"),
        password_hash: hash,
        app_metadata: obj("app_metadata"),
        user_metadata: obj("user_metadata"),
        blocked: v.get("blocked").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn set_blocked(store: &Store, p: &UserPick, blocked: bool, now: &str) -> Result<Value, AdminError> {
    let user = pick_user(store, p)?;
    let cleared = store.call_sync(|db| {
        db.set_blocked(&user.user_id, blocked, now)?;
        // Unblocking also lifts a brute-force block, as Auth0's admin unblock does.
        if blocked {
            Ok(0)
        } else {
            db.clear_user_failures(&user.user_id)
        }
    })?;
    Ok(json!({"user_id": user.user_id, "blocked": blocked, "failed_logins_cleared": cleared}))
}
