//! The hostile-script suite over HTTP: every folder of `tests/fixtures/scripts/` is served by a
//! server of its own, once per isolation mode, with **one** script worker, so every login of a
//! case (its `repeat`ed logins and the leak probe after them) lands on the same worker and, in
//! warm mode, in the same context. Each login must answer as `expect.json` says (both tokens are
//! checked: the login asks for `openid`).
//!
//! The leak probe: every case's set also holds the Rule `00-claimsmith-probe.js`, which runs
//! first in every login and counts its runs in Rules' `global`. A login sent with
//! `claimsmith_probe=1` stops at the probe, which answers 403 with a report of the sandbox it ran
//! in: the run counter (warm: the context was kept, so it counts the case's logins too; strict:
//! always 1) and whether the built-ins a hostile script can poison are still the originals. The
//! probe therefore reads the very sandbox the hostile logins ran in, not a new one.
//! `leak_probe_sees_poisoned_built_ins_when_warm_hardening_is_off` is its positive control.
//!
//! `expect.json` (validated: an unknown key fails the run): `status`, `error`, `description`
//! (exact) or `description_contains` (for engine messages), `claims_present` (access token),
//! `claims_absent` (both tokens; registered claims must keep the server's value), `repeat` (logins
//! before the probe), `answers` (per-login overrides of the answer keys),
//! `load_error_contains`, `max_abandoned_workers`, and `warm` / `strict`: overrides of the answer
//! keys and `answers` for one isolation mode.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::support::*;

/// The probe Rule (see the module doc). Runs before every other script of the case.
const PROBE: &str = r#"function claimsmithProbe(user, context, callback) {
  const helper = () => Object.getPrototypeOf([].values().map((x) => x));
  const wrap = () => Object.getPrototypeOf(Iterator.from({ next() { return { done: true }; } }));
  // The stash lives on the global object (Rules' `global` is `globalThis`), not enumerable so
  // that cases listing the globals' keys do not see it.
  const g = global;
  const hide = (k, v) => Object.defineProperty(g, k, { value: v, writable: true, configurable: true });
  hide('claimsmithProbeRuns', (g.claimsmithProbeRuns || 0) + 1);
  // The first run in a context comes before any login's script body ran in it: the originals.
  // (Function.prototype.toString cannot tell: compiled scripts print as `[native code]` too.)
  if (g.claimsmithProbeRuns === 1) {
    hide('claimsmithOriginals', [JSON, JSON.stringify, Array.prototype.map, helper().next, wrap().next]);
  }
  if (!(context.request && context.request.body && context.request.body.claimsmith_probe === '1')) {
    return callback(null, user, context);
  }
  const o = g.claimsmithOriginals;
  const bit = (f) => { try { return f() ? 1 : 0; } catch (e) { return 0; } };
  const report = {
    runs: g.claimsmithProbeRuns,
    proto: bit(() => ({}).polluted === undefined && !('polluted' in Object.prototype) && [].leak === undefined),
    json: bit(() => JSON === o[0] && JSON.stringify === o[1] && JSON.stringify({ a: 1 }) === '{"a":1}'),
    map: bit(() => Array.prototype.map === o[2] && [1, 2].map((x) => x * 2).join() === '2,4'),
    iter: bit(() => helper().next === o[3] && wrap().next === o[4]),
    // The probe's own stash lives on the global object (Rules' `global` is `globalThis`).
    globals: Object.getOwnPropertyNames(globalThis).filter((k) => !k.startsWith('claimsmith')).length,
  };
  // Built with a plain loop: a poisoned `Array.prototype.map` must not break the report.
  let text = 'probe';
  for (const k in report) text += ' ' + k + '=' + report[k];
  callback(new Error(text));
}
"#;

