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

/// Runs `logins` warm logins of one Action in a sandbox built on this thread; returns how many
/// times the Node library was built meanwhile.
fn builds_during(body: &str, logins: usize) -> usize {
    use std::time::{Duration, Instant};

    use super::sandbox::{Deadline, Sandbox};
    let src = act(body);
    let bytecode = catalog::compile(ScriptKind::Action, "a", &src).unwrap();
    let scripts = [std::sync::Arc::new(catalog::Script::for_check(
        ScriptKind::Action,
        "a",
        bytecode.into(),
    ))];
    let env = tests_env();
    let deadline = Deadline::new();
    deadline.arm_at(Instant::now() + Duration::from_secs(10));
    let before = super::node_host::BUILDS.with(|b| b.get());
    let (mut sb, _) =
        Sandbox::build(&env, scripts.iter(), 1, &Arc::default(), true, &deadline).unwrap();
    for _ in 0..logins {
        let parts = ["transaction".to_owned(), "{}".to_owned()];
        let out = sb.run_login(&parts, None, 0, Default::default()).unwrap();
        assert_eq!(out.verdict, Verdict::Allow, "{out:?}");
    }
    deadline.disarm();
    super::node_host::BUILDS.with(|b| b.get()) - before
}

/// The cost when unused: a login that never reads a Node global never builds the library (only
/// the accessors exist, and listing or testing names does not read them); one that does builds
/// it once per context, not once per login.
#[test]
fn the_node_library_is_built_on_first_read_and_once_per_context() {
    let untouched = "if (!Object.getOwnPropertyNames(globalThis).includes('Buffer') || !('URL' in globalThis)) throw new Error('missing');";
    assert_eq!(builds_during(untouched, 3), 0);
    assert_eq!(
        builds_during("Buffer.from('x'); new URL('http://x/');", 3),
        1
    );
    assert_eq!(
        builds_during("if (typeof process !== 'object') throw 1;", 2),
        1
    );
}

/// Warm isolation: what one login does to the Node globals is refused and never seen by the
/// next login on the same context; strict: the names are ordinary writable globals, as in Node.
#[tokio::test]
async fn warm_logins_cannot_change_the_node_globals_for_the_next_one() {
    let tamper = r#"
      const tries = {
        global: () => { globalThis.Buffer = 1; },
        define: () => Object.defineProperty(globalThis, 'URL', { value: 1 }),
        static: () => { Buffer.from = () => 'evil'; },
        proto: () => { URL.prototype.toString = () => 'evil'; },
        method: () => { crypto.randomUUID = () => 'evil'; },
        env: () => { process.env.SECRET = 'evil'; },
        nested: () => { crypto.subtle.digest = null; },
        textProto: () => { Object.getPrototypeOf(new TextEncoder()).encode = null; },
        typedProto: () => { Object.getPrototypeOf(Uint8Array.prototype).map = null; },
        timerProto: () => { Object.getPrototypeOf(setTimeout(() => {}, 1)).ref = null; },
      };
      const out = {};
      for (const k of Object.keys(tries)) {
        try { tries[k](); out[k] = 'changed'; } catch (e) { out[k] = e.name; }
      }
      out.intact = [typeof Buffer.from('x'), String(new URL('http://x/')), crypto.randomUUID().length,
        process.env.SECRET === undefined, typeof crypto.subtle.digest, typeof new TextEncoder().encode,
        typeof new Uint8Array(1).map, typeof setImmediate(() => {}).ref];
      api.accessToken.setCustomClaim('out', out);"#;
    // Strict code, so that a refused assignment throws instead of doing nothing.
    let set = set_of(&[], &[("a", &format!("'use strict';\n{}", act(tamper)))]);
    let intact = json!([
        "object",
        "http://x/",
        36,
        true,
        "function",
        "function",
        "function",
        "function"
    ]);
    let warm = one_worker(Isolation::Warm, Default::default());
    for _ in 0..2 {
        let o = warm.run_login(set.clone(), input()).await.unwrap();
        let out = claim(&o, "out").unwrap();
        for (k, v) in out.as_object().unwrap() {
            if k == "intact" {
                assert_eq!(v, &intact);
            } else {
                assert_eq!(v, "TypeError", "{k}: {out}");
            }
        }
    }
    let strict = "'use strict';\nglobalThis.Buffer = 1; URL.prototype.toString = () => 'mine';\n\
        api.accessToken.setCustomClaim('out', [Buffer, String(new URL('http://x/'))]);";
    let o = run(&set_of(&[], &[("a", &act(strict))]), Isolation::Strict).await;
    assert_eq!(claim(&o.unwrap(), "out").unwrap(), json!([1, "mine"]));
}

