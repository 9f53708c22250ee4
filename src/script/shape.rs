//! Plain-Rust side of the bindings: shapes a [`LoginInput`] into Auth0's `event` (Actions) and
//! `user` / `context` (Rules), and a [`CredentialsInput`] into the credentials-exchange `event`,
//! as JSON texts (`outcome.rs` reads and validates what the scripts did). No rquickjs here; the
//! JS side of the contract is `shim.js`, and the contract as a script author reads it is the
//! README's "Scripts" section.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use super::{
    ClientInfo, ConnectionInfo, CredentialsInput, LoginInput, OrganizationInfo, RegistrationInput,
    RequestInfo,
};

/// `event.transaction.locale`: the first language the client accepts, else `en`.
fn locale(r: &RequestInfo) -> &str {
    r.language
        .as_deref()
        .and_then(|l| l.split([',', ';']).next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("en")
}

fn is_password(input: &LoginInput) -> bool {
    input.protocol == "oauth2-password"
}

/// A JSON object that writes `{}`.
struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

const NONE: &[String] = &[];

/// The stored user with some keys replaced or removed, serialised without cloning it.
struct UserView<'a> {
    base: Option<&'a Map<String, Value>>,
    set: Vec<(&'a str, &'a Value)>,
    drop: &'static [&'static str],
}

impl Serialize for UserView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.base.into_iter().flatten() {
            if !self.drop.contains(&k.as_str()) && !self.set.iter().any(|(n, _)| n == k) {
                m.serialize_entry(k, v)?;
            }
        }
        for (k, v) in &self.set {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// `value` if it has the right JSON type, else `fallback`.
fn typed<'a>(
    user: Option<&'a Map<String, Value>>,
    key: &str,
    array: bool,
    fallback: &'a Value,
) -> &'a Value {
    match user.and_then(|u| u.get(key)) {
        Some(v @ Value::Object(_)) if !array => v,
        Some(v @ Value::Array(_)) if array => v,
        _ => fallback,
    }
}

#[derive(Serialize)]
struct Roles<'a> {
    roles: &'a [String],
}

#[derive(Serialize)]
struct EventRequest<'a> {
    #[serde(flatten)]
    base: &'a RequestInfo,
    geoip: Empty,
}

#[derive(Serialize)]
struct Transaction<'a> {
    id: &'a str,
    protocol: &'a str,
    requested_scopes: &'a [String],
    metadata: Empty,
    acr_values: &'a [String],
    ui_locales: &'a [String],
    prompt: &'a [String],
    response_type: &'a [String],
    locale: &'a str,
}

#[derive(Serialize)]
struct Method<T> {
    name: &'static str,
    timestamp: T,
}

#[derive(Serialize)]
struct Methods<T> {
    methods: Vec<Method<T>>,
}

struct Event<'a> {
    user: UserView<'a>,
    authorization: Roles<'a>,
    organization: Option<&'a OrganizationInfo>,
    client: &'a ClientInfo,
    connection: &'a ConnectionInfo,
    request: EventRequest<'a>,
    transaction: Transaction<'a>,
    resource_server: Value,
    stats: Value,
    tenant: Value,
    authentication: Methods<String>,
}

