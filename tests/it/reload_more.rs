//! Hot reload, the paths around the watcher: sidecar changes, a change made while the folders
//! are being read (the read starts again), a login that spans a reload (it keeps its set), and the
//! two ways a change the native watcher cannot see still gets in (the polling fallback, SIGHUP).
//!
//! The blind spot used for the last two is real: when `actions/` is a symlink and a deploy points
//! it at a new folder (a new link renamed over the old one), inotify keeps watching the old
//! folder, in which nothing changed, and the parent folder is not watched once `actions/` exists.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::reload::{action, loaded_hash, rule, sha256_hex};
use crate::support::*;

/// A rule claiming `https://t/r` = `'{who}'` (the last rule to run wins).
fn named_rule(who: &str) -> String {
    rule(&format!("'{who}'"))
}

async fn rule_claim(s: &TestServer) -> Value {
    s.claims().await["https://t/r"].clone()
}

fn loaded(h: &Value) -> Vec<&str> {
    h["scripts"]["loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

/// Writes `path` (relative to the server's folder) and waits for a newer script set.
async fn put(s: &TestServer, path: &str, text: &str) -> Value {
    s.put_script(path, text).await
}

#[tokio::test]
async fn a_sidecar_change_alone_reloads() {
    let s = TestServer::start_scripts(
        &[
            ("rules/01-a.js", &named_rule("a")),
            ("rules/02-b.js", &named_rule("b")),
        ],
        |_| {},
    )
    .await;
    assert_eq!(rule_claim(&s).await, "b", "file order: b runs last");
    // Every step below writes only a sidecar; the .js files are never touched.
    put(&s, "rules/02-b.json", r#"{"enabled": false}"#).await;
    assert_eq!(rule_claim(&s).await, "a", "b disabled");
    put(&s, "rules/02-b.json", r#"{"enabled": true, "order": 1}"#).await;
    assert_eq!(rule_claim(&s).await, "a", "b enabled again, ordered first");
    put(&s, "rules/01-a.json", r#"{"order": 0}"#).await;
    assert_eq!(
        rule_claim(&s).await,
        "b",
        "only an order changed: a now first"
    );
    let h = put(
        &s,
        "rules/01-a.json",
        r#"{"stage": "pre_user_registration"}"#,
    )
    .await;
    assert_eq!(loaded(&h), ["02-b"], "a moved to another stage");
    let h = s.remove_script("rules/01-a.json").await;
    assert_eq!(loaded(&h), ["02-b", "01-a"], "a back, after b (order 1)");
    assert_eq!(rule_claim(&s).await, "a");
    let h = s.remove_script("rules/02-b.json").await;
    assert_eq!(
        loaded(&h),
        ["01-a", "02-b"],
        "no sidecars: file order again"
    );
    assert_eq!(rule_claim(&s).await, "b");
    // A broken sidecar is a load error; the rule keeps its last good version.
    let before = s.script_version().await;
    write_atomically(&s.dir.path().join("rules/02-b.json"), "{ nope");
    let h = s
        .wait_health("the sidecar error", |h| {
            !h["scripts"]["errors"].as_array().unwrap().is_empty()
        })
        .await;
    assert!(
        h["scripts"]["errors"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("02-b.json"),
        "{h}"
    );
    assert_eq!(h["scripts"]["version"], before, "{h}");
    assert_eq!(rule_claim(&s).await, "b");
    s.stop().await;
}

/// A server whose `actions` is a symlink to `actions-1/`, which holds `01-a.js` = `source`.
async fn start_with_linked_actions(
    source: &str,
    tweak: impl FnOnce(&mut claimsmith::config::Config),
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::create_dir(dir.path().join("actions-1")).unwrap();
    std::fs::write(dir.path().join("actions-1/01-a.js"), source).unwrap();
    std::os::unix::fs::symlink("actions-1", dir.path().join("actions")).unwrap();
    TestServer::start_in(dir, tweak, None).await
}

/// Points `actions` at a new folder `actions-{n}/` holding `01-a.js` = `source`, as a deploy
/// swaps releases: a new link renamed over the old one. Nothing inside the folder the native
/// watcher watches changes.
fn swap_actions(root: &Path, n: u32, source: &str) {
    let target = format!("actions-{n}");
    std::fs::create_dir(root.join(&target)).unwrap();
    std::fs::write(root.join(&target).join("01-a.js"), source).unwrap();
    std::os::unix::fs::symlink(&target, root.join("actions.new")).unwrap();
    std::fs::rename(root.join("actions.new"), root.join("actions")).unwrap();
}

#[tokio::test]
async fn polling_mode_reloads_too() {
    let s = start_with_linked_actions(&action("1"), |c| c.scripts.poll = true).await;
    assert_eq!(s.claims().await["https://t/v"], 1);
    s.put_script("actions/01-a.js", &action("2")).await;
    assert_eq!(s.claims().await["https://t/v"], 2);
    s.remove_script("actions/01-a.js").await;
    assert!(s.claims().await.get("https://t/v").is_none());
    // A change inotify does not see (checked by hand: with `poll = false` this wait times out):
    // only the poller, which walks the path again each time, can find it.
    let before = s.script_version().await;
    swap_actions(s.dir.path(), 2, &action("3"));
    s.wait_health("the swapped folder", |h| {
        h["scripts"]["version"].as_u64() > Some(before)
    })
    .await;
    assert_eq!(s.claims().await["https://t/v"], 3);
    s.stop().await;
}

#[tokio::test]
async fn sighup_rescans_a_change_the_watcher_cannot_see() {
    use tokio::signal::unix::{SignalKind, signal};
    // Our own listener keeps SIGHUP's default action (exit) off this process whatever the
    // server's reload task has done yet; it also shows the signal was delivered.
    let mut hup = signal(SignalKind::hangup()).unwrap();
    let s = start_with_linked_actions(&action("1"), |_| {}).await;
    assert_eq!(s.claims().await["https://t/v"], 1);
    let before = s.script_version().await;
    swap_actions(s.dir.path(), 2, &action("2"));
    // The server's task may not have its own listener yet when the first signal goes out, so the
    // signal is repeated until the rescan shows (every test server in this process rescans too,
    // which is harmless). Checked by hand: with the server's SIGHUP listener removed, this fails.
    let pid = std::process::id().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kill = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap();
        assert!(kill.success());
        tokio::time::timeout(Duration::from_secs(10), hup.recv())
            .await
            .expect("SIGHUP delivered");
        let rescanned = s.wait_health("the rescan", |h| {
            h["scripts"]["version"].as_u64() > Some(before)
        });
        if tokio::time::timeout(Duration::from_millis(500), rescanned)
            .await
            .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "no rescan after SIGHUP");
    }
    assert_eq!(s.claims().await["https://t/v"], 2);
    s.stop().await;
}

/// A Rule that, for a login asking `slow=yes`, writes a marker to the user's `app_metadata`
/// (through the store, at once) and then burns `ms` of CPU before it calls back.
fn slow_rule(ms: u32) -> String {
    format!(
        "function (user, context, callback) {{
           if (context.request.body.slow !== 'yes') return callback(null, user, context);
           auth0.users.updateAppMetadata(user.user_id, {{slow_login: 'running'}}).then(() => {{
             const end = Date.now() + {ms};
             while (Date.now() < end) {{}}
             callback(null, user, context);
           }});
         }}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_started_before_a_reload_finishes_on_its_own_set() {
    let s = Arc::new(
        TestServer::start_scripts(
            &[
                ("rules/01-slow.js", &slow_rule(1500)),
                ("actions/01-v.js", &action("1")),
            ],
            |c| {
                c.scripts.engine.login_timeout = Duration::from_secs(10);
                c.scripts.engine.workers = 2;
            },
        )
        .await,
    );
    let slow = {
        let s = s.clone();
        tokio::spawn(async move { s.login(&[("audience", API), ("slow", "yes")]).await })
    };
    // The slow login's Rule is running, so its set is taken: the Action comes after it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s
        .db(|db| db.user_by_id(&s.seed.user_id))
        .unwrap()
        .app_metadata
        .get("slow_login")
        .is_none()
    {
        assert!(Instant::now() < deadline, "the slow Rule never started");
        tokio::time::sleep(Duration::from_millis(5)).await; // the poll interval
    }
    let h = s.put_script("actions/01-v.js", &action("2")).await;
    assert_eq!(
        h["token_requests_in_flight"], 1,
        "the slow login was still in flight when the new set was published: {h}"
    );
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 200, "{body}");
    let fresh = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(fresh["https://t/v"], 2, "a new login runs the new set");
    assert!(
        !slow.is_finished(),
        "the slow login ended before the new set served a login"
    );
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let old = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(old["https://t/v"], 1, "the slow login kept its own set");
    Arc::try_unwrap(s)
        .ok()
        .expect("login finished")
        .stop()
        .await;
}

/// When `path` was first read after it was last written (relatime updates the access time on the
/// first read after a write; nothing else here reads these files: the native watcher never does).
fn first_read_since_written(path: &Path) -> Option<SystemTime> {
    let m = std::fs::metadata(path).unwrap();
    let (read, written) = (m.accessed().unwrap(), m.modified().unwrap());
    (read > written).then_some(read)
}

/// How long loading `50-slow.js` holds a read of the folders open (under the 500 ms limit of the
/// load-time shape check).
const SLOW_LOAD_MS: u64 = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_while_the_folders_are_read_restarts_the_read() {
    let same = |v: u32| action(&v.to_string());
    // Files are read in name order, and the middle one's top level (run by the shape check) burns
    // SLOW_LOAD_MS: any read of the folders is held open between 00-a.js and 99-z.js.
    let slow = format!(
        "const end = Date.now() + {SLOW_LOAD_MS}; while (Date.now() < end) {{}}\n\
         exports.onExecutePostLogin = async () => {{}};"
    );
    let s = TestServer::start_scripts(
        &[
            ("actions/00-a.js", &same(0)),
            ("actions/50-slow.js", &slow),
            ("actions/99-z.js", &same(0)),
        ],
        |_| {},
    )
    .await;
    let before = s.script_version().await;
    let (a, z) = (
        s.dir.path().join("actions/00-a.js"),
        s.dir.path().join("actions/99-z.js"),
    );
    write_atomically(&a, &same(1));
    write_atomically(&z, &same(1));
    // Wait until a read of the folders has just got past 00-a.js (so it is in 50-slow.js, and
    // 99-z.js is still to come)...
    let deadline = Instant::now() + Duration::from_secs(10);
    let read_at = loop {
        if let Some(t) = first_read_since_written(&a) {
            break t;
        }
        assert!(Instant::now() < deadline, "the folders were never read");
        tokio::time::sleep(Duration::from_millis(1)).await; // the poll interval
    };
    // "Now" by the clock the file times come from: a file written outside the watched folders.
    let clock = s.dir.path().join("clock");
    std::fs::write(&clock, "").unwrap();
    let now = std::fs::metadata(&clock).unwrap().modified().unwrap();
    let late = now.duration_since(read_at).unwrap_or_default();
    assert!(
        late < Duration::from_millis(SLOW_LOAD_MS / 2),
        "00-a.js was read {late:?} ago: the read may have reached 99-z.js; nothing would be tested"
    );
    // ...and change the pair under it: that read saw a = 1 and would see z = 2.
    write_atomically(&a, &same(2));
    write_atomically(&z, &same(2));
    let h = s
        .wait_health("the next version", |h| {
            h["scripts"]["version"].as_u64() > Some(before)
        })
        .await;
    assert_eq!(
        (loaded_hash(&h, "00-a"), loaded_hash(&h, "99-z")),
        (Some(sha256_hex(&same(2))), Some(sha256_hex(&same(2)))),
        "the first set published after the change mixes the read from before it: {h}"
    );
    assert_eq!(h["scripts"]["version"], before + 1, "{h}");
    assert_eq!(s.claims().await["https://t/v"], 2);
    s.stop().await;
}
