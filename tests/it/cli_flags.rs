//! Every flag the README's "Command line" section shows, through the real binary, each checked
//! where its effect can be seen: in the command's JSON, in `users list`, or in a login against a
//! running server that shares the database.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::*;

/// A login of `username` with `password` through `client`, as a backend would.
async fn login_as(
    s: &TestServer,
    client: (&str, &str),
    username: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut p = vec![
        ("grant_type", "password"),
        ("client_id", client.0),
        ("client_secret", client.1),
        ("username", username),
        ("password", password),
    ];
    p.extend_from_slice(extra);
    s.token(&p).await
}

#[tokio::test]
async fn every_management_flag_takes_effect() {
    let s = TestServer::start().await;
    let db = s.dir.path().join("claimsmith.db");
    let db = db.to_str().unwrap();
    // `--db` after the subcommand, `--log-json` before it.
    let api = cli_json(&[
        "--log-json",
        "apis",
        "add",
        "--identifier",
        "https://flags.test",
        "--name",
        "Flags API",
        "--lifetime",
        "600",
        "--db",
        db,
    ])
    .await;
    assert_eq!(
        (&api["name"], &api["token_lifetime_s"], &api["signing_alg"]),
        (&json!("Flags API"), &json!(600), &json!("RS256"))
    );
    let client = cli_json(&[
        "--db",
        db,
        "clients",
        "add",
        "--name",
        "flags",
        "--grant",
        "password",
        "--metadata",
        r#"{"tier":"platinum"}"#,
    ])
    .await;
    let client = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );
    let client = (client.0.as_str(), client.1.as_str());
    // A hash made elsewhere (an export), the default connection named, profile and metadata.
    let hash = bcrypt::hash("hashed elsewhere", 4).unwrap();
    let user = cli_json(&[
        "--db",
        db,
        "users",
        "add",
        "--email",
        "flags@example.com",
        "--password-hash",
        &hash,
        "--connection",
        CONNECTION,
        "--name",
        "Flag Bearer",
        "--user-metadata",
        r#"{"city":"Delft"}"#,
    ])
    .await;
    assert_eq!(user["name"], "Flag Bearer");
    assert_eq!(user["user_metadata"], json!({"city": "Delft"}));
    assert_eq!(user["connection"], CONNECTION);
    let user_id = user["user_id"].as_str().unwrap().to_owned();
    let role = cli_json(&[
        "--db",
        db,
        "roles",
        "add",
        "--name",
        "auditor",
        "--description",
        "Reads reports",
    ])
    .await;
    assert_eq!(role["name"], "auditor");
    let org = cli_json(&[
        "--db",
        db,
        "orgs",
        "add",
        "--name",
        "flagco",
        "--metadata",
        r#"{"plan":"team"}"#,
    ])
    .await;
    assert_eq!(org["metadata"], json!({"plan": "team"}));
    // The client's metadata reaches the scripts; the user logs in with the imported hash.
    s.put_script(
        "actions/02-client-tier.js",
        "exports.onExecutePostLogin = async (event, api) => {\n\
           api.accessToken.setCustomClaim('https://t/tier', event.client.metadata.tier);\n\
           api.accessToken.setCustomClaim('https://t/city', event.user.user_metadata.city);\n\
         };\n",
    )
    .await;
    let (status, body) = login_as(
        &s,
        client,
        "flags@example.com",
        "hashed elsewhere",
        &[("audience", "https://flags.test")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let claims = s
        .verify(body["access_token"].as_str().unwrap(), "https://flags.test")
        .await;
    assert_eq!(claims["https://t/tier"], "platinum");
    assert_eq!(claims["https://t/city"], "Delft");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600,
        "--lifetime"
    );
    // Block and unblock by id.
    let blocked = cli_json(&["--db", db, "users", "block", "--user", &user_id]).await;
    assert_eq!(blocked["blocked"], true);
    let (status, body) = login_as(&s, client, "flags@example.com", "hashed elsewhere", &[]).await;
    assert_eq!(
        (status, &body["error_description"]),
        (401, &json!("user is blocked"))
    );
    cli_json(&["--db", db, "users", "unblock", "--user", &user_id]).await;
    assert_eq!(
        login_as(&s, client, "flags@example.com", "hashed elsewhere", &[])
            .await
            .0,
        200
    );
    // `users import --connection`.
    let file = s.dir.path().join("import.json");
    std::fs::write(
        &file,
        json!([{"email": "imported@flags.test", "password_hash": bcrypt::hash("imp", 4).unwrap()}])
            .to_string(),
    )
    .unwrap();
    let imported = cli_json(&[
        "--db",
        db,
        "users",
        "import",
        file.to_str().unwrap(),
        "--connection",
        CONNECTION,
    ])
    .await;
    assert_eq!(imported["imported"], 1, "{imported}");
    assert_eq!(
        login_as(&s, client, "imported@flags.test", "imp", &[])
            .await
            .0,
        200
    );
    // `keys rotate` without `--alg` rotates RS256.
    let rotated = cli_json(&["--db", db, "keys", "rotate"]).await;
    assert_eq!(rotated["alg"], "RS256");
    // `--config` names the database too.
    let cfg = s.dir.path().join("cli.toml");
    std::fs::write(&cfg, format!("db = {db:?}\n")).unwrap();
    let listed = cli_json(&["users", "list", "--config", cfg.to_str().unwrap()]).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == "flags@example.com"),
        "{listed}"
    );
}

