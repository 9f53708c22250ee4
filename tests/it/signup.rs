//! `POST /dbconnections/signup` over HTTP: Auth0's answer and error bodies (the password policy's
//! rules, a taken email hidden or said, missing parameters, an unknown client or connection,
//! signups disabled), a form body, and the user then logging in with the password grant.

use serde_json::{Value, json};

use crate::support::*;

async fn signup(s: &TestServer, body: Value) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/dbconnections/signup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn new_signup(s: &TestServer, email: &str) -> Value {
    json!({
        "client_id": s.seed.public_client_id,
        "connection": CONNECTION,
        "email": email,
        "password": "Sup3r-secret!",
        "username": "newbie",
        "given_name": "New",
        "family_name": "Bie",
        "user_metadata": {"city": "Leiden", "province": "Zuid-Holland"},
    })
}

/// Sets the signup connection's options.
fn connection_options(s: &TestServer, options: Value) {
    s.db(move |db| {
        let c = db.connection_by_name(CONNECTION)?.unwrap();
        db.update_connection(&c.id, None, options.as_object())
    });
}

#[tokio::test]
async fn a_signup_answers_as_auth0_and_the_user_can_log_in() {
    let s = TestServer::start().await;
    let (status, body) = signup(&s, new_signup(&s, "New@Example.com")).await;
    assert_eq!(status, 200, "{body}");
    let id = body["_id"].as_str().unwrap().to_owned();
    assert!(
        !id.contains('|') && !id.is_empty(),
        "_id without the auth0| prefix: {id}"
    );
    assert_eq!(
        body,
        json!({
            "_id": id,
            "email": "new@example.com",
            "email_verified": false,
            "username": "newbie",
            "given_name": "New",
            "family_name": "Bie",
            "user_metadata": {"city": "Leiden", "province": "Zuid-Holland"},
        })
    );
    let (status, token) = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", "new@example.com"),
            ("password", "Sup3r-secret!"),
            ("audience", API),
        ])
        .await;
    assert_eq!(status, 200, "{token}");
    let claims = s.verify(token["access_token"].as_str().unwrap(), API).await;
    assert_eq!(claims["sub"], format!("auth0|{id}"));
    // A form body works as well.
    let r = s
        .http
        .post(s.url("/dbconnections/signup"))
        .form(&[
            ("client_id", s.seed.public_client_id.as_str()),
            ("connection", CONNECTION),
            ("email", "form@example.com"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["email"],
        "form@example.com"
    );
    let r = s
        .http
        .get(s.url("/dbconnections/signup"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    s.stop().await;
}

#[tokio::test]
async fn a_taken_email_is_hidden_by_default_and_said_when_configured() {
    let s = TestServer::start().await;
    let (status, body) = signup(&s, new_signup(&s, EMAIL)).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"name": "BadRequestError", "code": "invalid_signup", "description": "Invalid sign up", "statusCode": 400})
        )
    );
    s.stop().await;
    let s = TestServer::start_with(|c| c.signup_user_exists_error = true).await;
    let (status, body) = signup(&s, new_signup(&s, EMAIL)).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"name": "BadRequestError", "code": "user_exists", "description": "The user already exists.", "statusCode": 400})
        )
    );
    s.stop().await;
}

