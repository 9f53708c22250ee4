//! Isolation between logins: warm keeps module scope, strict keeps nothing, hardened built-ins,
//! recycling, prepared contexts, no path to another login's globals; and the engine config defaults.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::tests_support::*;
use super::*;

#[tokio::test]
async fn warm_keeps_module_scope_strict_does_not() {
    let a = "let count = 0; exports.onExecutePostLogin = async (event, api) => { count++; globalThis.g = (globalThis.g || 0) + 1; api.accessToken.setCustomClaim('n', [count, globalThis.g]); };";
    let set = set_of(&[], &[("a", a)]);
    let warm = one_worker(Isolation::Warm, Arc::default());
    let strict = one_worker(Isolation::Strict, Arc::default());
    for i in 1..=3 {
        let o = warm.run_login(set.clone(), input()).await.unwrap();
        assert_eq!(claim(&o, "n"), Some(json!([i, i])));
        let o = strict.run_login(set.clone(), input()).await.unwrap();
        assert_eq!(claim(&o, "n"), Some(json!([1, 1])));
    }
    // A new set version gets a new context.
    let mut next = load_scripts(
        Path::new("/nonexistent"),
        Path::new("/nonexistent"),
        None,
        2,
    );
    next.actions = set.actions.clone();
    let o = warm.run_login(Arc::new(next), input()).await.unwrap();
    assert_eq!(claim(&o, "n"), Some(json!([1, 1])));
}

#[tokio::test]
async fn warm_contexts_are_recycled_after_n_runs_and_after_a_timeout() {
    let config = EngineConfig {
        workers: 1,
        recycle_after_runs: 2,
        ..EngineConfig::for_test()
    };
    let engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
    let a = "let count = 0; exports.onExecutePostLogin = async (event, api) => { count++; if (event.user.user_id === 'spin') while (true) {} api.accessToken.setCustomClaim('n', count); };";
    let set = set_of(&[], &[("a", a)]);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let o = engine.run_login(set.clone(), input()).await.unwrap();
        seen.push(claim(&o, "n").unwrap());
    }
    assert_eq!(seen, [json!(1), json!(2), json!(1), json!(2), json!(1)]);
    let mut spin = input();
    spin.user["user_id"] = json!("spin");
    assert_eq!(
        error_kind(engine.run_login(set.clone(), spin).await).0,
        ScriptErrorKind::Timeout
    );
    let o = engine.run_login(set, input()).await.unwrap();
    assert_eq!(claim(&o, "n"), Some(json!(1)), "recycled after the timeout");
}

#[tokio::test]
async fn warm_built_ins_are_frozen_and_poisoning_does_not_reach_the_next_login() {
    let engine = one_worker(Isolation::Warm, Arc::default());
    // Strict code, so that each refused write throws (sloppy code would ignore it silently).
    let a = act(r#"'use strict'; const tries = {
            map: () => { Array.prototype.map = () => 'poisoned'; },
            polluted: () => { Object.prototype.polluted = 1; },
            stringify: () => { JSON.stringify = () => 'poisoned'; },
            globalJSON: () => { globalThis.JSON = {}; },
            promiseThen: () => { Promise.prototype.then = null; },
            fnProto: () => { Object.getPrototypeOf(console.log).leak = 1; },
            defineProp: () => Object.defineProperty(Object.prototype, 'x', {value: 1}),
            setProto: () => Object.setPrototypeOf(Array.prototype, null),
            apiMutate: () => { api.access.deny = () => {}; },
            consoleMutate: () => { console.log = () => {}; },
        };
        const out = {};
        for (const k of Object.keys(tries)) { try { tries[k](); out[k] = 'changed'; } catch (e) { out[k] = e.name; } }
        class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
        const e = new MyError('m'); const o = {}; o.toString = () => 'own';
        out.override = [e.name, String(o), Error.prototype.name];
        api.accessToken.setCustomClaim('out', out);"#);
    let o = engine
        .run_login(set_of(&[], &[("poison", &a)]), input())
        .await
        .unwrap();
    let out = claim(&o, "out").unwrap();
    for (k, v) in out.as_object().unwrap() {
        if k == "override" {
            assert_eq!(v, &json!(["MyError", "own", "Error"]));
        } else {
            assert_eq!(v, "TypeError", "{k}");
        }
    }
}

