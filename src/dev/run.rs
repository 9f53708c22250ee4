//! One run of the pipeline for `claimsmith test`: the real engine on one event, with a host that
//! keeps what the scripts printed and the metadata Rules wrote instead of a database, and the
//! report: per script, in order, what it did, printed and took; then the tokens' payloads
//! (unsigned), the metadata, each custom claim's provenance and the verdict.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::claims::{Issue, provenance};
use crate::config::Config;
use crate::grant::{apply_scope_edits, decide_verdict};
use crate::script::{
    EngineConfig, Host, LoginInput, MetadataKind, Outcome, PatchError, ScopeEdit, ScriptEngine,
    ScriptError, ScriptSet,
};
use crate::store::User;

/// What the scripts asked of the server while they ran.
#[derive(Default)]
struct Recorder {
    console: Mutex<Vec<(String, i32, String)>>,
    patches: Mutex<Vec<(MetadataKind, Map<String, Value>)>>,
}

impl Host for Recorder {
    fn patch_metadata(
        &self,
        _user_id: &str,
        kind: MetadataKind,
        patch: &Map<String, Value>,
    ) -> Result<(), PatchError> {
        let mut p = self.patches.lock().unwrap_or_else(|e| e.into_inner());
        p.push((kind, patch.clone()));
        Ok(())
    }

    fn console(&self, script: &str, level: i32, line: &str) {
        let mut c = self.console.lock().unwrap_or_else(|e| e.into_inner());
        c.push((script.to_owned(), level, line.to_owned()));
    }
}