/// Keys an `expect.json` may hold; anything else (a typo) fails the run.
const KEYS: [&str; 12] = [
    "status",
    "error",
    "description",
    "description_contains",
    "claims_present",
    "claims_absent",
    "repeat",
    "answers",
    "load_error_contains",
    "max_abandoned_workers",
    "warm",
    "strict",
];
/// Keys of a per-mode override (`"warm": {...}`) and of an `answers` entry.
const OVERRIDE_KEYS: [&str; 7] = [
    "status",
    "error",
    "description",
    "description_contains",
    "claims_present",
    "claims_absent",
    "answers",
];

/// Own global names of a fresh context (`Object.getOwnPropertyNames(globalThis)`): a strict
/// probe must see exactly this many (nothing stashed by the case survives). With the Node
/// globals of issue 11: 49 + 38.
const FRESH_GLOBALS: u64 = 92;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Warm,
    Strict,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Warm => "warm",
            Mode::Strict => "strict",
        }
    }

    fn isolation(self) -> claimsmith::script::Isolation {
        match self {
            Mode::Warm => claimsmith::script::Isolation::Warm,
            Mode::Strict => claimsmith::script::Isolation::Strict,
        }
    }
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scripts");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn script_files(case: &Path) -> Vec<(String, String)> {
    let mut files = vec![(
        "rules/00-claimsmith-probe.js".to_string(),
        PROBE.to_string(),
    )];
    for sub in ["actions", "rules"] {
        if let Ok(entries) = std::fs::read_dir(case.join(sub)) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                files.push((
                    format!("{sub}/{name}"),
                    std::fs::read_to_string(e.path()).unwrap(),
                ));
            }
        }
    }
    files
}

/// Unknown keys in an object, with where they were found.
fn unknown_keys(v: &Value, allowed: &[&str], at: &str) -> Vec<String> {
    let Some(o) = v.as_object() else {
        return vec![format!("{at} is not an object")];
    };
    o.keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("unknown key {at}.{k}"))
        .collect()
}

/// Checks an `expect.json` against the keys above (recursively for overrides and answers).
fn validate(expect: &Value) -> Vec<String> {
    let mut bad = unknown_keys(expect, &KEYS, "expect");
    let mut answers = vec![("expect.answers", &expect["answers"])];
    for mode in ["warm", "strict"] {
        if let Some(o) = expect.get(mode) {
            bad.extend(unknown_keys(o, &OVERRIDE_KEYS, mode));
            answers.push((mode, &o["answers"]));
        }
    }
    for (at, a) in answers {
        for (i, answer) in a.as_array().into_iter().flatten().enumerate() {
            bad.extend(unknown_keys(
                answer,
                &OVERRIDE_KEYS[..6],
                &format!("{at}[{i}]"),
            ));
        }
    }
    if expect.get("status").is_none() && expect.get("answers").is_none() {
        bad.push("expect has neither status nor answers".into());
    }
    bad
}

/// The expectation of the `i`th login in `mode`: the case's keys, overridden by the mode's, then
/// by the mode's (or else the case's) `answers[i]`.
fn nth_expect(expect: &Value, mode: Mode, i: usize) -> Map<String, Value> {
    let mut want = expect.as_object().cloned().unwrap_or_default();
    if let Some(o) = expect.get(mode.name()).and_then(Value::as_object) {
        want.extend(o.clone());
    }
    if let Some(a) = want
        .get("answers")
        .and_then(|a| a.get(i))
        .and_then(Value::as_object)
    {
        let a = a.clone();
        want.extend(a);
    }
    want
}

/// The value the server itself gives a registered claim (a script's write must not reach it).
fn registered(s: &TestServer, token: &str, name: &str) -> Option<Value> {
    let v = match (token, name) {
        (_, "sub") => json!(s.seed.user_id),
        (_, "iss") => json!(ISSUER),
        (_, "iat") => json!(NOW_MS / 1000),
        ("access", "exp") => json!(NOW_MS / 1000 + 3600),
        ("id", "exp") => json!(NOW_MS / 1000 + 36000),
        ("access", "aud") => json!([API, format!("{ISSUER}userinfo")]),
        ("id", "aud") => json!(s.seed.client_id),
        ("access", "azp") => json!(s.seed.client_id),
        ("access", "scope") => json!("openid read:x write:x"),
        ("access", "gty") => json!("password"),
        _ => return None,
    };
    Some(v)
}

