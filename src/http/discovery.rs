//! `GET /.well-known/jwks.json` (public keys only, every non-retired key) and
//! `GET /.well-known/openid-configuration`.

use hyper::StatusCode;
use serde_json::json;

use super::{Resp, json, raw_json};
use crate::state::AppState;

pub fn jwks(state: &AppState) -> Resp {
    let mut r = raw_json(StatusCode::OK, state.keys.jwks_json());
    // Keys change only at a restart; let verifiers cache them briefly.
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("public, max-age=300"),
    );
    r
}

pub fn openid_configuration(state: &AppState) -> Resp {
    let iss = &state.config.issuer;
    json(
        StatusCode::OK,
        &json!({
            "issuer": iss,
            "token_endpoint": format!("{iss}oauth/token"),
            "jwks_uri": format!("{iss}.well-known/jwks.json"),
            "userinfo_endpoint": crate::claims::userinfo_url(iss),
            "revocation_endpoint": format!("{iss}oauth/revoke"),
            "grant_types_supported": crate::grant::SUPPORTED,
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "profile", "email", "phone", "address", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "aud", "iss", "iat", "exp", "sub", "azp", "scope", "gty", "org_id", "org_name",
                "name", "nickname", "given_name", "family_name", "picture", "preferred_username",
                "updated_at", "email", "email_verified"
            ],
        }),
    )
}
