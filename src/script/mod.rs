//! The script engine: Auth0 Rules and post-login Actions in sandboxed QuickJS.
//!
//! This is the only module that names rquickjs. Everything crossing its boundary is plain Rust data
//! (`serde_json::Value`, the structs below): the grant hands in a [`LoginInput`] and an
//! `Arc<ScriptSet>` snapshot and gets back an [`Outcome`] (a value, also for a deny) or a
//! [`ScriptError`] (a failure: timeout, out of memory, a crashed worker...).
//!
//! The contract scripts see (`event`, `api`, `user`, `context`, globals) is documented once in
//! `SCRIPT-CONTRACT.md` (pasted into the README, section "Script contract").
//!
//! Files: `catalog.rs` loads and compiles a [`ScriptSet`]; `pool.rs` is the [`ScriptEngine`]
//! (worker threads, deadlines, watchdog); `sandbox.rs` owns one runtime + context; `bindings.rs` has
//! the host functions; `shim.js` is the JS-side driver and the `api`/`console`/Rules globals; `shape.rs`
//! shapes [`LoginInput`] into `event`/`context` and parses the outcome; `cache.rs` is `api.cache`.

mod bindings;
mod bytecode;
mod cache;
mod catalog;
mod deadline;
mod engine_config;
mod error;
mod exception;
mod pool;
mod queue;
mod sandbox;
mod shape;
#[cfg(test)]
mod tests_api;
#[cfg(test)]
mod tests_event;
#[cfg(test)]
mod tests_failures;
#[cfg(test)]
mod tests_globals;
#[cfg(test)]
mod tests_harden;
#[cfg(test)]
mod tests_isolation;
#[cfg(test)]
mod tests_rules;
#[cfg(test)]
mod tests_support;
#[cfg(test)]
mod tests_wedge;
mod worker;

pub use crate::claims::Claim;
pub use catalog::{
    LoadError, MAX_ACTIONS, MAX_SCRIPT_BYTES, Script, ScriptKind, ScriptSet, load_scripts,
};
pub use engine_config::{EngineConfig, Isolation};
pub use error::{ScriptError, ScriptErrorKind};
pub use pool::ScriptEngine;

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

/// Everything the scripts of one login may read, as the grant found it. The engine shapes it into
/// Auth0's `event` (Actions) and `user` / `context` (Rules).
#[derive(Debug, Clone, Serialize)]
pub struct LoginInput {
    /// The stored user as Auth0's normalised profile: `user_id`, `email`, `email_verified`,
    /// `username`, `name`, `nickname`, `given_name`, `family_name`, `picture`, `phone_number`,
    /// `created_at`, `updated_at`, `last_password_reset`, `identities`, and `app_metadata` /
    /// `user_metadata` always as objects (the engine makes Rules' `app_metadata` undefined when empty).
    pub user: Value,
    pub client: ClientInfo,
    pub connection: ConnectionInfo,
    pub request: RequestInfo,
    /// `oauth2-password` or `oauth2-refresh-token`.
    pub protocol: String,
    /// The scopes the client asked for, in order.
    pub requested_scopes: Vec<String>,
    /// `event.resource_server.identifier`: the audience, else the default audience, else `<issuer>userinfo`.
    pub audience: String,
    /// Names of the user's roles.
    pub roles: Vec<String>,
    pub organization: Option<OrganizationInfo>,
    /// Already incremented for this login (the first login sees 1).
    pub logins_count: u64,
    /// `event.tenant.id` / `context.tenant`.
    pub tenant: String,
    /// Milliseconds since the epoch at the start of the login (`authentication.methods[].timestamp`).
    pub now_ms: i64,
    /// A new random id for every login: `event.transaction.id` and the Rules' `context.sessionID`.
    pub transaction_id: String,
}

/// `event.client` / `context.clientID` etc.
#[derive(Debug, Clone, Serialize)]
pub struct ClientInfo {
    pub client_id: String,
    pub name: String,
    pub metadata: Map<String, Value>,
}

