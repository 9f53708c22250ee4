//! What every request handler shares: the configuration, the store, the key ring, the password
//! hashing pool, the clock and the script pipeline. Built once by the server, passed as `Arc`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::{FailurePace, HashPool};
use crate::pipeline::Pipeline;
use crate::store::Store;
use crate::token::KeyRing;

/// Shared state of the server.
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub keys: Arc<KeyRing>,
    pub hashes: HashPool,
    /// Verified instead of a real hash when the user does not exist (same scheme and cost).
    pub dummy_hash: Arc<str>,
    /// How long a failed login waits so that it takes as long whoever it names.
    pub pace: FailurePace,
    pub clock: Clock,
    pub pipeline: Pipeline,
    /// Token requests being answered right now (shown by `/healthz`).
    pub token_requests: crate::gauge::Gauge,
    /// The Prometheus metrics (`GET /metrics`); records nothing when switched off.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Clients whose ignored `auth0-forwarded-for` header has been logged already.
    pub forwarded_notices: OncePerKey,
}

/// Remembers which keys something was done for, so that it is done once per key (a log line
/// per client, not per request). Bounded: past [`OncePerKey::MAX`] keys it forgets them all and
/// starts again, so a flood of distinct keys costs memory once and a repeat line now and then.
#[derive(Debug, Default)]
pub struct OncePerKey(std::sync::Mutex<std::collections::HashSet<String>>);

impl OncePerKey {
    /// At most this many keys are remembered.
    pub const MAX: usize = 1024;

    /// Whether this is the first time `key` is seen (since the set was last cleared).
    pub fn first(&self, key: &str) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(key) {
            return false;
        }
        if seen.len() >= Self::MAX {
            seen.clear();
        }
        seen.insert(key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::OncePerKey;

    #[test]
    fn once_per_key_is_true_once_and_bounded() {
        let once = OncePerKey::default();
        assert!(once.first("a"));
        assert!(!once.first("a"));
        assert!(once.first("b"));
        for i in 0..OncePerKey::MAX {
            once.first(&i.to_string());
        }
        // The set was cleared on the way, and never held more than its bound.
        assert!(once.0.lock().unwrap().len() <= OncePerKey::MAX);
        assert!(once.first("a"));
    }
}
