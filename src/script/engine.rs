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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::cache::Cache;
use super::catalog::ScriptSet;
use super::engine_config::{EngineConfig, Isolation};
use super::queue::Queue;
use super::sandbox::{Env, Progress};
use super::worker::Worker;
use super::{Host, LoginInput, Outcome, ScriptError, ScriptErrorKind, Trigger};
use crate::gauge::Gauge;

pub(super) enum Msg {
    Login(Box<LoginJob>),
    Prepare(Arc<ScriptSet>),
}

pub(super) struct LoginJob {
    pub(super) set: Arc<ScriptSet>,
    pub(super) input: Trigger,
    pub(super) deadline: Instant,
    pub(super) progress: Arc<Progress>,
    pub(super) worker: Arc<Mutex<Option<Arc<WorkerSlot>>>>,
    pub(super) reply: oneshot::Sender<Result<Outcome, ScriptError>>,
}

pub(super) struct WorkerSlot {
    pub(super) id: usize,
    pub(super) retired: AtomicBool,
    /// Set (under `Shared::abandoned`'s lock) when the thread ends, so it is never counted after.
    pub(super) exited: AtomicBool,
}

pub(super) struct Shared {
    pub(super) queue: Queue<Msg>,
    pub(super) env: Env,
    pub(super) isolation: Isolation,
    pub(super) recycle_after_runs: u32,
    pub(super) native_stack: usize,
    pub(super) stopping: AtomicBool,
    pub(super) next_id: AtomicUsize,
    /// Logins waiting for their reply, and workers running a job or building a sandbox: a task
    /// polls for its reply only while its login is the only work (see [`wait_reply`]).
    pub(super) in_flight: Gauge,
    pub(super) busy: Gauge,
    /// Abandoned worker threads still running: (worker id, when abandoned).
    pub(super) abandoned: Mutex<Vec<(usize, Instant)>>,
    /// `abandoned.len()`, read by every login without the lock.
    pub(super) abandoned_count: AtomicUsize,
    pub(super) max_abandoned: usize,
    /// Logins are being refused (logged once per episode).
    pub(super) refusing: AtomicBool,
    /// `Retry-After` of a refusal: the login timeout, rounded up.
    pub(super) retry_after_s: u32,
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
    while idle && shared.in_flight.get() <= 1 && shared.busy.get() <= 1 && Instant::now() < until {
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
                fetcher: Arc::new(super::fetch::Fetcher::new(config.fetch.clone())),
            },
            isolation: config.isolation,
            recycle_after_runs: config.recycle_after_runs.max(1),
            native_stack: (config.stack_size_bytes * 4).max(4 << 20),
            stopping: AtomicBool::new(false),
            next_id: AtomicUsize::new(0),
            in_flight: Gauge::new(),
            busy: Gauge::new(),
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
        if set.rules.is_empty() && !set.actions.iter().any(|a| a.runs(Trigger::POST_LOGIN)) {
            return Ok(Outcome::default());
        }
        self.run(set, Trigger::PostLogin(input)).await
    }

    /// Runs the Actions of a trigger that has no Rules (the credentials exchange, registration),
    /// in order, with the same deadline, limits and answers as a login; allows at once when no
    /// Action exports the trigger's function.
    pub async fn run_actions(
        &self,
        set: Arc<ScriptSet>,
        input: Trigger,
    ) -> Result<Outcome, ScriptError> {
        if !set.actions.iter().any(|a| a.runs(input.bit())) {
            return Ok(Outcome::default());
        }
        self.run(set, input).await
    }

    async fn run(&self, set: Arc<ScriptSet>, input: Trigger) -> Result<Outcome, ScriptError> {
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
            let idle = self.shared.busy.get() == 0;
            if queue.push(Msg::Login(Box::new(job)), permit).is_err() {
                return Some(Err(stopped()));
            }
            let _flying = self.shared.in_flight.enter();
            wait_reply(answer, &self.shared, idle).await
        };
        match tokio::time::timeout_at((deadline + grace).into(), wait).await {
            Ok(Some(result)) => result.map(|mut outcome| {
                outcome.runs = progress.take();
                outcome.ended = Some(Instant::now());
                outcome
            }),
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

    pub(super) fn retire(self: &Arc<Self>, slot: &WorkerSlot) {
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
    pub(super) fn exited(&self, slot: &WorkerSlot) {
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
    pub(super) fn admit(&self) -> Result<(), ScriptError> {
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
