//! A subset of Auth0's Management API v2 (`<issuer>api/v2/`): the logic of its endpoints as plain
//! functions of parsed inputs (no hyper here: `http/mgmt.rs` reads requests, checks the bearer
//! token and its scope, and renders). Errors are [`MgmtError`]s, in Auth0's shape.

pub mod access;
mod error;
pub mod users;

pub use error::MgmtError;

/// The path of the Management API's audience under the issuer.
const PATH: &str = "api/v2/";

/// The Management API's audience for an issuer (always registered, see `bootstrap.rs`).
pub fn audience(issuer: &str) -> String {
    format!("{issuer}{PATH}")
}

/// Whether `aud` is the Management API's audience, without building it (every password login
/// asks).
pub fn is_audience(issuer: &str, aud: &str) -> bool {
    aud.strip_prefix(issuer) == Some(PATH)
}

/// The scopes of the Management API's registration: Auth0's names, those this subset checks
/// first.
pub const SCOPES: &[&str] = &[
    "read:users",
    "create:users",
    "update:users",
    "delete:users",
    "read:roles",
    "create:roles",
    "read:role_members",
    "create:role_members",
    "delete:role_members",
    "read:organizations",
    "read:organization_members",
    "create:organization_members",
    "read:users_app_metadata",
    "update:users_app_metadata",
    "create:users_app_metadata",
];
