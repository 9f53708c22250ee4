//! The users endpoints of the Management API subset, as plain functions of their parsed inputs:
//! create (with the connection's password policy), read, list with Auth0's paging and `q`, read
//! by email, update (metadata merged one level deep, `null` deletes a key), delete. Every write is
//! one transaction in the store; answers use Auth0's user shape (`script::user_profile`).

use serde_json::{Map, Value, json};

use super::MgmtError;
use crate::register::password_policy::Policy;
use crate::register::{Registration, register};
use crate::script::{RequestInfo, user_profile};
use crate::state::AppState;
use crate::store::{NewUser, UserFilter, UserUpdate};

/// `per_page` when none is given, and its ceiling (Auth0's).
const PER_PAGE: u64 = 50;
const MAX_PER_PAGE: u64 = 100;

/// A string member of the body, or a validation error naming it.
fn string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, MgmtError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(MgmtError::invalid_body(&format!(
            "Expected type string but found type {} for property {key}",
            type_name(&body[key])
        ))),
    }
}

fn boolean(body: &Map<String, Value>, key: &str) -> Result<Option<bool>, MgmtError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(MgmtError::invalid_body(&format!(
            "Expected type boolean but found type {} for property {key}",
            type_name(v)
        ))),
    }
}

fn object(body: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, MgmtError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(v) => Err(MgmtError::invalid_body(&format!(
            "Expected type object but found type {} for property {key}",
            type_name(v)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn as_object(body: Value) -> Result<Map<String, Value>, MgmtError> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(MgmtError::invalid_body(
            "Expected type object but found another type",
        )),
    }
}

/// Hashes a password off the async workers (argon2id), or a 503 when the hash pool is full.
async fn hash(state: &AppState, password: String) -> Result<String, MgmtError> {
    state
        .hashes
        .hash(password)
        .await
        .map_err(|_| MgmtError::busy())?
        .ok_or_else(|| MgmtError::internal("password hashing failed"))
}

/// `POST /api/v2/users`: 201 with the user. The pre-user-registration Actions run first, as for
/// a signup (`register`), with no `event.client`.
pub async fn create(
    state: &AppState,
    body: Value,
    request: RequestInfo,
) -> Result<Value, MgmtError> {
    let b = as_object(body)?;
    let Some(connection) = string(&b, "connection")? else {
        return Err(MgmtError::invalid_body(
            "Missing required property: connection",
        ));
    };
    let email = string(&b, "email")?;
    let username = string(&b, "username")?;
    if email.is_none() && username.is_none() {
        return Err(MgmtError::invalid_body("Missing required property: email"));
    }
    if let Some(e) = email.as_deref().filter(|e| !crate::register::is_email(e)) {
        return Err(MgmtError::invalid_body(&format!(
            "Object didn't pass validation for format email: {e}"
        )));
    }
    let Some(password) = string(&b, "password")? else {
        return Err(MgmtError::invalid_body(
            "Missing required property: password",
        ));
    };
    let name = connection.clone();
    let conn = state
        .store
        .call(move |db| db.connection_by_name(&name))
        .await?
        .ok_or_else(MgmtError::unknown_connection)?;
    let user = NewUser {
        user_id: string(&b, "user_id")?,
        connection,
        email,
        username,
        email_verified: boolean(&b, "email_verified")?.unwrap_or(false),
        name: string(&b, "name")?,
        nickname: string(&b, "nickname")?,
        given_name: string(&b, "given_name")?,
        family_name: string(&b, "family_name")?,
        picture: string(&b, "picture")?,
        phone_number: string(&b, "phone_number")?,
        password_hash: None,
        app_metadata: object(&b, "app_metadata")?,
        user_metadata: object(&b, "user_metadata")?,
        blocked: boolean(&b, "blocked")?.unwrap_or(false),
    };
    let registration = Registration {
        user,
        password,
        connection: conn,
        client: None,
        request,
    };
    let stored = register(state, registration)
        .await
        .map_err(MgmtError::refused)?;
    Ok(user_profile(&stored))
}

/// `GET /api/v2/users/{id}`.
pub async fn get(
    state: &AppState,
    id: String,
    query: &[(String, String)],
) -> Result<Value, MgmtError> {
    let user = state
        .store
        .call(move |db| db.user_by_id(&id))
        .await?
        .ok_or_else(MgmtError::no_such_user)?;
    Ok(fields(user_profile(&user), query))
}

/// `GET /api/v2/users`: Auth0's paging (`page` from 0, `per_page` ≤ 100, `include_totals`), `q`
/// as an exact `email:"…"` or `user_id:"…"`, and `fields` / `include_fields`.
pub async fn list(state: &AppState, query: &[(String, String)]) -> Result<Value, MgmtError> {
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let number = |k: &str, default: u64| -> Result<u64, MgmtError> {
        param(k).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| MgmtError::invalid_body(&format!("Expected type integer for {k}")))
        })
    };
    let page = number("page", 0)?;
    let per_page = number("per_page", PER_PAGE)?.clamp(1, MAX_PER_PAGE);
    let filter = param("q").map(parse_q).transpose()?;
    let (users, total) = state
        .store
        .call(move |db| db.users_page(filter.as_ref(), page * per_page, per_page))
        .await?;
    let users: Vec<Value> = users
        .iter()
        .map(|u| fields(user_profile(u), query))
        .collect();
    if param("include_totals") == Some("true") {
        return Ok(json!({
            "start": page * per_page,
            "limit": per_page,
            "length": users.len(),
            "total": total,
            "users": users,
        }));
    }
    Ok(Value::Array(users))
}

