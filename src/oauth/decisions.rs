//! The Decisions table of `spec/auth0-semantics.md` ("Wire errors of POST /oauth/token"), as code:
//! one named constructor on [`OAuthError`] per row, and one per other error the token endpoint
//! sends. Each says which row it is; the status of each code is decided by [`ErrorCode::status`].
//! Nothing outside this file builds an `OAuthError` from a code and a text: a changed row is a
//! change here, and the table test at the bottom fails until it is made on purpose.
//!
//! Knows nothing of scripts or SQL: the grants decide *which* constructor a verdict, a script
//! failure or a missing row becomes (`grant/verdict.rs`, `grant/password.rs`); this file decides
//! what each looks like on the wire.

use std::borrow::Cow;

use super::{ErrorCode, OAuthError, Source, clean};

/// Auth0's text when brute-force protection blocks a login (spec §5.3).
pub const TOO_MANY_ATTEMPTS: &str = "Your account has been blocked after multiple consecutive login attempts. \
We've sent you a notification via your preferred contact method with instructions on how to unblock it.";

/// Auth0's text for a failed password login, identical for every cause so that it tells nothing.
pub const WRONG_EMAIL_OR_PASSWORD: &str = "Wrong email or password.";

/// Rows: "wrong password, unknown user, user of another connection", "unknown client, wrong
/// secret", "grant not enabled", "unknown grant_type", "unknown `realm`", "no realm and no default
/// connection", "audience not a registered API", "user blocked by an admin", "10 consecutive
/// failures", "unknown, revoked, expired or reused refresh token".
impl OAuthError {
    /// Row "wrong password, unknown user, user of another connection": 403 `invalid_grant`, one
    /// text for every cause.
    pub fn wrong_credentials() -> Self {
        Self::new(ErrorCode::InvalidGrant, WRONG_EMAIL_OR_PASSWORD)
    }

    /// Row "unknown client, wrong secret, missing secret for a confidential client": 401
    /// `invalid_client`, one text for all of them; `WWW-Authenticate: Basic` when Basic was used.
    pub fn invalid_client(basic: bool) -> Self {
        Self {
            basic_challenge: basic,
            ..Self::new(ErrorCode::InvalidClient, "Client authentication failed.")
        }
    }

    /// Row "grant not enabled for the client": 403 `unauthorized_client`.
    pub fn grant_not_allowed(grant_type: &str) -> Self {
        Self::new(
            ErrorCode::UnauthorizedClient,
            format!("Grant type '{grant_type}' not allowed for the client."),
        )
    }

