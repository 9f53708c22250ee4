//! Per-client settings of the password grants, over HTTP: a trusted backend's
//! `auth0-forwarded-for` (brute-force counting and the scripts' `request.ip`), ignored from any
//! other client; and the connections enabled for a client, changed through the CLI.

use serde_json::{Value, json};

use crate::support::*;

const A: &str = "203.0.113.1";
const B: &str = "203.0.113.2";

/// The seed user's login with `password` through the seed client, as forwarded for `ip`.
async fn login_for(s: &TestServer, ip: Option<&str>, password: &str) -> (u16, Value) {
    let mut r = s.http.post(s.url("/oauth/token")).form(&[
        ("grant_type", "password"),
        ("client_id", s.seed.client_id.as_str()),
        ("client_secret", s.seed.client_secret.as_str()),
        ("username", EMAIL),
        ("password", password),
        ("audience", API),
    ]);
    if let Some(ip) = ip {
        r = r.header("auth0-forwarded-for", ip);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Ten failures forwarded for `ip`, each an ordinary wrong password.
async fn fail_ten_times(s: &TestServer, ip: &str) {
    for _ in 0..10 {
        let (status, body) = login_for(s, Some(ip), "wrong").await;
        assert_eq!(status, 403, "{body}");
    }
}

#[tokio::test]
async fn a_trusted_backend_counts_failures_under_the_forwarded_ip() {
    let s = TestServer::start().await;
    assert!(s.db(|db| db.set_trusted_forwarded_for(&s.seed.client_id, true)));
    fail_ten_times(&s, A).await;
    let (status, body) = login_for(&s, Some(A), PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_attempts"))
    );
    // The same user from another end user's IP, and from the backend's own address, logs in.
    assert_eq!(login_for(&s, Some(B), PASSWORD).await.0, 200);
    assert_eq!(login_for(&s, None, PASSWORD).await.0, 200);
    // A value that is not one IP address is the backend's bug: refused, not counted elsewhere.
    for bad in ["not-an-ip", "203.0.113.1, 10.0.0.1"] {
        let (status, body) = login_for(&s, Some(bad), PASSWORD).await;
        assert_eq!(
            (status, &body),
            (
                400,
                &json!({"error": "invalid_request",
                    "error_description": "The auth0-forwarded-for header must be one IP address."})
            )
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn an_untrusted_client_s_forwarded_ip_is_ignored() {
    let s = TestServer::start().await;
    // The seed client is not trusted: ten failures "for A" are ten failures of its own address,
    // so "B" (and a value that is no IP at all) is blocked too.
    fail_ten_times(&s, A).await;
    for ip in [Some(B), Some("junk"), None] {
        let (status, body) = login_for(&s, ip, PASSWORD).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("too_many_attempts")),
            "{ip:?}"
        );
    }
    s.stop().await;
}

/// Records the IP each kind of script sees as custom claims.
const SHOW_IP: [(&str, &str); 2] = [
    (
        "actions/01-ip.js",
        "exports.onExecutePostLogin = async (event, api) => {
           api.accessToken.setCustomClaim('https://t/action_ip', event.request.ip);
         };",
    ),
    (
        "rules/01-ip.js",
        "function (user, context, callback) {
           context.accessToken['https://t/rule_ip'] = context.request.ip;
           callback(null, user, context);
         }",
    ),
];

#[tokio::test]
async fn scripts_see_the_forwarded_ip_of_a_trusted_backend_only() {
    let s = TestServer::start_scripts(&SHOW_IP, |_| {}).await;
    let ips = |claims: &Value| {
        (
            claims["https://t/action_ip"].clone(),
            claims["https://t/rule_ip"].clone(),
        )
    };
    let (status, body) = login_for(&s, Some(A), PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let peer = json!("127.0.0.1");
    assert_eq!(
        ips(&s.verify(body["access_token"].as_str().unwrap(), API).await),
        (peer.clone(), peer)
    );
    s.db(|db| db.set_trusted_forwarded_for(&s.seed.client_id, true));
    let (_, body) = login_for(&s, Some("::ffff:203.0.113.1"), PASSWORD).await;
    let claims = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(ips(&claims), (json!(A), json!(A)));
    s.stop().await;
}

/// A password-realm login of `username` through `realm` with the seed client.
async fn realm_login(s: &TestServer, realm: &str, username: &str, password: &str) -> (u16, Value) {
    s.token(&[
        (
            "grant_type",
            "http://auth0.com/oauth/grant-type/password-realm",
        ),
        ("realm", realm),
        ("client_id", s.seed.client_id.as_str()),
        ("client_secret", s.seed.client_secret.as_str()),
        ("username", username),
        ("password", password),
    ])
    .await
}

#[tokio::test]
async fn a_connection_serves_only_the_clients_it_is_enabled_for() {
    let s = TestServer::start().await;
    s.db(|db| {
        db.ensure_connection("partners", "t")?;
        db.insert_user(
            &claimsmith::store::NewUser {
                connection: "partners".into(),
                email: Some("pat@partner.test".into()),
                password_hash: Some(bcrypt::hash("pw", 4).unwrap()),
                ..Default::default()
            },
            "t",
        )
    });
    let client = s.seed.client_id.as_str();
    // Not enabled: the same refusal whoever is named and whatever the password, so it tells
    // nothing about the users of the connection.
    let refused =
        json!({"error": "invalid_request", "error_description": "the connection was disabled"});
    for (user, password) in [
        ("pat@partner.test", "pw"),
        ("pat@partner.test", "no"),
        ("nobody@x.test", "pw"),
    ] {
        let (status, body) = realm_login(&s, "partners", user, password).await;
        assert_eq!((status, &body), (400, &refused), "{user}");
    }
    let db = s.dir.path().join("claimsmith.db");
    let db = db.to_str().unwrap();
    let cli = |verb: &'static str| {
        [
            "--db",
            db,
            "clients",
            verb,
            "--client",
            client,
            "--connection",
            "partners",
        ]
    };
    let enabled = cli_json(&cli("enable-connection")).await;
    assert_eq!(
        enabled["connections"],
        json!(["Username-Password-Authentication", "partners"])
    );
    assert_eq!(
        realm_login(&s, "partners", "pat@partner.test", "pw")
            .await
            .0,
        200
    );
    let disabled = cli_json(&cli("disable-connection")).await;
    assert_eq!(
        disabled["connections"],
        json!(["Username-Password-Authentication"])
    );
    assert_eq!(
        realm_login(&s, "partners", "pat@partner.test", "pw")
            .await
            .1,
        refused
    );
    // The default connection, through `password` too, once disabled.
    assert_eq!(s.login(&[]).await.0, 200);
    s.db(|db| db.disable_connection(client, CONNECTION));
    assert_eq!(s.login(&[]).await.1, refused);
    s.stop().await;
}

#[tokio::test]
async fn the_cli_creates_and_updates_trusted_clients_with_the_default_connection() {
    let s = TestServer::start().await;
    let db = s.dir.path().join("claimsmith.db");
    let db = db.to_str().unwrap();
    let made = cli_json(&[
        "--db",
        db,
        "clients",
        "add",
        "--name",
        "backend",
        "--trusted-forwarded-for",
    ])
    .await;
    assert_eq!(made["trusted_forwarded_for"], true);
    assert_eq!(made["connections"], json!([CONNECTION]));
    let id = made["client_id"].as_str().unwrap();
    let secret = made["client_secret"].as_str().unwrap();
    // A new client logs users of the default connection in, under the forwarded IP.
    let login = |ip: &'static str| {
        let r = s
            .http
            .post(s.url("/oauth/token"))
            .header("auth0-forwarded-for", ip)
            .form(&[
                ("grant_type", "password"),
                ("client_id", id),
                ("client_secret", secret),
                ("username", EMAIL),
                ("password", PASSWORD),
            ]);
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        login("bad").await,
        400,
        "trusted: an invalid value is refused"
    );
    let updated = cli_json(&[
        "--db",
        db,
        "clients",
        "update",
        "--client",
        id,
        "--trusted-forwarded-for",
        "false",
    ])
    .await;
    assert_eq!(updated["trusted_forwarded_for"], false);
    assert_eq!(login("bad").await, 200, "untrusted: the header is ignored");
    // A public client cannot be trusted.
    let public = cli_json(&["--db", db, "clients", "add", "--name", "spa", "--public"]).await;
    let out = run_cli(&[
        "--db",
        db,
        "clients",
        "update",
        "--client",
        public["client_id"].as_str().unwrap(),
        "--trusted-forwarded-for",
        "true",
    ])
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only a confidential client"));
    s.stop().await;
}
