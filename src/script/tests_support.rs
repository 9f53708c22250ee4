//! What the engine tests share: a recording [`TestHost`], one login's [`input`], a [`ScriptSet`]
//! written to a temp dir ([`set_of`]), engines, and readers of an [`Outcome`]. The tests themselves
//! go through the public API (`load_scripts`, `ScriptEngine::run_login`), one file per subject:
//! `tests_globals`, `tests_event`, `tests_api`, `tests_rules`, `tests_failures`, `tests_isolation`.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value, json};

use super::cache::Cache;
use super::sandbox::Env;
use super::*;

type Patch = (String, MetadataKind, Map<String, Value>);

#[derive(Default)]
pub(super) struct TestHost {
    pub patches: Mutex<Vec<Patch>>,
    pub panic: bool,
    /// Rules' `auth0.accessToken`; `None`: none can be had.
    pub token: Option<String>,
    /// How many times the token was asked for.
    pub token_reads: std::sync::atomic::AtomicUsize,
}

impl Host for TestHost {
    fn patch_metadata(
        &self,
        user_id: &str,
        kind: MetadataKind,
        patch: &Map<String, Value>,
    ) -> Result<(), crate::script::PatchError> {
        if self.panic {
            panic!("test host panics");
        }
        if user_id == "fail" {
            return Err(crate::script::PatchError::NoSuchUser);
        }
        self.patches
            .lock()
            .unwrap()
            .push((user_id.into(), kind, patch.clone()));
        Ok(())
    }

    fn management_token(&self) -> Result<String, crate::script::TokenUnavailable> {
        self.token_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.token.clone().ok_or(crate::script::TokenUnavailable)
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
            options: Map::new(),
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
        refresh_token: None,
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

pub(super) fn claim(o: &Outcome, name: &str) -> Option<Value> {
    o.effects
        .access_claims
        .iter()
        .rev()
        .find(|c| c.name == name)
        .map(|c| c.value.clone())
}
pub(super) fn id_claim(o: &Outcome, name: &str) -> Option<Value> {
    o.effects
        .id_claims
        .iter()
        .rev()
        .find(|c| c.name == name)
        .map(|c| c.value.clone())
}

/// An Action whose body is `body`, inside `async (event, api) => { ... }`.
pub(super) fn act(body: &str) -> String {
    format!("exports.onExecutePostLogin = async (event, api) => {{\n{body}\n}};")
}

pub(super) fn rule(body: &str) -> String {
    format!("function (user, context, callback) {{\n{body}\n}}")
}

pub(super) fn deny_text(r: &Result<Outcome, ScriptError>) -> String {
    match r {
        Ok(Outcome {
            verdict: Verdict::Deny(m),
            ..
        }) => m.clone(),
        other => panic!("expected a deny, got {other:?}"),
    }
}

pub(super) fn error_kind(r: Result<Outcome, ScriptError>) -> (ScriptErrorKind, Option<String>) {
    match r {
        Err(e) => (e.kind, e.script.map(|s| s.to_string())),
        Ok(o) => panic!("expected an error, got {o:?}"),
    }
}

/// An engine with one worker, so that consecutive logins share it.
pub(super) fn one_worker(isolation: Isolation, host: Arc<TestHost>) -> ScriptEngine {
    let config = EngineConfig {
        workers: 1,
        isolation,
        ..EngineConfig::for_test()
    };
    ScriptEngine::start(config, host).unwrap()
}

/// Tests that install a scoped tracing subscriber hold this lock (one at a time). It also keeps a
/// second dispatcher registered for good: with a single live dispatcher, tracing-core computes a
/// callsite's interest from the *registering thread's* default, so a callsite first hit by
/// another test's thread (no subscriber) was cached as "never" and the scoped test lost lines.
pub(super) fn scoped_subscriber() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    static KEEP: OnceLock<tracing::Dispatch> = OnceLock::new();
    KEEP.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    ONE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The sandbox's environment for tests that build a [`Sandbox`](super::sandbox::Sandbox) directly
/// (its unit tests, `tests_console.rs`, `profile.rs`): a host that accepts every metadata patch,
/// a 32 MiB heap, a 256 KiB stack, and a 64-byte console cap.
pub(super) fn tests_env() -> Env {
    struct H;
    impl Host for H {
        fn patch_metadata(
            &self,
            _: &str,
            _: MetadataKind,
            _: &Map<String, Value>,
        ) -> Result<(), crate::script::PatchError> {
            Ok(())
        }
    }
    Env {
        host: Arc::new(H),
        cache: Arc::new(Cache::default()),
        shim_config_warm: r#"{"configuration":{},"secrets":{},"domain":"d","harden":true}"#.into(),
        shim_config_strict: r#"{"configuration":{},"secrets":{},"domain":"d","harden":false}"#
            .into(),
        memory_limit: 32 << 20,
        stack_size: 256 << 10,
        console_cap: 64,
        fetcher: Arc::new(super::fetch::Fetcher::new(super::FetchPolicy::default())),
    }
}
