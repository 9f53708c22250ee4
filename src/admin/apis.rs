//! `apis`: register, list, show, update, remove.

use serde_json::{Value, json};

use super::{AdminError, invalid};
use crate::cli::{ApiUpdate, Apis};
use crate::clock::Clock;
use crate::store::{ApiPatch, NewApi, Store};

pub fn apis(store: &Store, clock: &Clock, cmd: Apis) -> Result<Value, AdminError> {
    match cmd {
        Apis::Add {
            identifier,
            name,
            alg,
            lifetime,
            offline_access,
            rbac,
            permissions_in_token,
            scopes,
        } => {
            let api = NewApi {
                name: name.unwrap_or_else(|| identifier.clone()),
                identifier,
                token_lifetime_s: lifetime.clamp(1, 2_592_000),
                signing_alg: alg,
                rbac_enabled: rbac,
                permissions_in_token,
                allow_offline_access: offline_access,
                scopes,
            };
            let now = clock.now_rfc3339();
            let api = store.call_sync(|db| db.insert_api(&api, &now))?;
            Ok(serde_json::to_value(api).unwrap_or_default())
        }
        Apis::List => {
            let all = store.call_sync(|db| db.list_apis())?;
            Ok(serde_json::to_value(all).unwrap_or_default())
        }
        Apis::Show { identifier } => {
            let api = store.call_sync(|db| db.api(&identifier))?;
            let api = api.ok_or_else(|| invalid(format!("no API {identifier}")))?;
            Ok(serde_json::to_value(api).unwrap_or_default())
        }
        Apis::Remove { identifier } => {
            // Scopes, role and user permissions on it and client grants go with it.
            if !store.call_sync(|db| db.transaction(|db| db.delete_api(&identifier)))? {
                return Err(invalid(format!("no API {identifier}")));
            }
            Ok(json!({"identifier": identifier, "removed": true}))
        }
        Apis::Update(u) => update(store, u),
    }
}

/// `apis update`: only what is given changes; `--add-scope` / `--remove-scope` edit the scope list
/// rather than replace it, so that a forgotten scope is never dropped (with its grants) by accident.
fn update(store: &Store, u: ApiUpdate) -> Result<Value, AdminError> {
    let patch = ApiPatch {
        name: u.name,
        token_lifetime_s: u.lifetime.map(|l| l.clamp(1, 2_592_000)),
        signing_alg: u.alg,
        rbac_enabled: u.rbac,
        permissions_in_token: u.permissions_in_token,
        allow_offline_access: u.offline_access,
        add_scopes: u.add_scopes,
        remove_scopes: u.remove_scopes,
    };
    let api = store.call_sync(|db| db.update_api(&u.identifier, &patch))?;
    let api = api.ok_or_else(|| invalid(format!("no API {}", u.identifier)))?;
    Ok(serde_json::to_value(api).unwrap_or_default())
}
