//! What a sandbox loads besides the scripts: the shim (a module, read into every context), its
//! libraries (global code, run in a context on first use), the built-in modules, and the module
//! resolver/loader every sandbox runtime gets, which refuses every import.

use std::sync::OnceLock;

use rquickjs::{Ctx, Module, Value};

use super::catalog::{self, LoadError};
use super::sandbox::SandboxError;

/// The module resolver and loader of every sandbox runtime: both refuse. QuickJS looks a
/// specifier up among the runtime's loaded modules (the shim, the scripts) after normalising it
/// and before any loader, so without a normaliser `import('claimsmith:shim')` or a script's own
/// name would resolve. The normaliser runs first for static and dynamic imports alike.
pub(super) struct NoImports;

impl rquickjs::loader::Resolver for NoImports {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        _base: &str,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        // The same answer for every name: it must not tell which modules exist.
        Err(rquickjs::Exception::throw_message(
            ctx,
            &format!("Cannot find module '{name}' (claimsmith scripts cannot import modules)"),
        ))
    }
}

impl rquickjs::loader::Loader for NoImports {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, rquickjs::module::Declared>> {
        Err(rquickjs::Exception::throw_message(
            ctx,
            &format!("Cannot find module '{name}' (claimsmith scripts cannot import modules)"),
        ))
    }
}

static SHIM: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();

pub(super) fn shim_bytecode() -> Result<&'static [u8], SandboxError> {
    SHIM.get_or_init(|| {
        catalog::compile_module("claimsmith:shim", include_str!("shim.js"), 0, true)
            .map_err(|e: LoadError| e.to_string())
    })
    .as_deref()
    .map_err(|e| SandboxError::Engine(format!("shim failed to compile: {e}")))
}

/// One of claimsmith's own libraries: compiled once per process into `cell` (by `source()`,
/// called at most once), then run in `ctx`; its value is what the source evaluates to.
pub(super) fn run_library<'js>(
    ctx: &Ctx<'js>,
    cell: &OnceLock<Result<Vec<u8>, String>>,
    name: &str,
    source: impl FnOnce() -> String,
) -> rquickjs::Result<Value<'js>> {
    let bytecode = cell.get_or_init(|| {
        catalog::compile_library(name, &source()).map_err(|e: LoadError| e.to_string())
    });
    match bytecode {
        Ok(bytes) => super::bytecode::run_script(ctx, bytes),
        Err(e) => Err(rquickjs::Exception::throw_internal(
            ctx,
            &format!("{name} failed to compile: {e}"),
        )),
    }
}

/// The shim's own libraries, each compiled once per process and run in a context only when the
/// shim first needs it (`host.library(name)`), so that a context that never needs one never
/// reads it: `console_object` (the console, on the first read of `console`), `console` (its
/// formatter, on the first call), `harden` (warm contexts only), `require` (on the first call),
/// `api` (an Action's rarely used `api` namespaces, on the first use of one), `metadata` (Rules'
/// `auth0.users.update*Metadata`, on the first call).
const LIBRARIES: &[(&str, &str)] = &[
    ("console", include_str!("console.js")),
    ("console_object", include_str!("console_object.js")),
    ("harden", include_str!("harden.js")),
    ("require", include_str!("require.js")),
    ("api", include_str!("api.js")),
    ("metadata", include_str!("metadata.js")),
];

static LIBRARY_CODE: [OnceLock<Result<Vec<u8>, String>>; LIBRARIES.len()] =
    [const { OnceLock::new() }; LIBRARIES.len()];

/// Runs the shim library `name` in `ctx` and returns its factory.
pub(super) fn library<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Value<'js>> {
    let Some(i) = LIBRARIES.iter().position(|(n, _)| *n == name) else {
        return Err(rquickjs::Exception::throw_internal(
            ctx,
            &format!("no library {name}"),
        ));
    };
    run_library(ctx, &LIBRARY_CODE[i], &format!("claimsmith:{name}"), || {
        LIBRARIES[i].1.to_owned()
    })
}

/// Loads bytecode this process produced and returns the module's default export.
#[allow(unsafe_code)]
pub(super) fn load_module<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> rquickjs::Result<Value<'js>> {
    // SAFETY: `Module::load` trusts its input (JS_ReadObject is not hardened). Every byte passed
    // here was written by `Module::write` in this very process, from the same quickjs-ng build
    // (catalog::compile / shim_bytecode); bytecode is never read from disk or from a client.
    let module = unsafe { Module::load(ctx.clone(), bytecode)? };
    let (module, promise) = module.eval()?;
    promise.finish::<()>()?;
    module.get("default")
}

/// Node's built-in modules claimsmith provides, as CommonJS source (`src/script/node/`); the
/// `claimsmith:` ones are internal, required only by the others. Each is compiled once per
/// process on its first `require`, and run once per context (the shim caches it).
const BUILTINS: &[(&str, &str)] = &[
    ("assert", include_str!("node/assert.js")),
    (
        "assert/strict",
        "module.exports = require('assert').strict;",
    ),
    (
        "buffer",
        "module.exports = { Buffer, atob, btoa, kMaxLength: 2 ** 32, kStringMaxLength: 2 ** 29 - 24, \
         constants: { MAX_LENGTH: 2 ** 32, MAX_STRING_LENGTH: 2 ** 29 - 24 } };",
    ),
    ("crypto", include_str!("node/crypto.js")),
    ("events", include_str!("node/events.js")),
    ("console", "module.exports = console;"),
    ("path", include_str!("node/path.js")),
    ("path/posix", "module.exports = require('path');"),
    ("process", "module.exports = process;"),
    ("punycode", include_str!("node/punycode.js")),
    ("querystring", include_str!("node/querystring.js")),
    ("stream", include_str!("node/stream.js")),
    ("string_decoder", include_str!("node/string_decoder.js")),
    (
        "timers",
        "module.exports = { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, \
         clearImmediate, promises: require('timers/promises') };",
    ),
    (
        "timers/promises",
        "module.exports = { setTimeout: (ms, v) => new Promise((r) => setTimeout(r, ms, v)), \
         setImmediate: (v) => new Promise((r) => setImmediate(r, v)), \
         scheduler: { wait: (ms) => new Promise((r) => setTimeout(r, ms)), \
         yield: () => new Promise((r) => setImmediate(r)) } };",
    ),
    ("url", include_str!("node/url.js")),
    ("util", include_str!("node/util.js")),
    ("util/types", "module.exports = require('util').types;"),
    ("claimsmith:equal", include_str!("node/equal.js")),
    // Stand-ins for npm packages that are not installed (resolve.rs `STAND_INS`).
    ("axios", include_str!("node/axios.js")),
    ("node-fetch", include_str!("node/node_fetch.js")),
    (
        "request",
        "module.exports = require('claimsmith:request').request;",
    ),
    (
        "request-promise",
        "module.exports = require('claimsmith:request').promise;",
    ),
    ("claimsmith:request", include_str!("node/request.js")),
];

static COMPILED: [OnceLock<Result<Vec<u8>, String>>; BUILTINS.len()] =
    [const { OnceLock::new() }; BUILTINS.len()];

/// A built-in module's CommonJS wrapper function, or `undefined` when claimsmith has none.
pub(super) fn builtin_module<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Value<'js>> {
    let Some(i) = BUILTINS.iter().position(|(n, _)| *n == name) else {
        return Ok(Value::new_undefined(ctx.clone()));
    };
    let head = super::library::MODULE_HEAD;
    run_library(ctx, &COMPILED[i], &format!("node:{name}"), || {
        format!("{head}{}\n}})\n", BUILTINS[i].1)
    })
}
