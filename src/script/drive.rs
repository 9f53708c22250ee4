//! Running one login in a [`Sandbox`], in steps: the driver runs until the login settles or only a
//! fetch answer or a timer could still settle it. Then the login is [`Step::Wait`]ing: its worker
//! parks it and runs other logins meanwhile (issue 11: waiting never blocks a script worker), and
//! [`Sandbox::resume`]s it when an answer arrives (`io`), its next timer is due or its deadline
//! passes (`wake_at`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::promise::PromiseState;
use rquickjs::{Ctx, Object, Persistent, Promise};

use super::deadline::Progress;
use super::fetch::Done;
use super::sandbox::{Failure, Sandbox, SandboxError, classify, failure_of, gc_threshold};
use super::{Outcome, ScriptError, ScriptKind, outcome};

/// Where a login stands after a step. Returned once per step and matched at once, like
/// [`Poll`]: boxing the outcome would add an allocation to every login.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step {
    Done(Result<Outcome, ScriptError>),
    /// Waiting for a fetch answer ([`Sandbox::io`]) or until [`Sandbox::wake_at`].
    Wait,
}

/// What the driver's loop saw last. Lives on the stack for one move: boxing the outcome would
/// add an allocation to every login.
#[allow(clippy::large_enum_variant)]
enum Poll {
    Settled(outcome::Raw),
    /// No job left; the next timer is due in this many ms (negative: no timer, a fetch is out).
    Wait(f64),
}

impl Sandbox {
    /// Runs one login to its end, waiting in place when it waits (benches, unit tests): the
    /// worker uses [`start`](Self::start) and [`resume`](Self::resume) instead.
    pub(crate) fn run_login(
        &mut self,
        event_parts: &[String],
        rules_json: Option<&str>,
        now_ms: i64,
        progress: Arc<Progress>,
    ) -> Result<Outcome, ScriptError> {
        let mut step = self.start(event_parts, rules_json, 0, now_ms, progress);
        loop {
            match step {
                Step::Done(outcome) => return outcome,
                Step::Wait => {
                    let left = self.wake_at().saturating_duration_since(Instant::now());
                    if let Ok(done) = self.io().recv_timeout(left) {
                        self.state.borrow_mut().flights.collect(Some(done));
                    }
                    step = self.resume();
                }
            }
        }
    }

    /// Starts a login (`trigger` 0: post-login; 1: credentials exchange): the driver's outcome,
    /// parsed and checked (Rust never trusts its shape), or `Wait`. A failure, or an outcome that
    /// does not parse, leaves the sandbox dirty.
    pub(crate) fn start(
        &mut self,
        event_parts: &[String],
        rules_json: Option<&str>,
        trigger: i32,
        now_ms: i64,
        progress: Arc<Progress>,
    ) -> Step {
        self.runs += 1;
        // QuickJS lowers the threshold to 1.5x the live heap after each collection; put it back
        // so the cycle collector does not run every few logins (reference counting frees the rest).
        self.rt.set_gc_threshold(gc_threshold(self.memory_limit));
        {
            let mut st = self.state.borrow_mut();
            st.current = None;
            st.console_used.clear();
            st.host_panicked = false;
            st.now_ms = now_ms;
            st.progress = Some(progress);
        }
        let Some(run) = self.run.clone() else {
            return self.finish(Err(Failure {
                error: SandboxError::Engine("sandbox has no driver".into()),
                script: None,
            }));
        };
        let mut pending = None;
        let polled = self.ctx.with(|ctx| {
            let fail = |e| classify(&ctx, e, &self.deadline, &self.state);
            let run = run.restore(&ctx).map_err(fail)?;
            let promise: Promise = run.call((event_parts, rules_json, trigger)).map_err(fail)?;
            let polled = self.poll(&ctx, &promise);
            if let Ok(Poll::Wait(_)) = polled {
                pending = Some(Persistent::save(&ctx, promise));
            }
            polled
        });
        self.pending = pending;
        self.step(polled)
    }

    /// Goes on with a waiting login: after an answer arrived, a timer came due or the deadline
    /// passed (then it fails with a timeout).
    pub(crate) fn resume(&mut self) -> Step {
        let Some(pending) = self.pending.clone() else {
            return self.finish(Err(Failure {
                error: SandboxError::Engine("no login is waiting".into()),
                script: None,
            }));
        };
        let polled = self.ctx.with(|ctx| {
            let promise = pending
                .restore(&ctx)
                .map_err(|e| classify(&ctx, e, &self.deadline, &self.state))?;
            self.poll(&ctx, &promise)
        });
        self.step(polled)
    }

    /// Where a waiting login's fetch answers arrive.
    pub(crate) fn io(&self) -> crossbeam_channel::Receiver<Done> {
        self.state.borrow().flights.rx.clone()
    }

    /// When a waiting login must be resumed even without an answer: its next timer or its
    /// deadline.
    pub(crate) fn wake_at(&self) -> Instant {
        self.wake_at
    }

