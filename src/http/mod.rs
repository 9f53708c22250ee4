//! The HTTP surface: routing, the body-size limit and the JSON response helpers. With
//! `server.rs`, the only place that names hyper; handlers parse, call and render.

pub mod conn;
mod discovery;
mod health;
mod metrics;
mod mgmt;
mod signup;
mod token;
mod userinfo;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use hyper::{Method, Request, Response, StatusCode};

use crate::oauth::RequestMeta;
use crate::state::AppState;

/// Every response body is a complete buffer.
pub type Resp = Response<Full<Bytes>>;

/// Routes one request; counts it by route name and status (`/metrics`).
pub async fn route(
    req: Request<Incoming>,
    state: Arc<AppState>,
    peer: SocketAddr,
) -> Result<Resp, Infallible> {
    // Each route names its `/metrics` label (the method is not part of it: a wrong one shows as
    // its 405); anything unrouted is `other`, so a scan of random paths adds no series.
    let (endpoint, resp) = match (req.method(), req.uri().path()) {
        (&Method::POST, "/oauth/token") => ("/oauth/token", token::handle(req, &state, peer).await),
        (_, "/oauth/token") => ("/oauth/token", method_not_allowed("POST")),
        (&Method::POST, "/oauth/revoke") => {
            ("/oauth/revoke", token::revoke(req, &state, peer).await)
        }
        (_, "/oauth/revoke") => ("/oauth/revoke", method_not_allowed("POST")),
        (&Method::GET, "/.well-known/jwks.json") => {
            ("/.well-known/jwks.json", discovery::jwks(&state))
        }
        (&Method::GET, "/.well-known/openid-configuration") => (
            "/.well-known/openid-configuration",
            discovery::openid_configuration(&state),
        ),
        (&Method::GET | &Method::POST, "/userinfo") => {
            ("/userinfo", userinfo::handle(req, &state).await)
        }
        (_, "/userinfo") => ("/userinfo", method_not_allowed("GET, POST")),
        (&Method::POST, "/dbconnections/signup") => (
            "/dbconnections/signup",
            signup::handle(req, &state, peer).await,
        ),
        (_, "/dbconnections/signup") => ("/dbconnections/signup", method_not_allowed("POST")),
        (&Method::GET, "/healthz") => {
            ("/healthz", health::handle(&state, req.headers(), peer.ip()))
        }
        (&Method::GET, "/metrics") if state.metrics.is_on() => (
            "/metrics",
            metrics::handle(&state, req.headers(), peer.ip()),
        ),
        (method, p) if p.starts_with("/api/v2/") => {
            let label = mgmt::label(method, p);
            (label, mgmt::handle(req, &state, peer).await)
        }
        _ => (
            "other",
            json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "not_found"}),
            ),
        ),
    };
    state
        .metrics
        .request(crate::metrics::Endpoint(endpoint), resp.status().as_u16());
    Ok(resp)
}

/// What the scripts and the brute-force guard read of a request besides its parameters: the
/// peer's IP, the host, the agent, the languages, the method and the query.
pub(super) fn request_meta(parts: &hyper::http::request::Parts, peer: SocketAddr) -> RequestMeta {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    RequestMeta {
        ip: peer.ip().to_string(),
        forwarded_for: header("auth0-forwarded-for"),
        hostname: without_port(
            &header("host")
                .or_else(|| parts.uri.authority().map(|a| a.to_string()))
                .unwrap_or_default(),
        ),
        user_agent: header("user-agent"),
        language: header("accept-language"),
        method: parts.method.to_string(),
        query: parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
    }
}

/// The host of a `Host` header without its port (`event.request.hostname` is a hostname, as
/// a URL's `hostname`): `a.example:8443` → `a.example`, `[::1]:80` → `[::1]`.
pub(super) fn without_port(host: &str) -> String {
    let host = host.trim();
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]).to_owned();
    }
    match host.split_once(':') {
        Some((h, port)) if !port.contains(':') => h.to_owned(),
        _ => host.to_owned(),
    }
}

/// A request body must arrive within this time (a trickled body holds a connection slot).
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a body could not be read.
pub enum BodyError {
    TooLarge,
    Broken,
}

/// Reads the whole body, refusing more than `limit` bytes (checked against Content-Length first,
/// then while reading).
pub async fn read_body(
    req: Request<Incoming>,
    limit: usize,
) -> Result<(hyper::http::request::Parts, Bytes), BodyError> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let read = tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, limit).collect());
    match read.await {
        Ok(Ok(c)) => Ok((parts, c.to_bytes())),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Ok(Err(_)) | Err(_) => Err(BodyError::Broken),
    }
}

/// A JSON response; `no-store` on everything, as RFC 6749 §5.1 asks of the token endpoint.
pub fn json(status: StatusCode, body: &serde_json::Value) -> Resp {
    raw_json(status, Bytes::from(body.to_string()))
}

/// A response from JSON text already serialised.
pub fn raw_json(status: StatusCode, body: Bytes) -> Resp {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// Why a request carries no usable bearer token.
pub(super) enum NoBearer {
    /// No `Authorization` header at all.
    Missing,
    /// Another scheme, an empty token, a header that is not text.
    Malformed,
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive),
/// for `/userinfo` and the Management API, which each answer a refusal in their own shape.
pub(super) fn bearer(headers: &hyper::HeaderMap) -> Result<&str, NoBearer> {
    let value = headers
        .get(hyper::header::AUTHORIZATION)
        .ok_or(NoBearer::Missing)?;
    let text = value.to_str().map_err(|_| NoBearer::Malformed)?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(NoBearer::Malformed),
    }
}

fn method_not_allowed(allow: &'static str) -> Resp {
    let mut r = json(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({"error": "invalid_request", "error_description": format!("Use {allow}.")}),
    );
    r.headers_mut()
        .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
    r
}
