//! Issue 13's "the SDKs and the Rules helpers work against it": Rules' `auth0.accessToken` and
//! `auth0.baseUrl` call this server's Management API (over HTTPS with its own self-signed
//! certificate, through the scripts' `fetch` and through Auth0's own `auth0` package in the
//! Rule), and Auth0's Node SDK drives a backend's whole flow against the server with only the
//! domain changed.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::management::mgmt_token;
use crate::support::*;

/// A server serving HTTPS with a fresh self-signed certificate for `localhost`, whose issuer is
/// `https://localhost:<port>/` (the SDK builds `https://${domain}/…` from a host name), with
/// `files` as its scripts (or the shipped samples when `None`) and the installed npm packages
/// beside them.
struct Tls {
    s: TestServer,
    /// `localhost:<port>`: Auth0's "domain".
    domain: String,
    /// The certificate's PEM file, for clients to trust.
    cert: PathBuf,
    /// A client that trusts the certificate.
    https: reqwest::Client,
    /// Holds the certificate and key files.
    _certs: tempfile::TempDir,
}

async fn tls_server(files: Option<&[(&str, &str)]>) -> Tls {
    let dir = tempfile::tempdir().unwrap();
    match files {
        Some(files) => {
            for sub in ["actions", "rules"] {
                std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            }
            for (path, source) in files {
                std::fs::write(dir.path().join(path), source).unwrap();
            }
        }
        None => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            copy_dir(&root.join("actions"), &dir.path().join("actions"));
            copy_dir(&root.join("rules"), &dir.path().join("rules"));
        }
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(crate::npm::node_modules(), dir.path().join("node_modules"))
        .unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let certs = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let tls = Some((cert_path.clone(), key_path));
    let s = TestServer::start_bound(
        dir,
        |c| c.tls = tls,
        |c, addr| c.issuer = format!("https://localhost:{}/", addr.port()),
        None,
    )
    .await;
    let port = s.base.rsplit(':').next().unwrap().to_owned();
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    Tls {
        domain: format!("localhost:{port}"),
        cert: cert_path,
        https,
        s,
        _certs: certs,
    }
}

impl Tls {
    fn issuer(&self) -> String {
        format!("https://{}/", self.domain)
    }

    fn mgmt_audience(&self) -> String {
        format!("{}api/v2/", self.issuer())
    }

    /// A confidential client with the client-credentials grant and a client grant for the
    /// Management API with `scopes`.
    fn mgmt_client(&self, scopes: &[&str]) -> (String, String) {
        let (aud, scopes) = (
            self.mgmt_audience(),
            scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        );
        self.s.db(move |db| {
            let c = add_client(db, &["client_credentials"])?;
            db.set_client_grant(&c.0, &aud, &scopes)?;
            Ok(c)
        })
    }

    /// POSTs a token request over HTTPS.
    async fn token(&self, params: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .https
            .post(format!("{}oauth/token", self.issuer()))
            .form(params)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// The seed user's login (seed client) to [`API`].
    async fn login(&self) -> (u16, Value) {
        let seed = &self.s.seed;
        self.token(&[
            ("grant_type", "password"),
            ("client_id", &seed.client_id),
            ("client_secret", &seed.client_secret),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
        ])
        .await
    }

    /// The JWKS, over HTTPS.
    async fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        let url = format!("{}.well-known/jwks.json", self.issuer());
        let r = self.https.get(url).send().await.unwrap();
        r.json().await.unwrap()
    }

