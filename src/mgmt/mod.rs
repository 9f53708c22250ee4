//! A subset of Auth0's Management API v2 (`<issuer>api/v2/`): the logic of its endpoints as plain
//! functions of parsed inputs (no hyper here: `http/mgmt.rs` reads requests, checks the bearer
//! token and its scope, and renders). Errors are [`MgmtError`]s, in Auth0's shape.

pub mod access;
mod error;
mod password_policy;
pub mod users;

pub use error::MgmtError;

/// The Management API's audience for an issuer (always registered, see `bootstrap.rs`).
pub fn audience(issuer: &str) -> String {
    format!("{issuer}api/v2/")
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
