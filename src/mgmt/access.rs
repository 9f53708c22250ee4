//! The roles and organizations endpoints of the Management API subset: list and create roles,
//! a user's roles (read, give, take), list and create organizations, and an organization's
//! members (read, add),
//! so that a backend can give a user a role and an organization without the CLI.

use serde_json::{Map, Value, json};

use super::MgmtError;
use crate::state::AppState;
use crate::store::StoreError;

/// `{key: ["id", ...]}` of a body, or a validation error naming the key.
fn ids(body: &Value, key: &str) -> Result<Vec<String>, MgmtError> {
    let list = body
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| MgmtError::invalid_body(&format!("Missing required property: {key}")))?;
    let ids: Option<Vec<String>> = list.iter().map(|v| v.as_str().map(str::to_owned)).collect();
    match ids {
        Some(ids) if !ids.is_empty() => Ok(ids),
        _ => Err(MgmtError::invalid_body(&format!(
            "{key} must be a non-empty array of strings"
        ))),
    }
}

/// An unknown role or user named in a body is the caller's mistake: 404 as Auth0 answers.
fn named(e: StoreError) -> MgmtError {
    match e {
        StoreError::Invalid(m) if m.starts_with("no role") => MgmtError::no_such_role(),
        StoreError::Invalid(m) if m.starts_with("no user") => MgmtError::no_such_user(),
        e => e.into(),
    }
}

async fn user_exists(state: &AppState, id: &str) -> Result<(), MgmtError> {
    let id = id.to_owned();
    match state.store.call(move |db| db.user_by_id(&id)).await? {
        Some(_) => Ok(()),
        None => Err(MgmtError::no_such_user()),
    }
}

/// `GET /api/v2/roles`.
pub async fn roles(state: &AppState) -> Result<Value, MgmtError> {
    let roles = state.store.call(|db| db.list_roles()).await?;
    Ok(Value::Array(
        roles
            .iter()
            .map(|r| json!({"id": r.id, "name": r.name, "description": r.description}))
            .collect(),
    ))
}

/// `POST /api/v2/roles` (`name`, `description`): the role.
pub async fn create_role(state: &AppState, body: Value) -> Result<Value, MgmtError> {
    let Some(name) = body.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return Err(MgmtError::invalid_body("Missing required property: name"));
    };
    let description = body
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let (n, d) = (name.clone(), description.clone());
    let id = state
        .store
        .call(move |db| db.insert_role(&n, &d))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => MgmtError::role_exists(),
            e => e.into(),
        })?;
    Ok(json!({"id": id, "name": name, "description": description}))
}

/// `GET /api/v2/users/{id}/roles`.
pub async fn user_roles(state: &AppState, user: String) -> Result<Value, MgmtError> {
    user_exists(state, &user).await?;
    let roles = state.store.call(move |db| db.user_role_rows(&user)).await?;
    Ok(json!(roles))
}

/// `POST` (give) or `DELETE` (take) `/api/v2/users/{id}/roles` with `{roles: [ids]}`: 204.
pub async fn set_user_roles(
    state: &AppState,
    user: String,
    body: Value,
    give: bool,
) -> Result<(), MgmtError> {
    let roles = ids(&body, "roles")?;
    user_exists(state, &user).await?;
    state
        .store
        .call(move |db| db.set_user_roles(&user, &roles, give))
        .await
        .map_err(named)
}

/// `GET /api/v2/organizations`.
pub async fn orgs(state: &AppState) -> Result<Value, MgmtError> {
    let orgs = state.store.call(|db| db.list_orgs()).await?;
    Ok(json!(orgs))
}

/// Auth0's longest organization name.
const MAX_ORG_NAME: usize = 50;

/// `POST /api/v2/organizations` (`name` required, `display_name` (else the name), `metadata`):
/// the organization. A name in use (as a name or as an id) is 409.
pub async fn create_org(state: &AppState, body: Value) -> Result<Value, MgmtError> {
    let name = match body.get("name").and_then(Value::as_str) {
        // Auth0's: lower-case letters, digits, `-` and `_` (a name is also a path segment).
        Some(n)
            if !n.is_empty()
                && n.len() <= MAX_ORG_NAME
                && n.bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_')) =>
        {
            n.to_owned()
        }
        Some(_) => {
            return Err(MgmtError::invalid_body(&format!(
                "name must be 1 to {MAX_ORG_NAME} lower-case letters, digits, - or _"
            )));
        }
        None => return Err(MgmtError::invalid_body("Missing required property: name")),
    };
    let display = match body.get("display_name") {
        None | Some(Value::Null) => name.clone(),
        // Auth0's limit (its Management API schema).
        Some(Value::String(d)) if !d.is_empty() && d.chars().count() <= 255 => d.clone(),
        Some(_) => {
            return Err(MgmtError::invalid_body(
                "display_name must be a string of 1 to 255 characters",
            ));
        }
    };
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(MgmtError::invalid_body("metadata must be an object")),
    };
    let now = state.clock.now_rfc3339();
    let n = name.clone();
    // Unique among ids and names alike: `org(id_or_name)` must find exactly one.
    let org = state
        .store
        .call(move |db| match db.org(&n)? {
            Some(_) => Ok(None),
            None => db.insert_org(&n, &display, &metadata, &now).map(Some),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => MgmtError::org_exists(),
            e => e.into(),
        })?;
    match org {
        Some(o) => Ok(json!(o)),
        None => Err(MgmtError::org_exists()),
    }
}

/// 409 for a name in use, as Auth0 answers (its exact text is not checked against Auth0's).
async fn org_id(state: &AppState, id: String) -> Result<String, MgmtError> {
    state
        .store
        .call(move |db| db.org(&id))
        .await?
        .map(|o| o.id)
        .ok_or_else(MgmtError::no_such_org)
}

/// `GET /api/v2/organizations/{id}/members`: `[{user_id, email, name, picture}]`.
pub async fn members(state: &AppState, org: String) -> Result<Value, MgmtError> {
    let org = org_id(state, org).await?;
    let users = state.store.call(move |db| db.org_members(&org)).await?;
    Ok(Value::Array(
        users
            .iter()
            .map(|u| {
                let mut m = Map::new();
                m.insert("user_id".into(), u.user_id.clone().into());
                for (k, v) in [
                    ("email", &u.email),
                    ("name", &u.name),
                    ("picture", &u.picture),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), v.clone().into());
                    }
                }
                Value::Object(m)
            })
            .collect(),
    ))
}

/// `POST /api/v2/organizations/{id}/members` with `{members: [user ids]}`: 204.
pub async fn add_members(state: &AppState, org: String, body: Value) -> Result<(), MgmtError> {
    let members = ids(&body, "members")?;
    let org = org_id(state, org).await?;
    state
        .store
        .call(move |db| db.add_members(&org, &members))
        .await
        .map_err(named)
}
