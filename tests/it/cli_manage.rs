//! The CLI's management commands, part one: `list`, `show` and `remove` of every resource
//! (removal cascades as the schema says) and how a client is named. Part two is `cli_update`.

use serde_json::{Value, json};

use crate::support::*;

/// A fresh database file in a temporary folder.
pub(crate) fn fresh_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    (dir, db)
}

/// The server's own database file, which the CLI writes while it serves.
pub(crate) fn db_of(s: &TestServer) -> String {
    s.dir
        .path()
        .join("claimsmith.db")
        .to_string_lossy()
        .into_owned()
}

/// Runs the CLI, which must fail; returns its stderr.
pub(crate) async fn cli_fails(args: &[&str]) -> String {
    let out = run_cli(args).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "claimsmith {args:?} succeeded");
    stderr
}

/// Runs the CLI with `stdin` as its standard input; returns its output.
pub(crate) async fn cli_stdin(args: &[&str], stdin: &str) -> std::process::Output {
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
