//! Every member of Auth0's post-login `api` object, over HTTP: the member list pinned against
//! `tests/fixtures/auth0-members/api.json` (written from Auth0's "API Object" page), what each
//! member does where a password grant cannot apply it, metadata visibility between Actions, and
//! Rules' `auth0.users.update*` in the callback style.

use serde_json::{Value, json};

use claimsmith::store::NewUser;

use crate::support::*;

/// The documented member paths (`api.<namespace>.<method>`).
fn documented_api_members() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/auth0-members/api.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        doc["source"]
            .as_str()
            .unwrap()
            .starts_with("https://auth0.com/docs/")
    );
    doc["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect()
}

/// An Action that lists every function reachable as `api.<ns>.<member>` as a claim.
const WALK_API: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  const found = [];
  for (const ns of Object.keys(api)) {
    const o = api[ns];
    if (o === null || typeof o !== 'object') continue;
    for (const m of Object.keys(o)) if (typeof o[m] === 'function') found.push('api.' + ns + '.' + m);
  }
  api.accessToken.setCustomClaim('https://t/members', found);
};
"#;

#[tokio::test]
async fn api_object_has_every_member_of_auth0s_documentation() {
    let s = TestServer::start_scripts(&[("actions/01-walk.js", WALK_API)], |_| {}).await;
    let c = s.claims().await;
    let found: Vec<String> = c["https://t/members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    let documented = documented_api_members();
    let missing: Vec<&String> = documented.iter().filter(|m| !found.contains(m)).collect();
    assert!(missing.is_empty(), "missing api members: {missing:?}");
    let extra: Vec<&String> = found.iter().filter(|m| !documented.contains(m)).collect();
    assert!(extra.is_empty(), "undocumented api members: {extra:?}");
    s.stop().await;
}

/// Calls every documented member with plausible arguments, each in its own Action run, and
/// checks that no login answers with an engine `TypeError` (a missing member).
#[tokio::test]
async fn every_api_member_is_callable_without_a_type_error_on_the_wire() {
    let members = documented_api_members();
    let list = serde_json::to_string(&members).unwrap();
    let src = format!(
        r#"exports.onExecutePostLogin = async (event, api) => {{
  const problems = [];
  for (const path of {list}) {{
    const [, ns, m] = path.split('.');
    try {{
      const f = api[ns][m];
      if (typeof f !== 'function') {{ problems.push(path + ': not a function'); continue; }}
    }} catch (e) {{ problems.push(path + ': ' + e.message); }}
  }}
  api.accessToken.setCustomClaim('https://t/problems', problems);
}};"#
    );
    let s = TestServer::start_scripts(&[("actions/01-call.js", &src)], |_| {}).await;
    assert_eq!(s.claims().await["https://t/problems"], json!([]));
    s.stop().await;
    // Each no-op member, called: the login still succeeds (no TypeError reaches the wire).
    let no_ops = [
        "api.samlResponse.setAttribute('a', 'b')",
        "api.samlResponse.setEncryptionAlgorithm('aes256-gcm')",
        "api.samlResponse.setCreateUpnClaim(true)",
        "api.samlResponse.setNameIdentifierProbes(['x'])",
        "api.refreshToken.revoke('r')",
        "api.refreshToken.setMetadata('k', 'v')",
        "api.refreshToken.evictMetadata()",
        "api.session.setMetadata('k', 'v')",
        "api.session.setCookieMode('persistent')",
        "api.authentication.recordMethod('https://m.example')",
        "await api.groups.getUserGroups()",
    ];
    let mut body = String::new();
    for call in no_ops {
        body.push_str(call);
        body.push_str(";\n");
    }
    let src = format!("exports.onExecutePostLogin = async (event, api) => {{\n{body}}};");
    let s = TestServer::start_scripts(&[("actions/01-noop.js", &src)], |_| {}).await;
    let (status, b) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 200, "{b}");
    s.stop().await;
}

