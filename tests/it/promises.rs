//! One test for each promise the README makes that no other test holds to: lockout expiry and
//! unblock, the dummy hash, the hash queue, `default_audience`, organizations by id,
//! `offline_access`, the ID token's algorithm, file modes, `Cache-Control` on success, the
//! shutdown grace, Basic credentials with reserved characters, and, through the real binary,
//! `--config`, `CLAIMSMITH_*`, `--log-json` and what the log may and may not hold.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_claimsmith");
/// A guard against hanging, never a synchronisation.
const GUARD: Duration = Duration::from_secs(20);

/// Auth0's published text for a brute-force block (spec §5.3), written here rather than read from
/// the server so that a change to the server's constant is caught.
const AUTH0_BLOCKED: &str = "Your account has been blocked after multiple consecutive login \
attempts. We've sent you a notification via your preferred contact method with instructions on \
how to unblock it.";

async fn attempt(s: &TestServer, password: &str) -> (u16, Value) {
    s.token(&[
        ("grant_type", "password"),
        ("client_id", &s.seed.client_id),
        ("client_secret", &s.seed.client_secret),
        ("username", EMAIL),
        ("password", password),
    ])
    .await
}

async fn block(s: &TestServer) {
    for _ in 0..10 {
        assert_eq!(attempt(s, "wrong").await.0, 403);
    }
    let (status, body) = attempt(s, PASSWORD).await;
    assert_eq!(
        (status, &body),
        (
            429,
            &json!({"error": "too_many_attempts", "error_description": AUTH0_BLOCKED})
        )
    );
}

#[tokio::test]
async fn a_block_expires_after_brute_force_block_s() {
    let s = TestServer::start_with(|c| c.brute_force_block = Duration::from_secs(3600)).await;
    block(&s).await;
    s.state.clock.advance(3_599_000);
    assert_eq!(attempt(&s, PASSWORD).await.0, 429, "still blocked");
    s.state.clock.advance(2_000);
    assert_eq!(attempt(&s, PASSWORD).await.0, 200, "the block expired");
}

#[tokio::test]
async fn a_zero_threshold_never_blocks() {
    let s = TestServer::start_with(|c| c.brute_force_threshold = 0).await;
    for _ in 0..15 {
        assert_eq!(attempt(&s, "wrong").await.0, 403);
    }
    assert_eq!(attempt(&s, PASSWORD).await.0, 200);
}

#[tokio::test]
async fn users_unblock_lifts_a_block() {
    let s = TestServer::start().await;
    block(&s).await;
    let db = s.dir.path().join("claimsmith.db");
    let out = run_cli(&[
        "users",
        "unblock",
        "--email",
        EMAIL,
        "--db",
        db.to_str().unwrap(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(attempt(&s, PASSWORD).await.0, 200);
}

#[tokio::test]
async fn an_unknown_name_is_checked_against_a_dummy_hash() {
    let s = TestServer::start().await;
    let before = s.state.hashes.verifications();
    let (status, _) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", "nobody@example.com"),
            ("password", "x"),
        ])
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        s.state.hashes.verifications(),
        before + 1,
        "one real hash check ran"
    );
}

#[tokio::test]
async fn a_full_hash_queue_answers_503() {
    let s = TestServer::start_with(|c| {
        c.hash_concurrency = 1;
        c.hash_queue = 0;
        c.brute_force_threshold = 0;
    })
    .await;
    let slow = bcrypt::hash("pw", 10).unwrap();
    s.db(|db| {
        db.insert_user(
            &claimsmith::store::NewUser {
                connection: CONNECTION.into(),
                email: Some("slow@example.com".into()),
                password_hash: Some(slow),
                ..Default::default()
            },
            "t",
        )
    });
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (http, url) = (s.http.clone(), s.url("/oauth/token"));
        let (id, secret) = (s.seed.client_id.clone(), s.seed.client_secret.clone());
        logins.spawn(async move {
            let form = [
                ("grant_type", "password"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("username", "slow@example.com"),
                ("password", "pw"),
            ];
            let r = http.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    let mut statuses = Vec::new();
    while let Some(r) = logins.join_next().await {
        let (status, body) = r.unwrap();
        if status == 503 {
            assert_eq!(
                body,
                json!({"error": "temporarily_unavailable", "error_description": "Too many logins at once; retry shortly."})
            );
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.contains(&503),
        "one check at a time, none waiting: {statuses:?}"
    );
}

#[tokio::test]
async fn default_audience_organization_by_id_offline_access_and_the_id_token_algorithm() {
    let s = TestServer::start_with(|c| c.default_audience = Some(API_ES.into())).await;
    let org = s.db(|db| db.insert_org("acme", "Acme", &Default::default(), "t"));
    s.db(|db| db.add_member(&org.id, &s.seed.user_id));
    let (status, body) = s
        .login(&[
            ("organization", &org.id),
            ("scope", "openid offline_access"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    // No refresh tokens yet: offline_access is accepted and none is issued.
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().unwrap();
    let id = body["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(access).unwrap().alg,
        jsonwebtoken::Algorithm::ES256
    );
    // The ID token is always RS256, whatever the API's algorithm.
    assert_eq!(
        jsonwebtoken::decode_header(id).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
    let claims = s.verify(access, API_ES).await;
    assert_eq!(claims["org_id"], org.id.as_str(), "organization by id");
    assert_eq!(claims["org_name"], "acme");
    let id_claims = s.verify(id, &s.seed.client_id).await;
    assert_eq!(id_claims["sub"], s.seed.user_id.as_str());
}

#[tokio::test]
async fn every_token_answer_is_no_store_and_the_database_files_are_private() {
    let s = TestServer::start().await;
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["pragma"], "no-cache");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["claimsmith.db", "claimsmith.db-wal", "claimsmith.db-shm"] {
            let meta = std::fs::metadata(s.dir.path().join(name)).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        }
    }
}

#[tokio::test]
async fn basic_credentials_carry_reserved_characters() {
    let s = TestServer::start().await;
    let secret = "p&q=r%s+t u/é";
    s.db(|db| {
        db.insert_client(
            &claimsmith::store::NewClient {
                client_id: "odd:client".into(),
                name: "odd".into(),
                secret_hash: Some(claimsmith::credentials::hash_secret(secret)),
                app_type: "non_interactive".into(),
                grant_types: vec!["password".into()],
                metadata: Default::default(),
                auth_method: claimsmith::store::ClientAuth::ClientSecretBasic,
                trusted_forwarded_for: false,
                connections: vec![CONNECTION.into()],
            },
            "t",
        )
    });
    // RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ':' and base64'd.
    let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", enc("odd:client"), enc(secret)),
    );
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "password"),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(status, 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn shutdown_stops_waiting_for_a_request_after_the_grace_period() {
    let mut s = TestServer::start_with(|c| c.shutdown_grace = Duration::from_millis(300)).await;
    // A token request whose body never completes (the body timeout is 10 s).
    let mut sock = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap();
    sock.write_all(
        b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\ngrant_type=pa",
    )
    .await
    .unwrap();
    s.wait_health("the request to be in flight", |h| {
        h["token_requests_in_flight"] == 1
    })
    .await;
    let start = Instant::now();
    s.begin_shutdown();
    s.join().await;
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "shutdown waited for the stuck request beyond its grace: {:?}",
        start.elapsed()
    );
    drop(sock);
}

/// Reads a child's stderr line by line on a thread, so that a test can wait for a line with a
/// guard and keep everything for later checks.
struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    all: Vec<String>,
}

impl Lines {
    fn of(child: &mut std::process::Child) -> Lines {
        let (tx, rx) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            all: Vec::new(),
        }
    }

    /// The first line (from now on) that holds `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.all.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no log line with {needle:?}: {:#?}", self.all),
            }
        }
    }

    /// Everything, after the child exited.
    fn rest(mut self) -> Vec<String> {
        self.all.extend(self.rx.iter());
        self.all
    }
}

