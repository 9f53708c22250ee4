//! The script catalog: reads `actions/*.js` and `rules/*.js` (+ optional sidecar `NAME.json`
//! `{enabled, order, stage}`), compiles each file once to QuickJS bytecode, checks its shape in a
//! throw-away sandbox and builds an immutable [`ScriptSet`]. It never runs a login.
//!
//! A file that fails keeps its last good version (same path) from the previous set, and its error
//! is reported in [`ScriptSet::errors`]: a typo during a hot reload never takes a script away. A
//! file that fails with no last good version is also named in [`ScriptSet::not_loaded`], so that
//! the pipeline can refuse logins rather than run them without it (`[scripts] on_load_error`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rquickjs::context::intrinsic;
use rquickjs::module::WriteOptions;
use rquickjs::{Context, Module, Runtime};
use serde::Deserialize;

use super::library::Modules;
use super::sandbox::{self, SandboxError};
use super::{Trigger, bytecode};

/// Largest script source accepted (Auth0: 100 kB per Action / for all enabled Rules).
pub const MAX_SCRIPT_BYTES: usize = 100 * 1024;
/// Auth0's limit of Actions bound to one trigger.
pub const MAX_ACTIONS: usize = 20;

/// Whether a script is a legacy Rule or an Action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    /// `function (user, context, callback) { ... }`
    Rule,
    /// `exports.onExecutePostLogin = async (event, api) => { ... }`
    Action,
}

/// One compiled script. Immutable; shared by every worker through the [`ScriptSet`].
#[derive(Debug)]
pub struct Script {
    /// The file stem: `rules/10-add-roles.js` is `10-add-roles`.
    pub name: Arc<str>,
    pub kind: ScriptKind,
    pub path: PathBuf,
    /// sha256 of the source, lowercase hex.
    pub hash: String,
    /// QuickJS bytecode of the wrapped module, produced by [`compile`] in this process.
    pub(crate) bytecode: Arc<[u8]>,
    /// Sidecar `order`, kept so a last-good script sorts as it did.
    order: Option<i64>,
    /// The triggers an Action exports a function for ([`Trigger::bit`]s, as `shim.js`'s `add`
    /// reports them); every Rule runs at login only.
    pub(crate) triggers: u8,
    /// The folder `require('./x')` resolves from (canonical; empty when unknown).
    pub(crate) dir: Arc<str>,
}

impl Script {
    /// Whether this script runs on the trigger of `bit` ([`Trigger::bit`]).
    pub(crate) fn runs(&self, bit: u8) -> bool {
        self.triggers & bit != 0
    }

    /// A bare script for the load-time shape check.
    pub(crate) fn for_check(kind: ScriptKind, name: &str, bytecode: Arc<[u8]>) -> Script {
        Script {
            name: name.into(),
            kind,
            path: PathBuf::new(),
            hash: String::new(),
            bytecode,
            order: None,
            triggers: Trigger::POST_LOGIN,
            dir: "".into(),
        }
    }

    /// The same script, requiring relative to `dir`.
    pub(crate) fn in_dir(self, dir: Arc<str>) -> Script {
        Script { dir, ..self }
    }
}

/// One file that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}

/// An immutable snapshot of the scripts: one login runs against one set from start to end.
#[derive(Debug, Default)]
pub struct ScriptSet {
    /// Increases with every reload; workers rebuild their warm contexts when it changes.
    pub version: u64,
    /// Enabled Rules, in run order.
    pub rules: Vec<Arc<Script>>,
    /// Enabled Actions, in run order.
    pub actions: Vec<Arc<Script>>,
    /// Files that failed this time (their last good version, if any, is still in the lists).
    pub errors: Vec<LoadError>,
    /// The names of the enabled scripts that failed with no last good version in this set (a new
    /// file that never loaded, any failure at start-up, an Action past [`MAX_ACTIONS`]): logins
    /// would run without them.
    pub not_loaded: Vec<Arc<str>>,
    /// What the scripts may `require`.
    pub(crate) modules: Arc<Modules>,
}

impl ScriptSet {
    /// No scripts at all: every login is allowed unchanged.
    pub fn empty() -> Self {
        Self::default()
    }

