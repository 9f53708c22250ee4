//! One sandbox = one rquickjs `Runtime` with exactly one eval-less `Context`, holding the shim
//! driver and every script of one [`ScriptSet`]. It is owned by one worker thread and never leaves
//! it. One runtime per context because contexts of one runtime are not isolated (host functions
//! share the first context's `Function.prototype`, RUNTIME-NOTES §8.1).
//!
//! Limits: the runtime's memory limit and stack limit, and an interrupt handler polling the
//! worker's [`Deadline`] (one wall-clock deadline for the whole login). What it does not do:
//! scheduling, the watchdog and recycling decisions (see `engine.rs`).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::{Context, Ctx, Function, Object, Persistent, Promise, Runtime};
use serde_json::{Map, Value as Json};

use super::bindings;
use super::cache::Cache;
use super::catalog::{Script, ScriptKind, ScriptSet};
pub(crate) use super::deadline::{Deadline, Progress};
use super::engine_config::Isolation;
pub(crate) use super::exception::describe_exception;
use super::fetch::{FetchPolicy, Fetcher, Flights};
use super::intrinsics::{SandboxIntrinsics, StrictIntrinsics};
use super::library::Modules;
use super::modules::{NoImports, load_module, shim_bytecode};
use super::{Host, MetadataKind, PatchError};

/// What the engine shares with every sandbox it builds.
pub(crate) struct Env {
    pub host: Arc<dyn Host>,
    pub cache: Arc<Cache>,
    /// `{configuration, secrets: {action: {...}}, domain, harden}` for the shim.
    pub shim_config_warm: String,
    pub shim_config_strict: String,
    pub memory_limit: usize,
    pub stack_size: usize,
    pub console_cap: usize,
    /// `fetch`'s policy and I/O (fetch.rs), shared by every sandbox of the engine.
    pub fetcher: Arc<Fetcher>,
}

/// Per-login state the host functions (`bindings.rs`) write into.
pub(super) struct LoginState {
    pub names: Vec<(Arc<str>, ScriptKind)>,
    pub current: Option<usize>,
    pub console_used: Vec<usize>,
    pub console_cap: usize,
    pub host_panicked: bool,
    pub now_ms: i64,
    pub progress: Option<Arc<Progress>>,
    /// The context has its typed arrays (warm: from the start; strict: once a script asked).
    pub typed_arrays: bool,
    /// The Node globals' library was built in this context (`host.nodeGlobals`): only then are
    /// there timers to drive or drop.
    pub node_built: bool,
    /// This sandbox's fetches in flight and their answers (fetch.rs).
    pub flights: Flights,
}

impl LoginState {
    pub(super) fn current_name(&self) -> Arc<str> {
        self.current
            .and_then(|i| self.names.get(i))
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| "claimsmith".into())
    }
}

/// Why a sandbox could not build or finish a login.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SandboxError {
    Timeout,
    OutOfMemory,
    /// The login's promise is pending and no job is left that could settle it.
    Pending(ScriptKind),
    /// A script threw while initialising (module top level or shape check): the message, and the
    /// stack when there is one (the catalog takes the script's own line and column from it).
    Script(String, Option<String>),
    /// The Host panicked inside a host function.
    HostPanicked,
    Engine(String),
}

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SandboxError::Timeout => f.write_str("interrupted: time limit reached"),
            SandboxError::OutOfMemory => f.write_str("out of memory"),
            SandboxError::Pending(_) => f.write_str("never settled"),
            SandboxError::Script(m, _) | SandboxError::Engine(m) => f.write_str(m),
            SandboxError::HostPanicked => f.write_str("the host panicked"),
        }
    }
}

/// A failure with the script that was running when it happened.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: SandboxError,
    pub script: Option<Arc<str>>,
}

