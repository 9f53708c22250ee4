//! The names a script can see: the exact set of globals for Actions and Rules in both modes, no
//! host object, no compiler reachable from any function, and `require`'s documented error.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::tests_support::*;
use super::*;

/// The ECMAScript built-ins of the sandbox's intrinsics, the shim's `console`, `require` and
/// `global`, and the Node globals of `node_globals.js`/`node_web.js` (sorted as the test sorts).
const STANDARD_GLOBALS: &[&str] = &[
    "AbortController",
    "AbortSignal",
    "AggregateError",
    "Array",
    "ArrayBuffer",
    "AsyncDisposableStack",
    "Atomics",
    "BigInt",
    "BigInt64Array",
    "BigUint64Array",
    "Boolean",
    "Buffer",
    "CryptoKey",
    "DataView",
    "Date",
    "DisposableStack",
    "Error",
    "EvalError",
    "Event",
    "EventTarget",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "FormData",
    "Function",
    "Headers",
    "Infinity",
    "Int16Array",
    "Int32Array",
    "Int8Array",
    "InternalError",
    "Iterator",
    "JSON",
    "Map",
    "Math",
    "NaN",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "RangeError",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "Request",
    "Response",
    "Set",
    "SharedArrayBuffer",
    "String",
    "SuppressedError",
    "Symbol",
    "Symbol(Symbol.toStringTag)",
    "SyntaxError",
    "TextDecoder",
    "TextEncoder",
    "TypeError",
    "URIError",
    "URL",
    "URLSearchParams",
    "Uint16Array",
    "Uint32Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "WeakMap",
    "WeakSet",
    "atob",
    "btoa",
    "clearImmediate",
    "clearInterval",
    "clearTimeout",
    "console",
    "crypto",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "fetch",
    "global",
    "globalThis",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "process",
    "queueMicrotask",
    "require",
    "setImmediate",
    "setInterval",
    "setTimeout",
    "structuredClone",
    "undefined",
    "unescape",
];

#[tokio::test]
async fn exact_global_names_for_actions_and_rules_in_both_modes() {
    let names = "Object.getOwnPropertyNames(globalThis).concat(Object.getOwnPropertySymbols(globalThis).map(String)).sort()";
    let a = act(&format!("api.accessToken.setCustomClaim('g', {names});"));
    let r = rule(&format!(
        "context.idToken.g = {names}; context.idToken.lexical = [typeof configuration, typeof global, typeof auth0, typeof UnauthorizedError, typeof module, typeof exports, typeof __dirname, typeof require]; callback(null, user, context);"
    ));
    let set = set_of(&[("r", &r)], &[("a", &a)]);
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set, iso).await.unwrap();
        assert_eq!(claim(&o, "g").unwrap(), json!(STANDARD_GLOBALS), "{iso:?}");
        assert_eq!(
            id_claim(&o, "g").unwrap(),
            json!(STANDARD_GLOBALS),
            "{iso:?}"
        );
        assert_eq!(
            id_claim(&o, "lexical").unwrap(),
            json!([
                "object",
                "object",
                "object",
                "function",
                "undefined",
                "undefined",
                "undefined",
                "function"
            ])
        );
    }
    // Absent on purpose: no compiler, no I/O (`fetch` & co.), no high-resolution
    // clock, no host object of quickjs-libc (`std`, `os`, `print`, `scriptArgs`...) or a browser,
    // no DOMException (the Node globals' errors are `Error`s with its names). Each is
    // looked up as a bare identifier (so a binding leaked by the shim's own scope would show) and
    // on `globalThis`'s prototype chain (`in`), from an Action and a Rule, in both modes.
    let probe = HOST_NAMES
        .iter()
        .map(|n| format!("[typeof {n}, '{n}' in globalThis]"))
        .collect::<Vec<_>>()
        .join(", ");
    let a = act(&format!("api.accessToken.setCustomClaim('t', [{probe}]);"));
    let r = rule(&format!(
        "context.idToken.t = [{probe}]; callback(null, user, context);"
    ));
    let set = set_of(&[("r", &r)], &[("a", &a)]);
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set, iso).await.unwrap();
        for got in [claim(&o, "t").unwrap(), id_claim(&o, "t").unwrap()] {
            for (name, v) in HOST_NAMES.iter().zip(got.as_array().unwrap()) {
                assert_eq!(
                    v,
                    &json!(["undefined", false]),
                    "{iso:?}: {name} is reachable"
                );
            }
        }
    }
    // Positive control: the same probe does see a binding that exists only in a script's lexical
    // scope (an Action's `exports`, and its module's `__dirname` as in Node), and a global
    // (`require`).
    let o = action(&act(
        "api.accessToken.setCustomClaim('t', [[typeof exports, 'exports' in globalThis], [typeof __dirname, '__dirname' in globalThis], [typeof require, 'require' in globalThis]]);",
    ))
    .await
    .unwrap();
    assert_eq!(
        claim(&o, "t").unwrap(),
        json!([["object", false], ["string", false], ["function", true]])
    );
}

