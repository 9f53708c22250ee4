//! One script worker thread: takes jobs from the queue, keeps (warm) or rebuilds (strict) its
//! sandbox, runs logins under the deadline, and leaves when the watchdog has abandoned it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::catalog::ScriptSet;
use super::engine_config::Isolation;
use super::pool::{InFlight, LoginJob, Msg, Shared, WorkerSlot};
use super::queue::Parker;
use super::sandbox::{Deadline, Failure, Progress, Sandbox, SandboxError};
use super::{LoginInput, Outcome, ScriptError, ScriptErrorKind, ScriptKind, shape};

pub(super) struct Worker {
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
    pub(super) fn new(shared: Arc<Shared>, slot: Arc<WorkerSlot>) -> Self {
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

    pub(super) fn run(mut self) {
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
