//! Recorded logins (`[debug] record`): off, a login leaves nothing; on, password logins (allowed
//! and denied by a script) and refresh exchanges are kept newest first with their verdict, and
//! `claimsmith logins show ID --as-event` prints the event the Actions saw, without a password,
//! a secret or a token, which `claimsmith test --event` replays; `record_keep` trims; a recording that cannot be written fails no login;
//! `serve` warns at start-up while recording.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::*;

const OFFLINE_API: &str = "https://offline.test";

const ACTION: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  if (event.transaction.requested_scopes.includes('forbidden')) {
    api.access.deny('no forbidden scope');
  }
  api.accessToken.setCustomClaim('https://t/tx', event.transaction.id);
};"#;

/// A server recording logins (or not), with an API that allows offline access and a client
/// with the refresh grant.
async fn server(record: bool, keep: u32) -> Offline {
    offline_with(&[("actions/01-a.js", ACTION)], |c| {
        c.debug.record = record;
        c.debug.record_keep = keep;
    })
    .await
}

/// The recorded logins of this server's database, through the CLI.
impl Offline {
    fn db(&self) -> String {
        let db = self.s.dir.path().join("claimsmith.db");
        db.to_str().unwrap().to_owned()
    }

    /// `claimsmith logins ARGS` against this server's database: (exit success, stdout, stderr).
    async fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let db = self.db();
        let out = run_cli(&[&["--db", db.as_str(), "logins"], args].concat()).await;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    async fn list(&self) -> Vec<Value> {
        let db = self.db();
        let rows = cli_json(&["--db", &db, "logins", "list"]).await;
        rows.as_array().expect("a list").clone()
    }

