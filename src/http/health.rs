//! `GET /healthz`: liveness, and what the server is serving: the script set's version, each
//! loaded script with its content hash, and the files that failed to load (tests poll this after
//! a reload).

use hyper::StatusCode;
use serde_json::{Value, json};

use super::{Resp, json};
use crate::state::AppState;

pub fn handle(state: &AppState) -> Resp {
    let set = state.pipeline.current();
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
    let in_flight = state
        .token_requests
        .load(std::sync::atomic::Ordering::Relaxed);
    json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "token_requests_in_flight": in_flight,
            "scripts": {
                "version": set.version,
                "loaded": set.rules.iter().chain(&set.actions).map(|s| script(s)).collect::<Vec<_>>(),
                "errors": errors,
            },
        }),
    )
}