    fn step(&mut self, polled: Result<Poll, Failure>) -> Step {
        match polled {
            Ok(Poll::Wait(next_ms)) => {
                // A wait that is not a finite non-negative number (none, or what a replaced
                // `Date.now` gives in strict isolation) lasts until the deadline.
                let now = Instant::now();
                let deadline = now + self.deadline.remaining().unwrap_or_default();
                let timer = Duration::try_from_secs_f64(next_ms / 1000.0)
                    .ok()
                    .and_then(|d| now.checked_add(d));
                self.wake_at = timer.map_or(deadline, |t| t.min(deadline));
                Step::Wait
            }
            Ok(Poll::Settled(raw)) => self.finish(Ok(raw)),
            Err(f) => self.finish(Err(f)),
        }
    }

    /// Runs jobs (and due timers) until the login's promise settles or only an answer or a later
    /// timer could settle it; then reads its outcome object.
    fn poll(&self, ctx: &Ctx<'_>, promise: &Promise<'_>) -> Result<Poll, Failure> {
        let (deadline, state) = (&self.deadline, &self.state);
        let fail = |e| classify(ctx, e, deadline, state);
        loop {
            while promise.state() == PromiseState::Pending {
                if deadline.expired() {
                    return Err(failure_of(state, SandboxError::Timeout));
                }
                if !ctx.execute_pending_job() {
                    break;
                }
            }
            // No job left: only a timer or a fetch could still settle the login.
            if promise.state() != PromiseState::Pending || !state.borrow().node_built {
                break;
            }
            let Some(timers) = self.timers.clone() else {
                break;
            };
            state.borrow_mut().flights.collect(None);
            let next: f64 = timers
                .restore(ctx)
                .and_then(|t| t.call((false,)))
                .map_err(fail)?;
            if next < 0.0 && state.borrow().flights.in_flight.is_empty() {
                break;
            }
            if next != 0.0 {
                return Ok(Poll::Wait(next));
            }
        }
        let out = match promise.state() {
            PromiseState::Resolved | PromiseState::Rejected => promise.result::<Object>(),
            PromiseState::Pending => None,
        };
        match out {
            Some(Ok(out)) => super::outcome::read(&out).map(Poll::Settled).map_err(fail),
            Some(Err(e)) => Err(fail(e)),
            None if deadline.expired() => Err(failure_of(state, SandboxError::Timeout)),
            None => {
                let kind = {
                    let st = state.borrow();
                    st.current.and_then(|i| st.names.get(i)).map(|(_, k)| *k)
                };
                let kind = kind.unwrap_or(ScriptKind::Action);
                Err(failure_of(state, SandboxError::Pending(kind)))
            }
        }
    }

    /// Ends a login: what it left is dropped, its outcome parsed.
    fn finish(&mut self, result: Result<outcome::Raw, Failure>) -> Step {
        self.pending = None;
        self.drop_timers();
        let result = if self.state.borrow().host_panicked {
            Err(failure_of(&self.state, SandboxError::HostPanicked))
        } else {
            result
        };
        // Floating work is cut off at the end of the login; a context with jobs left (or a heap
        // close to its limit, RUNTIME-NOTES §8.5) is not reused.
        // Walking the heap costs 20-100 µs: only after a failure and every 256th login.
        let pressed = (result.is_err() || self.runs.is_multiple_of(256)) && self.heap_pressed();
        self.dirty |= pressed;
        let result = match result {
            // A job that ran out of memory is swallowed by the job queue and leaves the login
            // pending: a nearly full heap says which it was.
            Err(Failure {
                error: SandboxError::Pending(_),
                script,
            }) if pressed => Err(Failure {
                error: SandboxError::OutOfMemory,
                script,
            }),
            Ok(raw) => {
                self.dirty |= self.rt.is_job_pending();
                Ok(raw)
            }
            Err(f) => {
                self.dirty = true;
                Err(f)
            }
        };
        let outcome = result.map_err(ScriptError::from).and_then(|raw| {
            outcome::parse_outcome(raw, &|i| self.name(i), &mut || self.heap_pressed())
        });
        self.dirty |= outcome.is_err();
        Step::Done(outcome)
    }

    /// Drops the timers still pending when a login ends: they never run in a later login. A
    /// failure here (the deadline passed, say) leaves the sandbox dirty, so none can survive.
    pub(super) fn drop_timers(&mut self) {
        self.state.borrow_mut().flights.cancel_all();
        if !self.state.borrow().node_built {
            return;
        }
        let Some(timers) = self.timers.clone() else {
            return;
        };
        let dropped = self.ctx.with(|ctx| {
            let r = timers.restore(&ctx).and_then(|t| t.call::<_, f64>((true,)));
            if r.is_err() {
                ctx.catch();
            }
            r.is_ok()
        });
        self.dirty |= !dropped;
    }
}
