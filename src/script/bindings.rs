//! The JS-facing surface implemented in Rust: the raw host functions the shim (`shim.js`) keeps
//! in its closure — `enter` (which script runs), `lazyGlobals` (`lazy_globals.rs`), `library`
//! (runs one of the shim's libraries, `console.js`, `harden.js`, `require.js`…, on first use),
//! and, from `more()`: `log` (console → tracing, capped), `nodeGlobals` (builds `Buffer`, `URL`…
//! on first use, see `node_host.rs`), `cryptoHost` (the `crypto` module's host functions,
//! `node_crypto.rs`), `patch` (Rules' `auth0.users.update*Metadata` →
//! [`Host::patch_metadata`]), `mgmtToken` (Rules' `auth0.accessToken` →
//! [`Host::management_token`]), `cacheGet/Set/Delete` (`api.cache`) and `require`'s. None is ever
//! handed to a script, and none may panic: a bad argument comes back as a JS `TypeError` from
//! rquickjs' conversion, and a panicking Host is caught here.
//! The script contract itself is the README's "Scripts" section; the JS names live in `shim.js`.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use std::path::Path;
use std::sync::Arc;

use rquickjs::{Ctx, Function, Object, Value};
use serde_json::{Map, Value as Json};

use super::cache::Cache;
use super::fetch::Fetcher;
use super::library::{Loaded, Modules};
use super::resolve::Resolved;
use super::sandbox::{Env, LoginState};
use super::{Host, MetadataKind};

/// The raw host functions, on a plain object handed to the shim's `install` and kept in its
/// closure (never reachable by a script). None of them may panic: bad values come back as
/// JS exceptions through rquickjs' argument conversion. Only what every context calls is made
/// here (`enter`, `lazyGlobals`, `library`); `more()` makes the others, on the shim's first
/// need of one (most strict contexts never need them: each host function costs its making
/// and freeing).
pub(super) fn host_object<'js>(
    ctx: &Ctx<'js>,
    env: &Env,
    state: &Rc<RefCell<LoginState>>,
    modules: &Arc<Modules>,
) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    host.set(
        "lazyGlobals",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, group: i32, resolve: Function<'js>, writable: bool| {
                super::lazy_globals::define(&ctx, group, resolve, writable)
            },
        )?,
    )?;
    let st = state.clone();
    host.set(
        "enter",
        Function::new(ctx.clone(), move |i: i32| {
            let mut st = st.borrow_mut();
            st.current = usize::try_from(i).ok();
            let name = st.current_name();
            if let Some(p) = &st.progress {
                p.enter(name);
            }
        })?,
    )?;
    host.set(
        "library",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, name: String| {
            super::modules::library(&ctx, &name)
        })?,
    )?;
    let r = Rare {
        host: env.host.clone(),
        cache: env.cache.clone(),
        fetcher: env.fetcher.clone(),
        state: state.clone(),
        modules: modules.clone(),
    };
    host.set(
        "more",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| more(&ctx, &r))?,
    )?;
    Ok(host)
}

/// What the host functions `more` makes act on.
struct Rare {
    host: Arc<dyn Host>,
    cache: Arc<Cache>,
    fetcher: Arc<Fetcher>,
    state: Rc<RefCell<LoginState>>,
    modules: Arc<Modules>,
}