/// Host globals a leaky sandbox would expose (Node, quickjs-libc, browsers, engine extras).
const HOST_NAMES: &[&str] = &[
    "eval",
    "WeakRef",
    "FinalizationRegistry",
    "WebAssembly",
    "performance",
    "DOMException",
    "Blob",
    "XMLHttpRequest",
    "std",
    "os",
    "print",
    "scriptArgs",
    "gc",
    "bjson",
    "navigator",
    "window",
    "self",
    "Deno",
    "Bun",
];

#[tokio::test]
async fn no_compiler_is_reachable_from_any_function() {
    let o = action(&act(
        r#"const tries = {
            Function: () => Function('return this')(),
            arrow: () => (() => {}).constructor('return 1')(),
            async: () => (async () => {}).constructor('return 1')(),
            generator: () => (function* () {}).constructor('return 1')(),
            consoleLog: () => console.log.constructor('return globalThis')(),
            deny: () => api.access.deny.constructor('return 1')(),
            require: () => require.constructor('return 1')(),
            importExpr: () => import('x'),
        };
        const out = {};
        for (const k of Object.keys(tries)) {
            try { const r = tries[k](); out[k] = r && typeof r.then === 'function' ? 'promise' : 'ran'; }
            catch (e) { out[k] = e.name + ': ' + e.message; }
        }
        api.accessToken.setCustomClaim('out', out);"#,
    ))
    .await
    .unwrap();
    let out = claim(&o, "out").unwrap();
    for (k, v) in out.as_object().unwrap() {
        let v = v.as_str().unwrap();
        if k == "importExpr" {
            assert_eq!(v, "promise", "import() returns a promise that rejects");
        } else {
            // README "Globals": the compiler is absent, and reaching for it throws `TypeError`.
            assert!(
                v.starts_with("TypeError: ") && v.contains("not supported"),
                "{k}: {v}"
            );
        }
    }
    let r = action(&act("await import('fs');")).await;
    assert!(deny_text(&r).contains("fs"), "{r:?}");
}

#[tokio::test]
async fn require_of_a_host_module_throws_the_documented_error() {
    for (m, text) in [
        (
            "fs",
            "The Node.js module 'fs' is not available in claimsmith",
        ),
        (
            "node:child_process",
            "The Node.js module 'child_process' is not available in claimsmith",
        ),
        ("node:nope", "No such built-in module: node:nope"),
        // An Action has no versioned form, and no package is installed.
        ("axios@1.0.0", "Cannot find module 'axios@1.0.0'"),
        ("./lib/x", "Cannot find module './lib/x'"),
    ] {
        let r = action(&act(&format!("require('{m}');"))).await;
        assert_eq!(deny_text(&r), text);
    }
}
