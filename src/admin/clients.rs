//! `clients`: create, list, show, change settings and connections, grants, rotate the
//! secret, remove. A secret is printed once, when it is made; it is stored hashed.

use serde_json::{Value, json};

use super::{AdminError, invalid, object};
use crate::cli::Clients;
use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::{hash_secret, new_secret, random_id};
use crate::store::{Client, ClientAuth, NewClient, Store, StoreError};

pub fn clients(
    store: &Store,
    cfg: &Config,
    clock: &Clock,
    cmd: Clients,
) -> Result<Value, AdminError> {
    match cmd {
        Clients::Grant { .. } | Clients::RevokeGrant { .. } => return client_grants(store, cmd),
        Clients::List => {
            let all = store.call_sync(|db| db.list_clients())?;
            return Ok(Value::Array(all.iter().map(client_json).collect()));
        }
        Clients::Show { client } => return show(store, &client),
        Clients::Remove { client } => {
            // Its grants, enabled connections and refresh tokens go with it (ON DELETE CASCADE).
            if !store.call_sync(|db| db.transaction(|db| db.delete_client(&client)))? {
                return Err(invalid(format!("no client {client}")));
            }
            return Ok(json!({"client_id": client, "removed": true}));
        }
        Clients::RotateSecret { client } => return rotate_secret(store, &client),
        _ => {}
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

/// A client as `list` and `show` print it: never its secret (only whether it has one).
fn client_json(c: &Client) -> Value {
    let mut doc = serde_json::to_value(c).unwrap_or_default();
    doc["confidential"] = json!(c.secret_hash.is_some());
    doc
}

fn show(store: &Store, client: &str) -> Result<Value, AdminError> {
    let (c, connections) =
        store.call_sync(|db| Ok((db.client(client)?, db.client_connections(client)?)))?;
    let c = c.ok_or_else(|| invalid(format!("no client {client}")))?;
    let mut doc = client_json(&c);
    doc["connections"] = json!(connections);
    Ok(doc)
}

/// A new secret for a confidential client, printed once; the old hash is replaced in the same
/// transaction, so the old secret stops working with the next request.
fn rotate_secret(store: &Store, client: &str) -> Result<Value, AdminError> {
    let secret = new_secret();
    let hash = hash_secret(&secret);
    store.call_sync(|db| {
        db.transaction(|db| {
            let c = db
                .client(client)?
                .ok_or_else(|| StoreError::Invalid(format!("no client {client}")))?;
            if c.secret_hash.is_none() {
                return Err(StoreError::Invalid(format!(
                    "{client} is a public client: it has no secret to rotate"
                )));
            }
            db.set_client_secret(client, &hash)
        })
    })?;
    Ok(json!({"client_id": client, "client_secret": secret}))
}

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
    // `clients update`, `enable-connection`, `disable-connection`: each prints the client's
    // settings as they now are.
    Ok(json!({
        "client_id": c.client_id,
        "name": c.name,
        "trusted_forwarded_for": c.trusted_forwarded_for,
        "connections": connections,
    }))
}
