//! The script contract over HTTP: the samples' seed story, what `event`, `api`, `user`,
//! `context` and the globals hold, Rules before Actions, deny paths, metadata, the cache and
//! both isolation modes.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn seed_story_samples_put_role_organisation_email_and_user_id_in_the_token() {
    let s = TestServer::start().await;
    s.db(|db| {
        db.insert_role("admin", "")?;
        db.assign_role("admin", &s.seed.user_id)
    });
    let c = s.claims().await;
    assert_eq!(c["https://claimsmith.dev/email"], EMAIL);
    assert_eq!(c["https://claimsmith.dev/user_id"], s.seed.user_id.as_str());
    assert_eq!(c["https://claimsmith.dev/role"], "admin");
    assert_eq!(c["https://claimsmith.dev/organisation_id"], "org_42");
    assert_eq!(c["https://claimsmith.dev/roles"], json!(["admin"]));
    s.stop().await;
}

/// An Action that returns what it saw as a claim.
const SHOW_EVENT: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://t/event', {
    user: event.user, roles: event.authorization.roles, client: event.client,
    connection: event.connection, request: event.request, transaction: event.transaction,
    resource_server: event.resource_server, stats: event.stats, secrets: event.secrets,
    tenant: event.tenant, methods: event.authentication.methods, organization: event.organization || null,
    has_session: 'session' in event, session: event.session === undefined,
  });
};
"#;

