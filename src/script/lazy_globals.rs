//! Globals built on first use (the Node globals, a strict context's typed arrays, its console),
//! defined natively. As JS accessors with two closures each, the lazy names cost about 0.45 M
//! instructions per strict context; here each name gets one C function holding `resolve` for
//! the getter and, when writable, a plain C function for the setter (no data to allocate, mark
//! and free: the name is the function's magic number, an index into [`GROUPS`]), defined on the
//! global object without a descriptor object. The names live here rather than in the shim so
//! that no array of them is built and converted per context.

use std::ffi::c_int;

use rquickjs::qjs::{self, JSContext, JSValue};
use rquickjs::{Ctx, Function};

/// The groups of lazy names, by the number the shim passes (`host.lazyGlobals(group, …)`).
const GROUPS: [&[&str]; 3] = [
    &["console"],
    &[
        "ArrayBuffer",
        "SharedArrayBuffer",
        "Uint8ClampedArray",
        "Int8Array",
        "Uint8Array",
        "Int16Array",
        "Uint16Array",
        "Int32Array",
        "Uint32Array",
        "BigInt64Array",
        "BigUint64Array",
        "Float16Array",
        "Float32Array",
        "Float64Array",
        "DataView",
        "Atomics",
    ],
    &[
        "AbortController",
        "AbortSignal",
        "Buffer",
        "CryptoKey",
        "Event",
        "EventTarget",
        "TextDecoder",
        "TextEncoder",
        "URL",
        "URLSearchParams",
        "atob",
        "btoa",
        "clearImmediate",
        "clearInterval",
        "clearTimeout",
        "crypto",
        "process",
        "setImmediate",
        "setInterval",
        "setTimeout",
        "structuredClone",
        "fetch",
        "Headers",
        "Request",
        "Response",
        "FormData",
    ],
];

/// The magic number of name `i` of group `g`.
const GROUP_SHIFT: c_int = 8;

fn name_of(magic: c_int) -> Option<&'static str> {
    let (g, i) = (magic >> GROUP_SHIFT, magic & ((1 << GROUP_SHIFT) - 1));
    GROUPS
        .get(usize::try_from(g).ok()?)?
        .get(usize::try_from(i).ok()?)
        .copied()
}

/// Defines each name of `group` on the global object as a non-enumerable accessor whose getter
/// returns `resolve(name)`. `writable`: the property is configurable and its setter makes the
/// name an ordinary writable data property (as assigning a Node global does); else it is
/// read-only and non-configurable, and the getters are frozen (warm isolation).
#[allow(unsafe_code)]
pub(super) fn define(
    ctx: &Ctx<'_>,
    group: i32,
    resolve: Function<'_>,
    writable: bool,
) -> rquickjs::Result<()> {
    let Some(names) = usize::try_from(group).ok().and_then(|g| GROUPS.get(g)) else {
        return Err(rquickjs::Exception::throw_range(
            ctx,
            "no such group of globals",
        ));
    };
    let raw = ctx.as_raw().as_ptr();
    let resolve = resolve.as_raw();
    // The setter's type as QuickJS calls it for `JS_CFUNC_generic_magic`.
    let set: qjs::JSCFunctionMagic = Some(lazy_set);
    // SAFETY: `raw` is the live context of `ctx`, on this thread. Every value made here is owned
    // and freed here, or handed to a call that takes ownership (JS_DefinePropertyGetSet takes the
    // getter and setter); JS_NewCFunctionData duplicates the data value it keeps. `resolve` is
    // borrowed from a `Function` that outlives this call and is duplicated into each getter.
    // `JSCFunction` and `JSCFunctionMagic` are the two members of QuickJS' `JSCFunctionType`
    // union: with `JS_CFUNC_generic_magic` QuickJS calls the pointer as the magic signature.
    unsafe {
        let global = qjs::JS_GetGlobalObject(raw);
        let mut result = Ok(());
        for (i, name) in names.iter().enumerate() {
            let magic = (group << GROUP_SHIFT) | i as c_int;
            let atom = qjs::JS_NewAtomLen(raw, name.as_ptr().cast(), name.len() as _);
            let mut get_data = [resolve];
            let getter =
                qjs::JS_NewCFunctionData(raw, Some(lazy_get), 0, magic, 1, get_data.as_mut_ptr());
            let (setter, flags) = if writable {
                let setter = qjs::JS_NewCFunction2(
                    raw,
                    std::mem::transmute::<qjs::JSCFunctionMagic, qjs::JSCFunction>(set),
                    c"".as_ptr(),
                    1,
                    qjs::JSCFunctionEnum_JS_CFUNC_generic_magic,
                    magic,
                );
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
    magic: c_int,
    data: *mut JSValue,
) -> JSValue {
    let Some(name) = name_of(magic) else {
        return qjs::JS_UNDEFINED;
    };
    // SAFETY: QuickJS passes the data value this getter was made with (`define`); the name is a
    // new string, freed here after JS_Call borrowed it; JS_Call returns an owned value (or the
    // exception marker), which is returned.
    unsafe {
        let mut name = qjs::JS_NewStringLen(ctx, name.as_ptr().cast(), name.len() as _);
        if qjs::JS_IsException(name) {
            return name;
        }
        let r = qjs::JS_Call(ctx, *data, qjs::JS_UNDEFINED, 1, &mut name);
        qjs::JS_FreeValue(ctx, name);
        r
    }
}

/// A writable lazy global's setter: the name becomes a plain data property holding the value.
#[allow(unsafe_code)]
unsafe extern "C" fn lazy_set(
    ctx: *mut JSContext,
    _this: JSValue,
    argc: c_int,
    argv: *mut JSValue,
    magic: c_int,
) -> JSValue {
    let Some(name) = name_of(magic) else {
        return qjs::JS_UNDEFINED;
    };
    // SAFETY: `argv` holds at least one readable argument (the function's length is 1). The value
    // is duplicated before JS_DefinePropertyValue takes ownership of it; the global object and
    // the atom are freed here.
    unsafe {
        let value = if argc > 0 {
            qjs::JS_DupValue(ctx, *argv)
        } else {
            qjs::JS_UNDEFINED
        };
        let global = qjs::JS_GetGlobalObject(ctx);
        let atom = qjs::JS_NewAtomLen(ctx, name.as_ptr().cast(), name.len() as _);
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