/// `event` for Actions as `[name, json, name, json, …]`, one entry per top-level section, in
/// Auth0's order; the shim parses a section when an Action first reads it. `secrets` and
/// `transaction.metadata` are filled in per Action by the shim.
pub(crate) fn event_parts(input: &LoginInput) -> Vec<String> {
    let (empty_obj, empty_arr) = (Value::Object(Map::new()), Value::Array(Vec::new()));
    let base = input.user.as_object();
    let user = UserView {
        base,
        set: vec![
            (
                "app_metadata",
                typed(base, "app_metadata", false, &empty_obj),
            ),
            (
                "user_metadata",
                typed(base, "user_metadata", false, &empty_obj),
            ),
            ("identities", typed(base, "identities", true, &empty_arr)),
            ("multifactor", typed(base, "multifactor", true, &empty_arr)),
            (
                "enrolledFactors",
                typed(base, "enrolledFactors", true, &empty_arr),
            ),
        ],
        drop: &[],
    };
    let r = &input.request;
    let locale = locale(r);
    let methods = if is_password(input) {
        vec![Method {
            name: "pwd",
            timestamp: crate::clock::rfc3339(input.now_ms),
        }]
    } else {
        Vec::new()
    };
    let event = Event {
        user,
        authorization: Roles {
            roles: &input.roles,
        },
        organization: input.organization.as_ref(),
        client: &input.client,
        connection: &input.connection,
        request: EventRequest {
            base: r,
            geoip: Empty,
        },
        transaction: Transaction {
            id: &input.transaction_id,
            protocol: &input.protocol,
            requested_scopes: &input.requested_scopes,
            metadata: Empty,
            acr_values: NONE,
            ui_locales: NONE,
            prompt: NONE,
            response_type: NONE,
            locale,
        },
        resource_server: json!({"identifier": input.audience}),
        stats: json!({"logins_count": input.logins_count}),
        tenant: json!({"id": input.tenant}),
        authentication: Methods { methods },
    };
    let mut parts = Vec::with_capacity(26);
    let mut part = |name: &str, value: Result<String, serde_json::Error>| {
        parts.push(name.to_owned());
        parts.push(value.unwrap_or_else(|_| "null".into()));
    };
    let to = |v: &dyn erased::Ser| v.json();
    part("user", to(&event.user));
    part("authorization", to(&event.authorization));
    if let Some(org) = event.organization {
        part("organization", to(&org));
    }
    part("client", to(&event.client));
    part("connection", to(&event.connection));
    part("request", to(&event.request));
    part("transaction", to(&event.transaction));
    part("resource_server", to(&event.resource_server));
    part("stats", to(&event.stats));
    part("secrets", Ok("{}".into()));
    part("tenant", to(&event.tenant));
    part("authentication", to(&event.authentication));
    if let Some(t) = &input.refresh_token {
        part("refresh_token", to(t));
    }
    parts
}

/// The post-login `event` an Action sees, as one JSON object (with empty `secrets`): what a
/// recorded login is kept as, and what `claimsmith test --event` reads back.
pub fn event_json(input: &LoginInput) -> Value {
    let parts = event_parts(input);
    let mut event = Map::new();
    for pair in parts.chunks(2) {
        if let [name, json] = pair {
            let value = serde_json::from_str(json).unwrap_or(Value::Null);
            event.insert(name.clone(), value);
        }
    }
    Value::Object(event)
}

/// The credentials-exchange `event` (spec §2) as `[name, json, ...]`: no user, connection or
/// stats; `accessToken` holds the scopes about to be granted.
pub(crate) fn credentials_parts(input: &CredentialsInput) -> Vec<String> {
    let r = &input.request;
    let sections = [
        (
            "accessToken",
            json!({"customClaims": {}, "scope": input.scopes}),
        ),
        ("client", json!(input.client)),
        (
            "request",
            json!(EventRequest {
                base: r,
                geoip: Empty
            }),
        ),
        ("resource_server", json!({"identifier": input.audience})),
        ("secrets", json!({})),
        ("tenant", json!({"id": input.tenant})),
        (
            "transaction",
            json!({"id": input.transaction_id, "requested_scopes": input.requested_scopes}),
        ),
    ];
    let mut parts = Vec::with_capacity(sections.len() * 2);
    for (name, value) in sections {
        parts.push(name.to_owned());
        parts.push(value.to_string());
    }
    parts
}

/// The registration `event` as `[name, json, ...]`: the user, the connection, the request (no
/// query; its body before the user exists only, as Auth0's), and the client of a signup
/// (optional in Auth0: a Management API create has none). No `transaction`: Auth0 gives none to
/// a signup through its API.
pub(crate) fn registration_parts(input: &RegistrationInput, post: bool) -> Vec<String> {
    let mut parts = Vec::with_capacity(12);
    let mut part = |name: &str, value: Value| {
        parts.push(name.to_owned());
        parts.push(value.to_string());
    };
    if let Some(client) = &input.client {
        part("client", json!(client));
    }
    part("connection", json!(input.connection));
    let mut request = json!(EventRequest {
        base: &input.request,
        geoip: Empty
    });
    if let Some(r) = request.as_object_mut() {
        r.remove("query");
        if post {
            r.remove("body");
        }
    }
    part("request", request);
    part("secrets", json!({}));
    part("tenant", json!({"id": input.tenant}));
    part("user", input.user.clone());
    parts
}

