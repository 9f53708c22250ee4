//! `POST /oauth/token`: decodes the body (form or JSON) and the client credentials, calls
//! [`grant::issue`], and renders the [`TokenResponse`] or the [`OAuthError`] (logged here, once).

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::http::request::Parts;
use hyper::{Request, StatusCode};
use serde_json::Value;

use super::{BodyError, Resp, json, raw_json, read_body};
use crate::grant;
use crate::oauth::{ErrorCode, OAuthError, TokenRequest};
use crate::state::AppState;

pub async fn handle(req: Request<Incoming>, state: &AppState, peer: SocketAddr) -> Resp {
    let _counted = state.token_requests.enter();
    let result = match read(req, state, peer).await {
        Ok(token_request) => grant::issue(state, token_request).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(tokens) => {
            let mut r = json(
                StatusCode::OK,
                &serde_json::to_value(&tokens).unwrap_or_default(),
            );
            // A claim name that is not visible ASCII cannot go in a header: the log line has it.
            if let Some(v) = tokens
                .provenance
                .and_then(|p| HeaderValue::from_str(&p).ok())
            {
                r.headers_mut().insert("x-claimsmith-provenance", v);
            }
            r
        }
        Err(e) => render_error(&e),
    }
}

/// `POST /oauth/revoke` (RFC 7009): the body and client credentials are read as the token
/// endpoint reads them; success is an empty 200, as Auth0 answers.
pub async fn revoke(req: Request<Incoming>, state: &AppState, peer: SocketAddr) -> Resp {
    let result = match read(req, state, peer).await {
        Ok(request) => grant::revoke(state, request).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => raw_json(StatusCode::OK, bytes::Bytes::new()),
        Err(e) => render_error(&e),
    }
}

/// Reads the body (within `max_body_bytes`) and parses it with the credentials.
async fn read(
    req: Request<Incoming>,
    state: &AppState,
    peer: SocketAddr,
) -> Result<TokenRequest, OAuthError> {
    let limit = state.config.max_body_bytes;
    match read_body(req, limit).await {
        Ok((parts, body)) => parse(&parts, &body, peer),
        Err(BodyError::TooLarge) => Err(OAuthError::body_too_large(limit)),
        Err(BodyError::Broken) => Err(OAuthError::body_unreadable()),
    }
}

/// The one place token-endpoint errors are logged: failures of the server with their cause,
/// refusals at debug level. Never a password, secret or token: the request is not logged.
fn render_error(e: &OAuthError) -> Resp {
    if e.code == ErrorCode::ServerError {
        tracing::error!(error = %e, "token request failed");
    } else {
        tracing::debug!(error = %e, "token request refused");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json(status, &e.body());
    if e.basic_challenge {
        r.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"claimsmith\""),
        );
    }
    if let Some(seconds) = e.retry_after {
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    r
}

fn parse(parts: &Parts, body: &[u8], peer: SocketAddr) -> Result<TokenRequest, OAuthError> {
    let content_type = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let params = match mime.as_str() {
        "application/x-www-form-urlencoded" => form_urlencoded::parse(body)
            .into_owned()
            .take(crate::oauth::MAX_PARAMS + 1)
            .collect(),
        "application/json" => json_params(body)?,
        _ if body.is_empty() => Vec::new(),
        _ => {
            return Err(OAuthError::unsupported_content_type());
        }
    };
    let meta = super::request_meta(parts, peer);
    TokenRequest::new(params, basic_credentials(parts)?, meta)
}

/// A JSON object of parameters: strings as they are, numbers and booleans as text, an array of
/// strings (a scope) joined with spaces, `null` as absent. Members are kept in order with their
/// duplicates, so that a repeated name is refused as it is in a form body (`serde_json::Map`
/// would silently keep the last one).
fn json_params(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let Members(members) =
        serde_json::from_slice(body).map_err(|_| OAuthError::body_not_json_object())?;
    let mut out = Vec::with_capacity(members.len());
    for (k, v) in members {
        let text = match (k.as_str(), v) {
            (_, Value::Null) => continue,
            (_, Value::String(s)) => s,
            ("scope", Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(OAuthError::scope_not_string)?
                .join(" "),
            ("scope", _) => return Err(OAuthError::scope_not_string()),
            (_, Value::Number(n)) => n.to_string(),
            (_, Value::Bool(b)) => b.to_string(),
            _ => {
                return Err(OAuthError::param_not_string(&k));
            }
        };
        out.push((k, text));
    }
    Ok(out)
}

/// The members of a JSON object, in order, duplicates included; at most `MAX_PARAMS + 1` of them
/// are kept (one more than allowed, so that the limit is still reported).
struct Members(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    if out.len() <= crate::oauth::MAX_PARAMS {
                        out.push(member);
                    }
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(parts: &Parts) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = OAuthError::malformed_authorization;
    let text = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> String {
        // Form-decode one value: `&` and `=` are data here, not separators.
        let escaped = s.replace('&', "%26");
        form_urlencoded::parse(format!("x={escaped}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hostname_without_port() {
        for (host, want) in [
            ("127.0.0.1:8080", "127.0.0.1"),
            ("auth.example.com", "auth.example.com"),
            ("auth.example.com:443", "auth.example.com"),
            ("[::1]:3000", "[::1]"),
            ("[::1]", "[::1]"),
            ("", ""),
        ] {
            assert_eq!(crate::http::without_port(host), want, "{host}");
        }
    }
}
