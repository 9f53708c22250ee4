//! One script worker thread: takes jobs from the queue, keeps (warm) or rebuilds (strict) its
//! sandbox, runs logins under their deadlines, parks the logins that wait for a fetch answer or a
//! timer (running other logins meanwhile), and leaves when the watchdog has abandoned it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::catalog::ScriptSet;
use super::drive::Step;
use super::engine::{LoginJob, Msg, Shared, WorkerSlot};
use super::engine_config::Isolation;
use super::queue::Next;
use super::sandbox::{Deadline, Progress, Sandbox};
use super::{Outcome, ScriptError, ScriptErrorKind, Trigger, shape};

/// Logins one worker keeps parked while they wait for a fetch answer or a timer. Each holds a
/// sandbox (a heap of up to `memory_limit_bytes`): at this many the worker takes no new login
/// until one ends; the other workers still do.
const MAX_WAITING: usize = 16;

pub(super) struct Worker {
    shared: Arc<Shared>,
    slot: Arc<WorkerSlot>,
    /// Sandboxes for the next logins, the last used last. Warm: one per login this worker ran at
    /// once (a waiting login keeps its own, so another serves meanwhile), each kept until due for
    /// recycling; strict: the fresh one built after each reply. One that may not be reused
    /// (strict, dirty, due for recycling) is freed after the reply: it takes tens of µs.
    spare: Vec<Sandbox>,
    /// Logins waiting for a fetch answer or a timer, each in its own sandbox.
    waiting: Vec<Parked>,
}

/// A started login and what it needs to be resumed and answered.
struct Parked {
    sandbox: Sandbox,
    set: Arc<ScriptSet>,
    progress: Arc<Progress>,
    worker: Arc<Mutex<Option<Arc<WorkerSlot>>>>,
    reply: oneshot::Sender<Result<Outcome, ScriptError>>,
}

impl Worker {
    pub(super) fn new(shared: Arc<Shared>, slot: Arc<WorkerSlot>) -> Self {
        Worker {
            shared,
            slot,
            spare: Vec::new(),
            waiting: Vec::new(),
        }
    }

    pub(super) fn run(mut self) {
        let _exit = ExitGuard {
            shared: self.shared.clone(),
            slot: self.slot.clone(),
        };
        let mut open = true;
        while !self.slot.retired.load(Ordering::SeqCst) {
            self.resume_due();
            let next = if self.waiting.is_empty() {
                if !open {
                    break;
                }
                self.shared.queue.next().map_or(Next::Closed, Next::Job)
            } else {
                let io: Vec<_> = self.waiting.iter().map(|w| w.sandbox.io()).collect();
                let until = self.waiting.iter().map(|w| w.sandbox.wake_at()).min();
                let until = until.unwrap_or_else(Instant::now);
                let jobs = open && self.waiting.len() < MAX_WAITING;
                self.shared.queue.next_or(&io, until, jobs)
            };
            match next {
                Next::Job(Msg::Prepare(set)) => {
                    let shared = self.shared.clone();
                    let _busy = shared.busy.enter();
                    self.prepare(&set);
                }
                Next::Job(Msg::Login(job)) => self.start(*job),
                Next::Wake => {}
                Next::Closed => open = false,
            }
        }
        // Sandboxes drop here, on their own thread, each Persistent before its runtime; before
        // `_exit` tells the pool this thread (and its heap) is gone. A parked login's caller
        // sees its reply dropped (a crashed worker) unless it already answered by its deadline.
        self.waiting.clear();
        self.spare.clear();
    }

