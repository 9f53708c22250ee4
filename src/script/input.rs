//! [`LoginInput`]: everything the scripts of one login may read, built by a grant straight from
//! what it found (the `From` impls below); the engine shapes it into Auth0's `event` and the Rules'
//! `user` / `context` (`shape.rs`).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::oauth::RequestMeta;
use crate::store::{Client, ConnectionRow, Organization, User};

/// Everything the scripts of one login may read, as the grant found it. The engine shapes it into
/// Auth0's `event` (Actions) and `user` / `context` (Rules).
#[derive(Debug, Clone, Serialize)]
pub struct LoginInput {
    /// The stored user as Auth0's normalised profile: `user_id`, `email`, `email_verified`,
    /// `username`, `name`, `nickname`, `given_name`, `family_name`, `picture`, `phone_number`,
    /// `created_at`, `updated_at`, `last_password_reset`, `identities`, and `app_metadata` /
    /// `user_metadata` always as objects (the engine makes Rules' `app_metadata` undefined when empty).
    pub user: Value,
    pub client: ClientInfo,
    pub connection: ConnectionInfo,
    pub request: RequestInfo,
    /// `oauth2-password` or `oauth2-refresh-token`.
    pub protocol: String,
    /// The scopes the client asked for, in order.
    pub requested_scopes: Vec<String>,
    /// `event.resource_server.identifier`: the audience, else the default audience, else `<issuer>userinfo`.
    pub audience: String,
    /// Names of the user's roles.
    pub roles: Vec<String>,
    pub organization: Option<OrganizationInfo>,
    /// Already incremented for this login (the first login sees 1).
    pub logins_count: u64,
    /// `event.tenant.id` / `context.tenant`.
    pub tenant: String,
    /// Milliseconds since the epoch at the start of the login (`authentication.methods[].timestamp`).
    pub now_ms: i64,
    /// A new random id for every login: `event.transaction.id` and the Rules' `context.sessionID`.
    pub transaction_id: String,
    /// `event.refresh_token`: the presented refresh token on a refresh exchange.
    pub refresh_token: Option<Value>,
}

/// What a credentials exchange's Actions may read (`onExecuteCredentialsExchange`, spec §2).
#[derive(Debug, Clone, Serialize)]
pub struct CredentialsInput {
    pub client: ClientInfo,
    /// `event.resource_server.identifier`.
    pub audience: String,
    /// `event.transaction.requested_scopes`.
    pub requested_scopes: Vec<String>,
    /// `event.accessToken.scope`: the scopes about to be granted.
    pub scopes: Vec<String>,
    pub request: RequestInfo,
    pub tenant: String,
    pub now_ms: i64,
    pub transaction_id: String,
}

/// What the registration Actions may read (`onExecutePreUserRegistration` before the user is
/// stored, `onExecutePostUserRegistration` after): a signup, or a Management API create.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationInput {
    /// The user as Auth0 shows it there: before, what was asked for (no `user_id`); after, the
    /// stored user's profile.
    pub user: Value,
    /// The application of a signup; absent for a Management API create (optional in Auth0).
    pub client: Option<ClientInfo>,
    pub connection: ConnectionInfo,
    pub request: RequestInfo,
    pub tenant: String,
    pub now_ms: i64,
    pub transaction_id: String,
}

/// Which trigger a job runs, with its input. It travels inside the boxed job (`Msg::Login`),
/// so the variants' sizes differing costs nothing.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Trigger {
    /// Rules, then the `onExecutePostLogin` Actions.
    PostLogin(LoginInput),
    /// The `onExecuteCredentialsExchange` Actions.
    CredentialsExchange(CredentialsInput),
    /// The `onExecutePreUserRegistration` Actions.
    PreRegistration(RegistrationInput),
    /// The `onExecutePostUserRegistration` Actions.
    PostRegistration(RegistrationInput),
}

impl Trigger {
    pub(crate) const POST_LOGIN: u8 = 1;
    pub(crate) const CREDENTIALS: u8 = 2;
    pub(crate) const PRE_REGISTRATION: u8 = 4;
    pub(crate) const POST_REGISTRATION: u8 = 8;

    /// This trigger's bit in [`Script::triggers`](super::Script): what `shim.js`'s `add` reports
    /// for an Action exporting its function. The shim numbers the triggers by this bit's index.
    pub(crate) fn bit(&self) -> u8 {
        match self {
            Trigger::PostLogin(_) => Self::POST_LOGIN,
            Trigger::CredentialsExchange(_) => Self::CREDENTIALS,
            Trigger::PreRegistration(_) => Self::PRE_REGISTRATION,
            Trigger::PostRegistration(_) => Self::POST_REGISTRATION,
        }
    }
}

