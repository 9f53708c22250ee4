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
}
