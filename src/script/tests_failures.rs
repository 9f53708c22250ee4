//! Failures and limits: timeouts, never-settled promises, out of memory, deep recursion, a wedged
//! worker, a panicking host, and shutdown; after each, the engine still serves.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::json;

use super::tests_support::*;
use super::*;

/// A login that must succeed on an engine after something hostile happened on it. It runs a set of
/// its own, hence a new context: it shows the engine still serves, not that nothing leaked (that
/// is `second_look` in `tests_isolation.rs` and the hostile suite's probe in `tests/it/hostile.rs`).
async fn still_serves(engine: &ScriptEngine) {
    let a = act(
        "if (Object.prototype.polluted !== undefined || [1].map((x) => x + 1)[0] !== 2 || JSON.stringify({a: 1}) !== '{\"a\":1}' \
             || typeof globalThis.leak !== 'undefined') throw new Error('state leaked'); \
         api.accessToken.setCustomClaim('ok', true);",
    );
    let o = engine
        .run_login(set_of(&[], &[("probe", &a)]), input())
        .await
        .unwrap();
    assert_eq!(claim(&o, "ok"), Some(json!(true)));
}

#[tokio::test]
async fn timeouts_are_reported_by_kind_and_script_then_the_engine_recovers() {
    let engine = one_worker(Isolation::Warm, Arc::default());
    let cases = [
        "while (true) {}",
        "for (;;) { try { while (true) {} } catch (e) {} }",
        "for (;;) await null;",
        "const tick = () => queueMicrotask(tick); tick(); await new Promise(() => {});",
        "/(a+)+$/.test('a'.repeat(40) + 'b');",
        "await new Promise(() => { while (true) {} });",
    ];
    for body in cases {
        let set = set_of(&[], &[("slow", &act(body))]);
        let r = engine.run_login(set, input()).await;
        assert_eq!(
            error_kind(r),
            (ScriptErrorKind::Timeout, Some("slow".into())),
            "{body}"
        );
        still_serves(&engine).await;
    }
    let set = set_of(&[("r", &rule("while (true) {}"))], &[]);
    assert_eq!(
        error_kind(engine.run_login(set, input()).await).0,
        ScriptErrorKind::Timeout
    );
    still_serves(&engine).await;
}

#[tokio::test]
async fn a_promise_that_never_settles_is_never_settled() {
    let r = action(&act("await new Promise(() => {});")).await;
    assert_eq!(
        error_kind(r),
        (ScriptErrorKind::NeverSettled, Some("a".into()))
    );
}

#[tokio::test]
async fn floating_work_is_cut_off_at_the_end_of_the_login() {
    let engine = one_worker(Isolation::Warm, Arc::default());
    let a =
        act("(async () => { for (;;) await null; })(); api.accessToken.setCustomClaim('done', 1);");
    let o = engine
        .run_login(set_of(&[], &[("a", &a)]), input())
        .await
        .unwrap();
    assert_eq!(claim(&o, "done"), Some(json!(1)));
    still_serves(&engine).await;
}

#[tokio::test]
async fn out_of_memory_discards_the_runtime() {
    let engine = one_worker(Isolation::Warm, Arc::default());
    // A transient bomb (only reachable from the failing frame) sometimes leaves QuickJS unable to
    // build the "out of memory" error: it throws null, the frame unwinds and frees the heap, and
    // nothing distinguishes that from a script's own `throw null` (known imprecision: a 403 "null").
    let r = engine
        .run_login(
            set_of(
                &[],
                &[(
                    "bomb",
                    &act("const a = []; for (;;) a.push(new Array(1 << 16).fill(a.length));"),
                )],
            ),
            input(),
        )
        .await;
    match &r {
        Err(e) => assert_eq!(e.kind, ScriptErrorKind::OutOfMemory),
        Ok(o) => assert_eq!(o.verdict, Verdict::Deny("null".into())),
    }
    still_serves(&engine).await;
    let bombs = [
        "globalThis.leak = []; for (;;) globalThis.leak.push(new Array(1 << 16).fill(1));",
        "const keep = globalThis.keep = []; for (;;) keep.push('x'.repeat(1 << 16) + keep.length);",
        "const a = [new Array(1 << 20).fill(0)];",
    ];
    for body in bombs {
        let r = engine
            .run_login(set_of(&[], &[("bomb", &act(body))]), input())
            .await;
        assert_eq!(
            error_kind(r),
            (ScriptErrorKind::OutOfMemory, Some("bomb".into())),
            "{body}"
        );
        still_serves(&engine).await;
    }
    // A runaway promise chain ends at whichever limit it reaches first, and QuickJS reports an
    // out-of-memory inside the job machinery imprecisely: dropped silently (never settled) or as
    // a rejection with `null` after the heap was freed (a 403 "null"). Any of these is accepted;
    // what matters is that the engine recovers.
    let chain = act("const loop = () => Promise.resolve().then(loop); await loop();");
    let r = engine
        .run_login(set_of(&[], &[("chain", &chain)]), input())
        .await;
    match &r {
        Err(e) => assert!(
            matches!(
                e.kind,
                ScriptErrorKind::OutOfMemory
                    | ScriptErrorKind::Timeout
                    | ScriptErrorKind::NeverSettled
            ),
            "{e:?}"
        ),
        Ok(o) => assert_eq!(o.verdict, Verdict::Deny("null".into())),
    }
    still_serves(&engine).await;
}