async fn login_error(s: &TestServer) -> (u16, String, String) {
    let (status, b) = s.login(&[("audience", API)]).await;
    (
        status,
        b["error"].as_str().unwrap_or_default().to_owned(),
        b["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn session_revoke_denies_the_login_and_stops_the_actions() {
    let s = TestServer::start_scripts(
        &[
            ("actions/01-revoke.js", "exports.onExecutePostLogin = async (e, api) => { api.session.revoke('session revoked by policy'); };"),
            ("actions/02-after.js", "exports.onExecutePostLogin = async (e, api) => { api.user.setAppMetadata('after', true); };"),
        ],
        |_| {},
    )
    .await;
    assert_eq!(
        login_error(&s).await,
        (
            403,
            "access_denied".into(),
            "session revoked by policy".into()
        )
    );
    let u = s.db(|db| db.user_by_id(&s.seed.user_id)).unwrap();
    assert!(u.app_metadata.get("after").is_none(), "no later Action ran");
    s.stop().await;
}

#[tokio::test]
async fn challenge_and_enroll_family_answers_mfa_required() {
    for call in [
        "challengeWith({ type: 'otp' })",
        "challengeWithAny([{ type: 'otp' }, { type: 'email' }])",
        "enrollWith({ type: 'otp' })",
        "enrollWithAny([{ type: 'otp' }])",
    ] {
        let src = format!(
            "exports.onExecutePostLogin = async (e, api) => {{ api.authentication.{call}; }};"
        );
        let s = TestServer::start_scripts(&[("actions/01-mfa.js", &src)], |_| {}).await;
        assert_eq!(
            login_error(&s).await,
            (
                403,
                "mfa_required".into(),
                "Multifactor authentication required".into()
            ),
            "{call}"
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn validation_error_refuses_with_the_scripts_code_and_message() {
    let s = TestServer::start_scripts(
        &[("actions/01-v.js", "exports.onExecutePostLogin = async (e, api) => { api.validation.error('invalid_profile', 'Your profile is incomplete.'); };")],
        |_| {},
    )
    .await;
    assert_eq!(
        login_error(&s).await,
        (
            403,
            "invalid_profile".into(),
            "Your profile is incomplete.".into()
        )
    );
    s.stop().await;
}

fn insert_other_user(s: &TestServer) -> String {
    s.db(|db| {
        db.insert_user(
            &NewUser {
                connection: CONNECTION.into(),
                email: Some("primary@example.com".into()),
                email_verified: true,
                ..NewUser::default()
            },
            "2027-01-01T00:00:00.000Z",
        )
    })
    .user_id
}

#[tokio::test]
async fn set_primary_user_changes_sub_and_fails_for_an_unknown_user() {
    let action = "exports.onExecutePostLogin = async (e, api) => { api.authentication.setPrimaryUser(e.request.body.primary); };";
    let rule = "function (u, c, cb) { c.primaryUser = c.request.body.primary; cb(null, u, c); }";
    for (path, source) in [("actions/01-link.js", action), ("rules/01-link.js", rule)] {
        let s = TestServer::start_scripts(&[(path, source)], |_| {}).await;
        let primary = insert_other_user(&s);
        let (status, b) = s
            .login(&[
                ("audience", API),
                ("scope", "openid"),
                ("primary", &primary),
            ])
            .await;
        assert_eq!(status, 200, "{path}: {b}");
        let at = s.verify(b["access_token"].as_str().unwrap(), API).await;
        assert_eq!(at["sub"], primary.as_str(), "{path}");
        let (status, b) = s
            .login(&[("audience", API), ("primary", "auth0|nobody")])
            .await;
        assert_eq!(
            (status, b["error"].as_str()),
            (403, Some("access_denied")),
            "{path}: {b}"
        );
        assert_eq!(
            b["error_description"],
            "The primary user auth0|nobody does not exist."
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn metadata_is_visible_to_the_next_action_and_persisted_once() {
    let s = TestServer::start_scripts(
        &[
            ("actions/01-set.js", r#"exports.onExecutePostLogin = async (event, api) => {
                api.user.setAppMetadata('plan', 'pro').user.setUserMetadata('lang', 'nl');
                api.accessToken.setCustomClaim('https://t/own', event.user.app_metadata.plan || null);
            };"#),
            ("actions/02-see.js", r#"exports.onExecutePostLogin = async (event, api) => {
                api.accessToken.setCustomClaim('https://t/seen', [event.user.app_metadata.plan, event.user.user_metadata.lang]);
                api.user.setAppMetadata('plan', 'team');
            };"#),
        ],
        |_| {},
    )
    .await;
    let c = s.claims().await;
    assert_eq!(
        c["https://t/own"],
        Value::Null,
        "an Action's own event is unchanged"
    );
    assert_eq!(c["https://t/seen"], json!(["pro", "nl"]));
    let u = s.db(|db| db.user_by_id(&s.seed.user_id)).unwrap();
    assert_eq!(
        u.app_metadata["plan"], "team",
        "the last write is persisted"
    );
    assert_eq!(u.user_metadata["lang"], "nl");
    s.stop().await;
}

#[tokio::test]
async fn undefined_never_deletes_a_stored_key_and_null_does() {
    let s = TestServer::start_scripts(
        &[
            ("actions/01-set.js", r#"exports.onExecutePostLogin = async (event, api) => {
                api.user.setAppMetadata('role', undefined).user.setUserMetadata('city', null);
            };"#),
            ("actions/02-see.js", r#"exports.onExecutePostLogin = async (event, api) => {
                api.accessToken.setCustomClaim('https://t/seen', [event.user.app_metadata.role || null, 'city' in event.user.user_metadata]);
            };"#),
        ],
        |_| {},
    )
    .await;
    let seen = s.claims().await["https://t/seen"].clone();
    let u = s.db(|db| db.user_by_id(&s.seed.user_id)).unwrap();
    assert_eq!(
        u.app_metadata.get("role"),
        Some(&json!("admin")),
        "undefined kept the key"
    );
    assert!(
        u.user_metadata.get("city").is_none(),
        "null deleted the key"
    );
    assert_eq!(seen, json!(["admin", false]));
    s.stop().await;
}

#[tokio::test]
async fn metadata_over_auth0s_size_limit_fails_with_a_clear_error() {
    let s = TestServer::start_scripts(
        &[("actions/01-big.js", "exports.onExecutePostLogin = async (e, api) => { api.user.setUserMetadata('blob', 'x'.repeat(40000)); };")],
        |_| {},
    )
    .await;
    let (status, error, description) = login_error(&s).await;
    assert_eq!((status, error.as_str()), (403, "access_denied"));
    assert!(
        description.contains("user_metadata changes in one login are limited to 32 KB"),
        "{description}"
    );
    s.stop().await;
}

#[tokio::test]
async fn metadata_a_rule_persisted_is_what_the_actions_see() {
    let s = TestServer::start_scripts(
        &[
            ("rules/01-m.js", "function (user, context, callback) { auth0.users.updateAppMetadata(user.user_id, { plan: 'gold', role: null }).then(function () { callback(null, user, context); }, callback); }"),
            ("actions/01-see.js", "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://t/app', event.user.app_metadata); };"),
        ],
        |_| {},
    )
    .await;
    assert_eq!(
        s.claims().await["https://t/app"],
        json!({"organisation_id": "org_42", "plan": "gold"})
    );
    s.stop().await;
}

#[tokio::test]
async fn rules_management_api_accepts_a_callback() {
    let s = TestServer::start_scripts(
        &[(
            "rules/01-cb.js",
            r#"function (user, context, callback) {
            auth0.users.updateUserMetadata(user.user_id, { theme: 'dark' }, function (err) {
              if (err) return callback(err);
              auth0.users.updateAppMetadata(user.user_id, { 'bad.key': 1 }, function (err2) {
                context.accessToken['https://t/err2'] = err2 ? err2.message : null;
                callback(null, user, context);
              });
            });
        }"#,
        )],
        |_| {},
    )
    .await;
    let c = s.claims().await;
    assert_eq!(
        c["https://t/err2"],
        "Fields with \".\" or \"$\" are not allowed: bad.key"
    );
    let u = s.db(|db| db.user_by_id(&s.seed.user_id)).unwrap();
    assert_eq!(u.user_metadata["theme"], "dark");
    s.stop().await;
}

/// An Action that reports, against the documented list, the `event` members that are missing
/// and the top-level names the page does not document.
const WALK_EVENT: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  const doc = JSON.parse(event.request.body.doc);
  const get = (path) => path.split('.').reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), event);
  const missing = doc.required.filter((p) => get(p) === undefined);
  for (const [section, members] of Object.entries(doc.required_when_present)) {
    if (event[section] === undefined) continue;
    for (const m of members) if (event[section][m] === undefined) missing.push(section + '.' + m);
  }
  const extra = Object.keys(event).filter((k) => doc.top_level.indexOf(k) < 0);
  api.accessToken.setCustomClaim('https://t/event', { missing, extra });
};
"#;

#[tokio::test]
async fn event_object_has_every_required_member_of_auth0s_documentation() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/auth0-members/event.json"
    );
    let doc = std::fs::read_to_string(path).unwrap();
    let s = TestServer::start_scripts(&[("actions/01-walk.js", WALK_EVENT)], |_| {}).await;
    let (status, b) = s.login(&[("audience", API), ("doc", &doc)]).await;
    assert_eq!(status, 200, "{b}");
    let c = s.verify(b["access_token"].as_str().unwrap(), API).await;
    assert_eq!(
        c["https://t/event"],
        json!({"missing": [], "extra": []}),
        "event members against {path}"
    );
    s.stop().await;
}

#[tokio::test]
async fn primary_user_gets_its_own_rbac_permissions() {
    let action = "exports.onExecutePostLogin = async (e, api) => { api.authentication.setPrimaryUser(e.request.body.primary); };";
    let s = TestServer::start_scripts(&[("actions/01-link.js", action)], |_| {}).await;
    let primary = insert_other_user(&s);
    let api = s.insert_rbac_api();
    s.db(|db| {
        let reader = db.insert_role("reader", "")?;
        db.grant_role_permission(&reader, &api, "read:a")?;
        db.assign_role("reader", &s.seed.user_id)?;
        let writer = db.insert_role("writer", "")?;
        db.grant_role_permission(&writer, &api, "write:a")?;
        db.assign_role("writer", &primary)
    });
    let (status, b) = s
        .login(&[
            ("audience", "https://rbac.test"),
            ("scope", "read:a write:a"),
            ("primary", &primary),
        ])
        .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["scope"], "write:a");
    let c = s
        .verify(b["access_token"].as_str().unwrap(), "https://rbac.test")
        .await;
    assert_eq!(c["sub"], primary.as_str());
    assert_eq!(c["permissions"], json!(["write:a"]));
    s.stop().await;
}

/// A Rule that reports, against the documented list, the `context` members that are missing and
/// the names the page does not document.
const WALK_CONTEXT: &str = r#"
function (user, context, callback) {
  var doc = JSON.parse(context.request.body.doc);
  var known = doc.members.concat(Object.keys(doc.also));
  var missing = doc.members.filter(function (k) { return doc.conditional.indexOf(k) < 0 && !(k in context); });
  doc.request.forEach(function (k) { if (!(k in context.request)) missing.push('request.' + k); });
  var extra = Object.keys(context).filter(function (k) { return known.indexOf(k) < 0; });
  context.accessToken['https://t/context'] = { missing: missing, extra: extra };
  callback(null, user, context);
}
"#;

#[tokio::test]
async fn rules_context_has_every_member_of_auth0s_documentation() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/auth0-members/context.json"
    );
    let doc = std::fs::read_to_string(path).unwrap();
    let s = TestServer::start_scripts(&[("rules/01-walk.js", WALK_CONTEXT)], |_| {}).await;
    let (status, b) = s.login(&[("audience", API), ("doc", &doc)]).await;
    assert_eq!(status, 200, "{b}");
    let c = s.verify(b["access_token"].as_str().unwrap(), API).await;
    assert_eq!(
        c["https://t/context"],
        json!({"missing": [], "extra": []}),
        "context members against {path}"
    );
    s.stop().await;
}

