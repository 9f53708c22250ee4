//! Password and client-secret verification, and the pool that keeps hashing off the async workers.
//!
//! Passwords: bcrypt (`$2a$`, `$2b$`, `$2y$`, as Auth0 exports them) and argon2 PHC strings; new
//! passwords are hashed with argon2id (OWASP's first choice, and 4× cheaper to verify than bcrypt
//! cost 10 here); older hashes are upgraded at the next successful login. Unknown users are
//! checked against a dummy hash of the same scheme and cost as the
//! most common stored hash, and every failed login is paced to the slowest stored scheme and cost
//! ([`FailurePace`]), so that a failure takes as long whoever it names.
//! Client secrets are random 256-bit strings, so a SHA-256 digest compared in constant time is
//! enough to store them (a slow hash protects low-entropy secrets only).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a new password with argon2id and its default parameters (m=19456 KiB, t=2, p=1).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `hash` is a password hash this server can verify: bcrypt, or an argon2 PHC string.
pub fn is_supported_hash(hash: &str) -> bool {
    is_bcrypt(hash)
        || (hash.starts_with("$argon2")
            && argon2::password_hash::phc::PasswordHash::new(hash)
                .ok()
                .and_then(|h| argon2::Params::try_from(&h).ok())
                .is_some())
}

/// The scheme and cost of a hash, without its salt: `$2b$10`, `$argon2id$v=19$m=19456,t=2,p=1`.
/// Hashes of one class take the same time to verify.
pub fn hash_class(hash: &str) -> Option<String> {
    if is_bcrypt(hash) {
        return hash.get(..6).map(str::to_owned);
    }
    let mut parts = hash.split('$');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(alg), Some(v), Some(params)) if alg.starts_with("argon2") => {
            Some(format!("${alg}${v}${params}"))
        }
        _ => None,
    }
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

/// Checks `password` against a stored hash. Any malformed hash is a mismatch, never a panic.
/// CPU-heavy (17–300 ms): call it through [`HashPool`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    if is_bcrypt(hash) {
        bcrypt::verify(password, hash).unwrap_or(false)
    } else {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok()
    }
}

/// A hash of the same scheme and cost as `sample` (the most common stored hash), to verify
/// against when the user does not exist.
pub fn dummy_hash_like(sample: Option<&str>) -> String {
    const FALLBACK: &str = "claimsmith-dummy-password";
    if let Some(s) = sample.filter(|s| is_bcrypt(s)) {
        let cost = s.get(4..6).and_then(|c| c.parse().ok()).unwrap_or(10);
        if let Ok(h) = bcrypt::hash(FALLBACK, cost) {
            return h;
        }
    }
    if let Some(params) = sample
        .and_then(|s| argon2::password_hash::phc::PasswordHash::new(s).ok())
        .and_then(|h| argon2::Params::try_from(&h).ok())
        && let Ok(h) = argon2::Argon2::from(params).hash_password(FALLBACK.as_bytes())
    {
        return h.to_string();
    }
    hash_password(FALLBACK).unwrap_or_default()
}

/// A new client secret: 32 random bytes, base64url.
pub fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A random identifier of `N` bytes, base64url (client ids, user ids, key ids).
pub fn random_id<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // aws-lc's RNG only fails when the OS has no entropy source at all.
    aws_lc_rs::rand::fill(&mut b).expect("the OS random source is available");
    b
}

