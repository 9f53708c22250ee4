//! `GET` and `POST /userinfo` (OIDC Core §5.3, Auth0's "Get User Info"): a bearer access token
//! whose audience includes `<issuer>userinfo` and that grants `openid` buys the user's `sub` and
//! the standard claims its scopes allow, read from the store as the user is now.
//!
//! The token is verified by the key ring (`token.rs`), the claims are mapped by `claims.rs` (the
//! ID token's mapping), and the errors are `decisions.rs` constructors; this file only reads the
//! header, makes one store trip and renders, with the RFC 6750 §3 challenge on every refusal.
//! Custom claims scripts put in ID tokens are not answered: they are not kept after issuance.

use hyper::body::Incoming;
use hyper::header::{HeaderValue, WWW_AUTHENTICATE};
use hyper::http::request::Parts;
use hyper::{Request, StatusCode};
use serde_json::Value;

use super::{BodyError, Resp, json, read_body};
use crate::claims::{profile_claims, userinfo_url};
use crate::oauth::{ErrorCode, OAuthError, clean};
use crate::state::AppState;
use crate::store::StoreError;
use crate::token::Expected;

/// Clock skew forgiven on `exp` and `nbf`: the tokens come from this very server's clock.
const LEEWAY_S: i64 = 5;

pub async fn handle(req: Request<Incoming>, state: &AppState) -> Resp {
    // A POST may carry a body (OIDC Core §5.3.1 allows form parameters); only the header counts,
    // but the body is still read within the usual limit so the connection stays usable.
    let parts = match read_body(req, state.config.max_body_bytes).await {
        Ok((parts, _)) => parts,
        Err(BodyError::TooLarge) => {
            return render(&OAuthError::body_too_large(state.config.max_body_bytes));
        }
        Err(BodyError::Broken) => return render(&OAuthError::body_unreadable()),
    };
    match answer(&parts, state).await {
        Ok(profile) => json(StatusCode::OK, &profile),
        Err(e) => render(&e),
    }
}

/// The user's claims for the bearer token of `parts`.
async fn answer(parts: &Parts, state: &AppState) -> Result<Value, OAuthError> {
    let jwt = bearer(parts)?;
    let issuer = &state.config.issuer;
    let audience = userinfo_url(issuer);
    let expected = Expected {
        issuer,
        audience: &audience,
        now_secs: state.clock.now_secs(),
        leeway_s: LEEWAY_S,
    };
    let claims = state
        .keys
        .verify(jwt, &expected)
        .map_err(|e| OAuthError::invalid_token(e.to_string()))?;
    let scopes: Vec<&str> = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !scopes.contains(&"openid") {
        return Err(OAuthError::openid_not_granted());
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let user = state
        .store
        .call(move |db| db.user_by_id(&sub))
        .await
        .map_err(|e| match e {
            // A database busy past its timeout will pass (503), as at the token endpoint.
            StoreError::Busy => OAuthError::store_busy(e),
            e => OAuthError::internal(e),
        })?
        .ok_or_else(OAuthError::token_user_gone)?;
    if user.blocked {
        return Err(OAuthError::token_user_blocked());
    }
    let mut profile = serde_json::Map::new();
    profile.insert("sub".into(), user.user_id.clone().into());
    profile.extend(profile_claims(&user, &scopes));
    Ok(Value::Object(profile))
}

/// The bearer token: no header is [`OAuthError::bearer_missing`], anything else unusable is
/// malformed.
fn bearer(parts: &Parts) -> Result<&str, OAuthError> {
    super::bearer(&parts.headers).map_err(|e| match e {
        super::NoBearer::Missing => OAuthError::bearer_missing(),
        super::NoBearer::Malformed => OAuthError::invalid_token("Malformed Authorization header."),
    })
}

/// The JSON error body with its RFC 6750 §3 challenge: only the realm when no token came (§3.1:
/// no error code then), else the error and its description (cleaned to the allowed characters,
/// so it cannot break out of the quoted string).
fn render(e: &OAuthError) -> Resp {
    if e.code == ErrorCode::ServerError {
        tracing::error!(error = %e, "userinfo request failed");
    } else {
        tracing::debug!(error = %e, "userinfo request refused");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json(status, &e.body());
    let challenge = match e.code {
        ErrorCode::Unauthorized => "Bearer realm=\"claimsmith\"".to_owned(),
        ErrorCode::InvalidToken | ErrorCode::InsufficientScope | ErrorCode::InvalidRequest => {
            let description = clean(e.description.as_deref().unwrap_or(""));
            let scope = match e.code {
                ErrorCode::InsufficientScope => ", scope=\"openid\"",
                _ => "",
            };
            format!(
                "Bearer realm=\"claimsmith\", error=\"{}\", error_description=\"{description}\"{scope}",
                e.error()
            )
        }
        _ => return r,
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    r
}
