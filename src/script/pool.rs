//! [`ScriptEngine`]: a pool of OS threads, each owning its sandboxes (rquickjs is `!Send`), fed
//! from tokio through a bounded queue ([`Queue`]) with a oneshot reply per login.
//!
//! The login deadline is enforced twice: inside QuickJS by the interrupt handler, and from the
//! caller by `tokio::time::timeout_at(deadline + grace)`. When the second fires, the worker is
//! wedged (e.g. in `Array.prototype.join`, which never polls the interrupt): it is abandoned and a
//! fresh thread takes its place; the stuck one exits whenever its builtin returns (its runtime's
//! memory limit still binds it). A thread cannot be killed, so abandoned threads are counted:
//! while `max_abandoned` of them still run, logins are refused at once (`Overloaded`) instead of
//! starting more. A panic in a worker answers `WorkerCrashed` and the worker is replaced.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

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
    /// Wedged worker threads still running after the watchdog gave up on them; at this many,
    /// logins are refused with `Overloaded` (default 2, at least 1).
    pub max_abandoned_workers: usize,
    /// Every Action's `event.secrets`.
    pub shared_secrets: Map<String, Value>,
    /// Per Action (file stem), merged over `shared_secrets`.
    pub action_secrets: HashMap<String, Map<String, Value>>,
    /// `auth0.domain`.
    pub domain: String,
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
    id: usize,
    retired: AtomicBool,
    /// Set (under `Shared::abandoned`'s lock) when the thread ends, so it is never counted after.
    exited: AtomicBool,
}

/// A parked worker: its thread and whether a job was handed to it.
struct Parker {
    thread: std::thread::Thread,
    woken: AtomicBool,
}

/// The jobs waiting for a worker, FIFO, and the idle workers, LIFO.
///
/// At low load the worker that just replied is the one polling the queue (its caches and
/// sandbox are hot) while the others stay parked: a job wakes a parked worker only when more jobs
/// wait than workers are awake to take them. Waking a parked thread costs tens of µs on a VM.
struct Queue {
    state: Mutex<QueueState>,
    /// `state.jobs.len()`, read by polling workers without the lock.
    queued: AtomicUsize,
    closed: AtomicBool,
    /// One permit per queued job: `run_login` waits for room (within its deadline).
    room: Arc<Semaphore>,
}

struct QueueState {
    jobs: VecDeque<(Msg, OwnedSemaphorePermit)>,
    idle: Vec<Arc<Parker>>,
    /// Workers polling for a job, or woken and about to.
    awake: usize,
}

