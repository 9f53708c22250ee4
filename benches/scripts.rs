//! The script pipeline's cost per login: 2 Rules + 3 Actions (claims from app_metadata, roles,
//! a namespace), through `ScriptEngine::run_login` from a tokio runtime, warm and strict; then the
//! same scripts in process, on one sandbox without the worker hand-off (`script::profile`).
//! The scripts live in `benches/fixtures/`. Plain `main` (harness = false); prints tables.
//! Run: `cargo bench --bench scripts`. `SCRIPTS_BENCH_MODE=warm|strict` runs one mode of the
//! pool; `SCRIPTS_BENCH_SET=rules|one` a subset (in process: `rules|actions`); `SCRIPTS_BENCH_CASE=warm-in-process` or
//! `strict-in-process` only that in-process case (`SCRIPTS_BENCH_N` logins), for callgrind.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use claimsmith::script::profile::InProcess;
use claimsmith::script::{
    ClientInfo, ConnectionInfo, EngineConfig, FetchPolicy, Host, Isolation, LoginInput,
    MetadataKind, PatchError, RequestInfo, ScriptEngine, ScriptKind, ScriptSet, Verdict,
    load_scripts,
};
use serde_json::{Map, Value, json};

struct NoHost;
impl Host for NoHost {
    fn patch_metadata(
        &self,
        _: &str,
        _: MetadataKind,
        _: &Map<String, Value>,
    ) -> Result<(), PatchError> {
        Ok(())
    }
}

const RULES: &[(&str, &str)] = &[
    (
        "01-email-verified",
        include_str!("fixtures/rules/01-email-verified.js"),
    ),
    ("02-roles", include_str!("fixtures/rules/02-roles.js")),
];

const ACTIONS: &[(&str, &str)] = &[
    ("01-plan", include_str!("fixtures/actions/01-plan.js")),
    (
        "02-admin-scope",
        include_str!("fixtures/actions/02-admin-scope.js"),
    ),
    ("03-tenant", include_str!("fixtures/actions/03-tenant.js")),
];

fn input() -> LoginInput {
    let map = |v: Value| v.as_object().unwrap().clone();
    LoginInput {
        user: json!({"user_id": "auth0|5f7c8ec7c33c6c004bbafe82", "email": "ada@example.com", "email_verified": true,
            "username": "ada", "name": "Ada Lovelace", "nickname": "ada", "given_name": "Ada", "family_name": "Lovelace",
            "picture": "https://example.com/ada.png", "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2026-11-01T00:00:00.000Z",
            "app_metadata": {"plan": "enterprise", "features": ["sso", "audit", "scim"], "tenant": "acme"},
            "user_metadata": {"lang": "en", "theme": "dark"},
            "identities": [{"connection": "Username-Password-Authentication", "isSocial": false, "provider": "auth0", "user_id": "5f7c8ec7c33c6c004bbafe82"}]}),
        client: ClientInfo {
            client_id: "zlkEXAMPLEclient".into(),
            name: "Acme Web".into(),
            metadata: map(json!({"tier": "gold"})),
        },
        connection: ConnectionInfo {
            id: "con_123".into(),
            name: "Username-Password-Authentication".into(),
            strategy: "auth0".into(),
            metadata: Map::new(),
            options: Map::new(),
        },
        request: RequestInfo {
            ip: "203.0.113.7".into(),
            hostname: "auth.acme.example".into(),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            language: Some("en-GB,en;q=0.9".into()),
            method: "POST".into(),
            query: Map::new(),
            body: map(
                json!({"grant_type": "password", "username": "ada@example.com", "scope": "openid profile email", "audience": "https://api.example.com"}),
            ),
        },
        protocol: "oauth2-password".into(),
        requested_scopes: vec!["openid".into(), "profile".into(), "email".into()],
        audience: "https://api.example.com".into(),
        roles: vec!["admin".into(), "editor".into()],
        organization: None,
        logins_count: 42,
        tenant: "acme".into(),
        now_ms: 1_764_000_000_000,
        transaction_id: "tx_1".into(),
        refresh_token: None,
    }
}

fn script_set() -> (tempfile::TempDir, Arc<ScriptSet>) {
    script_set_with(&[])
}

