//! The test server and its helpers.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use claimsmith::clock::Clock;
use claimsmith::config::Config;
use claimsmith::credentials::{hash_secret, random_id};
use claimsmith::state::AppState;
use claimsmith::store::{ClientAuth, NewApi, NewClient, NewUser, Store};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every test's clock: 2027-01-15T08:00:00Z.
pub const NOW_MS: i64 = 1_800_000_000_000;
pub const ISSUER: &str = "http://claimsmith.test/";
pub const API: &str = "https://api.test";
pub const API_ES: &str = "https://es.test";
pub const API_ED: &str = "https://ed.test";
pub const EMAIL: &str = "ann@example.com";
pub const PASSWORD: &str = "correct horse battery";
pub const CONNECTION: &str = "Username-Password-Authentication";
/// The API [`TestServer::insert_rbac_api`] creates.
pub const RBAC_API: &str = "https://rbac.test";

/// An HTTP client for the tests. reqwest's rustls (enabled for the scripts' `fetch`) takes the
/// process's crypto provider, which only a server installs: install it here too.
pub fn http_client() -> reqwest::Client {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::new()
}

/// A running server.
pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub state: Arc<AppState>,
    pub dir: TempDir,
    pub seed: Seed,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// What `seed` created.
#[derive(Clone, Debug)]
pub struct Seed {
    pub client_id: String,
    pub client_secret: String,
    pub public_client_id: String,
    pub user_id: String,
}