/// `event.connection` / `context.connection*`.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionInfo {
    pub id: String,
    pub name: String,
    pub strategy: String,
    pub metadata: Map<String, Value>,
    /// The connection's stored options: Rules' `context.connectionOptions` (not in `event`).
    #[serde(skip)]
    pub options: Map<String, Value>,
}

/// `event.request` / `context.request`. `body` is already stripped of `password`,
/// `client_secret` and `refresh_token`.
#[derive(Debug, Clone, Serialize)]
pub struct RequestInfo {
    pub ip: String,
    pub hostname: String,
    /// Absent from `event.request` (not `null`) when the client sent no header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub method: String,
    pub query: Map<String, Value>,
    pub body: Map<String, Value>,
}

/// `event.organization` / `context.organization`.
#[derive(Debug, Clone, Serialize)]
pub struct OrganizationInfo {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub metadata: Map<String, Value>,
}

/// What the scripts of one login did. A deny is a verdict, not an error: the effects gathered up
/// to the deny (metadata above all) still apply, as in Auth0.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub verdict: Verdict,
    pub effects: Effects,
}

/// How the login ends, as far as the scripts are concerned.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Verdict {
    /// Every script ran to the end; issue the tokens.
    #[default]
    Allow,
    /// `api.access.deny(reason)`, a Rule's `callback(new Error(msg))`, a script that threw or
    /// rejected: 403 `access_denied` with this (uncleaned) text.
    Deny(String),
    /// A Rule's `callback(new UnauthorizedError(msg))`: 401 `unauthorized`.
    Unauthorized(String),
    /// `api.multifactor.enable(..)` or a Rule that set `context.multifactor`: 403 `mfa_required`.
    MfaRequired,
    /// `api.redirect.sendUserTo(..)` or a Rule's `context.redirect`, impossible on a token
    /// endpoint: 400 `interaction_required` with this text.
    InteractionRequired(String),
    /// `api.validation.error(code, message)`: refused with the script's own error code and message.
    ValidationError { code: String, message: String },
}

/// One change to the access token's scope, in the order the scripts made them.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeEdit {
    /// A Rule assigned `context.accessToken.scope` (an array of strings): replaces the set.
    Replace(Vec<String>),
    /// `api.accessToken.addScope`.
    Add(String),
    /// `api.accessToken.removeScope`.
    Remove(String),
}

/// Everything the grant must apply after the scripts ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// In the order set: last write wins when folded.
    pub access_claims: Vec<Claim>,
    pub id_claims: Vec<Claim>,
    /// Each with the name of the script that made it (the token size limit names the script
    /// whose scopes grew a token).
    pub scope_edits: Vec<(Arc<str>, ScopeEdit)>,
    /// Pending `api.user.setAppMetadata` changes merged across Actions; `Value::Null` deletes a key.
    pub app_metadata: Map<String, Value>,
    /// Pending `api.user.setUserMetadata` changes, as above.
    pub user_metadata: Map<String, Value>,
    /// `api.authentication.setPrimaryUser(id)` or a Rule's `context.primaryUser` naming another
    /// user: the token's `sub` becomes that user if it exists (the grant looks it up).
    pub primary_user: Option<String>,
}

/// Which metadata object a write targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataKind {
    App,
    User,
}

/// What the engine may ask of the rest of the server while a script runs. Called on a script
/// worker thread (never a tokio worker), so implementations may block on SQLite.
pub trait Host: Send + Sync + 'static {
    /// Rules' `auth0.users.updateAppMetadata(id, obj)` / `updateUserMetadata(id, obj)`: PATCH the
    /// stored object (top-level merge, `null` deletes) before the script's promise resolves.
    fn patch_metadata(
        &self,
        user_id: &str,
        kind: MetadataKind,
        patch: &Map<String, Value>,
    ) -> Result<(), String>;
}
