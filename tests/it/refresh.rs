//! Refresh tokens over HTTP: issued with `offline_access` only where allowed; the refresh grant
//! re-runs Rules and Actions, rotates, detects reuse (with and without the leeway), narrows
//! scopes, stops for blocked and deleted users and at the lifetimes; `/oauth/revoke`.

use serde_json::{Value, json};

use crate::support::*;

const ACTION: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  const t = event.refresh_token;
  api.accessToken.setCustomClaim('https://t/action', [event.transaction.protocol,
    event.stats.logins_count, event.transaction.requested_scopes,
    t ? [t.client_id === event.client.client_id, t.user_id === event.user.user_id,
         t.resource_servers[0].audience, typeof t.expires_at, typeof t.idle_expires_at] : null,
    event.request.body.refresh_token === undefined]);
};"#;

const RULE: &str = r#"function (user, context, callback) {
  context.accessToken['https://t/rule'] = context.protocol;
  callback(null, user, context);
}"#;

async fn offline(tweak: impl FnOnce(&mut claimsmith::config::Config)) -> Offline {
    offline_with(
        &[("actions/01-a.js", ACTION), ("rules/01-r.js", RULE)],
        tweak,
    )
    .await
}

fn invalid_grant() -> Value {
    json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
}

#[tokio::test]
async fn a_refresh_re_runs_the_scripts_rotates_and_a_reused_token_revokes_its_family() {
    let o = offline(|_| {}).await;
    let rt = o.refresh_token("openid offline_access read:x").await;
    let (status, body) = o.refresh(&rt, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid offline_access read:x");
    assert!(body["id_token"].is_string(), "{body}");
    let c = o.claims(&body).await;
    assert_eq!(c["https://t/rule"], "oauth2-refresh-token");
    assert_eq!(
        c["https://t/action"],
        json!([
            "oauth2-refresh-token",
            1,
            ["openid", "offline_access", "read:x"],
            [true, true, OFFLINE_API, "string", "string"],
            true
        ])
    );
    assert_eq!(c["gty"], "refresh_token");
    assert_eq!(c["sub"], o.s.seed.user_id.as_str());
    // Rotation: a new token; the presented one is spent.
    let next = body["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(next, rt);
    let (status, body) = o.refresh(&next, &[]).await;
    assert_eq!(status, 200, "{body}");
    let newest = body["refresh_token"].as_str().expect("rotated").to_owned();
    // Reuse of a rotated token: refused, and the whole family with it.
    assert_eq!(o.refresh(&rt, &[]).await, (403, invalid_grant()));
    assert_eq!(o.refresh(&newest, &[]).await, (403, invalid_grant()));
    // A password login is still counted once per login, never per refresh.
    let (_, body) = o.login("offline_access").await;
    assert_eq!(o.claims(&body).await["https://t/action"][1], 2);
}

#[tokio::test]
async fn within_the_leeway_only_the_token_rotated_last_may_be_exchanged_again() {
    let o = offline(|c| c.refresh_token_reuse_leeway_s = 30).await;
    let a = o.refresh_token("offline_access").await;
    let (status, body) = o.refresh(&a, &[]).await;
    assert_eq!(status, 200, "{body}");
    let b = body["refresh_token"].as_str().unwrap().to_owned();
    // A concurrent retry of `a` within the leeway gets tokens too.
    let (status, body) = o.refresh(&a, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string());
    // Once `b` is rotated, `a` is no longer the previous token: its reuse revokes the family.
    let (status, body) = o.refresh(&b, &[]).await;
    assert_eq!(status, 200, "{body}");
    let c = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(o.refresh(&a, &[]).await, (403, invalid_grant()));
    assert_eq!(o.refresh(&c, &[]).await, (403, invalid_grant()));
    // Past the leeway, even the token rotated last is reuse.
    let d = o.refresh_token("offline_access").await;
    let (_, body) = o.refresh(&d, &[]).await;
    let e = body["refresh_token"].as_str().unwrap().to_owned();
    o.s.state.clock.advance(31_000);
    assert_eq!(o.refresh(&d, &[]).await, (403, invalid_grant()));
    assert_eq!(o.refresh(&e, &[]).await, (403, invalid_grant()));
}

#[tokio::test]
async fn a_narrower_scope_narrows_the_tokens_and_never_widens_them() {
    let o = offline(|_| {}).await;
    let rt = o.refresh_token("openid offline_access read:x").await;
    let (status, body) = o.refresh(&rt, &[("scope", "read:x write:x")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read:x");
    assert!(
        body.get("id_token").is_none(),
        "no openid, no ID token: {body}"
    );
    let c = o.claims(&body).await;
    assert_eq!(c["scope"], "read:x");
    assert_eq!(c["https://t/action"][2], json!(["read:x"]));
    // The rotated token keeps the original grant.
    let next = body["refresh_token"].as_str().unwrap();
    let (status, body) = o.refresh(next, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid offline_access read:x");
}

#[tokio::test]
async fn refresh_tokens_are_issued_only_with_offline_access_where_allowed() {
    let o = offline(|_| {}).await;
    let (status, body) = o.login("openid read:x").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "not asked: {body}");
    // The seed API does not allow offline access; the seed client has no refresh grant.
    let (status, body) =
        o.s.token(&[
            ("grant_type", "password"),
            ("client_id", &o.client_id),
            ("client_secret", &o.secret),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", "offline_access read:x"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["scope"], "read:x");
    let (status, body) =
        o.s.login(&[
            ("audience", OFFLINE_API),
            ("scope", "offline_access read:x"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    // And a client without the grant may not exchange one.
    let rt = o.refresh_token("offline_access").await;
    let (status, body) =
        o.s.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &o.s.seed.client_id),
            ("client_secret", &o.s.seed.client_secret),
            ("refresh_token", &rt),
        ])
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn blocked_and_deleted_users_and_expired_tokens_cannot_refresh() {
    let o = offline(|c| {
        c.refresh_token_idle_lifetime_s = 100;
        c.refresh_token_lifetime_s = 250;
    })
    .await;
    let user = o.s.seed.user_id.clone();
    let rt = o.refresh_token("offline_access").await;
    let u = user.clone();
    o.s.db(move |db| db.set_blocked(&u, true, "t"));
    let (status, body) = o.refresh(&rt, &[]).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("unauthorized")),
        "{body}"
    );
    let u = user.clone();
    o.s.db(move |db| db.set_blocked(&u, false, "t"));
    // Idle: 100 s unused; absolute: 250 s after the login, however often it was used.
    o.s.state.clock.advance(99_000);
    let (status, body) = o.refresh(&rt, &[]).await;
    assert_eq!(status, 200, "{body}");
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    o.s.state.clock.advance(101_000);
    assert_eq!(o.refresh(&rt, &[]).await, (403, invalid_grant()));
    let rt = o.refresh_token("offline_access").await;
    let mut current = rt;
    for _ in 0..2 {
        o.s.state.clock.advance(90_000);
        let (status, body) = o.refresh(&current, &[]).await;
        assert_eq!(status, 200, "{body}");
        current = body["refresh_token"].as_str().unwrap().to_owned();
    }
    o.s.state.clock.advance(90_000);
    assert_eq!(o.refresh(&current, &[]).await, (403, invalid_grant()));
    // A deleted user's tokens are gone with it.
    let rt = o.refresh_token("offline_access").await;
    o.s.db(move |db| db.delete_user(&user));
    assert_eq!(o.refresh(&rt, &[]).await, (403, invalid_grant()));
}

#[tokio::test]
async fn revocation_ends_the_family_and_tells_nothing_about_other_tokens() {
    let o = offline(|_| {}).await;
    let rt = o.refresh_token("offline_access").await;
    let (_, body) = o.refresh(&rt, &[]).await;
    let next = body["refresh_token"].as_str().unwrap().to_owned();
    // Wrong secret: 401; missing token: 400; unknown token: 200 and nothing happens.
    let (status, body) = o.revoke(&next, "wrong").await;
    assert_eq!(status, 401, "{body}");
    let r =
        o.s.http
            .post(o.s.url("/oauth/revoke"))
            .form(&[("client_id", &o.client_id), ("client_secret", &o.secret)])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_description"],
        "Missing required parameter: token"
    );
    assert_eq!(
        o.revoke("no-such-token", &o.secret).await,
        (200, String::new())
    );
    // Another client cannot revoke it (and is told 200 all the same).
    let r =
        o.s.http
            .post(o.s.url("/oauth/revoke"))
            .form(&[
                ("client_id", o.s.seed.client_id.as_str()),
                ("client_secret", o.s.seed.client_secret.as_str()),
                ("token", &next),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = o.refresh(&next, &[]).await;
    assert_eq!(status, 200, "{body}");
    let latest = body["refresh_token"].as_str().unwrap().to_owned();
    // Revoking any token of the family ends all of it.
    assert_eq!(o.revoke(&latest, &o.secret).await, (200, String::new()));
    assert_eq!(o.refresh(&latest, &[]).await, (403, invalid_grant()));
    // Another client's token is refused by the grant too, even one with the refresh grant.
    let rt = o.refresh_token("offline_access").await;
    let (other, secret) = o.s.db(|db| add_client(db, &["refresh_token"]));
    let (status, body) =
        o.s.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &other),
            ("client_secret", &secret),
            ("refresh_token", &rt),
        ])
        .await;
    assert_eq!((status, body), (403, invalid_grant()));
    let (status, body) = o.refresh(&rt, &[]).await;
    assert_eq!(status, 200, "still its own client's: {body}");
}

const REFRESH_API: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  const b = event.request.body;
  if (event.transaction.protocol === 'oauth2-password') { api.refreshToken.setMetadata('device', 'phone'); return; }
  api.accessToken.setCustomClaim('https://t/rt', event.refresh_token.metadata);
  if (b.revoke) api.refreshToken.revoke('stolen');
  if (b.expires) api.refreshToken.setExpiresAt(Number(b.expires));
  if (b.idle) api.refreshToken.setIdleExpiresAt(Number(b.idle));
  if (b.seen) api.refreshToken.setMetadata('seen', b.seen);
  if (b.forget) api.refreshToken.deleteMetadata('device');
};"#;

#[tokio::test]
async fn actions_read_and_shape_the_refresh_token_through_api_refresh_token() {
    let o = offline_with(&[("actions/01-rt.js", REFRESH_API)], |_| {}).await;
    // Metadata set at the login is on the first token; each exchange carries it on.
    let rt = o.refresh_token("offline_access").await;
    let (status, body) = o.refresh(&rt, &[("seen", "1")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        o.claims(&body).await["https://t/rt"],
        json!({"device": "phone"})
    );
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let (_, body) = o.refresh(&rt, &[("forget", "1")]).await;
    assert_eq!(
        o.claims(&body).await["https://t/rt"],
        json!({"device": "phone", "seen": "1"})
    );
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let (_, body) = o.refresh(&rt, &[]).await;
    assert_eq!(o.claims(&body).await["https://t/rt"], json!({"seen": "1"}));
    // An earlier absolute expiry holds for the family; an idle expiry for the next token.
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let soon = (NOW_MS + 10_000).to_string();
    let (_, body) = o.refresh(&rt, &[("expires", &soon)]).await;
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = o.refresh(&rt, &[]).await;
    assert_eq!(status, 200, "{body}");
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    o.s.state.clock.advance(10_000);
    assert_eq!(o.refresh(&rt, &[]).await, (403, invalid_grant()));
    let rt = o.refresh_token("offline_access").await;
    let idle = (NOW_MS + 10_000 + 5_000).to_string();
    let (_, body) = o.refresh(&rt, &[("idle", &idle)]).await;
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    o.s.state.clock.advance(5_000);
    assert_eq!(o.refresh(&rt, &[]).await, (403, invalid_grant()));
    // revoke(reason) denies with the reason and ends the family.
    let rt = o.refresh_token("offline_access").await;
    let (_, body) = o.refresh(&rt, &[]).await;
    let next = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = o.refresh(&next, &[("revoke", "1")]).await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"error": "access_denied", "error_description": "stolen"})
        )
    );
    assert_eq!(o.refresh(&next, &[]).await, (403, invalid_grant()));
}

#[tokio::test]
async fn two_exchanges_of_one_token_at_once_leave_one_answer_and_revoke_the_family() {
    let o = std::sync::Arc::new(offline(|_| {}).await);
    let rt = o.refresh_token("offline_access").await;
    let (a, b) = tokio::join!(o.refresh(&rt, &[]), o.refresh(&rt, &[]));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 403], "{a:?} {b:?}");
    let issued = [a, b]
        .into_iter()
        .find(|(s, _)| *s == 200)
        .map(|(_, body)| body["refresh_token"].as_str().unwrap().to_owned())
        .unwrap();
    // Whichever way they raced, the second exchange was reuse: the whole family is revoked.
    assert_eq!(o.refresh(&issued, &[]).await, (403, invalid_grant()));
}