/// An Action that reports, at each login, its module-scope run counter and what an earlier login
/// left behind, followed (same set, so the same context when warm) by one that poisons built-ins
/// and stashes a global. The report comes first, so it sees only what earlier logins did.
const LOOK_THEN_POISON: [(&str, &str); 2] = [
    (
        "b-poison",
        "exports.onExecutePostLogin = async () => { \
           try { Array.prototype.map = () => 'poisoned'; } catch (e) {} \
           try { Object.prototype.polluted = 1; } catch (e) {} \
           try { JSON.stringify = () => 'poisoned'; } catch (e) {} \
           globalThis.stash = (globalThis.stash || 0) + 1; };",
    ),
    (
        "a-look",
        "let runs = 0; exports.onExecutePostLogin = async (event, api) => { runs++; \
           api.accessToken.setCustomClaim('seen', [runs, globalThis.stash, \
             Array.prototype.map === MAP, ({}).polluted === undefined, JSON.stringify === STRINGIFY]); }; \
         const MAP = Array.prototype.map, STRINGIFY = JSON.stringify;",
    ),
];

/// Two logins of [`LOOK_THEN_POISON`] on one worker; the second login's report.
async fn second_look(isolation: Isolation, unhardened: bool) -> Value {
    let config = EngineConfig {
        workers: 1,
        isolation,
        unhardened_for_test: unhardened,
        ..EngineConfig::for_test()
    };
    let engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
    let set = set_of(&[], &LOOK_THEN_POISON);
    engine.run_login(set.clone(), input()).await.unwrap();
    let o = engine.run_login(set, input()).await.unwrap();
    claim(&o, "seen").unwrap()
}

#[tokio::test]
async fn warm_keeps_module_scope_and_globals_but_no_poisoned_built_in() {
    // runs 2 and stash 1: the second login ran in the same context as the first.
    assert_eq!(
        second_look(Isolation::Warm, false).await,
        json!([2, 1, true, true, true])
    );
}

#[tokio::test]
async fn strict_keeps_nothing_between_logins_of_the_same_set() {
    assert_eq!(
        second_look(Isolation::Strict, false).await,
        json!([1, null, true, true, true])
    );
}

/// Positive control of the two tests above: without `harden()`, the same warm run sees the first
/// login's poison, so those assertions do detect a leak.
#[tokio::test]
async fn warm_without_hardening_leaks_poison_to_the_next_login() {
    assert_eq!(
        second_look(Isolation::Warm, true).await,
        json!([2, 1, false, false, false])
    );
}

