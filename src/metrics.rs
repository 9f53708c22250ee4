//! The one home of the Prometheus metrics: the registry, every metric and its label sets, and
//! the text encoding `GET /metrics` serves (`http/metrics.rs` decides who may read it).
//!
//! Labels are closed enums or script names (`Arc<str>`, cloned, never allocated per request), so
//! the number of series is bounded: the endpoint is the route's name (`/api/v2/users/{id}`),
//! never the raw path, and no user id, email, client id or secret is ever a label. Recording is
//! a hash lookup under a short read lock plus an atomic add (a histogram: a short write lock);
//! nothing is held across an `.await`. Switched off (`metrics = false`, the default) every
//! record is a no-op on `None`.
//!
//! What this module does not do: read other layers. The gauges read at scrape time (the hashing
//! queue, the script set) are handed in by the handler ([`Metrics::encode`]).

use std::fmt::Write as _; // LabelValueEncoder::write_str
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of what [`Metrics::encode`] writes (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Token issuance, seconds: a refresh or client-credentials grant takes ~0.1–1 ms, a password
/// login tens of milliseconds (the hash), a failed one ~100 ms (the pacing).
const TOKEN_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One script's run, seconds: a warm script ~20–100 µs, up to the login deadline (5 s).
const SCRIPT_BUCKETS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0,
];

/// A route, by name: `label` for `endpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint(pub &'static str);

impl EncodeLabelValue for Endpoint {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        encoder.write_str(self.0)
    }
}

/// The grant of a token request (the password-realm grant counts as `password`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(non_camel_case_types)] // the variant names are the label values
pub enum GrantLabel {
    password,
    refresh_token,
    client_credentials,
}

/// How a token request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum TokenOutcome {
    /// Tokens issued.
    issued,
    /// Refused with a 4xx (wrong password, a script's deny, a bad request...).
    refused,
    /// A 5xx: the server failed (a script timeout, the store...) or is overloaded.
    failed,
}

impl TokenOutcome {
    /// The outcome of an answer with this HTTP status (`None`: issued).
    pub fn of_status(error_status: Option<u16>) -> Self {
        match error_status {
            None => TokenOutcome::issued,
            Some(s) if s >= 500 => TokenOutcome::failed,
            Some(_) => TokenOutcome::refused,
        }
    }
}

/// Why the scripts of a trigger did not let it through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum ScriptFailure {
    /// A script's deny verdict (`api.access.deny`, a Rule's `callback(err)`, `UnauthorizedError`,
    /// `api.validation.error`).
    deny,
    /// An Action threw or rejected (which refuses the login like a deny).
    throw,
    timeout,
    /// A runtime reached its memory limit.
    memory,
    never_settled,
    never_called_back,
    worker_crashed,
    /// Refused before running: too many abandoned workers.
    overloaded,
    /// Refused before running: a script of the set never loaded (`on_load_error = "refuse"`).
    not_loaded,
    /// Any other failure inside the engine.
    engine,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    endpoint: Endpoint,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TokenLabels {
    grant: GrantLabel,
    outcome: TokenOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ScriptLabels {
    script: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    kind: ScriptFailure,
}

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

/// Gauges read at scrape time from other layers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Password checks waiting for a hashing thread.
    pub hash_queue_depth: usize,
    /// The current script set's version.
    pub script_set_version: u64,
    /// Script files of the current set that failed to load.
    pub script_load_errors: usize,
}

/// The server's metrics; `Metrics::default()` is switched off.
#[derive(Default)]
pub struct Metrics(Option<Box<Inner>>);

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    tokens: HistogramFamily<TokenLabels>,
    scripts: HistogramFamily<ScriptLabels>,
    failures: Family<FailureLabels, Counter>,
    hash_queue: Gauge,
    script_set_version: Gauge,
    script_load_errors: Gauge,
}