#[tokio::test]
async fn strict_contexts_install_typed_arrays_only_when_a_script_reads_one() {
    let a = act(
        "const before = typeof Object.getOwnPropertyDescriptor(globalThis, 'Uint8Array').get; \
         const n = new Uint8Array([1, 2, 3]).length + new DataView(new ArrayBuffer(4)).byteLength; \
         const after = Object.getOwnPropertyDescriptor(globalThis, 'Float64Array'); \
         api.accessToken.setCustomClaim('t', [before, n, typeof after.get, typeof after.value, typeof Atomics, Buffer.from('hi').toString('hex')]);",
    );
    let set = set_of(&[], &[("a", &a)]);
    let o = run(&set, Isolation::Strict).await.unwrap();
    assert_eq!(
        claim(&o, "t").unwrap(),
        json!(["function", 7, "undefined", "function", "object", "6869"])
    );
    // Warm contexts have them from the start (and frozen, like every built-in).
    let o = run(&set, Isolation::Warm).await.unwrap();
    assert_eq!(
        claim(&o, "t").unwrap(),
        json!(["undefined", 7, "undefined", "function", "object", "6869"])
    );
    // A strict login whose first use is Buffer (built on Uint8Array) gets them too.
    let b = act(
        "api.accessToken.setCustomClaim('b', [Buffer.alloc(2).length, Buffer.from('x') instanceof Uint8Array]);",
    );
    let o = run(&set_of(&[], &[("b", &b)]), Isolation::Strict)
        .await
        .unwrap();
    assert_eq!(claim(&o, "b").unwrap(), json!([2, true]));
}

#[tokio::test]
async fn a_strict_script_that_pins_atomics_cannot_abort_the_process() {
    // quickjs-ng aborts when it installs Atomics over an existing property (sandbox.rs).
    let a = act(
        "Object.defineProperty(globalThis, 'Atomics', { value: 1, configurable: false }); \
         let r; try { r = typeof Uint8Array; } catch (e) { r = e.name + ': ' + e.message; } \
         api.accessToken.setCustomClaim('r', r);",
    );
    let o = run(&set_of(&[], &[("a", &a)]), Isolation::Strict)
        .await
        .unwrap();
    assert_eq!(
        claim(&o, "r").unwrap(),
        json!("TypeError: the typed arrays cannot be installed: this login redefined Atomics")
    );
    let b = act(
        "globalThis.Atomics = 5; api.accessToken.setCustomClaim('r', [new Uint8Array(2).length, typeof Atomics]);",
    );
    let o = run(&set_of(&[], &[("b", &b)]), Isolation::Strict)
        .await
        .unwrap();
    assert_eq!(claim(&o, "r").unwrap(), json!([2, "object"]));
}

#[tokio::test]
async fn timers_fire_in_nodes_order() {
    let out = node_out(include_str!("tests_node/timers.js")).await;
    assert_eq!(
        out,
        node_printed(include_str!("tests_node/timers.node.json"))
    );
}

/// The login's deadline bounds the wait for a timer; a timer still pending when a login ends
/// never fires, not even in the next login of a warm context (nor one a script's top level set);
/// an error thrown by a timer fails
/// the login (500, naming the script), as an uncaught error ends a Node process.
#[tokio::test]
async fn timers_end_with_the_login() {
    let far = act("await new Promise((r) => setTimeout(r, 60000)); api.access.deny('waited');");
    let started = std::time::Instant::now();
    let (kind, _) = error_kind(action(&far).await);
    assert_eq!(kind, ScriptErrorKind::Timeout);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    // `late` (a warm global) counts the runs of a timer each login leaves pending.
    let pending_at_end = act("const late = globalThis.late || (globalThis.late = []);\n\
        const before = late.length;\n\
        await new Promise((r) => setTimeout(r, 20));\n\
        setTimeout(() => late.push('ran'), 1);\n\
        api.accessToken.setCustomClaim('out', [before, late.length]);");
    let set = set_of(&[], &[("a", &pending_at_end)]);
    let warm = one_worker(Isolation::Warm, Default::default());
    for _ in 0..3 {
        // Had the first login's timer survived, it was due during the next login's 20 ms wait.
        let o = warm.run_login(set.clone(), input()).await.unwrap();
        assert_eq!(claim(&o, "out").unwrap(), json!([0, 0]));
    }

    // A timer set by a script's top level (when the context is built) belongs to no login.
    let top = "globalThis.topRan = false; setTimeout(() => { globalThis.topRan = true; }, 1);\n"
        .to_owned()
        + &act(
            "await new Promise((r) => setTimeout(r, 20)); api.accessToken.setCustomClaim('out', topRan);",
        );
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set_of(&[], &[("a", &top)]), iso).await.unwrap();
        assert_eq!(claim(&o, "out").unwrap(), json!(false), "{iso:?}");
    }

    let throws = act(
        "await new Promise((r) => { setTimeout(() => { throw new Error('in a timer'); }, 1); setTimeout(r, 10); });",
    );
    let (kind, script) = error_kind(action(&throws).await);
    assert_eq!(kind, ScriptErrorKind::Engine("in a timer".into()));
    assert_eq!(script.as_deref(), Some("a"));
}

