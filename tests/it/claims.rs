//! The claim policy over HTTP (issue 7): custom claims whose names only look like reserved
//! names or Auth0 namespaces are refused, and the whole signed token has a size limit that
//! names the script that grew it most.

use serde_json::{Value, json};

use crate::support::*;

/// Every lookalike of a reserved name or namespace, set on both tokens, next to ordinary names.
const LOOKALIKES: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  const evil = ['Sub', 'SUB', '\u017Fub', '\uFF53\uFF55\uFF42', 's\u200Bub', '\u200Bsub', 'sub\uFEFF',
    'su\u00ADb', '\u3164sub', ' iss', 'iss\u00A0', 'ISS', 'Aud', 'EXP', 'Scope', 'Permissions', 'ORG_ID',
    'Azp', 'GTY', '\uFF04x', ' $x', 'EMAIL', '\uFF45mail',
    'https://x.auth0\u3002com/y', 'https://x.auth0%2ecom/y', 'https://x.auth0%2Ecom/y',
    'https://t.AUTH0\uFF0Ecom/z', 'https://a.webtask\uFF61io/z', 'https://a.w\u200Bebtask.run/z',
    'URN:AUTH0:x', 'urn\uFF1Aauth0:x', ' urn:auth0:x'];
  for (const k of evil) api.accessToken.setCustomClaim(k, 'evil').idToken.setCustomClaim(k, 'evil');
  for (const k of ['https://myapp.example.com/roles', 'role', 'organisation_id', '\u7D44\u7E54', 'Plan'])
    api.accessToken.setCustomClaim(k, 'ok').idToken.setCustomClaim(k, 'ok');
};"#;

const ORDINARY: [&str; 5] = [
    "https://myapp.example.com/roles",
    "role",
    "organisation_id",
    "組織",
    "Plan",
];

fn names(c: &Value) -> Vec<String> {
    let mut v: Vec<String> = c.as_object().unwrap().keys().cloned().collect();
    v.sort();
    v
}

fn with(registered: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = registered
        .iter()
        .chain(&ORDINARY)
        .map(|s| s.to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn reserved_claim_lookalikes_are_refused_in_both_tokens() {
    let s = TestServer::start_scripts(&[("actions/01-lookalikes.js", LOOKALIKES)], |_| {}).await;
    let (status, body) = s
        .login(&[("audience", API), ("scope", "openid read:x")])
        .await;
    assert_eq!(status, 200, "{body}");
    let at = s.verify(body["access_token"].as_str().unwrap(), API).await;
    let registered = ["iss", "sub", "aud", "iat", "exp", "scope", "gty", "azp"];
    assert_eq!(names(&at), with(&registered), "{at}");
    assert_eq!(at["sub"], s.seed.user_id.as_str());
    assert_eq!(at["組織"], "ok");
    let id = s
        .verify(body["id_token"].as_str().unwrap(), &s.seed.client_id)
        .await;
    assert_eq!(
        names(&id),
        with(&["iss", "sub", "aud", "iat", "exp"]),
        "{id}"
    );
    s.stop().await;
}

/// `n` scopes of about 20 bytes each.
fn scope_flood(n: usize) -> String {
    format!(
        "exports.onExecutePostLogin = async (event, api) => {{\n\
         for (let i = 0; i < {n}; i++) api.accessToken.addScope('flood:scope:' + i);\n}};"
    )
}

const SMALL: &str = "exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://t/small', 'x'.repeat(200)).accessToken.addScope('small:one');
};";

fn assert_too_large(status: u16, body: &Value, script: &str) {
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"], "server_error");
    let d = body["error_description"].as_str().unwrap();
    assert!(d.contains(&format!("Script '{script}'")), "{d}");
    assert!(d.contains("(token too large)"), "{d}");
}

#[tokio::test]
async fn scope_flood_fails_naming_the_script_that_added_the_scopes() {
    let s = TestServer::start_scripts(
        &[
            ("actions/01-flood.js", &scope_flood(3000)),
            ("actions/02-small.js", SMALL),
        ],
        |_| {},
    )
    .await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_too_large(status, &body, "01-flood");
    assert!(!body.to_string().contains("02-small"), "{body}");
    s.stop().await;
}

#[tokio::test]
async fn an_oversized_id_token_fails_too() {
    let big = "exports.onExecutePostLogin = async (event, api) => {
      api.idToken.setCustomClaim('https://t/big', 'x'.repeat(9000));
    };";
    let s = TestServer::start_scripts(
        &[("actions/01-big.js", big), ("actions/02-small.js", SMALL)],
        |_| {},
    )
    .await;
    let (status, body) = s
        .login(&[("audience", API), ("scope", "openid read:x")])
        .await;
    assert_too_large(status, &body, "01-big");
    s.stop().await;
}
#[tokio::test]
async fn token_size_limit_is_exact_and_configurable() {
    let scripts = [("actions/02-small.js", SMALL)];
    let s = TestServer::start_scripts(&scripts, |_| {}).await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 200, "{body}");
    let len = body["access_token"].as_str().unwrap().len();
    s.stop().await;

    // A token of exactly the limit passes; one byte less refuses the same login.
    let s = TestServer::start_scripts(&scripts, |c| c.max_token_bytes = len).await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_token"].as_str().unwrap().len(), len);
    s.stop().await;
    let s = TestServer::start_scripts(&scripts, |c| c.max_token_bytes = len - 1).await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_too_large(status, &body, "02-small");
    s.stop().await;

    // The shipped samples under a small limit: refused, whoever grew it.
    let s = TestServer::start_with(|c| c.max_token_bytes = 500).await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!((status, &body["error"]), (500, &json!("server_error")));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("(token too large)"),
        "{body}"
    );
    s.stop().await;
}