impl Queue {
    fn new(capacity: usize) -> Self {
        Queue {
            state: Mutex::new(QueueState {
                jobs: VecDeque::new(),
                idle: Vec::new(),
                awake: 0,
            }),
            queued: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            room: Arc::new(Semaphore::new(capacity)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job; `Err` once the engine is stopping.
    fn push(&self, msg: Msg, permit: OwnedSemaphorePermit) -> Result<(), Msg> {
        let wake = {
            let mut st = self.lock();
            if self.closed.load(Ordering::Acquire) {
                return Err(msg);
            }
            st.jobs.push_back((msg, permit));
            self.queued.store(st.jobs.len(), Ordering::Release);
            if st.jobs.len() > st.awake {
                let p = st.idle.pop();
                st.awake += usize::from(p.is_some());
                p
            } else {
                None
            }
        };
        if let Some(p) = wake {
            p.woken.store(true, Ordering::Release);
            p.thread.unpark();
        }
        Ok(())
    }

    fn take(&self, st: &mut QueueState) -> Option<Msg> {
        let (msg, permit) = st.jobs.pop_front()?;
        self.queued.store(st.jobs.len(), Ordering::Release);
        drop(permit);
        Some(msg)
    }

    /// The next job for a worker: polls for `SPIN_BEFORE_PARK`, then parks until a job is handed
    /// over. `None` once the engine stopped and the queue is empty.
    fn next(&self, me: &Arc<Parker>) -> Option<Msg> {
        {
            let mut st = self.lock();
            if let Some(m) = self.take(&mut st) {
                return Some(m);
            }
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            st.awake += 1;
        }
        loop {
            let until = Instant::now() + SPIN_BEFORE_PARK;
            let mut polls = 0u32;
            loop {
                if self.queued.load(Ordering::Acquire) > 0 || self.closed.load(Ordering::Acquire) {
                    let mut st = self.lock();
                    if let Some(m) = self.take(&mut st) {
                        st.awake -= 1;
                        return Some(m);
                    }
                    if self.closed.load(Ordering::Acquire) {
                        st.awake -= 1;
                        return None;
                    }
                }
                polls = polls.wrapping_add(1);
                if polls.is_multiple_of(64) {
                    if Instant::now() >= until {
                        break;
                    }
                    // Let a thread waiting for this core (tokio, the replying task) run.
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            {
                let mut st = self.lock();
                st.awake -= 1;
                if let Some(m) = self.take(&mut st) {
                    return Some(m);
                }
                if self.closed.load(Ordering::Acquire) {
                    return None;
                }
                me.woken.store(false, Ordering::Relaxed);
                st.idle.push(me.clone());
            }
            // Whoever pops us from `idle` counts us awake again before unparking us.
            while !me.woken.load(Ordering::Acquire) {
                std::thread::park();
            }
        }
    }

    /// Refuses new jobs and wakes every parked worker so it drains the queue and exits.
    fn close(&self) {
        self.room.close();
        let parked = {
            let mut st = self.lock();
            self.closed.store(true, Ordering::Release);
            let parked = std::mem::take(&mut st.idle);
            st.awake += parked.len();
            parked
        };
        for p in parked {
            p.woken.store(true, Ordering::Release);
            p.thread.unpark();
        }
    }
}

struct Shared {
    queue: Queue,
    env: Env,
    isolation: Isolation,
    recycle_after_runs: u32,
    native_stack: usize,
    stopping: AtomicBool,
    next_id: AtomicUsize,
    /// Logins waiting for their reply, and workers running a job or building a sandbox: a task
    /// polls for its reply only while its login is the only work (see [`wait_reply`]).
    in_flight: AtomicUsize,
    busy: AtomicUsize,
    /// Abandoned worker threads still running: (worker id, when abandoned).
    abandoned: Mutex<Vec<(usize, Instant)>>,
    /// `abandoned.len()`, read by every login without the lock.
    abandoned_count: AtomicUsize,
    max_abandoned: usize,
    /// Logins are being refused (logged once per episode).
    refusing: AtomicBool,
    /// `Retry-After` of a refusal: the login timeout, rounded up.
    retry_after_s: u32,
}

/// Counts a login in flight for as long as it waits (also when its future is dropped).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::Relaxed);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How long a lone login's task polls for its reply before it sleeps on it.
const POLL_REPLY_FOR: Duration = Duration::from_micros(300);

/// Waits for the worker's reply. While this login is the only one in flight and at most one worker
/// is busy (its own), the task first polls the oneshot, yielding to tokio between polls, for up to
/// [`POLL_REPLY_FOR`]: a tokio worker that parks is woken by the reply through the OS (tens of µs
/// on a VM, as much as a warm login). Other tasks still run between polls; under load (several
/// logins, or a worker building a strict sandbox) it never takes a core from the workers.
async fn wait_reply(
    mut answer: oneshot::Receiver<Result<Outcome, ScriptError>>,
    shared: &Shared,
    idle: bool,
) -> Option<Result<Outcome, ScriptError>> {
    let until = Instant::now() + POLL_REPLY_FOR;
    while idle
        && shared.in_flight.load(Ordering::Relaxed) <= 1
        && shared.busy.load(Ordering::Relaxed) <= 1
        && Instant::now() < until
    {
        match answer.try_recv() {
            Ok(r) => return Some(r),
            Err(oneshot::error::TryRecvError::Closed) => return None,
            Err(oneshot::error::TryRecvError::Empty) => tokio::task::yield_now().await,
        }
    }
    answer.await.ok()
}

/// The script engine. Cheap to share behind an `Arc`; stops its workers on drop.
pub struct ScriptEngine {
    shared: Arc<Shared>,
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
        let shared = Arc::new(Shared {
            queue: Queue::new(workers * 64),
            env: Env {
                host,
                cache: Arc::new(Cache::default()),
                shim_config_warm: config.shim_config(!config.unhardened_for_test),
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
            in_flight: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            abandoned: Mutex::new(Vec::new()),
            abandoned_count: AtomicUsize::new(0),
            max_abandoned: config.max_abandoned_workers.max(1),
            refusing: AtomicBool::new(false),
            retry_after_s: u32::try_from(config.login_timeout.as_secs_f64().ceil() as u64)
                .unwrap_or(u32::MAX)
                .max(1),
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
            login_timeout: config.login_timeout,
            workers,
        })
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
        let stopped = || ScriptError::new(None, ScriptErrorKind::Engine("engine stopped".into()));
        if self.shared.stopping.load(Ordering::SeqCst) {
            return Err(stopped());
        }
        self.shared.admit()?;
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
        let queue = &self.shared.queue;
        let wait = async {
            // Fast path: room in the queue (the usual case) needs no await.
            let permit = match queue.room.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => match queue.room.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return Some(Err(stopped())),
                },
            };
            // Polling for the reply only pays when no worker is busy (a strict worker building
            // its next sandbox needs the core more than this task does).
            let idle = self.shared.busy.load(Ordering::Relaxed) == 0;
            if queue.push(Msg::Login(Box::new(job)), permit).is_err() {
                return Some(Err(stopped()));
            }
            let _flying = InFlight::enter(&self.shared.in_flight);
            wait_reply(answer, &self.shared, idle).await
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
                    self.shared.abandon(&slot);
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
        let queue = &self.shared.queue;
        for _ in 0..self.workers {
            let Ok(permit) = queue.room.clone().try_acquire_owned() else {
                break;
            };
            if queue.push(Msg::Prepare(set.clone()), permit).is_err() {
                break;
            }
        }
    }

    /// How long each abandoned worker thread (wedged in a built-in, still running) has been
    /// abandoned, oldest first: for `/healthz`.
    pub fn abandoned_workers(&self) -> Vec<Duration> {
        ages(&self.shared.lock_abandoned())
    }

    /// Stops the workers: they finish the login they are running and exit. Never waits for a
    /// wedged worker (threads are detached).
    pub fn shutdown(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.queue.close();
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
            id,
            retired: AtomicBool::new(false),
            exited: AtomicBool::new(false),
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

    fn lock_abandoned(&self) -> MutexGuard<'_, Vec<(usize, Instant)>> {
        self.abandoned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The watchdog gave up on a worker still inside a login: count its thread as abandoned
    /// until it ends, and start another in its place.
    fn abandon(self: &Arc<Self>, slot: &WorkerSlot) {
        let ages = {
            let mut list = self.lock_abandoned();
            if slot.retired.swap(true, Ordering::SeqCst) {
                return;
            }
            if !slot.exited.load(Ordering::SeqCst) {
                list.push((slot.id, Instant::now()));
                self.abandoned_count.store(list.len(), Ordering::SeqCst);
            }
            ages(&list)
        };
        tracing::warn!(target: "script", abandoned = ages.len(), max = self.max_abandoned, ages_s = ?secs(&ages),
            "a script worker is wedged past the login deadline (in a built-in that ignores the time limit); abandoned its thread and started another");
        Shared::spawn_worker(self);
    }

    /// Called by every worker thread as it ends.
    fn exited(&self, slot: &WorkerSlot) {
        let mut list = self.lock_abandoned();
        slot.exited.store(true, Ordering::SeqCst);
        let Some(i) = list.iter().position(|(id, _)| *id == slot.id) else {
            return;
        };
        let (_, since) = list.remove(i);
        self.abandoned_count.store(list.len(), Ordering::SeqCst);
        if list.len() < self.max_abandoned {
            self.refusing.store(false, Ordering::SeqCst);
        }
        tracing::info!(target: "script", abandoned = list.len(), after_s = since.elapsed().as_secs_f64(),
            "an abandoned script worker finished its built-in and ended");
    }

    /// Refuses a login while `max_abandoned` abandoned threads still run: starting it could wedge
    /// one more. Logs once each time the cap is reached.
    fn admit(&self) -> Result<(), ScriptError> {
        if self.abandoned_count.load(Ordering::SeqCst) < self.max_abandoned {
            return Ok(());
        }
        if !self.refusing.swap(true, Ordering::SeqCst) {
            let ages = ages(&self.lock_abandoned());
            tracing::warn!(target: "script", abandoned = ages.len(), max = self.max_abandoned, ages_s = ?secs(&ages),
                "too many script worker threads are wedged in built-ins; refusing logins (503) until one ends");
        }
        Err(ScriptError::new(
            None,
            ScriptErrorKind::Overloaded {
                retry_after_s: self.retry_after_s,
            },
        ))
    }
}

fn ages(list: &[(usize, Instant)]) -> Vec<Duration> {
    list.iter().map(|(_, since)| since.elapsed()).collect()
}

fn secs(ages: &[Duration]) -> Vec<u64> {
    ages.iter().map(Duration::as_secs).collect()
}

struct Worker {
    shared: Arc<Shared>,
    slot: Arc<WorkerSlot>,
    parker: Arc<Parker>,
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
            parker: Arc::new(Parker {
                thread: std::thread::current(),
                woken: AtomicBool::new(false),
            }),
            deadline: Deadline::new(),
            warm: None,
            spent: None,
        }
    }

    fn run(mut self) {
        let _exit = ExitGuard {
            shared: self.shared.clone(),
            slot: self.slot.clone(),
        };
        while !self.slot.retired.load(Ordering::SeqCst) {
            let Some(msg) = self.shared.queue.next(&self.parker) else {
                break;
            };
            let shared = self.shared.clone();
            let mut busy = Some(InFlight::enter(&shared.busy));
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
                    // Queued before the cap was reached: refused like a new login.
                    if let Err(e) = self.shared.admit() {
                        let _ = reply.send(Err(e));
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
                            // Nothing to free or build (a warm login): not busy any more, so the
                            // next login's task may poll for its reply (see `wait_reply`).
                            if self.spent.is_none()
                                && self.warm.as_ref().is_some_and(|s| self.reusable(s, &set))
                            {
                                busy.take();
                            }
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
        // Sandboxes drop here, on their own thread, each Persistent before its runtime; before
        // `_exit` tells the pool this thread (and its heap) is gone.
        self.warm = None;
        self.spent = None;
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

/// Tells the pool a worker thread ended, however it ended (also on a panic that escaped).
struct ExitGuard {
    shared: Arc<Shared>,
    slot: Arc<WorkerSlot>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.shared.exited(&self.slot);
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
        SandboxError::Script(m, _) => {
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
