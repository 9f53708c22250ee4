//! [`Gauge`]: how many of something are in progress, counted by a guard so that a cancelled
//! future or an early return can never leave the count too high.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A count of things in progress (token requests being answered, logins waiting for a worker).
#[derive(Debug, Default)]
pub struct Gauge(AtomicUsize);

impl Gauge {
    pub const fn new() -> Self {
        Gauge(AtomicUsize::new(0))
    }

    /// Counts one until the returned guard drops.
    pub fn enter(&self) -> Counted<'_> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Counted(&self.0)
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// One unit of a [`Gauge`], released on drop.
#[must_use = "the count is released when this guard drops"]
pub struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_while_guards_live() {
        let g = Gauge::new();
        let a = g.enter();
        let b = g.enter();
        assert_eq!(g.get(), 2);
        drop(a);
        assert_eq!(g.get(), 1);
        drop(b);
        assert_eq!(g.get(), 0);
    }
}