    /// This set with only the script called `name` (`claimsmith test --only`), if it has one.
    pub fn only(&self, name: &str) -> Option<ScriptSet> {
        let pick = |list: &[Arc<Script>]| -> Vec<Arc<Script>> {
            list.iter().filter(|s| &*s.name == name).cloned().collect()
        };
        let (rules, actions) = (pick(&self.rules), pick(&self.actions));
        (!rules.is_empty() || !actions.is_empty()).then(|| ScriptSet {
            version: self.version,
            rules,
            actions,
            errors: Vec::new(),
            not_loaded: Vec::new(),
            modules: self.modules.clone(),
        })
    }

    /// Rules then Actions: the order in which a sandbox registers them.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Script>> + Clone {
        self.rules.iter().chain(self.actions.iter())
    }
}

#[derive(Debug, Deserialize)]
struct Sidecar {
    enabled: Option<bool>,
    order: Option<i64>,
    stage: Option<String>,
}

/// Reads both folders and builds the set; see the module docs for last-good and ordering rules.
pub fn load_scripts(
    actions_dir: &Path,
    rules_dir: &Path,
    previous: Option<&ScriptSet>,
    version: u64,
) -> ScriptSet {
    let (mut errors, mut not_loaded) = (Vec::new(), Vec::new());
    let (modules, module_errors) =
        Modules::read(&[actions_dir, rules_dir], previous.map(|p| &*p.modules));
    errors.extend(module_errors);
    let modules = Arc::new(modules);
    let mut load =
        |kind, dir| load_kind(kind, dir, previous, &modules, &mut errors, &mut not_loaded);
    let rules = load(ScriptKind::Rule, rules_dir);
    let mut actions = load(ScriptKind::Action, actions_dir);
    if actions.len() > MAX_ACTIONS {
        for extra in actions.drain(MAX_ACTIONS..) {
            not_loaded.push(extra.name.clone());
            errors.push(LoadError {
                path: extra.path.clone(),
                line: None,
                column: None,
                message: format!(
                    "more than {MAX_ACTIONS} Actions are enabled; this one is not run"
                ),
            });
        }
    }
    ScriptSet {
        version,
        rules,
        actions,
        errors,
        not_loaded,
        modules,
    }
}

fn load_kind(
    kind: ScriptKind,
    dir: &Path,
    previous: Option<&ScriptSet>,
    modules: &Arc<Modules>,
    errors: &mut Vec<LoadError>,
    not_loaded: &mut Vec<Arc<str>>,
) -> Vec<Arc<Script>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new(); // a missing folder is an empty list
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "js") && p.is_file())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        match load_one(kind, &path, modules) {
            Ok(Some(script)) => out.push(Arc::new(script)),
            Ok(None) => {}
            Err(err) => {
                let last_good = previous.and_then(|p| p.all().find(|s| s.path == path).cloned());
                if last_good.is_none() {
                    not_loaded.push(script_name(&path));
                }
                errors.push(err);
                out.extend(last_good);
            }
        }
    }
    out.sort_by(|a, b| {
        let key = |s: &Script| (s.order.unwrap_or(i64::MAX), s.path.clone());
        key(a).cmp(&key(b))
    });
    out
}

fn error_at(path: &Path, message: impl Into<String>) -> LoadError {
    LoadError {
        path: path.to_path_buf(),
        line: None,
        column: None,
        message: message.into(),
    }
}

