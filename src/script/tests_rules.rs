//! Legacy Rules: Auth0's `user` and `context`, order before Actions, the callback deciding the
//! verdict, a Rule that never calls back, and the `configuration` / `global` / `auth0` globals.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::{Map, json};

use super::tests_support::*;
use super::*;

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
    assert_eq!(
        id_claim(&o, "fail"),
        Some(json!("The user does not exist."))
    );
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

#[tokio::test]
async fn auth0_access_token_comes_from_the_host_on_read_and_fails_closed_without_one() {
    let r = rule(
        r#"const got = [];
        for (const k of ['accessToken', 'baseUrl']) { try { got.push(auth0[k]); } catch (e) { got.push(e.message); } }
        context.idToken.m = [got, Object.keys(auth0)];
        callback(null, user, context);"#,
    );
    let set = set_of(&[("r", &r)], &[]);
    for isolation in [Isolation::Warm, Isolation::Strict] {
        let host = Arc::new(TestHost {
            token: Some("the-token".into()),
            ..TestHost::default()
        });
        let o = one_worker(isolation, host.clone())
            .run_login(set.clone(), input())
            .await
            .unwrap();
        assert_eq!(
            id_claim(&o, "m").unwrap(),
            json!([
                ["the-token", "http://localhost/api/v2"],
                ["domain", "users"]
            ])
        );
        assert_eq!(
            host.token_reads.load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        // A host that has no token to give: the read throws (a Rule that does not catch it
        // fails the login), never an empty token.
        let o = run(&set, isolation).await.unwrap();
        assert_eq!(
            id_claim(&o, "m").unwrap()[0],
            json!([
                "auth0.accessToken could not be issued",
                "http://localhost/api/v2"
            ])
        );
    }
    // A Rule that never reads it never asks the host.
    let quiet = set_of(&[("r", &rule("callback(null, user, context);"))], &[]);
    let host = Arc::new(TestHost::default());
    one_worker(Isolation::Warm, host.clone())
        .run_login(quiet, input())
        .await
        .unwrap();
    assert_eq!(
        host.token_reads.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

/// A thrown error and a rejected promise are throws (the metrics' `throw`); `callback(err)` is
/// the Rule's own deny.
#[tokio::test]
async fn a_rule_that_throws_is_told_from_one_that_calls_back_with_an_error() {
    for (body, threw) in [
        ("throw new Error('boom');", true),
        ("return Promise.reject(new Error('boom'));", true),
        ("callback(new Error('boom'));", false),
    ] {
        let set = set_of(&[("r", &rule(body))], &[]);
        let o = run(&set, Isolation::Warm).await.unwrap();
        assert_eq!(o.verdict, Verdict::Deny("boom".into()), "{body}");
        assert_eq!(o.threw, threw, "{body}");
    }
}