/// How a client secret is stored: `sha256:<hex>`.
pub fn hash_secret(secret: &str) -> String {
    let d = digest::digest(&digest::SHA256, secret.as_bytes());
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Compares a presented secret with its stored hash in constant time.
pub fn verify_secret(secret: &str, stored: &str) -> bool {
    hash_secret(secret)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into()
}

/// Runs password hashing on its own `concurrency` threads (more would only slow each login), with
/// at most `max_waiting` logins queued; past that the grant answers 503 rather than letting a
/// flood of logins grow the queue without bound. Both limits are semaphore permits held for the
/// whole call, so a cancelled login (a client that hung up) gives its place back.
///
/// The threads run at a lower scheduling priority (nice +10 on Linux): a hash is tens of
/// milliseconds of pure CPU, and under a flood of logins the async workers answering everything
/// else (JWKS, discovery, refused requests) must not queue behind it. With the CPU otherwise idle
/// a hash runs as fast as before.
#[derive(Clone)]
pub struct HashPool {
    threads: Arc<rayon::ThreadPool>,
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    /// Password checks completed, real or dummy (observability; the tests count them).
    verified: Arc<AtomicU64>,
    /// The permits of `running` and of `admitted`, to tell how many are taken.
    concurrency: usize,
    capacity: usize,
}

/// The queue of password checks is full.
#[derive(Debug, thiserror::Error)]
#[error("too many logins waiting for a password check")]
pub struct Overloaded;

impl HashPool {
    /// A pool running `concurrency` hashes at once with `max_waiting` queued.
    pub fn new(concurrency: usize, max_waiting: usize) -> Self {
        let concurrency = concurrency.max(1);
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(concurrency)
            .thread_name(|i| format!("claimsmith-hash-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            // rayon aborts the process on a panic in a job unless a handler is set; the login
            // whose job panicked sees `None` (its reply is dropped unsent) and fails closed.
            .panic_handler(|_| tracing::error!("a password hashing job panicked"))
            .build()
            .unwrap_or_else(|e| panic!("cannot start the password hashing threads: {e}"));
        Self {
            threads: Arc::new(threads),
            running: Arc::new(Semaphore::new(concurrency)),
            admitted: Arc::new(Semaphore::new(concurrency + max_waiting)),
            verified: Arc::default(),
            concurrency,
            capacity: concurrency + max_waiting,
        }
    }

    /// Password checks admitted but waiting for a hashing thread (`/metrics`); read from two
    /// semaphores one after the other, so a close estimate while checks come and go.
    pub fn queue_depth(&self) -> usize {
        let admitted = self.capacity - self.admitted.available_permits().min(self.capacity);
        let running = self.concurrency - self.running.available_permits().min(self.concurrency);
        admitted.saturating_sub(running)
    }

    /// How many password checks have run to completion.
    pub fn verifications(&self) -> u64 {
        self.verified.load(Ordering::Relaxed)
    }

    /// Verifies `password` against `hash` off the async workers; also says how long the
    /// verification itself took (not the wait for a place), for [`FailurePace`].
    pub async fn verify(&self, password: String, hash: String) -> Result<Verified, Overloaded> {
        let counter = self.verified.clone();
        self.run(move || {
            let start = Instant::now();
            let ok = verify_password(&password, &hash);
            counter.fetch_add(1, Ordering::Relaxed);
            Verified {
                ok,
                took: start.elapsed(),
            }
        })
        .await?
        .ok_or(Overloaded)
    }

    /// Hashes a password with the current scheme, as [`hash_password`], off the async workers.
    pub async fn hash(&self, password: String) -> Result<Option<String>, Overloaded> {
        Ok(self
            .run(move || hash_password(&password).ok())
            .await?
            .flatten())
    }

    /// Runs `work` on the hashing threads under both limits; `None` if it panicked.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, Overloaded> {
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Overloaded)?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Overloaded)?;
        let (done, result) = tokio::sync::oneshot::channel();
        self.threads.spawn(move || {
            let _running = running;
            // A panic drops `done` unsent: the caller sees `None`.
            let _ = done.send(work());
        });
        Ok(result.await.ok())
    }
}

/// Lowers the calling thread's scheduling priority (Linux: nice applies per thread). Best effort:
/// a failure leaves the thread at the normal priority.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lower_this_threads_priority() {
    // SAFETY: setpriority only reads its integer arguments; on Linux `PRIO_PROCESS` with id 0
    // names the calling thread, so no other thread is affected.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

/// The result of one password check.
#[derive(Debug, Clone, Copy)]
pub struct Verified {
    pub ok: bool,
    pub took: Duration,
}

/// Whether a hash verified at login should be replaced by one of the current scheme and cost.
pub fn needs_upgrade(hash: &str) -> bool {
    hash_class(hash).as_deref() != Some(CURRENT_CLASS)
}

/// The class of what [`hash_password`] makes.
const CURRENT_CLASS: &str = "$argon2id$v=19$m=19456,t=2,p=1";

/// Failed logins end this many times the slowest class's average cost after their check began.
const PACE_MARGIN: f64 = 1.5;

/// Paces failed logins so that they tell nothing about the account: a wrong password for a user
/// whose hash is quick to verify (or for an unknown user, checked against a dummy hash) answers no
/// sooner than one whose hash is the slowest of the stored schemes and costs. After a failed check
/// that took `t`, the login waits `slowest × PACE_MARGIN − t` more, on a timer that burns no CPU:
/// with the margin, every failure, the slowest class's included, ends at the same moment even when
/// load makes one check take longer than its average.
///
/// The cost of each class is measured at start-up for every class in the store (the slower of two
/// runs: erring long costs a little time, erring short would leak), then follows every
/// verification of that class (a moving average), so that it tracks the machine's load. A class
/// first seen while serving (a user imported meanwhile) is measured at its first login.
#[derive(Debug, Default)]
pub struct FailurePace {
    costs: Mutex<HashMap<String, Duration>>,
}

