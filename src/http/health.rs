//! `GET /healthz`: liveness for anyone; for a trusted caller also what the server is serving (the
//! script set's version, each loaded script with its content hash, the files that failed to load,
//! the script worker threads abandoned by the watchdog with their ages), which tests and operators
//! poll after a reload.
//!
//! While any script file has a load error (even one whose last good version still serves), the
//! answer is 503 with `"status": "degraded"`, for everyone, so that an orchestrator notices; only
//! a trusted caller learns which files and why.
//!
//! Who is trusted: with `health_token` configured, a caller presenting it as a Bearer token (and
//! nobody else, not even loopback: a local reverse proxy would make every caller loopback);
//! without it, callers on the loopback interface only.

use std::net::IpAddr;

use hyper::StatusCode;
use hyper::header::AUTHORIZATION;
use hyper::http::HeaderMap;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::{Resp, json};
use crate::state::AppState;

pub fn handle(state: &AppState, headers: &HeaderMap, peer: IpAddr) -> Resp {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let set = state.pipeline.current();
    let (code, status) = if set.errors.is_empty() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded")
    };
    if !trusted(state.config.health_token.as_deref(), bearer, peer) {
        return json(code, &json!({"status": status}));
    }
    json(code, &detail(state, &set, status))
}

/// Whether the caller may see the detail (see the module docs); `/metrics` decides the same way.
pub(super) fn trusted(configured: Option<&str>, presented: Option<&str>, peer: IpAddr) -> bool {
    match (configured, presented) {
        (Some(token), Some(given)) => bool::from(token.as_bytes().ct_eq(given.trim().as_bytes())),
        (Some(_), None) => false,
        (None, _) => peer.is_loopback() || peer.to_canonical().is_loopback(),
    }
}

fn detail(state: &AppState, set: &crate::script::ScriptSet, status: &str) -> Value {
    let script = |s: &crate::script::Script| {
        json!({
            "name": &*s.name,
            "kind": match s.kind { crate::script::ScriptKind::Rule => "rule", crate::script::ScriptKind::Action => "action" },
            "file": s.path.display().to_string(),
            "hash": s.hash,
        })
    };
    let errors: Vec<Value> = set
        .errors
        .iter()
        .map(|e| json!({"file": e.path.display().to_string(), "line": e.line, "column": e.column, "message": e.message}))
        .collect();
    let in_flight = state.token_requests.get();
    // Script worker threads the watchdog gave up on that still run, with their age: past
    // `max_abandoned_workers` of them, logins answer 503.
    let abandoned: Vec<u64> = state
        .pipeline
        .abandoned_workers()
        .iter()
        .map(|age| u64::try_from(age.as_millis()).unwrap_or(u64::MAX))
        .collect();
    json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "token_requests_in_flight": in_flight,
        "scripts": {
            "version": set.version,
            "loaded": set.rules.iter().chain(&set.actions).map(|s| script(s)).collect::<Vec<_>>(),
            "errors": errors,
            "not_loaded": set.not_loaded.iter().map(|n| &**n).collect::<Vec<&str>>(),
            "abandoned_workers": {"count": abandoned.len(), "ages_ms": abandoned},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::trusted;
    use std::net::IpAddr;

    #[test]
    fn detail_goes_to_loopback_or_to_the_token_bearer_only() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let lo6: IpAddr = "::ffff:127.0.0.1".parse().unwrap_or(lo);
        let far: IpAddr = "203.0.113.9".parse().unwrap_or(lo);
        assert!(trusted(None, None, lo));
        assert!(trusted(None, None, lo6));
        assert!(!trusted(None, None, far));
        assert!(!trusted(None, Some("anything"), far));
        // A configured token is needed from everyone, loopback included (a local proxy).
        assert!(!trusted(Some("s3cret"), None, lo));
        assert!(!trusted(Some("s3cret"), Some("s3cre"), lo));
        assert!(!trusted(Some("s3cret"), Some("s3cret!"), far));
        assert!(trusted(Some("s3cret"), Some("s3cret"), far));
    }
}