#[tokio::test]
async fn no_login_can_reach_another_logins_globals() {
    // Pitfall §8.1: with shared host-function prototypes, `console.log.constructor` reached the
    // first context's globals. Here every function's constructor is an eval-less Function.
    for iso in [Isolation::Warm, Isolation::Strict] {
        let engine = one_worker(iso, Arc::default());
        let a = act("globalThis.secretA = 'tenant A secret';");
        engine
            .run_login(set_of(&[], &[("a", &a)]), input())
            .await
            .unwrap();
        let b = act(r#"const out = [];
            for (const f of [() => console.log.constructor('return globalThis.secretA')(),
                             () => api.access.deny.constructor('return globalThis.secretA')(),
                             () => require.constructor('return globalThis.secretA')(),
                             () => globalThis.secretA]) {
              try { out.push(String(f())); } catch (e) { out.push(e.name); }
            }
            api.accessToken.setCustomClaim('out', out);"#);
        let o = engine
            .run_login(set_of(&[], &[("b", &b)]), input())
            .await
            .unwrap();
        assert_eq!(
            claim(&o, "out"),
            Some(json!(["TypeError", "TypeError", "TypeError", "undefined"])),
            "{iso:?}"
        );
    }
}

#[test]
fn config_defaults_and_isolation_names() {
    let c = EngineConfig::default();
    assert_eq!(c.isolation, Isolation::Warm);
    assert_eq!(c.login_timeout, std::time::Duration::from_secs(5));
    assert_eq!(
        (c.memory_limit_bytes, c.stack_size_bytes),
        (32 << 20, 512 << 10)
    );
    assert_eq!((c.recycle_after_runs, c.console_cap_bytes), (1000, 4096));
    assert_eq!(c.domain, "localhost");
    assert!(c.workers >= 1);
    assert_eq!(
        serde_json::from_str::<Isolation>("\"warm\"").unwrap(),
        Isolation::Warm
    );
    assert_eq!(
        serde_json::from_str::<Isolation>("\"strict\"").unwrap(),
        Isolation::Strict
    );
    assert!(serde_json::from_str::<Isolation>("\"Warm\"").is_err());
    assert!(ScriptSet::empty().rules.is_empty());
}

#[tokio::test]
async fn prepare_builds_warm_contexts_off_the_login_path() {
    let engine = one_worker(Isolation::Warm, Arc::default());
    let a = "let n = 0; exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('n', ++n); };";
    let set = set_of(&[], &[("a", a)]);
    engine.prepare(set.clone());
    let o = engine.run_login(set.clone(), input()).await.unwrap();
    assert_eq!(
        claim(&o, "n"),
        Some(json!(1)),
        "the prepared context ran no login"
    );
    let o = engine.run_login(set, input()).await.unwrap();
    assert_eq!(claim(&o, "n"), Some(json!(2)));
    // An empty set answers without touching a worker.
    let o = engine
        .run_login(Arc::new(ScriptSet::empty()), input())
        .await
        .unwrap();
    assert_eq!(o.verdict, Verdict::Allow);
}

#[tokio::test]
async fn warm_context_is_reused_with_rules_and_actions() {
    let engine = one_worker(Isolation::Warm, Arc::default());
    let r = rule("context.idToken.r = 1; callback(null, user, context);");
    let a = "let n = 0; exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('n', ++n); };";
    let set = set_of(&[("r", &r)], &[("a", a)]);
    for i in 1..=3 {
        let o = engine.run_login(set.clone(), input()).await.unwrap();
        assert_eq!(claim(&o, "n"), Some(json!(i)));
    }
}

#[tokio::test]
async fn no_legacy_regexp_statics_or_stack_hooks_carry_data_between_logins() {
    let engine = one_worker(Isolation::Warm, Arc::default());
    let a = act("const m = /(.+)@(.+)/.exec(event.user.email); \
         api.accessToken.setCustomClaim('probe', [typeof RegExp.$1, typeof RegExp.lastMatch, typeof RegExp.input, \
           typeof Error.prepareStackTrace, typeof Error.captureStackTrace, m[1]]);");
    let set = set_of(&[], &[("a", &a)]);
    let o = engine.run_login(set, input()).await.unwrap();
    let probe = claim(&o, "probe").unwrap();
    assert_eq!(probe[0], json!("undefined"), "{probe}");
    assert_eq!(probe[1], json!("undefined"), "{probe}");
    assert_eq!(probe[2], json!("undefined"), "{probe}");
    assert_eq!(probe[5], json!("ada"));
    // Error.prepareStackTrace, if the engine has the hook, is frozen in warm mode.
    let b = act(
        "try { Error.prepareStackTrace = () => 'hijacked'; } catch (e) {} api.accessToken.setCustomClaim('s', String(new Error('x').stack).includes('hijacked'));",
    );
    let o = engine
        .run_login(set_of(&[], &[("b", &b)]), input())
        .await
        .unwrap();
    assert_eq!(claim(&o, "s"), Some(json!(false)));
}