/// The typed arrays, `Proxy` and `Atomics` come from the engine's intrinsics; `Atomics.wait`
/// throws instead of blocking the worker (the runtime may never block).
#[tokio::test]
async fn typed_arrays_proxy_and_atomics_work_and_nothing_blocks() {
    let out = node_out(
        "const dv = new DataView(new ArrayBuffer(8)); dv.setFloat64(0, Math.PI);\n\
         const p = new Proxy({}, { get: (t, k) => 'got ' + String(k), has: () => true });\n\
         let wait;\n\
         try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); wait = 'blocked'; } catch (e) { wait = e.name; }\n\
         api.accessToken.setCustomClaim('out', [Array.from(new Uint8Array(dv.buffer)), p.x, 'y' in p,\n\
           Array.from(new Float32Array([1.5, -2])), new BigUint64Array([2n ** 64n - 1n])[0].toString(), wait,\n\
           Atomics.add(new Int32Array(new SharedArrayBuffer(4)), 0, 5), Reflect.ownKeys({ a: 1 })]);",
    )
    .await;
    assert_eq!(
        out,
        json!([
            [64, 9, 33, 251, 84, 68, 45, 24],
            "got x",
            true,
            [1.5, -2],
            "18446744073709551615",
            "TypeError",
            0,
            ["a"]
        ])
    );
}

#[tokio::test]
async fn buffer_edges_match_node() {
    let out = node_out(include_str!("tests_node/buffer.js")).await;
    assert_eq!(
        out,
        node_printed(include_str!("tests_node/buffer.node.json"))
    );
}

/// `process.env` holds `[scripts.process_env]` and nothing else, frozen in both modes.
#[tokio::test]
async fn process_env_is_the_configured_map() {
    let body = "'use strict';\nlet wrote;\ntry { process.env.NODE_ENV = 'x'; wrote = 'yes'; } catch (e) { wrote = e.name; }\n\
        api.accessToken.setCustomClaim('out', [process.env, wrote, process.env.PATH === undefined]);";
    let set = set_of(&[], &[("a", &act(body))]);
    for isolation in [Isolation::Warm, Isolation::Strict] {
        let config = EngineConfig {
            isolation,
            process_env: [("NODE_ENV".to_owned(), "production".to_owned())].into(),
            ..EngineConfig::for_test()
        };
        let engine = ScriptEngine::start(config, std::sync::Arc::new(TestHost::default())).unwrap();
        let o = engine.run_login(set.clone(), input()).await.unwrap();
        assert_eq!(
            claim(&o, "out").unwrap(),
            json!([{"NODE_ENV": "production"}, "TypeError", true]),
            "{isolation:?}"
        );
    }
}

/// Rules' callback style: a Rule that calls back from a timer finishes when the timer runs. A
/// script that replaces `Date.now` (strict isolation) cannot make the driver misbehave: a timer
/// due "never" ends at the deadline.
#[tokio::test]
async fn a_rule_can_call_back_from_a_timer_and_date_now_cannot_break_the_wait() {
    let r = rule(
        "setTimeout(() => { context.idToken.t = 'later'; callback(null, user, context); }, 5);",
    );
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set_of(&[("r", &r)], &[]), iso).await.unwrap();
        assert_eq!(id_claim(&o, "t").unwrap(), json!("later"), "{iso:?}");
    }
    for now in ["NaN", "Infinity", "-Infinity", "1e308"] {
        let a = act(&format!(
            "const real = Date.now;\n\
             await new Promise((r) => {{ Date.now = () => {now}; setTimeout(r, 5); Date.now = real; }});"
        ));
        let r = run(&set_of(&[], &[("a", &a)]), Isolation::Strict).await;
        // Due at NaN or -Infinity: now; at Infinity or 1e308: never (a wait no Duration holds).
        if now == "NaN" || now == "-Infinity" {
            assert_eq!(r.unwrap().verdict, Verdict::Allow, "{now}");
        } else {
            assert_eq!(error_kind(r).0, ScriptErrorKind::Timeout, "{now}");
        }
    }
}

#[tokio::test]
async fn tricky_urls_parse_as_in_node() {
    let out = node_out(include_str!("tests_node/url.js")).await;
    assert_eq!(out, node_printed(include_str!("tests_node/url.node.json")));
}
