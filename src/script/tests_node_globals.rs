//! The Node globals (`node_globals.js`, `node_web.js`, `node_host.rs`): known-answer vectors
//! printed by Node 20 (`node -e` over the same script, written here as data), in both isolation
//! modes, plus the boundary: no way to the host through any of them, and nothing built until a
//! script reads one.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::tests_support::*;
use super::*;

/// Runs `body` as an Action in both modes; it sets the access claim `out`, which must be the
/// same in both and is returned.
async fn node_out(body: &str) -> Value {
    let set = set_of(&[], &[("a", &act(body))]);
    let mut seen = Vec::new();
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set, iso).await;
        let o = match o {
            Ok(o) => o,
            Err(e) => panic!("{iso:?}: {e:?}"),
        };
        assert_eq!(o.verdict, Verdict::Allow, "{iso:?}: {o:?}");
        seen.push(claim(&o, "out").unwrap());
    }
    assert_eq!(seen[0], seen[1], "warm and strict differ");
    seen.remove(0)
}

/// What Node 20 printed for the same script (`tests_node/*.js`, run with `node` with its last
/// line printing `out` instead of setting a claim).
fn node_printed(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn text_atob_structured_clone_and_buffer_match_node() {
    let out = node_out(include_str!("tests_node/bytes.js")).await;
    assert_eq!(
        out,
        node_printed(include_str!("tests_node/bytes.node.json"))
    );
}

#[tokio::test]
async fn url_abort_crypto_and_process_match_node() {
    let mut out = node_out(include_str!("tests_node/web.js")).await;
    // The one difference: `process.nextTick` is a plain microtask here, so it runs before the
    // script's second `await null`; Node runs its tick queue only after the microtasks.
    assert_eq!(out["tick"], json!(["sync", "tick 12"]));
    out["tick"] = json!(["sync"]);
    assert_eq!(out, node_printed(include_str!("tests_node/web.node.json")));
}

/// Every way to the host a script could try through the Node globals: anything reachable from
/// them (values, prototypes, accessors, thrown errors, instances) that looks like a host function,
/// the functions on the stack while script code runs inside them (call sites' `getFunction`, in
/// strict isolation, including during the library's build; rquickjs host functions push no
/// frame), `caller`, and the compiler behind any function.
#[tokio::test]
async fn no_node_global_leads_to_the_host() {
    let set = set_of(&[], &[("a", &act(include_str!("tests_node/hostile.js")))]);
    for iso in [Isolation::Strict, Isolation::Warm] {
        let o = run(&set, iso).await.unwrap();
        assert_eq!(o.verdict, Verdict::Allow, "{iso:?}: {o:?}");
        let out = claim(&o, "out").unwrap();
        assert_eq!(out["leaks"], json!([]), "{iso:?}: {out}");
        assert_eq!(out["compilers"], json!([]), "{iso:?}: {out}");
        assert_eq!(out["hostLike"], json!([]), "{iso:?}: {out}");
        assert_eq!(out["reachedHostNames"], json!([]), "{iso:?}: {out}");
        let callers = out["callers"].as_array().unwrap();
        assert!(callers.len() >= 20, "{iso:?}: {out}");
        assert!(callers.iter().all(|c| c == "none"), "{iso:?}: {out}");
        if iso == Isolation::Strict {
            // The probe works: it saw native frames (built-ins such as `forEach`).
            assert!(out["nativeFrames"].as_u64().unwrap() > 0, "{out}");
        }
    }
}