/// `event.client` / `context.clientID` etc.
#[derive(Debug, Clone, Serialize)]
pub struct ClientInfo {
    pub client_id: String,
    pub name: String,
    pub metadata: Map<String, Value>,
}

/// `event.connection` / `context.connection*`.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionInfo {
    pub id: String,
    pub name: String,
    pub strategy: String,
    pub metadata: Map<String, Value>,
    /// The connection's stored options: Rules' `context.connectionOptions` (not in `event`).
    #[serde(skip)]
    pub options: Map<String, Value>,
}

/// `event.request` / `context.request`. `body` is already stripped of `password`,
/// `client_secret` and `refresh_token`.
#[derive(Debug, Clone, Serialize)]
pub struct RequestInfo {
    pub ip: String,
    pub hostname: String,
    /// Absent from `event.request` (not `null`) when the client sent no header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub method: String,
    pub query: Map<String, Value>,
    pub body: Map<String, Value>,
}

/// `event.organization` / `context.organization`.
#[derive(Debug, Clone, Serialize)]
pub struct OrganizationInfo {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub metadata: Map<String, Value>,
}

impl From<&Client> for ClientInfo {
    fn from(c: &Client) -> Self {
        ClientInfo {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            metadata: c.metadata.clone(),
        }
    }
}

impl From<&ConnectionRow> for ConnectionInfo {
    fn from(c: &ConnectionRow) -> Self {
        ConnectionInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            strategy: c.strategy.clone(),
            metadata: c.metadata.clone(),
            options: c.options.clone(),
        }
    }
}

impl From<&Organization> for OrganizationInfo {
    fn from(o: &Organization) -> Self {
        OrganizationInfo {
            id: o.id.clone(),
            name: o.name.clone(),
            display_name: o.display_name.clone(),
            metadata: o.metadata.clone(),
        }
    }
}

impl RequestInfo {
    /// The request as scripts see it: `body` is the grant's already redacted parameters; the
    /// query is redacted here, by `oauth`'s one list of secret parameters.
    pub fn new(meta: &RequestMeta, body: Map<String, Value>) -> Self {
        RequestInfo {
            ip: meta.ip.clone(),
            hostname: meta.hostname.clone(),
            user_agent: meta.user_agent.clone(),
            language: meta.language.clone(),
            method: meta.method.clone(),
            query: crate::oauth::redacted(&meta.query)
                .map(|(k, v)| (k.to_owned(), Value::from(v)))
                .collect(),
            body,
        }
    }
}

/// Auth0's normalised user profile (spec §1.2 `event.user`, §3.3).
pub fn user_profile(u: &User) -> Value {
    let mut p = json!({
        "user_id": u.user_id,
        "email_verified": u.email_verified,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
        "app_metadata": u.app_metadata,
        "user_metadata": u.user_metadata,
        "identities": [{
            "connection": u.connection,
            "provider": "auth0",
            "user_id": u.user_id.split_once('|').map_or(u.user_id.as_str(), |(_, id)| id),
            "isSocial": false,
        }],
        "logins_count": u.logins_count,
        "blocked": u.blocked,
    });
    put_profile_texts(
        &mut p,
        [
            &u.email,
            &u.username,
            &u.name,
            &u.nickname,
            &u.given_name,
            &u.family_name,
            &u.picture,
            &u.phone_number,
        ],
    );
    for (k, v) in [
        ("last_password_reset", &u.last_password_reset),
        ("last_login", &u.last_login),
        ("last_ip", &u.last_ip),
    ] {
        if let Some(v) = v {
            p[k] = v.as_str().into();
        }
    }
    p
}

/// Auth0's names of a user's optional profile texts, in the order [`put_profile_texts`] takes
/// their values: the one list behind a stored user's profile and a user's still to be stored.
const PROFILE_TEXTS: [&str; 8] = [
    "email",
    "username",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "picture",
    "phone_number",
];

/// Sets on `profile` each of [`PROFILE_TEXTS`] the user has.
pub fn put_profile_texts(profile: &mut Value, values: [&Option<String>; 8]) {
    for (k, v) in PROFILE_TEXTS.into_iter().zip(values) {
        if let Some(v) = v {
            profile[k] = v.as_str().into();
        }
    }
}
