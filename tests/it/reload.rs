//! Hot reload while the server runs: each change is seen in the next token, a broken file keeps
//! its last good version, a file saved in chunks and a pair of files saved together are each one
//! change (the pauses inside a save are held open on purpose, and a control with the debounce
//! turned down shows the same scenario does tear), and a reload storm under load fails no login.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

pub(super) fn action(v: &str) -> String {
    format!(
        "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.setCustomClaim('https://t/v', {v}); }};"
    )
}

pub(super) fn rule(v: &str) -> String {
    format!(
        "function (user, context, callback) {{ context.accessToken['https://t/r'] = {v}; callback(null, user, context); }}"
    )
}

fn loaded(h: &Value) -> Vec<String> {
    h["scripts"]["loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn add_change_break_fix_rename_and_delete_an_action_and_a_rule() {
    let s = TestServer::start_scripts(&[], |_| {}).await;
    assert!(s.claims().await.get("https://t/v").is_none());
    for (dir, make, claim) in [
        ("actions", action as fn(&str) -> String, "https://t/v"),
        ("rules", rule, "https://t/r"),
    ] {
        let a = format!("{dir}/01-a.js");
        s.put_script(&a, &make("1")).await;
        assert_eq!(s.claims().await[claim], 1, "added");
        s.put_script(&a, &make("2")).await;
        assert_eq!(s.claims().await[claim], 2, "changed");
        let before = s.health().await;
        write_atomically(
            &s.dir.path().join(&a),
            "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim(\n",
        );
        let h = s
            .wait_health("the error to show", |h| {
                !h["scripts"]["errors"].as_array().unwrap().is_empty()
            })
            .await;
        let err = &h["scripts"]["errors"][0];
        assert!(err["file"].as_str().unwrap().ends_with("01-a.js"), "{err}");
        assert!(
            err["line"].as_u64().is_some() && !err["message"].as_str().unwrap().is_empty(),
            "{err}"
        );
        assert_eq!(
            h["scripts"]["version"], before["scripts"]["version"],
            "a broken file publishes no new version"
        );
        assert_eq!(
            s.claims().await[claim],
            2,
            "the last good version keeps serving"
        );
        let h = s.put_script(&a, &make("3")).await;
        assert!(h["scripts"]["errors"].as_array().unwrap().is_empty());
        assert_eq!(s.claims().await[claim], 3, "fixed");
        let before = s.script_version().await;
        std::fs::rename(
            s.dir.path().join(&a),
            s.dir.path().join(format!("{dir}/02-b.js")),
        )
        .unwrap();
        let h = s
            .wait_health("the rename", |h| {
                h["scripts"]["version"].as_u64() > Some(before)
            })
            .await;
        assert!(
            loaded(&h).contains(&"02-b".to_owned()) && !loaded(&h).contains(&"01-a".to_owned()),
            "{h}"
        );
        assert_eq!(s.claims().await[claim], 3, "renamed");
        s.remove_script(&format!("{dir}/02-b.js")).await;
        assert!(s.claims().await.get(claim).is_none(), "deleted");
    }
    // A new file that never compiled is not loaded, and logins fail closed until it is fixed or
    // removed (issue 9; `on_load_error = "skip"` is tests/it/fail_closed.rs).
    write_atomically(
        &s.dir.path().join("actions/05-new.js"),
        "this is not javascript (",
    );
    let h = s
        .wait_health("the new file's error", |h| {
            !h["scripts"]["errors"].as_array().unwrap().is_empty()
        })
        .await;
    assert!(loaded(&h).is_empty(), "{h}");
    assert_eq!(s.login(&[("audience", API)]).await.0, 500);
    std::fs::remove_file(s.dir.path().join("actions/05-new.js")).unwrap();
    s.wait_health("the new file's error to go", |h| {
        h["scripts"]["errors"].as_array().unwrap().is_empty()
    })
    .await;
    assert_eq!(s.login(&[("audience", API)]).await.0, 200);
    s.stop().await;
}

#[tokio::test]
async fn a_folder_created_after_start_is_picked_up() {
    let s = TestServer::start_scripts(&[], |_| {}).await;
    std::fs::remove_dir_all(s.dir.path().join("rules")).unwrap();
    let before = s.script_version().await;
    std::fs::create_dir(s.dir.path().join("rules")).unwrap();
    write_atomically(&s.dir.path().join("rules/01-late.js"), &rule("7"));
    s.wait_health("the late folder", |h| {
        h["scripts"]["version"].as_u64() > Some(before)
    })
    .await;
    assert_eq!(s.claims().await["https://t/r"], 7);
    s.stop().await;
}

/// A file written in two chunks, each of which is a valid Action on its own: the first half claims
/// `https://t/half`, the whole file redefines the export to claim `https://t/v` instead. A login
/// that ever sees `https://t/half` ran a half-written file.
fn two_halves(v: u32) -> (String, String) {
    (
        format!(
            "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.setCustomClaim('https://t/half', {v}); }};\n"
        ),
        format!(
            "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.setCustomClaim('https://t/v', {v}); }};\n"
        ),
    )
}

/// The pause between the chunks of one save: the window a reader could see half a file in.
const CHUNK_PAUSE: Duration = Duration::from_millis(50);

/// What the logins and the `/healthz` pollers saw while files were being rewritten.
#[derive(Debug, Default)]
struct Seen {
    logins: AtomicUsize,
    failed: AtomicUsize,
    /// Tokens carrying a claim that only half a file (or half a pair) sets.
    torn: AtomicUsize,
    /// `/healthz` answers listing a load error.
    errors: AtomicUsize,
    /// The most script versions one save published (1: the save was one change).
    versions_per_save: AtomicU64,
}

impl Seen {
    /// Records how many versions were published between `before` and `h`.
    fn note_versions(&self, h: &Value, before: u64) {
        let now = h["scripts"]["version"].as_u64().unwrap();
        self.versions_per_save
            .fetch_max(now - before, Ordering::Relaxed);
    }

    /// A test's claim: logins ran, none failed or was torn, each save was one version.
    fn assert_clean(&self) {
        assert!(
            self.logins.load(Ordering::Relaxed) > 0,
            "no login ran: {self:?}"
        );
        assert_eq!(self.failed.load(Ordering::Relaxed), 0, "{self:?}");
        assert_eq!(
            self.torn.load(Ordering::Relaxed),
            0,
            "a login was torn: {self:?}"
        );
        let versions = self.versions_per_save.load(Ordering::Relaxed);
        assert_eq!(
            versions, 1,
            "a save published more than one version: {self:?}"
        );
    }

    /// A control's claim: a save was published in parts, and a login saw a part.
    fn assert_torn(&self) {
        let versions = self.versions_per_save.load(Ordering::Relaxed);
        assert!(versions > 1, "the half was never published: {self:?}");
        assert!(
            self.torn.load(Ordering::Relaxed) > 0,
            "no login saw the half: {self:?}"
        );
    }
}

/// Runs `clients` login loops (each token verified against the JWKS and passed to `is_torn`) and
/// one `/healthz` poller until `stop`; returns the handles to join.
fn watch_logins(
    s: &Arc<TestServer>,
    clients: usize,
    seen: &Arc<Seen>,
    stop: &Arc<AtomicBool>,
    is_torn: fn(&Value) -> bool,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (s, seen, stop) = (s.clone(), seen.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let jwks = s.jwks().await;
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = s.login(&[("audience", API)]).await;
                seen.logins.fetch_add(1, Ordering::Relaxed);
                if status != 200 {
                    seen.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let c = verify_with(&jwks, body["access_token"].as_str().unwrap(), API);
                if is_torn(&c) {
                    seen.torn.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let (s, seen, stop) = (s.clone(), seen.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let h = s.health().await;
            if !h["scripts"]["errors"].as_array().unwrap().is_empty() {
                seen.errors.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(2)).await; // the poll interval
        }
    }));
    tasks
}

/// Rewrites `actions/01-a.js` `rewrites` times in place: truncate, pause, first half, pause, second
/// half; after each, waits until the whole new file serves. With `until_torn`, stops as soon as a
/// login has seen the half file (the control: whether a login lands in the window is luck on a
/// loaded machine, so it keeps trying instead of counting on a fixed number of tries).
async fn rewrite_in_chunks(debounce: Duration, rewrites: u32, until_torn: bool) -> Seen {
    let (head, tail) = two_halves(1);
    let s = Arc::new(
        TestServer::start_scripts(&[("actions/01-a.js", &(head + &tail))], |c| {
            c.scripts.debounce = debounce
        })
        .await,
    );
    let (seen, stop) = (Arc::new(Seen::default()), Arc::new(AtomicBool::new(false)));
    let tasks = watch_logins(&s, 2, &seen, &stop, |c| c.get("https://t/half").is_some());
    let path = s.dir.path().join("actions/01-a.js");
    for v in 2..rewrites + 2 {
        if until_torn && seen.torn.load(Ordering::Relaxed) > 0 {
            break;
        }
        let (head, tail) = two_halves(v);
        let before = s.script_version().await;
        let mut f = std::fs::File::create(&path).unwrap(); // truncates
        tokio::time::sleep(CHUNK_PAUSE).await; // holds the empty file's window open
        f.write_all(head.as_bytes()).unwrap();
        f.flush().unwrap();
        tokio::time::sleep(CHUNK_PAUSE).await; // holds the half file's window open
        f.write_all(tail.as_bytes()).unwrap();
        drop(f);
        let h = s
            .wait_health("the whole rewritten file", |h| {
                h["scripts"]["errors"].as_array().unwrap().is_empty()
                    && loaded_hash(h, "01-a") == Some(sha256_hex(&(head.clone() + &tail)))
            })
            .await;
        seen.note_versions(&h, before);
        assert_eq!(s.claims().await["https://t/v"], v);
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(s)
        .ok()
        .expect("tasks finished")
        .stop()
        .await;
    Arc::try_unwrap(seen).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_then_write_and_chunked_writes_never_serve_half_a_file() {
    // The pauses (2 × 50 ms) are well inside the debounce: the whole save is one change.
    let seen = rewrite_in_chunks(Duration::from_millis(400), 3, false).await;
    eprintln!("{seen:?}");
    seen.assert_clean();
    assert_eq!(
        seen.errors.load(Ordering::Relaxed),
        0,
        "/healthz reported the empty or half file: {seen:?}"
    );
}

/// The positive control of the test above: with a debounce far shorter than the pauses, the
/// same rewrites do serve the half file, and the logins and `/healthz` see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_without_the_debounce_the_half_file_is_seen() {
    let seen = rewrite_in_chunks(Duration::from_millis(2), 60, true).await;
    eprintln!("{seen:?}");
    seen.assert_torn();
    assert!(
        seen.errors.load(Ordering::Relaxed) > 0,
        "/healthz never showed the empty file: {seen:?}"
    );
}

/// The hash `/healthz` lists for the loaded script `name`.
pub(super) fn loaded_hash(h: &Value, name: &str) -> Option<String> {
    h["scripts"]["loaded"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["hash"].as_str())
        .map(str::to_owned)
}

pub(super) fn sha256_hex(text: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pair(name: &str, v: u32) -> String {
    format!(
        "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.setCustomClaim('https://t/{name}', {v}); }};"
    )
}

/// Writes the pair `rewrites` times, with a pause between its two files (shorter than the
/// debounce when the protection is on); returns what the logins saw.
/// Rewrites the pair `rewrites` times (or, with `until_torn`, until a login has seen a mixed
/// pair, at most `rewrites` times: whether a login lands inside the window is luck on a loaded
/// machine, so the control keeps trying instead of counting on a fixed number of tries).
async fn write_pairs(debounce: Duration, rewrites: u32, until_torn: bool) -> Seen {
    let s = Arc::new(
        TestServer::start_scripts(
            &[
                ("actions/01-a.js", &pair("a", 0)),
                ("actions/02-b.js", &pair("b", 0)),
            ],
            |c| c.scripts.debounce = debounce,
        )
        .await,
    );
    let (seen, stop) = (Arc::new(Seen::default()), Arc::new(AtomicBool::new(false)));
    let tasks = watch_logins(&s, 3, &seen, &stop, |c| {
        c["https://t/a"] != c["https://t/b"]
    });
    let mut last = 0;
    for v in 1..=rewrites {
        if until_torn && seen.torn.load(Ordering::Relaxed) > 0 {
            break;
        }
        last = v;
        let before = s.script_version().await;
        write_atomically(&s.dir.path().join("actions/01-a.js"), &pair("a", v));
        tokio::time::sleep(CHUNK_PAUSE).await; // holds the window between the two files open
        write_atomically(&s.dir.path().join("actions/02-b.js"), &pair("b", v));
        let h = s
            .wait_health("the pair", |h| {
                loaded_hash(h, "01-a") == Some(sha256_hex(&pair("a", v)))
                    && loaded_hash(h, "02-b") == Some(sha256_hex(&pair("b", v)))
            })
            .await;
        seen.note_versions(&h, before);
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let c = s.claims().await;
    assert_eq!(
        (c["https://t/a"].clone(), c["https://t/b"].clone()),
        (json!(last), json!(last))
    );
    Arc::try_unwrap(s)
        .ok()
        .expect("tasks finished")
        .stop()
        .await;
    Arc::try_unwrap(seen).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_written_as_a_pair_never_mix_versions_in_one_token() {
    // 50 ms between the two files of a pair, inside a 300 ms debounce: one change.
    let seen = write_pairs(Duration::from_millis(300), 8, false).await;
    eprintln!("{seen:?}");
    seen.assert_clean();
}

/// The positive control of the test above: with a debounce far shorter than the pause between
/// the two files, logins do see a mixed pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_without_the_debounce_a_pair_does_mix() {
    let seen = write_pairs(Duration::from_millis(2), 60, true).await;
    eprintln!("{seen:?}");
    seen.assert_torn();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_rewrites_alternating_valid_and_broken_fail_no_login() {
    let s = Arc::new(TestServer::start_scripts(&[("actions/01-a.js", &action("0"))], |_| {}).await);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (s, stop, ok, failed) = (s.clone(), stop.clone(), ok.clone(), failed.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, _) = s.login(&[("audience", API)]).await;
                let counter = if status == 200 { &ok } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let path = s.dir.path().join("actions/01-a.js");
    let mut latencies = Vec::new();
    for i in 1..=100u32 {
        let h = s.health().await;
        let (version, errors) = (
            h["scripts"]["version"].as_u64(),
            h["scripts"]["errors"].as_array().unwrap().len(),
        );
        let t = Instant::now();
        if i % 2 == 1 {
            write_atomically(&path, &action(&i.to_string()));
            s.wait_health("a valid version", |h| {
                h["scripts"]["version"].as_u64() > version
            })
            .await;
            latencies.push(t.elapsed());
        } else {
            write_atomically(
                &path,
                "exports.onExecutePostLogin = async (e, api) => { nope(",
            );
            s.wait_health("the error", |h| {
                h["scripts"]["errors"].as_array().unwrap().len() > errors
            })
            .await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "reload storm: {} logins, {} failed; reload latency (write → serving) p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() * 9 / 10]),
        ms(*latencies.last().unwrap())
    );
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(ok.load(Ordering::Relaxed) > 0);
    assert_eq!(
        s.claims().await["https://t/v"],
        99,
        "the last valid version serves"
    );
    Arc::try_unwrap(s)
        .ok()
        .expect("clients finished")
        .stop()
        .await;
}
