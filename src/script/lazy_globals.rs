//! Globals built on first use (the Node globals, a strict context's typed arrays), defined
//! natively. As JS accessors with two closures each, the lazy names cost about 0.45 M
//! instructions per strict context; here each name gets one C function holding `[name, resolve]`
//! (and, when writable, one holding `[name]` for the setter), defined on the global object
//! without a descriptor object: 0.26 M for the 42 names (callgrind, strict login in process).

use std::ffi::c_int;

use rquickjs::qjs::{self, JSContext, JSValue};
use rquickjs::{Ctx, Function};

/// Defines each of `names` on the global object as a non-enumerable accessor whose getter
/// returns `resolve(name)`. `writable`: the property is configurable and its setter makes the
/// name an ordinary writable data property (as assigning a Node global does); else it is
/// read-only and non-configurable, and the getters are frozen (warm isolation).
#[allow(unsafe_code)]
pub(super) fn define(
    ctx: &Ctx<'_>,
    names: Vec<String>,
    resolve: Function<'_>,
    writable: bool,
) -> rquickjs::Result<()> {
    let raw = ctx.as_raw().as_ptr();
    let resolve = resolve.as_raw();
    // SAFETY: `raw` is the live context of `ctx`, on this thread. Every value made here is owned
    // and freed here, or handed to a call that takes ownership (JS_DefinePropertyGetSet takes the
    // getter and setter); JS_NewCFunctionData duplicates the data values it keeps. `resolve` is
    // borrowed from a `Function` that outlives this call and is duplicated into each getter.
    unsafe {
        let global = qjs::JS_GetGlobalObject(raw);
        let mut result = Ok(());
        for name in &names {
            let atom = qjs::JS_NewAtomLen(raw, name.as_ptr().cast(), name.len() as _);
            let name_value = qjs::JS_AtomToString(raw, atom);
            let mut get_data = [name_value, resolve];
            let getter =
                qjs::JS_NewCFunctionData(raw, Some(lazy_get), 0, 0, 2, get_data.as_mut_ptr());
            let (setter, flags) = if writable {
                let mut set_data = [name_value];
                let setter =
                    qjs::JS_NewCFunctionData(raw, Some(lazy_set), 1, 0, 1, set_data.as_mut_ptr());
                (setter, qjs::JS_PROP_CONFIGURABLE as c_int)
            } else {
                (qjs::JS_UNDEFINED, 0)
            };
            if !writable && !qjs::JS_IsException(getter) {
                qjs::JS_FreezeObject(raw, getter);
            }
            let failed = qjs::JS_IsException(getter)
                || qjs::JS_IsException(setter)
                || qjs::JS_DefinePropertyGetSet(raw, global, atom, getter, setter, flags) < 0;
            qjs::JS_FreeValue(raw, name_value);
            qjs::JS_FreeAtom(raw, atom);
            if failed {
                result = Err(rquickjs::Error::Exception);
                break;
            }
        }
        qjs::JS_FreeValue(raw, global);
        result
    }
}

/// A lazy global's getter: `resolve(name)`.
#[allow(unsafe_code)]
unsafe extern "C" fn lazy_get(
    ctx: *mut JSContext,
    _this: JSValue,
    _argc: c_int,
    _argv: *mut JSValue,
    _magic: c_int,
    data: *mut JSValue,
) -> JSValue {
    // SAFETY: QuickJS passes the two data values this getter was made with (`define`); JS_Call
    // borrows them and returns an owned value (or the exception marker), which is returned.
    unsafe {
        let mut name = *data;
        qjs::JS_Call(ctx, *data.add(1), qjs::JS_UNDEFINED, 1, &mut name)
    }
}

/// A writable lazy global's setter: the name becomes a plain data property holding the value.
#[allow(unsafe_code)]
unsafe extern "C" fn lazy_set(
    ctx: *mut JSContext,
    _this: JSValue,
    argc: c_int,
    argv: *mut JSValue,
    _magic: c_int,
    data: *mut JSValue,
) -> JSValue {
    // SAFETY: `data` holds the name this setter was made with; `argv` holds `argc` borrowed
    // arguments. The value is duplicated before JS_DefinePropertyValue takes ownership of it;
    // the global object and the atom are freed here.
    unsafe {
        let value = if argc > 0 {
            qjs::JS_DupValue(ctx, *argv)
        } else {
            qjs::JS_UNDEFINED
        };
        let global = qjs::JS_GetGlobalObject(ctx);
        let atom = qjs::JS_ValueToAtom(ctx, *data);
        let flags = (qjs::JS_PROP_WRITABLE | qjs::JS_PROP_CONFIGURABLE) as c_int;
        let ret = qjs::JS_DefinePropertyValue(ctx, global, atom, value, flags);
        qjs::JS_FreeAtom(ctx, atom);
        qjs::JS_FreeValue(ctx, global);
        if ret < 0 {
            qjs::JS_EXCEPTION
        } else {
            qjs::JS_UNDEFINED
        }
    }
}
