//! Engine tests through the public API: tiny scripts written to a temp dir, loaded with
//! `load_scripts` and run with `ScriptEngine::run_login`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::*;

type Patch = (String, MetadataKind, Map<String, Value>);

#[derive(Default)]
pub(super) struct TestHost {
    pub patches: Mutex<Vec<Patch>>,
    pub panic: bool,
}

impl Host for TestHost {
    fn patch_metadata(
        &self,
        user_id: &str,
        kind: MetadataKind,
        patch: &Map<String, Value>,
    ) -> Result<(), String> {
        if self.panic {
            panic!("test host panics");
        }
        if user_id == "fail" {
            return Err("no such user".into());
        }
        self.patches
            .lock()
            .unwrap()
            .push((user_id.into(), kind, patch.clone()));
        Ok(())
    }
}

pub(super) fn input() -> LoginInput {
    let map = |v: Value| v.as_object().unwrap().clone();
    LoginInput {
        user: json!({"user_id": "auth0|1", "email": "ada@example.com", "email_verified": true,
                     "name": "Ada", "app_metadata": {"plan": "pro"}, "user_metadata": {"lang": "en"},
                     "identities": [{"connection": "db", "isSocial": false, "provider": "auth0", "user_id": "1"}]}),
        client: ClientInfo {
            client_id: "cid".into(),
            name: "App".into(),
            metadata: map(json!({"tier": "gold"})),
        },
        connection: ConnectionInfo {
            id: "con_1".into(),
            name: "db".into(),
            strategy: "auth0".into(),
            metadata: Map::new(),
        },
        request: RequestInfo {
            ip: "10.0.0.1".into(),
            hostname: "auth.example.com".into(),
            user_agent: Some("curl".into()),
            language: Some("fr-FR,fr;q=0.9".into()),
            method: "POST".into(),
            query: Map::new(),
            body: map(json!({"grant_type": "password"})),
        },
        protocol: "oauth2-password".into(),
        requested_scopes: vec!["openid".into(), "profile".into()],
        audience: "https://api.example.com".into(),
        roles: vec!["admin".into()],
        organization: None,
        logins_count: 3,
        tenant: "acme".into(),
        now_ms: 1_434_454_643_024,
        transaction_id: "tx_1".into(),
    }
}

/// Writes the scripts to a temp dir and loads them; panics on a load error.
pub(super) fn set_of(rules: &[(&str, &str)], actions: &[(&str, &str)]) -> Arc<ScriptSet> {
    let dir = tempfile::tempdir().unwrap();
    let (r, a) = (dir.path().join("rules"), dir.path().join("actions"));
    std::fs::create_dir_all(&r).unwrap();
    std::fs::create_dir_all(&a).unwrap();
    for (name, src) in rules {
        std::fs::write(r.join(format!("{name}.js")), src).unwrap();
    }
    for (name, src) in actions {
        std::fs::write(a.join(format!("{name}.js")), src).unwrap();
    }
    let set = load_scripts(&a, &r, None, 1);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    Arc::new(set)
}

pub(super) fn engine_with(isolation: Isolation) -> ScriptEngine {
    let config = EngineConfig {
        isolation,
        ..EngineConfig::for_test()
    };
    ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap()
}

pub(super) async fn run(
    set: &Arc<ScriptSet>,
    isolation: Isolation,
) -> Result<Outcome, ScriptError> {
    engine_with(isolation).run_login(set.clone(), input()).await
}

pub(super) async fn action(src: &str) -> Result<Outcome, ScriptError> {
    run(&set_of(&[], &[("a", src)]), Isolation::Warm).await
}

fn claim(o: &Outcome, name: &str) -> Option<Value> {
    o.effects
        .access_claims
        .iter()
        .rev()
        .find(|c| c.name == name)
        .map(|c| c.value.clone())
}

#[tokio::test]
async fn smoke_action_sets_claim() {
    let o = action("exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('x', event.user.email); };")
        .await
        .unwrap();
    assert_eq!(o.verdict, Verdict::Allow);
    assert_eq!(claim(&o, "x"), Some(json!("ada@example.com")));
    assert_eq!(&*o.effects.access_claims[0].script, "a");
}

fn id_claim(o: &Outcome, name: &str) -> Option<Value> {
    o.effects
        .id_claims
        .iter()
        .rev()
        .find(|c| c.name == name)
        .map(|c| c.value.clone())
}

/// An Action whose body is `body`, inside `async (event, api) => { ... }`.
fn act(body: &str) -> String {
    format!("exports.onExecutePostLogin = async (event, api) => {{\n{body}\n}};")
}

fn rule(body: &str) -> String {
    format!("function (user, context, callback) {{\n{body}\n}}")
}