#[tokio::test]
async fn deep_recursion_is_a_catchable_range_error() {
    let r = action(&act("const f = (n) => f(n + 1) + 1; f(0);")).await;
    assert!(deny_text(&r).contains("stack"), "{r:?}");
    let o = action(&act(
        "const f = (n) => f(n + 1) + 1; try { f(0); } catch (e) { api.accessToken.setCustomClaim('caught', e.name); }",
    ))
    .await
    .unwrap();
    assert_eq!(claim(&o, "caught"), Some(json!("RangeError")));
}

#[tokio::test]
async fn a_wedged_worker_is_replaced_and_the_login_answers_timeout() {
    // `join` never polls the interrupt handler (RUNTIME-NOTES §1.2): only the watchdog answers.
    // The wedge is sized against the deadline, not against this machine: 2^27 holes cost at least
    // ~5 ns each on any CPU (a property miss through two prototypes), 0.6 s or more, against a
    // 50 ms deadline; here they take 1-3 s, and the abandoned thread then ends.
    let config = EngineConfig {
        workers: 1,
        login_timeout: std::time::Duration::from_millis(50),
        ..EngineConfig::for_test()
    };
    let engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
    let set = set_of(&[], &[("wedge", super::tests_wedge::WEDGE)]);
    let r = engine.run_login(set, input()).await;
    assert_eq!(
        error_kind(r),
        (ScriptErrorKind::Timeout, Some("wedge".into()))
    );
    assert_eq!(engine.abandoned_workers().len(), 1, "the worker was wedged");
    still_serves(&engine).await; // served by the replacement thread
    engine.shutdown(); // and shutting down does not wait for the wedged one
}

#[tokio::test]
async fn a_panicking_host_is_worker_crashed_and_never_resurfaces() {
    let host = Arc::new(TestHost {
        panic: true,
        ..TestHost::default()
    });
    // Printing the panic's backtrace can take longer than the 300 ms test deadline.
    let config = EngineConfig {
        workers: 1,
        login_timeout: std::time::Duration::from_secs(10),
        ..EngineConfig::for_test()
    };
    let engine = ScriptEngine::start(config, host).unwrap();
    // The script swallows the failure; the panic must neither be hidden nor parked for later.
    let r = rule(
        "auth0.users.updateAppMetadata(user.user_id, {a: 1}).catch(() => {}).then(() => callback(null, user, context));",
    );
    let set = set_of(&[("r", &r)], &[]);
    assert_eq!(
        error_kind(engine.run_login(set, input()).await),
        (ScriptErrorKind::WorkerCrashed, Some("r".into()))
    );
    for _ in 0..3 {
        still_serves(&engine).await;
        let a = act("try { null.x; } catch (e) {} throw new Error('plain');");
        assert_eq!(
            deny_text(&engine.run_login(set_of(&[], &[("a", &a)]), input()).await),
            "plain"
        );
    }
}

#[tokio::test]
async fn shutdown_refuses_new_logins_without_hanging() {
    let engine = engine_with(Isolation::Warm);
    still_serves(&engine).await;
    engine.shutdown();
    let r = engine
        .run_login(set_of(&[], &[("a", &act(""))]), input())
        .await;
    assert!(
        matches!(
            r,
            Err(ScriptError {
                kind: ScriptErrorKind::Engine(_),
                ..
            })
        ),
        "{r:?}"
    );
}
