//! The queue between tokio and the script workers: jobs FIFO, idle workers LIFO, a spin-then-park
//! hand-off, and one semaphore permit per queued job so that callers wait for room.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long an idle worker polls the queue before it parks.
const SPIN_BEFORE_PARK: Duration = Duration::from_micros(200);

/// A parked worker: its thread and whether a job was handed to it.
pub(super) struct Parker {
    pub(super) thread: std::thread::Thread,
    pub(super) woken: AtomicBool,
}

/// The jobs waiting for a worker, FIFO, and the idle workers, LIFO.
///
/// At low load the worker that just replied is the one polling the queue (its caches and
/// sandbox are hot) while the others stay parked: a job wakes a parked worker only when more jobs
/// wait than workers are awake to take them. Waking a parked thread costs tens of µs on a VM.
pub(super) struct Queue<T> {
    state: Mutex<QueueState<T>>,
    /// `state.jobs.len()`, read by polling workers without the lock.
    queued: AtomicUsize,
    closed: AtomicBool,
    /// One permit per queued job: `run_login` waits for room (within its deadline).
    pub(super) room: Arc<Semaphore>,
}

struct QueueState<T> {
    jobs: VecDeque<(T, OwnedSemaphorePermit)>,
    idle: Vec<Arc<Parker>>,
    /// Workers polling for a job, or woken and about to.
    awake: usize,
}

impl<T> Queue<T> {
    pub(super) fn new(capacity: usize) -> Self {
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

    fn lock(&self) -> MutexGuard<'_, QueueState<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job; `Err` once the engine is stopping.
    pub(super) fn push(&self, msg: T, permit: OwnedSemaphorePermit) -> Result<(), T> {
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

    fn take(&self, st: &mut QueueState<T>) -> Option<T> {
        let (msg, permit) = st.jobs.pop_front()?;
        self.queued.store(st.jobs.len(), Ordering::Release);
        drop(permit);
        Some(msg)
    }

    /// The next job for a worker: polls for `SPIN_BEFORE_PARK`, then parks until a job is handed
    /// over. `None` once the engine stopped and the queue is empty.
    pub(super) fn next(&self, me: &Arc<Parker>) -> Option<T> {
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
    pub(super) fn close(&self) {
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