fn deny_text(r: &Result<Outcome, ScriptError>) -> String {
    match r {
        Ok(Outcome {
            verdict: Verdict::Deny(m),
            ..
        }) => m.clone(),
        other => panic!("expected a deny, got {other:?}"),
    }
}

fn error_kind(r: Result<Outcome, ScriptError>) -> (ScriptErrorKind, Option<String>) {
    match r {
        Err(e) => (e.kind, e.script.map(|s| s.to_string())),
        Ok(o) => panic!("expected an error, got {o:?}"),
    }
}

const STANDARD_GLOBALS: &[&str] = &[
    "AggregateError",
    "Array",
    "AsyncDisposableStack",
    "BigInt",
    "Boolean",
    "Date",
    "DisposableStack",
    "Error",
    "EvalError",
    "Function",
    "Infinity",
    "InternalError",
    "Iterator",
    "JSON",
    "Map",
    "Math",
    "NaN",
    "Number",
    "Object",
    "Promise",
    "RangeError",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "Set",
    "String",
    "SuppressedError",
    "Symbol",
    "Symbol(Symbol.toStringTag)",
    "SyntaxError",
    "TypeError",
    "URIError",
    "WeakMap",
    "WeakSet",
    "console",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "global",
    "globalThis",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "queueMicrotask",
    "require",
    "undefined",
    "unescape",
];

#[tokio::test]
async fn exact_global_names_for_actions_and_rules_in_both_modes() {
    let names = "Object.getOwnPropertyNames(globalThis).concat(Object.getOwnPropertySymbols(globalThis).map(String)).sort()";
    let a = act(&format!("api.accessToken.setCustomClaim('g', {names});"));
    let r = rule(&format!(
        "context.idToken.g = {names}; context.idToken.lexical = [typeof configuration, typeof global, typeof auth0, typeof UnauthorizedError, typeof module, typeof exports]; callback(null, user, context);"
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
                "undefined"
            ])
        );
    }
    // Absent on purpose: no compiler, no I/O, no timers, no high-resolution clock, no host
    // object of Node, quickjs-libc (`std`, `os`, `print`, `scriptArgs`...) or a browser. Each is
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
    // scope (an Action's `exports`), and a global (`require`).
    let o = action(&act(
        "api.accessToken.setCustomClaim('t', [[typeof exports, 'exports' in globalThis], [typeof require, 'require' in globalThis]]);",
    ))
    .await
    .unwrap();
    assert_eq!(
        claim(&o, "t").unwrap(),
        json!([["object", false], ["function", true]])
    );
}