impl TestServer {
    /// A server on a fresh folder with the seed data.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// As `start`, with the configuration adjusted first.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("actions")
                .as_path(),
            &dir.path().join("actions"),
        );
        copy_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("rules")
                .as_path(),
            &dir.path().join("rules"),
        );
        Self::start_in(dir, tweak, None).await
    }

    /// A server whose script folders hold exactly `files` (`("actions/01-x.js", source)`).
    pub async fn start_scripts(
        files: &[(&str, &str)],
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["actions", "rules"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        for (path, source) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("a folder")).expect("mkdir");
            std::fs::write(p, source).expect("write script");
        }
        Self::start_in(dir, tweak, None).await
    }

    /// A server on an existing folder (a restart, or a database the CLI made), with the data
    /// named by `existing`, or seeded now.
    pub async fn start_in(
        dir: TempDir,
        tweak: impl FnOnce(&mut Config),
        existing: Option<Seed>,
    ) -> TestServer {
        Self::start_bound(dir, tweak, |_, _| {}, existing).await
    }

    /// As `start_in`, with `bound` adjusting the configuration once the port is known (an
    /// issuer `https://localhost:<port>/` for clients that build URLs from a host name).
    pub async fn start_bound(
        dir: TempDir,
        tweak: impl FnOnce(&mut Config),
        bound: impl FnOnce(&mut Config, std::net::SocketAddr),
        existing: Option<Seed>,
    ) -> TestServer {
        let mut config = Config::for_test(dir.path());
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        // Only a test that set `issuer_derived` gets an issuer from the address (real clients
        // that follow discovery need one they can reach).
        config.bound_to(addr);
        bound(&mut config, addr);
        let state = tokio::task::spawn_blocking(move || {
            claimsmith::bootstrap::app_state(config, Clock::fixed(NOW_MS))
        })
        .await
        .expect("join")
        .expect("state");
        let seed = existing.unwrap_or_else(|| seed(&state.store));
        let state = Arc::new(state);
        let (tx, rx) = oneshot::channel::<()>();
        let tls =
            state.config.tls.as_ref().map(|(cert, key)| {
                claimsmith::server::tls_acceptor(cert, key).expect("TLS acceptor")
            });
        let task = tokio::spawn(claimsmith::run(listener, state.clone(), tls, async move {
            let _ = rx.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            http: http_client(),
            state,
            dir,
            seed,
            stop: Some(tx),
            task,
        }
    }

    /// Shuts down and checks the shutdown was clean; returns the folder for a restart.
    pub async fn stop(mut self) -> TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(std::time::Duration::from_secs(20), &mut self.task)
            .await
            .expect("shutdown finished in time")
            .expect("server task did not panic");
        self.dir
    }

    /// Begins a shutdown without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Waits for the server task to end.
    pub async fn join(self) {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.task)
            .await
            .expect("shutdown finished in time")
            .expect("server task did not panic");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a form-encoded token request.
    pub async fn token(&self, params: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/oauth/token"))
            .form(params)
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }

    /// The seed user's password login with the seed client, plus `extra` parameters.
    pub async fn login(&self, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut p = vec![
            ("grant_type", "password"),
            ("client_id", self.seed.client_id.as_str()),
            ("client_secret", self.seed.client_secret.as_str()),
            ("username", EMAIL),
            ("password", PASSWORD),
        ];
        p.extend_from_slice(extra);
        self.token(&p).await
    }

    /// Verifies a JWT against the server's JWKS (by `kid`, with the header's algorithm) and
    /// returns its claims.
    pub async fn verify(&self, jwt: &str, audience: &str) -> Value {
        verify_with(&self.jwks().await, jwt, audience)
    }

    /// `GET` of `url` (a full URL, or a path on this server), its JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> T {
        let url = if url.starts_with('/') {
            self.url(url)
        } else {
            url.to_owned()
        };
        let r = self.http.get(&url).send().await;
        r.expect("GET").json().await.expect("a JSON body")
    }

    /// `/.well-known/openid-configuration`.
    pub async fn discovery(&self) -> Value {
        self.get_json("/.well-known/openid-configuration").await
    }

    /// The served JWKS.
    pub async fn jwks(&self) -> JwkSet {
        let r = self
            .http
            .get(self.url("/.well-known/jwks.json"))
            .send()
            .await;
        r.expect("jwks").json().await.expect("jwks json")
    }

    /// `GET /healthz`.
    /// `/healthz` with an optional bearer token: (status, body).
    pub async fn health_as(&self, bearer: Option<&str>) -> (u16, Value) {
        let mut r = self.http.get(self.url("/healthz"));
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        let r = r.send().await.expect("healthz");
        (r.status().as_u16(), r.json().await.expect("healthz json"))
    }

    /// Creates the API `https://rbac.test` (RBAC on, permissions in the token, scopes `read:a`
    /// and `write:a`) and returns its id.
    pub fn insert_rbac_api(&self) -> String {
        self.db(|db| {
            db.insert_api(
                &claimsmith::store::NewApi {
                    identifier: RBAC_API.into(),
                    name: "rbac".into(),
                    token_lifetime_s: 60,
                    signing_alg: "RS256".into(),
                    rbac_enabled: true,
                    permissions_in_token: true,
                    allow_offline_access: false,
                    scopes: vec!["read:a".into(), "write:a".into()],
                },
                "t",
            )?;
            Ok(db.api(RBAC_API)?.expect("the API just made").id)
        })
    }

    pub async fn health(&self) -> Value {
        self.http
            .get(self.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .json()
            .await
            .expect("healthz json")
    }

    /// The script set version `/healthz` reports.
    pub async fn script_version(&self) -> u64 {
        self.health().await["scripts"]["version"]
            .as_u64()
            .expect("scripts.version")
    }

    /// Polls `/healthz` until `done` holds (10 s deadline); returns the last answer.
    pub async fn wait_health(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let h = self.health().await;
            if done(&h) {
                return h;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: {h}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Writes a script file the way editors do (a temporary file renamed over the old one) and
    /// waits until the server serves a newer script set.
    pub async fn put_script(&self, path: &str, source: &str) -> Value {
        let before = self.script_version().await;
        write_atomically(&self.dir.path().join(path), source);
        self.wait_health(&format!("{path} to load"), |h| {
            h["scripts"]["version"].as_u64() > Some(before)
        })
        .await
    }

    /// Removes a script file and waits for a newer script set.
    pub async fn remove_script(&self, path: &str) -> Value {
        let before = self.script_version().await;
        std::fs::remove_file(self.dir.path().join(path)).expect("remove script");
        self.wait_health(&format!("{path} to unload"), |h| {
            h["scripts"]["version"].as_u64() > Some(before)
        })
        .await
    }

    /// Access token claims of a successful seed login to the seed API.
    pub async fn claims(&self) -> Value {
        let (status, body) = self.login(&[("audience", API)]).await;
        assert_eq!(status, 200, "{body}");
        self.verify(body["access_token"].as_str().expect("access token"), API)
            .await
    }

    /// Runs a closure on the store.
    pub fn db<T>(
        &self,
        f: impl FnOnce(&claimsmith::store::Db<'_>) -> claimsmith::store::Result<T>,
    ) -> T {
        self.state.store.call_sync(f).expect("store call")
    }
}

/// Verifies `jwt` against `jwks`.
pub fn verify_with(jwks: &JwkSet, jwt: &str, audience: &str) -> Value {
    verify_issued(jwks, jwt, audience, ISSUER)
}

/// The seed user's password login to [`API`] at a server run as a child process on `listen`;
/// the access token is verified against that server's JWKS and `issuer`. Returns the token and
/// its claims.
pub async fn seed_login_at(listen: &str, seed: &Seed, issuer: &str) -> (String, Value) {
    let http = http_client();
    let r = http
        .post(format!("http://{listen}/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", &seed.client_id),
            ("client_secret", &seed.client_secret),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.expect("json body");
    let access = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let jwks: JwkSet = http
        .get(format!("http://{listen}/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json");
    let claims = verify_issued(&jwks, &access, API, issuer);
    (access, claims)
}

/// Verifies `jwt` against `jwks` for `audience` and `issuer`.
pub fn verify_issued(jwks: &JwkSet, jwt: &str, audience: &str, issuer: &str) -> Value {
    let header = decode_header(jwt).expect("header");
    let kid = header.kid.expect("kid in header");
    let jwk = jwks
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} not in JWKS"));
    let mut v = Validation::new(header.alg);
    v.set_audience(&[audience]);
    v.set_issuer(&[issuer]);
    decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).expect("jwk"), &v)
        .expect("token verifies")
        .claims
}

/// The seed data: a confidential client allowed both password grants, a public client, a user
/// with a bcrypt (cost 4) password and the seed story's metadata, and an API per algorithm.
pub fn seed(store: &Store) -> Seed {
    let secret = claimsmith::credentials::new_secret();
    let (client_id, public_client_id) = (random_id::<8>(), random_id::<8>());
    let now = "2027-01-01T00:00:00.000Z";
    let user_id = store
        .call_sync(|db| {
            db.ensure_connection(CONNECTION, now)?;
            for (id, secret_hash, auth) in [
                (
                    &client_id,
                    Some(hash_secret(&secret)),
                    ClientAuth::ClientSecretPost,
                ),
                (&public_client_id, None, ClientAuth::None),
            ] {
                db.insert_client(
                    &NewClient {
                        client_id: id.clone(),
                        name: format!("client {id}"),
                        secret_hash,
                        app_type: "non_interactive".into(),
                        grant_types: vec!["password".into()],
                        metadata: json!({"tier": "gold"})
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                        auth_method: auth,
                        trusted_forwarded_for: false,
                        connections: vec![CONNECTION.into()],
                    },
                    now,
                )?;
            }
            for (aud, alg) in [(API, "RS256"), (API_ES, "ES256"), (API_ED, "EdDSA")] {
                db.insert_api(
                    &NewApi {
                        identifier: aud.into(),
                        name: aud.into(),
                        token_lifetime_s: 3600,
                        signing_alg: alg.into(),
                        rbac_enabled: false,
                        permissions_in_token: false,
                        allow_offline_access: false,
                        scopes: vec!["read:x".into(), "write:x".into()],
                    },
                    now,
                )?;
            }
            let u = db.insert_user(
                &NewUser {
                    connection: CONNECTION.into(),
                    email: Some(EMAIL.into()),
                    username: Some("ann".into()),
                    email_verified: true,
                    name: Some("Ann Example".into()),
                    password_hash: Some(bcrypt::hash(PASSWORD, 4).expect("bcrypt")),
                    app_metadata: json!({"role": "admin", "organisation_id": "org_42"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    user_metadata: json!({"city": "Utrecht", "province": "Utrecht"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    ..NewUser::default()
                },
                now,
            )?;
            Ok(u.user_id)
        })
        .expect("seed");
    Seed {
        client_id,
        client_secret: secret,
        public_client_id,
        user_id,
    }
}

/// Runs the claimsmith binary with `args`, killed and failing the test if it runs longer than
/// 30 s (a guard against hanging, not a timing).
pub async fn run_cli(args: &[&str]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_claimsmith"));
    cmd.args(args).kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("claimsmith {args:?} did not finish in time"))
        .expect("run the CLI")
}

/// [`run_cli`] with `--json`, which must succeed and print one JSON document.
pub async fn cli_json(args: &[&str]) -> Value {
    let out = run_cli(&[&["--json"], args].concat()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "claimsmith {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stderr}"))
}

/// Writes `path` through a temporary file and a rename, as vim and VS Code save.
pub fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename");
}

/// Copies a folder of scripts (flat).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    if let Ok(entries) = std::fs::read_dir(from) {
        for e in entries.flatten() {
            if e.path().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
            }
        }
    }
}

