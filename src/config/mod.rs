//! Configuration in two stages: [`FileConfig`], the raw TOML with every field optional and
//! unknown keys refused, overlaid by `CLAIMSMITH_*` environment variables; then [`Config`], checked
//! and concrete. Precedence: command-line flag > environment > file > default.
//! Every key is documented in the README ("Configuration"), with its default.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

mod debug;
mod env;

use crate::script::{EngineConfig, Isolation};
pub use debug::{DebugConfig, DebugFile};
use env::{file_table, overlay_env};

/// A configuration that cannot be used; names the key and, where there is one, the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// What a script that fails to load (compile, shape check, a throw at its top level) does to
/// logins: `[scripts] on_load_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnLoadError {
    /// Fail closed: `serve` does not start, and after a hot reload a file that has never loaded
    /// makes every login answer 500 until it is fixed or removed.
    #[default]
    Refuse,
    /// Leave the file out and run the logins without it (the behaviour before issue 9).
    Skip,
}

/// How the reload task learns that a script file changed: `[scripts] watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Watch {
    /// The OS's file notifications, falling back to polling when none can be had.
    #[default]
    Auto,
    /// Always poll (network and container file systems often deliver no notifications).
    Poll,
}

file_table! {
    /// The TOML file, as written; each key is documented in the README ("Configuration").
    pub struct FileConfig {
        listen: String,
        db: PathBuf,
        actions: PathBuf,
        rules: PathBuf,
        issuer: String,
        tenant: String,
        default_connection: String,
        default_audience: String,
        access_token_lifetime_s: u64,
        id_token_lifetime_s: u64,
        log_format: LogFormat,
        tls_cert: PathBuf,
        tls_key: PathBuf,
        insecure_http: bool,
        max_body_bytes: usize,
        max_token_bytes: usize,
        max_connections: usize,
        max_connections_per_ip: usize,
        header_timeout_ms: u64,
        idle_timeout_ms: u64,
        health_token: String,
        metrics: bool,
        metrics_token: String,
        hash_concurrency: usize,
        hash_queue: usize,
        shutdown_grace_ms: u64,
        brute_force_threshold: u32,
        brute_force_block_s: u64,
        rehash_passwords: bool,
        refresh_token_lifetime_s: u64,
        refresh_token_idle_lifetime_s: u64,
        refresh_token_reuse_leeway_s: u64,
        signup_user_exists_error: bool,
    }
    tables {
        scripts: ScriptsFile,
        debug: DebugFile,
    }
}

file_table! {
    /// The `[scripts]` table. The engine's defaults are `EngineConfig::default()`'s.
    pub struct ScriptsFile {
        isolation: Isolation,
        timeout_ms: u64,
        memory_limit_mb: usize,
        stack_kb: usize,
        workers: usize,
        recycle_after_runs: u32,
        console_cap_bytes: usize,
        max_abandoned_workers: usize,
        debounce_ms: u64,
        watch: Watch,
        on_load_error: OnLoadError,
        fetch_allow: Vec<String>,
        fetch_max_bytes: usize,
    }
    tables {
        configuration: Map<String, Value>,
        secrets: Map<String, Value>,
        action_secrets: HashMap<String, Map<String, Value>>,
        process_env: Map<String, Value>,
    }
}

/// What the command line may override.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub db: Option<PathBuf>,
    pub actions: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub issuer: Option<String>,
    pub log_json: bool,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub insecure_http: bool,
}

/// Script settings: the engine's own config, built straight from the `[scripts]` table, and what
/// the reload task and the pipeline need besides.
#[derive(Debug, Clone)]
pub struct ScriptsConfig {
    /// Everything but what follows the issuer: `domain` (`Pipeline::start` sets it), `base_url`
    /// and `fetch`'s allowance of the server itself (`bootstrap::app_state` sets them).
    pub engine: EngineConfig,
    /// Quiet time after a file change before the scripts reload (`debounce_ms`).
    pub debounce: Duration,
    /// Poll the script folders instead of using the OS's notifications (`watch = "poll"`).
    pub poll: bool,
    /// Whether a script that fails to load refuses the start and the logins, or is left out.
    pub on_load_error: OnLoadError,
}