/// Host globals a leaky sandbox would expose (Node, quickjs-libc, browsers, engine extras).
const HOST_NAMES: &[&str] = &[
    "eval",
    "Proxy",
    "WeakRef",
    "FinalizationRegistry",
    "SharedArrayBuffer",
    "ArrayBuffer",
    "Uint8Array",
    "DataView",
    "Atomics",
    "WebAssembly",
    "performance",
    "process",
    "fetch",
    "XMLHttpRequest",
    "setTimeout",
    "setInterval",
    "setImmediate",
    "clearTimeout",
    "Buffer",
    "__dirname",
    "__filename",
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
async fn require_throws_the_documented_error() {
    for m in ["fs", "child_process", "axios@1.0.0"] {
        let r = action(&act(&format!("require('{m}');"))).await;
        assert_eq!(
            deny_text(&r),
            format!("Cannot find module '{m}' (claimsmith scripts cannot require modules)")
        );
    }
}

#[tokio::test]
async fn event_has_auth0_shapes() {
    let o = action(&act(
        "api.accessToken.setCustomClaim('e', event); api.accessToken.setCustomClaim('has', ['session' in event, event.session === undefined, 'organization' in event]);",
    ))
    .await
    .unwrap();
    let e = claim(&o, "e").unwrap();
    // No session on a password grant: `event.session` is absent, not present-and-undefined.
    assert_eq!(claim(&o, "has").unwrap(), json!([false, true, false]));
    assert_eq!(e["user"]["app_metadata"], json!({"plan": "pro"}));
    assert_eq!(e["user"]["user_metadata"], json!({"lang": "en"}));
    assert_eq!(e["user"]["identities"][0]["provider"], "auth0");
    assert_eq!(e["authorization"], json!({"roles": ["admin"]}));
    assert_eq!(
        e["client"],
        json!({"client_id": "cid", "name": "App", "metadata": {"tier": "gold"}})
    );
    assert_eq!(
        e["connection"],
        json!({"id": "con_1", "name": "db", "strategy": "auth0", "metadata": {}})
    );
    assert_eq!(e["request"]["ip"], "10.0.0.1");
    assert_eq!(e["request"]["hostname"], "auth.example.com");
    assert_eq!(e["request"]["user_agent"], "curl");
    assert_eq!(e["request"]["method"], "POST");
    assert_eq!(e["request"]["geoip"], json!({}));
    assert_eq!(e["request"]["body"], json!({"grant_type": "password"}));
    let t = &e["transaction"];
    assert_eq!(t["id"], "tx_1");
    assert_eq!(t["protocol"], "oauth2-password");
    assert_eq!(t["requested_scopes"], json!(["openid", "profile"]));
    assert_eq!(t["metadata"], json!({}));
    assert_eq!(t["locale"], "fr-FR");
    for k in ["acr_values", "ui_locales", "prompt", "response_type"] {
        assert_eq!(t[k], json!([]), "{k}");
    }
    assert_eq!(
        e["resource_server"],
        json!({"identifier": "https://api.example.com"})
    );
    assert_eq!(e["stats"], json!({"logins_count": 3}));
    assert_eq!(e["secrets"], json!({}));
    assert_eq!(e["tenant"], json!({"id": "acme"}));
    assert_eq!(
        e["authentication"],
        json!({"methods": [{"name": "pwd", "timestamp": "2015-06-16T11:37:23.024Z"}]})
    );
}

#[tokio::test]
async fn event_with_organization_and_missing_metadata() {
    let mut inp = input();
    inp.user = json!({"user_id": "auth0|2"});
    inp.protocol = "oauth2-refresh-token".into();
    inp.organization = Some(OrganizationInfo {
        id: "org_1".into(),
        name: "acme".into(),
        display_name: "Acme".into(),
        metadata: Map::new(),
    });
    let set = set_of(
        &[],
        &[("a", &act("api.accessToken.setCustomClaim('e', event);"))],
    );
    let o = engine_with(Isolation::Warm)
        .run_login(set, inp)
        .await
        .unwrap();
    let e = claim(&o, "e").unwrap();
    assert_eq!(e["user"]["app_metadata"], json!({}));
    assert_eq!(e["user"]["user_metadata"], json!({}));
    assert_eq!(e["user"]["identities"], json!([]));
    assert_eq!(
        e["organization"],
        json!({"id": "org_1", "name": "acme", "display_name": "Acme", "metadata": {}})
    );
    assert_eq!(
        e["authentication"]["methods"],
        json!([]),
        "no password was checked on refresh"
    );
    assert_eq!(e["transaction"]["protocol"], "oauth2-refresh-token");
}

#[tokio::test]
async fn secrets_are_shared_merged_with_per_action_ones() {
    let mut config = EngineConfig::for_test();
    config.shared_secrets = json!({"A": "shared", "B": "shared"})
        .as_object()
        .unwrap()
        .clone();
    config.action_secrets.insert(
        "one".into(),
        json!({"B": "own"}).as_object().unwrap().clone(),
    );
    let engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
    let a1 =
        act("api.accessToken.setCustomClaim('one', event.secrets); event.secrets.A = 'mutated';");
    let a2 = act("api.accessToken.setCustomClaim('two', event.secrets);");
    let set = set_of(&[], &[("one", &a1), ("two", &a2)]);
    let o = engine.run_login(set, input()).await.unwrap();
    assert_eq!(
        claim(&o, "one").unwrap(),
        json!({"A": "shared", "B": "own"})
    );
    assert_eq!(
        claim(&o, "two").unwrap(),
        json!({"A": "shared", "B": "shared"})
    );
}

#[tokio::test]
async fn each_action_gets_its_own_event_but_transaction_metadata_flows() {
    let a1 = act(
        "event.user.email = 'changed'; event.transaction.metadata.direct = 1; \
         api.transaction.setMetadata('k', 'v').transaction.setMetadata('n', 5); \
         api.idToken.setCustomClaim('same', event.transaction.metadata);",
    );
    let a2 =
        act("api.idToken.setCustomClaim('next', [event.user.email, event.transaction.metadata]);");
    let o = run(&set_of(&[], &[("a1", &a1), ("a2", &a2)]), Isolation::Warm)
        .await
        .unwrap();
    assert_eq!(
        id_claim(&o, "same").unwrap(),
        json!({"direct": 1, "k": "v", "n": 5})
    );
    assert_eq!(
        id_claim(&o, "next").unwrap(),
        json!(["ada@example.com", {"k": "v", "n": 5}])
    );
}

#[tokio::test]
async fn transaction_metadata_limits() {
    let o = action(&act(
        r#"const bad = [() => api.transaction.setMetadata(1, 'v'), () => api.transaction.setMetadata('k'.repeat(65), 'v'),
           () => api.transaction.setMetadata('k', {}), () => api.transaction.setMetadata('k', 2 ** 60),
           () => api.transaction.setMetadata('k', 'x'.repeat(8193)), () => api.transaction.setMetadata('k', NaN)];
        const names = bad.map((f) => { try { f(); return 'ok'; } catch (e) { return e.name; } });
        api.transaction.setMetadata('a', 'x'.repeat(8000)).transaction.setMetadata('b', 'x'.repeat(8000));
        try { api.transaction.setMetadata('c', 'x'.repeat(1000)); names.push('ok'); } catch (e) { names.push(e.name); }
        api.transaction.setMetadata('a', null);
        api.accessToken.setCustomClaim('names', names).accessToken.setCustomClaim('keys', Object.keys(event.transaction.metadata));"#,
    ))
    .await
    .unwrap();
    assert_eq!(
        claim(&o, "names").unwrap(),
        json!([
            "TypeError",
            "RangeError",
            "TypeError",
            "RangeError",
            "RangeError",
            "TypeError",
            "RangeError"
        ])
    );
    assert_eq!(claim(&o, "keys").unwrap(), json!(["b"]));
}