/// `Ok(None)`: disabled or not a login-stage script.
fn load_one(
    kind: ScriptKind,
    path: &Path,
    modules: &Arc<Modules>,
) -> Result<Option<Script>, LoadError> {
    let sidecar_path = path.with_extension("json");
    let sidecar = match std::fs::read_to_string(&sidecar_path) {
        Ok(text) => serde_json::from_str::<Sidecar>(&text)
            .map_err(|e| error_at(&sidecar_path, format!("invalid sidecar: {e}")))?,
        Err(_) => Sidecar {
            enabled: None,
            order: None,
            stage: None,
        },
    };
    if sidecar.enabled == Some(false)
        || sidecar
            .stage
            .as_deref()
            .is_some_and(|s| s != "login_success")
    {
        return Ok(None);
    }
    let source = std::fs::read(path).map_err(|e| error_at(path, format!("cannot read: {e}")))?;
    if source.len() > MAX_SCRIPT_BYTES {
        return Err(error_at(
            path,
            format!(
                "script is {} bytes; the limit is {MAX_SCRIPT_BYTES}",
                source.len()
            ),
        ));
    }
    let source = String::from_utf8(source).map_err(|_| error_at(path, "script is not UTF-8"))?;
    let name = script_name(path);
    let bytecode: Arc<[u8]> = compile(kind, &name, &source)
        .map_err(|e| with_path(e, path))?
        .into();
    let dir: Arc<str> = path
        .parent()
        .and_then(|d| d.canonicalize().ok())
        .map_or_else(|| "".into(), |d| d.to_string_lossy().into());
    let triggers =
        sandbox::check_shape(kind, &name, &bytecode, &dir, modules).map_err(|e| match e {
            SandboxError::Script(m, stack) => {
                // A throw at the script's own top level has a frame in it; the shape check's
                // refusals come from the engine's shim and have none.
                let at = stack.as_deref().and_then(|s| frame_in(s, &name));
                LoadError {
                    line: at.map(|(l, _)| l),
                    column: at.map(|(l, c)| {
                        if l == 1 {
                            c.saturating_sub(wrap(kind, "").1 as u32)
                        } else {
                            c
                        }
                    }),
                    ..error_at(path, m)
                }
            }
            other => error_at(path, other.to_string()),
        })?;
    Ok(Some(Script {
        name,
        kind,
        path: path.to_path_buf(),
        hash: sha256_hex(source.as_bytes()),
        bytecode,
        order: sidecar.order,
        triggers: triggers as u8,
        dir,
    }))
}

/// The line and column of the first frame of `stack` in the module `name`
/// (`    at <anonymous> (07-throws:1:24)` or `    at 07-throws:2:5`).
fn frame_in(stack: &str, name: &str) -> Option<(u32, u32)> {
    stack.lines().find_map(|l| {
        let place = l.trim().trim_end_matches(')');
        let place = place.rsplit_once('(').map_or(place, |(_, p)| p);
        let place = place.rsplit_once(' ').map_or(place, |(_, p)| p);
        let mut parts = place.rsplitn(3, ':');
        let (col, line, file) = (parts.next()?, parts.next()?, parts.next()?);
        (file == name).then_some(())?;
        Some((line.parse().ok()?, col.parse().ok()?))
    })
}

/// The file stem: `rules/10-add-roles.js` is `10-add-roles`.
fn script_name(path: &Path) -> Arc<str> {
    path.file_stem()
        .map(|s| s.to_string_lossy().into())
        .unwrap_or_else(|| "script".into())
}

fn with_path(mut e: LoadError, path: &Path) -> LoadError {
    e.path = path.to_path_buf();
    e
}

/// sha256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

const RULE_HEAD: &str =
    "(function (configuration, global, auth0, UnauthorizedError, require) { return (";
const ACTION_HEAD: &str =
    "(function (require, module) { (function (exports, module, __filename, __dirname) {";

/// Wraps a script so it compiles as global code whose completion value is a function that
/// initialises it: sloppy mode unless the script says `'use strict'`, as Auth0 runs Rules
/// (through `Function`) and Actions (as CommonJS). The source starts on line 1, so reported lines
/// match the file.
pub(crate) fn wrap(kind: ScriptKind, source: &str) -> (String, usize) {
    match kind {
        ScriptKind::Rule => {
            // A rule file is a function expression; Auth0 tolerates a trailing `;`.
            let body = source.trim_end().trim_end_matches(';');
            (format!("{RULE_HEAD}{body}\n); }})\n"), RULE_HEAD.len())
        }
        ScriptKind::Action => (
            format!(
                "{ACTION_HEAD}{source}\n}}).call(module.exports, module.exports, module, module.filename, module.path); }})\n"
            ),
            ACTION_HEAD.len(),
        ),
    }
}

/// Compiles a script (or the shim) to bytecode in a throw-away runtime that has the parser.
pub(crate) fn compile(kind: ScriptKind, name: &str, source: &str) -> Result<Vec<u8>, LoadError> {
    let (wrapped, head) = wrap(kind, source);
    // Errors (with their line and column) come from the real text; the check runs only after.
    let bytecode = compile_global(name, &wrapped, head)?;
    check_stays_inside(kind, name, source)?;
    Ok(bytecode)
}