/// A runtime + context with the shim and a set's scripts loaded. Drop order matters: the
/// `Persistent` must go before the runtime (RUNTIME-NOTES §8.3), hence the explicit `Drop`.
pub(crate) struct Sandbox {
    pub(super) run: Option<Persistent<Function<'static>>>,
    /// The shim's `timers(drop)`: fires a due timer or answers the wait (see `drive.rs`).
    pub(super) timers: Option<Persistent<Function<'static>>>,
    /// The promise of a login waiting for a fetch answer or a timer (drive.rs).
    pub(super) pending: Option<Persistent<Promise<'static>>>,
    /// When that login must go on without an answer: its next timer, or its deadline.
    pub(super) wake_at: Instant,
    pub(super) state: Rc<RefCell<LoginState>>,
    /// This sandbox's own deadline (read by its interrupt handler), armed for the login it runs.
    pub(crate) deadline: Deadline,
    pub(super) ctx: Context,
    pub(super) rt: Runtime,
    pub(super) memory_limit: usize,
    /// The set version this sandbox was built for.
    pub version: u64,
    /// The very scripts it holds: a set with the same version but other scripts never reuses it.
    scripts: Vec<Arc<Script>>,
    /// Logins run so far (warm recycling).
    pub runs: u32,
    /// Set when this sandbox must not be reused (jobs left pending, heap nearly full).
    pub dirty: bool,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Before `ctx` and `rt`: a Persistent outliving its runtime aborts the process.
        self.run.take();
        self.timers.take();
        self.pending.take();
    }
}

impl Sandbox {
    /// Builds a sandbox for `scripts` under the deadline already armed on `deadline`.
    pub(crate) fn build<'a>(
        env: &Env,
        scripts: impl Iterator<Item = &'a Arc<Script>> + Clone,
        version: u64,
        modules: &Arc<Modules>,
        harden: bool,
        deadline: &Deadline,
    ) -> Result<(Sandbox, Vec<i32>), Failure> {
        let engine = |m: String| Failure {
            error: SandboxError::Engine(m),
            script: None,
        };
        let rt = Runtime::new().map_err(|e| engine(e.to_string()))?;
        rt.set_memory_limit(env.memory_limit);
        rt.set_max_stack_size(env.stack_size);
        // The default threshold (256 KiB) runs the cycle collector every few logins.
        rt.set_gc_threshold(gc_threshold(env.memory_limit));
        let d = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || d.expired())));
        rt.set_loader(NoImports, NoImports);
        let ctx = if harden {
            Context::custom::<SandboxIntrinsics>(&rt)
        } else {
            Context::custom::<StrictIntrinsics>(&rt)
        }
        .map_err(|e| engine(e.to_string()))?;
        let script_list: Vec<Arc<Script>> = scripts.clone().cloned().collect();
        let state = Rc::new(RefCell::new(LoginState {
            names: scripts.clone().map(|s| (s.name.clone(), s.kind)).collect(),
            current: None,
            console_used: Vec::new(),
            console_cap: env.console_cap,
            host_panicked: false,
            now_ms: 0,
            progress: None,
            typed_arrays: harden,
            node_built: false,
            flights: Flights::default(),
        }));
        let config = if harden {
            &env.shim_config_warm
        } else {
            &env.shim_config_strict
        };
        let built = ctx.with(|ctx| -> Result<_, Failure> {
            let fail = |e: rquickjs::Error| classify(&ctx, e, deadline, &state);
            let shim = shim_bytecode().map_err(|error| Failure {
                error,
                script: None,
            })?;
            let install: Function = load_module(&ctx, shim)
                .and_then(|v| v.get())
                .map_err(fail)?;
            let host = bindings::host_object(&ctx, env, &state, modules).map_err(fail)?;
            let driver: Object = install.call((host, config.as_str())).map_err(fail)?;
            let add: Function = driver.get("add").map_err(fail)?;
            let mut flags = Vec::new();
            for script in scripts {
                let init = super::bytecode::run_script(&ctx, &script.bytecode).map_err(fail)?;
                let kind = match script.kind {
                    ScriptKind::Rule => 0,
                    ScriptKind::Action => 1,
                };
                let triggers: i32 = add
                    .call((kind, &*script.name, init, &*script.dir))
                    .map_err(fail)?;
                flags.push(triggers);
            }
            let run: Function = driver.get("run").map_err(fail)?;
            let timers: Function = driver.get("timers").map_err(fail)?;
            Ok((
                Persistent::save(&ctx, run),
                Persistent::save(&ctx, timers),
                flags,
            ))
        });
        let (run, timers, flags) = built?;
        let mut sandbox = Sandbox {
            run: Some(run),
            timers: Some(timers),
            pending: None,
            wake_at: Instant::now(),
            state,
            deadline: deadline.clone(),
            ctx,
            rt,
            memory_limit: env.memory_limit,
            version,
            scripts: script_list,
            runs: 0,
            dirty: false,
        };
        // Timers a script's top level set belong to no login: none runs.
        sandbox.drop_timers();
        Ok((sandbox, flags))
    }

    /// The one reuse decision. Warm: a sandbox of this very set, until it is due for recycling or
    /// dirty. Strict: a fresh one, never used before.
    pub(crate) fn reusable(
        &self,
        set: &ScriptSet,
        isolation: Isolation,
        recycle_after: u32,
    ) -> bool {
        let fresh_enough = match isolation {
            Isolation::Warm => self.runs < recycle_after,
            Isolation::Strict => self.runs == 0,
        };
        self.holds(set) && !self.dirty && fresh_enough
    }

    /// Whether the heap is over 3/4 of its limit.
    pub(crate) fn heap_pressed(&self) -> bool {
        let used = usize::try_from(self.rt.memory_usage().malloc_size).unwrap_or(usize::MAX);
        used > self.memory_limit / 4 * 3
    }

    /// Whether this sandbox was built from exactly this set.
    pub(crate) fn holds(&self, set: &ScriptSet) -> bool {
        self.version == set.version
            && self.scripts.len() == set.rules.len() + set.actions.len()
            && self
                .scripts
                .iter()
                .zip(set.all())
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }

    /// The name of script `i` of this sandbox (rules first, then actions).
    pub(crate) fn name(&self, i: i64) -> Option<Arc<str>> {
        let st = self.state.borrow();
        usize::try_from(i)
            .ok()
            .and_then(|i| st.names.get(i))
            .map(|(n, _)| n.clone())
    }
}

