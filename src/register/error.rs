//! The signup endpoint's error answers, in the Authentication API's shape for it (`name`,
//! `code`, `description`, `statusCode`, and what some add): one named constructor per situation,
//! as `oauth/decisions.rs` is for the token endpoint and `mgmt/error.rs` for the Management API.
//! Nothing else builds a signup error body. Bodies seen in real Auth0 answers are marked so; the
//! others are claimsmith's choice in the same shape (README, "Signup").

use serde_json::{Value, json};

use super::password_policy::Policy;

/// One refusal or failure of a signup.
#[derive(Debug)]
pub struct SignupError {
    pub status: u16,
    pub body: Value,
    /// The cause of a 5xx, for the log (never the wire).
    pub source: Option<String>,
}

impl SignupError {
    fn bad(name: &str, code: &str, description: impl Into<Value>) -> Self {
        SignupError {
            status: 400,
            body: json!({
                "name": name,
                "code": code,
                "description": description.into(),
                "statusCode": 400,
            }),
            source: None,
        }
    }

    /// The email or username is taken, when the configuration lets signup say so (Auth0's,
    /// real).
    pub fn user_exists() -> Self {
        Self::bad("BadRequestError", "user_exists", "The user already exists.")
    }

    /// The same, when it must not say so (Auth0's default, real).
    pub fn invalid_signup() -> Self {
        Self::bad("BadRequestError", "invalid_signup", "Invalid sign up")
    }

    /// The password fails the connection's policy: which rules it misses, and the policy
    /// (Auth0's `PasswordStrengthError`, real).
    pub fn weak_password(policy: &Policy, missing: Value) -> Self {
        let mut e = Self::bad("PasswordStrengthError", "invalid_password", missing);
        e.body["message"] = "Password is too weak".into();
        e.body["policy"] = policy.explain().into();
        e
    }

    /// A required parameter is missing or not a string.
    pub fn missing(param: &str) -> Self {
        Self::bad(
            "BadRequestError",
            "invalid_body",
            format!("Missing required property: {param}"),
        )
    }

    /// A parameter of the wrong type or beyond Auth0's limits (`user_metadata`: at most ten
    /// string properties; names up to 100 characters, values up to 500).
    pub fn invalid_param(detail: &str) -> Self {
        Self::bad("BadRequestError", "invalid_body", detail)
    }

    /// The body is not a JSON object or a form.
    pub fn unreadable() -> Self {
        Self::bad(
            "BadRequestError",
            "invalid_body",
            "the body must be a JSON object or a form",
        )
    }

    /// `client_id` names no application.
    pub fn unknown_client() -> Self {
        Self::bad("BadRequestError", "invalid_client", "Unknown client")
    }

    /// `connection` names no database connection enabled for the application.
    pub fn unknown_connection() -> Self {
        Self::bad(
            "BadRequestError",
            "invalid_connection",
            "the connection was not found or is not enabled for this client",
        )
    }

    /// The connection has `disable_signup` (Auth0's description, real).
    pub fn signup_disabled() -> Self {
        Self::bad(
            "BadRequestError",
            "operation_not_supported",
            "public signup is disabled",
        )
    }

    /// A pre-user-registration Action's `api.access.deny(reason, userMessage)` (Auth0's, real:
    /// the reason as `message`/`description`, the user message as `friendly_message`).
    pub fn denied(reason: &str, user_message: &str) -> Self {
        Self::extensibility("extensibility_error", reason, user_message)
    }

    /// A pre-user-registration Action threw, timed out or never loaded: the registration fails
    /// closed, in the deny's shape, with what failed (the cause goes to the log).
    pub fn script_failed(e: &crate::script::ScriptError) -> Self {
        SignupError {
            source: Some(e.to_string()),
            ..Self::denied(&e.public_description(), "")
        }
    }

    /// A pre-user-registration Action's `api.validation.error(code, message)`: the same shape,
    /// with the Action's code.
    pub fn invalid(code: &str, message: &str) -> Self {
        Self::extensibility(code, message, message)
    }

    fn extensibility(code: &str, description: &str, friendly: &str) -> Self {
        SignupError {
            status: 400,
            body: json!({
                "name": "InternalExtensibilityError",
                "statusCode": 400,
                "code": code,
                "message": description,
                "friendly_message": friendly,
                "description": description,
                "fromSandbox": true,
            }),
            source: None,
        }
    }

    /// The body is over the server's limit.
    pub fn too_large(limit: usize) -> Self {
        Self::bad(
            "BadRequestError",
            "invalid_body",
            format!("the request body is over {limit} bytes"),
        )
    }

    /// The database, the hash pool or the script workers are saturated (with `Retry-After: 1`).
    pub fn busy() -> Self {
        SignupError {
            status: 503,
            ..Self::bad(
                "ServiceUnavailableError",
                "temporarily_unavailable",
                "retry",
            )
        }
        .with_status_code()
    }

    /// Anything else: a 500 whose cause goes to the log only.
    pub fn internal(source: impl std::fmt::Display) -> Self {
        SignupError {
            status: 500,
            source: Some(source.to_string()),
            ..Self::bad(
                "InternalServerError",
                "server_error",
                "Internal Server Error",
            )
        }
        .with_status_code()
    }

    fn with_status_code(mut self) -> Self {
        self.body["statusCode"] = self.status.into();
        self
    }
}