/// The bench's scripts plus `extra` actions, in a folder whose `node_modules` is `modules`.
fn script_set_with(extra: &[(&str, &str)]) -> (tempfile::TempDir, Arc<ScriptSet>) {
    let dir = tempfile::tempdir().unwrap();
    let (r, a) = (dir.path().join("rules"), dir.path().join("actions"));
    std::fs::create_dir_all(&r).unwrap();
    std::fs::create_dir_all(&a).unwrap();
    // SCRIPTS_BENCH_SET=rules|actions|one: a subset, to see where the time goes.
    let subset = std::env::var("SCRIPTS_BENCH_SET").unwrap_or_default();
    let (rules, actions) = match subset.as_str() {
        "rules" => (RULES, &[][..]),
        "actions" => (&[][..], ACTIONS),
        "one" => (&[][..], &ACTIONS[2..]),
        _ => (RULES, ACTIONS),
    };
    for (n, s) in rules {
        std::fs::write(r.join(format!("{n}.js")), s).unwrap();
    }
    for (n, s) in actions.iter().chain(extra) {
        std::fs::write(a.join(format!("{n}.js")), s).unwrap();
    }
    #[cfg(unix)]
    if let Some(modules) = npm_packages() {
        std::os::unix::fs::symlink(modules, dir.path().join("node_modules")).unwrap();
    }
    let set = load_scripts(&a, &r, None, 1);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    (dir, Arc::new(set))
}

/// tests/npm's packages (lodash among them), installed with `npm ci` into the build's folder;
/// `None` (and the lodash row skipped) when npm cannot install them.
fn npm_packages() -> Option<std::path::PathBuf> {
    use std::path::Path;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/npm");
    let dest = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-npm");
    let lock = std::fs::read(src.join("package-lock.json")).ok()?;
    let marker = dest.join("installed-from.json");
    if std::fs::read(&marker).ok().as_ref() != Some(&lock) {
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::create_dir_all(&dest).ok()?;
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(src.join(f), dest.join(f)).ok()?;
        }
        let ok = std::process::Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--silent",
            ])
            .current_dir(&dest)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        std::fs::write(&marker, &lock).ok()?;
    }
    Some(dest.join("node_modules"))
}

/// Issue 11's case: one more Action, which requires lodash (at its top level, so once per
/// context) and calls it on every login.
const LODASH_ACTION: &str = "const _ = require('lodash'); \
    exports.onExecutePostLogin = async (event, api) => { \
      api.accessToken.setCustomClaim('https://claimsmith.example/meta', _.pick(event.user.app_metadata || {}, ['plan', 'tenant'])); };";

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn measure(
    isolation: Isolation,
    set: &Arc<ScriptSet>,
    n: usize,
    concurrency: usize,
    gap: Option<Duration>,
) -> (Duration, Duration, f64) {
    measure_with(isolation, set, n, concurrency, gap, FetchPolicy::default()).await
}

