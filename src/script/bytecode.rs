//! Scripts compiled as global (sloppy-mode) code and kept as bytecode. rquickjs 0.14 can write
//! and load only modules, and module code is always strict, while Auth0 runs Rules through
//! `Function` and Actions as CommonJS, both sloppy unless they say `'use strict'`. These two
//! functions are the engine's only raw QuickJS calls for that; everything else goes through
//! rquickjs.

use std::ffi::CString;

use rquickjs::{Ctx, Error, Result, Value, qjs};

/// Compiles `source` as global code without running it (the context needs the `Eval`
/// intrinsic) and returns its bytecode. A syntax error is `Error::Exception`, pending on `ctx`.
#[allow(unsafe_code)]
pub(crate) fn compile_script(
    ctx: &Ctx<'_>,
    name: &str,
    source: &str,
    strip_debug: bool,
) -> Result<Vec<u8>> {
    let (src, file) = (CString::new(source)?, CString::new(name)?);
    let raw = ctx.as_raw().as_ptr();
    let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
    let mut write = qjs::JS_WRITE_OBJ_BYTECODE | qjs::JS_WRITE_OBJ_STRIP_SOURCE;
    if strip_debug {
        write |= qjs::JS_WRITE_OBJ_STRIP_DEBUG;
    }
    // SAFETY: `raw` is the live context of `ctx`; the strings outlive the call; the compiled
    // function value is owned here and freed once written; the buffer QuickJS allocates is copied,
    // then freed with the context's allocator.
    unsafe {
        let compiled = qjs::JS_Eval(raw, src.as_ptr(), source.len() as _, file.as_ptr(), flags);
        if qjs::JS_IsException(compiled) {
            return Err(Error::Exception);
        }
        let mut len: qjs::size_t = 0;
        let buf = qjs::JS_WriteObject(raw, &mut len, compiled, write as i32);
        qjs::JS_FreeValue(raw, compiled);
        if buf.is_null() {
            return Err(Error::Exception);
        }
        let bytes = std::slice::from_raw_parts(buf, len as usize).to_vec();
        qjs::js_free(raw, buf.cast());
        Ok(bytes)
    }
}

/// Runs bytecode written by [`compile_script`] and returns the script's completion value (the
/// wrapper function `catalog::wrap` makes).
#[allow(unsafe_code)]
pub(crate) fn run_script<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> Result<Value<'js>> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: `JS_ReadObject` trusts its input (it is not hardened against hostile bytes): every
    // byte passed here was written by `compile_script` in this very process, from the same
    // quickjs-ng build, and is never read from disk or from a client. `JS_EvalFunction` takes
    // ownership of the function it is given; its result is owned and handed to rquickjs.
    unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(function) {
            return Err(Error::Exception);
        }
        let value = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_IsException(value) {
            return Err(Error::Exception);
        }
        Ok(Value::from_raw(ctx.clone(), value))
    }
}
