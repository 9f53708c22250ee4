//! The Management API's users subset over HTTP: bearer and scope checks in Auth0's error shape,
//! create / read / list / by email / update / delete, the connection's password policy, and the
//! original flow: a backend creates a user with metadata, and that user's password login carries
//! it; many PATCHes of one user at once lose nothing.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::*;

/// A server and a client-credentials token for its Management API with `scopes`.
async fn mgmt(scopes: &[&str]) -> (Arc<TestServer>, String) {
    let s = TestServer::start().await;
    let token = mgmt_token(&s, scopes).await;
    (Arc::new(s), token)
}

pub(crate) async fn mgmt_token(s: &TestServer, scopes: &[&str]) -> String {
    let aud = format!("{ISSUER}api/v2/");
    let scopes: Vec<String> = scopes.iter().map(|x| (*x).to_owned()).collect();
    let a = aud.clone();
    let (id, secret) = s.db(move |db| {
        let c = add_client(db, &["client_credentials"])?;
        db.set_client_grant(&c.0, &a, &scopes)?;
        Ok(c)
    });
    let (status, body) = s
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("audience", &aud),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// One call: (status, JSON body or null).
pub(crate) async fn call(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = s.http.request(method.parse().unwrap(), s.url(path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `POST /api/v2/users` of [`new_user`] with `email`.
async fn create_user(s: &TestServer, token: &str, email: &str) -> (u16, Value) {
    call(
        s,
        "POST",
        "/api/v2/users",
        Some(token),
        Some(new_user(email)),
    )
    .await
}

const ALL: &[&str] = &["create:users", "read:users", "update:users", "delete:users"];

fn new_user(email: &str) -> Value {
    json!({
        "connection": CONNECTION,
        "email": email,
        "password": "Str0ng-enough!",
        "email_verified": true,
        "given_name": "Bea",
        "user_metadata": {"city": "Utrecht", "province": "Utrecht"},
        "app_metadata": {"role": "editor", "organisation_id": "org_7"},
    })
}

#[tokio::test]
async fn every_call_needs_a_valid_token_for_the_management_api_with_its_scope() {
    let (s, read_only) = mgmt(&["read:users"]).await;
    let e = |status: u16, error: &str, message: &str, code: Option<&str>| {
        let mut b = json!({"statusCode": status, "error": error, "message": message});
        if let Some(c) = code {
            b["errorCode"] = c.into();
        }
        (status, b)
    };
    assert_eq!(
        call(&s, "GET", "/api/v2/users", None, None).await,
        e(401, "Unauthorized", "Missing authentication", None)
    );
    let invalid = e(401, "Unauthorized", "Invalid token", Some("invalid_token"));
    assert_eq!(
        call(&s, "GET", "/api/v2/users", Some("nope"), None).await,
        invalid
    );
    // A token for another API, though signed by this server.
    let (_, login) = s.login(&[("audience", API)]).await;
    let other = login["access_token"].as_str().unwrap();
    assert_eq!(
        call(&s, "GET", "/api/v2/users", Some(other), None).await,
        invalid
    );
    assert_eq!(
        call(&s, "GET", "/api/v2/users", Some(&read_only), None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/v2/users",
            Some(&read_only),
            Some(new_user("x@example.com"))
        )
        .await,
        e(
            403,
            "Forbidden",
            "Insufficient scope, expected any of: create:users",
            Some("insufficient_scope")
        )
    );
    assert_eq!(
        call(&s, "GET", "/api/v2/roles-nope", Some(&read_only), None)
            .await
            .0,
        404
    );
    // No user can log in to the Management API: its tokens are for clients only.
    let mgmt_aud = format!("{ISSUER}api/v2/");
    let (status, body) = s
        .login(&[("audience", &mgmt_aud), ("scope", "delete:users")])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("access_denied")),
        "{body}"
    );
    s.state.clock.advance(86_406_000);
    assert_eq!(
        call(&s, "GET", "/api/v2/users", Some(&read_only), None).await,
        e(
            401,
            "Unauthorized",
            "Expired token received for JSON Web Token validation",
            Some("invalid_token")
        )
    );
}

#[tokio::test]
async fn a_backend_creates_a_user_whose_login_then_carries_its_metadata() {
    let (s, token) = mgmt(ALL).await;
    let (status, user) = create_user(&s, &token, "Bea@Example.com").await;
    assert_eq!(status, 201, "{user}");
    let id = user["user_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("auth0|"), "{id}");
    assert_eq!(user["email"], "bea@example.com");
    assert_eq!(user["identities"][0]["connection"], CONNECTION);
    assert_eq!(user["identities"][0]["provider"], "auth0");
    assert_eq!(user["user_metadata"]["city"], "Utrecht");
    assert_eq!(user["logins_count"], 0);
    // The same user again is a conflict.
    let (status, body) = create_user(&s, &token, "bea@example.com").await;
    assert_eq!(
        (status, &body["errorCode"]),
        (409, &json!("auth0_idp_error"))
    );
    // Its password login: the sample scripts put role, organisation id, email and user id in.
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", "bea@example.com"),
            ("password", "Str0ng-enough!"),
            ("audience", API),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let c = s.verify(body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(c["sub"], id.as_str());
    let claims = c.to_string();
    for want in ["\"editor\"", "\"org_7\"", "\"bea@example.com\""] {
        assert!(claims.contains(want), "{want} in {claims}");
    }
    let (status, got) = call(
        &s,
        "GET",
        &format!("/api/v2/users/{}", id.replace('|', "%7C")),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["logins_count"], 1);
    assert!(got["last_login"].is_string());
}

#[tokio::test]
async fn create_validates_the_body_the_connection_and_its_password_policy() {
    let (s, token) = mgmt(ALL).await;
    let post = |b: Value| call(&s, "POST", "/api/v2/users", Some(&token), Some(b));
    let (status, body) = post(json!({"email": "a@x", "password": "p"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Payload validation error: 'Missing required property: connection'."
    );
    assert_eq!(body["errorCode"], "invalid_body");
    let (status, body) = post(json!({"connection": "Nope", "email": "a@x", "password": "p"})).await;
    assert_eq!(
        (status, &body["errorCode"]),
        (400, &json!("inexistent_connection"))
    );
    let (status, body) = post(
        json!({"connection": CONNECTION, "email": "a@x", "password": "p", "user_metadata": [1]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    s.db(|db| {
        let c = db.connection_by_name(CONNECTION)?.unwrap();
        let options = json!({"passwordPolicy": "good"});
        db.update_connection(&c.id, None, options.as_object())
    });
    let (status, body) =
        post(json!({"connection": CONNECTION, "email": "weak@x", "password": "password"})).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"statusCode": 400, "error": "Bad Request", "message": "PasswordStrengthError: Password is too weak"})
        )
    );
    assert_eq!(post(new_user("strong@example.com")).await.0, 201);
}

#[tokio::test]
async fn users_are_read_listed_found_by_email_updated_and_deleted() {
    let (s, token) = mgmt(ALL).await;
    let t = Some(token.as_str());
    for i in 0..3 {
        assert_eq!(
            call(
                &s,
                "POST",
                "/api/v2/users",
                t,
                Some(new_user(&format!("u{i}@example.com")))
            )
            .await
            .0,
            201
        );
    }
    // The seed user and three more.
    let (_, page) = call(
        &s,
        "GET",
        "/api/v2/users?per_page=2&page=1&include_totals=true",
        t,
        None,
    )
    .await;
    assert_eq!(
        (
            page["total"].clone(),
            page["start"].clone(),
            page["limit"].clone(),
            page["length"].clone()
        ),
        (json!(4), json!(2), json!(2), json!(2))
    );
    let (_, found) = call(
        &s,
        "GET",
        "/api/v2/users?q=email%3A%22U1%40example.com%22&fields=email,user_id",
        t,
        None,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(
        found[0].as_object().unwrap().len(),
        2,
        "only the fields asked: {found}"
    );
    let id = found[0]["user_id"].as_str().unwrap().to_owned();
    let (_, by_email) = call(
        &s,
        "GET",
        "/api/v2/users-by-email?email=u1%40example.com",
        t,
        None,
    )
    .await;
    assert_eq!(by_email[0]["user_id"], id.as_str());
    let (status, body) = call(&s, "GET", "/api/v2/users?q=name%3Abea*", t, None).await;
    assert_eq!(status, 400, "{body}");
    // PATCH: metadata merged one level deep, null deletes, a new password, blocked.
    let path = format!("/api/v2/users/{}", id.replace('|', "%7C"));
    let (status, u) = call(
        &s,
        "PATCH",
        &path,
        t,
        Some(json!({
            "user_metadata": {"city": null, "lang": "nl"},
            "app_metadata": {"role": "admin"},
            "password": "An0ther-one!",
            "name": "U One",
        })),
    )
    .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(
        u["user_metadata"],
        json!({"province": "Utrecht", "lang": "nl"})
    );
    assert_eq!(
        u["app_metadata"],
        json!({"role": "admin", "organisation_id": "org_7"})
    );
    assert_eq!(u["name"], "U One");
    let login = |password: &'static str| {
        let s = s.clone();
        async move {
            s.token(&[
                ("grant_type", "password"),
                ("client_id", &s.seed.client_id),
                ("client_secret", &s.seed.client_secret),
                ("username", "u1@example.com"),
                ("password", password),
            ])
            .await
            .0
        }
    };
    assert_eq!(
        login("Str0ng-enough!").await,
        403,
        "the old password is gone"
    );
    assert_eq!(login("An0ther-one!").await, 200);
    assert_eq!(
        call(&s, "PATCH", &path, t, Some(json!({"blocked": true})))
            .await
            .0,
        200
    );
    assert_eq!(login("An0ther-one!").await, 401);
    assert_eq!(call(&s, "DELETE", &path, t, None).await, (204, Value::Null));
    let (status, body) = call(&s, "GET", &path, t, None).await;
    assert_eq!(
        (status, &body["errorCode"]),
        (404, &json!("inexistent_user"))
    );
    assert_eq!(call(&s, "DELETE", &path, t, None).await.0, 404);
}

#[tokio::test]
async fn concurrent_patches_of_distinct_metadata_keys_all_survive() {
    let (s, token) = mgmt(ALL).await;
    let (_, user) = create_user(&s, &token, "c@example.com").await;
    let path = format!(
        "/api/v2/users/{}",
        user["user_id"].as_str().unwrap().replace('|', "%7C")
    );
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (s, token, path) = (s.clone(), token.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("k{i}");
            call(
                &s,
                "PATCH",
                &path,
                Some(&token),
                Some(json!({"user_metadata": {key: i}})),
            )
            .await
            .0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let (_, u) = call(&s, "GET", &path, Some(&token), None).await;
    for i in 0..24 {
        assert_eq!(u["user_metadata"][format!("k{i}")], i, "{u}");
    }
    assert_eq!(u["user_metadata"]["city"], "Utrecht");
}

const ACCESS: &[&str] = &[
    "create:users",
    "read:roles",
    "create:roles",
    "create:role_members",
    "delete:role_members",
    "read:organizations",
    "read:organization_members",
    "create:organization_members",
];

#[tokio::test]
async fn a_backend_gives_a_user_a_role_and_an_organization_that_its_login_then_carries() {
    let (s, token) = mgmt(ACCESS).await;
    let t = Some(token.as_str());
    let (_, user) = create_user(&s, &token, "r@example.com").await;
    let id = user["user_id"].as_str().unwrap().to_owned();
    let path = id.replace('|', "%7C");
    let (status, role) = call(
        &s,
        "POST",
        "/api/v2/roles",
        t,
        Some(json!({"name": "reviewer", "description": "edits"})),
    )
    .await;
    assert_eq!(status, 200, "{role}");
    let role_id = role["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/v2/roles",
            t,
            Some(json!({"name": "reviewer"}))
        )
        .await
        .0,
        409
    );
    let (_, roles) = call(&s, "GET", "/api/v2/roles", t, None).await;
    assert_eq!(
        roles,
        json!([{"id": role_id, "name": "reviewer", "description": "edits"}])
    );
    let org = s.db(|db| db.insert_org("acme", "Acme", &Default::default(), "t"));
    assert_eq!(
        call(
            &s,
            "POST",
            &format!("/api/v2/users/{path}/roles"),
            t,
            Some(json!({"roles": [role_id]}))
        )
        .await,
        (204, Value::Null)
    );
    assert_eq!(
        call(
            &s,
            "POST",
            &format!("/api/v2/organizations/{}/members", org.id),
            t,
            Some(json!({"members": [id]}))
        )
        .await,
        (204, Value::Null)
    );
    let (_, mine) = call(&s, "GET", &format!("/api/v2/users/{path}/roles"), t, None).await;
    assert_eq!(mine[0]["name"], "reviewer");
    let (_, orgs) = call(&s, "GET", "/api/v2/organizations", t, None).await;
    assert_eq!(orgs[0]["name"], "acme");
    let (_, members) = call(
        &s,
        "GET",
        &format!("/api/v2/organizations/{}/members", org.id),
        t,
        None,
    )
    .await;
    assert_eq!(
        members,
        json!([{"user_id": id, "email": "r@example.com", "name": "r@example.com"}])
    );
    // The login in the organization carries the role, the organization and the metadata.
    let login = |org: Option<&'static str>| {
        let s = s.clone();
        async move {
            let mut p = vec![
                ("grant_type", "password"),
                ("client_id", s.seed.client_id.as_str()),
                ("client_secret", s.seed.client_secret.as_str()),
                ("username", "r@example.com"),
                ("password", "Str0ng-enough!"),
                ("audience", API),
            ];
            if let Some(o) = org {
                p.push(("organization", o));
            }
            let (status, body) = s.token(&p).await;
            assert_eq!(status, 200, "{body}");
            s.verify(body["access_token"].as_str().unwrap(), API).await
        }
    };
    let c = login(Some("acme")).await;
    assert_eq!(c["org_id"], org.id.as_str());
    assert!(c.to_string().contains("[\"reviewer\"]"), "{c}");
    // Unknown role or user: 404; a malformed body: 400.
    let (status, body) = call(
        &s,
        "POST",
        &format!("/api/v2/users/{path}/roles"),
        t,
        Some(json!({"roles": ["rol_nope"]})),
    )
    .await;
    assert_eq!(
        (status, &body["errorCode"]),
        (404, &json!("inexistent_role"))
    );
    assert_eq!(
        call(
            &s,
            "POST",
            &format!("/api/v2/users/{path}/roles"),
            t,
            Some(json!({"roles": []}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(&s, "GET", "/api/v2/users/auth0%7Cnope/roles", t, None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&s, "GET", "/api/v2/organizations/org_nope/members", t, None)
            .await
            .0,
        404
    );
    // Taking the role back.
    assert_eq!(
        call(
            &s,
            "DELETE",
            &format!("/api/v2/users/{path}/roles"),
            t,
            Some(json!({"roles": [role_id]}))
        )
        .await
        .0,
        204
    );
    assert!(!login(None).await.to_string().contains("reviewer"));
}
