//! What an Action reads: `event` in Auth0's shapes (with and without an organization or metadata),
//! `event.secrets`, and `event.transaction.metadata` flowing between Actions within its limits.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::{Map, json};

use super::tests_support::*;
use super::*;

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