/// The load error of a script whose source closes the wrapper `wrap` puts around it.
pub(crate) const ESCAPES_WRAPPER: &str =
    "the script closes the engine's wrapper early (unbalanced `)`, `}` or `]` at its top level)";

/// Proves that `source` stays inside the innermost wrapper scope, without a JS tokenizer of our
/// own: a check-only variant of the wrapped text declares `let <nonce>` right after that scope's
/// `{` and again on a line of its own right before its `}`. If the source stays inside, both
/// declarations share one scope and the parser must refuse the second one, on that line; a
/// source that closed the scope early (and opened another) compiles, or fails elsewhere. The
/// nonce is fresh per check, so a source cannot name it.
fn check_stays_inside(kind: ScriptKind, name: &str, source: &str) -> Result<(), LoadError> {
    let nonce = format!(
        "__cs_{}",
        crate::credentials::random_id::<16>().replace('-', "$")
    );
    let (wrapped, _) = wrap(kind, source);
    // Where the innermost wrapper scope opens (after its `{`) and closes (at its `}`): the
    // wrapper's own tail is the last occurrence of its text, whatever the source contains.
    let (open, tail, brace) = match kind {
        ScriptKind::Rule => (RULE_HEAD.len() - "return (".len(), "\n); })\n", 4),
        ScriptKind::Action => (ACTION_HEAD.len(), "\n}).call(", 1),
    };
    let Some(close) = wrapped.rfind(tail).map(|i| i + brace) else {
        return Err(error_at(Path::new(name), ESCAPES_WRAPPER));
    };
    let check = format!(
        "{}let {nonce};{}\nlet {nonce};\n{}",
        &wrapped[..open],
        &wrapped[open..close],
        &wrapped[close..]
    );
    let nonce_line = wrapped[..close].matches('\n').count() + 2;
    let nonce_line = u32::try_from(nonce_line).unwrap_or(u32::MAX);
    match compile_global(name, &check, 0) {
        // QuickJS also counts a lone `\r` (and U+2028/9) as a new line: never fewer lines.
        Err(e) if e.message == REDECLARED && e.line.is_some_and(|l| l >= nonce_line) => Ok(()),
        _ => Err(error_at(Path::new(name), ESCAPES_WRAPPER)),
    }
}

/// quickjs-ng's parse error for a second `let` of one name in one scope (it does not name it).
const REDECLARED: &str = "invalid redefinition of lexical identifier";

/// Compiles an ES module (the shim). `strip_debug` drops line tables (smaller, faster to load;
/// used for the shim only, so user scripts keep their line numbers in stack traces).
pub(crate) fn compile_module(
    name: &str,
    source: &str,
    head: usize,
    strip_debug: bool,
) -> Result<Vec<u8>, LoadError> {
    compile_in(name, head, |ctx| {
        Module::declare(ctx.clone(), name, source)?.write(WriteOptions {
            strip_source: true,
            strip_debug,
            ..WriteOptions::default()
        })
    })
}

/// Compiles a wrapped script as global (sloppy-mode) code; see [`bytecode`].
pub(crate) fn compile_global(name: &str, source: &str, head: usize) -> Result<Vec<u8>, LoadError> {
    compile_in(name, head, |ctx| {
        bytecode::compile_script(ctx, name, source, false)
    })
}

/// Compiles one of claimsmith's own lazily run libraries (global code whose value is a factory),
/// without debug information: its positions mean nothing to a script author.
pub(crate) fn compile_library(name: &str, source: &str) -> Result<Vec<u8>, LoadError> {
    compile_in(name, 0, |ctx| {
        bytecode::compile_script(ctx, name, source, true)
    })
}