/// `q` in Auth0's Lucene syntax, as far as claimsmith reads it: `email:"a@x"` or `user_id:"…"`
/// (quotes optional).
fn parse_q(q: &str) -> Result<UserFilter, MgmtError> {
    let unsupported = || {
        MgmtError::invalid_body(&format!(
            "claimsmith reads q only as email:\"…\" or user_id:\"…\", not {q}"
        ))
    };
    let (field, value) = q.trim().split_once(':').ok_or_else(unsupported)?;
    let value = value.trim().trim_matches('"').to_owned();
    if value.is_empty() || value.contains(['*', ' ']) {
        return Err(unsupported());
    }
    match field.trim() {
        "email" => Ok(UserFilter::Email(value)),
        "user_id" => Ok(UserFilter::UserId(value)),
        _ => Err(unsupported()),
    }
}

/// `fields=a,b` with `include_fields` (default true): keep or drop those members.
fn fields(user: Value, query: &[(String, String)]) -> Value {
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(list) = param("fields").filter(|f| !f.is_empty()) else {
        return user;
    };
    let names: Vec<&str> = list.split(',').map(str::trim).collect();
    let include = param("include_fields") != Some("false");
    match user {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| names.contains(&k.as_str()) == include)
                .collect(),
        ),
        other => other,
    }
}

/// `GET /api/v2/users-by-email?email=…`: every user with that email.
pub async fn by_email(state: &AppState, query: &[(String, String)]) -> Result<Value, MgmtError> {
    let Some(email) = query
        .iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.clone())
    else {
        return Err(MgmtError::invalid_body("Missing required property: email"));
    };
    let users = state
        .store
        .call(move |db| db.users_by_email(&email))
        .await?;
    Ok(Value::Array(
        users
            .iter()
            .map(|u| fields(user_profile(u), query))
            .collect(),
    ))
}

/// `PATCH /api/v2/users/{id}`.
pub async fn update(state: &AppState, id: String, body: Value) -> Result<Value, MgmtError> {
    let b = as_object(body)?;
    let password_hash = match string(&b, "password")? {
        Some(p) => {
            let user = id.clone();
            // The user's connection's password policy, in one store trip.
            let options = state
                .store
                .call(move |db| {
                    let Some(u) = db.user_by_id(&user)? else {
                        return Ok(None);
                    };
                    Ok(Some(
                        db.connection_by_name(&u.connection)?
                            .map(|c| c.options)
                            .unwrap_or_default(),
                    ))
                })
                .await?
                .ok_or_else(MgmtError::no_such_user)?;
            if !Policy::of(&options).allows(&p) {
                return Err(MgmtError::weak_password());
            }
            Some(hash(state, p).await?)
        }
        None => None,
    };
    let update = UserUpdate {
        email: string(&b, "email")?,
        email_verified: boolean(&b, "email_verified")?,
        username: string(&b, "username")?,
        name: string(&b, "name")?,
        nickname: string(&b, "nickname")?,
        given_name: string(&b, "given_name")?,
        family_name: string(&b, "family_name")?,
        picture: string(&b, "picture")?,
        blocked: boolean(&b, "blocked")?,
        password_hash,
        app_metadata: object(&b, "app_metadata")?,
        user_metadata: object(&b, "user_metadata")?,
    };
    let now = state.clock.now_rfc3339();
    let user = state
        .store
        .call(move |db| db.update_user(&id, &update, &now))
        .await?
        .ok_or_else(MgmtError::no_such_user)?;
    Ok(user_profile(&user))
}

/// `DELETE /api/v2/users/{id}`: 204; what hangs off the user (roles, refresh tokens) goes too.
pub async fn delete(state: &AppState, id: String) -> Result<(), MgmtError> {
    let deleted = state.store.call(move |db| db.delete_user(&id)).await?;
    if deleted {
        Ok(())
    } else {
        Err(MgmtError::no_such_user())
    }
}
