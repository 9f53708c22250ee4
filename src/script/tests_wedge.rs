//! Tests of the watchdog's cap on abandoned threads: a built-in that ignores the interrupt
//! handler wedges its worker past the deadline; the thread cannot be killed, so the engine counts
//! it until it ends and refuses logins while `max_abandoned_workers` of them run.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::tests_support::{TestHost, input, set_of};
use super::*;

/// `join` over holes never polls the interrupt handler (RUNTIME-NOTES §1.2). 2^27 elements take
/// 1-3 s: long past the 300 ms test deadline, yet the thread ends within the test.
pub(super) const WEDGE: &str =
    "exports.onExecutePostLogin = async () => { new Array(2 ** 27).join(''); };";

#[tokio::test]
async fn past_the_cap_logins_are_refused_until_the_abandoned_thread_ends() {
    let config = EngineConfig {
        workers: 1,
        max_abandoned_workers: 1,
        ..EngineConfig::for_test()
    };
    let engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
    let wedge = set_of(&[], &[("wedge", WEDGE)]);
    let first = engine.run_login(wedge.clone(), input()).await.unwrap_err();
    assert_eq!(first.kind, ScriptErrorKind::Timeout);
    assert_eq!(engine.abandoned_workers().len(), 1);
    // At the cap: refused at once, without running (or wedging) anything.
    let second = engine.run_login(wedge, input()).await.unwrap_err();
    assert_eq!(
        second.kind,
        ScriptErrorKind::Overloaded { retry_after_s: 1 },
        "{second}"
    );
    assert!(second.public_description().contains("overloaded"));
    // The abandoned thread ends when its `join` returns; it is no longer counted, and logins run.
    let until = Instant::now() + Duration::from_secs(120);
    while !engine.abandoned_workers().is_empty() {
        assert!(Instant::now() < until, "the wedged thread never ended");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ok = set_of(
        &[],
        &[("ok", "exports.onExecutePostLogin = async () => {};")],
    );
    engine.run_login(ok, input()).await.unwrap();
    engine.shutdown();
}

/// Measures which `Array.prototype` built-ins ignore the interrupt handler (RUNTIME-NOTES §1.2):
/// each runs on 2^24 holes, as an array and as an array-like, under a 20 ms deadline; a built-in
/// that polls stops at the deadline, one that does not runs to its end (its worker is abandoned).
/// `cargo test --lib script::tests_wedge::measure -- --ignored --nocapture`
///
/// Measured with quickjs-ng 0.16.2 (2^24 holes, 20 ms deadline): `join`, `toString`,
/// `toLocaleString`, `reverse`, `toReversed`, `sort`, `toSorted`, `copyWithin`, `fill`, `splice`,
/// `toSpliced`, `shift`, `unshift`, `slice`, `concat`, `flat` and `with` ran 0.2-4 s to their end;
/// `includes`, `indexOf`, `lastIndexOf`, `every`, `some`, `forEach`, `map`, `filter`, `reduce`,
/// `find` and `findLast` stopped at 20-24 ms. They are not wrapped with a length guard in the
/// shim: `sort` on a dense array that fits the memory limit still costs n·log n string
/// comparisons (seconds) whatever its length cap, so the cap on abandoned threads stays the
/// bound; wrapping 17 built-ins would also make them JS functions (their `toString`, stack
/// frames) and put a call in front of every `join`.
#[tokio::test]
#[ignore]
#[allow(clippy::print_stdout)]
async fn measure_which_builtins_ignore_the_deadline() {
    let config = EngineConfig {
        workers: 1,
        login_timeout: Duration::from_millis(20),
        memory_limit_bytes: 512 << 20,
        max_abandoned_workers: 64,
        ..EngineConfig::for_test()
    };
    let engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
    let calls = [
        "join('')",
        "toString()",
        "toLocaleString()",
        "reverse()",
        "toReversed()",
        "sort()",
        "toSorted()",
        "copyWithin(0, 1)",
        "fill(undefined)",
        "splice(0, 1)",
        "toSpliced(0, 1)",
        "shift()",
        "unshift(1)",
        "slice(0)",
        "concat([1])",
        "flat()",
        "includes(1)",
        "indexOf(1)",
        "lastIndexOf(1)",
        "every(() => true)",
        "some(() => false)",
        "forEach(() => {})",
        "map((x) => x)",
        "filter(() => true)",
        "reduce((a) => a, 0)",
        "find(() => false)",
        "findLast(() => false)",
        "with(0, 1)",
        "keys().next()",
    ];
    for call in calls {
        for (what, this) in [
            ("array", "new Array(2 ** 24)"),
            ("array-like", "({ length: 2 ** 24 })"),
        ] {
            let (method, args) = call.split_once('(').unwrap();
            let src = format!(
                "exports.onExecutePostLogin = async () => {{ Array.prototype.{method}.call({this}, {args}; }};"
            );
            let set = set_of(&[], &[("m", &src)]);
            let t = Instant::now();
            let r = engine.run_login(set, input()).await;
            while !engine.abandoned_workers().is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let kind = r
                .map(|_| "finished".to_string())
                .unwrap_or_else(|e| format!("{:?}", e.kind));
            println!(
                "{call:>22} on {what:>10}: {:>7.0} ms ({kind})",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}
