//! The script seat of a login: runs the Rules then the Actions of a grant's [`LoginInput`] against
//! one snapshot of the script set (taken when the login starts, so that a reload mid-login never
//! mixes versions), and hands back the [`Outcome`]
//! (claims, scope edits, metadata changes, the verdict). Owns the engine and the reload task.
//!
//! Also the one place that decides what a script that failed to load does (`[scripts]
//! on_load_error`, see [`must_refuse`]): with `refuse`, `start` fails listing every load error,
//! and a login while the current set names a script that never loaded answers an error naming it
//! instead of running without it (a deny rule with a typo must not become an open door).

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::{Config, OnLoadError};
use crate::metrics::{Metrics, ScriptFailure};

/// Where Rules' `auth0.accessToken` comes from (the start-up builds it from the Management API's
/// token; the pipeline only hands it to the scripts' host).
pub type RulesToken = Box<dyn Fn() -> Result<String, TokenUnavailable> + Send + Sync>;
use crate::reload::{Folders, Reloader, log_new_errors};
use crate::script::{
    EngineConfig, Host, LoadError, LoginInput, MetadataKind, Outcome, PatchError, ScriptEngine,
    ScriptError, ScriptErrorKind, ScriptSet, TokenUnavailable, Trigger, Verdict,
};
use crate::store::Store;

/// Runs a login's scripts, and keeps the current script set fresh.
pub struct Pipeline {
    engine: Arc<ScriptEngine>,
    scripts: watch::Receiver<Arc<ScriptSet>>,
    reloader: Mutex<Option<Reloader>>,
    on_load_error: OnLoadError,
    /// Each script's runs and each trigger's failures are recorded here (none by default).
    metrics: Arc<Metrics>,
}

/// Why the pipeline cannot start.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the script engine cannot start: {0}")]
    Engine(#[from] ScriptError),
    /// Scripts failed to load and `on_load_error = "refuse"`: every error, one per line.
    #[error(
        "{} script file(s) failed to load; fix or remove them (or set [scripts] on_load_error = \"skip\" to start without them):{}",
        .0.len(),
        .0.iter().map(|e| format!("\n  {e}")).collect::<String>()
    )]
    NotLoaded(Vec<LoadError>),
}

/// The decision: whether logins against `set` must be refused, and for which script (the first
/// one that never loaded). With `skip`, never: the set runs without the scripts that failed.
pub fn must_refuse(set: &ScriptSet, policy: OnLoadError) -> Option<&Arc<str>> {
    match policy {
        OnLoadError::Refuse => set.not_loaded.first(),
        OnLoadError::Skip => None,
    }
}

impl Pipeline {
    /// Loads the scripts, starts the engine's workers and the reload task (call inside a tokio
    /// runtime). Refuses to start, listing every load error, when [`must_refuse`] says so.
    /// `rules_token` is Rules' `auth0.accessToken`.
    pub fn start(
        config: &Config,
        store: Store,
        clock: Clock,
        rules_token: RulesToken,
    ) -> Result<Pipeline, PipelineError> {
        let s = &config.scripts;
        let folders = Folders {
            actions: config.actions_dir.clone(),
            rules: config.rules_dir.clone(),
        };
        let first = folders.load(None, 1);
        log_new_errors(&[], &first.errors);
        if must_refuse(&first, s.on_load_error).is_some() {
            return Err(PipelineError::NotLoaded(first.errors));
        }
        let engine = ScriptEngine::start(
            EngineConfig {
                domain: domain_of(&config.issuer),
                ..s.engine.clone()
            },
            Arc::new(StoreHost {
                store,
                clock,
                rules_token,
            }),
        )?;
        let engine = Arc::new(engine);
        let first = Arc::new(first);
        engine.prepare(first.clone());
        let (tx, rx) = watch::channel(first);
        let reloader = Reloader::start(folders, s.debounce, s.poll, tx, engine.clone());
        Ok(Pipeline {
            engine,
            scripts: rx,
            reloader: Mutex::new(Some(reloader)),
            on_load_error: s.on_load_error,
            metrics: Arc::default(),
        })
    }

    /// Records every run into `metrics` from now on.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The script set new logins run against.
    pub fn current(&self) -> Arc<ScriptSet> {
        self.scripts.borrow().clone()
    }

    /// How long each abandoned (wedged, still running) script worker thread has been abandoned,
    /// for `/healthz`; see `ScriptEngine::abandoned_workers`.
    pub fn abandoned_workers(&self) -> Vec<std::time::Duration> {
        self.engine.abandoned_workers()
    }

    /// Runs every enabled Rule, then every Action, of the current script set; refuses, naming
    /// the script, while a script of that set never loaded (see [`must_refuse`]).
    pub async fn run(&self, input: LoginInput) -> Result<Outcome, ScriptError> {
        let result = match self.runnable() {
            Ok(set) => self.engine.run_login(set, input).await,
            Err(e) => Err(e),
        };
        record(&self.metrics, &result);
        result
    }

