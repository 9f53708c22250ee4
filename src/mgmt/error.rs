//! The Management API's error answers, in Auth0's shape (`statusCode`, `error`, `message`,
//! `errorCode`): one named constructor per situation, as `oauth/decisions.rs` is for the token
//! endpoint. Nothing else builds a Management API error body.

use serde_json::{Value, json};

use crate::register::Refused;

/// One refusal or failure of a Management API call.
#[derive(Debug)]
pub struct MgmtError {
    pub status: u16,
    pub message: String,
    /// Auth0's `errorCode`, where it sends one.
    pub code: Option<&'static str>,
    /// The cause of a 500, for the log (never the wire).
    pub source: Option<String>,
}

impl MgmtError {
    fn new(status: u16, message: impl Into<String>, code: Option<&'static str>) -> Self {
        MgmtError {
            status,
            message: message.into(),
            code,
            source: None,
        }
    }

    /// No `Authorization: Bearer` header.
    pub fn missing_authentication() -> Self {
        Self::new(401, "Missing authentication", None)
    }

    /// A token that is malformed, not signed by this server, for another issuer or audience.
    pub fn invalid_token() -> Self {
        Self::new(401, "Invalid token", Some("invalid_token"))
    }

    /// An expired token, in Auth0's words.
    pub fn expired_token() -> Self {
        Self::new(
            401,
            "Expired token received for JSON Web Token validation",
            Some("invalid_token"),
        )
    }

    /// A valid token without the endpoint's scope.
    pub fn insufficient_scope(scopes: &[&str]) -> Self {
        Self::new(
            403,
            format!("Insufficient scope, expected any of: {}", scopes.join(",")),
            Some("insufficient_scope"),
        )
    }

    /// A body or query that does not validate: Auth0's `Payload validation error: '…'.`
    pub fn invalid_body(detail: &str) -> Self {
        Self::new(
            400,
            format!("Payload validation error: '{detail}'."),
            Some("invalid_body"),
        )
    }

    /// `connection` names no connection.
    pub fn unknown_connection() -> Self {
        Self::new(
            400,
            "The connection does not exist.",
            Some("inexistent_connection"),
        )
    }

    /// The password fails the connection's password policy.
    pub fn weak_password() -> Self {
        Self::new(400, "PasswordStrengthError: Password is too weak", None)
    }

    /// Creating or renaming to an email or username the connection already has.
    pub fn user_exists() -> Self {
        Self::new(409, "The user already exists.", Some("auth0_idp_error"))
    }

    pub fn no_such_user() -> Self {
        Self::new(404, "The user does not exist.", Some("inexistent_user"))
    }

    pub fn no_such_role() -> Self {
        Self::new(404, "The role does not exist.", Some("inexistent_role"))
    }

    pub fn role_exists() -> Self {
        Self::new(409, "The role already exists.", Some("role_conflict"))
    }

    pub fn no_such_org() -> Self {
        Self::new(
            404,
            "The organization does not exist.",
            Some("inexistent_organization"),
        )
    }

    /// A registration refused (`register`): the policy, the pre-user-registration Actions, a
    /// duplicate.
    pub fn refused(r: Refused) -> Self {
        match r {
            Refused::WeakPassword { .. } => Self::weak_password(),
            Refused::Denied {
                reason,
                user_message,
            } => {
                let message = if user_message.is_empty() {
                    reason
                } else {
                    user_message
                };
                Self::new(400, message, Some("extensibility_error"))
            }
            Refused::Invalid { code: _, message } => {
                Self::new(400, message, Some("extensibility_error"))
            }
            Refused::ScriptFailed(e) => MgmtError {
                source: Some(e.to_string()),
                ..Self::new(400, e.public_description(), Some("extensibility_error"))
            },
            Refused::Exists => Self::user_exists(),
            Refused::Busy => Self::busy(),
            Refused::Internal(cause) => Self::internal(&cause),
        }
    }

    /// An organization name (or id) in use.
    pub fn org_exists() -> Self {
        Self::new(409, "An organization with this name already exists.", None)
    }

    /// A path or method this subset does not serve.
    pub fn not_found() -> Self {
        Self::new(404, "Not Found", None)
    }

    /// The body is larger than `max_body_bytes`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            format!("Payload too large (limit {limit} bytes)"),
            None,
        )
    }

    /// The database is busy past its timeout: retry.
    pub fn busy() -> Self {
        Self::new(503, "Service Unavailable: retry", None)
    }

    /// Anything else: a 500 whose cause goes to the log only.
    pub fn internal(source: impl std::fmt::Display) -> Self {
        MgmtError {
            source: Some(source.to_string()),
            ..Self::new(500, "Internal Server Error", None)
        }
    }

    /// The answer's JSON body.
    pub fn body(&self) -> Value {
        let mut b = json!({
            "statusCode": self.status,
            "error": reason(self.status),
            "message": self.message,
        });
        if let Some(code) = self.code {
            b["errorCode"] = code.into();
        }
        b
    }
}

/// The HTTP reason phrase Auth0 puts in `error`.
fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Payload Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

impl From<crate::store::StoreError> for MgmtError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Busy => MgmtError::busy(),
            StoreError::Conflict(_) => MgmtError::user_exists(),
            e => MgmtError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_auth0s_shape() {
        assert_eq!(
            MgmtError::insufficient_scope(&["read:users"]).body(),
            json!({"statusCode": 403, "error": "Forbidden",
                "message": "Insufficient scope, expected any of: read:users", "errorCode": "insufficient_scope"})
        );
        assert_eq!(
            MgmtError::missing_authentication().body(),
            json!({"statusCode": 401, "error": "Unauthorized", "message": "Missing authentication"})
        );
        assert_eq!(
            MgmtError::user_exists().body(),
            json!({"statusCode": 409, "error": "Conflict", "message": "The user already exists.", "errorCode": "auth0_idp_error"})
        );
    }
}