const LOGIN: [(&str, &str); 2] = [("audience", API), ("scope", "openid read:x write:x")];

/// One login checked against `want`; failures are pushed to `bad`.
async fn check_login(s: &TestServer, want: &Map<String, Value>, bad: &mut Vec<String>) {
    let (status, body) = s.login(&LOGIN).await;
    if Some(u64::from(status)) != want.get("status").and_then(Value::as_u64) {
        bad.push(format!("status {status} (want {}): {body}", want["status"]));
        return;
    }
    if status != 200 {
        if want.get("error") != Some(&body["error"]) {
            bad.push(format!("error {body}"));
        }
        let got = body["error_description"].as_str().unwrap_or("");
        if let Some(d) = want.get("description").and_then(Value::as_str)
            && got != d
        {
            bad.push(format!("description {got:?}, want exactly {d:?}"));
        }
        if let Some(d) = want.get("description_contains").and_then(Value::as_str)
            && !got.contains(d)
        {
            bad.push(format!("description {got:?} lacks {d:?}"));
        }
        return;
    }
    let at = s.verify(body["access_token"].as_str().unwrap(), API).await;
    let Some(id_token) = body["id_token"].as_str() else {
        bad.push(format!("no id_token although openid was asked for: {body}"));
        return;
    };
    let id = s.verify(id_token, &s.seed.client_id).await;
    for (k, v) in want
        .get("claims_present")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if &at[k] != v {
            bad.push(format!("access token claim {k} = {} (want {v})", at[k]));
        }
    }
    for k in want
        .get("claims_absent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let k = k.as_str().unwrap();
        for (token, c) in [("access", &at), ("id", &id)] {
            let ok = match registered(s, token, k) {
                Some(v) => c[k] == v,
                None if ["exp", "azp", "scope", "gty", "aud"].contains(&k) => c[k] != json!("evil"),
                None => c.get(k).is_none(),
            };
            if !ok {
                bad.push(format!(
                    "{token} token claim {k} should be absent or untouched: {c}"
                ));
            }
        }
    }
}

/// The probe's report, `probe runs=2 proto=1 ...`, as numbers by name.
async fn probe(s: &TestServer) -> Result<Map<String, Value>, String> {
    // A 503 while a wedged script thread still runs is temporary: poll until it passes.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut params = LOGIN.to_vec();
    params.push(("claimsmith_probe", "1"));
    let (mut status, mut body) = s.login(&params).await;
    while status == 503 && std::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        (status, body) = s.login(&params).await;
    }
    let report = body["error_description"].as_str().unwrap_or("");
    let Some(fields) = report.strip_prefix("probe ").filter(|_| status == 403) else {
        return Err(format!("the probe login answered {status} {body}"));
    };
    Ok(fields
        .split(' ')
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), json!(v.parse::<u64>().unwrap_or(u64::MAX))))
        .collect())
}

/// Whether a login answered so that warm mode discards its context (README Isolation: after a
/// timeout, out-of-memory or engine error, and when work was left pending).
fn discards_context(want: &Map<String, Value>) -> bool {
    let d = want
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    [
        "(timeout).",
        "(out of memory).",
        "(never settled).",
        "(never called back).",
        "(engine failure).",
    ]
    .iter()
    .any(|end| d.ends_with(end))
}