    /// Row "unknown grant_type": 400 `unsupported_grant_type` naming the value.
    pub fn unsupported_grant_type(grant_type: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedGrantType,
            format!("Grant type not supported: {}", clean(grant_type)),
        )
    }

    /// Row "unknown `realm`": 400 `invalid_request`.
    pub fn unknown_realm(realm: &str) -> Self {
        Self::invalid_request(format!("Unknown realm {realm}."))
    }

    /// Row "no realm and no default connection configured": 500 `server_error`.
    pub fn no_default_connection() -> Self {
        Self::new(
            ErrorCode::ServerError,
            "Authorization server not configured with default connection.",
        )
    }

    /// Row "audience not a registered API": 403 `access_denied`.
    pub fn service_not_enabled(audience: &str) -> Self {
        Self::new(
            ErrorCode::AccessDenied,
            format!("Service not enabled within domain: {audience}"),
        )
    }

    /// Row "user blocked by an admin": 401 `unauthorized`.
    pub fn user_blocked() -> Self {
        Self::new(ErrorCode::Unauthorized, "user is blocked")
    }

    /// Row "10 consecutive failures for one user from one IP": 429 `too_many_attempts`, Auth0's
    /// text.
    pub fn too_many_attempts() -> Self {
        Self::new(ErrorCode::TooManyAttempts, TOO_MANY_ATTEMPTS)
    }

    /// Row "unknown, revoked, expired or reused refresh token": 403 `invalid_grant`, whatever
    /// the cause (also another client's token), so that the answer tells nothing.
    pub fn invalid_refresh_token() -> Self {
        Self::new(ErrorCode::InvalidGrant, "Unknown or invalid refresh token.")
    }

    /// A password login asking for the Management API (`<issuer>api/v2/`): 403 `access_denied`.
    /// Its tokens come from client credentials only, so that no user can mint `delete:users`.
    pub fn management_api_for_machines() -> Self {
        Self::new(
            ErrorCode::AccessDenied,
            "The Management API issues tokens to clients (client credentials) only.",
        )
    }

    /// Client credentials without `audience` and no configured default audience: 403
    /// `access_denied` with Auth0's text.
    pub fn no_audience() -> Self {
        Self::new(
            ErrorCode::AccessDenied,
            "No audience parameter was provided, and no default audience has been configured",
        )
    }

    /// Client credentials for an API the client has no client grant for (spec §5.3): 403
    /// `access_denied` with Auth0's text, its double quotes as single ones (RFC 6749 §5.2 does
    /// not allow `"` in a description; every description here is cleaned alike).
    pub fn no_client_grant(client_id: &str, audience: &str) -> Self {
        Self::new(
            ErrorCode::AccessDenied,
            clean(&format!(
                "Client '{client_id}' is not authorized to access resource server '{audience}'. \
                 You need to create a 'client-grant' associated to this API."
            )),
        )
    }

    /// Decision "`organization` on the password grant": the user must be a member, else 403
    /// `access_denied`.
    pub fn not_a_member() -> Self {
        Self::new(
            ErrorCode::AccessDenied,
            "User is not a member of the organization.",
        )
    }
}

/// Row "missing/duplicate parameter, malformed body, both Basic and body credentials" and row
/// "body too large, too many parameters": `invalid_request`, naming the parameter or the limit.
impl OAuthError {
    /// Every `invalid_request` goes through here; private so that each has a name.
    fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// Row "missing parameter": `Missing required parameter: <name>`.
    pub fn missing(param: &str) -> Self {
        Self::invalid_request(format!("Missing required parameter: {param}"))
    }

    /// Row "duplicate parameter" (RFC 6749 §3.2).
    pub fn repeated_param(name: &str) -> Self {
        Self::invalid_request(format!("Parameter {} must not be repeated.", clean(name)))
    }

    /// Row "malformed body": a parameter without a name.
    pub fn nameless_param() -> Self {
        Self::invalid_request("A parameter has no name.")
    }

    /// Row "malformed body": a JSON parameter that is an object, or an array other than `scope`.
    pub fn param_not_string(name: &str) -> Self {
        Self::invalid_request(format!("Parameter {} must be a string.", clean(name)))
    }

    /// Row "malformed body": a JSON body that is not an object.
    pub fn body_not_json_object() -> Self {
        Self::invalid_request("The request body is not a JSON object.")
    }

    /// Row "malformed body": neither a form nor JSON.
    pub fn unsupported_content_type() -> Self {
        Self::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded or application/json.",
        )
    }

    /// Row "malformed body": the connection broke while the body was read.
    pub fn body_unreadable() -> Self {
        Self::invalid_request("The request body could not be read.")
    }

    /// Row "malformed body": an `Authorization` header that is not valid Basic.
    pub fn malformed_authorization() -> Self {
        Self::invalid_request("Malformed Authorization header.")
    }

    /// Row "both Basic and body credentials" (RFC 6749 §2.3.1).
    pub fn both_client_credentials() -> Self {
        Self::invalid_request(
            "Client credentials must be sent in the Authorization header or the body, not both.",
        )
    }

    /// Row "both Basic and body credentials": a body `client_id` naming another client.
    pub fn client_id_mismatch() -> Self {
        Self::invalid_request("client_id in the body does not match the Authorization header.")
    }

    /// Row "too many parameters": 400, saying the limit.
    pub fn too_many_params(limit: usize) -> Self {
        Self::invalid_request(format!("Too many parameters (the limit is {limit})."))
    }

    /// Row "body too large": 413 `invalid_request` saying the limit.
    pub fn body_too_large(limit: usize) -> Self {
        Self {
            status: Some(413),
            ..Self::invalid_request(format!("Request body exceeds the limit of {limit} bytes."))
        }
    }

    /// Row "requested scope not allowed" (spec §5.3 "Bad scope type"): 400 `invalid_scope` for a
    /// JSON `scope` that is neither a string nor an array of strings. Scopes that are not allowed
    /// are dropped, not refused (README, "Scopes").
    pub fn scope_not_string() -> Self {
        Self::new(
            ErrorCode::InvalidScope,
            "Scope must be an array or a string",
        )
    }
}

