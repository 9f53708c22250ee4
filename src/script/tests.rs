//! Engine tests through the public API: tiny scripts written to a temp dir, loaded with
//! `load_scripts` and run with `ScriptEngine::run_login`.
#![allow(clippy::unwrap_used)]

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
