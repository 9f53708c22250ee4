//! The grants of the token endpoint. [`issue`] reads `grant_type` and hands the request to the
//! grant's own file, which alone decides which error a failed lookup becomes.

mod attempts;
mod client;
mod client_credentials;
mod login;
mod password;
mod refresh;
mod request;
mod scope;
mod size;
mod verdict;

pub use scope::{Granted, apply as apply_scope_edits};
pub use verdict::decide as decide_verdict;

use crate::oauth::{OAuthError, TokenRequest, TokenResponse};
use crate::state::AppState;

/// Auth0's password-realm grant: the password grant with an explicit connection.
pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// The grants this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Password,
    PasswordRealm,
    RefreshToken,
    ClientCredentials,
}

impl Grant {
    /// Parses `grant_type`.
    pub fn parse(s: &str) -> Option<Grant> {
        match s {
            "password" => Some(Grant::Password),
            PASSWORD_REALM => Some(Grant::PasswordRealm),
            refresh::GRANT => Some(Grant::RefreshToken),
            client_credentials::GRANT => Some(Grant::ClientCredentials),
            _ => None,
        }
    }

    /// The `grant_type` value, as listed in a client's grant types.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Password => "password",
            Grant::PasswordRealm => PASSWORD_REALM,
            Grant::RefreshToken => refresh::GRANT,
            Grant::ClientCredentials => client_credentials::GRANT,
        }
    }
}

/// Every `grant_type` value the server supports (discovery).
pub const SUPPORTED: [&str; 4] = [
    "password",
    PASSWORD_REALM,
    refresh::GRANT,
    client_credentials::GRANT,
];

/// Answers one token request.
pub async fn issue(state: &AppState, req: TokenRequest) -> Result<TokenResponse, OAuthError> {
    let grant_type = req.require("grant_type")?;
    match Grant::parse(grant_type) {
        Some(g @ (Grant::Password | Grant::PasswordRealm)) => password::issue(state, &req, g).await,
        Some(Grant::RefreshToken) => refresh::issue(state, &req).await,
        Some(Grant::ClientCredentials) => client_credentials::issue(state, &req).await,
        None => Err(OAuthError::unsupported_grant_type(grant_type)),
    }
}

/// Answers one revocation request (`POST /oauth/revoke`).
pub async fn revoke(state: &AppState, req: TokenRequest) -> Result<(), OAuthError> {
    refresh::revoke(state, &req).await
}
