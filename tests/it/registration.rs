//! The registration Actions over HTTP: `onExecutePreUserRegistration` shapes the user about to be
//! stored or refuses it (deny, validation error, a throw: fail closed), for a signup and for a
//! Management API create alike; `onExecutePostUserRegistration` runs after the user is stored,
//! and its failure leaves the user in place; both reload with the files.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::management::{call, mgmt_token};
use crate::support::*;

const PRE: &str = r#"
exports.onExecutePreUserRegistration = async (event, api) => {
  const email = event.user.email || '';
  if (email.startsWith('deny') || email.endsWith('@evil.com')) return api.access.deny('closed_domain', 'Sign-ups from this address are closed.');
  if (email.startsWith('invalid')) return api.validation.error('invalid_email', 'Use your work address.');
  if (email.startsWith('throw')) throw new Error('the check failed');
  api.user.setAppMetadata('role', 'member');
  api.user.setUserMetadata('via', event.client ? event.client.name : 'management api');
  api.user.setUserMetadata('saw', {
    keys: Object.keys(event).sort(),
    body: Object.keys(event.request.body).sort(),
    no_user_id: event.user.user_id === undefined,
    city: event.user.user_metadata.city === undefined ? null : event.user.user_metadata.city,
  });
};
"#;

/// A second Action sees the first one's pending metadata, as in Auth0.
const PRE_2: &str = r#"
exports.onExecutePreUserRegistration = async (event, api) => {
  api.user.setUserMetadata('role_seen', event.user.app_metadata.role);
};
"#;

const POST: &str = r#"
exports.onExecutePostUserRegistration = async (event, api) => {
  await fetch(event.secrets.BASE + '/registered', { method: 'POST', body: JSON.stringify({
    user_id: event.user.user_id, app: event.user.app_metadata, keys: Object.keys(event).sort(),
    has_body: 'body' in event.request, has_identities: 'identities' in event.user,
  }) });
  if (event.user.email.startsWith('fail')) throw new Error('post-registration failed');
};
"#;

/// Answers every request with `{}` and hands its body to the test.
async fn recorder() -> (String, mpsc::UnboundedReceiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else {
                        continue;
                    };
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .and_then(|v| v.trim().parse::<usize>().ok())
                        })
                        .unwrap_or(0);
                    if body.len() < length {
                        continue;
                    }
                    let _ = tx.send(serde_json::from_str(body).unwrap_or(Value::Null));
                    let _ = sock
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                        )
                        .await;
                    return;
                }
            });
        }
    });
    (base, rx)
}

/// The next body the recorder got; fails the test after 20 s (a guard against a hang, not a
/// timing: the post-registration Action runs after the answer).
async fn next(rx: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
        .await
        .expect("the post-registration Action called")
        .unwrap()
}

/// A server with `files` whose Actions may fetch from the recorder (`event.secrets.BASE`).
async fn serving_recorded(files: &[(&str, &str)]) -> (TestServer, mpsc::UnboundedReceiver<Value>) {
    let (base, rx) = recorder().await;
    (serving(files, &base, |_| {}).await, rx)
}

