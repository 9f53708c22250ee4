//! Issue 9 §1, a broken script never fails open: `serve` refuses to start while a script fails to
//! load (every error listed); after a hot reload a new file that has never loaded fails every
//! login closed with 500 naming it until it is fixed or removed; a top-level throw is a load
//! failure; `[scripts] on_load_error = "skip"` keeps the old behaviour on purpose; `/healthz`
//! answers 503 `degraded` while any script has a load error, with the detail for the operator only.

use claimsmith::config::OnLoadError;
use serde_json::{Value, json};

use crate::support::*;

/// An Action that denies every login, as it was meant to be.
const DENY_ALL: &str =
    "exports.onExecutePostLogin = async (event, api) => { api.access.deny('nobody gets in'); };";
/// The same Action with one typo (a missing `)`): it never compiles.
const DENY_ALL_TYPO: &str =
    "exports.onExecutePostLogin = async (event, api) => {\n  api.access.deny('nobody gets in';\n};";
/// An Action whose module throws while it loads (at its top level).
const THROWS_AT_LOAD: &str = "const cfg = JSON.parse('{not json');\n\
    exports.onExecutePostLogin = async (event, api) => { api.access.deny(String(cfg)); };";
/// A Rule with a syntax error on its third line.
const RULE_TYPO: &str = "function (user, context, callback) {\n  // deny\n  callback(new Error('no') user, context);\n}";

/// Waits until `/healthz` lists a load error for `file` (a path suffix).
async fn wait_error(s: &TestServer, file: &str) -> Value {
    s.wait_health(&format!("the load error of {file}"), |h| {
        h["scripts"]["errors"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["file"].as_str().unwrap().ends_with(file))
        })
    })
    .await
}

/// Waits until `/healthz` lists no load error.
async fn wait_clean(s: &TestServer) -> Value {
    s.wait_health("no load error", |h| {
        h["scripts"]["errors"].as_array().unwrap().is_empty()
    })
    .await
}

fn assert_refused(answer: &(u16, Value), name: &str) {
    let (status, body) = answer;
    assert_eq!(*status, 500, "{body}");
    assert_eq!(body["error"], "server_error", "{body}");
    assert_eq!(
        body["error_description"],
        format!("Script '{name}' failed to load (load error)."),
        "{body}"
    );
}

#[tokio::test]
async fn a_new_deny_action_with_a_typo_fails_logins_closed_until_it_is_fixed() {
    let s = TestServer::start_scripts(&[], |_| {}).await;
    assert_eq!(s.login(&[("audience", API)]).await.0, 200);
    write_atomically(&s.dir.path().join("actions/10-deny.js"), DENY_ALL_TYPO);
    wait_error(&s, "10-deny.js").await;
    assert_refused(&s.login(&[("audience", API)]).await, "10-deny");
    assert_refused(&s.login(&[]).await, "10-deny");
    // Fixed: the deny it was meant to be now answers.
    s.put_script("actions/10-deny.js", DENY_ALL).await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("access_denied")),
        "{body}"
    );
    // A later typo in the same file keeps its last good version (the deny), as before.
    write_atomically(&s.dir.path().join("actions/10-deny.js"), DENY_ALL_TYPO);
    wait_error(&s, "10-deny.js").await;
    assert_eq!(s.login(&[("audience", API)]).await.0, 403);
    s.stop().await;
}

#[tokio::test]
async fn a_new_broken_rule_fails_logins_closed_until_it_is_removed() {
    let s = TestServer::start_scripts(&[], |_| {}).await;
    write_atomically(&s.dir.path().join("rules/05-typo.js"), RULE_TYPO);
    let h = wait_error(&s, "05-typo.js").await;
    assert_eq!(h["scripts"]["not_loaded"], json!(["05-typo"]), "{h}");
    assert_refused(&s.login(&[("audience", API)]).await, "05-typo");
    std::fs::remove_file(s.dir.path().join("rules/05-typo.js")).unwrap();
    wait_clean(&s).await;
    assert_eq!(s.login(&[("audience", API)]).await.0, 200, "removed");
    s.stop().await;
}

