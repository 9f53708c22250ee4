//! Hot reload while the server runs: each change is seen in the next token, a broken file keeps
//! its last good version, pairs of scripts never mix versions, and a reload storm under load fails
//! no login.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn action(v: &str) -> String {
    format!(
        "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.setCustomClaim('https://t/v', {v}); }};"
    )
}

fn rule(v: &str) -> String {
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
    // A new file that never compiled is simply not loaded.
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

#[tokio::test]
async fn truncate_then_write_and_chunked_writes_never_serve_half_a_file() {
    let s = TestServer::start_scripts(&[("actions/01-a.js", &action("1"))], |_| {}).await;
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let (http, url, seed) = (s.http.clone(), s.url("/oauth/token"), s.seed.clone());
    let stop2 = stop.clone();
    let f2 = failures.clone();
    let logins = tokio::spawn(async move {
        let mut n = 0;
        while !stop2.load(Ordering::Relaxed) {
            let r = http
                .post(&url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", seed.client_id.as_str()),
                    ("client_secret", seed.client_secret.as_str()),
                    ("username", EMAIL),
                    ("password", PASSWORD),
                ])
                .send()
                .await
                .unwrap();
            if !r.status().is_success() {
                f2.fetch_add(1, Ordering::Relaxed);
            }
            n += 1;
        }
        n
    });
    let path = s.dir.path().join("actions/01-a.js");
    for v in 2..6 {
        let before = s.script_version().await;
        let text = action(&v.to_string());
        let (head, tail) = text.split_at(text.len() / 2);
        let mut f = std::fs::File::create(&path).unwrap(); // truncates
        f.write_all(head.as_bytes()).unwrap();
        f.flush().unwrap();
        f.write_all(tail.as_bytes()).unwrap();
        drop(f);
        s.wait_health("the rewritten file", |h| {
            h["scripts"]["version"].as_u64() > Some(before)
        })
        .await;
        assert_eq!(s.claims().await["https://t/v"], v);
    }
    stop.store(true, Ordering::Relaxed);
    let n = logins.await.unwrap();
    assert_eq!(failures.load(Ordering::Relaxed), 0, "{n} logins");
    s.stop().await;
}

fn pair(name: &str, v: u32) -> String {
    format!(
        "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.setCustomClaim('https://t/{name}', {v}); }};"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_written_as_a_pair_never_mix_versions_in_one_token() {
    let s = Arc::new(
        TestServer::start_scripts(
            &[
                ("actions/01-a.js", &pair("a", 0)),
                ("actions/02-b.js", &pair("b", 0)),
            ],
            |_| {},
        )
        .await,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (s, stop) = (s.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = 0;
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = s.login(&[("audience", API)]).await;
                assert_eq!(status, 200, "{body}");
                let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
                assert_eq!(
                    c["https://t/a"], c["https://t/b"],
                    "a token mixed two versions: {c}"
                );
                seen += 1;
            }
            seen
        }));
    }
    for v in 1..=25 {
        let before = s.script_version().await;
        write_atomically(&s.dir.path().join("actions/01-a.js"), &pair("a", v));
        write_atomically(&s.dir.path().join("actions/02-b.js"), &pair("b", v));
        s.wait_health("the pair", |h| {
            h["scripts"]["version"].as_u64() > Some(before)
        })
        .await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for c in clients {
        total += c.await.unwrap();
    }
    assert!(total > 0);
    let c = s.claims().await;
    assert_eq!(
        (c["https://t/a"].clone(), c["https://t/b"].clone()),
        (json!(25), json!(25))
    );
    Arc::try_unwrap(s)
        .ok()
        .expect("clients finished")
        .stop()
        .await;
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

#[tokio::test]
async fn polling_mode_reloads_too() {
    let s = TestServer::start_scripts(&[("actions/01-a.js", &action("1"))], |c| {
        c.scripts.poll = true
    })
    .await;
    assert_eq!(s.claims().await["https://t/v"], 1);
    s.put_script("actions/01-a.js", &action("2")).await;
    assert_eq!(s.claims().await["https://t/v"], 2);
    s.remove_script("actions/01-a.js").await;
    assert!(s.claims().await.get("https://t/v").is_none());
    s.stop().await;
}
