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
/// the watchdog answers; all of them, with when they started, are the login's per-script times.
#[derive(Default)]
pub(crate) struct Progress {
    started: Mutex<Vec<(Arc<str>, Instant)>>,
}

impl Progress {
    fn started(&self) -> std::sync::MutexGuard<'_, Vec<(Arc<str>, Instant)>> {
        self.started.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The script `name` starts now.
    pub(crate) fn enter(&self, name: Arc<str>) {
        self.started().push((name, Instant::now()));
    }

    pub(crate) fn current(&self) -> Option<Arc<str>> {
        self.started().last().map(|(name, _)| name.clone())
    }

    /// Each script that started, in order, with its wall time: until the next one started, the
    /// last until `end` (waits for `fetch` and timers included).
    pub(crate) fn runs(&self, end: Instant) -> Vec<ScriptRun> {
        let started = std::mem::take(&mut *self.started());
        let ends = started.iter().skip(1).map(|(_, at)| *at).chain([end]);
        started
            .iter()
            .zip(ends)
            .map(|((script, at), until)| ScriptRun {
                script: script.clone(),
                elapsed: until.saturating_duration_since(*at),
            })
            .collect()
    }
}