#[tokio::test]
async fn an_action_whose_top_level_throws_is_a_load_failure() {
    let s = TestServer::start_scripts(&[], |_| {}).await;
    write_atomically(&s.dir.path().join("actions/07-throws.js"), THROWS_AT_LOAD);
    let h = wait_error(&s, "07-throws.js").await;
    assert!(h["scripts"]["loaded"].as_array().unwrap().is_empty(), "{h}");
    assert_refused(&s.login(&[("audience", API)]).await, "07-throws");
    s.stop().await;
}

#[tokio::test]
async fn on_load_error_skip_starts_and_logs_in_without_the_broken_files() {
    let skip = |c: &mut claimsmith::config::Config| c.scripts.on_load_error = OnLoadError::Skip;
    let s = TestServer::start_scripts(&[("actions/10-deny.js", DENY_ALL_TYPO)], skip).await;
    let h = s.health().await;
    assert_eq!(h["scripts"]["errors"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(s.login(&[("audience", API)]).await.0, 200, "left out");
    write_atomically(&s.dir.path().join("actions/07-throws.js"), THROWS_AT_LOAD);
    wait_error(&s, "07-throws.js").await;
    assert_eq!(s.login(&[("audience", API)]).await.0, 200, "left out");
    s.stop().await;
}

#[tokio::test]
async fn healthz_is_degraded_while_a_script_has_a_load_error() {
    let s = TestServer::start_scripts(&[("actions/01-a.js", DENY_ALL)], |c| {
        c.health_token = Some("op-t0ken".into())
    })
    .await;
    let get = |bearer: Option<&'static str>| s.health_as(bearer);
    assert_eq!(get(None).await, (200, json!({"status": "ok"})));
    // A changed file that breaks keeps its last good version, and still degrades the health.
    write_atomically(&s.dir.path().join("actions/01-a.js"), DENY_ALL_TYPO);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (status, detail) = loop {
        let (status, detail) = get(Some("op-t0ken")).await;
        if status != 200 || std::time::Instant::now() > deadline {
            break (status, detail);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    assert_eq!(status, 503, "{detail}");
    assert_eq!(detail["status"], "degraded", "{detail}");
    let err = &detail["scripts"]["errors"][0];
    assert!(err["file"].as_str().unwrap().ends_with("01-a.js"), "{err}");
    assert_eq!(err["line"], 2, "{err}");
    // A stranger learns that something is wrong, not what.
    assert_eq!(get(None).await, (503, json!({"status": "degraded"})));
    assert_eq!(
        get(Some("op-t0ke")).await,
        (503, json!({"status": "degraded"}))
    );
    write_atomically(&s.dir.path().join("actions/01-a.js"), DENY_ALL);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while get(None).await.0 != 200 {
        assert!(std::time::Instant::now() < deadline, "still degraded");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(get(None).await, (200, json!({"status": "ok"})));
    s.stop().await;
}

/// Through the real binary: `serve` exits non-zero and lists every broken file as
/// `path:line:col: message` (a top-level throw included); it never starts listening.
#[tokio::test]
async fn serve_refuses_to_start_and_lists_every_script_that_fails_to_load() {
    let dir = tempfile::tempdir().unwrap();
    let (actions, rules) = (dir.path().join("actions"), dir.path().join("rules"));
    std::fs::create_dir_all(&actions).unwrap();
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(actions.join("10-deny.js"), DENY_ALL_TYPO).unwrap();
    std::fs::write(actions.join("20-throws.js"), THROWS_AT_LOAD).unwrap();
    std::fs::write(rules.join("05-typo.js"), RULE_TYPO).unwrap();
    std::fs::write(rules.join("06-fine.js"), crate::reload::rule("1")).unwrap();
    let db = dir.path().join("c.db");
    let out = run_cli(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
        "--actions",
        actions.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(!stderr.contains("claimsmith serving"), "{stderr}");
    for (file, line) in [
        (actions.join("10-deny.js"), 2),
        (actions.join("20-throws.js"), 1),
        (rules.join("05-typo.js"), 3),
    ] {
        let head = format!("{}:{line}:", file.display());
        let listed = stderr.lines().any(|l| {
            l.trim_start().strip_prefix(&head).is_some_and(|rest| {
                rest.split_once(": ")
                    .is_some_and(|(col, m)| col.parse::<u32>().is_ok() && !m.is_empty())
            })
        });
        assert!(listed, "no `{head}<col>: <message>` line: {stderr}");
    }
    assert!(!stderr.contains("06-fine.js:"), "{stderr}");
}