/// A Rule that reports, against the documented list, the `user` members that are missing and the
/// names the page does not document.
const WALK_USER: &str = r#"
function (user, context, callback) {
  var doc = JSON.parse(context.request.body.doc);
  // The page: "properties within app_metadata are merged into the user object".
  var known = doc.members.concat(Object.keys(doc.also), Object.keys(user.app_metadata || {}));
  var missing = doc.members.filter(function (k) { return doc.conditional.indexOf(k) < 0 && !(k in user); });
  doc.identities.forEach(function (k) { if (!(k in user.identities[0])) missing.push('identities[0].' + k); });
  var extra = Object.keys(user).filter(function (k) { return known.indexOf(k) < 0; });
  context.accessToken['https://t/user'] = { missing: missing, extra: extra };
  callback(null, user, context);
}
"#;

#[tokio::test]
async fn rules_user_has_every_member_of_auth0s_documentation() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/auth0-members/user.json"
    );
    let doc = std::fs::read_to_string(path).unwrap();
    let s = TestServer::start_scripts(&[("rules/01-walk.js", WALK_USER)], |_| {}).await;
    let (status, b) = s.login(&[("audience", API), ("doc", &doc)]).await;
    assert_eq!(status, 200, "{b}");
    let c = s.verify(b["access_token"].as_str().unwrap(), API).await;
    assert_eq!(
        c["https://t/user"],
        json!({"missing": [], "extra": []}),
        "user members against {path}"
    );
    s.stop().await;
}
