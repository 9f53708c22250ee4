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

use crate::metrics::{GrantLabel, TokenOutcome};
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

    /// The grant as `/metrics` labels it (password-realm is a password grant).
    fn label(self) -> GrantLabel {
        match self {
            Grant::Password | Grant::PasswordRealm => GrantLabel::password,
            Grant::RefreshToken => GrantLabel::refresh_token,
            Grant::ClientCredentials => GrantLabel::client_credentials,
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

/// Answers one token request; records its latency by grant and outcome (`/metrics`).
pub async fn issue(state: &AppState, req: TokenRequest) -> Result<TokenResponse, OAuthError> {
    let grant_type = req.require("grant_type")?;
    let Some(grant) = Grant::parse(grant_type) else {
        return Err(OAuthError::unsupported_grant_type(grant_type));
    };
    let started = std::time::Instant::now();
    let answer = match grant {
        Grant::Password | Grant::PasswordRealm => password::issue(state, &req, grant).await,
        Grant::RefreshToken => refresh::issue(state, &req).await,
        Grant::ClientCredentials => client_credentials::issue(state, &req).await,
    };
    let outcome = TokenOutcome::of_status(answer.as_ref().err().map(OAuthError::status));
    state
        .metrics
        .token(grant.label(), outcome, started.elapsed());
    answer
}

/// Answers one revocation request (`POST /oauth/revoke`).
pub async fn revoke(state: &AppState, req: TokenRequest) -> Result<(), OAuthError> {
    refresh::revoke(state, &req).await
}
