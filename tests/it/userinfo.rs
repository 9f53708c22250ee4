//! `/userinfo` over HTTP: the claims each scope buys, GET and POST, and every refusal with its
//! RFC 6750 challenge.

use claimsmith::token::{Alg, KeyRing, StoredKey, generate};
use serde_json::{Value, json};

use crate::support::*;

/// The user info answer for `token` (`None`: no Authorization header): status, the
/// `WWW-Authenticate` header, `Cache-Control`, body.
async fn userinfo(
    s: &TestServer,
    post: bool,
    token: Option<&str>,
) -> (u16, Option<String>, Option<String>, Value) {
    let url = s.url("/userinfo");
    let mut r = if post {
        s.http.post(url)
    } else {
        s.http.get(url)
    };
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let r = r.send().await.expect("send");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (challenge, cache) = (header("www-authenticate"), header("cache-control"));
    (
        r.status().as_u16(),
        challenge,
        cache,
        r.json().await.unwrap(),
    )
}

/// The seed user's access token for `extra` parameters.
async fn access_token(s: &TestServer, extra: &[(&str, &str)]) -> String {
    let (status, body) = s.login(extra).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Asserts a 401 `invalid_token` whose challenge names the error and `description`.
fn assert_invalid_token(answer: (u16, Option<String>, Option<String>, Value), description: &str) {
    let (status, challenge, _, body) = answer;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body,
        json!({"error": "invalid_token", "error_description": description})
    );
    assert_eq!(
        challenge.as_deref(),
        Some(
            format!(
                "Bearer realm=\"claimsmith\", error=\"invalid_token\", error_description=\"{description}\""
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn userinfo_answers_the_claims_each_scope_allows_by_get_and_post() {
    let s = TestServer::start().await;
    let all = access_token(&s, &[("audience", API), ("scope", "openid profile email")]).await;
    let (status, challenge, cache, body) = userinfo(&s, false, Some(&all)).await;
    assert_eq!((status, challenge), (200, None), "{body}");
    assert_eq!(cache.as_deref(), Some("no-store"));
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "email",
            "email_verified",
            "name",
            "nickname",
            "preferred_username",
            "sub",
            "updated_at"
        ]
    );
    assert_eq!(body["sub"], s.seed.user_id.as_str());
    assert_eq!(
        (&body["name"], &body["email"]),
        (&json!("Ann Example"), &json!(EMAIL))
    );
    // What the ID token of such a login says, read by the same mapping.
    let (_, tokens) = s
        .login(&[("audience", API), ("scope", "openid profile email")])
        .await;
    let id = s
        .verify(tokens["id_token"].as_str().unwrap(), &s.seed.client_id)
        .await;
    for (k, v) in body.as_object().unwrap() {
        assert_eq!(&id[k], v, "{k}");
    }
    assert_eq!(userinfo(&s, true, Some(&all)).await.3, body, "POST");

    // `openid email` only: no profile claims; `openid` alone: `sub` only. A token for no API
    // (audience `<issuer>userinfo` only) is accepted too.
    let email = access_token(&s, &[("audience", API), ("scope", "openid email")]).await;
    assert_eq!(
        userinfo(&s, false, Some(&email)).await.3,
        json!({"sub": s.seed.user_id, "email": EMAIL, "email_verified": true})
    );
    // Tokens of APIs that sign ES256 and EdDSA verify with their own keys.
    for api in [API_ES, API_ED] {
        let token = access_token(&s, &[("audience", api), ("scope", "openid email")]).await;
        let alg = jsonwebtoken::decode_header(&token).unwrap().alg;
        assert_ne!(alg, jsonwebtoken::Algorithm::RS256);
        let answer = userinfo(&s, false, Some(&token)).await;
        assert_eq!(
            (answer.0, &answer.3["email"]),
            (200, &json!(EMAIL)),
            "{alg:?}"
        );
    }
    let bare = access_token(&s, &[("scope", "openid")]).await;
    assert_eq!(
        userinfo(&s, true, Some(&bare)).await.3,
        json!({"sub": s.seed.user_id})
    );
    // The user as it is now: a change after the login shows.
    s.db(|db| db.set_password_hash(&s.seed.user_id, "x", "2027-02-02T00:00:00.000Z"));
    assert_eq!(
        userinfo(&s, false, Some(&all)).await.3["updated_at"],
        "2027-02-02T00:00:00.000Z"
    );
    s.stop().await;
}

#[tokio::test]
async fn discovery_names_the_userinfo_endpoint_the_tokens_are_for() {
    let s = TestServer::start().await;
    let doc = s.discovery().await;
    let endpoint = format!("{ISSUER}userinfo");
    assert_eq!(doc["userinfo_endpoint"], endpoint.as_str());
    let token = access_token(&s, &[("audience", API), ("scope", "openid")]).await;
    let claims = s.verify(&token, &endpoint).await;
    assert_eq!(claims["aud"], json!([API, endpoint]));
    let r = s.http.delete(s.url("/userinfo")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    s.stop().await;
}

#[tokio::test]
async fn userinfo_refuses_missing_malformed_and_foreign_tokens_with_a_bearer_challenge() {
    let s = TestServer::start().await;
    // No token: a challenge without an error code (RFC 6750 §3.1).
    let (status, challenge, cache, body) = userinfo(&s, false, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"claimsmith\""));
    assert_eq!(cache.as_deref(), Some("no-store"));
    assert_eq!(body["error"], "unauthorized");
    let r = s
        .http
        .get(s.url("/userinfo"))
        .header("authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_invalid_token(
        userinfo(&s, false, Some("not-a-jwt")).await,
        "The access token is malformed.",
    );

    // The claims of a good token, signed by keys that are not the server's: one under a kid of
    // the server's (a forged signature), one under its own kid.
    let good = access_token(&s, &[("audience", API), ("scope", "openid profile")]).await;
    let claims = s.verify(&good, API).await;
    let server_kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
    for (kid, want) in [
        (
            server_kid.as_str(),
            "The access token signature is invalid.",
        ),
        (
            "foreign",
            "The access token was not signed by a key of this server.",
        ),
    ] {
        let key = generate(Alg::RS256, kid.into()).unwrap();
        let ring = KeyRing::load([StoredKey {
            kid,
            alg: "RS256",
            pkcs8: &key.pkcs8,
            published: true,
            signing: true,
        }])
        .unwrap();
        let forged = ring.sign(Alg::RS256, &claims).unwrap();
        assert_invalid_token(userinfo(&s, false, Some(&forged)).await, want);
    }
    // A token for an API without openid: `aud` is the API alone.
    let api_only = access_token(&s, &[("audience", API), ("scope", "read:x")]).await;
    assert_invalid_token(
        userinfo(&s, true, Some(&api_only)).await,
        "The access token is not valid for this audience.",
    );
    // A userinfo token without openid: 403 insufficient_scope naming the scope it needs.
    let no_openid = access_token(&s, &[("scope", "profile")]).await;
    let (status, challenge, _, body) = userinfo(&s, false, Some(&no_openid)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    assert!(
        challenge
            .unwrap()
            .ends_with("error=\"insufficient_scope\", error_description=\"The access token does not grant the openid scope.\", scope=\"openid\""),
    );
    s.stop().await;
}

#[tokio::test]
async fn userinfo_refuses_expired_tokens_and_gone_or_blocked_users() {
    let s = TestServer::start().await;
    let token = access_token(&s, &[("audience", API), ("scope", "openid")]).await;
    let exp = s.verify(&token, API).await["exp"].as_i64().unwrap();
    assert_eq!(userinfo(&s, false, Some(&token)).await.0, 200);
    // One second before expiry (the leeway is smaller) it is still good; past it, refused.
    s.state.clock.advance((exp - NOW_MS / 1000 - 1) * 1000);
    assert_eq!(userinfo(&s, false, Some(&token)).await.0, 200);
    s.state.clock.advance(6_000);
    assert_invalid_token(
        userinfo(&s, false, Some(&token)).await,
        "The access token expired.",
    );

    // A token of the server's own keys for a user that no longer exists.
    let now = s.state.clock.now_secs();
    let gone = s
        .state
        .keys
        .sign(
            Alg::RS256,
            &json!({"iss": ISSUER, "sub": "auth0|gone", "aud": format!("{ISSUER}userinfo"),
                "exp": now + 60, "iat": now, "scope": "openid"}),
        )
        .unwrap();
    assert_invalid_token(
        userinfo(&s, false, Some(&gone)).await,
        "The user of the access token does not exist.",
    );
    // A user an admin blocked after the login.
    let token = access_token(&s, &[("scope", "openid")]).await;
    s.db(|db| db.set_blocked(&s.seed.user_id, true, "t"));
    assert_invalid_token(userinfo(&s, false, Some(&token)).await, "user is blocked");
    s.stop().await;
}
