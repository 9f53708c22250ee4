//! The intrinsics a sandbox's context starts with, and the typed arrays a strict context adds
//! on first use.

use std::cell::RefCell;
use std::rc::Rc;

use rquickjs::Ctx;
use rquickjs::context::intrinsic;

use super::sandbox::LoginState;

/// The intrinsics a script sees: the language core (from `Context::base`) plus these. No `Eval`
/// (so no `eval`, no `Function` constructor), no WeakRef, FinalizationRegistry, `performance` or
/// DOMException. TypedArrays brings ArrayBuffer, the typed arrays, DataView, SharedArrayBuffer
/// and Atomics, as in Node; `Atomics.wait` throws, since a runtime is never allowed to block.
pub(super) type SandboxIntrinsics = (StrictIntrinsics, intrinsic::TypedArrays);

/// A strict context's intrinsics: the same but the typed arrays, which cost about a tenth of
/// building a context. The shim installs them on the first read of one of their names
/// (`host.typedArrays`, [`add_typed_arrays`]), so a login that uses none does not pay for them.
pub(super) type StrictIntrinsics = (
    intrinsic::Date,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::MapSet,
    intrinsic::Promise,
    intrinsic::Proxy,
);

/// Adds the typed arrays (and `ArrayBuffer`, `DataView`, `SharedArrayBuffer`, `Atomics`) to a
/// strict context, once: quickjs-ng defines them on the global object, replacing the shim's
/// accessors. Nothing in the engine makes a typed array before a script reads one of the names.
#[allow(unsafe_code)]
pub(super) fn add_typed_arrays(
    ctx: &Ctx<'_>,
    state: &Rc<RefCell<LoginState>>,
) -> rquickjs::Result<()> {
    if std::mem::replace(&mut state.borrow_mut().typed_arrays, true) {
        return Ok(());
    }
    // quickjs-ng defines `Atomics` as a lazily built property and aborts the process if the name
    // exists already: remove the shim's accessor (or whatever a script put there) first, and
    // refuse if it cannot be removed.
    let global = ctx.globals();
    if global.remove("Atomics").is_err() {
        let _ = ctx.catch(); // not configurable: refused just below
    }
    if global.contains_key("Atomics")? {
        return Err(rquickjs::Exception::throw_type(
            ctx,
            "the typed arrays cannot be installed: this login redefined Atomics",
        ));
    }
    // SAFETY: `ctx` is a live context of this thread's runtime; the intrinsic adder only defines
    // constructors and prototypes on it (`Atomics` is absent, checked above), and runs at most
    // once per context (the flag above).
    let failed = unsafe { rquickjs::qjs::JS_AddIntrinsicTypedArrays(ctx.as_raw().as_ptr()) } < 0;
    if failed {
        return Err(rquickjs::Error::Exception);
    }
    Ok(())
}