#[tokio::test]
async fn api_methods_chain_and_record_effects_in_order() {
    let o = action(&act(
        "const r = api.accessToken.setCustomClaim('a', 1).accessToken.addScope('read').accessToken.removeScope('write') \
           .idToken.setCustomClaim('b', {x: [1]}).user.setAppMetadata('plan', 'gold').user.setUserMetadata('x', null); \
         api.accessToken.setCustomClaim('same', r === api);",
    ))
    .await
    .unwrap();
    assert_eq!(claim(&o, "a"), Some(json!(1)));
    assert_eq!(claim(&o, "same"), Some(json!(true)));
    assert_eq!(id_claim(&o, "b"), Some(json!({"x": [1]})));
    assert_eq!(
        o.effects.scope_edits,
        vec![
            ("a".into(), ScopeEdit::Add("read".into())),
            ("a".into(), ScopeEdit::Remove("write".into()))
        ]
    );
    assert_eq!(
        o.effects.app_metadata,
        *json!({"plan": "gold"}).as_object().unwrap()
    );
    assert_eq!(
        o.effects.user_metadata,
        *json!({"x": null}).as_object().unwrap()
    );
}

#[tokio::test]
async fn metadata_is_merged_across_actions_and_visible_later() {
    let a1 = act(
        "api.user.setAppMetadata('a', 1).user.setAppMetadata('b', {n: 1}).user.setUserMetadata('u', 'x');",
    );
    let a2 = act(
        "api.idToken.setCustomClaim('seen', event.user.app_metadata); api.user.setAppMetadata('b', null).user.setAppMetadata('c', [1]);",
    );
    let o = run(&set_of(&[], &[("a1", &a1), ("a2", &a2)]), Isolation::Warm)
        .await
        .unwrap();
    assert_eq!(
        id_claim(&o, "seen"),
        Some(json!({"plan": "pro", "a": 1, "b": {"n": 1}}))
    );
    assert_eq!(
        o.effects.app_metadata,
        *json!({"a": 1, "b": null, "c": [1]}).as_object().unwrap()
    );
    assert_eq!(
        o.effects.user_metadata,
        *json!({"u": "x"}).as_object().unwrap()
    );
}

#[tokio::test]
async fn deny_stops_later_actions_and_keeps_effects() {
    let a1 = act(
        "api.user.setAppMetadata('k', 1); api.access.deny('no entry'); api.accessToken.setCustomClaim('after', 1);",
    );
    let a2 = act("api.accessToken.setCustomClaim('a2', 1);");
    let o = run(&set_of(&[], &[("a1", &a1), ("a2", &a2)]), Isolation::Warm)
        .await
        .unwrap();
    assert_eq!(o.verdict, Verdict::Deny("no entry".into()));
    assert_eq!(
        o.effects.app_metadata,
        *json!({"k": 1}).as_object().unwrap()
    );
    assert_eq!(
        claim(&o, "after"),
        Some(json!(1)),
        "the denying Action finishes"
    );
    assert_eq!(claim(&o, "a2"), None);
}

#[tokio::test]
async fn thrown_and_rejected_values_deny_cleanly() {
    let cases = [
        ("throw new Error('boom');", "boom"),
        ("throw 'a string';", "a string"),
        ("throw null;", "null"),
        ("throw undefined;", "undefined"),
        ("throw {message: 'an object'};", "an object"),
        ("throw {code: 7};", "{\"code\":7}"),
        (
            "class MyErr extends Error { constructor(m) { super(m); this.name = 'MyErr'; } } throw new MyErr('sub');",
            "sub",
        ),
        (
            "return Promise.reject(new TypeError('rejected'));",
            "rejected",
        ),
        ("await null; throw 42;", "42"),
    ];
    for (body, want) in cases {
        let r = action(&act(body)).await;
        assert_eq!(deny_text(&r), want, "{body}");
    }
}