    /// Runs the Actions of a trigger without Rules (`Trigger::CredentialsExchange`, the
    /// registration triggers) of the current script set; refuses like [`run`](Self::run) while
    /// a script never loaded.
    pub async fn run_actions(&self, input: Trigger) -> Result<Outcome, ScriptError> {
        let result = match self.runnable() {
            Ok(set) => self.engine.run_actions(set, input).await,
            Err(e) => Err(e),
        };
        record(&self.metrics, &result);
        result
    }

    /// What runs a trigger's Actions later without anyone waiting for them (post-user-
    /// registration, which Auth0 runs asynchronously), taken now: it can be moved into a task of
    /// its own.
    pub fn later(&self) -> Later {
        Later {
            set: self.runnable(),
            engine: self.engine.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// The current set, unless [`must_refuse`] says a script of it never loaded.
    fn runnable(&self) -> Result<Arc<ScriptSet>, ScriptError> {
        let set = self.current();
        match must_refuse(&set, self.on_load_error) {
            Some(name) => Err(ScriptError::new(
                Some(name.clone()),
                ScriptErrorKind::NotLoaded,
            )),
            None => Ok(set),
        }
    }

    /// Stops the reload task (waiting for it, so that no reload races the shutdown) and the
    /// script workers.
    pub async fn shutdown(&self) {
        let reloader = self
            .reloader
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(r) = reloader {
            r.stop().await;
        }
        self.engine.shutdown();
    }
}

/// Records what the scripts of one trigger did: each script's run, and why the trigger was
/// refused or failed, if it was (a redirect or MFA is neither).
fn record(metrics: &Metrics, result: &Result<Outcome, ScriptError>) {
    if !metrics.is_on() {
        return;
    }
    let failure = match result {
        Ok(outcome) => {
            for (script, took) in outcome.script_times() {
                metrics.script_run(script, took);
            }
            match outcome.verdict {
                Verdict::Allow | Verdict::MfaRequired | Verdict::InteractionRequired(_) => None,
                Verdict::Deny(_) if outcome.threw => Some(ScriptFailure::throw),
                Verdict::Deny(_)
                | Verdict::Unauthorized(_)
                | Verdict::ValidationError { .. }
                | Verdict::CredentialsDenied { .. }
                | Verdict::RegistrationDenied { .. } => Some(ScriptFailure::deny),
            }
        }
        Err(e) => Some(match e.kind {
            ScriptErrorKind::Timeout => ScriptFailure::timeout,
            ScriptErrorKind::OutOfMemory => ScriptFailure::memory,
            ScriptErrorKind::NeverSettled => ScriptFailure::never_settled,
            ScriptErrorKind::NeverCalledBack => ScriptFailure::never_called_back,
            ScriptErrorKind::WorkerCrashed => ScriptFailure::worker_crashed,
            ScriptErrorKind::Overloaded { .. } => ScriptFailure::overloaded,
            ScriptErrorKind::NotLoaded => ScriptFailure::not_loaded,
            ScriptErrorKind::Engine(_) => ScriptFailure::engine,
        }),
    };
    if let Some(kind) = failure {
        metrics.script_failure(kind);
    }
}

/// A trigger's Actions to run later ([`Pipeline::later`]).
pub struct Later {
    set: Result<Arc<ScriptSet>, ScriptError>,
    engine: Arc<ScriptEngine>,
    metrics: Arc<Metrics>,
}

impl Later {
    /// Starts the Actions; a failure, a refusal or a set that cannot run is logged, nothing more.
    pub fn spawn(self, input: Trigger) {
        let Later {
            set,
            engine,
            metrics,
        } = self;
        let set = match set {
            Ok(set) => set,
            Err(e) => {
                tracing::warn!(target: "script", error = %e, "Actions not run");
                record(&metrics, &Err(e));
                return;
            }
        };
        tokio::spawn(async move {
            let result = engine.run_actions(set, input).await;
            record(&metrics, &result);
            match result {
                Ok(outcome) if !matches!(outcome.verdict, Verdict::Allow) => {
                    tracing::warn!(target: "script", verdict = ?outcome.verdict, "an Action failed; ignored");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(target: "script", error = %e, "an Action failed; ignored"),
            }
        });
    }
}

/// `auth0.domain`: the host of the issuer.
pub fn domain_of(issuer: &str) -> String {
    let rest = issuer.split_once("://").map_or(issuer, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Rules' `auth0.users.update*Metadata` write through here, and `auth0.accessToken` comes from
/// here, on a script worker thread.
struct StoreHost {
    store: Store,
    clock: Clock,
    rules_token: RulesToken,
}

impl Host for StoreHost {
    fn patch_metadata(
        &self,
        user_id: &str,
        kind: MetadataKind,
        patch: &Map<String, Value>,
    ) -> Result<(), PatchError> {
        let empty = Map::new();
        let (app, user) = match kind {
            MetadataKind::App => (patch, &empty),
            MetadataKind::User => (&empty, patch),
        };
        let now = self.clock.now_rfc3339();
        match self
            .store
            .call_sync(|db| db.patch_metadata(user_id, app, user, &now))
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(PatchError::NoSuchUser),
            Err(e) => {
                tracing::error!(error = %e, "metadata update from a rule failed");
                Err(PatchError::Failed)
            }
        }
    }

    fn management_token(&self) -> Result<String, TokenUnavailable> {
        (self.rules_token)()
    }
}
