//! The CLI's management commands: `list`, `show` and `remove` of every resource (removal cascades
//! as the schema says), `clients rotate-secret`, `users set-password` from stdin, `users update`,
//! `apis update`, and the table printed without `--json`.

use serde_json::{Value, json};

use crate::support::*;

/// A fresh database file in a temporary folder.
fn fresh_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    (dir, db)
}

/// The server's own database file, which the CLI writes while it serves.
fn db_of(s: &TestServer) -> String {
    s.dir
        .path()
        .join("claimsmith.db")
        .to_string_lossy()
        .into_owned()
}

/// Runs the CLI, which must fail; returns its stderr.
async fn cli_fails(args: &[&str]) -> String {
    let out = run_cli(args).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "claimsmith {args:?} succeeded");
    stderr
}

/// Runs the CLI with `stdin` as its standard input; returns its output.
async fn cli_stdin(args: &[&str], stdin: &str) -> std::process::Output {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_claimsmith"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run the CLI");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the CLI finished")
        .unwrap()
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_resource_lists_shows_and_removes_with_its_dependents() {
    let (_dir, db) = fresh_db();
    let db = db.as_str();
    let c = |args: &'static [&'static str]| async move {
        cli_json(&[&["--db", db], args].concat()).await
    };
    c(&[
        "apis",
        "add",
        "--identifier",
        "https://a",
        "--scope",
        "read",
        "--scope",
        "write",
    ])
    .await;
    let client = c(&["clients", "add", "--name", "web"]).await;
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let user = c(&[
        "users",
        "add",
        "--email",
        "u@example.com",
        "--password",
        "pw-1",
    ])
    .await;
    let user_id = user["user_id"].as_str().unwrap().to_owned();
    c(&[
        "roles",
        "add",
        "--name",
        "reader",
        "--api",
        "https://a",
        "--permission",
        "read",
    ])
    .await;
    c(&[
        "roles",
        "assign",
        "--role",
        "reader",
        "--user",
        "u@example.com",
    ])
    .await;
    c(&["orgs", "add", "--name", "acme"]).await;
    c(&[
        "orgs",
        "add-member",
        "--org",
        "acme",
        "--user",
        "u@example.com",
    ])
    .await;
    c(&["connections", "set", "--name", "Other"]).await;

    assert_eq!(
        names(&c(&["apis", "list"]).await, "identifier"),
        ["https://a"]
    );
    assert_eq!(
        names(&c(&["clients", "list"]).await, "client_id"),
        [client_id.as_str()]
    );
    assert_eq!(
        names(&c(&["users", "list"]).await, "user_id"),
        [user_id.as_str()]
    );
    assert_eq!(names(&c(&["orgs", "list"]).await, "name"), ["acme"]);
    let roles = c(&["roles", "list"]).await;
    assert_eq!(
        roles[0]["permissions"],
        json!([{"audience": "https://a", "permission": "read"}])
    );
    let conns = c(&["connections", "list"]).await;
    assert_eq!(
        names(&conns, "name"),
        ["Other", "Username-Password-Authentication"]
    );
    assert_eq!(conns[1]["users"], 1);

    let shown = cli_json(&["--db", db, "clients", "show", "--client", &client_id]).await;
    assert_eq!(shown["confidential"], true);
    assert_eq!(
        shown["connections"],
        json!(["Username-Password-Authentication"])
    );
    assert!(shown.get("client_secret").is_none() && shown.get("secret_hash").is_none());
    let shown = c(&["users", "show", "--email", "u@example.com"]).await;
    assert_eq!(shown["roles"], json!(["reader"]));
    assert!(shown.get("password_hash").is_none());
    assert_eq!(
        c(&["orgs", "show", "--org", "acme"]).await["members"],
        json!([user_id.clone()])
    );
    assert_eq!(
        c(&["apis", "show", "--identifier", "https://a"]).await["scopes"],
        json!(["read", "write"])
    );
    assert_eq!(
        c(&["roles", "show", "--role", "reader"]).await["name"],
        "reader"
    );
    assert_eq!(
        c(&["connections", "show", "--name", "Other"]).await["users"],
        0
    );

    // Removing the API takes the role's permission on it with it; the role stays.
    c(&["apis", "remove", "--identifier", "https://a"]).await;
    assert_eq!(c(&["apis", "list"]).await, json!([]));
    assert_eq!(
        c(&["roles", "show", "--role", "reader"]).await["permissions"],
        json!([])
    );
    // Removing the role takes the user's assignment.
    c(&["roles", "remove", "--role", "reader"]).await;
    assert_eq!(
        c(&["users", "show", "--email", "u@example.com"]).await["roles"],
        json!([])
    );
    // Removing the organization keeps its members.
    c(&["orgs", "remove", "--org", "acme"]).await;
    assert_eq!(c(&["orgs", "list"]).await, json!([]));
    assert_eq!(c(&["users", "list"]).await.as_array().unwrap().len(), 1);
    cli_json(&["--db", db, "clients", "remove", "--client", &client_id]).await;
    assert_eq!(c(&["clients", "list"]).await, json!([]));
    // A connection with users is kept unless --force, which takes its users too.
    c(&[
        "users",
        "add",
        "--email",
        "o@example.com",
        "--password",
        "pw",
        "--connection",
        "Other",
    ])
    .await;
    let err = cli_fails(&["--db", db, "connections", "remove", "--name", "Other"]).await;
    assert!(
        err.contains("has 1 user(s)") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(c(&["users", "list"]).await.as_array().unwrap().len(), 2);
    let removed = c(&["connections", "remove", "--name", "Other", "--force"]).await;
    assert_eq!(removed["users_removed"], 1);
    assert_eq!(
        names(&c(&["users", "list"]).await, "user_id"),
        [user_id.as_str()]
    );
    assert_eq!(
        names(&c(&["connections", "list"]).await, "name"),
        ["Username-Password-Authentication"]
    );
    cli_json(&["--db", db, "users", "remove", "--user", &user_id]).await;
    assert_eq!(c(&["users", "list"]).await, json!([]));
    // Something that is not there is an error, not a silent success.
    let err = cli_fails(&["--db", db, "users", "remove", "--user", &user_id]).await;
    assert!(err.contains("no user"), "{err}");
    let err = cli_fails(&["--db", db, "roles", "show", "--role", "reader"]).await;
    assert!(err.contains("no role"), "{err}");
}