#[tokio::test]
async fn multifactor_redirect_and_rules_namespaces() {
    let a1 = act("api.multifactor.enable('any', {allowRememberBrowser: false});");
    let a2 = act("api.accessToken.setCustomClaim('ran', true);");
    let o = run(&set_of(&[], &[("a1", &a1), ("a2", &a2)]), Isolation::Warm)
        .await
        .unwrap();
    assert_eq!(o.verdict, Verdict::MfaRequired);
    assert_eq!(
        claim(&o, "ran"),
        Some(json!(true)),
        "later Actions still run"
    );
    let o = action(&act(
        "api.multifactor.enable('any'); api.multifactor.enable('none');",
    ))
    .await
    .unwrap();
    assert_eq!(o.verdict, Verdict::Allow);

    let o = action(&act(
        "api.accessToken.setCustomClaim('can', api.redirect.canRedirect()); \
         const t = []; for (const f of ['encodeToken', 'validateToken']) { try { api.redirect[f]({}); } catch (e) { t.push(e.message); } } \
         api.accessToken.setCustomClaim('t', t); api.redirect.sendUserTo('https://example.com/x', {query: {a: 1}});",
    ))
    .await
    .unwrap();
    assert!(
        matches!(&o.verdict, Verdict::InteractionRequired(m) if m.contains("cannot redirect")),
        "{o:?}"
    );
    assert_eq!(claim(&o, "can"), Some(json!(false)));
    assert!(
        claim(&o, "t")
            .unwrap()
            .to_string()
            .contains("encodeToken is not available")
    );

    let o = action(&act(
        "for (const [ns, fns] of Object.entries({samlResponse: ['setAttribute'], session: ['setMetadata'], refreshToken: ['revoke'], \
            authentication: ['recordMethod']})) \
           for (const f of fns) if (api[ns][f]('x') !== api) throw new Error(ns + '.' + f);",
    ))
    .await
    .unwrap();
    assert_eq!(o.verdict, Verdict::Allow);
}

#[tokio::test]
async fn bad_arguments_to_every_api_method_are_type_errors() {
    let o = action(&act(
        r#"const calls = {
            deny: () => api.access.deny(42),
            atClaim: () => api.accessToken.setCustomClaim(1, 'v'),
            atClaimCycle: () => { const o = {}; o.o = o; api.accessToken.setCustomClaim('c', o); },
            atClaimBigInt: () => api.accessToken.setCustomClaim('c', 10n),
            addScope: () => api.accessToken.addScope({}),
            removeScope: () => api.accessToken.removeScope(null),
            idClaim: () => api.idToken.setCustomClaim(Symbol('s'), 1),
            appMeta: () => api.user.setAppMetadata(undefined, 1),
            appMetaDot: () => api.user.setAppMetadata('a.b', 1),
            appMetaFn: () => api.user.setAppMetadata('a', () => 1),
            userMeta: () => api.user.setUserMetadata([], 1),
            cacheGet: () => api.cache.get(1),
            cacheSet: () => api.cache.set('k', 1),
            cacheSetOpts: () => api.cache.set('k', 'v', {ttl: 'soon'}),
            cacheDelete: () => api.cache.delete(null),
            txMeta: () => api.transaction.setMetadata({}, 'v'),
            mfa: () => api.multifactor.enable('sms-please'),
            mfaType: () => api.multifactor.enable(1),
            sendUserTo: () => api.redirect.sendUserTo(5),
            wasExecuted: () => api.rules.wasExecuted(5),
        };
        const out = {};
        for (const k of Object.keys(calls)) { try { calls[k](); out[k] = 'no error'; } catch (e) { out[k] = e.name; } }
        api.accessToken.setCustomClaim('out', out);"#,
    ))
    .await
    .unwrap();
    for (k, v) in claim(&o, "out").unwrap().as_object().unwrap() {
        assert_eq!(v, "TypeError", "{k}");
    }
    assert_eq!(
        o.verdict,
        Verdict::Allow,
        "a caught TypeError does not deny"
    );
    assert!(o.effects.app_metadata.is_empty() && o.effects.scope_edits.is_empty());
}

