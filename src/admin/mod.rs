//! The administrative commands of the CLI: each works on the store directly and returns the JSON
//! document the CLI prints.

use serde_json::{Map, Value, json};

use crate::cli::{Apis, Clients, Connections, Keys, Orgs, Roles, UserAdd, UserPick, Users};
use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::{hash_password, hash_secret, is_supported_hash, new_secret, random_id};
use crate::store::{ClientAuth, NewApi, NewClient, NewUser, Store, StoreError, User, UserRef};
use crate::token::Alg;

/// A command that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Start(#[from] crate::bootstrap::StartError),
}

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

/// Parses an optional JSON object argument.
fn object(arg: Option<&str>, what: &str) -> Result<Map<String, Value>, AdminError> {
    match arg.map(serde_json::from_str::<Value>) {
        None => Ok(Map::new()),
        Some(Ok(Value::Object(m))) => Ok(m),
        _ => Err(invalid(format!("{what} must be a JSON object"))),
    }
}

/// Shown for a user: everything but the password hash.
fn user_json(u: &User) -> Value {
    serde_json::to_value(u).unwrap_or_default()
}

pub fn users(store: &Store, cfg: &Config, clock: &Clock, cmd: Users) -> Result<Value, AdminError> {
    let now = clock.now_rfc3339();
    match cmd {
        Users::Add(a) => {
            let u = new_user(a, cfg)?;
            Ok(user_json(&store.call_sync(|db| db.insert_user(&u, &now))?))
        }
        Users::Import { file, connection } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| invalid(format!("{}: {e}", file.display())))?;
            let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&text) else {
                return Err(invalid("the import file must be a JSON array of users"));
            };
            let connection = cfg
                .connection_or_default(connection)
                .ok_or_else(|| invalid("give --connection: no default connection is configured"))?;
            let mut imported = Vec::new();
            let mut failed = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let result = import_user(item, &connection)
                    .and_then(|u| Ok(store.call_sync(|db| db.insert_user(&u, &now))?));
                match result {
                    Ok(u) => imported.push(u.user_id),
                    Err(e) => failed.push(
                        json!({"index": i, "email": item.get("email"), "error": e.to_string()}),
                    ),
                }
            }
            Ok(json!({"imported": imported.len(), "user_ids": imported, "failed": failed}))
        }
        Users::List => Ok(Value::Array(
            store
                .call_sync(|db| db.list_users())?
                .iter()
                .map(user_json)
                .collect(),
        )),
        Users::Block(p) => set_blocked(store, &p, true, &now),
        Users::Unblock(p) => set_blocked(store, &p, false, &now),
    }
}

fn new_user(a: UserAdd, cfg: &Config) -> Result<NewUser, AdminError> {
    let password = match (a.password, a.password_stdin) {
        (Some(p), _) => Some(p),
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| invalid(format!("cannot read the password from stdin: {e}")))?;
            Some(line.trim_end_matches(['\r', '\n']).to_owned()).filter(|p| !p.is_empty())
        }
        (None, false) => None,
    };
    let password_hash = match (password, a.password_hash) {
        (Some(p), _) => hash_password(&p).map_err(|e| invalid(e.to_string()))?,
        (None, Some(h)) if is_supported_hash(&h) => h,
        (None, Some(_)) => return Err(invalid("--password-hash must be a bcrypt or argon2 hash")),
        (None, None) => return Err(invalid("give --password or --password-hash")),
    };
    Ok(NewUser {
        connection: cfg
            .connection_or_default(a.connection)
            .ok_or_else(|| invalid("give --connection: no default connection is configured"))?,
        email: a.email,
        username: a.username,
        email_verified: a.email_verified,
        name: a.name,
        password_hash: Some(password_hash),
        app_metadata: object(a.app_metadata.as_deref(), "--app-metadata")?,
        user_metadata: object(a.user_metadata.as_deref(), "--user-metadata")?,
        ..NewUser::default()
    })
}

