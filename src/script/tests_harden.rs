//! Tests of the sandbox's boundary against scripts that try to reach or change what other logins
//! share: the warm-mode hardening of every reachable intrinsic (including the hidden ones only a
//! built-in call returns), and `import()`, which must reach no module at all.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::tests_support::{TestHost, input, set_of};
use super::*;

/// The walker of `tests_harden.js` needs far more than a login's time in a debug build. `secrets`
/// reach it as `event.secrets` (`cap`: at most this many calls).
fn patient_engine(isolation: Isolation, secrets: Value) -> ScriptEngine {
    let config = EngineConfig {
        workers: 1,
        isolation,
        login_timeout: Duration::from_secs(120),
        memory_limit_bytes: 128 << 20,
        shared_secrets: secrets.as_object().unwrap().clone(),
        ..EngineConfig::for_test()
    };
    ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap()
}

fn claim(o: &Outcome, name: &str) -> Value {
    let found = o
        .effects
        .access_claims
        .iter()
        .rev()
        .find(|c| c.name == name);
    found.map(|c| c.value.clone()).unwrap_or(Value::Null)
}

async fn walk(isolation: Isolation, secrets: Value) -> Value {
    let set = set_of(&[], &[("walk", include_str!("tests_harden.js"))]);
    let engine = patient_engine(isolation, secrets);
    let outcome = engine.run_login(set, input()).await.unwrap();
    assert_eq!(outcome.verdict, Verdict::Allow, "{isolation:?}");
    claim(&outcome, "https://t/walk")
}

fn labels(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The Node globals' objects (built on first read, after hardening) the walk must reach: the
/// warm walk finds them frozen, the strict one changeable.
const NODE_LANDMARKS: [&str; 12] = [
    "%TypedArray.prototype%",
    "ArrayBuffer.prototype",
    "Buffer.prototype",
    "TextDecoder.prototype",
    "URL.prototype",
    "URLSearchParams iterator prototype",
    "AbortSignal.prototype",
    "EventTarget.prototype",
    "CryptoKey.prototype",
    "crypto.subtle",
    "process",
    "Timeout.prototype",
];

#[tokio::test]
async fn warm_mode_leaves_no_reachable_shared_object_changeable() {
    let w = walk(Isolation::Warm, json!({})).await;
    eprintln!(
        "walk: {} shared objects, {} receivers, {} calls in {} rounds",
        w["shared"], w["receivers"], w["calls"], w["rounds"]
    );
    assert_eq!(w["capped"], false, "{w}");
    assert!(w["shared"].as_u64().unwrap() > 500, "{w}");
    let reached = labels(&w, "reached");
    for hidden in [
        "%IteratorHelperPrototype%",
        "%WrapForValidIteratorPrototype%",
        "%ArrayIteratorPrototype%",
        "%MapIteratorPrototype%",
        "%RegExpStringIteratorPrototype%",
        "%GeneratorPrototype%",
        "%AsyncGeneratorPrototype%",
    ]
    .into_iter()
    .chain(NODE_LANDMARKS)
    {
        assert!(
            reached.iter().any(|r| r == hidden),
            "walk missed {hidden}: {w}"
        );
    }
    assert_eq!(w["badCount"], 0, "{:#}", w["bad"]);
}

/// Positive control: without hardening (strict mode) the same walk finds the hidden prototypes
/// writable, so a green warm run means hardened, not "walked nothing". (This full walk of an
/// unhardened context is also how the `Error.stackTraceLimit` leak below was found.)
#[tokio::test]
async fn the_walk_reports_the_hidden_prototypes_of_an_unhardened_context() {
    let w = walk(Isolation::Strict, json!({})).await;
    let bad = labels(&w, "badKnown");
    for hidden in [
        "%IteratorHelperPrototype%",
        "%WrapForValidIteratorPrototype%",
    ]
    .into_iter()
    .chain(NODE_LANDMARKS)
    {
        assert!(
            bad.iter().any(|b| b == hidden),
            "{hidden} not reported: {w}"
        );
    }
}

#[tokio::test]
async fn import_rejects_every_specifier_including_the_engines_own_modules() {
    let src = r#"exports.onExecutePostLogin = async (event, api) => {
      const out = {};
      for (const name of ['claimsmith:shim', 'imp', './imp', 'imp.js', 'fs', '']) {
        try { await import(name); out[name] = 'loaded'; } catch (e) { out[name] = String(e.message); }
      }
      api.accessToken.setCustomClaim('https://t/imports', out);
    };"#;
    let set = set_of(&[], &[("imp", src)]);
    for isolation in [Isolation::Warm, Isolation::Strict] {
        let engine = patient_engine(isolation, json!({}));
        let o = engine.run_login(set.clone(), input()).await.unwrap();
        let out = claim(&o, "https://t/imports");
        for (name, text) in out.as_object().unwrap() {
            assert_eq!(
                text,
                &json!(format!(
                    "Cannot find module '{name}' (claimsmith scripts cannot import modules)"
                )),
                "{isolation:?}: {out}"
            );
        }
        assert_eq!(out.as_object().unwrap().len(), 6);
    }
}

/// Two quickjs-ng leaks that `JS_FreeRuntime` asserts on (assertions are on in every
/// rquickjs-sys build), aborting the whole server: the `Error.stackTraceLimit` setter does not
/// free the value it replaces, and an error built while `Error.prepareStackTrace` holds a
/// non-function object leaks it. Strict mode frees a runtime after every login, and the
/// load-time shape check runs scripts unhardened.
#[tokio::test]
async fn error_stack_accessors_can_never_abort_the_process() {
    let leak = "try { Error.stackTraceLimit = {}; Error.stackTraceLimit = 1; } catch (e) {}\n\
        try { Error.prepareStackTrace = {}; new Error('x'); Error.prepareStackTrace = undefined; } catch (e) {}";
    let src = format!(
        "{leak}\nexports.onExecutePostLogin = async (event, api) => {{\n{leak}\n\
         api.accessToken.setCustomClaim('https://t/limit', Error.stackTraceLimit);\n}};"
    );
    let set = set_of(&[], &[("limit", &src)]);
    let ok = set_of(
        &[],
        &[("ok", "exports.onExecutePostLogin = async () => {};")],
    );
    for isolation in [Isolation::Strict, Isolation::Warm] {
        let engine = patient_engine(isolation, json!({}));
        let o = engine.run_login(set.clone(), input()).await.unwrap();
        // Strict: a number still sets the limit; warm: read-only, 10.
        let want = if isolation == Isolation::Strict {
            1
        } else {
            10
        };
        assert_eq!(claim(&o, "https://t/limit"), json!(want), "{isolation:?}");
        // One worker: its next reply comes after it freed the first login's runtime (strict) or
        // rebuilt its context for another set (warm).
        engine.run_login(ok.clone(), input()).await.unwrap();
        engine.run_login(set.clone(), input()).await.unwrap();
    }
}
