//! `serve --demo`: seeds a demo API, client, organization, role and user (the seed story: a
//! backend logging a user in with the password grant, wanting role, organisation id, email and
//! user id in the access token), writes the sample scripts if the folders are missing, and
//! prints a ready curl command. Running it again keeps the data and issues fresh credentials.

use std::path::Path;

use serde_json::json;

use crate::admin::AdminError;
use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::{hash_password, hash_secret, new_secret, random_id};
use crate::store::{ClientAuth, NewApi, NewClient, NewUser, Store, StoreError};

/// The demo's identifiers.
pub const CLIENT_ID: &str = "demo-backend";
pub const EMAIL: &str = "demo@example.com";
pub const AUDIENCE: &str = "https://api.example.com";

/// The sample scripts, embedded so that `serve --demo` works in an empty folder too.
const SAMPLES: [(&str, &str, &str); 3] = [
    (
        "rules",
        "01-add-email-to-access-token.js",
        include_str!("../rules/01-add-email-to-access-token.js"),
    ),
    (
        "rules",
        "01-add-email-to-access-token.json",
        include_str!("../rules/01-add-email-to-access-token.json"),
    ),
    (
        "actions",
        "01-roles-and-organisation.js",
        include_str!("../actions/01-roles-and-organisation.js"),
    ),
];

/// The credentials the demo prints.
pub struct Demo {
    pub client_secret: String,
    pub password: String,
}

/// Creates the sample script folders when they do not exist.
pub fn write_samples(config: &Config) -> std::io::Result<()> {
    for (dir, path) in [
        ("actions", &config.actions_dir),
        ("rules", &config.rules_dir),
    ] {
        if path.exists() {
            continue;
        }
        std::fs::create_dir_all(path)?;
        for (d, name, text) in SAMPLES.iter().filter(|(d, ..)| *d == dir) {
            debug_assert_eq!(*d, dir);
            std::fs::write(Path::new(path).join(name), text)?;
        }
    }
    Ok(())
}

/// Seeds (or refreshes) the demo data and returns fresh credentials.
pub fn seed(store: &Store, config: &Config, clock: &Clock) -> Result<Demo, AdminError> {
    let now = clock.now_rfc3339();
    let secret = new_secret();
    let password = random_id::<12>();
    let password_hash = hash_password(&password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    store.call_sync(|db| {
        db.transaction(|db| {
            if db.api(AUDIENCE)?.is_none() {
                db.insert_api(
                    &NewApi {
                        identifier: AUDIENCE.into(),
                        name: "Demo API".into(),
                        token_lifetime_s: 86_400,
                        signing_alg: "RS256".into(),
                        rbac_enabled: false,
                        permissions_in_token: false,
                        allow_offline_access: true,
                        scopes: vec!["read:reports".into()],
                    },
                    &now,
                )?;
            }
            if db.client(CLIENT_ID)?.is_none() {
                db.insert_client(
                    &NewClient {
                        client_id: CLIENT_ID.into(),
                        name: "Demo backend".into(),
                        secret_hash: None,
                        app_type: "non_interactive".into(),
                        grant_types: vec!["password".into(), crate::grant::PASSWORD_REALM.into()],
                        metadata: Default::default(),
                        auth_method: ClientAuth::ClientSecretPost,
                        trusted_forwarded_for: false,
                        connections: config.default_connection.iter().cloned().collect(),
                    },
                    &now,
                )?;
            }
            db.set_client_secret(CLIENT_ID, &hash_secret(&secret))?;
            let org = match db.org("acme")? {
                Some(o) => o,
                None => db.insert_org("acme", "Acme Corp", &Default::default(), &now)?,
            };
            let conn_name = config
                .default_connection
                .clone()
                .ok_or_else(|| StoreError::Invalid("the demo needs a default connection".into()))?;
            let conn = db
                .connection_by_name(&conn_name)?
                .ok_or_else(|| StoreError::Invalid("the default connection is missing".into()))?;
            let user = match db.user_by_login(&conn.id, EMAIL)? {
                Some(u) => u,
                None => db.insert_user(
                    &NewUser {
                        connection: conn_name.clone(),
                        email: Some(EMAIL.into()),
                        email_verified: true,
                        name: Some("Demo User".into()),
                        app_metadata: obj(json!({"role": "admin", "organisation_id": org.id})),
                        user_metadata: obj(json!({"city": "Utrecht", "province": "Utrecht"})),
                        ..NewUser::default()
                    },
                    &now,
                )?,
            };
            db.set_password_hash(&user.user_id, &password_hash, &now)?;
            if db.user_roles(&user.user_id)?.is_empty() {
                if db.role_id("admin")?.is_none() {
                    db.insert_role("admin", "Demo administrators")?;
                }
                db.assign_role("admin", &user.user_id)?;
            }
            db.add_member(&org.id, &user.user_id)
        })
    })?;
    Ok(Demo {
        client_secret: secret,
        password,
    })
}

fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The curl command that gets a token for the demo user.
pub fn curl(demo: &Demo, config: &Config) -> String {
    let body = json!({
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": demo.client_secret,
        "username": EMAIL,
        "password": demo.password,
        "audience": AUDIENCE,
        "scope": "openid profile email",
    });
    format!(
        "curl -s {}oauth/token -H 'content-type: application/json' -d '{}'",
        config.issuer, body
    )
}
