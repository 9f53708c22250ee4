//! Tests of the watchdog's cap on abandoned threads: a built-in that ignores the interrupt
//! handler wedges its worker past the deadline; the thread cannot be killed, so the engine counts
//! it until it ends and refuses logins while `max_abandoned_workers` of them run.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::tests::{TestHost, input, set_of};
use super::*;

/// `join` over holes never polls the interrupt handler (RUNTIME-NOTES §1.2). 2^27 elements take
/// 1-3 s: long past the 300 ms test deadline, yet the thread ends within the test.
const WEDGE: &str = "exports.onExecutePostLogin = async () => { new Array(2 ** 27).join(''); };";

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
