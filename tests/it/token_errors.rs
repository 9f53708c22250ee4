//! Every row of the Decisions table that the password grants can reach, as the client sees it:
//! status, `error`, `error_description`, and the headers of RFC 6749 §5.1.

use serde_json::Value;

use crate::support::*;

fn assert_error(status: u16, body: &Value, want_status: u16, error: &str, description: &str) {
    assert_eq!(
        (status, body["error"].as_str()),
        (want_status, Some(error)),
        "{body}"
    );
    assert_eq!(body["error_description"], description, "{body}");
}

#[tokio::test]
async fn wrong_password_unknown_user_and_other_connection_are_indistinguishable() {
    let s = TestServer::start().await;
    s.db(|db| {
        db.ensure_connection("other", "t")?;
        db.insert_user(
            &claimsmith::store::NewUser {
                connection: "other".into(),
                email: Some("bob@example.com".into()),
                password_hash: Some(bcrypt::hash("pw", 4).unwrap()),
                ..Default::default()
            },
            "t",
        )
    });
    let cases: [&[(&str, &str)]; 3] = [
        &[("username", EMAIL), ("password", "wrong")],
        &[("username", "nobody@example.com"), ("password", PASSWORD)],
        &[("username", "bob@example.com"), ("password", "pw")],
    ];
    let mut bodies = Vec::new();
    for case in cases {
        let mut p = vec![
            ("grant_type", "password"),
            ("client_id", s.seed.client_id.as_str()),
            ("client_secret", s.seed.client_secret.as_str()),
        ];
        p.extend_from_slice(case);
        let (status, body) = s.token(&p).await;
        assert_error(
            status,
            &body,
            403,
            "invalid_grant",
            "Wrong email or password.",
        );
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    s.stop().await;
}

#[tokio::test]
async fn client_authentication_failures() {
    let s = TestServer::start().await;
    let base = |id: &str| {
        vec![
            ("grant_type", "password".to_owned()),
            ("client_id", id.to_owned()),
            ("username", EMAIL.to_owned()),
            ("password", PASSWORD.to_owned()),
        ]
    };
    for (id, secret) in [
        ("nope", Some("x")),
        (s.seed.client_id.as_str(), Some("wrong")),
        (s.seed.client_id.as_str(), None),
        (s.seed.public_client_id.as_str(), Some("x")),
    ] {
        let mut p = base(id);
        if let Some(secret) = secret {
            p.push(("client_secret", secret.to_owned()));
        }
        let r = s
            .http
            .post(s.url("/oauth/token"))
            .form(&p)
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("www-authenticate").is_none());
        let status = r.status().as_u16();
        assert_error(
            status,
            &r.json().await.unwrap(),
            401,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .basic_auth(&s.seed.client_id, Some("wrong"))
        .form(&[
            ("grant_type", "password"),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["www-authenticate"],
        "Basic realm=\"claimsmith\""
    );
    assert_error(
        401,
        &r.json().await.unwrap(),
        401,
        "invalid_client",
        "Client authentication failed.",
    );
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .basic_auth(&s.seed.client_id, Some(&s.seed.client_secret))
        .form(&[
            ("grant_type", "password"),
            ("client_secret", s.seed.client_secret.as_str()),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    s.stop().await;
}

#[tokio::test]
async fn grant_and_parameter_errors() {
    let s = TestServer::start().await;
    let (status, body) = s.token(&[("grant_type", "magic")]).await;
    assert_error(
        status,
        &body,
        400,
        "unsupported_grant_type",
        "Grant type not supported: magic",
    );
    let (status, body) = s.token(&[("client_id", "x")]).await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Missing required parameter: grant_type",
    );
    let (status, body) = s
        .token(&[("grant_type", "password"), ("client_id", &s.seed.client_id)])
        .await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Missing required parameter: username",
    );
    let (status, body) = s
        .token(&[("grant_type", "password"), ("grant_type", "password")])
        .await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Parameter grant_type must not be repeated.",
    );
    let (status, body) = s
        .login(&[(
            "grant_type",
            "http://auth0.com/oauth/grant-type/password-realm",
        )])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "grant_type repeated: {body}"
    );
    s.db(|db| {
        db.insert_client(
            &claimsmith::store::NewClient {
                client_id: "m2m".into(),
                name: "m2m".into(),
                secret_hash: Some(claimsmith::credentials::hash_secret("s")),
                app_type: "non_interactive".into(),
                grant_types: vec!["client_credentials".into()],
                metadata: Default::default(),
                auth_method: claimsmith::store::ClientAuth::ClientSecretPost,
                trusted_forwarded_for: false,
                connections: vec![],
            },
            "t",
        )
    });
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", "m2m"),
            ("client_secret", "s"),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .await;
    assert_error(
        status,
        &body,
        403,
        "unauthorized_client",
        "Grant type 'password' not allowed for the client.",
    );
    s.stop().await;
}

#[tokio::test]
async fn realm_audience_and_organization_errors() {
    let s = TestServer::start().await;
    let realm = "http://auth0.com/oauth/grant-type/password-realm";
    let p = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![
            ("client_id", s.seed.client_id.clone()),
            ("client_secret", s.seed.client_secret.clone()),
            ("username", EMAIL.to_owned()),
            ("password", PASSWORD.to_owned()),
        ];
        v.extend(extra.iter().map(|(a, b)| (*a, b.to_string())));
        v
    };
    let send = |params: Vec<(&'static str, String)>| {
        let r = s.http.post(s.url("/oauth/token")).form(&params).send();
        async move {
            let r = r.await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send(p(&[("grant_type", realm), ("realm", "Nope")])).await;
    assert_error(status, &body, 400, "invalid_request", "Unknown realm Nope.");
    let (status, body) = send(p(&[("grant_type", realm)])).await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Missing required parameter: realm",
    );
    let (status, body) = send(p(&[
        ("grant_type", "password"),
        ("audience", "https://unknown"),
    ]))
    .await;
    assert_error(
        status,
        &body,
        403,
        "access_denied",
        "Service not enabled within domain: https://unknown",
    );
    s.db(|db| db.insert_org("acme", "Acme", &Default::default(), "t"));
    for org in ["acme", "ghost"] {
        let (status, body) = send(p(&[("grant_type", "password"), ("organization", org)])).await;
        assert_error(
            status,
            &body,
            403,
            "access_denied",
            "User is not a member of the organization.",
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn no_default_connection_is_a_server_error() {
    let s = TestServer::start_with(|c| c.default_connection = None).await;
    // The seed's connection exists; the default is simply not configured.
    let (status, body) = s.login(&[]).await;
    assert_error(
        status,
        &body,
        500,
        "server_error",
        "Authorization server not configured with default connection.",
    );
    s.stop().await;
}

#[tokio::test]
async fn blocked_user_is_unauthorized_only_with_the_right_password() {
    let s = TestServer::start().await;
    s.db(|db| db.set_blocked(&s.seed.user_id, true, "t"));
    let (status, body) = s.login(&[]).await;
    assert_error(status, &body, 401, "unauthorized", "user is blocked");
    let (status, body) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", EMAIL),
            ("password", "wrong"),
        ])
        .await;
    assert_error(
        status,
        &body,
        403,
        "invalid_grant",
        "Wrong email or password.",
    );
    s.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_clear_errors_and_the_server_keeps_serving() {
    let s = TestServer::start_with(|c| c.max_body_bytes = 1024).await;
    let post = |ct: &'static str, body: Vec<u8>| {
        let r = s
            .http
            .post(s.url("/oauth/token"))
            .header("content-type", ct)
            .body(body)
            .send();
        async move {
            let r = r.await.unwrap();
            let headers = r.headers().clone();
            (
                r.status().as_u16(),
                headers,
                r.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, headers, body) = post("application/x-www-form-urlencoded", vec![b'a'; 4096]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("invalid_request")),
        "{body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    assert_eq!(headers["content-type"], "application/json");
    let (status, _, body) = post("application/json", b"{not json".to_vec()).await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "The request body is not a JSON object.",
    );
    let (status, _, body) = post(
        "application/json",
        br#"{"grant_type":"password","scope":7}"#.to_vec(),
    )
    .await;
    assert_error(
        status,
        &body,
        400,
        "invalid_scope",
        "Scope must be an array or a string",
    );
    let (status, _, body) = post("text/plain", b"grant_type=password".to_vec()).await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Content-Type must be application/x-www-form-urlencoded or application/json.",
    );
    // Invalid UTF-8 and empty pairs decode lossily; an empty name is refused by name.
    let (status, _, body) = post(
        "application/x-www-form-urlencoded",
        b"grant_type=password&%ff%fe=\xff&&&=".to_vec(),
    )
    .await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "A parameter has no name.",
    );
    let many: String = std::iter::once("grant_type=password&".to_owned())
        .chain((0..100).map(|i| format!("p{i}=x&")))
        .collect();
    let (status, _, body) = post("application/x-www-form-urlencoded", many.into_bytes()).await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Too many parameters (the limit is 64).",
    );
    let (status, _, body) = post(
        "application/json",
        br#"{"grant_type":"password","username":{"a":1}}"#.to_vec(),
    )
    .await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Parameter username must be a string.",
    );
    // A repeated member is refused as a repeated form parameter is, not "last one wins".
    let (status, _, body) = post(
        "application/json",
        br#"{"grant_type":"password","username":"a@b.c","password":"x","username":"ann"}"#.to_vec(),
    )
    .await;
    assert_error(
        status,
        &body,
        400,
        "invalid_request",
        "Parameter username must not be repeated.",
    );
    let r = s.http.get(s.url("/oauth/token")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    for header in ["Basic !!!", "Bearer abc", "Basic"] {
        let r = s
            .http
            .post(s.url("/oauth/token"))
            .header("authorization", header)
            .form(&[("grant_type", "password")])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert_error(
            status,
            &r.json().await.unwrap(),
            400,
            "invalid_request",
            "Malformed Authorization header.",
        );
    }
    // A chunked body (no Content-Length) is limited while it is read.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
            .await
            .unwrap();
        let mut req = b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for _ in 0..8 {
            req.extend_from_slice(b"200\r\n");
            req.extend_from_slice(&[b'a'; 512]);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        tcp.write_all(&req).await.unwrap();
        let mut response = Vec::new();
        let _ = tcp.read_to_end(&mut response).await;
        let text = String::from_utf8_lossy(&response);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    }
    // Basic credentials are form-decoded: `&` and `=` in a secret survive.
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .header(
            "authorization",
            format!(
                "Basic {}",
                base64_encode(&format!("{}:a%26b%3Dc", s.seed.client_id))
            ),
        )
        .form(&[
            ("grant_type", "password"),
            ("username", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "a wrong secret with & and = is a clean invalid_client"
    );
    assert_eq!(
        s.login(&[]).await.0,
        200,
        "the server still serves a normal login"
    );
    s.stop().await;
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn ten_failures_block_a_login_name_from_an_ip_until_an_admin_unblocks() {
    let s = TestServer::start().await;
    let attempt = |user: &'static str, password: &'static str| {
        let p = [
            ("grant_type", "password"),
            ("client_id", s.seed.client_id.as_str()),
            ("client_secret", s.seed.client_secret.as_str()),
            ("username", user),
            ("password", password),
        ];
        let r = s.http.post(s.url("/oauth/token")).form(&p).send();
        async move {
            let r = r.await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Nine failures, then a success, reset the count.
    for _ in 0..9 {
        assert_eq!(attempt(EMAIL, "wrong").await.0, 403);
    }
    assert_eq!(attempt(EMAIL, PASSWORD).await.0, 200);
    for _ in 0..10 {
        assert_eq!(attempt(EMAIL, "wrong").await.0, 403);
    }
    let (status, body) = attempt(EMAIL, PASSWORD).await;
    assert_error(
        status,
        &body,
        429,
        "too_many_attempts",
        // Auth0's published wording (spec §5.3), not the server's own constant.
        "Your account has been blocked after multiple consecutive login attempts. We've sent you \
         a notification via your preferred contact method with instructions on how to unblock it.",
    );
    // The name is blocked, case-insensitively; unknown names alike, so a block tells nothing.
    assert_eq!(attempt("ANN@example.com", PASSWORD).await.0, 429);
    for _ in 0..10 {
        assert_eq!(attempt("ghost@example.com", "x").await.0, 403);
    }
    assert_eq!(attempt("ghost@example.com", "x").await.0, 429);
    // Another name of the same user is not blocked (the key is the name as typed).
    assert_eq!(attempt("ann", PASSWORD).await.0, 200);
    let user_id = s.seed.user_id.clone();
    let cleared = s.db(|db| db.clear_user_failures(&user_id));
    assert_eq!(cleared, 1);
    assert_eq!(
        attempt(EMAIL, PASSWORD).await.0,
        200,
        "an admin unblock lifts the block"
    );
    s.stop().await;
}