/// What the probe must see: built-ins as they were, and in warm mode a run counter of
/// `kept + 1`, `kept` being the case's logins that ran in the context the probe reads.
fn probe_leaks(report: &Map<String, Value>, mode: Mode, kept: u64) -> Vec<String> {
    let mut bad = Vec::new();
    for k in ["proto", "json", "map", "iter"] {
        if report.get(k) != Some(&json!(1)) {
            bad.push(format!(
                "probe: poisoned built-ins leaked ({k}): {report:?}"
            ));
        }
    }
    let runs = report.get("runs").and_then(Value::as_u64).unwrap_or(0);
    match mode {
        // Nothing survives a strict login: a fresh context that ran only the probe.
        Mode::Strict => {
            if runs != 1 || report.get("globals") != Some(&json!(FRESH_GLOBALS)) {
                bad.push(format!("probe: state survived a strict login: {report:?}"));
            }
        }
        // The probe reads the context the case's logins ran in (same worker, same set).
        Mode::Warm => {
            if runs != kept + 1 {
                bad.push(format!(
                    "probe: warm context not the one of the case's last {kept} logins (runs={runs}): {report:?}"
                ));
            }
        }
    }
    bad
}

/// Runs one case in one mode; returns its failures (each prefixed with the case and mode).
async fn run_case(case: &Path, mode: Mode, unhardened: bool) -> Vec<String> {
    let name = format!(
        "{}/{}",
        case.file_name().unwrap().to_string_lossy(),
        mode.name()
    );
    let expect: Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expect.json")).unwrap()).unwrap();
    let mut bad = validate(&expect);
    if !bad.is_empty() {
        return bad.into_iter().map(|b| format!("{name}: {b}")).collect();
    }
    let files = script_files(case);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, s)| (p.as_str(), s.as_str()))
        .collect();
    let s = TestServer::start_scripts(&refs, |c| {
        c.scripts.engine.login_timeout = std::time::Duration::from_millis(500);
        // 8 MiB (as the engine tests): a memory bomb reaches it long before the deadline, also
        // on a loaded machine.
        c.scripts.engine.memory_limit_bytes = 8 << 20;
        c.scripts.engine.workers = 1;
        c.scripts.engine.isolation = mode.isolation();
        c.scripts.engine.unhardened_for_test = unhardened;
        if let Some(cap) = expect["max_abandoned_workers"].as_u64() {
            c.scripts.engine.max_abandoned_workers = cap as usize;
        }
        // A case that fails to load on purpose starts anyway, without it (issue 9: the default
        // refuses the start).
        if expect["load_error_contains"].is_string() {
            c.scripts.on_load_error = claimsmith::config::OnLoadError::Skip;
        }
    })
    .await;
    let h = s.health().await;
    let errors = h["scripts"]["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    match expect["load_error_contains"].as_str() {
        Some(want) => {
            let refused = errors
                .iter()
                .any(|e| e["message"].as_str().is_some_and(|m| m.contains(want)));
            if !refused {
                bad.push(format!("no load error with {want:?}: {h}"));
            }
        }
        None if !errors.is_empty() => bad.push(format!("load errors: {h}")),
        None => {}
    }
    let logins = expect["repeat"].as_u64().unwrap_or(1);
    // Logins that ran in the context the probe will read (warm).
    let mut kept = 0;
    for i in 0..logins {
        let want = nth_expect(&expect, mode, i as usize);
        match want["status"].as_u64() {
            Some(503) => {} // refused: ran nothing
            _ if discards_context(&want) => kept = 0,
            _ => kept += 1,
        }
        let mut failed = Vec::new();
        check_login(&s, &want, &mut failed).await;
        bad.extend(failed.into_iter().map(|f| format!("login {}: {f}", i + 1)));
    }
    match probe(&s).await {
        Ok(report) => bad.extend(probe_leaks(&report, mode, kept)),
        Err(e) => bad.push(format!("probe: {e}")),
    }
    s.stop().await;
    bad.into_iter().map(|b| format!("{name}: {b}")).collect()
}