#[tokio::test]
async fn a_weak_password_answers_the_policy_and_what_it_misses() {
    let s = TestServer::start().await;
    connection_options(&s, json!({"passwordPolicy": "good"}));
    let mut body = new_signup(&s, "weak@example.com");
    body["password"] = json!("abcdefghij!");
    let (status, body) = signup(&s, body).await;
    let item = |m: &str, code: &str, ok: bool| json!({"message": m, "code": code, "verified": ok});
    assert_eq!(
        (status, body),
        (
            400,
            json!({
                "name": "PasswordStrengthError",
                "message": "Password is too weak",
                "code": "invalid_password",
                "description": {"rules": [
                    {"message": "At least %d characters in length", "format": [8], "code": "lengthAtLeast", "verified": true},
                    {"message": "Contain at least %d of the following %d types of characters:", "code": "containsAtLeast",
                     "format": [3, 4], "verified": false, "items": [
                        item("lower case letters (a-z)", "lowerCase", true),
                        item("upper case letters (A-Z)", "upperCase", false),
                        item("numbers (i.e. 0-9)", "numbers", false),
                        item("special characters (e.g. !@#$%^&*)", "specialCharacters", true)]}
                ], "verified": false},
                "policy": "* At least 8 characters in length\n* Contain at least 3 of the following 4 types of \
                    characters:\n * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)\n \
                    * special characters (e.g. !@#$%^&*)",
                "statusCode": 400,
            })
        )
    );
    let (status, _) = signup(&s, new_signup(&s, "strong@example.com")).await;
    assert_eq!(status, 200);
    s.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused_in_the_signup_shape() {
    let s = TestServer::start().await;
    let bad = |code: &str, description: &str| json!({"name": "BadRequestError", "code": code, "description": description, "statusCode": 400});
    for missing in ["client_id", "connection", "email", "password"] {
        let mut body = new_signup(&s, "m@example.com");
        body.as_object_mut().unwrap().remove(missing);
        assert_eq!(
            signup(&s, body).await,
            (
                400,
                bad(
                    "invalid_body",
                    &format!("Missing required property: {missing}")
                )
            ),
            "{missing}"
        );
    }
    for not_an_email in [
        "ann",
        "ann@",
        "@example.com",
        "a nn@example.com",
        "ann@example..com",
    ] {
        let (status, body) = signup(&s, new_signup(&s, not_an_email)).await;
        assert_eq!(
            (status, &body["code"]),
            (400, &json!("invalid_body")),
            "{not_an_email}"
        );
    }
    // A body's app_metadata is not the caller's to set.
    let mut body = new_signup(&s, "meta@example.com");
    body["app_metadata"] = json!({"role": "admin"});
    assert_eq!(signup(&s, body).await.0, 200);
    let stored = s.db(|db| db.find_user(claimsmith::store::UserRef("meta@example.com")));
    assert_eq!(stored.unwrap().app_metadata, serde_json::Map::new());
    let mut body = new_signup(&s, "m@example.com");
    body["client_id"] = json!("nobody");
    assert_eq!(
        signup(&s, body).await,
        (400, bad("invalid_client", "Unknown client"))
    );
    let not_enabled = (
        400,
        bad(
            "invalid_connection",
            "the connection was not found or is not enabled for this client",
        ),
    );
    let mut body = new_signup(&s, "m@example.com");
    body["connection"] = json!("no-such-db");
    assert_eq!(signup(&s, body).await, not_enabled);
    // A client that does not have the connection enabled.
    let other = s.db(|db| {
        let (id, _) = add_client(db, &["password"])?;
        db.disable_connection(&id, CONNECTION)?;
        Ok(id)
    });
    let mut body = new_signup(&s, "m@example.com");
    body["client_id"] = json!(other);
    assert_eq!(signup(&s, body).await, not_enabled);
    let mut body = new_signup(&s, "m@example.com");
    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    body["user_metadata"] = Value::Object(eleven);
    assert_eq!(signup(&s, body.clone()).await.1["code"], "invalid_body");
    body["user_metadata"] = json!({"n": 1});
    assert_eq!(signup(&s, body).await.1["code"], "invalid_body");
    let r = s
        .http
        .post(s.url("/dbconnections/signup"))
        .header("content-type", "application/json")
        .body("[1]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    connection_options(&s, json!({"disable_signup": true}));
    assert_eq!(
        signup(&s, new_signup(&s, "m@example.com")).await,
        (
            400,
            bad("operation_not_supported", "public signup is disabled")
        )
    );
    connection_options(&s, json!({"requires_username": true}));
    let mut body = new_signup(&s, "m@example.com");
    body.as_object_mut().unwrap().remove("username");
    assert_eq!(
        signup(&s, body).await,
        (
            400,
            bad("invalid_body", "Missing required property: username")
        )
    );
    // None of these made a user.
    let (_, total) = s.db(|db| db.users_page(None, 0, 10));
    assert_eq!(total, 2, "only the seeded user and meta@");
    s.stop().await;
}