/// Runs `write` in a throw-away runtime that has the parser; a syntax error becomes a
/// [`LoadError`] at its position (on line 1, the column counts from after the wrapper's `head`).
fn compile_in(
    name: &str,
    head: usize,
    write: impl FnOnce(&rquickjs::Ctx<'_>) -> rquickjs::Result<Vec<u8>>,
) -> Result<Vec<u8>, LoadError> {
    let fail = |m: String| error_at(Path::new(name), m);
    let rt = Runtime::new().map_err(|e| fail(e.to_string()))?;
    rt.set_memory_limit(64 << 20);
    rt.set_max_stack_size(512 << 10);
    let ctx = Context::custom::<(intrinsic::Eval, intrinsic::RegExpCompiler)>(&rt)
        .map_err(|e| fail(e.to_string()))?;
    ctx.with(|ctx| match write(&ctx) {
        Ok(bytes) => Ok(bytes),
        Err(rquickjs::Error::Exception) => {
            let e = sandbox::describe_exception(&ctx.catch());
            let column = match (e.line, e.column) {
                (Some(1), Some(c)) => Some((c as usize).saturating_sub(head) as u32),
                (_, c) => c,
            };
            Err(LoadError {
                path: PathBuf::from(name),
                line: e.line,
                column,
                message: e.message,
            })
        }
        Err(other) => Err(fail(other.to_string())),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    const OK_ACTION: &str = "exports.onExecutePostLogin = async (event, api) => {};";

    #[test]
    fn missing_folders_are_an_empty_set() {
        let dir = tempfile::tempdir().unwrap();
        let set = load_scripts(&dir.path().join("a"), &dir.path().join("r"), None, 1);
        assert!(set.rules.is_empty() && set.actions.is_empty() && set.errors.is_empty());
    }

    #[test]
    fn ordering_sidecars_enabled_and_stage() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("rules");
        let rule = "function (user, context, callback) { callback(null, user, context); }";
        write(&r, "a.js", rule);
        write(&r, "b.js", rule);
        write(&r, "b.json", r#"{"order": 1}"#);
        write(&r, "c.js", rule);
        write(&r, "c.json", r#"{"enabled": false, "order": 0}"#);
        write(&r, "d.js", rule);
        write(&r, "d.json", r#"{"stage": "login_failure"}"#);
        write(&r, "e.js", &format!("{rule};\n\n"));
        let set = load_scripts(&dir.path().join("actions"), &r, None, 3);
        let names: Vec<&str> = set.rules.iter().map(|s| &*s.name).collect();
        assert_eq!(names, ["b", "a", "e"]);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert_eq!(set.version, 3);
        assert_eq!(set.rules[0].hash, sha256_hex(rule.as_bytes()));
    }

    #[test]
    fn syntax_error_reports_line_and_keeps_last_good() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("actions");
        write(&a, "x.js", OK_ACTION);
        let first = load_scripts(&a, &dir.path().join("rules"), None, 1);
        assert_eq!(first.actions.len(), 1);
        write(
            &a,
            "x.js",
            "// ok\nexports.onExecutePostLogin = async (event, api) => {\n  let = ;\n};",
        );
        let second = load_scripts(&a, &dir.path().join("rules"), Some(&first), 2);
        assert_eq!(second.errors.len(), 1);
        let err = &second.errors[0];
        assert_eq!(err.line, Some(3), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}:3:", a.join("x.js").display())),
            "{err}"
        );
        assert_eq!(second.actions.len(), 1, "last good version kept");
        assert!(Arc::ptr_eq(&first.actions[0], &second.actions[0]));
        assert!(second.not_loaded.is_empty(), "{:?}", second.not_loaded);
        // Without a previous version, the broken file is absent, and named as never loaded.
        let third = load_scripts(&a, &dir.path().join("rules"), None, 3);
        assert!(third.actions.is_empty());
        assert_eq!(third.not_loaded, [Arc::<str>::from("x")]);
    }

    #[test]
    fn shape_checks() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("actions");
        let r = dir.path().join("rules");
        write(&a, "none.js", "exports.somethingElse = 1;");
        write(
            &a,
            "cce.js",
            "exports.onExecuteCredentialsExchange = async () => {};",
        );
        write(
            &a,
            "modexp.js",
            "module.exports = { onExecutePostLogin: async () => {} };",
        );
        write(&a, "throws.js", "throw new Error('top level');");
        write(&r, "two.js", "function (user, context) {}");
        write(
            &r,
            "named.js",
            "function myRule(user, context, callback) { callback(null, user, context); }",
        );
        write(&r, "notfn.js", "42");
        let set = load_scripts(&a, &r, None, 1);
        let names = |v: &[Arc<Script>]| v.iter().map(|s| s.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&set.actions), ["cce", "modexp"]);
        assert!(
            !set.actions[0].runs(Trigger::POST_LOGIN) && set.actions[1].runs(Trigger::POST_LOGIN)
        );
        assert_eq!(names(&set.rules), ["named"]);
        let msgs: Vec<String> = set.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(msgs.len(), 4, "{msgs:?}");
        let mut never: Vec<&str> = set.not_loaded.iter().map(|n| &**n).collect();
        never.sort_unstable();
        assert_eq!(
            never,
            ["none", "notfn", "throws", "two"],
            "a top-level throw too"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("none.js") && m.contains("must export onExecutePostLogin"))
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("throws.js") && m.contains("top level"))
        );
        // A top-level throw reports where it is in the file; the shim's refusals do not.
        let at = |file: &str| {
            let e = set.errors.iter().find(|e| e.path.ends_with(file)).unwrap();
            (e.line, e.column)
        };
        assert_eq!(at("throws.js"), (Some(1), Some(11)), "{msgs:?}"); // `Error(`
        assert_eq!(at("none.js"), (None, None), "{msgs:?}");
        write(&a, "throws.js", "const x = 1;\n  JSON.parse('{');\n");
        let again = load_scripts(&a, &r, None, 2);
        let e = again
            .errors
            .iter()
            .find(|e| e.path.ends_with("throws.js"))
            .unwrap();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(
            msgs.iter()
                .any(|m| m.contains("two.js") && m.contains("3 parameters"))
        );
    }

    #[test]
    fn a_source_that_closes_the_wrapper_early_is_refused() {
        let action = "exports.onExecutePostLogin = async () => {};\n\
            }).call(module.exports, module.exports, module); return module; })\n\
            globalThis.leaked = 1;\n\
            (function again(require) { const module = { exports: {} }; (function (exports, module) {";
        let rule = "function (user, context, callback) { callback(null, user, context); }); })\n\
            globalThis.leaked = 1;\n(function again() { return (1";
        for (kind, src) in [(ScriptKind::Action, action), (ScriptKind::Rule, rule)] {
            // The wrapped text is valid code: only the check can tell.
            let (wrapped, head) = wrap(kind, src);
            compile_global("x", &wrapped, head).unwrap();
            let e = compile(kind, "x", src).unwrap_err();
            assert_eq!(e.message, ESCAPES_WRAPPER, "{kind:?}");
        }
        // Wrapper-like text in strings, comments, regexes and templates is not an escape.
        let ok = [
            "// }).call(x); return module; }\nexports.onExecutePostLogin = async () => {};",
            "const s = '})'; const t = `}\n${'}'}`; const r = /\\}\\)/;\n\
             exports.onExecutePostLogin = async () => { /* }); */ };",
            "exports.onExecutePostLogin = async () => {}\n// trailing comment without newline",
            "'use strict';\nexports.onExecutePostLogin = async () => { let x = 1; { let x = 2; } };",
            "// CRLF\r\n/* lone CR\r and \u{2028} in a comment */\r\nexports.onExecutePostLogin = async () => {};\r\n",
        ];
        for src in ok {
            compile(ScriptKind::Action, "ok", src).unwrap();
        }
        compile(
            ScriptKind::Rule,
            "ok",
            "function (user, context, callback) { const s = '); }'; callback(null, user, context); };\n",
        )
        .unwrap();
        // An ordinary syntax error keeps its own position, from the real compile.
        let e = compile(ScriptKind::Action, "bad", "let a = 1;\n  let = ;").unwrap_err();
        assert_eq!(
            (e.line, e.message.contains("lexical")),
            (Some(2), false),
            "{e}"
        );
    }

    #[test]
    fn size_and_count_limits() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("actions");
        for i in 0..21 {
            write(&a, &format!("a{i:02}.js"), OK_ACTION);
        }
        write(
            &a,
            "big.js",
            &format!("{OK_ACTION}//{}", "x".repeat(MAX_SCRIPT_BYTES)),
        );
        let set = load_scripts(&a, &dir.path().join("rules"), None, 1);
        assert_eq!(set.actions.len(), MAX_ACTIONS);
        assert_eq!(set.errors.len(), 2, "{:?}", set.errors);
        assert_eq!(set.not_loaded.len(), 2, "{:?}", set.not_loaded);
        assert!(set.errors.iter().any(|e| e.message.contains("limit is")));
        assert!(
            set.errors
                .iter()
                .any(|e| e.message.contains("more than 20"))
        );
    }
}