/// Runs `cases` × `modes`, four servers at a time; returns every failure.
async fn run_all(cases: Vec<PathBuf>, modes: &[Mode], unhardened: bool) -> Vec<String> {
    let slots = Arc::new(tokio::sync::Semaphore::new(4));
    let mut set = tokio::task::JoinSet::new();
    for case in cases {
        for &mode in modes {
            let permit = slots.clone().acquire_owned().await.unwrap();
            let case = case.clone();
            set.spawn(async move {
                let r = run_case(&case, mode, unhardened).await;
                drop(permit);
                r
            });
        }
    }
    let mut failures = Vec::new();
    while let Some(r) = set.join_next().await {
        failures.extend(r.unwrap());
    }
    failures.sort();
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_script_gets_its_documented_answer_in_both_modes_and_leaks_nothing() {
    let cases = cases();
    assert!(cases.len() >= 30, "the suite has {} cases", cases.len());
    let failures = run_all(cases, &[Mode::Warm, Mode::Strict], false).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Positive control of the leak probe: with warm hardening switched off (test-only), every
/// poison fixture's poison stays in the context, and the probe must report it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leak_probe_sees_poisoned_built_ins_when_warm_hardening_is_off() {
    let poison: Vec<PathBuf> = cases()
        .into_iter()
        .filter(|c| {
            c.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("poison-")
        })
        .collect();
    assert_eq!(poison.len(), 4);
    let failures = run_all(poison.clone(), &[Mode::Warm], true).await;
    for case in &poison {
        let name = format!(
            "{}/warm: probe: poisoned",
            case.file_name().unwrap().to_string_lossy()
        );
        assert!(
            failures.iter().any(|f| f.starts_with(&name)),
            "the probe missed {name}: {failures:#?}"
        );
    }
}

/// The probe's verdicts can fail: a report of a kept context fails strict, a report of a new
/// context after a login that kept it fails warm (and a kept one after a login that discarded it),
/// and a poisoned built-in fails both.
#[test]
fn probe_verdicts_fail_on_leaks() {
    let report = |runs: u64, map: u64| {
        json!({"runs": runs, "proto": 1, "json": 1, "map": map, "iter": 1, "globals": FRESH_GLOBALS})
            .as_object()
            .unwrap()
            .clone()
    };
    assert!(probe_leaks(&report(1, 1), Mode::Strict, 2).is_empty());
    assert!(probe_leaks(&report(3, 1), Mode::Warm, 2).is_empty());
    assert!(probe_leaks(&report(1, 1), Mode::Warm, 0).is_empty());
    assert!(!probe_leaks(&report(3, 1), Mode::Strict, 2).is_empty());
    assert!(!probe_leaks(&report(1, 1), Mode::Warm, 2).is_empty());
    assert!(!probe_leaks(&report(3, 1), Mode::Warm, 0).is_empty());
    assert!(!probe_leaks(&report(3, 0), Mode::Warm, 2).is_empty());
    assert!(!probe_leaks(&report(1, 0), Mode::Strict, 1).is_empty());
    let timeout = json!({"description": "Script 's' exceeded the time limit (timeout)."});
    assert!(discards_context(timeout.as_object().unwrap()));
    assert!(!discards_context(
        json!({"description": "timeout"}).as_object().unwrap()
    ));
}

#[test]
fn expect_files_are_validated() {
    let good = json!({"status": 200, "warm": {"answers": [{"status": 200}]}, "repeat": 1});
    assert!(validate(&good).is_empty(), "{:?}", validate(&good));
    for typo in [
        json!({"status": 200, "claims_presnt": {}}),
        json!({"status": 200, "warm": {"stauts": 500}}),
        json!({"status": 200, "answers": [{"descripton": "x"}]}),
        json!({"status": 200, "strict": {"answers": [{"repeat": 2}]}}),
        json!({"error": "x"}),
    ] {
        assert!(!validate(&typo).is_empty(), "{typo} passed validation");
    }
}