/// Serialising the event's sections one by one without a generic closure per type.
mod erased {
    pub(super) trait Ser {
        fn json(&self) -> Result<String, serde_json::Error>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> Result<String, serde_json::Error> {
            serde_json::to_string(self)
        }
    }
}

#[derive(Serialize)]
struct RuleRequest<'a> {
    #[serde(rename = "userAgent")]
    user_agent: &'a Option<String>,
    ip: &'a str,
    hostname: &'a str,
    query: &'a Map<String, Value>,
    body: &'a Map<String, Value>,
    geoip: Empty,
}

#[derive(Serialize)]
struct RuleOrganization<'a> {
    id: &'a str,
    name: &'a str,
    metadata: &'a Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Context<'a> {
    tenant: &'a str,
    #[serde(rename = "clientID")]
    client_id: &'a str,
    client_name: &'a str,
    client_metadata: &'a Map<String, Value>,
    connection: &'a str,
    #[serde(rename = "connectionID")]
    connection_id: &'a str,
    connection_strategy: &'a str,
    connection_options: &'a Map<String, Value>,
    connection_metadata: &'a Map<String, Value>,
    protocol: &'a str,
    request: RuleRequest<'a>,
    stats: Value,
    sso: Value,
    access_token: Empty,
    id_token: Empty,
    authorization: Roles<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<RuleOrganization<'a>>,
    authentication: Methods<i64>,
    primary_user: &'a Value,
    #[serde(rename = "sessionID")]
    session_id: &'a str,
    saml_configuration: Empty,
    jwt_configuration: Empty,
}

#[derive(Serialize)]
struct RulesInput<'a> {
    user: UserView<'a>,
    context: Context<'a>,
}

/// `{user, context}` for Rules.
pub(crate) fn rules_json(input: &LoginInput) -> String {
    let (empty_obj, empty_arr) = (Value::Object(Map::new()), Value::Array(Vec::new()));
    let base = input.user.as_object();
    let mut set = vec![
        (
            "user_metadata",
            typed(base, "user_metadata", false, &empty_obj),
        ),
        ("identities", typed(base, "identities", true, &empty_arr)),
    ];
    // Auth0's "User Object in Rules" page: app_metadata is undefined until something is stored
    // in it, and its properties are merged into the root of the user object (overwriting root
    // properties of the same name). The keys the engine itself relies on are not overwritten.
    if let Some(app @ Value::Object(m)) = base.and_then(|u| u.get("app_metadata"))
        && !m.is_empty()
    {
        const KEEP: [&str; 4] = ["user_id", "app_metadata", "user_metadata", "identities"];
        for (k, v) in m {
            if !KEEP.contains(&k.as_str()) {
                set.push((k.as_str(), v));
            }
        }
        set.push(("app_metadata", app));
    }
    let user = UserView {
        base,
        set,
        drop: &["app_metadata"],
    };
    let r = &input.request;
    let methods = if is_password(input) {
        vec![Method {
            name: "pwd",
            timestamp: input.now_ms,
        }]
    } else {
        Vec::new()
    };
    let context = Context {
        tenant: &input.tenant,
        client_id: &input.client.client_id,
        client_name: &input.client.name,
        client_metadata: &input.client.metadata,
        connection: &input.connection.name,
        connection_id: &input.connection.id,
        connection_strategy: &input.connection.strategy,
        connection_options: &input.connection.options,
        connection_metadata: &input.connection.metadata,
        protocol: &input.protocol,
        request: RuleRequest {
            user_agent: &r.user_agent,
            ip: &r.ip,
            hostname: &r.hostname,
            query: &r.query,
            body: &r.body,
            geoip: Empty,
        },
        stats: json!({"loginsCount": input.logins_count}),
        sso: json!({"with_auth0": false, "with_dbconn": false, "current_clients": []}),
        access_token: Empty,
        id_token: Empty,
        authorization: Roles {
            roles: &input.roles,
        },
        organization: input.organization.as_ref().map(|o| RuleOrganization {
            id: &o.id,
            name: &o.name,
            metadata: &o.metadata,
        }),
        authentication: Methods { methods },
        primary_user: input.user.get("user_id").unwrap_or(&Value::Null),
        session_id: &input.transaction_id,
        saml_configuration: Empty,
        jwt_configuration: Empty,
    };
    serde_json::to_string(&RulesInput { user, context }).unwrap_or_else(|_| "{}".into())
}