impl FailurePace {
    /// Measures each class of `samples` (one stored hash per class).
    pub fn calibrate(samples: &[String]) -> Self {
        let pace = Self::default();
        for hash in samples {
            let slower = (0..2)
                .map(|_| {
                    let start = Instant::now();
                    verify_password("claimsmith-calibration", hash);
                    start.elapsed()
                })
                .max()
                .unwrap_or_default();
            if let Some(class) = hash_class(hash) {
                pace.lock().insert(class, slower);
            }
        }
        pace
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Duration>> {
        self.costs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a verification of `hash` that took `took`, and returns how much longer a failed
    /// login with it must wait.
    pub fn after(&self, hash: &str, took: Duration) -> Duration {
        let mut costs = self.lock();
        if let Some(class) = hash_class(hash) {
            costs
                .entry(class)
                .and_modify(|c| *c = (*c * 7 + took) / 8)
                .or_insert(took);
        }
        let slowest = costs.values().max().copied().unwrap_or_default();
        slowest.mul_f64(PACE_MARGIN).saturating_sub(took)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_bcrypt_variants_and_argon2() {
        let b = bcrypt::hash("pw", 4).unwrap();
        assert!(verify_password("pw", &b));
        assert!(!verify_password("nope", &b));
        for prefix in ["$2a$", "$2y$"] {
            let v = format!("{prefix}{}", &b[4..]);
            assert!(verify_password("pw", &v), "{prefix}");
        }
        let a = hash_password("pw").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("pw", &a));
        assert!(!verify_password("pw2", &a));
        assert!(!verify_password("pw", "garbage"));
        assert!(is_supported_hash(&a) && is_supported_hash(&b) && !is_supported_hash("md5$x"));
    }

    #[test]
    fn hash_classes_ignore_the_salt() {
        let (a, b) = (bcrypt::hash("x", 4).unwrap(), bcrypt::hash("y", 4).unwrap());
        assert_eq!(hash_class(&a), hash_class(&b));
        assert_eq!(hash_class(&a).as_deref(), Some("$2b$04"));
        let argon = hash_password("x").unwrap();
        assert_eq!(
            hash_class(&argon).as_deref(),
            Some("$argon2id$v=19$m=19456,t=2,p=1")
        );
        assert!(!is_supported_hash(
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"
        ));
    }

    /// The nice value of the calling thread, from /proc (Linux).
    #[cfg(target_os = "linux")]
    fn this_threads_nice() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Field 19, counted after the parenthesised command name.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        rest.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_at_a_lower_priority_than_the_rest() {
        let pool = HashPool::new(1, 1);
        let before = this_threads_nice();
        let inside = pool.run(this_threads_nice).await.unwrap().unwrap();
        assert_eq!(
            inside,
            (before + 10).min(19),
            "a hashing thread is nice +10"
        );
        assert_eq!(
            this_threads_nice(),
            before,
            "the caller's thread is untouched"
        );
    }

    #[tokio::test]
    async fn queue_depth_counts_the_checks_waiting_for_a_thread() {
        let pool = HashPool::new(1, 4);
        assert_eq!(pool.queue_depth(), 0);
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let p = pool.clone();
        let first = tokio::spawn(async move { p.run(move || gate.recv().ok()).await });
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let p = pool.clone();
                tokio::spawn(async move { p.run(|| ()).await })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.queue_depth() != 3 {
            assert!(Instant::now() < deadline, "depth {}", pool.queue_depth());
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        assert_eq!(pool.queue_depth(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_login_gives_its_queue_place_back() {
        let pool = HashPool::new(1, 1);
        let slow = bcrypt::hash("pw", 10).unwrap();
        for _ in 0..5 {
            let (p1, p2) = (pool.clone(), pool.clone());
            let (h1, h2) = (slow.clone(), slow.clone());
            let running = tokio::spawn(async move { p1.verify("pw".into(), h1).await });
            let waiting = tokio::spawn(async move { p2.verify("pw".into(), h2).await });
            tokio::task::yield_now().await;
            waiting.abort();
            running.abort();
            let _ = (running.await, waiting.await);
        }
        let fast = bcrypt::hash("pw", 4).unwrap();
        assert!(
            pool.verify("pw".into(), fast).await.unwrap().ok,
            "the pool still admits logins"
        );
    }

    #[test]
    fn dummy_hash_mirrors_the_sample_scheme() {
        let sample = bcrypt::hash("x", 5).unwrap();
        assert!(dummy_hash_like(Some(&sample)).starts_with("$2b$05$"));
        assert!(dummy_hash_like(None).starts_with("$argon2id$"));
    }

    #[test]
    fn failures_are_paced_to_the_slowest_class() {
        // 32x the work apart, so that a preempted measurement of the fast class (the calibration
        // keeps the slower of two) cannot pass for the slow one on a loaded machine.
        let (fast, slow) = (bcrypt::hash("x", 4).unwrap(), bcrypt::hash("x", 9).unwrap());
        let pace = FailurePace::calibrate(&[fast.clone(), slow.clone()]);
        let costs = pace.lock().clone();
        let (f, s) = (costs["$2b$04"], costs["$2b$09"]);
        assert!(s > f, "cost 9 is slower than cost 4: {f:?} {s:?}");
        let target = s.mul_f64(PACE_MARGIN);
        assert_eq!(
            s + pace.after(&slow, s),
            target,
            "the slowest waits for the margin"
        );
        assert_eq!(
            f + pace.after(&fast, f),
            target,
            "a fast failure ends with the slowest"
        );
        assert!(needs_upgrade(&fast) && !needs_upgrade(&hash_password("x").unwrap()));
    }

    #[test]
    fn secrets_compare_by_hash() {
        let s = new_secret();
        let h = hash_secret(&s);
        assert!(verify_secret(&s, &h));
        assert!(!verify_secret("other", &h));
        assert_ne!(new_secret(), s);
    }
}