/// Rows "`api.access.deny(reason)` …", "a Rule's `callback(new UnauthorizedError(msg))`",
/// "script timeout, out of memory, …" and "`api.multifactor.enable(...)`": what the scripts'
/// answer looks like. Which verdict becomes which is decided in `grant/verdict.rs`.
impl OAuthError {
    /// Row "`api.access.deny(reason)`, a Rule's `callback(new Error(msg))`, a script that throws
    /// or rejects": 403 `access_denied` with the reason, cleaned.
    pub fn script_denied(reason: &str) -> Self {
        Self::new(ErrorCode::AccessDenied, clean(reason))
    }

    /// Row "a Rule's `callback(new UnauthorizedError(msg))`": 401 `unauthorized` with the
    /// message, cleaned.
    pub fn script_unauthorized(reason: &str) -> Self {
        Self::new(ErrorCode::Unauthorized, clean(reason))
    }

    /// Row "`api.multifactor.enable(...)` in a password or refresh grant": 403 `mfa_required`.
    pub fn mfa_required() -> Self {
        Self::new(
            ErrorCode::MfaRequired,
            "Multifactor authentication required",
        )
    }

    /// A redirect demanded by a script (`api.redirect.sendUserTo`, a Rule's `context.redirect`),
    /// impossible on a token endpoint: 400 `interaction_required` with the script's text, cleaned.
    pub fn interaction_required(reason: &str) -> Self {
        Self::new(ErrorCode::InteractionRequired, clean(reason))
    }

    /// `api.validation.error(code, message)`: 403 with the script's own error code and message,
    /// both cleaned; a code that cleans to nothing stays `access_denied`.
    pub fn validation_error(code: &str, message: &str) -> Self {
        let code = clean(code).trim().chars().take(64).collect::<String>();
        Self {
            script_code: (!code.is_empty()).then_some(code),
            ..Self::script_denied(message)
        }
    }

    /// A credentials-exchange Action's `api.access.deny(code, reason)` (spec §2): the code as
    /// `error` (`invalid_scope`, `invalid_request`: 400; `server_error`: 500, as the spec
    /// suggests), the reason cleaned as `error_description`.
    pub fn credentials_denied(code: &str, reason: &str) -> Self {
        let code = match code {
            "invalid_scope" => ErrorCode::InvalidScope,
            "invalid_request" => ErrorCode::InvalidRequest,
            _ => ErrorCode::ServerError,
        };
        Self::new(code, clean(reason))
    }

    /// `api.authentication.setPrimaryUser(id)` naming a user that does not exist or is blocked:
    /// 403 `access_denied`, as Auth0 issues no tokens.
    pub fn no_primary_user(id: &str) -> Self {
        Self::new(
            ErrorCode::AccessDenied,
            format!("The primary user {} does not exist.", clean(id)),
        )
    }

    /// Row "script timeout, out of memory, never settles, a Rule never calls back, engine
    /// failure": 500 `server_error` with the failure kind and the script's name (never its
    /// stack, which stays in `source` for the log).
    pub fn script_failed(description: String, source: impl Into<Source>) -> Self {
        Self::server_error(description, source)
    }