/// The host functions few contexts call: `log` (console), `resolve`, `builtin`, `module`
/// (`require`), `typedArrays`, `nodeGlobals`, `fetchHost`, `cryptoHost` (strict typed arrays,
/// the Node globals), `patch` (Rules' metadata updates), `mgmtToken` (Rules'
/// `auth0.accessToken`), `cacheGet/Set/Delete` (`api.cache`).
fn more<'js>(ctx: &Ctx<'js>, r: &Rare) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    let (st, h) = (r.state.clone(), r.host.clone());
    host.set(
        "log",
        Function::new(ctx.clone(), move |level: i32, line: String| {
            console_line(&mut st.borrow_mut(), &*h, level, &line)
        })?,
    )?;
    let m = r.modules.clone();
    host.set(
        "resolve",
        Function::new(
            ctx.clone(),
            move |dir: String, spec: String, versioned: bool| resolved(&m, &dir, &spec, versioned),
        )?,
    )?;
    host.set(
        "builtin",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, name: String| {
            super::modules::builtin_module(&ctx, &name)
        })?,
    )?;
    let m = r.modules.clone();
    host.set(
        "module",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, path: String| {
            module(&ctx, &m, &path)
        })?,
    )?;
    let st = r.state.clone();
    host.set(
        "typedArrays",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            super::intrinsics::add_typed_arrays(&ctx, &st)
        })?,
    )?;
    let (st, h) = (r.state.clone(), r.host.clone());
    host.set(
        "patch",
        Function::new(ctx.clone(), move |kind: i32, id: String, patch: String| {
            patch_metadata(&st, &*h, kind, &id, &patch)
        })?,
    )?;
    let (st, h) = (r.state.clone(), r.host.clone());
    host.set(
        "mgmtToken",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            management_token(&ctx, &st, &*h)
        })?,
    )?;
    let (st, c) = (r.state.clone(), r.cache.clone());
    host.set(
        "cacheGet",
        Function::new(ctx.clone(), move |key: String| {
            c.get(&key, st.borrow().now_ms)
        })?,
    )?;
    let (st, c) = (r.state.clone(), r.cache.clone());
    host.set(
        "cacheSet",
        Function::new(
            ctx.clone(),
            move |key: String, value: String, ttl: f64, expires_at: f64| {
                c.set(&key, &value, ttl, expires_at, st.borrow().now_ms)
            },
        )?,
    )?;
    let (st, c) = (r.state.clone(), r.cache.clone());
    host.set(
        "cacheDelete",
        Function::new(ctx.clone(), move |key: String| {
            c.delete(&key, st.borrow().now_ms)
        })?,
    )?;
    let st = r.state.clone();
    host.set(
        "nodeGlobals",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, start: Function<'js>, take: Function<'js>| {
                st.borrow_mut().node_built = true;
                super::node_host::node_globals(ctx, start, take)
            },
        )?,
    )?;
    // Made only when the Node library is built (a login that never reads a Node global pays
    // nothing for fetch).
    let (f, st) = (r.fetcher.clone(), r.state.clone());
    host.set(
        "fetchHost",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            let pair = Object::new(ctx.clone())?;
            pair.set("start", super::fetch_host::start(&ctx, &f, &st)?)?;
            pair.set("take", super::fetch_host::take(&ctx, &st)?)?;
            Ok::<_, rquickjs::Error>(pair)
        })?,
    )?;
    host.set(
        "cryptoHost",
        Function::new(ctx.clone(), super::node_crypto::crypto_host)?,
    )?;
    Ok(host)
}

/// `require`'s resolution as one string (no object to build): `F<path>` for a file, `B<name>`
/// for a built-in, `E<code>\n<message>` when it does not resolve.
fn resolved(modules: &Modules, dir: &str, spec: &str, versioned: bool) -> String {
    match modules.resolve(Path::new(dir), spec, versioned) {
        Ok(Resolved::File(p)) => format!("F{}", p.display()),
        Ok(Resolved::Builtin(b)) => format!("B{b}"),
        Err(e) => format!("E{}\n{}", e.code, e.message),
    }
}

/// A resolved file for `require`: its CommonJS wrapper function, or its JSON text.
fn module<'js>(ctx: &Ctx<'js>, modules: &Modules, path: &str) -> rquickjs::Result<Value<'js>> {
    match modules.load(Path::new(path)) {
        Loaded::Script(bytecode) => super::bytecode::run_script(ctx, &bytecode),
        Loaded::Json(text) => rquickjs::String::from_str(ctx.clone(), &text).map(Value::from),
        Loaded::Broken(why) => Err(rquickjs::Exception::throw_syntax(ctx, &why)),
    }
}

fn console_line(st: &mut LoginState, host: &dyn Host, level: i32, line: &str) {
    let Some(i) = st.current else {
        return;
    };
    if st.console_used.len() <= i {
        st.console_used.resize(i + 1, 0);
    }
    let used = st.console_used[i];
    let name = st.current_name();
    if used >= st.console_cap {
        return;
    }
    if used + line.len() > st.console_cap {
        st.console_used[i] = st.console_cap;
        let cap = st.console_cap;
        let said = format!("console output over {cap} bytes for this login; the rest is dropped");
        host.console(&name, 3, &said);
        return;
    }
    st.console_used[i] = used + line.len();
    host.console(&name, level, line);
}

fn patch_metadata(
    st: &Rc<RefCell<LoginState>>,
    host: &dyn Host,
    kind: i32,
    id: &str,
    patch: &str,
) -> Option<String> {
    let kind = if kind == 0 {
        MetadataKind::App
    } else {
        MetadataKind::User
    };
    let patch: Map<String, Json> = match serde_json::from_str(patch) {
        Ok(Json::Object(m)) => m,
        _ => return Some("the metadata must be a JSON object".into()),
    };
    match catch_unwind(AssertUnwindSafe(|| host.patch_metadata(id, kind, &patch))) {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => {
            st.borrow_mut().host_panicked = true;
            Some("internal error".into())
        }
    }
}

/// Rules' `auth0.accessToken`: the host's token, or a JS `Error` (the login then fails closed).
/// The token itself is never logged.
fn management_token(
    ctx: &Ctx<'_>,
    st: &Rc<RefCell<LoginState>>,
    host: &dyn Host,
) -> rquickjs::Result<String> {
    match catch_unwind(AssertUnwindSafe(|| host.management_token())) {
        Ok(Ok(token)) => Ok(token),
        Ok(Err(e)) => Err(rquickjs::Exception::throw_message(ctx, &e.to_string())),
        Err(_) => {
            st.borrow_mut().host_panicked = true;
            Err(rquickjs::Exception::throw_message(ctx, "internal error"))
        }
    }
}