pub(super) fn gc_threshold(memory_limit: usize) -> usize {
    (memory_limit / 4).max(1 << 20)
}

pub(super) fn failure_of(state: &Rc<RefCell<LoginState>>, error: SandboxError) -> Failure {
    let st = state.borrow();
    Failure {
        error,
        script: st.current.map(|_| st.current_name()),
    }
}

/// Maps an rquickjs error (with the pending exception) to a [`Failure`].
pub(super) fn classify(
    ctx: &Ctx<'_>,
    e: rquickjs::Error,
    deadline: &Deadline,
    state: &Rc<RefCell<LoginState>>,
) -> Failure {
    let error = match e {
        rquickjs::Error::Exception => {
            let d = describe_exception(&ctx.catch());
            if deadline.expired() {
                SandboxError::Timeout
            } else if d.message.contains("out of memory") || d.is_null {
                SandboxError::OutOfMemory
            } else {
                SandboxError::Script(d.message, d.stack)
            }
        }
        _ if deadline.expired() => SandboxError::Timeout,
        other => SandboxError::Engine(other.to_string()),
    };
    failure_of(state, error)
}

/// Builds a throw-away sandbox for one script to check its shape; returns the triggers it runs
/// on (1 post-login, 2 credentials exchange).
pub(crate) fn check_shape(
    kind: ScriptKind,
    name: &str,
    bytecode: &Arc<[u8]>,
    dir: &Arc<str>,
    modules: &Arc<Modules>,
) -> Result<i32, SandboxError> {
    struct NoHost;
    impl Host for NoHost {
        fn patch_metadata(
            &self,
            _: &str,
            _: MetadataKind,
            _: &Map<String, Json>,
        ) -> Result<(), PatchError> {
            Err(PatchError::Unavailable)
        }
    }
    let env = Env {
        host: Arc::new(NoHost),
        cache: Arc::new(Cache::default()),
        shim_config_warm: String::new(),
        shim_config_strict:
            r#"{"configuration":{},"secrets":{},"domain":"localhost","harden":false}"#.into(),
        memory_limit: 32 << 20,
        stack_size: 512 << 10,
        console_cap: 0,
        fetcher: Arc::new(Fetcher::new(FetchPolicy::default())),
    };
    let script = Arc::new(Script::for_check(kind, name, bytecode.clone()).in_dir(dir.clone()));
    let deadline = Deadline::new();
    deadline.arm_at(Instant::now() + Duration::from_millis(500));
    let built = Sandbox::build(&env, std::iter::once(&script), 0, modules, false, &deadline);
    deadline.disarm();
    match built {
        Ok((_, flags)) => Ok(flags.first().copied().unwrap_or(0)),
        Err(f) => Err(f.error),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::script::catalog;
    use crate::script::exception::first_position;
    use crate::script::tests_support::{scoped_subscriber, tests_env};
    use std::sync::Mutex;

    fn env() -> Env {
        tests_env()
    }

    fn parts() -> Vec<String> {
        vec!["transaction".into(), "{}".into()]
    }

    /// A warm sandbox for one script, with no modules.
    fn warm(script: &Arc<Script>, deadline: &Deadline) -> (Sandbox, Vec<i32>) {
        Sandbox::build(
            &env(),
            std::iter::once(script),
            1,
            &Arc::default(),
            true,
            deadline,
        )
        .unwrap()
    }

    fn action(src: &str) -> Arc<Script> {
        let bc = catalog::compile(ScriptKind::Action, "a", src).unwrap();
        Arc::new(Script::for_check(ScriptKind::Action, "a", bc.into()))
    }

    /// RUNTIME-NOTES §8.3: a Persistent outliving its runtime aborts the process. The sandbox
    /// holds one; dropping it (after use, unused, after a timeout) must be clean.
    #[test]
    fn sandbox_drops_its_persistent_before_its_runtime() {
        let deadline = Deadline::new();
        let script = action(
            "exports.onExecutePostLogin = async (e, api) => { console.log('x'.repeat(100)); };",
        );
        for run in [false, true] {
            deadline.arm_at(Instant::now() + Duration::from_secs(5));
            let (mut sb, flags) = warm(&script, &deadline);
            assert_eq!(flags, [1]);
            if run {
                let outcome = sb.run_login(&parts(), None, 0, Arc::default()).unwrap();
                assert_eq!(outcome.verdict, crate::script::Verdict::Allow);
            }
            drop(sb);
            deadline.disarm();
        }
        // Interrupted mid-login, then dropped.
        let spin = action("exports.onExecutePostLogin = async () => { while (true) {} };");
        deadline.arm_at(Instant::now() + Duration::from_secs(5));
        let (mut sb, _) = warm(&spin, &deadline);
        deadline.arm_at(Instant::now() + Duration::from_millis(50));
        let err = sb
            .run_login(&parts(), None, 0, Arc::default())
            .err()
            .unwrap();
        assert_eq!(err.kind, crate::script::ScriptErrorKind::Timeout);
        assert!(sb.dirty);
        drop(sb);
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn console_goes_to_tracing_capped_per_script_per_login() {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let script = action(
            "exports.onExecutePostLogin = async (e, api) => { for (let i = 0; i < 5; i++) console.warn('line' + i, {n: i}, 'x'.repeat(14)); };",
        );
        let _one = scoped_subscriber();
        tracing::subscriber::with_default(subscriber, || {
            // Another test thread may have cached "no interest" for a callsite meanwhile.
            tracing::callsite::rebuild_interest_cache();
            let deadline = Deadline::new();
            deadline.arm_at(Instant::now() + Duration::from_secs(5));
            let (mut sb, _) = warm(&script, &deadline);
            for _ in 0..2 {
                sb.run_login(&parts(), None, 0, Arc::default()).unwrap();
            }
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        // 31 bytes a line, cap 64: two lines, then one notice, per login.
        assert_eq!(
            text.matches("line0 { n: 0 } xxxxxxxxxxxxxx").count(),
            2,
            "{text}"
        );
        assert_eq!(text.matches("line1").count(), 2, "{text}");
        assert_eq!(text.matches("line2").count(), 0, "{text}");
        assert_eq!(text.matches("the rest is dropped").count(), 2, "{text}");
        assert!(text.contains("WARN") && text.contains("script=a"), "{text}");
    }

    #[test]
    fn stack_positions_are_parsed() {
        assert_eq!(
            first_position("SyntaxError: x\n    at action:a:3:7\n"),
            Some((3, 7))
        );
        assert_eq!(first_position("    at f (action:a:12:1)"), Some((12, 1)));
        assert_eq!(first_position("no position"), None);
    }
}

#[cfg(test)]
#[path = "tests_console.rs"]
mod tests_console;
