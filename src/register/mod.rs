//! A user comes to exist, by signup (`POST /dbconnections/signup`, [`signup`]) or by the
//! Management API (`POST /api/v2/users`, `mgmt::users::create`): one path for both. The
//! connection's password policy, then the pre-user-registration Actions (they may add metadata
//! to the user about to be stored, or refuse), the hash off the async workers, one insert, and
//! the post-user-registration Actions, which the caller does not wait for (Auth0 runs them
//! asynchronously; their failures are logged and the user stays).
//!
//! A refusal is a [`Refused`] value; each caller renders it in its own API's shape.

mod error;
pub mod password_policy;
pub mod signup;

pub use error::SignupError;

use serde_json::{Map, Value, json};

use crate::script::{
    ClientInfo, RegistrationInput, RequestInfo, ScriptError, ScriptErrorKind, Trigger, Verdict,
};
use crate::state::AppState;
use crate::store::{ConnectionRow, NewUser, StoreError, User};
use password_policy::Policy;

/// A user to register, as the caller read it.
pub struct Registration {
    /// Everything but the password's hash.
    pub user: NewUser,
    pub password: String,
    pub connection: ConnectionRow,
    /// The application of a signup; `None` for the Management API.
    pub client: Option<ClientInfo>,
    pub request: RequestInfo,
}

/// Why no user was created.
#[derive(Debug)]
pub enum Refused {
    /// The password fails the connection's policy: the policy, and which of its rules the
    /// password misses (`Policy::missing`).
    WeakPassword { policy: Policy, missing: Value },
    /// A pre-user-registration Action's `api.access.deny(reason, userMessage)`.
    Denied {
        reason: String,
        user_message: String,
    },
    /// A pre-user-registration Action's `api.validation.error(code, message)`.
    Invalid { code: String, message: String },
    /// A pre-user-registration Action threw, timed out, ran out of memory or could not load:
    /// the registration fails closed.
    ScriptFailed(ScriptError),
    /// The connection already has this email or username.
    Exists,
    /// The database is busy, the hash pool full: try again.
    Busy,
    /// Anything else; the cause is for the log.
    Internal(String),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Busy => Refused::Busy,
            StoreError::Conflict(_) => Refused::Exists,
            e => Refused::Internal(e.to_string()),
        }
    }
}

/// Registers a user: policy, pre-registration Actions, hash, insert; then starts the
/// post-registration Actions and returns the stored user.
pub async fn register(state: &AppState, reg: Registration) -> Result<User, Refused> {
    let Registration {
        mut user,
        password,
        connection,
        client,
        request,
    } = reg;
    // The email as it will be stored (Auth0 lower-cases it), so that an Action checking it sees
    // what is kept: `X@EVIL.COM` must not pass a check for `@evil.com`.
    if let Some(email) = user.email.as_mut() {
        *email = email.to_lowercase();
    }
    let policy = Policy::of(&connection.options);
    let missing = policy.missing(&password);
    if missing["verified"] != true {
        return Err(Refused::WeakPassword { policy, missing });
    }
    let input = |user: Value| RegistrationInput {
        user,
        client: client.clone(),
        connection: (&connection).into(),
        request: request.clone(),
        tenant: state.config.tenant.clone(),
        now_ms: state.clock.now_ms(),
        transaction_id: crate::credentials::random_id::<16>(),
    };
    let pre = state
        .pipeline
        .run_actions(Trigger::PreRegistration(input(profile_to_be(&user))))
        .await
        .map_err(|e| match e.kind {
            ScriptErrorKind::Overloaded { .. } => Refused::Busy,
            _ => Refused::ScriptFailed(e),
        })?;
    match pre.verdict {
        Verdict::Allow => {}
        Verdict::RegistrationDenied {
            reason,
            user_message,
        } => {
            tracing::info!(target: "script", %reason, "registration denied by an Action");
            return Err(Refused::Denied {
                reason,
                user_message,
            });
        }
        Verdict::ValidationError { code, message } => {
            return Err(Refused::Invalid { code, message });
        }
        // A throw or a rejection (the shim's `deny` with the error's message), or a verdict this
        // trigger cannot give: refuse.
        Verdict::Deny(reason) => {
            return Err(Refused::Denied {
                reason,
                user_message: String::new(),
            });
        }
        other => return Err(Refused::Internal(format!("unexpected verdict {other:?}"))),
    }
    merge(&mut user.app_metadata, pre.effects.app_metadata);
    merge(&mut user.user_metadata, pre.effects.user_metadata);
    let hash = state
        .hashes
        .hash(password)
        .await
        .map_err(|_| Refused::Busy)?
        .ok_or_else(|| Refused::Internal("password hashing failed".into()))?;
    user.password_hash = Some(hash);
    let (store, now, later) = (
        state.store.clone(),
        state.clock.now_rfc3339(),
        state.pipeline.later(),
    );
    let post = input(Value::Null);
    // The insert and the post-registration Actions in a task of their own: a caller that goes
    // away once the insert has begun must not leave a user whose Actions never ran.
    let task = tokio::spawn(async move {
        let stored = store.call(move |db| db.insert_user(&user, &now)).await?;
        tracing::info!(user_id = %stored.user_id, connection = %stored.connection, "user registered");
        // Auth0's post-registration `event.user` is the stored user without its identities.
        let mut profile = crate::script::user_profile(&stored);
        if let Some(p) = profile.as_object_mut() {
            p.remove("identities");
        }
        later.spawn(Trigger::PostRegistration(RegistrationInput {
            user: profile,
            ..post
        }));
        Ok::<_, StoreError>(stored)
    });
    Ok(task.await.map_err(|e| Refused::Internal(e.to_string()))??)
}

/// Whether `email` has the form of an address (`local@domain`, no spaces, at most 254
/// bytes): both APIs refuse anything else before a user is made of it.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.split('.').all(|label| !label.is_empty())
}

/// `event.user` of the pre-user-registration trigger: what was asked for, before the user
/// exists (no `user_id`, no dates).
fn profile_to_be(u: &NewUser) -> Value {
    let mut p = json!({
        "app_metadata": u.app_metadata,
        "user_metadata": u.user_metadata,
    });
    crate::script::put_profile_texts(
        &mut p,
        [
            &u.email,
            &u.username,
            &u.name,
            &u.nickname,
            &u.given_name,
            &u.family_name,
            &u.picture,
            &u.phone_number,
        ],
    );
    p
}

/// The Actions' `api.user.set*Metadata` changes: `null` deletes a key.
fn merge(target: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            target.remove(&k);
        } else {
            target.insert(k, v);
        }
    }
}