#[tokio::test]
async fn removing_a_user_revokes_its_refresh_tokens() {
    let s = TestServer::start().await;
    let (id, secret) = s.db(|db| {
        add_offline_api(db, "https://offline.test", "RS256", &["read:x"])?;
        add_client(db, &["password", "refresh_token"])
    });
    let client = [
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let (status, tokens) = s
        .token(
            &[
                &client[..],
                &[
                    ("grant_type", "password"),
                    ("username", EMAIL),
                    ("password", PASSWORD),
                    ("audience", "https://offline.test"),
                    ("scope", "openid offline_access"),
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let exchange = |refresh: String| {
        let s = &s;
        async move {
            let params = [
                &client[..],
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            ]
            .concat();
            s.token(&params).await
        }
    };
    // The control: while the user exists, the refresh token works (and rotates).
    let (status, tokens) = exchange(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 200, "{tokens}");
    let db = db_of(&s);
    cli_json(&["--db", &db, "users", "remove", "--email", EMAIL]).await;
    let (status, body) = exchange(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(s.login(&[]).await.0, 403, "the user is gone");
    s.stop().await;
}

#[tokio::test]
async fn rotate_secret_prints_a_new_secret_once_and_the_old_one_stops_working() {
    let s = TestServer::start().await;
    let db = db_of(&s);
    assert_eq!(s.login(&[]).await.0, 200);
    let rotated = cli_json(&[
        "--db",
        &db,
        "clients",
        "rotate-secret",
        "--client",
        &s.seed.client_id,
    ])
    .await;
    let new = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new, s.seed.client_secret);
    let (status, body) = s.login(&[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", new),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    // `show` never prints it again; a public client has no secret to rotate.
    let shown = cli_json(&[
        "--db",
        &db,
        "clients",
        "show",
        "--client",
        &s.seed.client_id,
    ])
    .await;
    assert!(!shown.to_string().contains(new));
    let err = cli_fails(&[
        "--db",
        &db,
        "clients",
        "rotate-secret",
        "--client",
        &s.seed.public_client_id,
    ])
    .await;
    assert!(err.contains("public client"), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn set_password_reads_stdin_and_update_patches_the_user() {
    let s = TestServer::start().await;
    let db = db_of(&s);
    let out = cli_stdin(
        &[
            "--db",
            &db,
            "users",
            "set-password",
            "--email",
            EMAIL,
            "--password-stdin",
        ],
        "new pass 42\n",
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("new pass 42"),
        "never echoed"
    );
    assert_eq!(
        s.login(&[]).await.0,
        403,
        "the old password no longer works"
    );
    let new_login = |pw: &'static str| {
        let s = &s;
        async move {
            s.token(&[
                ("grant_type", "password"),
                ("client_id", &s.seed.client_id),
                ("client_secret", &s.seed.client_secret),
                ("username", EMAIL),
                ("password", pw),
            ])
            .await
            .0
        }
    };
    assert_eq!(new_login("new pass 42").await, 200);
    let err = String::from_utf8_lossy(
        &cli_stdin(
            &[
                "--db",
                &db,
                "users",
                "set-password",
                "--email",
                EMAIL,
                "--password-stdin",
            ],
            "\n",
        )
        .await
        .stderr,
    )
    .into_owned();
    assert!(err.contains("empty"), "{err}");

    let before = cli_json(&["--db", &db, "users", "show", "--email", EMAIL]).await;
    let key = before["app_metadata"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let patch = json!({ key.clone(): null, "plan": "gold" }).to_string();
    let updated = cli_json(&[
        "--db",
        &db,
        "users",
        "update",
        "--user",
        &s.seed.user_id,
        "--app-metadata",
        &patch,
        "--user-metadata",
        r#"{"theme":"dark"}"#,
        "--name",
        "Ann B",
        "--blocked",
        "true",
    ])
    .await;
    assert_eq!(updated["app_metadata"]["plan"], "gold");
    assert!(
        updated["app_metadata"].get(&key).is_none(),
        "null deletes {key}"
    );
    assert_eq!(
        before["app_metadata"].as_object().unwrap().len(),
        updated["app_metadata"].as_object().unwrap().len()
    );
    assert_eq!(updated["user_metadata"]["theme"], "dark");
    assert_eq!(updated["name"], "Ann B");
    assert_eq!(updated["blocked"], true);
    assert_eq!(new_login("new pass 42").await, 401, "blocked");
    cli_json(&[
        "--db",
        &db,
        "users",
        "update",
        "--email",
        EMAIL,
        "--blocked",
        "false",
    ])
    .await;
    assert_eq!(new_login("new pass 42").await, 200);
    let err = cli_fails(&[
        "--db",
        &db,
        "users",
        "update",
        "--email",
        EMAIL,
        "--app-metadata",
        "[1]",
    ])
    .await;
    assert!(err.contains("JSON object"), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn apis_update_changes_only_what_it_is_given() {
    let (_dir, db) = fresh_db();
    let add = [
        "--db",
        &db,
        "apis",
        "add",
        "--identifier",
        "https://a",
        "--scope",
        "read",
        "--scope",
        "old",
    ];
    cli_json(&add).await;
    let up = cli_json(&[
        "--db",
        &db,
        "apis",
        "update",
        "--identifier",
        "https://a",
        "--lifetime",
        "600",
        "--rbac",
        "true",
        "--offline-access",
        "true",
        "--add-scope",
        "write",
        "--remove-scope",
        "old",
    ])
    .await;
    assert_eq!(up["token_lifetime_s"], 600);
    assert_eq!(up["rbac_enabled"], true);
    assert_eq!(up["allow_offline_access"], true);
    assert_eq!(up["permissions_in_token"], false, "not given: unchanged");
    assert_eq!(up["name"], "https://a", "not given: unchanged");
    assert_eq!(up["signing_alg"], "RS256");
    assert_eq!(up["scopes"], json!(["read", "write"]));
    let up = cli_json(&[
        "--db",
        &db,
        "apis",
        "update",
        "--identifier",
        "https://a",
        "--name",
        "A",
        "--alg",
        "ES256",
    ])
    .await;
    assert_eq!(
        (up["name"].as_str(), up["signing_alg"].as_str()),
        (Some("A"), Some("ES256"))
    );
    assert_eq!(up["token_lifetime_s"], 600);
    let err = cli_fails(&[
        "--db",
        &db,
        "apis",
        "update",
        "--identifier",
        "https://none",
        "--name",
        "x",
    ])
    .await;
    assert!(err.contains("no API"), "{err}");
}

#[tokio::test]
async fn without_json_the_output_is_a_table_with_a_header_row() {
    let (_dir, db) = fresh_db();
    cli_json(&[
        "--db",
        &db,
        "users",
        "add",
        "--email",
        "t@example.com",
        "--password",
        "pw",
    ])
    .await;
    let out = run_cli(&["--db", &db, "users", "list"]).await;
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("USER_ID") && lines[0].contains("EMAIL"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("auth0|") && lines[1].contains("t@example.com"),
        "{text}"
    );
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "not JSON: {text}"
    );
    // One document is FIELD VALUE rows; a new secret is printed there too, once.
    let out = run_cli(&["--db", &db, "clients", "add", "--name", "web"]).await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("FIELD"), "{text}");
    let secret_row = text
        .lines()
        .find(|l| l.starts_with("client_secret"))
        .expect(&text);
    assert!(
        secret_row
            .split_whitespace()
            .nth(1)
            .is_some_and(|s| s.len() > 20),
        "{text}"
    );
    // Keys: kid, alg, state; never the private key.
    cli_json(&["--db", &db, "keys", "rotate"]).await;
    let out = run_cli(&["--db", &db, "keys", "list"]).await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("KID") && text.contains("signing") && text.contains("rotated"),
        "{text}"
    );
    let keys = cli_json(&["--db", &db, "keys", "list"]).await;
    for k in keys.as_array().unwrap() {
        let mut fields: Vec<&String> = k.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, ["alg", "created_at", "kid", "state"]);
    }
}

#[tokio::test]
async fn a_client_id_that_starts_with_a_hyphen_is_a_value_not_a_flag() {
    // Client ids are base64url, so one in 64 starts with `-`.
    let s = TestServer::start().await;
    s.db(|db| {
        let mut c = db.client(&s.seed.client_id)?.expect("the seed client");
        c.client_id = "-zHyphen".into();
        db.insert_client(
            &claimsmith::store::NewClient {
                client_id: c.client_id,
                name: c.name,
                secret_hash: c.secret_hash,
                app_type: c.app_type,
                grant_types: c.grant_types,
                metadata: c.metadata,
                auth_method: c.auth_method,
                trusted_forwarded_for: false,
                connections: vec![CONNECTION.into()],
            },
            "2027-01-01T00:00:00.000Z",
        )
    });
    let db = db_of(&s);
    let shown = cli_json(&["--db", &db, "clients", "show", "--client", "-zHyphen"]).await;
    assert_eq!(shown["client_id"], "-zHyphen");
    s.stop().await;
}
