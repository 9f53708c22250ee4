//! The engine's settings: isolation mode, limits, and what the shim is configured with.

use std::collections::HashMap;
use std::time::Duration;

use super::fetch::FetchPolicy;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// How much state survives between logins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// Auth0's warm containers: one context per worker and script-set version; module scope and
    /// Rules' `global` persist; built-ins are frozen. Recycled after `recycle_after_runs` logins
    /// and after any timeout, out-of-memory or engine error.
    #[default]
    Warm,
    /// A fresh runtime and context for every login: nothing survives.
    Strict,
}

/// Engine settings; see the README's "Scripts" section for what each means to a script author.
/// [`EngineConfig::default`] is the one home of their defaults: `config` builds this struct from
/// the `[scripts]` table over it.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Worker threads (default: available cores).
    pub workers: usize,
    pub isolation: Isolation,
    /// Wall clock for the whole login, all scripts together (default 5 s).
    pub login_timeout: Duration,
    /// Per runtime (default 32 MiB).
    pub memory_limit_bytes: usize,
    /// QuickJS stack limit (default 512 KiB); worker threads get a larger native stack.
    pub stack_size_bytes: usize,
    /// A warm context is rebuilt after this many logins (default 1000).
    pub recycle_after_runs: u32,
    /// `console.*` bytes logged per script per login (default 4096).
    pub console_cap_bytes: usize,
    /// Rules' `configuration` global.
    pub configuration: Map<String, Value>,
    /// Wedged worker threads still running after the watchdog gave up on them; at this many,
    /// logins are refused with `Overloaded` (default 2, at least 1).
    pub max_abandoned_workers: usize,
    /// Every Action's `event.secrets`.
    pub shared_secrets: Map<String, Value>,
    /// Per Action (file stem), merged over `shared_secrets`.
    pub action_secrets: HashMap<String, Map<String, Value>>,
    /// `auth0.domain`.
    pub domain: String,
    /// Rules' `auth0.baseUrl`: the Management API's URL, `<issuer>api/v2`.
    pub base_url: String,
    /// The scripts' `process.env` (Node globals): names to strings, empty by default. Nothing
    /// of the server's own environment reaches scripts unless it is copied here.
    pub process_env: std::collections::BTreeMap<String, String>,
    /// Where `fetch` may go (none by default) and how much it may read (default 1 MiB).
    pub fetch: FetchPolicy,
    /// Test-only: warm contexts skip `harden()`, so built-ins stay writable. It exists for the
    /// hostile suite's positive control (a leak probe must fail without hardening); off by
    /// default, and no configuration file or environment variable reaches it.
    #[doc(hidden)]
    pub unhardened_for_test: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            isolation: Isolation::Warm,
            login_timeout: Duration::from_secs(5),
            memory_limit_bytes: 32 << 20,
            stack_size_bytes: 512 << 10,
            recycle_after_runs: 1000,
            console_cap_bytes: 4096,
            max_abandoned_workers: 2,
            configuration: Map::new(),
            shared_secrets: Map::new(),
            action_secrets: HashMap::new(),
            domain: "localhost".into(),
            base_url: "http://localhost/api/v2".into(),
            process_env: Default::default(),
            fetch: FetchPolicy::default(),
            unhardened_for_test: false,
        }
    }
}

impl EngineConfig {
    /// Small limits for tests: 2 workers, 300 ms per login, 8 MiB heap.
    pub fn for_test() -> Self {
        EngineConfig {
            workers: 2,
            login_timeout: Duration::from_millis(300),
            memory_limit_bytes: 8 << 20,
            recycle_after_runs: 50,
            ..EngineConfig::default()
        }
    }

    pub(super) fn shim_config(&self, harden: bool) -> String {
        let mut secrets = Map::new();
        for (name, own) in &self.action_secrets {
            let mut merged = self.shared_secrets.clone();
            merged.extend(own.clone());
            secrets.insert(name.clone(), Value::Object(merged));
        }
        // Actions without their own entry get the shared secrets.
        secrets.insert(
            "\u{0}shared".into(),
            Value::Object(self.shared_secrets.clone()),
        );
        json!({"configuration": self.configuration, "secrets": secrets, "domain": self.domain, "baseUrl": self.base_url, "harden": harden, "processEnv": self.process_env})
            .to_string()
    }
}
