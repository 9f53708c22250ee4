//! `grant_type=client_credentials` over HTTP: client grants made with the CLI, scope
//! intersection, Auth0's refusals, and the `onExecuteCredentialsExchange` Actions (a claim, each
//! deny code); Rules and post-login Actions never run here.

use serde_json::{Value, json};

use crate::support::*;

const CX: &str = r#"exports.onExecuteCredentialsExchange = async (event, api) => {
  const code = event.request.body.deny;
  if (code) { api.access.deny(code, 'no "' + code + '" today'); return; }
  const seen = api.cache.get('seen');
  api.cache.set('seen', String(seen === undefined ? 1 : Number(seen.value) + 1));
  api.accessToken.setCustomClaim('https://t/seen', seen === undefined ? 0 : Number(seen.value));
  api.accessToken.setCustomClaim('https://t/cx', [event.client.client_id, event.client.name,
    event.resource_server.identifier, event.accessToken.scope, event.transaction.requested_scopes,
    event.user === undefined, event.secrets.K, typeof event.request.ip,
    event.request.body.client_secret === undefined]);
};"#;

const LOGIN_ONLY: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://t/login', true);
};"#;

const RULE: &str = r#"function (user, context, callback) {
  context.accessToken['https://t/rule'] = true;
  callback(null, user, context);
}"#;

struct M2m {
    s: TestServer,
    client_id: String,
    secret: String,
}

async fn m2m() -> M2m {
    let s = TestServer::start_scripts(
        &[
            ("actions/01-cx.js", CX),
            ("actions/02-login.js", LOGIN_ONLY),
            ("rules/01-rule.js", RULE),
        ],
        |c| {
            c.scripts
                .engine
                .shared_secrets
                .insert("K".into(), json!("v"));
        },
    )
    .await;
    let db = db_arg(&s);
    let c = cli_json(&[
        "--db",
        &db,
        "clients",
        "add",
        "--name",
        "m2m",
        "--grant",
        "client_credentials",
    ])
    .await;
    let client_id = c["client_id"].as_str().unwrap().to_owned();
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let granted = cli_json(&[
        "--db",
        &db,
        "clients",
        "grant",
        "--client",
        &client_id,
        "--audience",
        API,
        "--scope",
        "read:x",
        "--scope",
        "write:x",
    ])
    .await;
    assert_eq!(granted["scope"], json!(["read:x", "write:x"]));
    M2m {
        s,
        client_id,
        secret,
    }
}

fn db_arg(s: &TestServer) -> String {
    s.dir
        .path()
        .join("claimsmith.db")
        .to_string_lossy()
        .into_owned()
}

impl M2m {
    async fn token(&self, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut p = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
        ];
        p.extend_from_slice(extra);
        self.s.token(&p).await
    }
}

#[tokio::test]
async fn a_client_with_a_grant_gets_its_own_token_with_the_actions_claims() {
    let m = m2m().await;
    let (status, body) = m.token(&[("audience", API)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read:x write:x");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let c =
        m.s.verify(body["access_token"].as_str().unwrap(), API)
            .await;
    assert_eq!(c["sub"], format!("{}@clients", m.client_id));
    assert_eq!(c["gty"], "client-credentials");
    assert_eq!(c["azp"], m.client_id.as_str());
    assert_eq!(c["aud"], API);
    assert_eq!(
        c["https://t/cx"],
        json!([
            m.client_id,
            "m2m",
            API,
            ["read:x", "write:x"],
            [],
            true,
            "v",
            "string",
            true
        ])
    );
    assert!(
        c.get("https://t/rule").is_none(),
        "Rules never run here: {c}"
    );
    assert!(
        c.get("https://t/login").is_none(),
        "post-login Actions neither: {c}"
    );
}

#[tokio::test]
async fn the_scope_is_what_was_asked_within_what_was_granted() {
    let m = m2m().await;
    let (status, body) = m
        .token(&[("audience", API), ("scope", "write:x admin openid")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "write:x");
    let c =
        m.s.verify(body["access_token"].as_str().unwrap(), API)
            .await;
    assert_eq!(c["scope"], "write:x");
    assert_eq!(c["https://t/cx"][4], json!(["write:x", "admin", "openid"]));
    let (status, body) = m.token(&[("audience", API), ("scope", "admin")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("scope").is_none(), "nothing granted: {body}");
}

#[tokio::test]
async fn refusals_follow_auth0() {
    let m = m2m().await;
    let e = |code: &str, text: &str| json!({"error": code, "error_description": text});
    assert_eq!(
        m.token(&[("audience", API_ES)]).await,
        (
            403,
            e(
                "access_denied",
                &format!(
                    "Client '{}' is not authorized to access resource server '{API_ES}'. \
                     You need to create a 'client-grant' associated to this API.",
                    m.client_id
                )
            )
        )
    );
    assert_eq!(
        m.token(&[]).await,
        (
            403,
            e(
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured"
            )
        )
    );
    assert_eq!(
        m.token(&[("audience", "https://nope.test")]).await,
        (
            403,
            e(
                "access_denied",
                "Service not enabled within domain: https://nope.test"
            )
        )
    );
    let (status, body) =
        m.s.token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &m.client_id),
            ("client_secret", "wrong"),
            ("audience", API),
        ])
        .await;
    assert_eq!((status, &body["error"]), (401, &json!("invalid_client")));
    // The seed client has no client_credentials grant; a public client may never use it.
    for (id, secret) in [
        (
            m.s.seed.client_id.as_str(),
            Some(m.s.seed.client_secret.as_str()),
        ),
        (m.s.seed.public_client_id.as_str(), None),
    ] {
        let mut p = vec![
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("audience", API),
        ];
        if let Some(s) = secret {
            p.push(("client_secret", s));
        }
        assert_eq!(
            m.s.token(&p).await,
            (
                403,
                e(
                    "unauthorized_client",
                    "Grant type 'client_credentials' not allowed for the client."
                )
            )
        );
    }
    // Revoking the grant ends it.
    let db = db_arg(&m.s);
    cli_json(&[
        "--db",
        &db,
        "clients",
        "revoke-grant",
        "--client",
        &m.client_id,
        "--audience",
        API,
    ])
    .await;
    assert_eq!(m.token(&[("audience", API)]).await.0, 403);
}

#[tokio::test]
async fn each_deny_code_of_a_credentials_exchange_action_answers_as_its_code() {
    let m = m2m().await;
    for (code, status) in [
        ("invalid_scope", 400),
        ("invalid_request", 400),
        ("server_error", 500),
    ] {
        let (got, body) = m.token(&[("audience", API), ("deny", code)]).await;
        assert_eq!(
            (got, body),
            (
                status,
                json!({"error": code, "error_description": format!("no '{code}' today")})
            )
        );
    }
    // Any other code is the script's mistake: its TypeError denies, as a throw does.
    let (status, body) = m
        .token(&[("audience", API), ("deny", "access_denied")])
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error_description"],
        "api.access.deny code must be one of invalid_scope, invalid_request, server_error: access_denied"
    );
}