/// One user of Auth0's bulk import format: `password_hash` (bcrypt) or `custom_password_hash`
/// `{algorithm: "bcrypt" | "argon2", hash: {value}}`.
fn import_user(v: &Value, connection: &str) -> Result<NewUser, AdminError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let hash = s("password_hash").or_else(|| {
        v.pointer("/custom_password_hash/hash/value")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let hash = match hash {
        Some(h) if !h.is_empty() => {
            if !is_supported_hash(&h) {
                return Err(invalid(
                    "only bcrypt and argon2 password hashes can be imported",
                ));
            }
            Some(h)
        }
        _ => None,
    };
    let obj = |k: &str| {
        v.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    Ok(NewUser {
        user_id: s("user_id"),
        connection: connection.to_owned(),
        email: s("email"),
        username: s("username"),
        email_verified: v
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        name: s("name"),
        nickname: s("nickname"),
        given_name: s("given_name"),
        family_name: s("family_name"),
        picture: s("picture"),
        phone_number: s("phone_number"),
        password_hash: hash,
        app_metadata: obj("app_metadata"),
        user_metadata: obj("user_metadata"),
        blocked: v.get("blocked").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn set_blocked(store: &Store, p: &UserPick, blocked: bool, now: &str) -> Result<Value, AdminError> {
    let who = p
        .user
        .as_deref()
        .or(p.email.as_deref())
        .unwrap_or_default()
        .to_owned();
    let user = store
        .call_sync(|db| db.find_user(UserRef(&who)))?
        .ok_or_else(|| invalid(format!("no user {who}")))?;
    let cleared = store.call_sync(|db| {
        db.set_blocked(&user.user_id, blocked, now)?;
        // Unblocking also lifts a brute-force block, as Auth0's admin unblock does.
        if blocked {
            Ok(0)
        } else {
            db.clear_user_failures(&user.user_id)
        }
    })?;
    Ok(json!({"user_id": user.user_id, "blocked": blocked, "failed_logins_cleared": cleared}))
}

pub fn clients(
    store: &Store,
    cfg: &Config,
    clock: &Clock,
    cmd: Clients,
) -> Result<Value, AdminError> {
    if matches!(cmd, Clients::Grant { .. } | Clients::RevokeGrant { .. }) {
        return client_grants(store, cmd);
    }
    let Clients::Add {
        name,
        grants,
        public,
        metadata,
        trusted_forwarded_for,
    } = cmd
    else {
        return client_settings(store, cmd);
    };
    let secret = (!public).then(new_secret);
    let grant_types = if grants.is_empty() {
        vec!["password".to_owned()]
    } else {
        grants
    };
    let c = NewClient {
        client_id: random_id::<16>(),
        name,
        secret_hash: secret.as_deref().map(hash_secret),
        app_type: if public { "native" } else { "non_interactive" }.into(),
        grant_types,
        metadata: object(metadata.as_deref(), "--metadata")?,
        auth_method: if public {
            ClientAuth::None
        } else {
            ClientAuth::ClientSecretPost
        },
        trusted_forwarded_for,
        // Auth0 enables connections per application; a new one gets the default connection.
        connections: cfg.default_connection.iter().cloned().collect(),
    };
    let now = clock.now_rfc3339();
    let (c, connections) = store.call_sync(|db| {
        let c = db.insert_client(&c, &now)?;
        let connections = db.client_connections(&c.client_id)?;
        Ok((c, connections))
    })?;
    Ok(json!({
        "client_id": c.client_id,
        "client_secret": secret,
        "name": c.name,
        "grant_types": c.grant_types,
        "token_endpoint_auth_method": c.auth_method,
        "trusted_forwarded_for": c.trusted_forwarded_for,
        "connections": connections,
    }))
}

/// `clients update`, `enable-connection`, `disable-connection`: each prints the client's
/// settings as they now are.
/// `clients grant` / `clients revoke-grant`: client grants for the client-credentials grant.
fn client_grants(store: &Store, cmd: Clients) -> Result<Value, AdminError> {
    match cmd {
        Clients::Grant {
            client,
            audience,
            scopes,
        } => {
            store.call_sync(|db| db.set_client_grant(&client, &audience, &scopes))?;
            Ok(json!({"client_id": client, "audience": audience, "scope": scopes}))
        }
        Clients::RevokeGrant { client, audience } => {
            let removed = store.call_sync(|db| db.delete_client_grant(&client, &audience))?;
            if !removed {
                return Err(invalid(format!("{client} has no grant for {audience}")));
            }
            Ok(json!({"client_id": client, "audience": audience, "revoked": true}))
        }
        _ => Err(invalid("not a client grant command")),
    }
}

fn client_settings(store: &Store, cmd: Clients) -> Result<Value, AdminError> {
    let client_id = store.call_sync(|db| {
        let id = match &cmd {
            Clients::Update {
                client,
                trusted_forwarded_for,
            } => {
                if !db.set_trusted_forwarded_for(client, *trusted_forwarded_for)? {
                    return Err(StoreError::Invalid(format!("no client {client}")));
                }
                client
            }
            Clients::EnableConnection { client, connection } => {
                db.enable_connection(client, connection)?;
                client
            }
            Clients::DisableConnection { client, connection } => {
                db.disable_connection(client, connection)?;
                client
            }
            // `add` and the commands that have their own function never come here.
            _ => return Err(StoreError::Invalid("not a client settings command".into())),
        };
        Ok(id.clone())
    })?;
    let (c, connections) =
        store.call_sync(|db| Ok((db.client(&client_id)?, db.client_connections(&client_id)?)))?;
    let c = c.ok_or_else(|| invalid(format!("no client {client_id}")))?;
    Ok(json!({
        "client_id": c.client_id,
        "name": c.name,
        "trusted_forwarded_for": c.trusted_forwarded_for,
        "connections": connections,
    }))
}

pub fn apis(store: &Store, clock: &Clock, cmd: Apis) -> Result<Value, AdminError> {
    let Apis::Add {
        identifier,
        name,
        alg,
        lifetime,
        offline_access,
        rbac,
        permissions_in_token,
        scopes,
    } = cmd;
    let api = NewApi {
        name: name.unwrap_or_else(|| identifier.clone()),
        identifier,
        token_lifetime_s: lifetime.clamp(1, 2_592_000),
        signing_alg: alg,
        rbac_enabled: rbac,
        permissions_in_token,
        allow_offline_access: offline_access,
        scopes,
    };
    let now = clock.now_rfc3339();
    Ok(serde_json::to_value(store.call_sync(|db| db.insert_api(&api, &now))?).unwrap_or_default())
}

pub fn roles(store: &Store, cmd: Roles) -> Result<Value, AdminError> {
    match cmd {
        Roles::Add {
            name,
            description,
            api,
            permissions,
        } => {
            let id = store.call_sync(|db| {
                db.transaction(|db| {
                    let id = db.insert_role(&name, &description)?;
                    if let Some(aud) = &api {
                        let api = db
                            .api(aud)?
                            .ok_or_else(|| StoreError::Invalid(format!("unknown API {aud}")))?;
                        for p in &permissions {
                            db.grant_role_permission(&id, &api.id, p)?;
                        }
                    }
                    Ok(id)
                })
            })?;
            Ok(json!({"id": id, "name": name, "permissions": permissions}))
        }
        Roles::Assign { role, user } => {
            let u = store
                .call_sync(|db| db.find_user(UserRef(&user)))?
                .ok_or_else(|| invalid(format!("no user {user}")))?;
            store.call_sync(|db| db.assign_role(&role, &u.user_id))?;
            Ok(json!({"role": role, "user_id": u.user_id}))
        }
    }
}

pub fn orgs(store: &Store, clock: &Clock, cmd: Orgs) -> Result<Value, AdminError> {
    match cmd {
        Orgs::Add {
            name,
            display_name,
            metadata,
        } => {
            let metadata = object(metadata.as_deref(), "--metadata")?;
            let now = clock.now_rfc3339();
            let display = display_name.unwrap_or_else(|| name.clone());
            let o = store.call_sync(|db| db.insert_org(&name, &display, &metadata, &now))?;
            Ok(serde_json::to_value(o).unwrap_or_default())
        }
        Orgs::AddMember { org, user } => {
            let (o, u) =
                store.call_sync(|db| Ok((db.org(&org)?, db.find_user(UserRef(&user))?)))?;
            let o = o.ok_or_else(|| invalid(format!("no organization {org}")))?;
            let u = u.ok_or_else(|| invalid(format!("no user {user}")))?;
            store.call_sync(|db| db.add_member(&o.id, &u.user_id))?;
            Ok(json!({"org_id": o.id, "user_id": u.user_id}))
        }
    }
}

pub fn connections(store: &Store, clock: &Clock, cmd: Connections) -> Result<Value, AdminError> {
    let Connections::Set {
        name,
        metadata,
        options,
    } = cmd;
    let metadata = metadata
        .map(|m| object(Some(&m), "--metadata"))
        .transpose()?;
    let options = options.map(|o| object(Some(&o), "--options")).transpose()?;
    let now = clock.now_rfc3339();
    let row = store.call_sync(|db| {
        let c = db.ensure_connection(&name, &now)?;
        db.update_connection(&c.id, metadata.as_ref(), options.as_ref())?;
        db.connection_by_name(&name)
    })?;
    Ok(serde_json::to_value(row).unwrap_or_default())
}

pub fn keys(store: &Store, cfg: &Config, clock: &Clock, cmd: Keys) -> Result<Value, AdminError> {
    let Keys::Rotate { alg } = cmd;
    let alg = Alg::parse(&alg).ok_or_else(|| invalid("unknown algorithm"))?;
    let kid = crate::bootstrap::rotate_key(store, alg, cfg, clock)?;
    Ok(
        json!({"kid": kid, "alg": alg.as_str(), "note": "restart the server to sign with the new key"}),
    )
}