/// Runs `set` on `input` with the engine limits of `config` and Rules' `configuration` /
/// Actions' secrets as given; the report, and whether the login was allowed, denied or failed.
pub fn run(
    config: &Config,
    engine: EngineConfig,
    set: Arc<ScriptSet>,
    input: LoginInput,
) -> anyhow::Result<(Value, Verdict)> {
    let recorder = Arc::new(Recorder::default());
    let engine = ScriptEngine::start(
        EngineConfig {
            workers: 1,
            ..engine
        },
        recorder.clone(),
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let user = stored_user(&input);
    let run = runtime.block_on(engine.run_login(set.clone(), input.clone()));
    engine.shutdown();
    let console = std::mem::take(&mut *recorder.console.lock().unwrap_or_else(|e| e.into_inner()));
    let patches = std::mem::take(&mut *recorder.patches.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(report(config, &set, &input, &user, run, &console, &patches))
}

/// How the run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Refused,
    Failed,
}

fn report(
    config: &Config,
    set: &ScriptSet,
    input: &LoginInput,
    user: &User,
    run: Result<Outcome, ScriptError>,
    console: &[(String, i32, String)],
    patches: &[(MetadataKind, Map<String, Value>)],
) -> (Value, Verdict) {
    let kind = |name: &str| {
        let rule = set.rules.iter().any(|s| &*s.name == name);
        if rule { "rule" } else { "action" }
    };
    let failed = run
        .as_ref()
        .err()
        .map(|e| json!({"script": e.script.as_deref(), "error": e.public_description()}));
    let outcome = run.as_ref().ok();
    let times: Vec<_> = outcome
        .map(|o| o.script_times().collect())
        .unwrap_or_default();
    let decided = decide_verdict(run.clone());
    let mut scripts = Vec::new();
    for (script, took) in times {
        let name = &**script;
        let mut calls = Vec::new();
        if let Some(o) = outcome {
            let e = &o.effects;
            for (token, list) in [("access", &e.access_claims), ("id", &e.id_claims)] {
                for c in list.iter().filter(|c| &*c.script == name) {
                    calls.push(json!({"claim": c.name, "token": token, "value": c.value}));
                }
            }
            for (_, edit) in e.scope_edits.iter().filter(|(by, _)| &**by == name) {
                calls.push(match edit {
                    ScopeEdit::Add(s) => json!({"scope": "add", "value": s}),
                    ScopeEdit::Remove(s) => json!({"scope": "remove", "value": s}),
                    ScopeEdit::Replace(all) => json!({"scope": "replace", "value": all}),
                });
            }
            for (_, kind, key) in e.metadata_by.iter().filter(|(by, ..)| &**by == name) {
                let (object, map) = match kind {
                    MetadataKind::App => ("app_metadata", &e.app_metadata),
                    MetadataKind::User => ("user_metadata", &e.user_metadata),
                };
                calls.push(json!({"metadata": object, "key": key, "value": map.get(key)}));
            }
        }
        // The refusal (a deny, MFA, a redirect…) in the script whose call made it.
        if let (Err(e), Some(o)) = (&decided, outcome)
            && o.decided_by.as_deref() == Some(name)
        {
            calls.push(json!({"refused": e.body()}));
        }
        let printed: Vec<&str> = console
            .iter()
            .filter(|(s, ..)| s == name)
            .map(|(_, _, line)| line.as_str())
            .collect();
        scripts.push(json!({
            "name": name,
            "kind": kind(name),
            "ms": (took.as_secs_f64() * 1e5).round() / 100.0,
            "calls": calls,
            "console": printed,
        }));
    }
    let mut doc = json!({ "scripts": scripts });
    let verdict = match (&decided, failed) {
        (_, Some(failure)) => {
            doc["verdict"] = json!({"result": "error", "failure": failure});
            Verdict::Failed
        }
        (Err(e), None) => {
            doc["verdict"] = json!({"result": "refused", "status": e.status(), "body": e.body()});
            Verdict::Refused
        }
        (Ok(o), None) => match tokens(config, input, user, o) {
            Ok((access, id, prov)) => {
                doc["verdict"] = json!({"result": "allowed"});
                doc["access_token"] = access;
                doc["id_token"] = id;
                doc["provenance"] = prov;
                Verdict::Allowed
            }
            Err(refusal) => {
                doc["verdict"] = json!({"result": "refused", "status": refusal.status(), "body": refusal.body()});
                Verdict::Refused
            }
        },
    };
    if let Some(o) = outcome {
        let mut rules_wrote = json!({"app_metadata": {}, "user_metadata": {}});
        for (kind, patch) in patches {
            let k = match kind {
                MetadataKind::App => "app_metadata",
                MetadataKind::User => "user_metadata",
            };
            for (key, v) in patch {
                rules_wrote[k][key] = v.clone();
            }
        }
        doc["metadata"] = json!({
            "actions": {"app_metadata": o.effects.app_metadata, "user_metadata": o.effects.user_metadata},
            "rules": rules_wrote,
        });
    }
    (doc, verdict)
}

/// The tokens' payloads as the password grant would sign them (every requested scope granted:
/// there is no API registration here), and the custom claims' provenance.
fn tokens(
    config: &Config,
    input: &LoginInput,
    user: &User,
    o: &Outcome,
) -> Result<(Value, Value, Value), crate::oauth::OAuthError> {
    let max = config.max_token_bytes;
    let granted = apply_scope_edits(input.requested_scopes.clone(), &o.effects.scope_edits, max)
        .map_err(|_| crate::oauth::OAuthError::claims_too_large("the scripts' scopes"))?;
    let org = input
        .organization
        .as_ref()
        .map(|org| (org.id.as_str(), org.name.as_str()));
    let issue = Issue {
        issuer: &config.issuer,
        sub: o.effects.primary_user.as_deref().unwrap_or(&user.user_id),
        client_id: &input.client.client_id,
        audience: &input.audience,
        iat: input.now_ms / 1000,
        access_lifetime_s: config.access_token_lifetime_s,
        id_lifetime_s: config.id_token_lifetime_s,
        scopes: &granted.scopes,
        gty: if input.protocol == "oauth2-refresh-token" {
            "refresh_token"
        } else {
            "password"
        },
        org,
        permissions: None,
    };
    let too_large =
        |e: crate::claims::ClaimsTooLarge| crate::oauth::OAuthError::claims_too_large(&e.script);
    let access = issue
        .access_claims(&o.effects.access_claims)
        .map_err(too_large)?;
    let scopes: Vec<&str> = granted.scopes.iter().map(String::as_str).collect();
    let mut prov = provenance(&o.effects.access_claims, &scopes, "access_token");
    let id = if scopes.contains(&"openid") {
        prov.extend(provenance(&o.effects.id_claims, &scopes, "id_token"));
        Value::Object(
            issue
                .id_claims(user, &o.effects.id_claims)
                .map_err(too_large)?,
        )
    } else {
        Value::Null
    };
    Ok((Value::Object(access), id, json!(prov)))
}

/// The event's user as a stored user, for the ID token's profile claims.
fn stored_user(input: &LoginInput) -> User {
    let u = &input.user;
    let text = |k: &str| u.get(k).and_then(Value::as_str).map(str::to_owned);
    let object = |k: &str| {
        u.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    User {
        user_id: text("user_id").unwrap_or_default(),
        connection: input.connection.name.clone(),
        email: text("email"),
        username: text("username"),
        email_verified: u
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        name: text("name"),
        nickname: text("nickname"),
        given_name: text("given_name"),
        family_name: text("family_name"),
        picture: text("picture"),
        phone_number: text("phone_number"),
        password_hash: None,
        app_metadata: object("app_metadata"),
        user_metadata: object("user_metadata"),
        blocked: false,
        logins_count: input.logins_count,
        last_login: None,
        last_ip: None,
        created_at: text("created_at").unwrap_or_default(),
        updated_at: text("updated_at").unwrap_or_default(),
        last_password_reset: None,
    }
}
