//! `GET /healthz`: liveness, and what the server is serving.

use hyper::StatusCode;
use serde_json::json;

use super::{Resp, json};
use crate::state::AppState;

pub fn handle(state: &AppState) -> Resp {
    let in_flight = state
        .token_requests
        .load(std::sync::atomic::Ordering::Relaxed);
    json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "token_requests_in_flight": in_flight,
        }),
    )
}
