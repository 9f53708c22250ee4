//! The binary: every CLI command prints JSON and sets up data a real login then uses; `serve
//! --demo` on an empty folder prints a curl command that returns a token; the loopback rule.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_claimsmith");

/// How long a CLI command or a served child may take before the test calls it hung.
const GUARD: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs the CLI in `dir` with `--json`; returns its JSON output. A command that hangs is killed
/// and fails the test instead of the run.
fn cli(dir: &Path, args: &[&str]) -> Value {
    let child = Command::new(BIN)
        .current_dir(dir)
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the CLI");
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let Ok(out) = rx.recv_timeout(GUARD) else {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("claimsmith {args:?} did not finish within {GUARD:?}");
    };
    let out = out.expect("run the CLI");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "claimsmith {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stderr}"))
}

/// Starts `serve --demo` in `dir` with `CLAIMSMITH_LOG=level` and stderr in `dir/stderr.log`;
/// returns the child and the printed curl command's URL and JSON body (killed and failing the test
/// if no curl line comes within [`GUARD`]).
async fn demo(dir: &Path, level: &str) -> (std::process::Child, String, Value) {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("CLAIMSMITH_LOG", level)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let read = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("curl "))
    });
    let Ok(line) = tokio::time::timeout(GUARD, read).await else {
        let _ = child.kill();
        panic!("serve --demo printed no curl line within {GUARD:?}");
    };
    let line = line.unwrap().expect("a curl line");
    // curl -s <url> -H 'content-type: application/json' -d '<json>'
    let url = line.split_whitespace().nth(2).unwrap().to_owned();
    let body = line.rsplit_once(" -d '").unwrap().1.trim_end_matches('\'');
    (child, url, serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn cli_commands_set_up_a_working_login() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let api = cli(
        d,
        &[
            "apis",
            "add",
            "--identifier",
            "https://cli.test",
            "--alg",
            "ES256",
            "--rbac",
            "--permissions-in-token",
            "--scope",
            "read:r",
            "--scope",
            "write:r",
            "--offline-access",
        ],
    );
    assert_eq!(api["signing_alg"], "ES256");
    assert_eq!(api["rbac_enabled"], true);
    // Global flags work after the subcommand too.
    let user = cli(
        d,
        &[
            "users",
            "add",
            "--email",
            "Cli@Example.com",
            "--password",
            "pw-1",
            "--email-verified",
            "--app-metadata",
            r#"{"role":"editor"}"#,
            "--db",
            "claimsmith.db",
        ],
    );
    assert_eq!(user["email"], "cli@example.com");
    assert_eq!(user["app_metadata"]["role"], "editor");
    assert!(
        user.get("password_hash").is_none(),
        "hashes are never printed"
    );
    let client = cli(
        d,
        &[
            "--db",
            "claimsmith.db",
            "clients",
            "add",
            "--name",
            "backend",
            "--grant",
            "password",
        ],
    );
    let (client_id, secret) = (
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    );
    let public = cli(d, &["clients", "add", "--name", "spa", "--public"]);
    assert_eq!(public["client_secret"], Value::Null);
    cli(
        d,
        &[
            "roles",
            "add",
            "--name",
            "editor",
            "--api",
            "https://cli.test",
            "--permission",
            "write:r",
        ],
    );
    cli(
        d,
        &[
            "roles",
            "assign",
            "--role",
            "editor",
            "--user",
            "cli@example.com",
        ],
    );
    let org = cli(
        d,
        &["orgs", "add", "--name", "acme", "--display-name", "Acme"],
    );
    cli(
        d,
        &[
            "orgs",
            "add-member",
            "--org",
            "acme",
            "--user",
            "cli@example.com",
        ],
    );
    let import = json!([
        {"email": "imported@example.com", "email_verified": true, "user_id": "legacy-7",
         "custom_password_hash": {"algorithm": "bcrypt", "hash": {"value": bcrypt::hash("pw-2", 4).unwrap()}},
         "app_metadata": {"organisation_id": "org_9"}},
        {"email": "broken@example.com", "custom_password_hash": {"algorithm": "md5", "hash": {"value": "abc"}}}
    ]);
    std::fs::write(d.join("users.json"), import.to_string()).unwrap();
    let imported = cli(d, &["users", "import", "users.json"]);
    assert_eq!(imported["imported"], 1);
    assert_eq!(imported["user_ids"], json!(["auth0|legacy-7"]));
    assert_eq!(imported["failed"][0]["index"], 1);
    let mut child = Command::new(BIN)
        .current_dir(d)
        .args([
            "users",
            "add",
            "--username",
            "stdin-user",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"pw-3\n").unwrap();
    }
    assert!(child.wait_with_output().unwrap().status.success());
    let list = cli(d, &["users", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(
        cli(d, &["users", "block", "--email", "imported@example.com"])["blocked"],
        true
    );
    let rotated = cli(d, &["keys", "rotate", "--alg", "ES256"]);
    let kid = rotated["kid"].as_str().unwrap().to_owned();

    let user_id = user["user_id"].as_str().unwrap().to_owned();
    let seed = Seed {
        client_id: client_id.into(),
        client_secret: secret.into(),
        public_client_id: public["client_id"].as_str().unwrap().into(),
        user_id: user_id.clone(),
    };
    let s = TestServer::start_in(dir, |_| {}, Some(seed)).await;
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("username", "cli@example.com"),
            ("password", "pw-1"),
            ("audience", "https://cli.test"),
            ("organization", "acme"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(at).unwrap().kid.unwrap(),
        kid,
        "signed with the rotated key"
    );
    let c = s.verify(at, "https://cli.test").await;
    assert_eq!(c["sub"], user_id.as_str());
    assert_eq!(c["scope"], "write:r");
    assert_eq!(c["permissions"], json!(["write:r"]));
    assert_eq!(c["org_id"], org["id"]);
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("username", "imported@example.com"),
            ("password", "pw-2"),
        ])
        .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (401, Some("user is blocked"))
    );
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("username", "stdin-user"),
            ("password", "pw-3"),
        ])
        .await;
    assert_eq!(status, 200, "the password read from stdin: {body}");
    let dir = s.stop().await;
    cli(
        dir.path(),
        &["users", "unblock", "--user", "auth0|legacy-7"],
    );
}

