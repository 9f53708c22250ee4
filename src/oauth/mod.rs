//! RFC 6749 wire types of the token endpoint: the request, the success response and the one error
//! type, [`OAuthError`], with its rendering (status, JSON). Every error the endpoint sends, one per
//! row of the Decisions table in `spec/auth0-semantics.md`, is a named constructor in
//! `decisions.rs`. Knows nothing of JavaScript or SQL.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

mod decisions;

pub use decisions::{TOO_MANY_ATTEMPTS, WRONG_EMAIL_OR_PASSWORD};

/// RFC 6749 §5.2 error codes, plus the Auth0 extensions the token endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    /// Auth0: a Rule's `UnauthorizedError`, or a blocked user.
    Unauthorized,
    /// Auth0: MFA demanded by a script; no MFA grant exists here.
    MfaRequired,
    /// Auth0: a redirect demanded by a script, impossible on a token endpoint.
    InteractionRequired,
    /// Auth0 brute-force protection.
    TooManyAttempts,
    ServerError,
    /// RFC 6749 §5.2 allows it for an overloaded server.
    TemporarilyUnavailable,
    /// RFC 6750 §3.1: a bearer token that is malformed, expired or otherwise not accepted.
    InvalidToken,
    /// RFC 6750 §3.1: a bearer token without the scope the resource needs.
    InsufficientScope,
}

impl ErrorCode {
    /// The `error` string on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::Unauthorized => "unauthorized",
            Self::MfaRequired => "mfa_required",
            Self::InteractionRequired => "interaction_required",
            Self::TooManyAttempts => "too_many_attempts",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }

    /// The HTTP status of each code: the one place that decides it (Decisions table).
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest | Self::UnsupportedGrantType | Self::InteractionRequired => 400,
            Self::InvalidScope => 400,
            Self::InvalidClient | Self::Unauthorized | Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
            Self::InvalidGrant | Self::UnauthorizedClient | Self::AccessDenied => 403,
            Self::MfaRequired => 403,
            Self::TooManyAttempts => 429,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync>;

/// The only error the HTTP layer ever sees. Internal failures keep their `source` for the log line
/// written once, when the error is rendered; the wire only gets the code and the description.
#[derive(Debug)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Option<Cow<'static, str>>,
    /// Overrides the code's status (413 for an oversized body).
    pub status: Option<u16>,
    /// Ask for `WWW-Authenticate: Basic` (client authentication failed over Basic).
    pub basic_challenge: bool,
    /// `Retry-After` in seconds (RFC 9110 §10.2.3), for a 503 that will pass.
    pub retry_after: Option<u32>,
    /// The `error` a script chose with `api.validation.error(code, message)`, sent instead of
    /// `code` (which still decides the status).
    pub script_code: Option<String>,
    pub source: Option<Source>,
}

impl OAuthError {
    /// An error with a code and a description. Private to this module: every error the server
    /// sends has a named constructor in `decisions.rs`.
    fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: Some(description.into()),
            status: None,
            basic_challenge: false,
            retry_after: None,
            script_code: None,
            source: None,
        }
    }

    /// The `error` string on the wire.
    pub fn error(&self) -> &str {
        self.script_code.as_deref().unwrap_or(self.code.as_str())
    }

    /// Keeps `source` for the log line.
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// The JSON body, RFC 6749 §5.2.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "error": self.error() });
        if let Some(d) = &self.description {
            // RFC 6749 §5.2 limits the characters; script names and texts may hold any.
            body["error_description"] = clean(d).into();
        }
        body
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error())?;
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(s) = &self.source {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

impl std::error::Error for OAuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

/// Keeps the characters RFC 6749 §5.2 allows in `error_description` (%x20-21 / %x23-5B /
/// %x5D-7E): `"` becomes `'`, `\` becomes `/`, anything else outside the range a space; the
/// length is capped at 500 characters.
///
/// ```
/// assert_eq!(claimsmith::oauth::clean("say \"no\"\n"), "say 'no' ");
/// ```
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => ' ',
        })
        .take(500)
        .collect()
}

