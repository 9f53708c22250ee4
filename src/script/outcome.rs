//! Reads the shim's outcome object (`run`'s result, see `shim.js`) field by field into
//! [`Raw`], which [`parse_outcome`] validates into an [`Outcome`]. Reading the object directly
//! replaces a `JSON.stringify` of it in the sandbox and a parse in Rust: that round trip cost
//! about a tenth of a warm login. A field of the wrong type is an error (the engine's), never a
//! guess.

use std::sync::Arc;

use rquickjs::{Array, Object, Value};
use serde_json::{Map, Value as Json};

use super::{
    Claim, Effects, MetadataKind, Outcome, RefreshEdit, ScopeEdit, ScriptError, ScriptErrorKind,
    Verdict,
};

pub(super) fn read(out: &Object<'_>) -> rquickjs::Result<Raw> {
    Ok(Raw {
        at: out.get("at")?,
        v: out
            .get::<_, Array>("v")?
            .iter::<Value>()
            .map(|v| v.map(|v| v.as_string().and_then(|s| s.to_string().ok())))
            .collect::<rquickjs::Result<_>>()?,
        access: claims(out.get("access")?)?,
        meta_by: claims(out.get("metaBy")?)?,
        v_by: out.get::<_, Option<i64>>("vBy")?.unwrap_or(-1),
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
        threw: out.get::<_, Option<bool>>("threw")?.unwrap_or(false),
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

/// The shim's outcome object as read by [`read`], before validation.
pub(super) struct Raw {
    /// The script running when the login ended.
    pub at: i64,
    /// `[verdict, ...texts]`; an entry that is not a string is `None`.
    pub v: Vec<Option<String>>,
    /// `[script index, claim name, claim value as JSON text]`.
    pub access: Vec<(i64, String, String)>,
    /// The script whose call decided the verdict; -1 when none or a Rule's context did.
    pub v_by: i64,
    /// `[script index, "app" | "user", key]` of each Action's metadata write.
    pub meta_by: Vec<(i64, String, String)>,
    pub id: Vec<(i64, String, String)>,
    /// `(script index, edit)`, in order.
    pub scopes: Vec<(i64, ScopeEdit)>,
    /// Metadata changes as JSON text; `None` when there are none.
    pub app: Option<String>,
    pub user: Option<String>,
    pub primary: Option<String>,
    /// `api.refreshToken.*` calls as JSON text (`[["set", k, v], ["revoke"], ...]`), or `None`.
    pub rt: Option<String>,
    pub stack: String,
    pub oom: i64,
    pub null_throw: bool,
    /// A script threw or rejected (the shim's `failure`, or a Rule's throw); absent otherwise.
    pub threw: bool,
}

/// Turns the shim's outcome into an [`Outcome`], validating every field (scripts could have
/// poisoned the shim's built-ins in strict mode; nothing here trusts the shape).
/// `heap_full` is asked when a script's failure was a thrown `null`: QuickJS throws that when
/// the heap cannot even hold the "out of memory" error.
pub(crate) fn parse_outcome(
    raw: Raw,
    name: &dyn Fn(i64) -> Option<Arc<str>>,
    heap_full: &mut dyn FnMut() -> bool,
) -> Result<Outcome, ScriptError> {
    let engine = |m: String| ScriptError {
        script: None,
        kind: ScriptErrorKind::Engine(m),
    };
    let verdict_is = |v: &str| raw.v.first().and_then(Option::as_deref) == Some(v);
    if raw.null_throw && raw.oom < 0 && verdict_is("deny") && heap_full() {
        return Err(ScriptError {
            script: name(raw.at),
            kind: ScriptErrorKind::OutOfMemory,
        });
    }
    if raw.oom >= 0 {
        return Err(ScriptError {
            script: name(raw.oom),
            kind: ScriptErrorKind::OutOfMemory,
        });
    }
    let text_at = |i: usize| raw.v.get(i).cloned().flatten();
    let verdict = match raw.v.first().and_then(Option::as_deref) {
        Some("allow") => Verdict::Allow,
        Some("deny") => Verdict::Deny(text_at(1).unwrap_or_default()),
        Some("unauth") => Verdict::Unauthorized(text_at(1).unwrap_or_default()),
        Some("mfa") => Verdict::MfaRequired,
        Some("redirect") => Verdict::InteractionRequired(text_at(1).unwrap_or_default()),
        Some("validation") => Verdict::ValidationError {
            code: text_at(1).unwrap_or_default(),
            message: text_at(2).unwrap_or_default(),
        },
        Some("cx_deny") => Verdict::CredentialsDenied {
            code: text_at(1).unwrap_or_default(),
            reason: text_at(2).unwrap_or_default(),
        },
        Some("reg_deny") => Verdict::RegistrationDenied {
            reason: text_at(1).unwrap_or_default(),
            user_message: text_at(2).unwrap_or_default(),
        },
        other => return Err(engine(format!("bad verdict {other:?}"))),
    };
    if !raw.stack.is_empty() {
        let script = name(raw.at).unwrap_or_else(|| "claimsmith".into());
        tracing::warn!(target: "script", script = %script, stack = %raw.stack, "script failed");
    }
    let claims = |list: Vec<(i64, String, String)>| -> Result<Vec<Claim>, ScriptError> {
        let mut out = Vec::with_capacity(list.len());
        for (i, claim_name, json) in list {
            let value =
                serde_json::from_str(&json).map_err(|e| engine(format!("bad claim: {e}")))?;
            let script = name(i).unwrap_or_else(|| "claimsmith".into());
            out.push(Claim {
                script,
                name: claim_name,
                value,
            });
        }
        Ok(out)
    };
    let scope_edits = raw
        .scopes
        .into_iter()
        .map(|(by, edit)| (name(by).unwrap_or_else(|| "claimsmith".into()), edit))
        .collect();
    let metadata = |text: Option<String>| -> Result<Map<String, Json>, ScriptError> {
        match text {
            None => Ok(Map::new()),
            Some(t) => serde_json::from_str(&t).map_err(|e| engine(format!("bad metadata: {e}"))),
        }
    };
    Ok(Outcome {
        verdict,
        effects: Effects {
            access_claims: claims(raw.access)?,
            id_claims: claims(raw.id)?,
            scope_edits,
            app_metadata: metadata(raw.app)?,
            user_metadata: metadata(raw.user)?,
            primary_user: raw.primary,
            refresh_token: refresh_edits(raw.rt).map_err(engine)?,
            metadata_by: raw
                .meta_by
                .into_iter()
                .map(|(i, target, key)| {
                    let kind = match target.as_str() {
                        "app" => MetadataKind::App,
                        _ => MetadataKind::User,
                    };
                    (name(i).unwrap_or_else(|| "claimsmith".into()), kind, key)
                })
                .collect(),
        },
        runs: Vec::new(), // the engine's, from the scripts' start marks
        ended: None,
        decided_by: name(raw.v_by),
        threw: raw.threw,
    })
}

/// `api.refreshToken.*` calls, in order.
fn refresh_edits(text: Option<String>) -> Result<Vec<RefreshEdit>, String> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let list: Vec<Vec<Json>> =
        serde_json::from_str(&text).map_err(|e| format!("bad refresh token edits: {e}"))?;
    let bad = || "bad refresh token edit".to_owned();
    let text = |v: Option<&Json>| v.and_then(Json::as_str).map(str::to_owned).ok_or_else(bad);
    let ms = |v: Option<&Json>| v.and_then(Json::as_f64).map(|f| f as i64).ok_or_else(bad);
    list.iter()
        .map(|e| match e.first().and_then(Json::as_str) {
            Some("revoke") => Ok(RefreshEdit::Revoke),
            Some("expiresAt") => Ok(RefreshEdit::ExpiresAt(ms(e.get(1))?)),
            Some("idleExpiresAt") => Ok(RefreshEdit::IdleExpiresAt(ms(e.get(1))?)),
            Some("set") => Ok(RefreshEdit::SetMetadata(text(e.get(1))?, text(e.get(2))?)),
            Some("delete") => Ok(RefreshEdit::DeleteMetadata(text(e.get(1))?)),
            Some("evict") => Ok(RefreshEdit::EvictMetadata),
            _ => Err(bad()),
        })
        .collect()
}