/// `[debug] provenance`: the token response says which script set, overwrote or had each custom
/// claim dropped, and why; off (the default), it says nothing.
#[tokio::test]
async fn debug_provenance_names_the_script_behind_each_claim() {
    let rule = r#"function (user, context, callback) {
  context.accessToken['https://x/plan'] = 'basic';
  callback(null, user, context);
}"#;
    let action = r#"exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://x/plan', 'gold');
  api.accessToken.setCustomClaim('iss', 'me');
  api.idToken.setCustomClaim('email', 'x@example.com');
};"#;
    let files = [("rules/01-plan.js", rule), ("actions/02-gold.js", action)];
    let login = |s: &TestServer| {
        let params = [
            ("grant_type", "password"),
            ("client_id", s.seed.client_id.as_str()),
            ("client_secret", s.seed.client_secret.as_str()),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", "openid"),
        ];
        s.http.post(s.url("/oauth/token")).form(&params).send()
    };
    let s = TestServer::start_scripts(&files, |c| c.debug.provenance = true).await;
    let r = login(&s).await.unwrap();
    assert_eq!(r.status(), 200);
    let header = r.headers()["x-claimsmith-provenance"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = r.json().await.unwrap();
    assert!(body.get("provenance").is_none(), "never in the body");
    let claims = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(claims["https://x/plan"], "gold");
    assert_eq!(
        serde_json::from_str::<Value>(&header).unwrap(),
        json!([
            {"token": "access_token", "claim": "https://x/plan", "script": "01-plan", "fate": "set"},
            {"token": "access_token", "claim": "https://x/plan", "script": "02-gold", "fate": "overwrote", "replaced": "01-plan"},
            {"token": "access_token", "claim": "iss", "script": "02-gold", "fate": "dropped", "reason": "reserved claim name"},
            {"token": "id_token", "claim": "email", "script": "02-gold", "fate": "dropped", "reason": "needs the email scope"},
        ])
    );
    s.stop().await;
    let s = TestServer::start_scripts(&files, |_| {}).await;
    let r = login(&s).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-claimsmith-provenance").is_none());
    s.stop().await;
}
