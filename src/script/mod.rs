//! The script engine: Auth0 Rules and post-login Actions in sandboxed QuickJS.
//!
//! This is the only module that names rquickjs. Everything crossing its boundary is plain Rust data
//! (`serde_json::Value`, the structs below): the grant hands in a [`LoginInput`] and an
//! `Arc<ScriptSet>` snapshot and gets back an [`Outcome`] (a value, also for a deny) or a
//! [`ScriptError`] (a failure: timeout, out of memory, a crashed worker...).
//!
//! The contract scripts see (`event`, `api`, `user`, `context`, globals) is documented once in
//! the README, section "Scripts".
//!
//! Files: `catalog.rs` loads and compiles a [`ScriptSet`]; `engine.rs` is the [`ScriptEngine`]
//! (deadlines, watchdog, reply polling) with its `engine_config.rs`, `queue.rs` (the jobs) and
//! `worker.rs` (one thread, its sandbox and the reuse policy); `sandbox.rs` owns one runtime +
//! context, `modules.rs` what it loads besides the scripts, `bindings.rs` the host functions,
//! `outcome.rs` reads the shim's result; `shim.js` is the JS-side driver and the
//! `api`/Rules globals, with the libraries it runs on first use: `console_object.js` the
//! console, `console.js` its formatter, `require.js`, `api.js` (the rarely used `api`
//! namespaces), `metadata.js` (Rules' metadata updates) and `harden.js` (warm only);
//! `input.rs` is the [`LoginInput`], `shape.rs` shapes it into `event`/`context` and validates
//! the outcome; `error.rs` the [`ScriptError`]; `cache.rs` is `api.cache`; `profile.rs` serves
//! the benches.

mod bindings;
mod bytecode;
mod cache;
mod catalog;
mod deadline;
mod der;
mod drive;
mod engine;
mod engine_config;
mod error;
mod exception;
mod fetch;
mod fetch_host;
mod input;
mod intrinsics;
mod jwk;
mod lazy_globals;
mod library;
mod modules;
mod node_crypto;
mod node_host;
mod outcome;
#[doc(hidden)]
pub mod profile;
mod queue;
mod resolve;
mod sandbox;
mod shape;
#[cfg(test)]
mod tests_api;
#[cfg(test)]
mod tests_crypto;
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
mod tests_node_globals;
#[cfg(test)]
mod tests_require;
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
pub use engine::ScriptEngine;
pub use engine_config::{EngineConfig, Isolation};
pub use error::{ScriptError, ScriptErrorKind};
pub use fetch::FetchPolicy;
pub use input::{
    ClientInfo, ConnectionInfo, CredentialsInput, LoginInput, OrganizationInfo, RegistrationInput,
    RequestInfo, Trigger, put_profile_texts, user_profile,
};
pub use shape::event_json;

use std::sync::Arc;

use serde_json::{Map, Value};

/// What the scripts of one login did. A deny is a verdict, not an error: the effects gathered up
/// to the deny (metadata above all) still apply, as in Auth0.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub verdict: Verdict,
    pub effects: Effects,
    /// Every script that ran, in order, with when it started (see [`Outcome::script_times`]).
    pub runs: Vec<ScriptRun>,
    /// When the run ended.
    pub ended: Option<std::time::Instant>,
    /// The script whose call gave a verdict other than `Allow` (`None` when a Rule's `context`
    /// asked for MFA or a redirect): what `claimsmith test` names.
    pub decided_by: Option<Arc<str>>,
    /// The `Deny` verdict comes from an Action that threw or rejected, not from a deny (metrics).
    pub threw: bool,
}

/// One script's part of a run: the workers mark each script's start, nothing more, so a login
/// pays one push per script; the times are worked out only by whoever reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptRun {
    pub script: Arc<str>,
    pub started: std::time::Instant,
}

impl Outcome {
    /// Each script that ran, in order, with its wall time: until the next one started, the last
    /// until the run ended (waits for `fetch` and timers included).
    pub fn script_times(&self) -> impl Iterator<Item = (&Arc<str>, std::time::Duration)> + '_ {
        let ends = self
            .runs
            .iter()
            .skip(1)
            .map(|r| r.started)
            .chain(self.ended);
        self.runs
            .iter()
            .zip(ends)
            .map(|(r, end)| (&r.script, end.saturating_duration_since(r.started)))
    }
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
    /// A credentials-exchange Action's `api.access.deny(code, reason)`; `code` is one of
    /// `invalid_scope`, `invalid_request`, `server_error` (the shim checks).
    CredentialsDenied { code: String, reason: String },
    /// A pre-user-registration Action's `api.access.deny(reason, userMessage)`: the user is not
    /// created; `reason` is for the log, `user_message` for the caller.
    RegistrationDenied {
        reason: String,
        user_message: String,
    },
}

/// One `api.refreshToken.*` call of a post-login Action, applied by the refresh grant.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshEdit {
    /// `revoke(reason)`: the family is revoked (and the login denied with the reason).
    Revoke,
    /// `setExpiresAt(ms)`: the absolute expiry, milliseconds since the epoch.
    ExpiresAt(i64),
    /// `setIdleExpiresAt(ms)`.
    IdleExpiresAt(i64),
    SetMetadata(String, String),
    DeleteMetadata(String),
    EvictMetadata,
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
    /// `api.refreshToken.*` calls, in order.
    pub refresh_token: Vec<RefreshEdit>,
    /// Which Action set which metadata key, in order (what `claimsmith test` reports).
    pub metadata_by: Vec<(Arc<str>, MetadataKind, String)>,
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
    ) -> Result<(), PatchError>;

    /// Rules' `auth0.accessToken`: an access token for this server's Management API with the
    /// Rules' scopes (README "Rules' `auth0` object and Auth0's SDKs"). Called on the first read
    /// in a login, on a script worker thread; an error fails that read (the login), never an
    /// empty token. The default has none to give (the load-time check, the benches).
    fn management_token(&self) -> Result<String, TokenUnavailable> {
        Err(TokenUnavailable)
    }

    /// A line script `script` wrote with `console` (within its per-login cap; `level` 0 trace,
    /// 1 debug, 2 info, 3 warn, 4 error), on a script worker thread. The server logs it under
    /// the `script` target; `claimsmith test` keeps it for its report.
    fn console(&self, script: &str, level: i32, line: &str) {
        match level {
            0 => tracing::trace!(target: "script", script = %script, "{line}"),
            1 => tracing::debug!(target: "script", script = %script, "{line}"),
            3 => tracing::warn!(target: "script", script = %script, "{line}"),
            4 => tracing::error!(target: "script", script = %script, "{line}"),
            _ => tracing::info!(target: "script", script = %script, "{line}"),
        }
    }
}

/// Why Rules' `auth0.accessToken` could not be had (the cause is logged by the host, never shown
/// to the script).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("auth0.accessToken could not be issued")]
pub struct TokenUnavailable;

/// Why a metadata write from a Rule failed: its text is what the script's promise rejects with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// An unknown user id (the wording Auth0 users quote for the Management API's 404; not checked
    /// against Auth0's reference, so only the meaning is promised).
    #[error("The user does not exist.")]
    NoSuchUser,
    /// The store failed (logged by the host, never shown to the script).
    #[error("the metadata update failed")]
    Failed,
    /// The load-time shape check runs a script's top level with no store behind it.
    #[error("not available while loading")]
    Unavailable,
}
