//! Plain-Rust side of the bindings: shapes a [`LoginInput`] into Auth0's `event` (Actions) and
//! `user` / `context` (Rules) as JSON texts, and turns the shim's JSON outcome back into an
//! [`Outcome`]. No rquickjs here; the JS side of the contract is `shim.js`. The contract as a
//! script author reads it is `SCRIPT-CONTRACT.md`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    Claim, Effects, LoginInput, Outcome, ScopeEdit, ScriptError, ScriptErrorKind, Verdict,
};

/// Custom claims of one token above this many bytes (names + JSON values) fail the login.
pub const MAX_CLAIMS_BYTES: usize = 100 * 1024;

fn obj(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    }
}

fn iso8601(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return "1970-01-01T00:00:00.000Z".into();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn is_password(input: &LoginInput) -> bool {
    input.protocol == "oauth2-password"
}

/// `event` for Actions (without `secrets` and `transaction.metadata`, set per Action by the shim).
pub(crate) fn event_json(input: &LoginInput) -> String {
    let mut user = match &input.user {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    for key in ["app_metadata", "user_metadata"] {
        let v = obj(user.get(key));
        user.insert(key.into(), v);
    }
    for key in ["identities", "multifactor", "enrolledFactors"] {
        if !matches!(user.get(key), Some(Value::Array(_))) {
            user.insert(key.into(), json!([]));
        }
    }
    let r = &input.request;
    let locale = r
        .language
        .as_deref()
        .and_then(|l| l.split([',', ';']).next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("en");
    let methods = if is_password(input) {
        json!([{"name": "pwd", "timestamp": iso8601(input.now_ms)}])
    } else {
        json!([])
    };
    let mut event = json!({
        "user": user,
        "authorization": {"roles": input.roles},
        "client": {"client_id": input.client.client_id, "name": input.client.name, "metadata": input.client.metadata},
        "connection": {"id": input.connection.id, "name": input.connection.name,
                       "strategy": input.connection.strategy, "metadata": input.connection.metadata},
        "request": {"ip": r.ip, "hostname": r.hostname, "user_agent": r.user_agent, "language": r.language,
                    "method": r.method, "query": r.query, "body": r.body, "geoip": {}},
        "transaction": {"protocol": input.protocol, "requested_scopes": input.requested_scopes,
                        "metadata": {}, "acr_values": [], "ui_locales": [], "prompt": [], "response_type": [],
                        "locale": locale},
        "resource_server": {"identifier": input.audience},
        "stats": {"logins_count": input.logins_count},
        "secrets": {},
        "tenant": {"id": input.tenant},
        "authentication": {"methods": methods},
    });
    if let (Some(org), Value::Object(e)) = (&input.organization, &mut event) {
        e.insert(
            "organization".into(),
            json!({"id": org.id, "name": org.name, "display_name": org.display_name, "metadata": org.metadata}),
        );
    }
    event.to_string()
}

/// `{user, context}` for Rules.
pub(crate) fn rules_json(input: &LoginInput) -> String {
    let mut user = match &input.user {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    // Auth0 Rules: app_metadata is undefined until something is stored in it.
    if !matches!(user.get("app_metadata"), Some(Value::Object(m)) if !m.is_empty()) {
        user.remove("app_metadata");
    }
    let um = obj(user.get("user_metadata"));
    user.insert("user_metadata".into(), um);
    if !matches!(user.get("identities"), Some(Value::Array(_))) {
        user.insert("identities".into(), json!([]));
    }
    let r = &input.request;
    let methods = if is_password(input) {
        json!([{"name": "pwd", "timestamp": input.now_ms}])
    } else {
        json!([])
    };
    let mut context = json!({
        "tenant": input.tenant,
        "clientID": input.client.client_id,
        "clientName": input.client.name,
        "clientMetadata": input.client.metadata,
        "connection": input.connection.name,
        "connectionID": input.connection.id,
        "connectionStrategy": input.connection.strategy,
        "connectionOptions": {},
        "connectionMetadata": input.connection.metadata,
        "protocol": input.protocol,
        "request": {"userAgent": r.user_agent, "ip": r.ip, "hostname": r.hostname, "query": r.query,
                    "body": r.body, "geoip": {}},
        "stats": {"loginsCount": input.logins_count},
        "sso": {"with_auth0": false, "with_dbconn": false, "current_clients": []},
        "accessToken": {},
        "idToken": {},
        "authorization": {"roles": input.roles},
        "authentication": {"methods": methods},
        "primaryUser": input.user.get("user_id").cloned().unwrap_or(Value::Null),
        "samlConfiguration": {},
        "jwtConfiguration": {},
    });
    if let (Some(org), Value::Object(c)) = (&input.organization, &mut context) {
        c.insert(
            "organization".into(),
            json!({"id": org.id, "name": org.name, "metadata": org.metadata}),
        );
    }
    json!({"user": user, "context": context}).to_string()
}

#[derive(Deserialize)]
struct Raw {
    at: i64,
    v: Vec<Value>,
    access: Vec<(i64, String, String)>,
    id: Vec<(i64, String, String)>,
    scopes: Vec<Value>,
    app: Map<String, Value>,
    user: Map<String, Value>,
    stack: String,
    oom: i64,
    #[serde(rename = "nullThrow")]
    null_throw: bool,
}

/// Turns the shim's outcome into an [`Outcome`], validating every field (scripts could have
/// poisoned the shim's built-ins in strict mode; nothing here trusts the shape).
/// `heap_full` is asked when a script's failure was a thrown `null`: QuickJS throws that when
/// the heap cannot even hold the "out of memory" error.
pub(crate) fn parse_outcome(
    text: &str,
    name: &dyn Fn(i64) -> Option<Arc<str>>,
    heap_full: &mut dyn FnMut() -> bool,
) -> Result<Outcome, ScriptError> {
    let engine = |m: String| ScriptError {
        script: None,
        kind: ScriptErrorKind::Engine(m),
    };
    let raw: Raw = serde_json::from_str(text).map_err(|e| engine(format!("bad outcome: {e}")))?;
    if raw.null_throw
        && raw.oom < 0
        && matches!(raw.v.first().and_then(Value::as_str), Some("deny"))
        && heap_full()
    {
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
    let text_at = |i: usize| raw.v.get(i).and_then(Value::as_str).map(str::to_owned);
    let verdict = match raw.v.first().and_then(Value::as_str) {
        Some("allow") => Verdict::Allow,
        Some("deny") => Verdict::Deny(text_at(1).unwrap_or_default()),
        Some("unauth") => Verdict::Unauthorized(text_at(1).unwrap_or_default()),
        Some("mfa") => Verdict::MfaRequired,
        Some("redirect") => Verdict::InteractionRequired(text_at(1).unwrap_or_default()),
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
        check_size(&out)?;
        Ok(out)
    };
    let mut scope_edits = Vec::new();
    for edit in raw.scopes {
        let parts = edit.as_array().map(Vec::as_slice).unwrap_or_default();
        let edit = match (parts.first().and_then(Value::as_str), parts.get(1)) {
            (Some("add"), Some(Value::String(s))) => ScopeEdit::Add(s.clone()),
            (Some("remove"), Some(Value::String(s))) => ScopeEdit::Remove(s.clone()),
            (Some("replace"), Some(Value::Array(a))) => ScopeEdit::Replace(
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect(),
            ),
            _ => return Err(engine("bad scope edit".into())),
        };
        scope_edits.push(edit);
    }
    Ok(Outcome {
        verdict,
        effects: Effects {
            access_claims: claims(raw.access)?,
            id_claims: claims(raw.id)?,
            scope_edits,
            app_metadata: raw.app,
            user_metadata: raw.user,
        },
    })
}

/// Folds the claims of one token (last write wins) and fails when they exceed [`MAX_CLAIMS_BYTES`],
/// naming the script of the largest claim.
fn check_size(claims: &[Claim]) -> Result<(), ScriptError> {
    let mut folded: HashMap<&str, (usize, &Arc<str>)> = HashMap::new();
    for c in claims {
        let size = c.name.len() + c.value.to_string().len();
        folded.insert(&c.name, (size, &c.script));
    }
    let total: usize = folded.values().map(|(s, _)| s).sum();
    if total <= MAX_CLAIMS_BYTES {
        return Ok(());
    }
    let biggest = folded
        .values()
        .max_by_key(|(s, _)| *s)
        .map(|(_, n)| (*n).clone());
    Err(ScriptError {
        script: biggest,
        kind: ScriptErrorKind::ClaimsTooLarge,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_434_454_643_024), "2015-06-16T11:37:23.024Z");
    }

    #[test]
    fn claims_size_limit_names_the_biggest_script() {
        let c = |s: &str, n: &str, v: Value| Claim {
            script: s.into(),
            name: n.into(),
            value: v,
        };
        let big = json!("x".repeat(60 * 1024));
        assert!(
            check_size(&[c("a", "x", big.clone()), c("b", "x", big.clone())]).is_ok(),
            "folded"
        );
        let e = check_size(&[
            c("a", "x", json!(1)),
            c("b", "y", big.clone()),
            c("c", "z", big),
        ])
        .unwrap_err();
        assert_eq!(e.kind, ScriptErrorKind::ClaimsTooLarge);
        assert!(matches!(e.script.as_deref(), Some("b" | "c")));
    }
}
