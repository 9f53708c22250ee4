//! [`ScriptEngine`]: a pool of OS threads, each owning its sandboxes (rquickjs is `!Send`), fed
//! from tokio over a bounded channel with a oneshot reply per login.
//!
//! The login deadline is enforced twice: inside QuickJS by the interrupt handler, and from the
//! caller by `tokio::time::timeout_at(deadline + grace)`. When the second fires, the worker is
//! wedged (e.g. in `Array.prototype.join`, which never polls the interrupt): it is retired and a
//! fresh thread takes its place; the stuck one exits whenever its builtin returns. A panic in a
//! worker answers `WorkerCrashed` and the worker is replaced the same way.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

use super::cache::Cache;
use super::catalog::ScriptSet;
use super::sandbox::{Deadline, Env, Failure, Progress, Sandbox, SandboxError};
use super::{Host, LoginInput, Outcome, ScriptError, ScriptErrorKind, ScriptKind, shape};

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

/// Engine settings; see `SCRIPT-CONTRACT.md` for what each means to a script author.
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
    /// Every Action's `event.secrets`.
    pub shared_secrets: Map<String, Value>,
    /// Per Action (file stem), merged over `shared_secrets`.
    pub action_secrets: HashMap<String, Map<String, Value>>,
    /// `auth0.domain`.
    pub domain: String,
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
            configuration: Map::new(),
            shared_secrets: Map::new(),
            action_secrets: HashMap::new(),
            domain: "localhost".into(),
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

    fn shim_config(&self, harden: bool) -> String {
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
        json!({"configuration": self.configuration, "secrets": secrets, "domain": self.domain, "harden": harden})
            .to_string()
    }
}

/// How long an idle worker polls the queue before it parks.
const SPIN_BEFORE_PARK: Duration = Duration::from_micros(200);

enum Msg {
    Login(Box<LoginJob>),
    Prepare(Arc<ScriptSet>),
}

struct LoginJob {
    set: Arc<ScriptSet>,
    input: LoginInput,
    deadline: Instant,
    progress: Arc<Progress>,
    worker: Arc<Mutex<Option<Arc<WorkerSlot>>>>,
    reply: oneshot::Sender<Result<Outcome, ScriptError>>,
}

struct WorkerSlot {
    retired: AtomicBool,
}

struct Shared {
    rx: Mutex<mpsc::Receiver<Msg>>,
    env: Env,
    isolation: Isolation,
    recycle_after_runs: u32,
    native_stack: usize,
    stopping: AtomicBool,
    next_id: AtomicUsize,
}

/// The script engine. Cheap to share behind an `Arc`; stops its workers on drop.
pub struct ScriptEngine {
    shared: Arc<Shared>,
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    login_timeout: Duration,
    workers: usize,
}

