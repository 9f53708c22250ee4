//! `connections` and `keys`.

use serde_json::{Value, json};

use super::{AdminError, invalid, object};
use crate::cli::{Connections, Keys};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::{ConnectionRow, Store};
use crate::token::Alg;

pub fn connections(store: &Store, clock: &Clock, cmd: Connections) -> Result<Value, AdminError> {
    let (name, metadata, options) = match cmd {
        Connections::Set {
            name,
            metadata,
            options,
        } => (name, metadata, options),
        Connections::List => {
            let all = store.call_sync(|db| {
                let rows = db.list_connections()?;
                rows.into_iter()
                    .map(|c| Ok((db.connection_user_count(&c.id)?, c)))
                    .collect::<crate::store::Result<Vec<_>>>()
            })?;
            return Ok(Value::Array(
                all.iter().map(|(n, c)| connection_json(c, *n)).collect(),
            ));
        }
        Connections::Show { name } => {
            let c = find(store, &name)?;
            let n = store.call_sync(|db| db.connection_user_count(&c.id))?;
            return Ok(connection_json(&c, n));
        }
        Connections::Remove { name, force } => return remove(store, &name, force),
    };
    let metadata = metadata
        .map(|m| object(Some(&m), "--metadata"))
        .transpose()?;
    let options = options.map(|o| object(Some(&o), "--options")).transpose()?;
    let now = clock.now_rfc3339();
    let row = store.call_sync(|db| {
        let c = db.ensure_connection(&name, &now)?;
        db.update_connection(&c.id, metadata.as_ref(), options.as_ref())?;
        db.connection_by_name(&name)
    })?;
    Ok(serde_json::to_value(row).unwrap_or_default())
}

pub fn keys(store: &Store, cfg: &Config, clock: &Clock, cmd: Keys) -> Result<Value, AdminError> {
    let alg = match cmd {
        Keys::Rotate { alg } => alg,
        Keys::List => return list_keys(store),
    };
    let alg = Alg::parse(&alg).ok_or_else(|| invalid("unknown algorithm"))?;
    let kid = crate::bootstrap::rotate_key(store, alg, cfg, clock)?;
    Ok(
        json!({"kid": kid, "alg": alg.as_str(), "note": "restart the server to sign with the new key"}),
    )
}

fn find(store: &Store, name: &str) -> Result<ConnectionRow, AdminError> {
    store
        .call_sync(|db| db.connection_by_name(name))?
        .ok_or_else(|| invalid(format!("no connection {name}")))
}

fn connection_json(c: &ConnectionRow, users: u64) -> Value {
    let mut doc = serde_json::to_value(c).unwrap_or_default();
    doc["users"] = json!(users);
    doc
}

/// Removing a connection that has users is refused: `users.connection_id` does not cascade,
/// and silently deleting every account of a realm is too much for a typo. `--force` deletes
/// the users (and their tokens, roles, memberships) with it, in the same transaction.
fn remove(store: &Store, name: &str, force: bool) -> Result<Value, AdminError> {
    let c = find(store, name)?;
    let users = store.call_sync(|db| db.connection_user_count(&c.id))?;
    if users > 0 && !force {
        return Err(invalid(format!(
            "connection {name} has {users} user(s): remove them first, or give --force to delete \
             them with it"
        )));
    }
    let deleted = store.call_sync(|db| db.delete_connection(&c.id))?;
    Ok(json!({"name": name, "removed": true, "users_removed": deleted}))
}

/// Each key's kid, algorithm, state and creation time; the private key never leaves the store.
fn list_keys(store: &Store) -> Result<Value, AdminError> {
    let keys = store.call_sync(|db| db.keys())?;
    Ok(Value::Array(
        keys.iter()
            .map(|k| {
                let state = match (k.retired, k.rotated) {
                    (true, _) => "retired",
                    (false, true) => "rotated",
                    (false, false) => "signing",
                };
                json!({"kid": k.kid, "alg": k.alg, "state": state, "created_at": k.created_at})
            })
            .collect(),
    ))
}