/// A confidential client (`client_secret_post`) with `grants`, on the seed connection; returns
/// its id and secret.
pub fn add_client(
    db: &claimsmith::store::Db<'_>,
    grants: &[&str],
) -> claimsmith::store::Result<(String, String)> {
    let (id, secret) = (random_id::<8>(), claimsmith::credentials::new_secret());
    db.insert_client(
        &NewClient {
            client_id: id.clone(),
            name: format!("client {id}"),
            secret_hash: Some(hash_secret(&secret)),
            app_type: "non_interactive".into(),
            grant_types: grants.iter().map(|g| (*g).to_owned()).collect(),
            metadata: Default::default(),
            auth_method: ClientAuth::ClientSecretPost,
            trusted_forwarded_for: false,
            connections: vec![CONNECTION.into()],
        },
        "2027-01-01T00:00:00.000Z",
    )?;
    Ok((id, secret))
}

/// An API that allows offline access (refresh tokens), signing with `alg`, with `scopes`.
pub fn add_offline_api(
    db: &claimsmith::store::Db<'_>,
    identifier: &str,
    alg: &str,
    scopes: &[&str],
) -> claimsmith::store::Result<()> {
    db.insert_api(
        &NewApi {
            identifier: identifier.into(),
            name: identifier.into(),
            token_lifetime_s: 600,
            signing_alg: alg.into(),
            rbac_enabled: false,
            permissions_in_token: false,
            allow_offline_access: true,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        },
        "2027-01-01T00:00:00.000Z",
    )?;
    Ok(())
}