#[tokio::test]
async fn serve_takes_its_folders_and_issuer_from_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (actions, rules) = (d.join("my-actions"), d.join("my-rules"));
    std::fs::create_dir_all(&actions).unwrap();
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        actions.join("a.js"),
        "exports.onExecutePostLogin = async (e, api) => { api.accessToken.setCustomClaim('https://t/a', 1); };",
    )
    .unwrap();
    std::fs::write(
        rules.join("r.js"),
        "function (user, context, callback) { context.accessToken['https://t/r'] = 2; callback(null, user, context); }",
    )
    .unwrap();
    let db = d.join("s.db");
    let seed = {
        let store = claimsmith::store::Store::open(&db).unwrap();
        seed(&store)
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimsmith"))
        .current_dir(d)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--issuer",
            "https://flag.example",
            "--actions",
        ])
        .arg(&actions)
        .arg("--rules")
        .arg(&rules)
        .arg("--db")
        .arg(&db)
        .arg("--log-json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr up to the serving line, then close it: a server whose log reader went away
    // must keep serving (tracing's own error report used to panic on EPIPE).
    let stderr = child.stderr.take().unwrap();
    let read = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("claimsmith serving"))
    });
    let Ok(line) = tokio::time::timeout(std::time::Duration::from_secs(30), read).await else {
        let _ = child.kill();
        panic!("serve did not start");
    };
    let line = line.unwrap().expect("a serving line");
    let line: Value = serde_json::from_str(&line).unwrap();
    let listen = line["fields"]["listen"].as_str().unwrap().to_owned();
    let (_, claims) = seed_login_at(&listen, &seed, "https://flag.example/").await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        claims["iss"], "https://flag.example/",
        "--issuer, with its trailing slash"
    );
    assert_eq!(
        (&claims["https://t/a"], &claims["https://t/r"]),
        (&json!(1), &json!(2)),
        "--actions and --rules"
    );
}

/// `connections set` stores a connection's options and metadata: Rules see them as
/// `context.connectionOptions` / `connectionMetadata`, Actions the metadata on `event.connection`
/// (which has no options, as Auth0's). Before the command the options are `{}`.
#[tokio::test]
async fn connection_options_set_by_the_cli_reach_the_rules_context() {
    let rule = "function (user, context, callback) {\n\
        context.accessToken['https://t/options'] = context.connectionOptions;\n\
        context.accessToken['https://t/rule-metadata'] = context.connectionMetadata;\n\
        callback(null, user, context);\n}";
    let action = "exports.onExecutePostLogin = async (event, api) => {\n\
        api.accessToken.setCustomClaim('https://t/event-connection', event.connection);\n};";
    let s = TestServer::start_scripts(
        &[
            ("rules/01-options.js", rule),
            ("actions/01-conn.js", action),
        ],
        |_| {},
    )
    .await;
    let before = s.claims().await;
    assert_eq!(before["https://t/options"], json!({}), "{before}");
    let db = s.dir.path().join("claimsmith.db");
    let db = db.to_str().unwrap();
    let set = |rest: &[&'static str]| {
        let mut args = vec!["--db", db, "connections", "set", "--name", CONNECTION];
        args.extend_from_slice(rest);
        args
    };
    let row = cli_json(&set(&[
        "--options",
        r#"{"tenant_domain":"acme.example","domain_aliases":["acme.example"]}"#,
        "--metadata",
        r#"{"region":"eu"}"#,
    ]))
    .await;
    assert_eq!(row["options"]["tenant_domain"], "acme.example", "{row}");
    let after = s.claims().await;
    assert_eq!(
        after["https://t/options"],
        json!({"tenant_domain": "acme.example", "domain_aliases": ["acme.example"]})
    );
    assert_eq!(after["https://t/rule-metadata"], json!({"region": "eu"}));
    let conn = &after["https://t/event-connection"];
    assert_eq!(conn["metadata"], json!({"region": "eu"}), "{conn}");
    assert_eq!(conn["name"], CONNECTION);
    assert!(conn.get("options").is_none(), "{conn}");
    // A value that is not an object is refused.
    let out = run_cli(&set(&["--options", "[1]"])).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--options must be a JSON object"));
    s.stop().await;
}
