//! What an Action does through `api`: claims, scopes, metadata, deny, MFA and redirect, the cache,
//! bad arguments, thrown values, async Actions, and which Actions run at login at all.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::tests_support::*;
use super::*;

#[tokio::test]
async fn smoke_action_sets_claim() {
    let o = action("exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('x', event.user.email); };")
        .await
        .unwrap();
    assert_eq!(o.verdict, Verdict::Allow);
    assert_eq!(claim(&o, "x"), Some(json!("ada@example.com")));
    assert_eq!(&*o.effects.access_claims[0].script, "a");
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
