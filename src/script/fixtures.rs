//! Runs the hostile-script suite `tests/fixtures/scripts/<case>/` through the engine, in both
//! isolation modes, each case followed by a normal login that must succeed and see no state of
//! the hostile one. `expect.json` states what the token server answers; this file maps an
//! engine result to that answer with the spec's Decisions table, and applies the spec §4
//! reserved-claim policy for `claims_absent` through `crate::claims`, as the server does.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::tests::{TestHost, input};
use super::*;

/// (status, error, error_description) as the token endpoint answers.
fn wire(result: &Result<Outcome, ScriptError>) -> (u16, &'static str, String) {
    match result {
        Ok(o) => match &o.verdict {
            Verdict::Allow => (200, "", String::new()),
            Verdict::Deny(m) => (403, "access_denied", m.clone()),
            Verdict::Unauthorized(m) => (401, "unauthorized", m.clone()),
            Verdict::MfaRequired => (
                403,
                "mfa_required",
                "Multifactor authentication required".into(),
            ),
            Verdict::InteractionRequired(m) => (400, "interaction_required", m.clone()),
            Verdict::ValidationError { message, .. } => (403, "validation_error", message.clone()),
        },
        Err(e) if matches!(e.kind, ScriptErrorKind::Overloaded { .. }) => {
            (503, "temporarily_unavailable", e.public_description())
        }
        Err(e) => (500, "server_error", e.public_description()),
    }
}

/// The expectation for the `i`th login: `"answers": [{...}, ...]` overrides `status`, `error` and
/// `description_contains` login by login (a case whose answers change as it goes on).
pub(super) fn nth_expect(expect: &Value, i: usize) -> Value {
    let mut want = expect.clone();
    if let (Some(w), Some(a)) = (
        want.as_object_mut(),
        expect["answers"].get(i).and_then(Value::as_object),
    ) {
        w.extend(a.clone());
    }
    want
}

/// The token server's own claim policy (spec §4), with no OIDC scope granted.
fn allowed(name: &str) -> bool {
    crate::claims::refusal(name, &[]).is_none()
}

fn folded_claims(o: &Outcome) -> Map<String, Value> {
    let mut m = Map::new();
    for c in o.effects.access_claims.iter().chain(&o.effects.id_claims) {
        if allowed(&c.name) {
            m.insert(c.name.clone(), c.value.clone());
        }
    }
    m
}

fn check(case: &str, expect: &Value, result: &Result<Outcome, ScriptError>) -> Vec<String> {
    let mut bad = Vec::new();
    let (status, error, description) = wire(result);
    if expect["status"].as_u64() != Some(u64::from(status)) {
        bad.push(format!(
            "{case}: status {status} ({error} {description:?}), want {}",
            expect["status"]
        ));
    }
    if let Some(e) = expect["error"].as_str()
        && e != error
    {
        bad.push(format!("{case}: error {error}, want {e}"));
    }
    if let Some(d) = expect["description_contains"].as_str()
        && !description.contains(d)
    {
        bad.push(format!("{case}: description {description:?} lacks {d:?}"));
    }
    if let Ok(o) = result {
        let claims = folded_claims(o);
        for name in expect["claims_absent"].as_array().into_iter().flatten() {
            if claims.contains_key(name.as_str().unwrap_or_default()) {
                bad.push(format!("{case}: claim {name} present"));
            }
        }
        for (k, v) in expect["claims_present"].as_object().into_iter().flatten() {
            if claims.get(k) != Some(v) {
                bad.push(format!("{case}: claim {k} = {:?}, want {v}", claims.get(k)));
            }
        }
    }
    bad
}

pub(super) fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scripts");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expect.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

