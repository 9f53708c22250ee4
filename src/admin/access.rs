//! `roles` and `orgs`: who holds what.

use serde_json::{Value, json};

use super::{AdminError, invalid, object};
use crate::cli::{Orgs, Roles};
use crate::clock::Clock;
use crate::store::{Organization, Store, StoreError, UserRef};

pub fn roles(store: &Store, cmd: Roles) -> Result<Value, AdminError> {
    match cmd {
        Roles::Add {
            name,
            description,
            api,
            permissions,
        } => {
            let id = store.call_sync(|db| {
                db.transaction(|db| {
                    let id = db.insert_role(&name, &description)?;
                    if let Some(aud) = &api {
                        let api = db
                            .api(aud)?
                            .ok_or_else(|| StoreError::Invalid(format!("unknown API {aud}")))?;
                        for p in &permissions {
                            db.grant_role_permission(&id, &api.id, p)?;
                        }
                    }
                    Ok(id)
                })
            })?;
            Ok(json!({"id": id, "name": name, "permissions": permissions}))
        }
        Roles::List => {
            let all = store.call_sync(|db| db.list_roles())?;
            Ok(serde_json::to_value(all).unwrap_or_default())
        }
        Roles::Show { role } => {
            let all = store.call_sync(|db| db.list_roles())?;
            let r = all.into_iter().find(|r| r.name == role || r.id == role);
            let r = r.ok_or_else(|| invalid(format!("no role {role}")))?;
            Ok(serde_json::to_value(r).unwrap_or_default())
        }
        Roles::Remove { role } => {
            // Its permissions and assignments go with it (ON DELETE CASCADE).
            if !store.call_sync(|db| db.transaction(|db| db.delete_role(&role)))? {
                return Err(invalid(format!("no role {role}")));
            }
            Ok(json!({"role": role, "removed": true}))
        }
        Roles::Assign { role, user } => {
            let u = store
                .call_sync(|db| db.find_user(UserRef(&user)))?
                .ok_or_else(|| invalid(format!("no user {user}")))?;
            store.call_sync(|db| db.assign_role(&role, &u.user_id))?;
            Ok(json!({"role": role, "user_id": u.user_id}))
        }
    }
}

pub fn orgs(store: &Store, clock: &Clock, cmd: Orgs) -> Result<Value, AdminError> {
    match cmd {
        Orgs::Add {
            name,
            display_name,
            metadata,
        } => {
            let metadata = object(metadata.as_deref(), "--metadata")?;
            let now = clock.now_rfc3339();
            let display = display_name.unwrap_or_else(|| name.clone());
            let o = store.call_sync(|db| db.insert_org(&name, &display, &metadata, &now))?;
            Ok(serde_json::to_value(o).unwrap_or_default())
        }
        Orgs::List => {
            let all = store.call_sync(|db| db.list_orgs())?;
            Ok(serde_json::to_value(all).unwrap_or_default())
        }
        Orgs::Show { org } => {
            let o = find_org(store, &org)?;
            let members = store.call_sync(|db| db.org_member_ids(&o.id))?;
            let mut doc = serde_json::to_value(o).unwrap_or_default();
            doc["members"] = json!(members);
            Ok(doc)
        }
        Orgs::Remove { org } => {
            let o = find_org(store, &org)?;
            // Memberships and their roles go with it; the users stay.
            store.call_sync(|db| db.transaction(|db| db.delete_org(&o.id)))?;
            Ok(json!({"org_id": o.id, "name": o.name, "removed": true}))
        }
        Orgs::AddMember { org, user } => {
            let (o, u) =
                store.call_sync(|db| Ok((db.org(&org)?, db.find_user(UserRef(&user))?)))?;
            let o = o.ok_or_else(|| invalid(format!("no organization {org}")))?;
            let u = u.ok_or_else(|| invalid(format!("no user {user}")))?;
            store.call_sync(|db| db.add_member(&o.id, &u.user_id))?;
            Ok(json!({"org_id": o.id, "user_id": u.user_id}))
        }
    }
}

fn find_org(store: &Store, org: &str) -> Result<Organization, AdminError> {
    store
        .call_sync(|db| db.org(org))?
        .ok_or_else(|| invalid(format!("no organization {org}")))
}