    /// `logins show ID --as-event`, parsed.
    async fn event(&self, id: &Value) -> Value {
        let (ok, stdout, stderr) = self.cli(&["show", &id.to_string(), "--as-event"]).await;
        assert!(ok, "{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

#[tokio::test]
async fn record_off_logins_leave_nothing() {
    let r = server(false, 100).await;
    let (status, body) = r.login("openid").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(r.list().await, Vec::<Value>::new());
    let (ok, table, stderr) = r.cli(&["list"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(
        table,
        "ID  RECORDED_AT  CLIENT_ID  USER_ID  GRANT  VERDICT\n"
    );
    r.s.stop().await;
}

#[tokio::test]
async fn record_on_keeps_logins_denials_and_refreshes_newest_first_without_credentials() {
    let r = server(true, 100).await;
    let (status, first) = r.login("openid offline_access").await;
    assert_eq!(status, 200, "{first}");
    let refresh_token = first["refresh_token"].as_str().expect("a refresh token");
    let (status, denied) = r.login("openid forbidden").await;
    assert_eq!(status, 403, "{denied}");
    let (status, refreshed) = r.refresh(refresh_token, &[]).await;
    assert_eq!(status, 200, "{refreshed}");

    let rows = r.list().await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(ids[0] > ids[1] && ids[1] > ids[2], "newest first: {ids:?}");
    let summary = |row: &Value| {
        json!([
            row["user_id"],
            row["client_id"],
            row["grant"],
            row["protocol"],
            row["verdict"],
            row["reason"]
        ])
    };
    let (user, client) = (r.s.seed.user_id.as_str(), r.client_id.as_str());
    assert_eq!(
        rows.iter().map(summary).collect::<Vec<_>>(),
        [
            json!([
                user,
                client,
                "refresh_token",
                "oauth2-refresh-token",
                "allow",
                null
            ]),
            json!([
                user,
                client,
                "password",
                "oauth2-password",
                "deny",
                "no forbidden scope"
            ]),
            json!([user, client, "password", "oauth2-password", "allow", null]),
        ]
    );
    assert!(
        rows.iter().all(|r| r.get("event").is_none()),
        "list has no events"
    );

    // The first login's event, as the Action saw it (the same transaction id it put in the token).
    let event = r.event(&rows[2]["id"]).await;
    let access =
        r.s.verify(first["access_token"].as_str().unwrap(), OFFLINE_API)
            .await;
    assert_eq!(event["transaction"]["id"], access["https://t/tx"]);
    assert_eq!(event["user"]["user_id"], user);
    assert_eq!(event["user"]["email"], EMAIL);
    assert_eq!(event["client"]["client_id"], client);
    assert_eq!(event["request"]["method"], "POST");
    assert_eq!(
        event["request"]["body"],
        json!({"grant_type": "password", "client_id": client, "username": EMAIL,
               "audience": OFFLINE_API, "scope": "openid offline_access"})
    );
    assert_eq!(
        event["transaction"]["requested_scopes"],
        json!(["openid", "offline_access"])
    );
    assert_eq!(event["transaction"]["protocol"], "oauth2-password");
    assert_eq!(event["resource_server"]["identifier"], OFFLINE_API);
    assert_eq!(event["secrets"], json!({}));
    let denied_event = r.event(&rows[1]["id"]).await;
    assert_eq!(
        denied_event["transaction"]["requested_scopes"],
        json!(["openid", "forbidden"])
    );
    let refresh_event = r.event(&rows[0]["id"]).await;
    assert_eq!(
        refresh_event["transaction"]["protocol"],
        "oauth2-refresh-token"
    );
    assert_eq!(
        refresh_event["request"]["body"],
        json!({"grant_type": "refresh_token", "client_id": client})
    );
    assert!(
        refresh_event.get("refresh_token").is_none(),
        "event.refresh_token describes a token: {refresh_event:#}"
    );

    // `--as-event` is the indented event, with or without --json; `show` is the record.
    let id = rows[2]["id"].to_string();
    let (ok, as_event, _) = r.cli(&["show", &id, "--as-event"]).await;
    assert!(ok && as_event.starts_with("{\n  \""), "{as_event}");
    assert_eq!(
        as_event,
        serde_json::to_string_pretty(&event).unwrap() + "\n"
    );
    let (_, as_event_json, _) = r.cli(&["show", &id, "--as-event", "--json"]).await;
    assert_eq!(as_event_json, as_event);
    let db = r.db();
    let shown = cli_json(&["--db", &db, "logins", "show", &id]).await;
    assert_eq!(shown["event"], event);
    assert_eq!(shown["verdict"], "allow");
    let (ok, table, _) = r.cli(&["show", &rows[1]["id"].to_string()]).await;
    assert!(ok && table.starts_with("FIELD"), "{table}");
    assert!(table.contains("no forbidden scope"), "{table}");
    let (ok, _, stderr) = r.cli(&["show", "999999"]).await;
    assert!(
        !ok && stderr.contains("no recorded login 999999"),
        "{stderr}"
    );

    // The recorded events are test cases: `claimsmith test --event` replays them on the scripts.
    let replay = |case: &Value, name: &str| {
        let dir = r.s.dir.path().to_owned();
        let file = dir.join(name);
        std::fs::write(&file, serde_json::to_string_pretty(case).unwrap()).unwrap();
        async move {
            let (actions, rules) = (dir.join("actions"), dir.join("rules"));
            let out = run_cli(&[
                "--json",
                "test",
                "--event",
                file.to_str().unwrap(),
                "--actions",
                actions.to_str().unwrap(),
                "--rules",
                rules.to_str().unwrap(),
            ])
            .await;
            let doc: Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
            (out.status.code(), doc)
        }
    };
    let (code, doc) = replay(&event, "allowed.json").await;
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(
        doc["access_token"]["https://t/tx"],
        event["transaction"]["id"]
    );
    assert_eq!(doc["access_token"]["sub"], user);
    let custom = |claims: &Value| -> Value {
        let m = claims.as_object().unwrap();
        let kept = m.iter().filter(|(k, _)| k.starts_with("https://"));
        Value::Object(kept.map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    assert_eq!(
        custom(&doc["access_token"]),
        custom(&access),
        "the replay gives the live login's custom claims"
    );
    assert!(!custom(&access).as_object().unwrap().is_empty());
    let (code, doc) = replay(&denied_event, "denied.json").await;
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(
        doc["verdict"]["body"]["error_description"],
        "no forbidden scope"
    );

    // No password, client secret or token, in any output or anywhere in the database.
    let mut seen = Vec::new();
    for args in [vec!["list"], vec!["list", "--json"]] {
        seen.push(r.cli(&args).await.1);
    }
    for row in &rows {
        let id = row["id"].to_string();
        for flags in [&[][..], &["--json"], &["--as-event"]] {
            let args = [&["show", id.as_str()][..], flags].concat();
            let (ok, out, stderr) = r.cli(&args).await;
            assert!(ok, "{stderr}");
            seen.push(out);
        }
    }
    for file in ["claimsmith.db", "claimsmith.db-wal"] {
        let bytes = std::fs::read(r.s.dir.path().join(file)).unwrap_or_default();
        seen.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    let credentials = [
        PASSWORD,
        r.secret.as_str(),
        refresh_token,
        refreshed["refresh_token"].as_str().unwrap(),
        first["access_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
    ];
    for text in &seen {
        for c in credentials {
            assert!(!text.contains(c), "{c} was recorded");
        }
    }
    assert!(seen.iter().any(|t| t.contains(EMAIL)), "the search looked");
    r.s.stop().await;
}

#[tokio::test]
async fn record_keep_keeps_the_newest() {
    let r = server(true, 2).await;
    for scope in ["openid", "openid forbidden", "openid read:x"] {
        r.login(scope).await;
    }
    let rows = r.list().await;
    let verdicts: Vec<&str> = rows
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["allow", "deny"], "{rows:#?}");
    let newest = r.event(&rows[0]["id"]).await;
    assert_eq!(
        newest["transaction"]["requested_scopes"],
        json!(["openid", "read:x"])
    );
    r.s.stop().await;
}

#[tokio::test]
async fn a_recording_that_cannot_be_written_fails_no_login() {
    let r = server(true, 100).await;
    rusqlite::Connection::open(r.db())
        .unwrap()
        .execute_batch("DROP TABLE recorded_logins")
        .unwrap();
    let (status, body) = r.login("openid").await;
    assert_eq!(status, 200, "{body}");
    r.s.stop().await;
}

/// What `serve` logs up to "claimsmith serving", with `CLAIMSMITH_DEBUG_RECORD=record`.
async fn start_up_log(record: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["actions", "rules"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimsmith"))
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--log-json"])
        .env("CLAIMSMITH_LOG", "info")
        .env("CLAIMSMITH_DEBUG_RECORD", record)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let serving = line.contains("claimsmith serving");
            lines.push(line);
            if serving {
                break;
            }
        }
        lines
    });
    let lines = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
    let _ = child.kill();
    let _ = child.wait();
    let lines = lines.expect("serve started in time").unwrap();
    assert!(
        lines.iter().any(|l| l.contains("claimsmith serving")),
        "{lines:#?}"
    );
    lines
}

#[tokio::test]
async fn serve_warns_at_start_up_while_record_is_on() {
    let on = start_up_log("true").await;
    assert!(
        on.iter()
            .any(|l| l.contains("\"WARN\"") && l.contains("[debug] record is on")),
        "{on:#?}"
    );
    let off = start_up_log("false").await;
    assert!(
        !off.iter().any(|l| l.contains("[debug] record")),
        "{off:#?}"
    );
}
