//! A post-login `event` file (Auth0's shape, as `claimsmith logins show --as-event` writes it)
//! read back into the [`LoginInput`] the engine runs: whatever the file leaves out is filled
//! with what a password login of a test user would have, so that `{"user": {"email": "a@b"}}`
//! is a whole event.

use serde_json::{Map, Value, json};

use crate::script::{ClientInfo, ConnectionInfo, LoginInput, OrganizationInfo, RequestInfo};

/// The user id a minimal event's user gets.
pub const TEST_USER_ID: &str = "auth0|test-user";

/// The login an event describes; `Err` names what is malformed.
pub fn login_input(event: &Value, now_ms: i64) -> Result<LoginInput, String> {
    let event = event.as_object().ok_or("the event must be a JSON object")?;
    let section = |k: &str| -> Result<Map<String, Value>, String> {
        match event.get(k) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(format!("event.{k} must be an object")),
        }
    };
    let text = |m: &Map<String, Value>, k: &str, default: &str| -> String {
        m.get(k)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let object = |m: &Map<String, Value>, k: &str| -> Map<String, Value> {
        m.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let client = section("client")?;
    let connection = section("connection")?;
    let request = section("request")?;
    let transaction = section("transaction")?;
    let stats = section("stats")?;
    let user = user(
        section("user")?,
        &text(&connection, "name", "Username-Password-Authentication"),
    );
    let organization = match event.get("organization") {
        Some(Value::Object(o)) => Some(OrganizationInfo {
            id: text(o, "id", "org_test"),
            name: text(o, "name", "test-org"),
            display_name: text(o, "display_name", "Test organization"),
            metadata: object(o, "metadata"),
        }),
        _ => None,
    };
    let optional =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let query = object(&request, "query");
    let protocol = text(&transaction, "protocol", "oauth2-password");
    Ok(LoginInput {
        logins_count: stats
            .get("logins_count")
            .and_then(Value::as_u64)
            .unwrap_or(1),
        client: ClientInfo {
            client_id: text(&client, "client_id", "test-client"),
            name: text(&client, "name", "Test client"),
            metadata: object(&client, "metadata"),
        },
        connection: ConnectionInfo {
            id: text(&connection, "id", "con_test"),
            name: text(&connection, "name", "Username-Password-Authentication"),
            strategy: text(&connection, "strategy", "auth0"),
            metadata: object(&connection, "metadata"),
            options: Map::new(),
        },
        request: RequestInfo {
            ip: text(&request, "ip", "127.0.0.1"),
            hostname: text(&request, "hostname", "localhost"),
            user_agent: optional(&request, "user_agent"),
            language: optional(&request, "language"),
            method: text(&request, "method", "POST"),
            query,
            body: object(&request, "body"),
        },
        requested_scopes: match transaction.get("requested_scopes") {
            Some(v) => strings(Some(v)),
            None => vec!["openid".into(), "profile".into(), "email".into()],
        },
        audience: event
            .get("resource_server")
            .and_then(|r| r.get("identifier"))
            .and_then(Value::as_str)
            .unwrap_or("https://api.example.com")
            .to_owned(),
        roles: strings(event.get("authorization").and_then(|a| a.get("roles"))),
        organization,
        tenant: event
            .get("tenant")
            .and_then(|t| t.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("claimsmith")
            .to_owned(),
        now_ms,
        transaction_id: optional(&transaction, "id")
            .unwrap_or_else(crate::credentials::random_id::<16>),
        refresh_token: (protocol == "oauth2-refresh-token")
            .then(|| event.get("refresh_token").cloned())
            .flatten(),
        protocol,
        user,
    })
}

/// The event's user with Auth0's required members filled in.
fn user(mut u: Map<String, Value>, connection: &str) -> Value {
    let id = u
        .get("user_id")
        .and_then(Value::as_str)
        .unwrap_or(TEST_USER_ID)
        .to_owned();
    let defaults = [
        ("user_id", json!(id)),
        ("email_verified", json!(true)),
        ("created_at", json!("2026-01-01T00:00:00.000Z")),
        ("updated_at", json!("2026-01-01T00:00:00.000Z")),
        ("app_metadata", json!({})),
        ("user_metadata", json!({})),
        (
            "identities",
            json!([{
                "connection": connection,
                "provider": "auth0",
                "user_id": id.split_once('|').map_or(id.as_str(), |(_, i)| i),
                "isSocial": false,
            }]),
        ),
    ];
    for (k, v) in defaults {
        u.entry(k).or_insert(v);
    }
    Value::Object(u)
}