impl std::fmt::Debug for ScriptEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptEngine")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl ScriptEngine {
    /// Starts `config.workers` threads. Fails if no thread could be started or the shim does
    /// not compile.
    pub fn start(config: EngineConfig, host: Arc<dyn Host>) -> Result<ScriptEngine, ScriptError> {
        let workers = config.workers.max(1);
        let (tx, rx) = mpsc::channel(workers * 64);
        let shared = Arc::new(Shared {
            rx: Mutex::new(rx),
            env: Env {
                host,
                cache: Arc::new(Cache::default()),
                shim_config_warm: config.shim_config(true),
                shim_config_strict: config.shim_config(false),
                memory_limit: config.memory_limit_bytes,
                stack_size: config.stack_size_bytes,
                console_cap: config.console_cap_bytes,
            },
            isolation: config.isolation,
            recycle_after_runs: config.recycle_after_runs.max(1),
            native_stack: (config.stack_size_bytes * 4).max(4 << 20),
            stopping: AtomicBool::new(false),
            next_id: AtomicUsize::new(0),
        });
        let mut started = 0;
        for _ in 0..workers {
            if Shared::spawn_worker(&shared) {
                started += 1;
            }
        }
        if started == 0 {
            return Err(ScriptError::new(
                None,
                ScriptErrorKind::Engine("no script worker could start".into()),
            ));
        }
        Ok(ScriptEngine {
            shared,
            tx: Mutex::new(Some(tx)),
            login_timeout: config.login_timeout,
            workers,
        })
    }

    fn sender(&self) -> Option<mpsc::Sender<Msg>> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs enabled Rules in order, then Actions in order, against this one snapshot. Never
    /// blocks the calling tokio worker; answers by the login deadline (plus a small grace) even
    /// if a worker is wedged.
    pub async fn run_login(
        &self,
        set: Arc<ScriptSet>,
        input: LoginInput,
    ) -> Result<Outcome, ScriptError> {
        if set.rules.is_empty() && !set.actions.iter().any(|a| a.post_login) {
            return Ok(Outcome::default());
        }
        let start = Instant::now();
        let deadline = start + self.login_timeout;
        let grace =
            (self.login_timeout / 10).clamp(Duration::from_millis(20), Duration::from_millis(500));
        let Some(tx) = self.sender() else {
            return Err(ScriptError::new(
                None,
                ScriptErrorKind::Engine("engine stopped".into()),
            ));
        };
        let (reply, answer) = oneshot::channel();
        let progress = Arc::new(Progress::default());
        let worker = Arc::new(Mutex::new(None));
        let job = LoginJob {
            set,
            input,
            deadline,
            progress: progress.clone(),
            worker: worker.clone(),
            reply,
        };
        let wait = async {
            tx.send(Msg::Login(Box::new(job))).await.ok()?;
            answer.await.ok()
        };
        match tokio::time::timeout_at((deadline + grace).into(), wait).await {
            Ok(Some(result)) => result,
            Ok(None) => Err(ScriptError::new(
                progress.current(),
                ScriptErrorKind::WorkerCrashed,
            )),
            Err(_) => {
                let slot = worker.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(slot) = slot {
                    tracing::warn!(target: "script", "a script worker is wedged past the login deadline; replacing it");
                    self.shared.retire(&slot);
                }
                Err(ScriptError::new(
                    progress.current(),
                    ScriptErrorKind::Timeout,
                ))
            }
        }
    }

    /// Hint after a reload: idle workers build the new set's contexts off the login path (warm:
    /// the context to reuse; strict: the next login's fresh one).
    pub fn prepare(&self, set: Arc<ScriptSet>) {
        if let Some(tx) = self.sender() {
            for _ in 0..self.workers {
                if tx.try_send(Msg::Prepare(set.clone())).is_err() {
                    break;
                }
            }
        }
    }

    /// Stops the workers: they finish the login they are running and exit. Never waits for a
    /// wedged worker (threads are detached).
    pub fn shutdown(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

impl Drop for ScriptEngine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    fn spawn_worker(shared: &Arc<Shared>) -> bool {
        if shared.stopping.load(Ordering::SeqCst) {
            return false;
        }
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let me = shared.clone();
        let slot = Arc::new(WorkerSlot {
            retired: AtomicBool::new(false),
        });
        let spawned = std::thread::Builder::new()
            .name(format!("script-{id}"))
            .stack_size(shared.native_stack)
            .spawn(move || Worker::new(me, slot).run());
        if let Err(e) = &spawned {
            tracing::error!(target: "script", "cannot start a script worker: {e}");
        }
        spawned.is_ok()
    }

    fn retire(self: &Arc<Self>, slot: &WorkerSlot) {
        if !slot.retired.swap(true, Ordering::SeqCst) {
            Shared::spawn_worker(self);
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    slot: Arc<WorkerSlot>,
    deadline: Deadline,
    warm: Option<Sandbox>,
    /// A sandbox used up by the last login (strict, or discarded): freeing a runtime takes tens
    /// of µs, so it happens after the reply.
    spent: Option<Sandbox>,
}

impl Worker {
    fn new(shared: Arc<Shared>, slot: Arc<WorkerSlot>) -> Self {
        Worker {
            shared,
            slot,
            deadline: Deadline::new(),
            warm: None,
            spent: None,
        }
    }

    fn next(&self) -> Option<Msg> {
        let mut rx = self.shared.rx.lock().unwrap_or_else(|p| p.into_inner());
        // Poll briefly before parking: waking a parked thread costs tens of µs on a VM, about
        // as much as a whole warm login, and logins tend to come in bursts.
        let until = Instant::now() + SPIN_BEFORE_PARK;
        while Instant::now() < until {
            match rx.try_recv() {
                Ok(msg) => return Some(msg),
                Err(mpsc::error::TryRecvError::Disconnected) => return None,
                Err(mpsc::error::TryRecvError::Empty) => std::thread::yield_now(),
            }
        }
        rx.blocking_recv()
    }

    fn run(mut self) {
        while !self.slot.retired.load(Ordering::SeqCst) {
            let Some(msg) = self.next() else { break };
            match msg {
                Msg::Prepare(set) => self.prepare(&set),
                Msg::Login(job) => {
                    let LoginJob {
                        set,
                        input,
                        deadline,
                        progress,
                        worker,
                        reply,
                    } = *job;
                    if reply.is_closed() {
                        continue; // the caller already answered (timeout) or left
                    }
                    if self.shared.stopping.load(Ordering::SeqCst) {
                        let stopped = ScriptErrorKind::Engine("engine stopped".into());
                        let _ = reply.send(Err(ScriptError::new(None, stopped)));
                        continue;
                    }
                    if Instant::now() >= deadline {
                        // Queued past its deadline: answer now rather than at deadline + grace.
                        let _ = reply.send(Err(ScriptError::new(None, ScriptErrorKind::Timeout)));
                        continue;
                    }
                    *worker.lock().unwrap_or_else(|p| p.into_inner()) = Some(self.slot.clone());
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        self.login(&set, &input, deadline, progress.clone())
                    }));
                    worker.lock().unwrap_or_else(|p| p.into_inner()).take();
                    match result {
                        Ok(r) => {
                            let _ = reply.send(r);
                            self.spent = None;
                            self.refill(&set);
                        }
                        Err(_) => {
                            tracing::error!(target: "script", "a script worker panicked; replacing it");
                            let _ = reply.send(Err(ScriptError::new(
                                progress.current(),
                                ScriptErrorKind::WorkerCrashed,
                            )));
                            self.shared.retire(&self.slot);
                        }
                    }
                }
            }
        }
        // Sandboxes drop here, on their own thread, each Persistent before its runtime.
    }

    /// Warm: the context of this very set, until recycled. Strict: a fresh one built after the
    /// previous reply, never used.
    fn reusable(&self, s: &Sandbox, set: &ScriptSet) -> bool {
        let fresh_enough = match self.shared.isolation {
            Isolation::Warm => s.runs < self.shared.recycle_after_runs,
            Isolation::Strict => s.runs == 0,
        };
        s.holds(set) && !s.dirty && fresh_enough
    }

    /// After a reply: make sure the next login of this set finds a usable sandbox (strict: a
    /// fresh one; warm: one not due for recycling), building it now rather than on its path.
    fn refill(&mut self, set: &Arc<ScriptSet>) {
        let usable = self.warm.as_ref().is_some_and(|s| self.reusable(s, set));
        if !usable {
            self.warm = None;
            self.prepare(set);
        }
    }

    fn prepare(&mut self, set: &Arc<ScriptSet>) {
        if self.warm.as_ref().is_some_and(|s| s.holds(set)) {
            return;
        }
        self.deadline
            .arm_at(Instant::now() + Duration::from_secs(1));
        let harden = self.shared.isolation == Isolation::Warm;
        let built = Sandbox::build(
            &self.shared.env,
            set.all(),
            set.version,
            harden,
            &self.deadline,
        );
        self.deadline.disarm();
        self.warm = built.ok().map(|(s, _)| s);
    }

    fn login(
        &mut self,
        set: &Arc<ScriptSet>,
        input: &LoginInput,
        deadline: Instant,
        progress: Arc<Progress>,
    ) -> Result<Outcome, ScriptError> {
        self.deadline.arm_at(deadline);
        let result = self.login_armed(set, input, progress);
        self.deadline.disarm();
        result
    }

    fn login_armed(
        &mut self,
        set: &Arc<ScriptSet>,
        input: &LoginInput,
        progress: Arc<Progress>,
    ) -> Result<Outcome, ScriptError> {
        let warm = self.shared.isolation == Isolation::Warm;
        let reuse = self.warm.take().filter(|s| self.reusable(s, set));
        let mut sandbox = match reuse {
            Some(s) => s,
            None => {
                Sandbox::build(
                    &self.shared.env,
                    set.all(),
                    set.version,
                    warm,
                    &self.deadline,
                )
                .map_err(to_script_error)?
                .0
            }
        };
        let event = if set.actions.iter().any(|a| a.post_login) {
            shape::event_parts(input)
        } else {
            Vec::new()
        };
        let rules = (!set.rules.is_empty()).then(|| shape::rules_json(input));
        let text = sandbox
            .run_login(&event, rules.as_deref(), input.now_ms, progress)
            .map_err(to_script_error)?;
        let names = |i| sandbox.name(i);
        let mut heap_full = || sandbox.heap_pressed();
        let outcome = shape::parse_outcome(&text, &names, &mut heap_full);
        let keep = warm && !sandbox.dirty && outcome.as_ref().is_ok_or_deny();
        if keep {
            self.warm = Some(sandbox);
        } else {
            self.spent = Some(sandbox); // freed after the reply is sent
        }
        outcome
    }
}

