//! The queue between tokio and the script workers: a crossbeam-channel (jobs FIFO), a
//! spin-then-park hand-off, and one semaphore permit per queued job so that callers wait for room.
//! It owns neither the workers nor the jobs' meaning (`engine.rs`, `worker.rs`).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long an idle worker polls the queue before it parks in the channel: at low load the worker
/// that just replied takes the next job with its caches hot, and nobody pays for waking a parked
/// thread (tens of µs on a VM). Parking at once (crossbeam's own short backoff) measured 10-20%
/// slower on warm logins.
const SPIN_BEFORE_PARK: Duration = Duration::from_micros(200);

type Job<T> = (T, OwnedSemaphorePermit);

/// What [`Queue::next_or`] woke for.
pub(super) enum Next<T> {
    Job(T),
    Wake,
    Closed,
}

/// The jobs waiting for a worker. The channel is unbounded: `room` is the bound, so a push never
/// blocks a tokio thread and callers wait for room asynchronously (within their deadline). A push
/// wakes a parked worker even while another is polling (the hand-written queue this replaced woke
/// one only when more jobs waited than workers were awake); A/B benchmarks showed no difference.
pub(super) struct Queue<T> {
    /// `None` once closed: dropping the only sender is what lets workers drain the queue and
    /// leave. Read-locked per push, write-locked once, by `close`.
    tx: RwLock<Option<Sender<Job<T>>>>,
    rx: Receiver<Job<T>>,
    /// One permit per queued job: `run_login` waits for room (within its deadline).
    pub(super) room: Arc<Semaphore>,
}

impl<T> Queue<T> {
    pub(super) fn new(capacity: usize) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Queue {
            tx: RwLock::new(Some(tx)),
            rx,
            room: Arc::new(Semaphore::new(capacity)),
        }
    }

    /// Queues a job; `Err` once the engine is stopping.
    pub(super) fn push(&self, msg: T, permit: OwnedSemaphorePermit) -> Result<(), T> {
        let tx = self.tx.read().unwrap_or_else(|p| p.into_inner());
        match tx.as_ref() {
            Some(tx) => tx.send((msg, permit)).map_err(|e| e.into_inner().0),
            None => Err(msg),
        }
    }

    /// The next job for a worker: polls for `SPIN_BEFORE_PARK`, then parks in the channel until a
    /// job comes. `None` once the engine stopped and the queue is empty.
    pub(super) fn next(&self) -> Option<T> {
        let until = Instant::now() + SPIN_BEFORE_PARK;
        let mut polls = 0u32;
        loop {
            match self.rx.try_recv() {
                Ok((msg, _permit)) => return Some(msg),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
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
        self.rx.recv().ok().map(|(msg, _permit)| msg)
    }

    /// For a worker with parked logins: the next job (when `jobs`), or `Wake` when one of `io`
    /// has an answer, `until` passed or another worker took the job; `Closed` once the queue is
    /// closed and empty (from then on, call it with `jobs` false).
    pub(super) fn next_or<D>(&self, io: &[Receiver<D>], until: Instant, jobs: bool) -> Next<T> {
        let mut select = Select::new();
        for rx in io {
            select.recv(rx);
        }
        if jobs {
            select.recv(&self.rx);
        }
        match select.ready_deadline(until) {
            Ok(i) if i == io.len() => match self.rx.try_recv() {
                Ok((msg, _permit)) => Next::Job(msg),
                Err(TryRecvError::Empty) => Next::Wake,
                Err(TryRecvError::Disconnected) => Next::Closed,
            },
            _ => Next::Wake,
        }
    }

    /// Refuses new jobs; workers drain what is queued, then `next` answers `None`.
    pub(super) fn close(&self) {
        self.room.close();
        self.tx.write().unwrap_or_else(|p| p.into_inner()).take();
    }
}
