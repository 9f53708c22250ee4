//! A thrown JavaScript value described for errors and logs: message, stack, and the position of
//! the first stack frame (what a load error reports as `path:line:col`).

use rquickjs::Value;

/// A thrown value, described for errors and logs.
pub(crate) struct Described {
    pub message: String,
    pub stack: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub is_null: bool,
}

pub(crate) fn describe_exception(v: &Value<'_>) -> Described {
    let mut d = Described {
        message: String::new(),
        stack: None,
        line: None,
        column: None,
        is_null: v.is_null() || v.is_undefined(),
    };
    if let Some(o) = v.as_object() {
        let s = |k: &str| {
            o.get::<_, Option<rquickjs::Coerced<String>>>(k)
                .ok()
                .flatten()
                .map(|c| c.0)
        };
        let n = |k: &str| o.get::<_, Option<f64>>(k).ok().flatten().map(|x| x as u32);
        d.message = s("message").unwrap_or_default();
        d.stack = s("stack");
        d.line = n("lineNumber");
        d.column = n("columnNumber");
        if d.line.is_none()
            && let Some((l, c)) = d.stack.as_deref().and_then(first_position)
        {
            d.line = Some(l);
            d.column = Some(c);
        }
    } else if let Some(s) = v.as_string() {
        d.message = s.to_string().unwrap_or_default();
    } else {
        d.message = format!("{v:?}");
    }
    d
}

/// The first `:line:column` in a stack trace (`    at action:x:3:7`).
pub(super) fn first_position(stack: &str) -> Option<(u32, u32)> {
    stack.lines().find_map(|l| {
        let mut parts = l.trim_end_matches(')').rsplit(':');
        let col = parts.next()?.parse().ok()?;
        let line = parts.next()?.parse().ok()?;
        Some((line, col))
    })
}