    /// The script engine refusing logins while wedged threads run: 503
    /// `temporarily_unavailable` with `Retry-After` (RFC 9110 §10.2.3).
    pub fn scripts_overloaded(
        description: String,
        retry_after_s: u32,
        source: impl Into<Source>,
    ) -> Self {
        Self {
            retry_after: Some(retry_after_s),
            ..Self::new(ErrorCode::TemporarilyUnavailable, description).with_source(source)
        }
    }

    /// Decision "> 100 KB of custom claims in one token fails the login with server_error naming
    /// the limit".
    pub fn claims_too_large(script: &str) -> Self {
        Self::new(
            ErrorCode::ServerError,
            format!(
                "Script '{script}' set more than 100 KB of custom claims for one token (claims too large)."
            ),
        )
    }

    /// A token longer than `max_token_bytes` (README, "Token size"): 500 `server_error` naming
    /// the script with the largest share of it, in the wording of the custom-claims limit.
    pub fn token_too_large(
        token: &str,
        max: usize,
        script: Option<&str>,
        source: impl Into<Source>,
    ) -> Self {
        let text = match script {
            Some(s) => {
                format!("Script '{s}' made the {token} larger than {max} bytes (token too large).")
            }
            None => format!("The {token} would be larger than {max} bytes (token too large)."),
        };
        Self::server_error(text, source)
    }
}

/// Failures of the server itself: `server_error` or, for a load that will pass,
/// `temporarily_unavailable`. The cause is kept for the log line, never sent.
impl OAuthError {
    /// `server_error` with a description the client may see, keeping the cause for the log.
    fn server_error(description: impl Into<Cow<'static, str>>, source: impl Into<Source>) -> Self {
        Self::new(ErrorCode::ServerError, description).with_source(source)
    }

    /// An internal failure: a generic description on the wire, the cause in the log.
    pub fn internal(source: impl Into<Source>) -> Self {
        Self::server_error("Internal server error.", source)
    }

    /// SQLite busy past its timeout (STYLE: "Busy errors map to `temporarily_unavailable`").
    pub fn store_busy(source: impl Into<Source>) -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "The database is busy; retry shortly.",
        )
        .with_source(source)
    }

    /// The password-hashing pool is full: 503 `temporarily_unavailable`.
    pub fn hashing_overloaded(source: impl Into<Source>) -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "Too many logins at once; retry shortly.",
        )
        .with_source(source)
    }
}

/// Errors of the protected resources (`/userinfo`, RFC 6750 §3.1) and of the per-client settings
/// of the password grants: enabled connections and trusted `auth0-forwarded-for`.
impl OAuthError {
    /// No bearer token at all: 401 with a challenge but no error code in it (RFC 6750 §3.1).
    pub fn bearer_missing() -> Self {
        Self::new(ErrorCode::Unauthorized, "Missing access token.")
    }