/// How long a failed login (a wrong password) for `username` takes, in ms.
pub async fn failure_ms(s: &TestServer, username: &str) -> f64 {
    let start = Instant::now();
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", username),
            ("password", "not the password"),
        ])
        .await;
    assert_eq!(status, 403, "{body}");
    start.elapsed().as_secs_f64() * 1000.0
}

/// The API of [`Offline`]: it allows offline access (refresh tokens).
pub const OFFLINE_API: &str = "https://offline.test";

/// A server with an API that allows offline access and a client with the refresh grant.
pub struct Offline {
    pub s: TestServer,
    pub client_id: String,
    pub secret: String,
}

pub async fn offline_with(
    files: &[(&str, &str)],
    tweak: impl FnOnce(&mut claimsmith::config::Config),
) -> Offline {
    let s = TestServer::start_scripts(files, tweak).await;
    let (client_id, secret) = s.db(|db| {
        add_offline_api(db, OFFLINE_API, "RS256", &["read:x", "write:x"])?;
        add_client(db, &["password", "refresh_token"])
    });
    Offline {
        s,
        client_id,
        secret,
    }
}

impl Offline {
    pub async fn login(&self, scope: &str) -> (u16, Value) {
        self.s
            .token(&[
                ("grant_type", "password"),
                ("client_id", &self.client_id),
                ("client_secret", &self.secret),
                ("username", EMAIL),
                ("password", PASSWORD),
                ("audience", OFFLINE_API),
                ("scope", scope),
            ])
            .await
    }

    /// A login that must succeed with a refresh token; returns it.
    pub async fn refresh_token(&self, scope: &str) -> String {
        let (status, body) = self.login(scope).await;
        assert_eq!(status, 200, "{body}");
        body["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no refresh token: {body}"))
            .to_owned()
    }

    pub async fn refresh(&self, token: &str, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut p = vec![
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
            ("refresh_token", token),
        ];
        p.extend_from_slice(extra);
        self.s.token(&p).await
    }

    pub async fn claims(&self, body: &Value) -> Value {
        let at = body["access_token"].as_str().expect("access token");
        self.s.verify(at, OFFLINE_API).await
    }

    pub async fn revoke(&self, token: &str, secret: &str) -> (u16, String) {
        let r = self
            .s
            .http
            .post(self.s.url("/oauth/revoke"))
            .json(&json!({"client_id": self.client_id, "client_secret": secret, "token": token}))
            .send()
            .await
            .expect("revoke");
        (r.status().as_u16(), r.text().await.expect("body"))
    }
}

/// A server with `files`, allowed to fetch from `base` (the Actions' `event.secrets.BASE`),
/// 1.5 s per login unless `tweak` says otherwise.
pub async fn serving(
    files: &[(&str, &str)],
    base: &str,
    tweak: impl FnOnce(&mut claimsmith::script::EngineConfig) + Send + 'static,
) -> TestServer {
    let base = base.to_owned();
    TestServer::start_scripts(files, move |c| {
        c.scripts.engine.fetch =
            claimsmith::script::FetchPolicy::new(std::slice::from_ref(&base), 1 << 20)
                .expect("policy");
        c.scripts
            .engine
            .shared_secrets
            .insert("BASE".into(), json!(base));
        c.scripts.engine.login_timeout = std::time::Duration::from_millis(1500);
        tweak(&mut c.scripts.engine);
    })
    .await
}
