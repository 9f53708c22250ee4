//! The shape of the post-login `event` and of the Rules `user` / `context` on a password login,
//! over HTTP: a script reports what it sees through custom claims on an access token verified
//! against the JWKS. Each test has a positive control showing that its probe can see the thing
//! it says is absent (or different).

use serde_json::{Value, json};

use crate::support::*;

const CLAIM: &str = "https://t/shape";

/// An Action whose body computes `out` (any JSON) from `event`, reported as one claim.
fn action(body: &str) -> String {
    format!(
        "exports.onExecutePostLogin = async (event, api) => {{\n  const out = {body};\n  api.accessToken.setCustomClaim('{CLAIM}', out);\n}};"
    )
}

/// A Rule whose body computes `out` from `user` and `context`, reported as one claim.
fn rule(body: &str) -> String {
    format!(
        "function (user, context, callback) {{\n  const out = {body};\n  context.accessToken['{CLAIM}'] = out;\n  callback(null, user, context);\n}}"
    )
}

async fn shape_of(files: &[(&str, &str)]) -> (TestServer, Value) {
    let s = TestServer::start_scripts(files, |_| {}).await;
    let c = s.claims().await;
    let v = c[CLAIM].clone();
    (s, v)
}

#[tokio::test]
async fn every_login_has_a_new_transaction_id() {
    let src = action("event.transaction.id");
    let s = TestServer::start_scripts(&[("actions/01-tx.js", &src)], |_| {}).await;
    let a = s.claims().await[CLAIM].clone();
    let b = s.claims().await[CLAIM].clone();
    let (a, b) = (a.as_str().unwrap(), b.as_str().unwrap());
    assert!(!a.is_empty() && !b.is_empty(), "{a:?} {b:?}");
    assert_ne!(a, b, "two logins share a transaction id");
    s.stop().await;
}

#[tokio::test]
async fn request_hostname_has_no_port() {
    let a = action("{ hostname: event.request.hostname }");
    let r = rule("{ hostname: context.request.hostname }");
    let (s, v) = shape_of(&[("actions/01-h.js", &a)]).await;
    assert_eq!(v, json!({"hostname": "127.0.0.1"}));
    // Positive control: the Host header the test client sent carries the port.
    assert!(s.url("/").starts_with("http://127.0.0.1:"));
    s.stop().await;
    let (s, v) = shape_of(&[("rules/01-h.js", &r)]).await;
    assert_eq!(v, json!({"hostname": "127.0.0.1"}));
    s.stop().await;
}

#[tokio::test]
async fn rules_session_id_is_a_string_new_for_every_login() {
    let r = rule("context.sessionID");
    let s = TestServer::start_scripts(&[("rules/01-sid.js", &r)], |_| {}).await;
    let a = s.claims().await[CLAIM].clone();
    let b = s.claims().await[CLAIM].clone();
    let (a, b) = (a.as_str().unwrap(), b.as_str().unwrap());
    assert!(!a.is_empty());
    assert_ne!(a, b);
    s.stop().await;
}