async fn measure_with(
    isolation: Isolation,
    set: &Arc<ScriptSet>,
    n: usize,
    concurrency: usize,
    gap: Option<Duration>,
    fetch: FetchPolicy,
) -> (Duration, Duration, f64) {
    let config = EngineConfig {
        isolation,
        fetch,
        ..EngineConfig::default()
    };
    let engine = Arc::new(ScriptEngine::start(config, Arc::new(NoHost)).unwrap());
    engine.prepare(set.clone());
    for _ in 0..200 {
        let o = engine.run_login(set.clone(), input()).await.unwrap();
        assert_eq!(o.verdict, Verdict::Allow);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (engine, set) = (engine.clone(), set.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(n / concurrency);
            for _ in 0..n / concurrency {
                if let Some(gap) = gap {
                    tokio::time::sleep(gap).await; // the engine idles between logins
                }
                // The grant builds the input; only `run_login` is timed.
                let (set, input) = (set.clone(), input());
                let t = Instant::now();
                let o = engine.run_login(set, input).await.unwrap();
                times.push(t.elapsed());
                assert!(
                    o.verdict == Verdict::Allow
                        || o.verdict == Verdict::Deny("roles rule missing".into())
                );
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
    (
        pct(&all, 0.5),
        pct(&all, 0.99),
        all.len() as f64 / wall.as_secs_f64(),
    )
}

/// The same scripts on one sandbox driven directly: no worker hand-off, no tokio. Under
/// `valgrind --tool=callgrind` with `SCRIPTS_BENCH_CASE=warm-in-process` (or `strict-in-process`),
/// two runs with different `SCRIPTS_BENCH_N` give the instructions per login by difference.
fn in_process(case: &str) {
    let n: usize = std::env::var("SCRIPTS_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let subset = std::env::var("SCRIPTS_BENCH_SET").unwrap_or_default();
    let scripts: Vec<(ScriptKind, &str, &str)> = RULES
        .iter()
        .filter(|_| subset != "actions")
        .map(|(n, s)| (ScriptKind::Rule, *n, *s))
        .chain(
            ACTIONS
                .iter()
                .filter(|_| subset != "rules")
                .map(|(n, s)| (ScriptKind::Action, *n, *s)),
        )
        .collect();
    let p = InProcess::new(&scripts).unwrap();
    let us = |d: Duration, n: usize| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "in process (one sandbox, no worker hand-off), {} scripts:",
        scripts.len()
    );
    if case.is_empty() || case == "warm-in-process" {
        let t = p.warm(&input(), n).unwrap();
        println!("  warm login                 {:>8.1}µs", us(t, n));
    }
    if case.is_empty() || case == "strict-in-process" {
        let m = (n / 5).max(1);
        let t = p.strict(&input(), m).unwrap();
        println!(
            "  strict login               {:>8.1}µs  (build {:.1}µs, run {:.1}µs, drop {:.1}µs)",
            us(t.build + t.run + t.drop, m),
            us(t.build, m),
            us(t.run, m),
            us(t.drop, m)
        );
    }
    if case.is_empty() {
        let t = InProcess::shape_input(&input(), n);
        println!("  shaping the input in Rust  {:>8.1}µs", us(t, n));
        let t = InProcess::bare_context(500);
        println!("  bare runtime + context     {:>8.1}µs", us(t, 500));
    }
}

fn main() {
    let case = std::env::var("SCRIPTS_BENCH_CASE").unwrap_or_default();
    if case.ends_with("in-process") {
        return in_process(&case);
    }
    let (_dir, set) = script_set();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "script pipeline per login: 2 Rules + 3 Actions, run_login from tokio ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<8} {:>11} {:>10} {:>10} {:>12}  goal (issue 10)",
        "mode", "concurrency", "median", "p99", "logins/s"
    );
    let only = std::env::var("SCRIPTS_BENCH_MODE").unwrap_or_default();
    for (isolation, n) in [(Isolation::Warm, 5000), (Isolation::Strict, 2000)] {
        if !only.is_empty() && !format!("{isolation:?}").eq_ignore_ascii_case(&only) {
            continue;
        }
        // Concurrency 1 with 2 ms idle before each login: how a quiet server sees a login
        // (parked workers, a parked tokio thread), rather than back to back.
        for (concurrency, gap) in [(1, None), (8, None), (1, Some(Duration::from_millis(2)))] {
            let n = if gap.is_some() { n / 10 } else { n };
            let (median, p99, rate) = rt.block_on(measure(isolation, &set, n, concurrency, gap));
            let goal = match (isolation, concurrency, gap) {
                (Isolation::Warm, 1, None) => "p50 ≤ 60 µs",
                (Isolation::Strict, 1, None) => "p50 ≤ 150 µs",
                (Isolation::Warm, 8, _) => "≥ 27,000 logins/s",
                (Isolation::Strict, 8, _) => "≥ 8,400 logins/s",
                _ => "",
            };
            println!(
                "{:<8} {:>11} {:>8.1}µs {:>8.1}µs {:>12.0}  {goal}",
                format!("{isolation:?}").to_lowercase(),
                if gap.is_some() {
                    "1, idle".into()
                } else {
                    concurrency.to_string()
                },
                median.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6,
                rate
            );
        }
    }
    // The same pipeline with a fourth Action that uses lodash (issue 11).
    if npm_packages().is_some() {
        let (_dir, set) = script_set_with(&[("04-lodash", LODASH_ACTION)]);
        for (isolation, n) in [(Isolation::Warm, 5000), (Isolation::Strict, 2000)] {
            if !only.is_empty() && !format!("{isolation:?}").eq_ignore_ascii_case(&only) {
                continue;
            }
            for concurrency in [1, 8] {
                let (median, p99, rate) =
                    rt.block_on(measure(isolation, &set, n, concurrency, None));
                println!(
                    "{:<8} {:>11} {:>8.1}µs {:>8.1}µs {:>12.0}  + an Action requiring lodash",
                    format!("{isolation:?}").to_lowercase(),
                    concurrency,
                    median.as_secs_f64() * 1e6,
                    p99.as_secs_f64() * 1e6,
                    rate
                );
            }
        }
    } else {
        println!("(the lodash rows need npm: `npm ci` of tests/npm failed)");
    }
    // An Action that fetches a small JSON document from a loopback server (issue 11). The server
    // closes each connection, so every fetch also connects.
    let base = rt.block_on(loopback_json());
    let fetcher = format!(
        "exports.onExecutePostLogin = async (event, api) => {{ \
           const r = await fetch('{base}/plan'); api.accessToken.setCustomClaim('https://claimsmith.example/remote', (await r.json()).plan); }};"
    );
    let (_dir, set) = script_set_with(&[("04-fetch", &fetcher)]);
    for concurrency in [1, 8] {
        let policy = FetchPolicy::new(std::slice::from_ref(&base), 1 << 20).unwrap();
        let (median, p99, rate) = rt.block_on(measure_with(
            Isolation::Warm,
            &set,
            2000,
            concurrency,
            None,
            policy,
        ));
        println!(
            "{:<8} {:>11} {:>8.1}µs {:>8.1}µs {:>12.0}  + an Action fetching from a loopback server",
            "warm",
            concurrency,
            median.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            rate
        );
    }
    in_process("");
}

/// A loopback HTTP/1.1 server answering `{"plan":"gold"}` to anything; its base URL.
async fn loopback_json() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"plan":"gold"}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}
