//! `GET /healthz`: liveness, and what the server is serving.

use hyper::StatusCode;
use serde_json::json;

use super::{Resp, json};
use crate::state::AppState;

pub fn handle(_state: &AppState) -> Resp {
    json(
        StatusCode::OK,
        &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
    )
}