/// A token request as the grants read it: the parameters (each at most once), the Basic
/// credentials if any, and what `event.request` needs to know about the caller.
#[derive(Default)]
pub struct TokenRequest {
    params: Vec<(String, String)>,
    /// `Authorization: Basic` credentials, already decoded (RFC 6749 §2.3.1).
    pub basic: Option<(String, String)>,
    pub meta: RequestMeta,
}

impl fmt::Debug for TokenRequest {
    /// Parameter names only: values include passwords and secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("TokenRequest")
            .field("params", &names)
            .field("basic", &self.basic.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

/// The caller, as scripts see it in `event.request`.
#[derive(Debug, Default, Clone)]
pub struct RequestMeta {
    /// The end user's IP: the peer's, until the grant has authenticated a client whose
    /// `auth0-forwarded-for` it trusts (`grant/client.rs`).
    pub ip: String,
    /// The `auth0-forwarded-for` header as sent, if any; honoured only for a trusted client.
    pub forwarded_for: Option<String>,
    pub hostname: String,
    pub user_agent: Option<String>,
    pub language: Option<String>,
    pub method: String,
    pub query: Vec<(String, String)>,
}

/// Parameters scripts never see, in the body or the query.
const SECRET_PARAMS: [&str; 4] = [
    "password",
    "client_secret",
    "refresh_token",
    "client_assertion",
];

/// `pairs` without the secret parameters.
pub fn redacted(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs
        .iter()
        .filter(|(k, _)| !SECRET_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// At most this many parameters in one request.
pub const MAX_PARAMS: usize = 64;

impl TokenRequest {
    /// A request from decoded parameters; a repeated or empty-named parameter, or too many, is
    /// `invalid_request` (RFC 6749 §3.2: parameters must not be included more than once).
    pub fn new(
        params: Vec<(String, String)>,
        basic: Option<(String, String)>,
        meta: RequestMeta,
    ) -> Result<Self, OAuthError> {
        if params.len() > MAX_PARAMS {
            return Err(OAuthError::too_many_params(MAX_PARAMS));
        }
        for (i, (k, _)) in params.iter().enumerate() {
            if k.is_empty() {
                return Err(OAuthError::nameless_param());
            }
            if params[..i].iter().any(|(p, _)| p == k) {
                return Err(OAuthError::repeated_param(k));
            }
        }
        Ok(Self {
            params,
            basic,
            meta,
        })
    }

    /// A parameter; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that must be there.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::missing(name))
    }

    /// The parameters as scripts may see them (`event.request.body`): secrets removed.
    pub fn redacted_params(&self) -> impl Iterator<Item = (&str, &str)> {
        redacted(&self.params)
    }
}

/// RFC 6749 §5.1 success body.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `[debug] provenance`: what became of each custom claim, as compact JSON, for the
    /// `x-claimsmith-provenance` header (never in the body).
    #[serde(skip)]
    pub provenance: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused_and_secrets_redacted() {
        let p = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let e = TokenRequest::new(
            p(&[("scope", "a"), ("scope", "b")]),
            None,
            RequestMeta::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.body()["error_description"],
            "Parameter scope must not be repeated."
        );
        let r = TokenRequest::new(
            p(&[("password", "pw"), ("username", "u"), ("audience", "")]),
            None,
            RequestMeta::default(),
        )
        .unwrap();
        assert_eq!(r.get("audience"), None);
        assert_eq!(
            r.redacted_params().collect::<Vec<_>>(),
            vec![("username", "u"), ("audience", "")]
        );
    }

    #[test]
    fn clean_caps_length_and_strips_controls() {
        let long = "é".repeat(600);
        let c = clean(&long);
        assert_eq!(c.chars().count(), 500);
        assert!(
            c.chars()
                .all(|ch| (' '..='~').contains(&ch) && ch != '"' && ch != '\\')
        );
    }
}
