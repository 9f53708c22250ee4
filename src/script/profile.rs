//! One sandbox driven directly, without the worker pool or tokio: what `cargo bench --bench
//! scripts` prints as "in process", and what `valgrind --tool=callgrind` counts (README,
//! "Development"). Not an API: hidden from the docs, used only by the bench.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::{Context, Runtime};

use super::cache::Cache;
use super::catalog::{self, LoadError, Script, ScriptKind};
use super::intrinsics::SandboxIntrinsics;
use super::sandbox::{Deadline, Env, Sandbox};
use super::{Host, LoginInput, MetadataKind, Outcome, PatchError, ScriptError, shape};

/// A compiled script list and the environment its sandboxes are built in.
pub struct InProcess {
    env: Env,
    scripts: Vec<Arc<Script>>,
    deadline: Deadline,
}

/// Where a strict login's time goes, summed over the logins run.
#[derive(Debug, Default, Clone, Copy)]
pub struct StrictTimes {
    pub build: Duration,
    pub run: Duration,
    pub drop: Duration,
}

impl InProcess {
    /// Compiles `(kind, name, source)` scripts, Rules and Actions in the order given.
    pub fn new(scripts: &[(ScriptKind, &str, &str)]) -> Result<Self, LoadError> {
        let mut compiled = Vec::new();
        for (kind, name, source) in scripts {
            let bytecode = catalog::compile(*kind, name, source)?;
            compiled.push(Arc::new(Script::for_check(*kind, name, bytecode.into())));
        }
        let deadline = Deadline::new();
        deadline.arm_at(Instant::now() + Duration::from_secs(3600));
        Ok(InProcess {
            env: bench_env(),
            scripts: compiled,
            deadline,
        })
    }

    fn login(&self, sandbox: &mut Sandbox, input: &LoginInput) -> Result<Outcome, ScriptError> {
        let parts = shape::event_parts(input);
        let rules = shape::rules_json(input);
        sandbox.run_login(&parts, Some(&rules), input.now_ms, Arc::default())
    }

    /// `n` logins on one hardened (warm) sandbox; the total time of the logins.
    pub fn warm(&self, input: &LoginInput, n: usize) -> Result<Duration, ScriptError> {
        let (mut sandbox, _) = Sandbox::build(
            &self.env,
            self.scripts.iter(),
            1,
            &Arc::default(),
            true,
            &self.deadline,
        )?;
        let t = Instant::now();
        for _ in 0..n {
            self.login(&mut sandbox, input)?;
        }
        Ok(t.elapsed())
    }

    /// `n` strict logins: a fresh sandbox built, run once and dropped for each.
    pub fn strict(&self, input: &LoginInput, n: usize) -> Result<StrictTimes, ScriptError> {
        let mut times = StrictTimes::default();
        for _ in 0..n {
            let t0 = Instant::now();
            let (mut sandbox, _) = Sandbox::build(
                &self.env,
                self.scripts.iter(),
                1,
                &Arc::default(),
                false,
                &self.deadline,
            )?;
            let t1 = Instant::now();
            self.login(&mut sandbox, input)?;
            let t2 = Instant::now();
            drop(sandbox);
            times.build += t1 - t0;
            times.run += t2 - t1;
            times.drop += t2.elapsed();
        }
        Ok(times)
    }

    /// `n` times shaping the event and the Rules' input in Rust (part of every login).
    pub fn shape_input(input: &LoginInput, n: usize) -> Duration {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box((shape::event_parts(input), shape::rules_json(input)));
        }
        t.elapsed()
    }

    /// `n` bare runtimes + contexts with the sandbox's intrinsics: the floor of a strict build.
    pub fn bare_context(n: usize) -> Duration {
        let t = Instant::now();
        for _ in 0..n {
            if let Ok(rt) = Runtime::new() {
                std::hint::black_box(Context::custom::<SandboxIntrinsics>(&rt).is_ok());
            }
        }
        t.elapsed()
    }
}

/// The engine's defaults, with a host whose metadata writes succeed without a store.
fn bench_env() -> Env {
    struct NoStore;
    impl Host for NoStore {
        fn patch_metadata(
            &self,
            _: &str,
            _: MetadataKind,
            _: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<(), PatchError> {
            Ok(())
        }
    }
    let config = super::EngineConfig::default();
    Env {
        host: Arc::new(NoStore),
        cache: Arc::new(Cache::default()),
        shim_config_warm: config.shim_config(true),
        shim_config_strict: config.shim_config(false),
        memory_limit: config.memory_limit_bytes,
        stack_size: config.stack_size_bytes,
        console_cap: config.console_cap_bytes,
        fetcher: Arc::new(super::fetch::Fetcher::new(config.fetch.clone())),
    }
}