#[tokio::test]
async fn claims_drop_undefined_functions_and_symbols() {
    let o = action(&act(
        "api.accessToken.setCustomClaim('u', undefined).accessToken.setCustomClaim('f', () => 1) \
           .accessToken.setCustomClaim('s', Symbol('x')).accessToken.setCustomClaim('n', null) \
           .accessToken.setCustomClaim('nested', {f() {}, d: new Date(0)});",
    ))
    .await
    .unwrap();
    let names: Vec<&str> = o
        .effects
        .access_claims
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["n", "nested"]);
    assert_eq!(
        claim(&o, "nested"),
        Some(json!({"d": "1970-01-01T00:00:00.000Z"}))
    );
}

#[tokio::test]
async fn cache_survives_logins_with_auth0_shapes() {
    let engine = engine_with(Isolation::Strict);
    let a = act("const before = api.cache.get('k'); \
         const set = api.cache.set('k', 'v' + event.stats.logins_count, {ttl: 60000}); \
         api.accessToken.setCustomClaim('before', before === undefined ? 'none' : before).accessToken.setCustomClaim('set', set) \
           .accessToken.setCustomClaim('bad', [api.cache.set('x'.repeat(65), 'v'), api.cache.delete('nope')]);");
    let set = set_of(&[], &[("a", &a)]);
    let o1 = engine.run_login(set.clone(), input()).await.unwrap();
    assert_eq!(claim(&o1, "before"), Some(json!("none")));
    let exp = 1_434_454_643_024_i64 + 60_000;
    assert_eq!(
        claim(&o1, "set"),
        Some(json!({"type": "success", "record": {"value": "v3", "expires_at": exp}}))
    );
    assert_eq!(
        claim(&o1, "bad"),
        Some(
            json!([{"type": "error", "code": "CacheKeySizeExceeded"}, {"type": "error", "code": "CacheKeyDoesNotExist"}])
        )
    );
    let o2 = engine.run_login(set, input()).await.unwrap();
    assert_eq!(
        claim(&o2, "before"),
        Some(json!({"value": "v3", "expires_at": exp}))
    );
}

#[tokio::test]
async fn async_actions_and_promises_run_to_completion_in_order() {
    let a1 = act(
        "const wait = (v) => new Promise((res) => queueMicrotask(() => res(v))); \
         const xs = await Promise.all([wait(1), wait(2)]); \
         for (let i = 0; i < 100; i++) await null; \
         api.accessToken.setCustomClaim('xs', xs).accessToken.setCustomClaim('order', ['a1']);",
    );
    let a2 = "module.exports = { onExecutePostLogin(event, api) { api.accessToken.setCustomClaim('order', ['a1', 'a2']); } };";
    let o = run(&set_of(&[], &[("a1", &a1), ("a2", a2)]), Isolation::Warm)
        .await
        .unwrap();
    assert_eq!(claim(&o, "xs"), Some(json!([1, 2])));
    assert_eq!(claim(&o, "order"), Some(json!(["a1", "a2"])));
    assert_eq!(&*o.effects.access_claims.last().unwrap().script, "a2");
}

#[tokio::test]
async fn credentials_exchange_actions_are_loaded_but_not_run_at_login() {
    let cce = "exports.onExecuteCredentialsExchange = async (event, api) => { throw new Error('must not run'); };";
    let set = set_of(&[], &[("cce", cce)]);
    assert_eq!(set.actions.len(), 1);
    let o = run(&set, Isolation::Warm).await.unwrap();
    assert_eq!(o.verdict, Verdict::Allow);
}

// ---- Rules -------------------------------------------------------------------------------------

#[tokio::test]
async fn rules_see_auth0_user_and_context() {
    let r = rule(
        "const c = Object.assign({}, context); delete c.idToken; context.idToken.user = user; context.idToken.context = c; \
         context.idToken.has = ['app_metadata' in user, 'sessionID' in context, 'organization' in context]; \
         callback(null, user, context);",
    );
    let o = run(&set_of(&[("r", &r)], &[]), Isolation::Warm)
        .await
        .unwrap();
    let u = id_claim(&o, "user").unwrap();
    assert_eq!(u["app_metadata"], json!({"plan": "pro"}));
    assert_eq!(u["plan"], "pro", "app_metadata is merged into the root");
    assert_eq!(u["user_metadata"], json!({"lang": "en"}));
    let c = id_claim(&o, "context").unwrap();
    let expect = json!({
        "tenant": "acme", "clientID": "cid", "clientName": "App", "clientMetadata": {"tier": "gold"},
        "connection": "db", "connectionID": "con_1", "connectionStrategy": "auth0", "connectionOptions": {},
        "connectionMetadata": {}, "protocol": "oauth2-password",
        "request": {"userAgent": "curl", "ip": "10.0.0.1", "hostname": "auth.example.com", "query": {},
                    "body": {"grant_type": "password"}, "geoip": {}},
        "stats": {"loginsCount": 3}, "sso": {"with_auth0": false, "with_dbconn": false, "current_clients": []},
        "accessToken": {}, "authorization": {"roles": ["admin"]},
        "authentication": {"methods": [{"name": "pwd", "timestamp": 1_434_454_643_024_i64}]},
        "primaryUser": "auth0|1", "sessionID": "tx_1", "samlConfiguration": {}, "jwtConfiguration": {},
    });
    for (k, v) in expect.as_object().unwrap() {
        assert_eq!(&c[k], v, "context.{k}");
    }
    assert_eq!(id_claim(&o, "has"), Some(json!([true, true, false])));
    // app_metadata is undefined when empty.
    let mut inp = input();
    inp.user["app_metadata"] = json!({});
    inp.organization = Some(OrganizationInfo {
        id: "org_1".into(),
        name: "acme".into(),
        display_name: "Acme".into(),
        metadata: Map::new(),
    });
    let r = rule(
        "context.idToken.t = [typeof user.app_metadata, context.organization]; callback(null, user, context);",
    );
    let o = engine_with(Isolation::Warm)
        .run_login(set_of(&[("r", &r)], &[]), inp)
        .await
        .unwrap();
    assert_eq!(
        id_claim(&o, "t"),
        Some(json!(["undefined", {"id": "org_1", "name": "acme", "metadata": {}}]))
    );
}

