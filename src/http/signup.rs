//! `POST /dbconnections/signup`: reads the body once (a JSON object, or a form as Auth0 also
//! takes), calls `register::signup`, and renders its answer or its [`SignupError`].

use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::{Request, StatusCode};
use serde_json::{Map, Value};

use super::{BodyError, Resp, json, read_body};
use crate::register::{SignupError, signup};
use crate::state::AppState;

pub async fn handle(req: Request<Incoming>, state: &AppState, peer: SocketAddr) -> Resp {
    let limit = state.config.max_body_bytes;
    let answer = match read_body(req, limit).await {
        Ok((parts, body)) => match params(&parts, &body) {
            Some(body) => signup::signup(state, body, &super::request_meta(&parts, peer)).await,
            None => Err(SignupError::unreadable()),
        },
        Err(BodyError::TooLarge) => Err(SignupError::too_large(limit)),
        Err(BodyError::Broken) => Err(SignupError::unreadable()),
    };
    match answer {
        Ok(user) => json(StatusCode::OK, &user),
        // Never the body: it holds the password.
        Err(e) => {
            match &e.source {
                Some(cause) => tracing::error!(error = %cause, "signup failed"),
                None => {
                    tracing::debug!(status = e.status, code = %e.body["code"], "signup refused")
                }
            }
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut r = json(status, &e.body);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            }
            r
        }
    }
}

/// The body as named values: a JSON object as it is, a form's fields as strings.
fn params(parts: &hyper::http::request::Parts, body: &[u8]) -> Option<Map<String, Value>> {
    let form = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        return Some(
            form_urlencoded::parse(body)
                .into_owned()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}
