//! Successful password grants: both grant types, both body types, the three client
//! authentication methods, the claims of both tokens, and the login bookkeeping.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn password_grant_form_body_issues_an_rs256_token_with_auth0_claims() {
    let s = TestServer::start().await;
    let (status, body) = s
        .login(&[("audience", API), ("scope", "openid read:x bogus")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid read:x");
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(at).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
    let c = s.verify(at, API).await;
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(c["sub"], s.seed.user_id.as_str());
    assert_eq!(c["aud"], json!([API, format!("{ISSUER}userinfo")]));
    assert_eq!(c["azp"], s.seed.client_id.as_str());
    assert_eq!(c["scope"], "openid read:x");
    assert_eq!(c["gty"], "password");
    assert_eq!(c["iat"], NOW_MS / 1000);
    assert_eq!(c["exp"], NOW_MS / 1000 + 3600);
    s.stop().await;
}

#[tokio::test]
async fn json_body_and_password_realm_grant() {
    let s = TestServer::start().await;
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .json(&json!({
            "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
            "realm": CONNECTION,
            "client_id": s.seed.client_id,
            "client_secret": s.seed.client_secret,
            "username": "ann",
            "password": PASSWORD,
            "audience": API,
            "scope": ["read:x", "write:x"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "read:x write:x");
    let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(c["aud"], API, "no openid, so a single audience");
    assert!(body.get("id_token").is_none());
    s.stop().await;
}

#[tokio::test]
async fn client_secret_basic_and_public_clients_authenticate() {
    let s = TestServer::start().await;
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .basic_auth(&s.seed.client_id, Some(&s.seed.client_secret))
        .form(&[
            ("grant_type", "password"),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.public_client_id),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("audience", API),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(c["azp"], s.seed.public_client_id.as_str());
    s.stop().await;
}

#[tokio::test]
async fn no_scope_grants_every_api_scope_and_no_audience_means_userinfo() {
    let s = TestServer::start().await;
    let (_, body) = s.login(&[("audience", API)]).await;
    assert_eq!(body["scope"], "read:x write:x");
    let (status, body) = s.login(&[("scope", "openid")]).await;
    assert_eq!(status, 200);
    let userinfo = format!("{ISSUER}userinfo");
    let c = s
        .verify(body["access_token"].as_str().unwrap(), &userinfo)
        .await;
    assert_eq!(c["aud"], userinfo.as_str());
    assert_eq!(body["expires_in"], 86_400);
    s.stop().await;
}

#[tokio::test]
async fn id_token_has_client_audience_and_scope_gated_profile_claims() {
    let s = TestServer::start().await;
    let (_, body) = s
        .login(&[("audience", API), ("scope", "openid email")])
        .await;
    let id = s
        .verify(body["id_token"].as_str().unwrap(), &s.seed.client_id)
        .await;
    assert_eq!(id["sub"], s.seed.user_id.as_str());
    assert_eq!(id["email"], EMAIL);
    assert_eq!(id["email_verified"], true);
    assert!(
        id.get("name").is_none(),
        "profile claims need the profile scope: {id}"
    );
    assert_eq!(id["exp"], NOW_MS / 1000 + 36_000);
    let (_, body) = s.login(&[("scope", "openid profile")]).await;
    let id = s
        .verify(body["id_token"].as_str().unwrap(), &s.seed.client_id)
        .await;
    assert_eq!(id["name"], "Ann Example");
    assert_eq!(id["nickname"], "ann");
    assert!(id.get("email").is_none());
    s.stop().await;
}

#[tokio::test]
async fn es256_and_eddsa_apis_sign_with_their_algorithm() {
    let s = TestServer::start().await;
    for (aud, alg) in [
        (API_ES, jsonwebtoken::Algorithm::ES256),
        (API_ED, jsonwebtoken::Algorithm::EdDSA),
    ] {
        let (status, body) = s.login(&[("audience", aud)]).await;
        assert_eq!(status, 200, "{body}");
        let at = body["access_token"].as_str().unwrap();
        assert_eq!(jsonwebtoken::decode_header(at).unwrap().alg, alg);
        assert_eq!(s.verify(at, aud).await["sub"], s.seed.user_id.as_str());
    }
    s.stop().await;
}

#[tokio::test]
async fn login_updates_count_time_and_ip_and_bcrypt_or_argon2_both_verify() {
    let s = TestServer::start().await;
    for _ in 0..2 {
        assert_eq!(s.login(&[]).await.0, 200);
    }
    let u = s.db(|db| db.user_by_id(&s.seed.user_id)).unwrap();
    assert_eq!(u.logins_count, 2);
    assert_eq!(u.last_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(u.last_login.as_deref(), Some("2027-01-15T08:00:00.000Z"));
    let hash = claimsmith::credentials::hash_password("argon pw").unwrap();
    s.db(|db| db.set_password_hash(&s.seed.user_id, &hash, "t"));
    let (status, _) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", EMAIL),
            ("password", "argon pw"),
        ])
        .await;
    assert_eq!(status, 200);
    s.stop().await;
}

#[tokio::test]
async fn organization_member_gets_org_claims() {
    let s = TestServer::start().await;
    let org = s.db(|db| db.insert_org("acme", "Acme", &Default::default(), "t"));
    s.db(|db| db.add_member(&org.id, &s.seed.user_id));
    let (status, body) = s
        .login(&[("audience", API), ("organization", "acme")])
        .await;
    assert_eq!(status, 200, "{body}");
    let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(c["org_id"], org.id.as_str());
    assert_eq!(c["org_name"], "acme");
    s.stop().await;
}

#[tokio::test]
async fn rbac_limits_scopes_to_permissions_and_adds_them_to_the_token() {
    let s = TestServer::start().await;
    let api = s.insert_rbac_api();
    s.db(|db| {
        let role = db.insert_role("reader", "")?;
        db.grant_role_permission(&role, &api, "read:a")?;
        db.assign_role("reader", &s.seed.user_id)
    });
    let (status, body) = s
        .login(&[
            ("audience", "https://rbac.test"),
            ("scope", "read:a write:a"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read:a");
    let c = s
        .verify(body["access_token"].as_str().unwrap(), "https://rbac.test")
        .await;
    assert_eq!(c["permissions"], json!(["read:a"]));
    s.stop().await;
}

#[tokio::test]
async fn discovery_and_health_describe_the_server() {
    let s = TestServer::start().await;
    let d = s.discovery().await;
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(d["token_endpoint"], format!("{ISSUER}oauth/token"));
    assert_eq!(d["jwks_uri"], format!("{ISSUER}.well-known/jwks.json"));
    assert_eq!(d["userinfo_endpoint"], format!("{ISSUER}userinfo"));
    assert!(
        d["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("password"))
    );
    let jwks: Value = s
        .http
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for k in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                k.get(private).is_none(),
                "private part {private} served: {k}"
            );
        }
    }
    let h: Value = s
        .http
        .get(s.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    s.stop().await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_login_finish_and_refuses_new_connections() {
    let mut s = TestServer::start().await;
    // A slow hash keeps the login in flight long enough to shut down under it.
    let slow = bcrypt::hash(PASSWORD, 12).unwrap();
    s.db(|db| db.set_password_hash(&s.seed.user_id, &slow, "t"));
    let (http, url) = (s.http.clone(), s.url("/oauth/token"));
    let params = [
        ("grant_type", "password".to_owned()),
        ("client_id", s.seed.client_id.clone()),
        ("client_secret", s.seed.client_secret.clone()),
        ("username", EMAIL.to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let login = tokio::spawn(async move {
        http.post(url)
            .form(&params)
            .send()
            .await
            .map(|r| r.status())
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.state.token_requests.get() == 0 {
        assert!(std::time::Instant::now() < deadline, "login never started");
        tokio::task::yield_now().await;
    }
    let base = s.base.clone();
    s.begin_shutdown();
    // Read after the signal was sent: the login was still in flight when shutdown began.
    assert!(
        s.state.token_requests.get() >= 1,
        "the login finished before shutdown began; the test proves nothing"
    );
    let status = login
        .await
        .unwrap()
        .expect("the in-flight login got an answer");
    assert_eq!(status, 200);
    s.join().await;
    let fresh = http_client().get(format!("{base}/healthz")).send().await;
    assert!(
        fresh.is_err(),
        "a new connection after shutdown must be refused"
    );
}