async fn signup(s: &TestServer, email: &str) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/dbconnections/signup"))
        .json(&json!({
            "client_id": s.seed.public_client_id,
            "connection": CONNECTION,
            "email": email,
            "password": "Sup3r-secret!",
            "user_metadata": {"city": "Leiden"},
        }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The stored user with this email, through the Management API; `None` when there is none.
async fn stored(s: &TestServer, token: &str, email: &str) -> Option<Value> {
    let (status, users) = call(
        s,
        "GET",
        &format!("/api/v2/users-by-email?email={email}"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{users}");
    users.as_array().unwrap().first().cloned()
}

#[tokio::test]
async fn pre_registration_shapes_the_user_of_a_signup_and_of_a_management_create() {
    let (s, mut posted) = serving_recorded(&[
        ("actions/01-pre.js", PRE),
        ("actions/02-pre.js", PRE_2),
        ("actions/03-post.js", POST),
    ])
    .await;
    let token = mgmt_token(&s, &["read:users", "create:users"]).await;
    let (status, body) = signup(&s, "new@example.com").await;
    assert_eq!(status, 200, "{body}");
    let user = stored(&s, &token, "new@example.com").await.unwrap();
    assert_eq!(user["app_metadata"], json!({"role": "member"}));
    assert_eq!(
        user["user_metadata"],
        json!({
            "city": "Leiden",
            "via": format!("client {}", s.seed.public_client_id),
            "role_seen": "member",
            "saw": {
                "keys": ["client", "connection", "request", "secrets", "tenant", "user"],
                "body": ["client_id", "connection", "email", "user_metadata"],
                "no_user_id": true,
                "city": "Leiden",
            },
        })
    );
    // The post-registration Action ran once the user was stored, with its id.
    let seen = next(&mut posted).await;
    assert_eq!(
        seen,
        json!({
            "user_id": user["user_id"],
            "app": {"role": "member"},
            "keys": ["client", "connection", "request", "secrets", "tenant", "user"],
            "has_body": false,
            "has_identities": false,
        })
    );

    let (status, created) = call(
        &s,
        "POST",
        "/api/v2/users",
        Some(&token),
        Some(json!({"connection": CONNECTION, "email": "bob@example.com", "password": "x"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["app_metadata"], json!({"role": "member"}));
    assert_eq!(created["user_metadata"]["via"], "management api");
    assert_eq!(
        created["user_metadata"]["saw"]["keys"],
        json!(["connection", "request", "secrets", "tenant", "user"]),
        "no client for a Management API create"
    );
    assert_eq!(next(&mut posted).await["user_id"], created["user_id"]);
    s.stop().await;
}

#[tokio::test]
async fn pre_registration_refusals_create_no_user_and_post_registration_failures_keep_it() {
    let (s, mut posted) =
        serving_recorded(&[("actions/01-pre.js", PRE), ("actions/03-post.js", POST)]).await;
    let token = mgmt_token(&s, &["read:users", "create:users"]).await;
    assert_eq!(
        signup(&s, "deny@example.com").await,
        (
            400,
            json!({
                "name": "InternalExtensibilityError",
                "statusCode": 400,
                "code": "extensibility_error",
                "message": "closed_domain",
                "friendly_message": "Sign-ups from this address are closed.",
                "description": "closed_domain",
                "fromSandbox": true,
            })
        )
    );
    // The Action sees the email as it would be stored.
    assert_eq!(signup(&s, "Mixed@EVIL.com").await.0, 400);
    let (status, body) = signup(&s, "invalid@example.com").await;
    assert_eq!(
        (status, &body["code"], &body["description"]),
        (
            400,
            &json!("invalid_email"),
            &json!("Use your work address.")
        )
    );
    let (status, body) = signup(&s, "throw@example.com").await;
    assert_eq!(
        (status, &body["code"], &body["description"]),
        (
            400,
            &json!("extensibility_error"),
            &json!("the check failed")
        )
    );
    let (status, body) = call(
        &s,
        "POST",
        "/api/v2/users",
        Some(&token),
        Some(json!({"connection": CONNECTION, "email": "deny2@example.com", "password": "x"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"statusCode": 400, "error": "Bad Request",
                   "message": "Sign-ups from this address are closed.", "errorCode": "extensibility_error"})
        )
    );
    for email in [
        "deny@example.com",
        "invalid@example.com",
        "throw@example.com",
        "deny2@example.com",
        "mixed@evil.com",
    ] {
        assert_eq!(stored(&s, &token, email).await, None, "{email}");
    }
    // A post-registration failure is logged; the signup stands.
    let (status, body) = signup(&s, "fail@example.com").await;
    assert_eq!(status, 200, "{body}");
    let seen = next(&mut posted).await;
    let user = stored(&s, &token, "fail@example.com").await.unwrap();
    assert_eq!(seen["user_id"], user["user_id"]);
    // The user logs in: registration Actions do not run at login.
    let (status, login) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", "fail@example.com"),
            ("password", "Sup3r-secret!"),
            ("audience", API),
        ])
        .await;
    assert_eq!(status, 200, "{login}");
    s.stop().await;
}

#[tokio::test]
async fn registration_actions_reload_with_their_files() {
    let (s, _posted) = serving_recorded(&[]).await;
    let token = mgmt_token(&s, &["read:users"]).await;
    assert_eq!(signup(&s, "early@example.com").await.0, 200);
    let early = stored(&s, &token, "early@example.com").await.unwrap();
    assert_eq!(early["app_metadata"], json!({}));
    s.put_script("actions/01-pre.js", PRE).await;
    assert_eq!(signup(&s, "late@example.com").await.0, 200);
    let late = stored(&s, &token, "late@example.com").await.unwrap();
    assert_eq!(late["app_metadata"], json!({"role": "member"}));
    // A new Action that never loaded refuses signups (fail closed).
    write_atomically(
        &s.dir.path().join("actions/02-broken.js"),
        "exports.onExecutePreUserRegistration = (",
    );
    s.wait_health("the load error", |h| {
        h["scripts"]["not_loaded"] == json!(["02-broken"])
    })
    .await;
    let (status, body) = signup(&s, "broken@example.com").await;
    assert_eq!(
        (status, &body["code"]),
        (400, &json!("extensibility_error")),
        "{body}"
    );
    assert_eq!(stored(&s, &token, "broken@example.com").await, None);
    s.stop().await;
}

/// The documented member paths of a trigger's `api` (`tests/fixtures/auth0-members/<file>`).
fn documented(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/auth0-members/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut members = doc["members"].as_array().unwrap().clone();
    members.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    members
}

/// Every function reachable as `api.<ns>.<member>`, sorted.
const WALK: &str = r#"
const walk = (api) => {
  const found = [];
  for (const ns of Object.keys(api)) {
    const o = api[ns];
    if (o === null || typeof o !== 'object') continue;
    for (const m of Object.keys(o)) if (typeof o[m] === 'function') found.push('api.' + ns + '.' + m);
  }
  return found.sort();
};
exports.onExecutePreUserRegistration = async (event, api) => {
  api.user.setUserMetadata('members', walk(api));
};
exports.onExecutePostUserRegistration = async (event, api) => {
  await fetch(event.secrets.BASE + '/members', { method: 'POST', body: JSON.stringify(walk(api)) });
};
"#;

#[tokio::test]
async fn registration_apis_have_every_member_of_auth0s_documentation() {
    let (s, mut posted) = serving_recorded(&[("actions/01-walk.js", WALK)]).await;
    let token = mgmt_token(&s, &["read:users"]).await;
    assert_eq!(signup(&s, "walk@example.com").await.0, 200);
    let user = stored(&s, &token, "walk@example.com").await.unwrap();
    assert_eq!(
        user["user_metadata"]["members"],
        Value::Array(documented("pre-user-registration-api.json"))
    );
    assert_eq!(
        next(&mut posted).await,
        Value::Array(documented("post-user-registration-api.json"))
    );
    s.stop().await;
}
