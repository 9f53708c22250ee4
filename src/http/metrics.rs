//! `GET /metrics`: the Prometheus text format (`crate::metrics` owns the registry), and the
//! route names requests are counted by.
//!
//! Served only when `metrics = true` (otherwise the route does not exist: 404). Who may read it
//! is decided as for `/healthz`'s detail: with `metrics_token` configured, only a caller
//! presenting it as `Authorization: Bearer <metrics_token>` (a local reverse proxy would make
//! every caller loopback); without it, callers on the loopback interface only. Others get 401
//! with `WWW-Authenticate: Bearer` (a token is configured) or 403 (none is).

use std::net::IpAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::http::HeaderMap;
use hyper::{Response, StatusCode};

use super::{Resp, json};
use crate::metrics::Snapshot;
use crate::state::AppState;

pub fn handle(state: &AppState, headers: &HeaderMap, peer: IpAddr) -> Resp {
    let configured = state.config.metrics_token.as_deref();
    if let Some(status) = refusal(configured, super::bearer(headers).ok(), peer) {
        let mut r = json(status, &serde_json::json!({"error": "forbidden"}));
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return r;
    }
    let set = state.pipeline.current();
    let snapshot = Snapshot {
        hash_queue_depth: state.hashes.queue_depth(),
        script_set_version: set.version,
        script_load_errors: set.errors.len(),
    };
    let Some(text) = state.metrics.encode(snapshot) else {
        return json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": "not_found"}),
        );
    };
    let mut r = Response::new(Full::new(Bytes::from(text)));
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Whether the caller is refused, and how (see the module docs).
fn refusal(configured: Option<&str>, presented: Option<&str>, peer: IpAddr) -> Option<StatusCode> {
    if super::health::trusted(configured, presented, peer) {
        return None;
    }
    Some(match configured {
        Some(_) => StatusCode::UNAUTHORIZED,
        None => StatusCode::FORBIDDEN,
    })
}

#[cfg(test)]
mod tests {
    use super::refusal;
    use hyper::StatusCode;
    use std::net::IpAddr;

    /// The integration tests reach the server over loopback only; the remote caller is here.
    #[test]
    fn remote_scrapers_need_the_token_and_a_set_token_binds_everyone() {
        let lo: IpAddr = [127, 0, 0, 1].into();
        let lo6: IpAddr = "::1".parse().unwrap();
        let far: IpAddr = [203, 0, 113, 9].into();
        assert_eq!(refusal(None, None, lo), None);
        assert_eq!(refusal(None, None, lo6), None);
        assert_eq!(refusal(None, None, far), Some(StatusCode::FORBIDDEN));
        assert_eq!(
            refusal(None, Some("guess"), far),
            Some(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            refusal(Some("scr4pe"), None, lo),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            refusal(Some("scr4pe"), Some("scr4p"), far),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(refusal(Some("scr4pe"), Some("scr4pe"), far), None);
    }
}