async fn run_suite(isolation: Isolation) -> Vec<String> {
    let config = EngineConfig {
        workers: 1,
        isolation,
        ..EngineConfig::for_test()
    };
    let shared_engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
    let probe = super::tests::set_of(
        &[],
        &[(
            "probe",
            "exports.onExecutePostLogin = async (event, api) => {\n\
               if (Object.prototype.polluted !== undefined || [1].map((x) => x + 1)[0] !== 2 || typeof globalThis.keep !== 'undefined'\n\
                   || JSON.stringify({a: 1}) !== '{\"a\":1}') throw new Error('state leaked');\n\
               api.accessToken.setCustomClaim('https://ns.example.com/probe', true);\n};",
        )],
    );
    let mut bad = Vec::new();
    for (version, dir) in cases().iter().enumerate() {
        let case = format!(
            "{isolation:?}/{}",
            dir.file_name().unwrap().to_string_lossy()
        );
        let expect: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expect.json")).unwrap())
                .unwrap();
        // `"modes": ["warm"]` limits a case (the join watchdog case: each run leaves a thread
        // spinning for seconds, which the suite need not pay twice).
        if let Some(modes) = expect["modes"].as_array()
            && !modes
                .iter()
                .any(|m| m.as_str() == Some(&format!("{isolation:?}").to_lowercase()))
        {
            continue;
        }
        let set = load_scripts(
            &dir.join("actions"),
            &dir.join("rules"),
            None,
            1000 + version as u64,
        );
        // `"load_error_contains"`: the case's script must fail to load with that text (the set then
        // holds no script and the login runs without it).
        match expect["load_error_contains"].as_str() {
            Some(want) if !set.errors.iter().any(|e| e.message.contains(want)) => {
                bad.push(format!(
                    "{case}: no load error with {want:?}: {:?}",
                    set.errors
                ));
                continue;
            }
            None if !set.errors.is_empty() => {
                bad.push(format!("{case}: load errors {:?}", set.errors));
                continue;
            }
            _ => {}
        }
        let set = Arc::new(set);
        // `"max_abandoned_workers"`: the case runs on an engine of its own with that cap.
        let own;
        let engine = match expect["max_abandoned_workers"].as_u64() {
            Some(cap) => {
                let config = EngineConfig {
                    workers: 1,
                    isolation,
                    max_abandoned_workers: cap as usize,
                    ..EngineConfig::for_test()
                };
                own = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
                &own
            }
            None => &shared_engine,
        };
        // `"engine": {...}` states the engine's own answer where the server's comes from a later
        // stage (the whole-token size limit is checked when the tokens are built).
        let want = expect.get("engine").unwrap_or(&expect);
        for i in 0..expect["repeat"].as_u64().unwrap_or(1) {
            let result = engine.run_login(set.clone(), input()).await;
            bad.extend(check(&case, &nth_expect(want, i as usize), &result));
        }
        // A refusal while wedged threads still run is temporary: poll until it passes.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let after = loop {
            let r = engine.run_login(probe.clone(), input()).await;
            match &r {
                Err(e)
                    if matches!(e.kind, ScriptErrorKind::Overloaded { .. })
                        && std::time::Instant::now() < until =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                _ => break r,
            }
        };
        if !matches!(&after, Ok(o) if o.verdict == Verdict::Allow) {
            bad.push(format!("{case}: the next normal login failed: {after:?}"));
        }
    }
    bad
}

#[tokio::test]
async fn hostile_fixture_suite_warm() {
    assert!(cases().len() >= 30);
    let bad = run_suite(Isolation::Warm).await;
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[tokio::test]
async fn hostile_fixture_suite_strict() {
    let bad = run_suite(Isolation::Strict).await;
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn reserved_claim_policy_reference() {
    for name in [
        "sub",
        "iss",
        "$x",
        "https://x.auth0.com/y",
        "https://a.webtask.io/z",
        "roles",
    ] {
        assert!(!allowed(name), "{name}");
    }
    for name in [
        "https://ns.example.com/roles",
        "plan",
        "https://auth0.com.example.org/x",
    ] {
        assert!(allowed(name), "{name}");
    }
}
