//! One script worker thread: takes jobs from the queue, keeps (warm) or rebuilds (strict) its
//! sandbox, runs logins under the deadline, and leaves when the watchdog has abandoned it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::catalog::ScriptSet;
use super::engine::{LoginJob, Msg, Shared, WorkerSlot};
use super::engine_config::Isolation;
use super::sandbox::{Deadline, Progress, Sandbox};
use super::{LoginInput, Outcome, ScriptError, ScriptErrorKind, shape};

pub(super) struct Worker {
    shared: Arc<Shared>,
    slot: Arc<WorkerSlot>,
    deadline: Deadline,
    /// The sandbox of the last login or the next. One that may not be reused (strict, dirty,
    /// due for recycling) is freed and replaced after the reply: both take tens of µs.
    sandbox: Option<Sandbox>,
}

impl Worker {
    pub(super) fn new(shared: Arc<Shared>, slot: Arc<WorkerSlot>) -> Self {
        Worker {
            shared,
            slot,
            deadline: Deadline::new(),
            sandbox: None,
        }
    }

    pub(super) fn run(mut self) {
        let _exit = ExitGuard {
            shared: self.shared.clone(),
            slot: self.slot.clone(),
        };
        while !self.slot.retired.load(Ordering::SeqCst) {
            let Some(msg) = self.shared.queue.next() else {
                break;
            };
            let shared = self.shared.clone();
            let mut busy = Some(shared.busy.enter());
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
                            if self
                                .sandbox
                                .as_ref()
                                .is_some_and(|s| self.reusable(s, &set))
                            {
                                busy.take();
                            }
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
        self.sandbox = None;
    }

    fn reusable(&self, s: &Sandbox, set: &ScriptSet) -> bool {
        s.reusable(set, self.shared.isolation, self.shared.recycle_after_runs)
    }

    /// After a reply: make sure the next login of this set finds a usable sandbox (strict: a
    /// fresh one; warm: one not due for recycling), building it now rather than on its path.
    fn refill(&mut self, set: &Arc<ScriptSet>) {
        let usable = self.sandbox.as_ref().is_some_and(|s| self.reusable(s, set));
        if !usable {
            self.sandbox = None;
            self.prepare(set);
        }
    }

    fn prepare(&mut self, set: &Arc<ScriptSet>) {
        if self.sandbox.as_ref().is_some_and(|s| self.reusable(s, set)) {
            return;
        }
        self.deadline
            .arm_at(Instant::now() + Duration::from_secs(1));
        let harden = self.shared.isolation == Isolation::Warm;
        let built = Sandbox::build(
            &self.shared.env,
            set.all(),
            set.version,
            &set.modules,
            harden,
            &self.deadline,
        );
        self.deadline.disarm();
        self.sandbox = built.ok().map(|(s, _)| s);
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
        let reuse = self.sandbox.take().filter(|s| self.reusable(s, set));
        let mut sandbox = match reuse {
            Some(s) => s,
            None => {
                Sandbox::build(
                    &self.shared.env,
                    set.all(),
                    set.version,
                    &set.modules,
                    warm,
                    &self.deadline,
                )?
                .0
            }
        };
        let event = if set.actions.iter().any(|a| a.post_login) {
            shape::event_parts(input)
        } else {
            Vec::new()
        };
        let rules = (!set.rules.is_empty()).then(|| shape::rules_json(input));
        let outcome = sandbox.run_login(&event, rules.as_deref(), input.now_ms, progress);
        self.sandbox = Some(sandbox); // reused, or freed after the reply (`refill`)
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