    /// Starts a login from the queue: answers it, or parks it when it waits.
    fn start(&mut self, job: LoginJob) {
        let shared = self.shared.clone();
        let mut busy = Some(shared.busy.enter());
        let LoginJob {
            set,
            input,
            deadline,
            progress,
            worker,
            reply,
        } = job;
        if reply.is_closed() {
            return; // the caller already answered (timeout) or left
        }
        let refuse = |kind| Err(ScriptError::new(None, kind));
        if self.shared.stopping.load(Ordering::SeqCst) {
            let _ = reply.send(refuse(ScriptErrorKind::Engine("engine stopped".into())));
            return;
        }
        if Instant::now() >= deadline {
            // Queued past its deadline: answer now rather than at deadline + grace.
            let _ = reply.send(refuse(ScriptErrorKind::Timeout));
            return;
        }
        // Queued before the cap was reached: refused like a new login.
        if let Err(e) = self.shared.admit() {
            let _ = reply.send(Err(e));
            return;
        }
        let sandbox = match self.sandbox_for(&set, deadline) {
            Ok(s) => s,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        sandbox.deadline.arm_at(deadline);
        let parked = Parked {
            sandbox,
            set,
            progress,
            worker,
            reply,
        };
        self.step(parked, &mut busy, |sandbox, progress, set| match &input {
            Trigger::PostLogin(input) => {
                let event = if set.actions.iter().any(|a| a.runs(Trigger::POST_LOGIN)) {
                    shape::event_parts(input)
                } else {
                    Vec::new()
                };
                let rules = (!set.rules.is_empty()).then(|| shape::rules_json(input));
                sandbox.start(&event, rules.as_deref(), 0, input.now_ms, progress)
            }
            Trigger::CredentialsExchange(input) => {
                let event = shape::credentials_parts(input);
                sandbox.start(&event, None, 1, input.now_ms, progress)
            }
            Trigger::PreRegistration(input) => {
                let event = shape::registration_parts(input, false);
                sandbox.start(&event, None, 2, input.now_ms, progress)
            }
            Trigger::PostRegistration(input) => {
                let event = shape::registration_parts(input, true);
                sandbox.start(&event, None, 3, input.now_ms, progress)
            }
        });
    }

    /// Resumes the parked logins that can go on (an answer arrived, a timer or the deadline is
    /// due) and forgets those whose caller left.
    fn resume_due(&mut self) {
        let now = Instant::now();
        let mut i = 0;
        while i < self.waiting.len() {
            let w = &self.waiting[i];
            if w.reply.is_closed() {
                self.waiting.swap_remove(i); // its caller answered at the deadline: drop it
            } else if !w.sandbox.io().is_empty() || w.sandbox.wake_at() <= now {
                let parked = self.waiting.swap_remove(i);
                let shared = self.shared.clone();
                let mut busy = Some(shared.busy.enter());
                self.step(parked, &mut busy, |sandbox, _, _| sandbox.resume());
            } else {
                i += 1;
            }
        }
    }

    /// Runs one step of a login on this thread (published to the watchdog while it runs), then
    /// answers it or parks it again.
    fn step(
        &mut self,
        mut p: Parked,
        busy: &mut Option<impl Sized>,
        run: impl FnOnce(&mut Sandbox, Arc<Progress>, &ScriptSet) -> Step,
    ) {
        *p.worker.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.slot.clone());
        let progress = p.progress.clone();
        let step = catch_unwind(AssertUnwindSafe(|| run(&mut p.sandbox, progress, &p.set)));
        p.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        match step {
            Ok(Step::Wait) => self.waiting.push(p),
            Ok(Step::Done(result)) => {
                p.sandbox.deadline.disarm();
                let _ = p.reply.send(result);
                // Nothing to free or build (a warm login): not busy any more, so the next
                // login's task may poll for its reply (see `wait_reply`).
                if self.reusable(&p.sandbox, &p.set) {
                    busy.take();
                    self.spare.push(p.sandbox);
                } else {
                    drop(p.sandbox); // freed here, after the reply
                }
                self.prepare(&p.set);
            }
            Err(_) => {
                tracing::error!(target: "script", "a script worker panicked; replacing it");
                let crashed = ScriptErrorKind::WorkerCrashed;
                let _ = p
                    .reply
                    .send(Err(ScriptError::new(p.progress.current(), crashed)));
                self.shared.retire(&self.slot);
            }
        }
    }

    fn reusable(&self, s: &Sandbox, set: &ScriptSet) -> bool {
        s.reusable(set, self.shared.isolation, self.shared.recycle_after_runs)
    }

    /// After a reply, or a reload's hint: frees the spare sandboxes that may not serve `set`
    /// (another set's, due for recycling) and builds one when none is left, so that the next
    /// login of this set finds one (strict: a fresh one) rather than building it on its path.
    fn prepare(&mut self, set: &Arc<ScriptSet>) {
        let (isolation, recycle) = (self.shared.isolation, self.shared.recycle_after_runs);
        self.spare.retain(|s| s.reusable(set, isolation, recycle));
        if self.spare.is_empty()
            && let Ok(s) = self.build(set, Instant::now() + Duration::from_secs(1))
        {
            self.spare.push(s);
        }
    }

    /// The sandbox for a login: the last used spare one that may serve it, else a new one built
    /// under the login's deadline.
    fn sandbox_for(
        &mut self,
        set: &Arc<ScriptSet>,
        deadline: Instant,
    ) -> Result<Sandbox, ScriptError> {
        while let Some(s) = self.spare.pop() {
            if self.reusable(&s, set) {
                return Ok(s);
            }
        }
        Ok(self.build(set, deadline)?)
    }

    fn build(
        &self,
        set: &ScriptSet,
        deadline: Instant,
    ) -> Result<Sandbox, super::sandbox::Failure> {
        let armed = Deadline::new();
        armed.arm_at(deadline);
        let built = Sandbox::build(
            &self.shared.env,
            set.all(),
            set.version,
            &set.modules,
            self.shared.isolation == Isolation::Warm,
            &armed,
        );
        armed.disarm();
        built.map(|(s, _)| s)
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
