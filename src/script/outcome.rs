//! Reads the shim's outcome object (`run`'s result, see `shim.js`) field by field into
//! [`Raw`], which `shape::parse_outcome` validates. Reading the object directly replaces a
//! `JSON.stringify` of it in the sandbox and a parse in Rust: that round trip cost about a tenth
//! of a warm login. A field of the wrong type is an error (the engine's), never a guess.

use rquickjs::{Array, Object, Value};

use super::ScopeEdit;
use super::shape::Raw;

pub(super) fn read(out: &Object<'_>) -> rquickjs::Result<Raw> {
    Ok(Raw {
        at: out.get("at")?,
        v: out
            .get::<_, Array>("v")?
            .iter::<Value>()
            .map(|v| v.map(|v| v.as_string().and_then(|s| s.to_string().ok())))
            .collect::<rquickjs::Result<_>>()?,
        access: claims(out.get("access")?)?,
        id: claims(out.get("id")?)?,
        scopes: out
            .get::<_, Array>("scopes")?
            .iter::<Array>()
            .map(|edit| scope_edit(&edit?))
            .collect::<rquickjs::Result<_>>()?,
        app: out.get("app")?,
        user: out.get("user")?,
        primary: out.get("primary")?,
        rt: out.get("rt")?,
        stack: out.get("stack")?,
        oom: out.get("oom")?,
        null_throw: out.get("nullThrow")?,
    })
}

/// `[[script index, claim name, value as JSON text], ...]`.
fn claims(list: Array<'_>) -> rquickjs::Result<Vec<(i64, String, String)>> {
    list.iter::<Array>()
        .map(|c| {
            let c = c?;
            Ok((c.get(0)?, c.get(1)?, c.get(2)?))
        })
        .collect()
}

/// `[kind, argument, script index]`: `add`/`remove` a scope, or `replace` them all.
fn scope_edit(edit: &Array<'_>) -> rquickjs::Result<(i64, ScopeEdit)> {
    let kind: String = edit.get(0)?;
    let by: i64 = edit.get(2)?;
    let edit = match kind.as_str() {
        "add" => ScopeEdit::Add(edit.get(1)?),
        "remove" => ScopeEdit::Remove(edit.get(1)?),
        "replace" => ScopeEdit::Replace(edit.get(1)?),
        _ => {
            return Err(rquickjs::Error::new_from_js_message(
                "scope edit",
                "ScopeEdit",
                format!("unknown kind {kind:?}"),
            ));
        }
    };
    Ok((by, edit))
}