impl ScriptsFile {
    /// Every key given overrides `EngineConfig::default()`, the one home of the engine's defaults.
    fn resolve(self) -> Result<ScriptsConfig, ConfigError> {
        let d = EngineConfig::default();
        let timeout = match self.timeout_ms {
            Some(ms) => Duration::from_millis(positive("scripts.timeout_ms", ms)?),
            None => d.login_timeout,
        };
        let max_abandoned_workers = match self.max_abandoned_workers {
            Some(n) => positive("scripts.max_abandoned_workers", n as u64)? as usize,
            None => d.max_abandoned_workers,
        };
        // Node's `process.env` holds strings only.
        let mut process_env = std::collections::BTreeMap::new();
        for (name, v) in self.process_env {
            let Value::String(text) = v else {
                return Err(invalid(
                    "scripts.process_env",
                    format!("{name}: values must be strings"),
                ));
            };
            process_env.insert(name, text);
        }
        let fetch = crate::script::FetchPolicy::new(
            &self.fetch_allow.unwrap_or_default(),
            self.fetch_max_bytes.unwrap_or(d.fetch.max_bytes),
        )
        .map_err(|e| invalid("scripts.fetch_allow", e))?;
        let engine = EngineConfig {
            workers: self.workers.unwrap_or(d.workers).max(1),
            isolation: self.isolation.unwrap_or(d.isolation),
            login_timeout: timeout,
            memory_limit_bytes: self
                .memory_limit_mb
                .map_or(d.memory_limit_bytes, |mb| mb << 20),
            stack_size_bytes: self.stack_kb.map_or(d.stack_size_bytes, |kb| kb << 10),
            recycle_after_runs: self
                .recycle_after_runs
                .unwrap_or(d.recycle_after_runs)
                .max(1),
            console_cap_bytes: self.console_cap_bytes.unwrap_or(d.console_cap_bytes),
            max_abandoned_workers,
            configuration: self.configuration,
            shared_secrets: self.secrets,
            action_secrets: self.action_secrets,
            process_env,
            fetch,
            ..d
        };
        Ok(ScriptsConfig {
            engine,
            debounce: Duration::from_millis(self.debounce_ms.unwrap_or(50)),
            poll: self.watch.unwrap_or_default() == Watch::Poll,
            on_load_error: self.on_load_error.unwrap_or_default(),
        })
    }
}

fn positive(key: &'static str, v: u64) -> Result<u64, ConfigError> {
    if v == 0 {
        Err(invalid(key, "must be greater than 0"))
    } else {
        Ok(v)
    }
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub db: PathBuf,
    pub actions_dir: PathBuf,
    pub rules_dir: PathBuf,
    /// Always ends with `/`, as Auth0's does.
    pub issuer: String,
    pub tenant: String,
    /// `None` when configured as `""`: then a password grant needs a `realm`.
    pub default_connection: Option<String>,
    /// The issuer was derived from `listen`, so it follows the address actually bound.
    pub issuer_derived: bool,
    pub default_audience: Option<String>,
    /// Lifetime of access tokens for the `/userinfo` audience (APIs carry their own).
    pub access_token_lifetime_s: u64,
    pub id_token_lifetime_s: u64,
    pub log_format: LogFormat,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub insecure_http: bool,
    pub max_body_bytes: usize,
    /// Longest signed token (access or ID) a login may get; README "Token size".
    pub max_token_bytes: usize,
    pub max_connections: usize,
    /// Connections one client IP may hold at once.
    pub max_connections_per_ip: usize,
    /// A connection must deliver a complete request within this time of opening (and HTTP/1
    /// headers within it once started), whatever the protocol.
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/1 keep-alive, HTTP/2).
    pub idle_timeout: Duration,
    /// Bearer token that unlocks `/healthz`'s detail; without one, loopback callers get it.
    pub health_token: Option<String>,
    /// Serve `GET /metrics` (off by default).
    pub metrics: bool,
    /// Bearer token a scraper presents to `/metrics`; without one, loopback callers only.
    pub metrics_token: Option<String>,
    pub hash_concurrency: usize,
    pub hash_queue: usize,
    pub shutdown_grace: Duration,
    /// Consecutive failures of one login name from one IP before it is blocked (0: never).
    pub brute_force_threshold: u32,
    pub brute_force_block: Duration,
    /// Replace a password hash of an older scheme or cost at the user's next successful login.
    pub rehash_passwords: bool,
    /// Refresh tokens (Auth0's defaults): a family lives at most this long from its login...
    pub refresh_token_lifetime_s: u64,
    /// ...and each token this long unused.
    pub refresh_token_idle_lifetime_s: u64,
    /// How long a rotated token may still be exchanged (a client's retry racing its own
    /// exchange) before its reuse revokes the family; 0 as in Auth0's default.
    pub refresh_token_reuse_leeway_s: u64,
    /// Whether a signup for an email or username already taken says so (`user_exists`), or
    /// answers Auth0's generic `invalid_signup` (the default: no enumeration through signup).
    pub signup_user_exists_error: bool,
    pub scripts: ScriptsConfig,
    pub debug: DebugConfig,
}