#[tokio::test]
async fn rules_run_in_order_before_actions_and_claims_name_their_rule() {
    let r1 = "function named(user, context, callback) { context.accessToken['https://ns/x'] = 1; context.idToken.seq = ['r1']; user.extra = 'from r1'; callback(null, user, context); };\n\n";
    let r2 = rule(
        "context.idToken.seq = context.idToken.seq.concat('r2'); context.idToken.extra = user.extra; \
         context.accessToken.scope = ['openid', 'read']; callback(null, user, context);",
    );
    let a = act(
        "api.idToken.setCustomClaim('ran', [api.rules.wasExecuted('r1'), api.rules.wasExecuted('r2'), api.rules.wasExecuted('nope')]);",
    );
    let o = run(
        &set_of(&[("r1", r1), ("r2", &r2)], &[("a", &a)]),
        Isolation::Warm,
    )
    .await
    .unwrap();
    assert_eq!(id_claim(&o, "seq"), Some(json!(["r1", "r2"])));
    assert_eq!(id_claim(&o, "extra"), Some(json!("from r1")));
    assert_eq!(id_claim(&o, "ran"), Some(json!([true, true, false])));
    let by = |list: &[Claim], n: &str| {
        list.iter()
            .find(|c| c.name == n)
            .map(|c| c.script.to_string())
    };
    assert_eq!(
        by(&o.effects.access_claims, "https://ns/x").as_deref(),
        Some("r1")
    );
    assert_eq!(by(&o.effects.id_claims, "seq").as_deref(), Some("r2"));
    assert_eq!(by(&o.effects.id_claims, "ran").as_deref(), Some("a"));
    assert_eq!(
        o.effects.scope_edits,
        vec![(
            "r2".into(),
            ScopeEdit::Replace(vec!["openid".into(), "read".into()])
        )]
    );
    assert!(o.effects.access_claims.iter().all(|c| c.name != "scope"));
}

#[tokio::test]
async fn rule_callbacks_decide_the_verdict() {
    let cases: [(&str, Verdict); 7] = [
        (
            "callback(new UnauthorizedError('blocked'));",
            Verdict::Unauthorized("blocked".into()),
        ),
        ("callback(new Error('nope'));", Verdict::Deny("nope".into())),
        ("throw new Error('thrown');", Verdict::Deny("thrown".into())),
        (
            "callback('plain string');",
            Verdict::Deny("plain string".into()),
        ),
        ("throw null;", Verdict::Deny("null".into())),
        (
            "context.multifactor = {provider: 'any'}; callback(null, user, context);",
            Verdict::MfaRequired,
        ),
        (
            "context.redirect = {url: 'https://x'}; callback(null, user, context);",
            Verdict::InteractionRequired(
                "A Rule set context.redirect, but the token endpoint cannot redirect the user"
                    .into(),
            ),
        ),
    ];
    for (body, want) in cases {
        let a = act("api.user.setAppMetadata('a', 1);");
        let o = run(
            &set_of(&[("r", &rule(body))], &[("a", &a)]),
            Isolation::Warm,
        )
        .await
        .unwrap();
        assert_eq!(o.verdict, want, "{body}");
    }
    // An error stops the pipeline: no later rule, no Action.
    let r2 = rule("context.idToken.r2 = 1; callback(null, user, context);");
    let a = act("api.idToken.setCustomClaim('a', 1);");
    let o = run(
        &set_of(
            &[("r1", &rule("callback(new Error('stop'));")), ("r2", &r2)],
            &[("a", &a)],
        ),
        Isolation::Warm,
    )
    .await
    .unwrap();
    assert_eq!(o.verdict, Verdict::Deny("stop".into()));
    assert!(o.effects.id_claims.is_empty());
}

