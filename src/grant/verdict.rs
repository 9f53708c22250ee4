//! What the scripts' answer becomes on the wire: the one place that maps a [`Verdict`] or a
//! [`ScriptError`] to an [`OAuthError`] (Decisions table rows "`api.access.deny(reason)` …",
//! "`UnauthorizedError`", "script timeout, out of memory, …", "`api.multifactor.enable`").
//! How each looks on the wire is `oauth/decisions.rs`'s business; which one a verdict is, is this
//! file's.

use crate::oauth::OAuthError;
use crate::script::{Outcome, ScriptError, ScriptErrorKind, Verdict};

/// The scripts' run, decided: the outcome when every script allowed the login, else the error
/// the Decisions table gives its verdict or its failure. A failure is a 500, except the engine
/// refusing logins while wedged threads run: 503 with `Retry-After`.
pub fn decide(run: Result<Outcome, ScriptError>) -> Result<Outcome, OAuthError> {
    let outcome = match run {
        Ok(outcome) => outcome,
        Err(e) => {
            let text = e.public_description();
            return Err(match e.kind {
                ScriptErrorKind::Overloaded { retry_after_s } => {
                    OAuthError::scripts_overloaded(text, retry_after_s, e)
                }
                _ => OAuthError::script_failed(text, e),
            });
        }
    };
    let refused = match &outcome.verdict {
        Verdict::Allow => return Ok(outcome),
        Verdict::Deny(reason) => OAuthError::script_denied(reason),
        Verdict::Unauthorized(reason) => OAuthError::script_unauthorized(reason),
        Verdict::MfaRequired => OAuthError::mfa_required(),
        Verdict::InteractionRequired(reason) => OAuthError::interaction_required(reason),
        Verdict::ValidationError { code, message } => OAuthError::validation_error(code, message),
        Verdict::CredentialsDenied { code, reason } => OAuthError::credentials_denied(code, reason),
        // Only the registration triggers answer this, and no grant runs them.
        Verdict::RegistrationDenied { user_message, .. } => OAuthError::script_denied(user_message),
    };
    Err(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(verdict: Verdict) -> (u16, serde_json::Value) {
        let run = Ok(Outcome {
            verdict,
            ..Outcome::default()
        });
        match decide(run) {
            Ok(_) => (200, serde_json::Value::Null),
            Err(e) => (e.status(), e.body()),
        }
    }

    #[test]
    fn every_verdict_answers_its_decisions_row() {
        use serde_json::json;
        let d = |e: &str, d: &str| json!({"error": e, "error_description": d});
        assert_eq!(refused(Verdict::Allow).0, 200);
        assert_eq!(
            refused(Verdict::Deny("no \"way\"".into())),
            (403, d("access_denied", "no 'way'"))
        );
        assert_eq!(
            refused(Verdict::Unauthorized("nope".into())),
            (401, d("unauthorized", "nope"))
        );
        assert_eq!(
            refused(Verdict::MfaRequired),
            (
                403,
                d("mfa_required", "Multifactor authentication required")
            )
        );
        assert_eq!(
            refused(Verdict::InteractionRequired("go".into())),
            (400, d("interaction_required", "go"))
        );
        assert_eq!(
            refused(Verdict::ValidationError {
                code: "bad_profile".into(),
                message: "m".into()
            }),
            (403, d("bad_profile", "m"))
        );
    }

    #[test]
    fn script_failures_are_500_except_overload_which_is_503_with_retry_after() {
        let fail = |kind| ScriptError {
            script: Some("s".into()),
            kind,
        };
        let e = decide(Err(fail(ScriptErrorKind::Timeout))).unwrap_err();
        assert_eq!(e.status(), 500);
        assert_eq!(
            e.body()["error_description"],
            "Script 's' exceeded the time limit (timeout)."
        );
        assert!(e.source.is_some());
        let e = decide(Err(fail(ScriptErrorKind::Engine("stack at x.js:1".into())))).unwrap_err();
        assert_eq!((e.status(), e.error()), (500, "server_error"));
        assert!(!e.body().to_string().contains("x.js"));
        let e = decide(Err(fail(ScriptErrorKind::Overloaded { retry_after_s: 6 }))).unwrap_err();
        assert_eq!((e.status(), e.error()), (503, "temporarily_unavailable"));
        assert_eq!(e.retry_after, Some(6));
    }
}