impl Metrics {
    /// Metrics that record (`on`), or that do nothing.
    pub fn new(on: bool) -> Self {
        if !on {
            return Metrics(None);
        }
        let mut registry = Registry::with_prefix("claimsmith");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route name and status",
            requests.clone(),
        );
        let tokens: HistogramFamily<TokenLabels> =
            Family::new_with_constructor(|| Histogram::new(TOKEN_BUCKETS));
        registry.register_with_unit(
            "token_request_duration",
            "Token requests by grant and outcome (issued, refused: 4xx, failed: 5xx), from the grant's dispatch to its answer",
            Unit::Seconds,
            tokens.clone(),
        );
        let scripts: HistogramFamily<ScriptLabels> =
            Family::new_with_constructor(|| Histogram::new(SCRIPT_BUCKETS));
        registry.register_with_unit(
            "script_run_duration",
            "Runs of each script (the count is the number of runs), wall time from its start",
            Unit::Seconds,
            scripts.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "script_failures",
            "Triggers the scripts refused or failed, by kind",
            failures.clone(),
        );
        let (hash_queue, script_set_version, script_load_errors) = Default::default();
        registry.register(
            "hash_queue_depth",
            "Password checks waiting for a hashing thread",
            Gauge::clone(&hash_queue),
        );
        registry.register(
            "script_set_version",
            "Version of the script set new logins run against",
            Gauge::clone(&script_set_version),
        );
        registry.register(
            "script_load_errors",
            "Script files of the current set that failed to load",
            Gauge::clone(&script_load_errors),
        );
        Metrics(Some(Box::new(Inner {
            registry,
            requests,
            tokens,
            scripts,
            failures,
            hash_queue,
            script_set_version,
            script_load_errors,
        })))
    }

    /// Whether metrics are recorded (and served).
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// One HTTP request answered.
    pub fn request(&self, endpoint: Endpoint, status: u16) {
        if let Some(m) = &self.0 {
            m.requests
                .get_or_create(&RequestLabels { endpoint, status })
                .inc();
        }
    }

    /// One token request of a known grant, from dispatch to answer.
    pub fn token(&self, grant: GrantLabel, outcome: TokenOutcome, took: Duration) {
        if let Some(m) = &self.0 {
            m.tokens
                .get_or_create(&TokenLabels { grant, outcome })
                .observe(took.as_secs_f64());
        }
    }

    /// One script's run.
    pub fn script_run(&self, script: &Arc<str>, took: Duration) {
        if let Some(m) = &self.0 {
            let labels = ScriptLabels {
                script: script.clone(),
            };
            m.scripts.get_or_create(&labels).observe(took.as_secs_f64());
        }
    }

    /// One trigger the scripts refused or failed.
    pub fn script_failure(&self, kind: ScriptFailure) {
        if let Some(m) = &self.0 {
            m.failures.get_or_create(&FailureLabels { kind }).inc();
        }
    }

    /// The text format of every metric, with the scrape-time gauges set from `now`; `None` when
    /// switched off.
    pub fn encode(&self, now: Snapshot) -> Option<String> {
        let m = self.0.as_ref()?;
        m.hash_queue.set(saturate(now.hash_queue_depth as u64));
        m.script_set_version.set(saturate(now.script_set_version));
        m.script_load_errors
            .set(saturate(now.script_load_errors as u64));
        let mut text = String::with_capacity(4096);
        prometheus_client::encoding::prometheus_text::encode(&mut text, &m.registry)
            .expect("writing into a String cannot fail");
        Some(text)
    }
}

fn saturate(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switched_off_records_nothing_and_encodes_nothing() {
        let m = Metrics::default();
        m.request(Endpoint("/oauth/token"), 200);
        assert!(!m.is_on());
        assert!(m.encode(Snapshot::default()).is_none());
    }

    #[test]
    fn labels_and_names_are_as_documented() {
        let m = Metrics::new(true);
        m.request(Endpoint("/api/v2/users/{id}"), 404);
        m.token(
            GrantLabel::refresh_token,
            TokenOutcome::of_status(Some(403)),
            Duration::from_millis(3),
        );
        m.script_run(&Arc::from("01-deny"), Duration::from_micros(80));
        m.script_failure(ScriptFailure::never_called_back);
        let text = m
            .encode(Snapshot {
                hash_queue_depth: 3,
                script_set_version: 7,
                script_load_errors: 1,
            })
            .unwrap();
        for line in [
            "claimsmith_http_requests_total{endpoint=\"/api/v2/users/{id}\",status=\"404\"} 1",
            "claimsmith_token_request_duration_seconds_count{grant=\"refresh_token\",outcome=\"refused\"} 1",
            "claimsmith_script_run_duration_seconds_count{script=\"01-deny\"} 1",
            "claimsmith_script_failures_total{kind=\"never_called_back\"} 1",
            "claimsmith_hash_queue_depth 3",
            "claimsmith_script_set_version 7",
            "claimsmith_script_load_errors 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