#[tokio::test]
async fn rule_calling_back_twice_is_ignored_and_async_callbacks_work() {
    let r = rule(
        "context.idToken.a = 1; callback(null, user, context); callback(new Error('second'));",
    );
    let r2 = rule(
        "Promise.resolve().then(() => { context.idToken.b = 2; callback(null, user, context); });",
    );
    let o = run(&set_of(&[("r1", &r), ("r2", &r2)], &[]), Isolation::Warm)
        .await
        .unwrap();
    assert_eq!(o.verdict, Verdict::Allow);
    assert_eq!(id_claim(&o, "b"), Some(json!(2)));
}

#[tokio::test]
async fn rule_that_never_calls_back_fails_with_its_name() {
    let set = set_of(&[("silent", &rule("context.idToken.x = 1;"))], &[]);
    assert_eq!(
        error_kind(run(&set, Isolation::Warm).await),
        (ScriptErrorKind::NeverCalledBack, Some("silent".into()))
    );
    let async_reject =
        "async function (user, context, callback) { throw new Error('async rule'); }";
    let o = run(&set_of(&[("r", async_reject)], &[]), Isolation::Warm).await;
    assert_eq!(deny_text(&o), "async rule");
}

#[tokio::test]
async fn rule_globals_configuration_global_auth0() {
    let host = Arc::new(TestHost::default());
    let mut config = EngineConfig::for_test();
    config.configuration = json!({"KEY": "s3cret", "nested": {"a": 1}})
        .as_object()
        .unwrap()
        .clone();
    config.domain = "tenant.example.com".into();
    config.workers = 1;
    let engine = ScriptEngine::start(config, host.clone()).unwrap();
    let r = rule(
        r#"global.count = (global.count || 0) + 1;
        // A Rule is sloppy code: writes to the frozen configuration are ignored, not thrown.
        try { configuration.KEY = 'x'; configuration.nested.a = 2; } catch (e) { }
        const frozen = configuration.KEY === 's3cret' && configuration.nested.a === 1 ? 'frozen' : 'changed';
        context.idToken.g = [configuration.KEY, global.count, auth0.domain, frozen];
        auth0.users.updateAppMetadata(user.user_id, {plan: 'gold', old: null})
          .then(() => auth0.users.updateUserMetadata(user.user_id, {theme: 'dark'}))
          .then(() => auth0.users.updateAppMetadata(user.user_id, {'a.b': 1}))
          .catch((e) => { context.idToken.dot = e.message; return auth0.users.updateAppMetadata('fail', {}); })
          .catch((e) => { context.idToken.fail = e.message; callback(null, user, context); });"#,
    );
    let set = set_of(&[("r", &r)], &[]);
    let o = engine.run_login(set.clone(), input()).await.unwrap();
    assert_eq!(
        id_claim(&o, "g"),
        Some(json!(["s3cret", 1, "tenant.example.com", "frozen"]))
    );
    assert!(
        id_claim(&o, "dot")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("not allowed")
    );
    assert_eq!(id_claim(&o, "fail"), Some(json!("no such user")));
    let patches = host.patches.lock().unwrap().clone();
    assert_eq!(patches.len(), 2);
    assert_eq!(patches[0].0, "auth0|1");
    assert_eq!(patches[0].1, MetadataKind::App);
    assert_eq!(
        patches[0].2,
        *json!({"plan": "gold", "old": null}).as_object().unwrap()
    );
    assert_eq!(patches[1].1, MetadataKind::User);
    // `global` persists between logins in warm mode (one worker here).
    let o = engine.run_login(set, input()).await.unwrap();
    assert_eq!(id_claim(&o, "g").unwrap()[1], json!(2));
}

// ---- failures, limits and the watchdog ----------------------------------------------------------

fn one_worker(isolation: Isolation, host: Arc<TestHost>) -> ScriptEngine {
    let config = EngineConfig {
        workers: 1,
        isolation,
        ..EngineConfig::for_test()
    };
    ScriptEngine::start(config, host).unwrap()
}

/// A login that must succeed on an engine after something hostile happened on it. It runs a set of
/// its own, hence a new context: it shows the engine still serves, not that nothing leaked (that
/// is `second_look` below and the hostile suite's probe in `tests/it/hostile.rs`).
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

// ---- isolation ----------------------------------------------------------------------------------

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