impl Config {
    /// Reads `file` (if any), overlays the environment and `flags`, and checks the result.
    pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str::<toml::Table>(&text).map_err(|e| ConfigError::Parse {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
            }
            None => toml::Table::new(),
        };
        overlay_env(&mut table, std::env::vars());
        let raw =
            FileConfig::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Parse {
                path: file.map_or("(environment)".into(), |p| p.display().to_string()),
                message: e.to_string(),
            })?;
        Self::from_file(raw, flags)
    }

    /// Checks a raw configuration with `flags` on top.
    pub fn from_file(f: FileConfig, flags: &Overrides) -> Result<Config, ConfigError> {
        let listen_text = flags
            .listen
            .clone()
            .or(f.listen)
            .unwrap_or("127.0.0.1:3000".into());
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| invalid("listen", format!("`{listen_text}` is not an address:port")))?;
        let tls = match (
            flags.tls_cert.clone().or(f.tls_cert),
            flags.tls_key.clone().or(f.tls_key),
        ) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err(invalid("tls_cert", "tls_cert and tls_key go together")),
        };
        let insecure_http = flags.insecure_http || f.insecure_http.unwrap_or(false);
        if !listen.ip().is_loopback() && tls.is_none() && !insecure_http {
            return Err(invalid(
                "listen",
                format!(
                    "{listen} is not a loopback address and TLS is off: passwords would cross the \
                     network in clear. Give --tls-cert/--tls-key, or --insecure-http if a \
                     TLS-terminating proxy is in front"
                ),
            ));
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        let configured_issuer = flags.issuer.clone().or(f.issuer);
        let issuer_derived = configured_issuer.is_none();
        let mut issuer = configured_issuer.unwrap_or_else(|| format!("{scheme}://{listen}/"));
        if !issuer.starts_with("http://") && !issuer.starts_with("https://") {
            return Err(invalid("issuer", "must be an http:// or https:// URL"));
        }
        if !issuer.ends_with('/') {
            issuer.push('/');
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Config {
            listen,
            db: flags
                .db
                .clone()
                .or(f.db)
                .unwrap_or_else(|| "./claimsmith.db".into()),
            actions_dir: flags
                .actions
                .clone()
                .or(f.actions)
                .unwrap_or_else(|| "./actions".into()),
            rules_dir: flags
                .rules
                .clone()
                .or(f.rules)
                .unwrap_or_else(|| "./rules".into()),
            issuer,
            tenant: f.tenant.unwrap_or_else(|| "claimsmith".into()),
            default_connection: match f.default_connection {
                None => Some("Username-Password-Authentication".into()),
                Some(c) if c.is_empty() => None,
                Some(c) => Some(c),
            },
            issuer_derived,
            default_audience: f.default_audience.filter(|a| !a.is_empty()),
            access_token_lifetime_s: positive(
                "access_token_lifetime_s",
                f.access_token_lifetime_s.unwrap_or(86_400),
            )?,
            id_token_lifetime_s: positive(
                "id_token_lifetime_s",
                f.id_token_lifetime_s.unwrap_or(36_000),
            )?,
            log_format: if flags.log_json {
                LogFormat::Json
            } else {
                f.log_format.unwrap_or_default()
            },
            tls,
            insecure_http,
            max_body_bytes: positive(
                "max_body_bytes",
                f.max_body_bytes.unwrap_or(64 * 1024) as u64,
            )? as usize,
            max_token_bytes: positive("max_token_bytes", f.max_token_bytes.unwrap_or(8000) as u64)?
                as usize,
            max_connections: positive("max_connections", f.max_connections.unwrap_or(1024) as u64)?
                as usize,
            max_connections_per_ip: positive(
                "max_connections_per_ip",
                f.max_connections_per_ip.unwrap_or(256) as u64,
            )? as usize,
            header_timeout: Duration::from_millis(positive(
                "header_timeout_ms",
                f.header_timeout_ms.unwrap_or(10_000),
            )?),
            idle_timeout: Duration::from_millis(positive(
                "idle_timeout_ms",
                f.idle_timeout_ms.unwrap_or(60_000),
            )?),
            health_token: f.health_token.filter(|t| !t.is_empty()),
            metrics: f.metrics.unwrap_or(false),
            metrics_token: f.metrics_token.filter(|t| !t.is_empty()),
            hash_concurrency: f.hash_concurrency.unwrap_or(cores),
            hash_queue: f.hash_queue.unwrap_or(256),
            shutdown_grace: Duration::from_millis(f.shutdown_grace_ms.unwrap_or(10_000)),
            brute_force_threshold: f.brute_force_threshold.unwrap_or(10),
            brute_force_block: Duration::from_secs(f.brute_force_block_s.unwrap_or(30 * 86_400)),
            rehash_passwords: f.rehash_passwords.unwrap_or(true),
            refresh_token_lifetime_s: positive(
                "refresh_token_lifetime_s",
                f.refresh_token_lifetime_s.unwrap_or(30 * 86_400),
            )?,
            refresh_token_idle_lifetime_s: positive(
                "refresh_token_idle_lifetime_s",
                f.refresh_token_idle_lifetime_s.unwrap_or(15 * 86_400),
            )?,
            refresh_token_reuse_leeway_s: f.refresh_token_reuse_leeway_s.unwrap_or(0),
            signup_user_exists_error: f.signup_user_exists_error.unwrap_or(false),
            scripts: f.scripts.resolve()?,
            debug: f.debug.resolve()?,
        })
    }

    /// After binding: a derived issuer names the address actually bound (port 0 in tests).
    pub fn bound_to(&mut self, addr: SocketAddr) {
        self.listen = addr;
        if self.issuer_derived {
            let scheme = if self.tls.is_some() { "https" } else { "http" };
            self.issuer = format!("{scheme}://{addr}/");
        }
    }

    /// The connection of a password grant without `realm`, or of a CLI command without
    /// `--connection`.
    pub fn connection_or_default(&self, given: Option<String>) -> Option<String> {
        given.or_else(|| self.default_connection.clone())
    }

    /// A valid configuration rooted in `dir` (tests): database, scripts and keys inside it,
    /// listening on an ephemeral loopback port.
    pub fn for_test(dir: &Path) -> Config {
        let flags = Overrides {
            listen: Some("127.0.0.1:0".into()),
            db: Some(dir.join("claimsmith.db")),
            actions: Some(dir.join("actions")),
            rules: Some(dir.join("rules")),
            issuer: Some("http://claimsmith.test/".into()),
            ..Overrides::default()
        };
        let mut c = Config::from_file(FileConfig::default(), &flags)
            .expect("the test configuration is valid");
        c.scripts.engine.login_timeout = Duration::from_millis(1_000);
        c.hash_concurrency = 2;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        toml_text: &str,
        env: &[(&str, &str)],
        flags: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut t: toml::Table = toml::from_str(toml_text).unwrap();
        overlay_env(
            &mut t,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let f = FileConfig::deserialize(toml::Value::Table(t)).map_err(|e| ConfigError::Parse {
            path: "t".into(),
            message: e.to_string(),
        })?;
        Config::from_file(f, flags)
    }

    #[test]
    fn defaults() {
        let c = load("", &[], &Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.issuer, "http://127.0.0.1:3000/");
        assert_eq!(
            c.default_connection.as_deref(),
            Some("Username-Password-Authentication")
        );
        assert_eq!(c.scripts.engine.login_timeout, Duration::from_secs(5));
        assert_eq!(c.scripts.engine.memory_limit_bytes, 32 << 20);
        assert_eq!(c.scripts.engine.isolation, Isolation::Warm);
        assert_eq!(c.max_token_bytes, 8000);
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let file =
            "issuer = \"https://file.example\"\ntenant = \"f\"\n[scripts]\ntimeout_ms = 100\n";
        let env = [
            ("CLAIMSMITH_ISSUER", "https://env.example/"),
            ("CLAIMSMITH_TENANT", "123"),
            ("CLAIMSMITH_SCRIPTS_TIMEOUT_MS", "200"),
            ("CLAIMSMITH_SECRET_API_KEY", "s3cret"),
            ("CLAIMSMITH_UNRELATED", "x"),
        ];
        let flags = Overrides {
            issuer: Some("https://flag.example".into()),
            ..Default::default()
        };
        let c = load(file, &env, &flags).unwrap();
        assert_eq!(c.issuer, "https://flag.example/");
        assert_eq!(c.tenant, "123", "text keys stay text");
        assert_eq!(c.scripts.engine.login_timeout, Duration::from_millis(200));
        assert_eq!(c.scripts.engine.shared_secrets["API_KEY"], "s3cret");
    }

    #[test]
    fn process_env_comes_from_the_file_and_the_environment_and_holds_strings() {
        let file = "[scripts.process_env]\nNODE_ENV = \"production\"\nREGION = \"eu\"\n";
        let env = [("CLAIMSMITH_PROCESS_ENV_REGION", "us")];
        let c = load(file, &env, &Overrides::default()).unwrap();
        let got: Vec<_> = c.scripts.engine.process_env.into_iter().collect();
        assert_eq!(
            got,
            [
                ("NODE_ENV".to_owned(), "production".to_owned()),
                ("REGION".to_owned(), "us".to_owned())
            ]
        );
        let e = load("[scripts.process_env]\nN = 1\n", &[], &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("scripts.process_env"), "{e}");
        let c = load("", &[], &Overrides::default()).unwrap();
        assert!(c.scripts.engine.process_env.is_empty());
    }

    #[test]
    fn max_abandoned_workers_defaults_to_2_and_refuses_0() {
        let c = load("", &[], &Overrides::default()).unwrap();
        assert_eq!(c.scripts.engine.max_abandoned_workers, 2);
        let env = [("CLAIMSMITH_SCRIPTS_MAX_ABANDONED_WORKERS", "5")];
        let c = load("", &env, &Overrides::default()).unwrap();
        assert_eq!(c.scripts.engine.max_abandoned_workers, 5);
        let e = load(
            "[scripts]\nmax_abandoned_workers = 0",
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("scripts.max_abandoned_workers"),
            "{e}"
        );
    }

    #[test]
    fn on_load_error_defaults_to_refuse_and_takes_skip_from_file_or_env() {
        let c = load("", &[], &Overrides::default()).unwrap();
        assert_eq!(c.scripts.on_load_error, OnLoadError::Refuse);
        let c = load(
            "[scripts]\non_load_error = \"skip\"",
            &[],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.scripts.on_load_error, OnLoadError::Skip);
        let env = [("CLAIMSMITH_SCRIPTS_ON_LOAD_ERROR", "skip")];
        let c = load("", &env, &Overrides::default()).unwrap();
        assert_eq!(c.scripts.on_load_error, OnLoadError::Skip);
        let e = load(
            "[scripts]\non_load_error = \"ignore\"",
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("on_load_error"), "{e}");
    }

    #[test]
    fn refusals_name_the_key() {
        let e = load("colour = 1", &[], &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let e = load("listen = \"0.0.0.0:3000\"", &[], &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("`listen`"), "{e}");
        let ok = load(
            "listen = \"0.0.0.0:3000\"\ninsecure_http = true",
            &[],
            &Overrides::default(),
        );
        assert!(ok.is_ok());
        let e = load(
            "[scripts]\nisolation = \"loose\"",
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("scripts.isolation"), "{e}");
    }

    /// The README's "Configuration" section.
    fn readme_section() -> &'static str {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("\n## Configuration\n")
            .expect("README has a Configuration section");
        let rest = &readme[start + 1..];
        let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
        &rest[..end]
    }

    /// Every documented key: (its table, `""` for the top level; key; its default when written
    /// as a literal).
    fn documented_keys() -> Vec<(&'static str, String, Option<String>)> {
        let mut table = "";
        let mut keys = Vec::new();
        for line in readme_section().lines() {
            if line.starts_with("`[scripts]` table") {
                table = "scripts";
            } else if line.starts_with("`[debug]` table") {
                table = "debug";
            }
            let Some(row) = line.strip_prefix("| `") else {
                continue;
            };
            let cells: Vec<&str> = row.split(" | ").collect();
            let default = cells[1].trim();
            let literal = (default.len() > 2 && default.starts_with('`') && default.ends_with('`'))
                .then(|| default.trim_matches('`'))
                .filter(|d| !d.contains('<'));
            for name in cells[0].split('`').filter(|n| !n.is_empty() && *n != ", ") {
                let name = name.trim_start_matches("[scripts.").trim_end_matches(']');
                let name = name.split('.').next().unwrap_or(name);
                keys.push((table, name.to_owned(), literal.map(str::to_owned)));
            }
        }
        keys
    }

    #[test]
    fn readme_documents_exactly_the_keys_the_file_takes() {
        let keys = documented_keys();
        let names = |table: &str| {
            let mut v: Vec<&str> = keys
                .iter()
                .filter(|k| k.0 == table)
                .map(|k| k.1.as_str())
                .collect();
            v.sort_unstable();
            v
        };
        let sorted = |a: &[&'static str], b: &[&'static str]| {
            let mut v = [a, b].concat();
            v.sort_unstable();
            v
        };
        assert_eq!(names(""), sorted(FileConfig::KEYS, &[]));
        assert_eq!(FileConfig::TABLES, ["scripts", "debug"]);
        assert!(readme_section().contains("`[scripts]` table"));
        assert_eq!(
            names("scripts"),
            sorted(ScriptsFile::KEYS, ScriptsFile::TABLES)
        );
        assert_eq!(names("debug"), sorted(DebugFile::KEYS, DebugFile::TABLES));
    }

    #[test]
    fn readme_defaults_deserialize_and_are_the_defaults() {
        let mut tables: HashMap<&str, toml::Table> = HashMap::new();
        for (table, key, default) in documented_keys() {
            let Some(d) = default else { continue };
            let value = toml::from_str::<toml::Table>(&format!("v = {d}")).map_or_else(
                |_| toml::Value::from(d.clone()),
                |mut t| t.remove("v").unwrap(),
            );
            tables.entry(table).or_default().insert(key, value);
        }
        let mut top = tables.remove("").unwrap();
        assert!(tables["scripts"].contains_key("isolation") && top.contains_key("listen"));
        assert_eq!(tables["debug"].len(), DebugFile::KEYS.len());
        for (name, t) in tables {
            top.insert(name.into(), t.into());
        }
        let written = FileConfig::deserialize(toml::Value::Table(top)).unwrap();
        let written = Config::from_file(written, &Overrides::default()).unwrap();
        let defaults = Config::from_file(FileConfig::default(), &Overrides::default()).unwrap();
        assert_eq!(format!("{written:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn debug_is_off_by_default_and_comes_from_the_file_or_the_environment() {
        let c = load("", &[], &Overrides::default()).unwrap();
        let off = DebugConfig {
            record: false,
            record_keep: 100,
            provenance: false,
        };
        assert_eq!(c.debug, off);
        let c = load(
            "[debug]\nrecord = true\nrecord_keep = 3",
            &[("CLAIMSMITH_DEBUG_PROVENANCE", "true")],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            c.debug,
            DebugConfig {
                record: true,
                record_keep: 3,
                provenance: true
            }
        );
        let env = [
            ("CLAIMSMITH_DEBUG_RECORD", "true"),
            ("CLAIMSMITH_DEBUG_RECORD_KEEP", "7"),
        ];
        let c = load("", &env, &Overrides::default()).unwrap();
        assert!(c.debug.record && c.debug.record_keep == 7);
        let e = load("[debug]\nrecord_keep = 0", &[], &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("debug.record_keep"), "{e}");
        let e = load("[debug]\nrecrod = true", &[], &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("recrod"), "{e}");
    }

    #[test]
    fn readme_example_deserializes() {
        let section = readme_section();
        let start = section.find("```toml\n").expect("an example") + 8;
        let end = start + section[start..].find("```").expect("closed");
        let example: toml::Table = toml::from_str(&section[start..end]).unwrap();
        let f = FileConfig::deserialize(toml::Value::Table(example)).unwrap();
        assert!(Config::from_file(f, &Overrides::default()).is_ok());
    }

    #[test]
    fn every_key_can_come_from_the_environment_typed_as_its_field() {
        let mut t = toml::Table::new();
        let vars = FileConfig::KEYS
            .iter()
            .map(|k| (format!("CLAIMSMITH_{}", k.to_uppercase()), "1".to_owned()))
            .chain(ScriptsFile::KEYS.iter().map(|k| {
                (
                    format!("CLAIMSMITH_SCRIPTS_{}", k.to_uppercase()),
                    "1".to_owned(),
                )
            }))
            .chain(DebugFile::KEYS.iter().map(|k| {
                (
                    format!("CLAIMSMITH_DEBUG_{}", k.to_uppercase()),
                    "1".to_owned(),
                )
            }))
            .chain([("CLAIMSMITH_SCRIPTS_SECRETS".into(), "x".into())]);
        overlay_env(&mut t, vars);
        assert_eq!(
            t.len(),
            FileConfig::KEYS.len() + 2,
            "every top key, [scripts] and [debug]"
        );
        assert_eq!(t["debug"].as_table().unwrap().len(), DebugFile::KEYS.len());
        let scripts = t["scripts"].as_table().unwrap();
        assert_eq!(
            scripts.len(),
            ScriptsFile::KEYS.len(),
            "tables are not env keys"
        );
        assert_eq!(t["hash_queue"], toml::Value::Integer(1));
        assert_eq!(
            t["tenant"],
            toml::Value::String("1".into()),
            "text stays text"
        );
        assert_eq!(t["db"], toml::Value::String("1".into()), "paths are text");
        assert_eq!(scripts["isolation"], toml::Value::String("1".into()));
        let env = [
            ("CLAIMSMITH_INSECURE_HTTP", "true"),
            ("CLAIMSMITH_LISTEN", "0.0.0.0:3000"),
            ("CLAIMSMITH_SCRIPTS_ISOLATION", "strict"),
            ("CLAIMSMITH_SCRIPTS_WATCH", "poll"),
        ];
        let c = load("", &env, &Overrides::default()).unwrap();
        assert!(c.insecure_http);
        assert_eq!(c.scripts.engine.isolation, Isolation::Strict);
        assert!(c.scripts.poll);
    }
}