#[tokio::test]
async fn config_file_environment_and_json_logs_drive_serve_and_the_log_keeps_secrets_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["actions", "rules"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(
        d.join("actions/01-uses-secrets.js"),
        "exports.onExecutePostLogin = async (event, api) => {\n\
           api.accessToken.setCustomClaim('https://t/secret_len', event.secrets.API_KEY.length);\n\
           api.accessToken.setCustomClaim('sub', 'someone-else');\n\
         };\n",
    )
    .unwrap();
    std::fs::write(
        d.join("rules/01-uses-configuration.js"),
        "function (user, context, callback) {\n\
           context.accessToken['https://t/config_len'] = configuration.HOOK.length;\n\
           callback(null, user, context);\n\
         }\n",
    )
    .unwrap();
    let db = d.join("x.db");
    let config = format!(
        "listen = \"127.0.0.1:0\"\ndb = {db:?}\nactions = {:?}\nrules = {:?}\n\
         issuer = \"https://file.example/\"\ntenant = \"from-file\"\n\
         [scripts.secrets]\nAPI_KEY = \"file-secret-XYZ123\"\n\
         [scripts.configuration]\nHOOK = \"config-value-ABC987\"\n",
        d.join("actions"),
        d.join("rules"),
    );
    std::fs::write(d.join("claimsmith.toml"), config).unwrap();
    // The data, written with the library before the server starts.
    let seed = {
        let store = claimsmith::store::Store::open(&db).unwrap();
        seed(&store)
    };
    let mut child = Command::new(BIN)
        .current_dir(d)
        .args(["serve", "--config", "claimsmith.toml", "--log-json"])
        .env("CLAIMSMITH_LOG", "debug")
        .env("CLAIMSMITH_ISSUER", "http://env.example/")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::of(&mut child);
    let serving: Value = serde_json::from_str(&lines.wait_for("claimsmith serving")).unwrap();
    let listen = serving["fields"]["listen"].as_str().unwrap().to_owned();
    assert_eq!(
        serving["fields"]["issuer"], "http://env.example/",
        "environment beats file"
    );
    let (access, claims) = seed_login_at(&listen, &seed, "http://env.example/").await;
    let access = access.as_str();
    assert_eq!(claims["iss"], "http://env.example/");
    assert_eq!(
        claims["https://t/secret_len"], 18,
        "the file's secret reached the Action"
    );
    assert_eq!(
        claims["https://t/config_len"], 19,
        "the file's configuration reached the Rule"
    );
    assert_eq!(claims["sub"], seed.user_id.as_str());
    // The dropped claim is logged with its script and name.
    let dropped: Value = serde_json::from_str(&lines.wait_for("custom claim dropped")).unwrap();
    assert_eq!(dropped["fields"]["script"], "01-uses-secrets", "{dropped}");
    assert_eq!(dropped["fields"]["claim"], "sub", "{dropped}");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(GUARD, tokio::task::spawn_blocking(move || child.wait()))
        .await
        .expect("exited in time")
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let log = lines.rest();
    for line in &log {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok(), "--log-json writes JSON lines only: {line}");
    }
    let text = log.join("\n");
    for secret in [
        "file-secret-XYZ123",
        "config-value-ABC987",
        PASSWORD,
        seed.client_secret.as_str(),
        access,
    ] {
        assert!(!text.contains(secret), "{secret:?} reached the log");
    }
}
