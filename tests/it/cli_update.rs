//! The CLI's management commands, part two: `clients rotate-secret`, `users set-password` from
//! stdin, `users update`, `apis update`, and the table printed without `--json`.

use serde_json::{Value, json};

use crate::cli_manage::{cli_fails, cli_stdin, db_of, fresh_db};
use crate::support::*;

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
    let set_password = [
        "--db",
        &db,
        "users",
        "set-password",
        "--email",
        EMAIL,
        "--password-stdin",
    ];
    let out = cli_stdin(&set_password, "new pass 42\n").await;
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
    let err = String::from_utf8_lossy(&cli_stdin(&set_password, "\n").await.stderr).into_owned();
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