#[test]
fn serve_refuses_a_public_address_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--insecure-http") && err.contains("TLS"),
        "{err}"
    );
}

#[tokio::test]
async fn serve_demo_prints_a_curl_command_that_returns_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, body) = demo(dir.path(), "debug").await;
    let http = http_client();
    let r = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let base = url.trim_end_matches("oauth/token");
    let jwks = http
        .get(format!("{base}.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(tokens["access_token"].as_str().unwrap()).unwrap();
    let jwk = jsonwebtoken::jwk::JwkSet::find(&jwks, &header.kid.unwrap())
        .unwrap()
        .clone();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[body["audience"].as_str().unwrap()]);
    let claims = jsonwebtoken::decode::<Value>(
        tokens["access_token"].as_str().unwrap(),
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
        &v,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["iss"], base);
    assert!(claims["sub"].as_str().unwrap().starts_with("auth0|"));
    // The seed story, through the sample Rule and Action.
    assert_eq!(claims["https://claimsmith.dev/email"], "demo@example.com");
    assert_eq!(claims["https://claimsmith.dev/user_id"], claims["sub"]);
    assert_eq!(claims["https://claimsmith.dev/role"], "admin");
    assert!(
        claims["https://claimsmith.dev/organisation_id"]
            .as_str()
            .unwrap()
            .starts_with("org_")
    );
    assert_eq!(claims["https://claimsmith.dev/roles"], json!(["admin"]));
    assert!(
        dir.path().join("actions").is_dir() && dir.path().join("rules").is_dir(),
        "samples written"
    );
    let pid = child.id().to_string();
    // SIGHUP rescans the scripts; the server keeps serving.
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let r = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200, "served after SIGHUP");
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let pid_for_kill = pid.clone();
    let Ok(status) =
        tokio::time::timeout(GUARD, tokio::task::spawn_blocking(move || child.wait())).await
    else {
        let _ = Command::new("kill").args(["-KILL", &pid_for_kill]).status();
        panic!("serve did not exit within {GUARD:?} of SIGTERM");
    };
    let status = status.unwrap().unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    // Even at debug level, the log never holds a password, a secret or a token.
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(
        log.contains("claimsmith serving"),
        "the log was captured: {log}"
    );
    let access_token = tokens["access_token"].as_str().unwrap();
    for secret in [
        body["password"].as_str().unwrap(),
        body["client_secret"].as_str().unwrap(),
        access_token,
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    let signature = access_token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature));
}

/// A served login's `console` output reaches the server log (stderr), formatted like Node's
/// `util.format`/`util.inspect`, tagged with the script's name.
#[tokio::test]
async fn served_console_output_is_node_formatted_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    // An existing actions/ folder is kept as is by --demo (the sample Rule is still written).
    std::fs::create_dir(dir.path().join("actions")).unwrap();
    std::fs::write(
        dir.path().join("actions/talk.js"),
        "exports.onExecutePostLogin = async (event, api) => {
           console.log('%s has %d roles', 'demo', 2, { a: 1, b: 'x' }, [1, 2, 3]);
           console.count('logins');
           console.warn(new Error('boom'));
         };",
    )
    .unwrap();
    let (mut child, url, body) = demo(dir.path(), "info").await;
    let r = http_client().post(&url).json(&body).send().await.unwrap();
    let status = r.status();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{}", r.text().await.unwrap_or_default());
    let raw = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    // Without the colour escapes (ESC [ ... m).
    let mut log = String::new();
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            it.by_ref().find(|&c| c == 'm');
        } else {
            log.push(c);
        }
    }
    for want in [
        "demo has 2 roles { a: 1, b: 'x' } [ 1, 2, 3 ]",
        "logins: 1",
        "Error: boom\n    at ",
        "script=talk",
    ] {
        assert!(log.contains(want), "{want:?} not in the log: {log}");
    }
}
