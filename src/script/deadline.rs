//! The wall-clock deadline a worker arms for each login (read by the interrupt handler, and
//! bounding the wait for a script's timers) and the progress it publishes (which script runs), so
//! that a login the watchdog answers can name it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Where the worker publishes the running script, so a login answered by the watchdog can name it.
#[derive(Default)]
pub(crate) struct Progress {
    pub current: Mutex<Option<Arc<str>>>,
}

impl Progress {
    pub(crate) fn current(&self) -> Option<Arc<str>> {
        self.current
            .lock()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }
}