    /// `GET /api/v2/users/{id}` with a client-credentials token.
    async fn stored_user(&self, id: &str) -> Value {
        let (cid, secret) = self.mgmt_client(&["read:users"]);
        let aud = self.mgmt_audience();
        let (status, body) = self
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", &cid),
                ("client_secret", &secret),
                ("audience", &aud),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        let path = id.replace('|', "%7C");
        let r = self
            .https
            .get(format!("{}api/v2/users/{path}", self.issuer()))
            .bearer_auth(body["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}

/// A Rule that reads `auth0.accessToken` and `auth0.baseUrl`, PATCHes the user logging in through
/// the Management API with the scripts' `fetch`, and shows the token (for the test to verify: a
/// real Rule never would) and what the API answered.
/// An Action cannot read the Rules' token: `auth0` is a binding of Rules only.
const ACTION: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://t/action', [typeof auth0, typeof globalThis.auth0]);
};"#;

const FETCH_RULE: &str = r#"function (user, context, callback) {
  const token = auth0.accessToken;
  fetch(auth0.baseUrl + '/users/' + encodeURIComponent(user.user_id), {
    method: 'PATCH',
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: JSON.stringify({ app_metadata: { plan: 'gold' } }),
  }).then((r) => r.json().then((body) => {
    context.accessToken['https://t/mgmt'] = { status: r.status, plan: body.app_metadata && body.app_metadata.plan,
      baseUrl: auth0.baseUrl, domain: auth0.domain, token, again: auth0.accessToken === token,
      printed: JSON.stringify(auth0) };
    callback(null, user, context);
  })).catch((e) => callback(e));
}"#;

#[tokio::test]
async fn a_rule_updates_its_user_through_the_management_api_with_auth0_access_token() {
    let t = tls_server(Some(&[
        ("rules/01-mgmt.js", FETCH_RULE),
        ("actions/01-look.js", ACTION),
    ]))
    .await;
    let (status, body) = t.login().await;
    assert_eq!(status, 200, "{body}");
    let jwks = t.jwks().await;
    let claims = verify_issued(
        &jwks,
        body["access_token"].as_str().unwrap(),
        API,
        &t.issuer(),
    );
    let m = &claims["https://t/mgmt"];
    assert_eq!(
        (&m["status"], &m["plan"], &m["again"]),
        (&json!(200), &json!("gold"), &json!(true)),
        "{m}"
    );
    // Printing `auth0` never prints the token.
    assert_eq!(
        m["printed"],
        format!("{{\"domain\":\"{}\",\"users\":{{}}}}", t.domain)
    );
    assert_eq!(m["baseUrl"], format!("{}api/v2", t.issuer()));
    assert_eq!(
        claims["https://t/action"],
        json!(["undefined", "undefined"])
    );
    assert_eq!(m["domain"], t.domain);
    // The token: this server's, for its Management API, with Auth0's Rules scopes only, short.
    let token = verify_issued(
        &jwks,
        m["token"].as_str().unwrap(),
        &t.mgmt_audience(),
        &t.issuer(),
    );
    assert_eq!(token["scope"], "read:users update:users");
    assert_eq!(
        (&token["sub"], &token["azp"], &token["gty"]),
        (
            &json!("claimsmith-rules@clients"),
            &json!("claimsmith-rules"),
            &json!("client-credentials")
        )
    );
    assert_eq!(
        token["exp"].as_i64().unwrap() - token["iat"].as_i64().unwrap(),
        600
    );
    // The stored user shows the change.
    let user = t.stored_user(&t.s.seed.user_id).await;
    assert_eq!(user["app_metadata"]["plan"], "gold", "{user}");
    // Later logins reuse it while more than half its lifetime is left (a new one would have a
    // later `iat`), then get a new one.
    let rules_token = |login: Value| {
        let c = verify_issued(
            &jwks,
            login["access_token"].as_str().unwrap(),
            API,
            &t.issuer(),
        );
        c["https://t/mgmt"]["token"].as_str().unwrap().to_owned()
    };
    t.s.state.clock.advance(299_000);
    assert_eq!(rules_token(t.login().await.1), m["token"].as_str().unwrap());
    t.s.state.clock.advance(2_000);
    let fresh = rules_token(t.login().await.1);
    let fresh = verify_issued(&jwks, &fresh, &t.mgmt_audience(), &t.issuer());
    assert_eq!(fresh["iat"], token["iat"].as_i64().unwrap() + 301);
    // The token is enough for what Rules may do, nothing else.
    let r = t
        .https
        .delete(format!("{}/users/x", m["baseUrl"].as_str().unwrap()))
        .bearer_auth(m["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    t.s.stop().await;
}

/// What Auth0's Rules documentation shows, with node-auth0 v4's client (v2's `updateAppMetadata`
/// became `users.update`): Auth0's own package, required from `node_modules` inside the Rule.
const SDK_RULE: &str = r#"function (user, context, callback) {
  const { ManagementClient } = require('auth0');
  const management = new ManagementClient({ domain: auth0.domain, token: auth0.accessToken });
  management.users.update({ id: user.user_id }, { user_metadata: { city: 'Amsterdam' } })
    .then(() => callback(null, user, context), (e) => callback(e));
}"#;

/// The `auth0` package does not load in the sandbox (README "Rules' `auth0` object and Auth0's
/// SDKs"): its dependency `jose` (Node build) requires `zlib` when it loads. The login fails
/// closed, naming the module, and nothing was written. Should the package ever load, this test
/// fails and the README's paragraph must change with it.
#[tokio::test]
async fn auth0s_management_client_does_not_load_in_a_rule_and_the_login_says_why() {
    let t = tls_server(Some(&[("rules/01-sdk.js", SDK_RULE)])).await;
    let (status, body) = t.login().await;
    assert_eq!(
        (status, &body["error_description"]),
        (
            403,
            &json!("The Node.js module 'zlib' is not available in claimsmith")
        )
    );
    let user = t.stored_user(&t.s.seed.user_id).await;
    assert_eq!(user["user_metadata"]["city"], "Utrecht");
    t.s.stop().await;
}

#[tokio::test]
async fn auth0s_node_sdk_creates_a_user_with_a_role_and_an_organization_then_logs_it_in() {
    let t = tls_server(None).await;
    let (m2m_id, m2m_secret) = t.mgmt_client(&[
        "create:users",
        "read:users",
        "update:users",
        "create:roles",
        "read:roles",
        "create:role_members",
        "create:organizations",
        "read:organizations",
        "create:organization_members",
        "read:organization_members",
    ]);
    let (app_id, app_secret) = t.s.db(|db| add_client(db, &["password"]));
    let r = crate::npm::run_node(
        "the auth0 SDK flow",
        "auth0_sdk/flow.js",
        &[
            t.domain.as_str(),
            &m2m_id,
            &m2m_secret,
            &app_id,
            &app_secret,
            API,
            CONNECTION,
            "acme",
        ],
        &[("NODE_EXTRA_CA_CERTS", t.cert.as_os_str())],
    )
    .await;
    let user_id = r["userId"].as_str().unwrap();
    let org =
        t.s.db(|db| db.org("acme"))
            .expect("the organization the SDK made");
    assert_eq!(r["orgId"], org.id.as_str());
    assert_eq!(org.display_name, "Acme");
    assert_eq!(r["roles"], json!(["editor"]));
    assert_eq!(r["byEmail"], json!([user_id]));
    assert_eq!(r["found"], json!({"total": 1, "ids": [user_id]}));
    assert_eq!(r["members"], json!([user_id]));
    assert_eq!(
        (&r["allRoles"], &r["orgs"], &r["name"]),
        (&json!(["editor"]), &json!(["acme"]), &json!("Sdk User"))
    );
    assert_eq!(
        r["metadata"],
        json!({"user": {"city": "Utrecht", "province": "Utrecht"},
               "app": {"role": "editor", "organisation_id": org.id}})
    );
    let claims = verify_issued(
        &t.jwks().await,
        r["accessToken"].as_str().unwrap(),
        API,
        &t.issuer(),
    );
    assert_eq!(claims["sub"], user_id);
    assert_eq!(claims["https://claimsmith.dev/user_id"], user_id);
    assert_eq!(
        claims["https://claimsmith.dev/email"],
        "sdk-user@example.com"
    );
    assert_eq!(claims["https://claimsmith.dev/role"], "editor");
    assert_eq!(claims["https://claimsmith.dev/roles"], json!(["editor"]));
    assert_eq!(
        claims["https://claimsmith.dev/organisation_id"],
        org.id.as_str()
    );
    // The membership the SDK made is stored.
    let members = t.s.db(move |db| db.org_members(&org.id));
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].user_id, user_id);
    t.s.stop().await;
}

/// `POST /api/v2/organizations`, which the SDK's `organizations.create` calls: 201 and the
/// organization; its scope; a name in use (as a name or an id) is 409; a body without a name 400.
#[tokio::test]
async fn organizations_are_created_over_http() {
    let s = TestServer::start().await;
    let create = |token: String, body: Value| {
        let s = &s;
        async move {
            let r = s
                .http
                .post(s.url("/api/v2/organizations"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let t = mgmt_token(&s, &["create:organizations"]).await;
    let (status, org) = create(
        t.clone(),
        json!({"name": "acme", "display_name": "Acme", "metadata": {"tier": "gold"}}),
    )
    .await;
    assert_eq!(status, 201, "{org}");
    assert!(org["id"].as_str().unwrap().starts_with("org_"), "{org}");
    assert_eq!(
        (&org["name"], &org["display_name"], &org["metadata"]),
        (&json!("acme"), &json!("Acme"), &json!({"tier": "gold"}))
    );
    let stored = s.db(|db| db.org("acme")).unwrap();
    assert_eq!(stored.id, org["id"].as_str().unwrap());
    // The display name defaults to the name.
    let (_, other) = create(t.clone(), json!({"name": "beta"})).await;
    assert_eq!(other["display_name"], "beta");
    let (status, body) = create(t.clone(), json!({"name": "acme"})).await;
    assert_eq!(status, 409, "{body}");
    // An id is never taken as a name: it is refused as one (capitals) or as taken.
    let (status, body) = create(t.clone(), json!({"name": org["id"]})).await;
    assert!(status == 409 || status == 400, "{body}");
    // Auth0's character set: a name is also a path segment.
    for bad in ["Acme", "acme corp", "a/b", ""] {
        let (status, body) = create(t.clone(), json!({ "name": bad })).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
    }
    let long = "x".repeat(256);
    for bad in [json!(""), json!(long), json!(1)] {
        let (status, body) = create(t.clone(), json!({"name": "d", "display_name": bad})).await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, body) = create(t.clone(), json!({"display_name": "x"})).await;
    assert_eq!(
        (status, &body["message"]),
        (
            400,
            &json!("Payload validation error: 'Missing required property: name'.")
        )
    );
    let (status, _) = create(
        mgmt_token(&s, &["read:organizations"]).await,
        json!({"name": "c"}),
    )
    .await;
    assert_eq!(status, 403);
    s.stop().await;
}
