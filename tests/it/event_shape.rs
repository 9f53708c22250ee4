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

/// Paths under `event.<section>` whose value is `null` (Auth0 omits what it does not know).
const NULLS: &str = r#"(() => {
    const found = [];
    const walk = (o, p) => {
      for (const k of Object.keys(o)) {
        if (o[k] === null) found.push(p + k);
        else if (typeof o[k] === 'object') walk(o[k], p + k + '.');
      }
    };
    for (const k of Object.keys(event)) if (event[k] !== null && typeof event[k] === 'object') walk(event[k], k + '.'); else if (event[k] === null) found.push(k);
    return {
      nulls: found,
      user_agent: 'user_agent' in event.request,
      language: 'language' in event.request,
      given_name: 'given_name' in event.user,
      phone_number: 'phone_number' in event.user,
      last_password_reset: 'last_password_reset' in event.user,
      name: 'name' in event.user,
      ip: 'ip' in event.request,
    };
  })()"#;

#[tokio::test]
async fn optional_event_fields_are_absent_not_null() {
    let a = action(NULLS);
    let (s, v) = shape_of(&[("actions/01-n.js", &a)]).await;
    assert_eq!(
        v,
        json!({
            "nulls": [],
            "user_agent": false,
            "language": false,
            "given_name": false,
            "phone_number": false,
            "last_password_reset": false,
            // Positive controls: stored / always-known fields are seen by the same probe.
            "name": true,
            "ip": true,
        })
    );
    s.stop().await;
    // Positive control: a client that sends the headers gets the fields.
    let s = TestServer::start_scripts(&[("actions/01-n.js", &a)], |_| {}).await;
    let r = http_client()
        .post(s.url("/oauth/token"))
        .header("user-agent", "probe/1")
        .header("accept-language", "nl-NL")
        .form(&[
            ("grant_type", "password"),
            ("client_id", s.seed.client_id.as_str()),
            ("client_secret", s.seed.client_secret.as_str()),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(c[CLAIM]["user_agent"], json!(true));
    assert_eq!(c[CLAIM]["language"], json!(true));
    s.stop().await;
}

#[tokio::test]
async fn risk_assessment_is_absent() {
    let a = action(
        "{ risk: 'riskAssessment' in event.authentication, methods: 'methods' in event.authentication }",
    );
    let (s, v) = shape_of(&[("actions/01-r.js", &a)]).await;
    assert_eq!(v, json!({"risk": false, "methods": true}));
    s.stop().await;
    let r = rule("{ risk: 'riskAssessment' in context, stats: 'stats' in context }");
    let (s, v) = shape_of(&[("rules/01-r.js", &r)]).await;
    assert_eq!(v, json!({"risk": false, "stats": true}));
    s.stop().await;
}

#[tokio::test]
async fn session_is_absent_on_a_password_grant() {
    let a = action(
        "{ session: 'session' in event, listed: Object.keys(event).includes('session'), stats: 'stats' in event }",
    );
    let (s, v) = shape_of(&[("actions/01-s.js", &a)]).await;
    assert_eq!(v, json!({"session": false, "listed": false, "stats": true}));
    s.stop().await;
}

#[tokio::test]
async fn rules_user_has_app_metadata_merged_into_its_root() {
    // The seed user's app_metadata is {"role": "admin", "organisation_id": "org_42"}.
    let r = rule(
        "{ role: user.role, org: user.organisation_id, app: user.app_metadata, id: user.user_id === context.primaryUser }",
    );
    let (s, v) = shape_of(&[("rules/01-u.js", &r)]).await;
    assert_eq!(
        v,
        json!({
            "role": "admin",
            "org": "org_42",
            "app": {"role": "admin", "organisation_id": "org_42"},
            "id": true,
        })
    );
    // Positive control: the Actions' event.user is not merged.
    s.stop().await;
    let a = action("{ role: 'role' in event.user }");
    let (s, v) = shape_of(&[("actions/01-u.js", &a)]).await;
    assert_eq!(v, json!({"role": false}));
    s.stop().await;
}

#[tokio::test]
async fn rules_connection_options_is_an_object() {
    // No options stored (the default): `{}` (cli_flags.rs sets some and sees them).
    let r = rule(
        "{ type: typeof context.connectionOptions, keys: Object.keys(context.connectionOptions), strategy: context.connectionStrategy }",
    );
    let (s, v) = shape_of(&[("rules/01-c.js", &r)]).await;
    assert_eq!(
        v,
        json!({"type": "object", "keys": [], "strategy": "auth0"})
    );
    s.stop().await;
}

#[tokio::test]
async fn rules_multifactor_is_absent_and_provider_none_asks_for_nothing() {
    let r = rule("{ mf: 'multifactor' in context, redirect: 'redirect' in context }");
    let (s, v) = shape_of(&[("rules/01-m.js", &r)]).await;
    assert_eq!(v, json!({"mf": false, "redirect": false}));
    s.stop().await;
    let set = |p: &str| {
        format!(
            "function (user, context, callback) {{ context.multifactor = {{ provider: '{p}', allowRememberBrowser: false }}; callback(null, user, context); }}"
        )
    };
    let none = set("none");
    let s = TestServer::start_scripts(&[("rules/01-m.js", &none)], |_| {}).await;
    let (status, b) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 200, "provider none: {b}");
    s.stop().await;
    // Positive control: another provider still asks for MFA.
    let any = set("any");
    let s = TestServer::start_scripts(&[("rules/01-m.js", &any)], |_| {}).await;
    let (status, b) = s.login(&[("audience", API)]).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (403, Some("mfa_required")),
        "{b}"
    );
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
