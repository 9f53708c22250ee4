//! `POST /dbconnections/signup`: Auth0's Authentication API signup for a database connection,
//! as a plain function of the parsed body. Public: no client secret, as in Auth0; the
//! application must exist and have the connection enabled, and the connection must allow
//! signups. The user is registered by [`register`](super::register) (the registration Actions
//! run there) and answered in Auth0's signup shape: `_id` without the `auth0|` prefix, the
//! email, `email_verified` and the profile fields given.

use serde_json::{Map, Value, json};

use super::error::SignupError;
use super::{Refused, Registration, register};
use crate::oauth::RequestMeta;
use crate::script::RequestInfo;
use crate::state::AppState;
use crate::store::NewUser;

/// Auth0's limits on a signup's `user_metadata`.
const MAX_METADATA_KEYS: usize = 10;
const MAX_METADATA_KEY_CHARS: usize = 100;
const MAX_METADATA_VALUE_CHARS: usize = 500;

/// The profile fields a signup may set, answered back when given.
const PROFILE: [&str; 6] = [
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "phone_number",
];

/// Signs a user up; the answer's body (200).
pub async fn signup(
    state: &AppState,
    mut body: Map<String, Value>,
    meta: &RequestMeta,
) -> Result<Value, SignupError> {
    let text = |body: &Map<String, Value>, k: &str| -> Result<Option<String>, SignupError> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(SignupError::invalid_param(&format!("{k} must be a string"))),
        }
    };
    let required =
        |body: &Map<String, Value>, k: &str| text(body, k)?.ok_or_else(|| SignupError::missing(k));
    let client_id = required(&body, "client_id")?;
    let connection = required(&body, "connection")?;
    let email = required(&body, "email")?;
    if !super::is_email(&email) {
        return Err(SignupError::invalid_param(&format!(
            "Object didn't pass validation for format email: {email}"
        )));
    }
    // Taken out of the body: the Actions see the rest of it as `event.request.body`.
    let password = match body.remove("password") {
        Some(Value::String(p)) if !p.is_empty() => p,
        _ => return Err(SignupError::missing("password")),
    };
    let user_metadata = user_metadata(body.get("user_metadata"))?;
    let (client, conn) = state
        .store
        .call(move |db| {
            let Some(client) = db.client(&client_id)? else {
                return Ok(None);
            };
            let conn = db
                .connection_by_name(&connection)?
                .filter(|c| c.strategy == "auth0");
            let conn = match conn {
                Some(c) if db.is_connection_enabled(&client.client_id, &c.id)? => Some(c),
                _ => None,
            };
            Ok(Some((client, conn)))
        })
        .await
        .map_err(SignupError::internal)?
        .ok_or_else(SignupError::unknown_client)?;
    let conn = conn.ok_or_else(SignupError::unknown_connection)?;
    if conn.options.get("disable_signup") == Some(&Value::Bool(true)) {
        return Err(SignupError::signup_disabled());
    }
    let username = text(&body, "username")?;
    if username.is_none() && conn.options.get("requires_username") == Some(&Value::Bool(true)) {
        return Err(SignupError::missing("username"));
    }
    let field = |k: &str| text(&body, k);
    // Auth0 answers the profile fields the request gave, not those it derives (name, nickname).
    let given: Vec<&str> = PROFILE
        .into_iter()
        .filter(|k| body.contains_key(*k))
        .collect();
    let user = NewUser {
        user_id: None,
        connection: conn.name.clone(),
        email: Some(email),
        username,
        email_verified: false,
        name: field("name")?,
        nickname: field("nickname")?,
        given_name: field("given_name")?,
        family_name: field("family_name")?,
        picture: field("picture")?,
        phone_number: field("phone_number")?,
        password_hash: None,
        app_metadata: Map::new(),
        user_metadata,
        blocked: false,
    };
    let registration = Registration {
        user,
        password,
        connection: conn,
        client: Some((&client).into()),
        request: RequestInfo::new(meta, body),
    };
    let stored = register(state, registration)
        .await
        .map_err(|r| refused(state, r))?;
    let id = stored
        .user_id
        .split_once('|')
        .map_or(stored.user_id.as_str(), |(_, id)| id);
    let mut answer = json!({
        "_id": id,
        "email": stored.email,
        "email_verified": stored.email_verified,
    });
    if let Some(u) = &stored.username {
        answer["username"] = u.as_str().into();
    }
    let profile = crate::script::user_profile(&stored);
    for k in given {
        if let Some(v) = profile.get(k) {
            answer[k] = v.clone();
        }
    }
    if !stored.user_metadata.is_empty() {
        answer["user_metadata"] = Value::Object(stored.user_metadata);
    }
    Ok(answer)
}

/// A signup's `user_metadata`: an object of at most ten strings (Auth0's limits).
fn user_metadata(v: Option<&Value>) -> Result<Map<String, Value>, SignupError> {
    let m = match v {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(SignupError::invalid_param(
                "user_metadata must be an object",
            ));
        }
    };
    if m.len() > MAX_METADATA_KEYS {
        return Err(SignupError::invalid_param(&format!(
            "user_metadata has at most {MAX_METADATA_KEYS} properties"
        )));
    }
    for (k, v) in m {
        let ok = k.chars().count() <= MAX_METADATA_KEY_CHARS
            && !k.contains('.')
            && !k.starts_with('$')
            && v.as_str()
                .is_some_and(|s| s.chars().count() <= MAX_METADATA_VALUE_CHARS);
        if !ok {
            return Err(SignupError::invalid_param(&format!(
                "user_metadata.{k}: names up to {MAX_METADATA_KEY_CHARS} characters without '.' \
                 or a leading '$', values strings up to {MAX_METADATA_VALUE_CHARS} characters"
            )));
        }
    }
    Ok(m.clone())
}

/// A refused registration, as signup answers it.
fn refused(state: &AppState, r: Refused) -> SignupError {
    match r {
        Refused::WeakPassword { policy, missing } => SignupError::weak_password(&policy, missing),
        Refused::Exists if state.config.signup_user_exists_error => SignupError::user_exists(),
        Refused::Exists => SignupError::invalid_signup(),
        Refused::Denied {
            reason,
            user_message,
        } => SignupError::denied(&reason, &user_message),
        Refused::Invalid { code, message } => SignupError::invalid(&code, &message),
        Refused::ScriptFailed(e) => SignupError::script_failed(&e),
        Refused::Busy => SignupError::busy(),
        Refused::Internal(cause) => SignupError::internal(cause),
    }
}
