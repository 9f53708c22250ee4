//! The wall-clock deadline a worker arms for each login (read by the interrupt handler, and
//! bounding the wait for a script's timers) and the progress it publishes (which script runs), so
//! that a login the watchdog answers can name it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::ScriptRun;

/// The wall-clock deadline of the login a worker is running; read by the interrupt handler.
#[derive(Clone)]
pub(crate) struct Deadline {
    epoch: Instant,
    at: Arc<AtomicU64>,
}

impl Deadline {
    pub(crate) fn new() -> Self {
        Deadline {
            epoch: Instant::now(),
            at: Arc::new(AtomicU64::new(0)),
        }
    }
    pub(crate) fn arm_at(&self, at: Instant) {
        let nanos = at.saturating_duration_since(self.epoch).as_nanos();
        self.at.store(
            u64::try_from(nanos).unwrap_or(u64::MAX).max(1),
            Ordering::Relaxed,
        );
    }
    pub(crate) fn disarm(&self) {
        self.at.store(0, Ordering::Relaxed);
    }
    /// The time left, `None` when disarmed.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        let at = self.at.load(Ordering::Relaxed);
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        (at != 0).then(|| Duration::from_nanos(at.saturating_sub(now)))
    }
    pub(crate) fn expired(&self) -> bool {
        let at = self.at.load(Ordering::Relaxed);
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        at != 0 && now >= at
    }
}

/// Where the worker publishes each script of a login as it starts: the last one names a login
/// the watchdog answers; all of them are the login's [`ScriptRun`]s.
#[derive(Default)]
pub(crate) struct Progress {
    started: Mutex<Vec<ScriptRun>>,
}

impl Progress {
    fn started(&self) -> std::sync::MutexGuard<'_, Vec<ScriptRun>> {
        self.started.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The script `name` starts now.
    pub(crate) fn enter(&self, script: Arc<str>) {
        self.started().push(ScriptRun {
            script,
            started: Instant::now(),
        });
    }

    pub(crate) fn current(&self) -> Option<Arc<str>> {
        self.started().last().map(|r| r.script.clone())
    }

    /// The scripts that started, in order (taken: no copy).
    pub(crate) fn take(&self) -> Vec<ScriptRun> {
        std::mem::take(&mut *self.started())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Outcome;

    /// Each script's time runs to the next one's start, the last one's to the run's end.
    #[test]
    fn script_times_run_from_one_start_to_the_next() {
        let p = Progress::default();
        p.enter("a".into());
        p.enter("b".into());
        assert_eq!(p.current().as_deref(), Some("b"));
        let mut runs = p.take();
        let t0 = runs[0].started;
        runs[1].started = t0 + Duration::from_millis(3);
        let o = Outcome {
            runs,
            ended: Some(t0 + Duration::from_millis(10)),
            ..Outcome::default()
        };
        let times: Vec<(&str, Duration)> = o.script_times().map(|(s, d)| (&**s, d)).collect();
        assert_eq!(
            times,
            [
                ("a", Duration::from_millis(3)),
                ("b", Duration::from_millis(7))
            ]
        );
        assert!(p.take().is_empty(), "taken, not copied");
    }
}