    /// A bearer token that is malformed, badly signed, expired or for another audience: 401
    /// `invalid_token` saying which (the reason names no key and echoes no token).
    pub fn invalid_token(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, reason)
    }

    /// A valid token whose user has been deleted since it was issued: 401 `invalid_token`.
    pub fn token_user_gone() -> Self {
        Self::invalid_token("The user of the access token does not exist.")
    }

    /// A valid token whose user an admin has blocked since: 401 `invalid_token`, with Auth0's
    /// text for a blocked user.
    pub fn token_user_blocked() -> Self {
        Self::invalid_token("user is blocked")
    }

    /// A token for `/userinfo` without `openid`: 403 `insufficient_scope` (Auth0: "works only if
    /// `openid` was granted").
    pub fn openid_not_granted() -> Self {
        Self::new(
            ErrorCode::InsufficientScope,
            "The access token does not grant the openid scope.",
        )
    }

    /// A password login through a connection not enabled for the client: 400 `invalid_request`
    /// with Auth0's text (its Authentication API error table: "the connection was disabled").
    pub fn connection_not_enabled() -> Self {
        Self::invalid_request("the connection was disabled")
    }

    /// A trusted client sent an `auth0-forwarded-for` that is not one IP address: 400
    /// `invalid_request` (Auth0 does not document this case; refusing shows the backend's bug
    /// instead of counting failures against the backend's own address).
    pub fn forwarded_for_invalid() -> Self {
        Self::invalid_request("The auth0-forwarded-for header must be one IP address.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (status, `error`, `error_description`) as the client sees them.
    fn wire(e: &OAuthError) -> (u16, String, String) {
        let b = e.body();
        (
            e.status(),
            b["error"].as_str().unwrap_or_default().to_owned(),
            b["error_description"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// Every named constructor, with what it must put on the wire. A row changed on purpose is
    /// changed here too; a row changed by accident fails.
    #[test]
    fn every_decision_has_its_status_code_and_description() {
        let script = ScriptFailure;
        #[rustfmt::skip]
        let rows: Vec<(OAuthError, u16, &str, &str)> = vec![
            (OAuthError::wrong_credentials(), 403, "invalid_grant", "Wrong email or password."),
            (OAuthError::invalid_client(false), 401, "invalid_client", "Client authentication failed."),
            (OAuthError::grant_not_allowed("password"), 403, "unauthorized_client", "Grant type 'password' not allowed for the client."),
            (OAuthError::unsupported_grant_type("ma\"gic"), 400, "unsupported_grant_type", "Grant type not supported: ma'gic"),
            (OAuthError::unknown_realm("db"), 400, "invalid_request", "Unknown realm db."),
            (OAuthError::no_default_connection(), 500, "server_error", "Authorization server not configured with default connection."),
            (OAuthError::service_not_enabled("https://x"), 403, "access_denied", "Service not enabled within domain: https://x"),
            (OAuthError::user_blocked(), 401, "unauthorized", "user is blocked"),
            (OAuthError::too_many_attempts(), 429, "too_many_attempts", TOO_MANY_ATTEMPTS),
            (OAuthError::invalid_refresh_token(), 403, "invalid_grant", "Unknown or invalid refresh token."),
            (OAuthError::not_a_member(), 403, "access_denied", "User is not a member of the organization."),
            (OAuthError::management_api_for_machines(), 403, "access_denied", "The Management API issues tokens to clients (client credentials) only."),
            (OAuthError::no_audience(), 403, "access_denied", "No audience parameter was provided, and no default audience has been configured"),
            (OAuthError::no_client_grant("c1", "https://x"), 403, "access_denied", "Client 'c1' is not authorized to access resource server 'https://x'. You need to create a 'client-grant' associated to this API."),
            (OAuthError::credentials_denied("invalid_scope", "r"), 400, "invalid_scope", "r"),
            (OAuthError::credentials_denied("invalid_request", "r\""), 400, "invalid_request", "r'"),
            (OAuthError::credentials_denied("server_error", "r"), 500, "server_error", "r"),
            (OAuthError::bearer_missing(), 401, "unauthorized", "Missing access token."),
            (OAuthError::invalid_token("The access token expired."), 401, "invalid_token", "The access token expired."),
            (OAuthError::token_user_gone(), 401, "invalid_token", "The user of the access token does not exist."),
            (OAuthError::token_user_blocked(), 401, "invalid_token", "user is blocked"),
            (OAuthError::openid_not_granted(), 403, "insufficient_scope", "The access token does not grant the openid scope."),
            (OAuthError::connection_not_enabled(), 400, "invalid_request", "the connection was disabled"),
            (OAuthError::forwarded_for_invalid(), 400, "invalid_request", "The auth0-forwarded-for header must be one IP address."),
            (OAuthError::missing("username"), 400, "invalid_request", "Missing required parameter: username"),
            (OAuthError::repeated_param("scope"), 400, "invalid_request", "Parameter scope must not be repeated."),
            (OAuthError::nameless_param(), 400, "invalid_request", "A parameter has no name."),
            (OAuthError::param_not_string("a\\b"), 400, "invalid_request", "Parameter a/b must be a string."),
            (OAuthError::body_not_json_object(), 400, "invalid_request", "The request body is not a JSON object."),
            (OAuthError::unsupported_content_type(), 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded or application/json."),
            (OAuthError::body_unreadable(), 400, "invalid_request", "The request body could not be read."),
            (OAuthError::malformed_authorization(), 400, "invalid_request", "Malformed Authorization header."),
            (OAuthError::both_client_credentials(), 400, "invalid_request", "Client credentials must be sent in the Authorization header or the body, not both."),
            (OAuthError::client_id_mismatch(), 400, "invalid_request", "client_id in the body does not match the Authorization header."),
            (OAuthError::too_many_params(64), 400, "invalid_request", "Too many parameters (the limit is 64)."),
            (OAuthError::body_too_large(10), 413, "invalid_request", "Request body exceeds the limit of 10 bytes."),
            (OAuthError::scope_not_string(), 400, "invalid_scope", "Scope must be an array or a string"),
            (OAuthError::script_denied("no \"way\"\n"), 403, "access_denied", "no 'way' "),
            (OAuthError::script_unauthorized("nope"), 401, "unauthorized", "nope"),
            (OAuthError::mfa_required(), 403, "mfa_required", "Multifactor authentication required"),
            (OAuthError::interaction_required("go\tthere"), 400, "interaction_required", "go there"),
            (OAuthError::validation_error("invalid_profile", "Say \"hi\""), 403, "invalid_profile", "Say 'hi'"),
            (OAuthError::validation_error(" ", "m"), 403, "access_denied", "m"),
            (OAuthError::no_primary_user("auth0|\"x\""), 403, "access_denied", "The primary user auth0|'x' does not exist."),
            (OAuthError::script_failed("Script 's' exceeded the time limit (timeout).".into(), script), 500, "server_error", "Script 's' exceeded the time limit (timeout)."),
            (OAuthError::scripts_overloaded("busy".into(), 5, script), 503, "temporarily_unavailable", "busy"),
            (OAuthError::claims_too_large("big"), 500, "server_error", "Script 'big' set more than 100 KB of custom claims for one token (claims too large)."),
            (OAuthError::token_too_large("access token", 8, Some("s"), script), 500, "server_error", "Script 's' made the access token larger than 8 bytes (token too large)."),
            (OAuthError::token_too_large("ID token", 8, None, script), 500, "server_error", "The ID token would be larger than 8 bytes (token too large)."),
            (OAuthError::internal("disk on fire"), 500, "server_error", "Internal server error."),
            (OAuthError::store_busy(script), 503, "temporarily_unavailable", "The database is busy; retry shortly."),
            (OAuthError::hashing_overloaded(script), 503, "temporarily_unavailable", "Too many logins at once; retry shortly."),
        ];
        for (e, status, error, description) in rows {
            assert_eq!(
                wire(&e),
                (status, error.to_owned(), description.to_owned()),
                "{e}"
            );
        }
    }

    #[test]
    fn headers_and_sources_of_the_rows_that_carry_them() {
        assert!(OAuthError::invalid_client(true).basic_challenge);
        assert!(!OAuthError::invalid_client(false).basic_challenge);
        assert_eq!(
            OAuthError::scripts_overloaded("busy".into(), 7, ScriptFailure).retry_after,
            Some(7)
        );
        // The cause is kept for the log line of every server failure, never put on the wire.
        for e in [
            OAuthError::internal("disk on fire"),
            OAuthError::script_failed("x".into(), ScriptFailure),
            OAuthError::store_busy(ScriptFailure),
        ] {
            assert!(e.source.is_some(), "{e}");
            assert!(!e.body().to_string().contains("secret cause"), "{e}");
        }
    }

    /// A cause whose text must never reach the wire.
    #[derive(Debug, Clone, Copy)]
    struct ScriptFailure;

    impl std::fmt::Display for ScriptFailure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("secret cause")
        }
    }

    impl std::error::Error for ScriptFailure {}
}