trait OkOrDeny {
    fn is_ok_or_deny(&self) -> bool;
}

impl OkOrDeny for Result<&Outcome, &ScriptError> {
    /// Claims too large is the script's doing, not the context's: keep it warm.
    fn is_ok_or_deny(&self) -> bool {
        match self {
            Ok(_) => true,
            Err(e) => e.kind == ScriptErrorKind::ClaimsTooLarge,
        }
    }
}

fn to_script_error(f: Failure) -> ScriptError {
    let kind = match f.error {
        SandboxError::Timeout => ScriptErrorKind::Timeout,
        SandboxError::OutOfMemory => ScriptErrorKind::OutOfMemory,
        SandboxError::Pending(ScriptKind::Rule) => ScriptErrorKind::NeverCalledBack,
        SandboxError::Pending(ScriptKind::Action) => ScriptErrorKind::NeverSettled,
        SandboxError::HostPanicked => ScriptErrorKind::WorkerCrashed,
        SandboxError::Script(m) => {
            tracing::warn!(target: "script", script = ?f.script, "script failed to initialise: {m}");
            ScriptErrorKind::Engine(m)
        }
        SandboxError::Engine(m) => {
            tracing::error!(target: "script", script = ?f.script, "script engine error: {m}");
            ScriptErrorKind::Engine(m)
        }
    };
    ScriptError::new(f.script, kind)
}