#[tokio::test]
async fn actions_see_every_event_field() {
    let s = TestServer::start_scripts(&[("actions/01-show.js", SHOW_EVENT)], |c| {
        c.scripts
            .engine
            .shared_secrets
            .insert("SHARED".into(), "s1".into());
        c.scripts.engine.action_secrets.insert(
            "01-show".into(),
            json!({"OWN": "o1"}).as_object().unwrap().clone(),
        );
    })
    .await;
    let org = s.db(|db| db.insert_org("acme", "Acme Corp", &Default::default(), "t"));
    s.db(|db| db.add_member(&org.id, &s.seed.user_id));
    s.db(|db| {
        db.insert_role("editor", "")?;
        db.assign_role("editor", &s.seed.user_id)
    });
    let r = s
        .http
        .post(s.url("/oauth/token?trace=1"))
        .header("user-agent", "test-agent/1")
        .header("accept-language", "nl")
        .form(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", "openid read:x"),
            ("organization", "acme"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let e = &s.verify(body["access_token"].as_str().unwrap(), API).await["https://t/event"];
    let u = &e["user"];
    assert_eq!(u["user_id"], s.seed.user_id.as_str());
    assert_eq!(u["email"], EMAIL);
    assert_eq!(u["email_verified"], true);
    assert_eq!(u["username"], "ann");
    assert_eq!(
        u["app_metadata"],
        json!({"role": "admin", "organisation_id": "org_42"})
    );
    assert_eq!(
        u["user_metadata"],
        json!({"city": "Utrecht", "province": "Utrecht"})
    );
    assert_eq!(u["identities"][0]["provider"], "auth0");
    assert_eq!(u["identities"][0]["connection"], CONNECTION);
    assert_eq!(e["roles"], json!(["editor"]));
    assert_eq!(e["client"]["client_id"], s.seed.client_id.as_str());
    assert_eq!(e["client"]["metadata"], json!({"tier": "gold"}));
    assert_eq!(e["connection"]["name"], CONNECTION);
    assert_eq!(e["connection"]["strategy"], "auth0");
    let req = &e["request"];
    assert_eq!(req["ip"], "127.0.0.1");
    assert_eq!(req["user_agent"], "test-agent/1");
    assert_eq!(req["language"], "nl");
    assert_eq!(req["method"], "POST");
    assert_eq!(req["query"], json!({"trace": "1"}));
    assert_eq!(req["body"]["username"], EMAIL);
    assert!(req["body"].get("password").is_none() && req["body"].get("client_secret").is_none());
    let t = &e["transaction"];
    assert_eq!(t["protocol"], "oauth2-password");
    assert_eq!(t["requested_scopes"], json!(["openid", "read:x"]));
    assert_eq!(t["metadata"], json!({}));
    assert_eq!(t["acr_values"], json!([]));
    assert_eq!(e["resource_server"]["identifier"], API);
    assert_eq!(e["stats"]["logins_count"], 1);
    assert_eq!(e["secrets"], json!({"SHARED": "s1", "OWN": "o1"}));
    assert_eq!(e["tenant"]["id"], "claimsmith");
    assert_eq!(e["methods"][0]["name"], "pwd");
    assert_eq!(e["organization"]["id"], org.id.as_str());
    assert_eq!(e["organization"]["display_name"], "Acme Corp");
    assert_eq!(
        (e["has_session"].clone(), e["session"].clone()),
        (json!(false), json!(true))
    );
    s.stop().await;
}

const SHOW_RULE: &str = r#"
function (user, context, callback) {
  context.accessToken['https://t/rule'] = {
    user_id: user.user_id, app_metadata: user.app_metadata, user_metadata: user.user_metadata,
    clientID: context.clientID, clientName: context.clientName, clientMetadata: context.clientMetadata,
    connection: context.connection, connectionStrategy: context.connectionStrategy, protocol: context.protocol,
    userAgent: context.request.userAgent, ip: context.request.ip, loginsCount: context.stats.loginsCount,
    sso: context.sso, roles: context.authorization.roles, tenant: context.tenant,
    configuration: configuration.GREETING, domain: auth0.domain,
    has_global: typeof global === 'object', unauthorized: typeof UnauthorizedError,
  };
  callback(null, user, context);
}
"#;

#[tokio::test]
async fn rules_see_user_context_and_their_globals() {
    let s = TestServer::start_scripts(&[("rules/01-show.js", SHOW_RULE)], |c| {
        c.scripts
            .engine
            .configuration
            .insert("GREETING".into(), "hello".into());
    })
    .await;
    let r = &s.claims().await["https://t/rule"];
    assert_eq!(r["user_id"], s.seed.user_id.as_str());
    assert_eq!(r["app_metadata"]["role"], "admin");
    assert_eq!(r["user_metadata"]["city"], "Utrecht");
    assert_eq!(r["clientID"], s.seed.client_id.as_str());
    assert_eq!(r["clientMetadata"], json!({"tier": "gold"}));
    assert_eq!(r["connection"], CONNECTION);
    assert_eq!(r["connectionStrategy"], "auth0");
    assert_eq!(r["protocol"], "oauth2-password");
    assert_eq!(r["ip"], "127.0.0.1");
    assert_eq!(r["loginsCount"], 1);
    assert_eq!(
        r["sso"],
        json!({"with_auth0": false, "with_dbconn": false, "current_clients": []})
    );
    assert_eq!(r["roles"], json!([]));
    assert_eq!(r["configuration"], "hello");
    assert_eq!(r["domain"], "claimsmith.test");
    assert_eq!(
        (r["has_global"].clone(), r["unauthorized"].clone()),
        (json!(true), json!("function"))
    );
    // A user without app_metadata: the Rule sees it undefined, as in Auth0.
    s.db(|db| {
        db.patch_metadata(
            &s.seed.user_id,
            &json!({"role": null, "organisation_id": null})
                .as_object()
                .unwrap()
                .clone(),
            &Default::default(),
            "t",
        )
    });
    let r = &s.claims().await["https://t/rule"];
    assert!(r.get("app_metadata").is_none(), "{r}");
    s.stop().await;
}

#[tokio::test]
async fn rules_run_before_actions_and_the_last_write_wins() {
    let s = TestServer::start_scripts(
        &[
            ("rules/01-first.js", "function (user, context, callback) { context.accessToken['https://t/who'] = 'rule'; context.idToken['https://t/id'] = 'from-rule'; callback(null, user, context); }"),
            ("rules/02-second.js", "function second(user, context, callback) { context.accessToken['https://t/order'] = (context.accessToken['https://t/order'] || '') + 'r'; callback(null, user, context); };"),
            ("actions/01-a.js", "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://t/who', 'action').accessToken.setCustomClaim('https://t/ran', api.rules.wasExecuted('01-first') && !api.rules.wasExecuted('nope')); };"),
            ("actions/02-b.js", "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://t/order', 'r-a'); api.idToken.setCustomClaim('https://t/idb', 1); };"),
        ],
        |_| {},
    )
    .await;
    let (_, body) = s.login(&[("audience", API), ("scope", "openid")]).await;
    let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(c["https://t/who"], "action");
    assert_eq!(c["https://t/ran"], true);
    assert_eq!(c["https://t/order"], "r-a");
    let id = s
        .verify(body["id_token"].as_str().unwrap(), &s.seed.client_id)
        .await;
    assert_eq!(
        (id["https://t/id"].clone(), id["https://t/idb"].clone()),
        (json!("from-rule"), json!(1))
    );
    s.stop().await;
}

async fn expect_error(s: &TestServer, status: u16, error: &str, description: &str) {
    let (got, body) = s.login(&[("audience", API)]).await;
    assert_eq!(
        (got, body["error"].as_str()),
        (status, Some(error)),
        "{body}"
    );
    assert_eq!(body["error_description"], description);
}

#[tokio::test]
async fn deny_paths_answer_as_the_decisions_table_says() {
    let cases: [(&str, &str, u16, &str, &str); 5] = [
        (
            "actions/01-x.js",
            "exports.onExecutePostLogin = async (e, api) => { api.access.deny('Not on weekends \"please\"'); };",
            403,
            "access_denied",
            "Not on weekends 'please'",
        ),
        (
            "actions/01-x.js",
            "exports.onExecutePostLogin = async () => { throw new Error('upstream said no'); };",
            403,
            "access_denied",
            "upstream said no",
        ),
        (
            "rules/01-x.js",
            "function (u, c, cb) { cb(new UnauthorizedError('account locked')); }",
            401,
            "unauthorized",
            "account locked",
        ),
        (
            "rules/01-x.js",
            "function (u, c, cb) { cb(new Error('rule error')); }",
            403,
            "access_denied",
            "rule error",
        ),
        (
            "actions/01-x.js",
            "exports.onExecutePostLogin = async (e, api) => { api.multifactor.enable('any'); };",
            403,
            "mfa_required",
            "Multifactor authentication required",
        ),
    ];
    for (path, src, status, error, description) in cases {
        let s = TestServer::start_scripts(&[(path, src)], |_| {}).await;
        expect_error(&s, status, error, description).await;
        s.stop().await;
    }
}

#[tokio::test]
async fn metadata_changes_persist_once_also_when_denied_and_show_in_the_next_login() {
    let s = TestServer::start_scripts(
        &[
            ("actions/01-count.js", r#"exports.onExecutePostLogin = async (event, api) => {
                const n = (event.user.app_metadata.visits || 0) + 1;
                api.accessToken.setCustomClaim('https://t/visits', n);
                api.user.setAppMetadata('visits', n).user.setUserMetadata('city', null).user.setUserMetadata('lang', 'nl');
                if (n === 2) api.access.deny('second visit');
            };"#),
            ("actions/02-after.js", "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://t/seen', event.user.app_metadata.visits || 0); };"),
        ],
        |_| {},
    )
    .await;
    let c = s.claims().await;
    assert_eq!(c["https://t/visits"], 1);
    assert_eq!(
        c["https://t/seen"], 1,
        "pending changes are visible to later Actions (revised Decision)"
    );
    expect_error(&s, 403, "access_denied", "second visit").await;
    let u = s.db(|db| db.user_by_id(&s.seed.user_id)).unwrap();
    assert_eq!(u.app_metadata["visits"], 2, "persisted although denied");
    assert_eq!(
        Value::Object(u.user_metadata),
        json!({"province": "Utrecht", "lang": "nl"})
    );
    assert_eq!(s.claims().await["https://t/visits"], 3);
    s.stop().await;
}

#[tokio::test]
async fn rule_management_api_writes_before_its_promise_resolves() {
    let s = TestServer::start_scripts(
        &[("rules/01-m.js", r#"function (user, context, callback) {
            user.app_metadata = user.app_metadata || {};
            auth0.users.updateAppMetadata(user.user_id, { plan: 'pro', role: null })
              .then(function () { context.accessToken['https://t/ok'] = true; callback(null, user, context); })
              .catch(function (e) { callback(e); });
        }"#)],
        |_| {},
    )
    .await;
    assert_eq!(s.claims().await["https://t/ok"], true);
    let u = s.db(|db| db.user_by_id(&s.seed.user_id)).unwrap();
    assert_eq!(
        Value::Object(u.app_metadata),
        json!({"organisation_id": "org_42", "plan": "pro"})
    );
    s.stop().await;
}

#[tokio::test]
async fn cache_transaction_metadata_and_scope_edits() {
    let s = TestServer::start_scripts(
        &[
            ("rules/01-scope.js", "function (u, c, cb) { c.accessToken.scope = ['read:x', 'write:x']; cb(null, u, c); }"),
            ("actions/01-cache.js", r#"exports.onExecutePostLogin = async (event, api) => {
                const hit = api.cache.get('n');
                const n = hit ? Number(hit.value) + 1 : 1;
                const r = api.cache.set('n', String(n));
                api.accessToken.setCustomClaim('https://t/n', n).accessToken.setCustomClaim('https://t/set', r.type);
                api.transaction.setMetadata('from_first', 'yes');
                api.accessToken.removeScope('write:x').accessToken.addScope('extra');
            };"#),
            ("actions/02-tx.js", "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://t/tx', event.transaction.metadata.from_first); };"),
        ],
        |_| {},
    )
    .await;
    let (_, body) = s.login(&[("audience", API), ("scope", "read:x")]).await;
    assert_eq!(body["scope"], "read:x extra");
    let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(
        (
            c["https://t/n"].clone(),
            c["https://t/set"].clone(),
            c["https://t/tx"].clone()
        ),
        (json!(1), json!("success"), json!("yes"))
    );
    assert_eq!(
        s.claims().await["https://t/n"],
        2,
        "the cache survives across logins"
    );
    s.stop().await;
}

const COUNTER: &str = r#"
let n = 0;
exports.onExecutePostLogin = async (event, api) => {
  n += 1;
  const leak = [].leak === undefined ? 'clean' : 'leaked';
  // Sloppy code (an Action without 'use strict') gets no error from a frozen built-in: the write
  // is simply ignored. Either way it must not take.
  try { Array.prototype.leak = 1; } catch (e) { }
  const poisoned = [].leak === 1 ? 'took' : 'refused';
  api.accessToken.setCustomClaim('https://t/n', n).accessToken.setCustomClaim('https://t/leak', leak)
     .accessToken.setCustomClaim('https://t/poison', poisoned);
};
"#;

#[tokio::test]
async fn warm_mode_keeps_module_scope_and_frozen_builtins() {
    let s = TestServer::start_scripts(&[("actions/01-c.js", COUNTER)], |c| {
        c.scripts.engine.workers = 1
    })
    .await;
    let first = s.claims().await;
    let second = s.claims().await;
    assert_eq!(
        (first["https://t/n"].clone(), second["https://t/n"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(second["https://t/poison"], "refused");
    assert_eq!(second["https://t/leak"], "clean");
    s.stop().await;
}

#[tokio::test]
async fn strict_mode_starts_every_login_fresh() {
    let s = TestServer::start_scripts(&[("actions/01-c.js", COUNTER)], |c| {
        c.scripts.engine.workers = 1;
        c.scripts.engine.isolation = claimsmith::script::Isolation::Strict;
    })
    .await;
    for _ in 0..3 {
        let c = s.claims().await;
        assert_eq!(c["https://t/n"], 1);
        assert_eq!(c["https://t/leak"], "clean");
    }
    s.stop().await;
}

/// Auth0 compiles Rules with `Function` and runs Actions as CommonJS: both are sloppy-mode code
/// unless they say `'use strict'`, and `global` is the global object.
const SLOPPY_RULE: &str = r#"function (user, context, callback) {
  var mode = (function () { return this === undefined ? 'strict' : 'sloppy'; })();
  for (i = 0; i < 3; i++) {}
  var octal = 010;
  with ({ w: 'with' }) { var viaWith = w; }
  function dup(a, a) { return a; }
  context.accessToken['https://t/sloppy'] =
    [mode, i, octal, viaWith, dup(1, 2), global === globalThis, typeof globalThis.i];
  callback(null, user, context);
}"#;

const COMMONJS_ACTION: &str = r#"const self = this;
module.exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://t/cjs',
    [self === module.exports, __filename.endsWith('/actions/01-cjs.js') && __dirname.endsWith('/actions'), global === globalThis, typeof exports]);
};"#;

const STRICT_ACTION: &str = r#"'use strict';
exports.onExecutePostLogin = async (event, api) => {
  let r;
  try { undeclaredName = 1; r = 'assigned'; } catch (e) { r = e.name; }
  api.accessToken.setCustomClaim('https://t/strict', r);
};"#;

#[tokio::test]
async fn rules_and_actions_run_as_sloppy_code_unless_they_say_use_strict() {
    use claimsmith::script::Isolation;
    for (isolation, mode) in [("warm", Isolation::Warm), ("strict", Isolation::Strict)] {
        let s = TestServer::start_scripts(
            &[
                ("rules/01-sloppy.js", SLOPPY_RULE),
                ("actions/01-cjs.js", COMMONJS_ACTION),
                ("actions/02-strict.js", STRICT_ACTION),
            ],
            |c| c.scripts.engine.isolation = mode,
        )
        .await;
        let c = s.claims().await;
        assert_eq!(
            c["https://t/sloppy"],
            json!(["sloppy", 3, 8, "with", 2, true, "number"]),
            "{isolation}: implicit global, octal literal, with, duplicate parameters, this, global"
        );
        assert_eq!(
            c["https://t/cjs"],
            json!([true, true, true, "object"]),
            "{isolation}: CommonJS this, __filename, global, exports"
        );
        assert_eq!(c["https://t/strict"], "ReferenceError", "{isolation}");
        s.stop().await;
    }
}
