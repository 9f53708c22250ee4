//! The password grants (`password` and Auth0's `password-realm`): authenticate the client, find
//! the connection, the API and the user, verify the password off the async workers, count the
//! login; then the shared login (`login.rs`: scripts, metadata, tokens) and, with
//! `offline_access`, the first refresh token of a family.

use super::login::{self, Account, Login, store_error};
use super::request::PasswordRequest;
use super::{Grant, attempts, client, refresh, scope};
use crate::credentials::needs_upgrade;
use crate::oauth::{OAuthError, TokenRequest, TokenResponse};
use crate::state::AppState;
use crate::store::{Api, Client, ConnectionRow, Organization, User};

/// What one trip to the store finds for a login, with the checks before the password passed.
struct Found {
    client: Client,
    connection: ConnectionRow,
    api: Option<Api>,
    user: Option<User>,
    org: Option<Organization>,
}

pub async fn issue(
    state: &AppState,
    req: &TokenRequest,
    grant: Grant,
) -> Result<TokenResponse, OAuthError> {
    let mut req = PasswordRequest::read(req, grant, &state.config)?;
    let found = find(state, &mut req, grant).await?;
    let user = check_password(state, &req, &found).await?;
    let account = count_login(state, &req, &found, user).await?;
    let offline = refresh::offline_allowed(&found.client, found.api.as_ref());
    let mut login = Login {
        client: found.client,
        connection: found.connection,
        api: found.api,
        org: found.org,
        audience: &req.audience,
        requested: scope::requested(req.scope),
        scope_given: req.scope.is_some(),
        offline,
        meta: &req.meta,
        body: req.body,
        protocol: "oauth2-password",
        gty: "password",
        refresh: None,
    };
    let (outcome, account, granted) = login::run_scripts(state, &mut login, account).await?;
    let mut tokens = login::sign_tokens(state, &login, &account, &outcome, &granted).await?;
    tokens.refresh_token = refresh::first(state, &login, &account, &granted, &outcome).await?;
    Ok(tokens)
}

/// Finds everything in one store trip, and makes every check that comes before the password: the
/// client, its grant, the audience, the connection and whether it is enabled for the client.
/// Settles the end user's IP once the client is authenticated.
async fn find(
    state: &AppState,
    req: &mut PasswordRequest<'_>,
    grant: Grant,
) -> Result<Found, OAuthError> {
    let realm = req.realm.map(str::to_owned);
    let conn_name = state
        .config
        .connection_or_default(realm)
        .unwrap_or_default();
    let (client_id, login) = (req.client.client_id.clone(), req.username.to_owned());
    let (aud, org) = (
        req.audience.api.clone(),
        req.organization.map(str::to_owned),
    );
    let (client, connection, api, user, org, enabled) = state
        .store
        .call(move |db| {
            let connection = db.connection_by_name(&conn_name)?;
            let (user, enabled) = match &connection {
                Some(c) => (
                    db.user_by_login(&c.id, &login)?,
                    db.is_connection_enabled(&client_id, &c.id)?,
                ),
                None => (None, false),
            };
            let api = aud.as_deref().map(|a| db.api(a)).transpose()?.flatten();
            let org = org.as_deref().map(|o| db.org(o)).transpose()?.flatten();
            Ok((db.client(&client_id)?, connection, api, user, org, enabled))
        })
        .await
        .map_err(store_error)?;

    let client = client::authenticate(&req.client, client)?;
    if let Some(ip) = client::forwarded_ip(&client, &req.meta, &state.forwarded_notices)? {
        req.meta.to_mut().ip = ip;
    }
    if !client
        .grant_types
        .iter()
        .any(|g| g == grant.as_str() || g == "password")
    {
        return Err(OAuthError::grant_not_allowed(grant.as_str()));
    }
    if let (Some(aud), None) = (&req.audience.api, &api) {
        return Err(OAuthError::service_not_enabled(aud));
    }
    // A user's token must never carry the Management API's scopes: it is for machines only.
    if req
        .audience
        .api
        .as_deref()
        .is_some_and(|aud| crate::mgmt::is_audience(&state.config.issuer, aud))
    {
        return Err(OAuthError::management_api_for_machines());
    }
    let Some(connection) = connection else {
        return Err(match req.realm {
            Some(r) => OAuthError::unknown_realm(r),
            None => OAuthError::no_default_connection(),
        });
    };
    // Before the password, as the realm check: it must not tell whether the user exists.
    if !enabled {
        return Err(OAuthError::connection_not_enabled());
    }
    Ok(Found {
        client,
        connection,
        api,
        user,
        org,
    })
}

/// Verifies the password (a dummy hash of the same scheme and cost when the user does not exist),
/// once brute-force protection has reserved the attempt; paces a failure to the slowest stored
/// hash so that it tells nothing; upgrades an old hash on success. Then the checks only the right
/// password may learn: a blocked user, an unknown organization.
async fn check_password(
    state: &AppState,
    req: &PasswordRequest<'_>,
    found: &Found,
) -> Result<User, OAuthError> {
    attempts::reserve(state, req, &found.connection.id).await?;
    let password = req.password.to_owned();
    let stored = found.user.as_ref().and_then(|u| u.password_hash.as_deref());
    let hash = stored.unwrap_or(&state.dummy_hash).to_owned();
    let verified = state
        .hashes
        .verify(password, hash.clone())
        .await
        .map_err(OAuthError::hashing_overloaded)?;
    let user = match &found.user {
        Some(u) if verified.ok && stored.is_some() => u.clone(),
        _ => {
            tokio::time::sleep(state.pace.after(&hash, verified.took)).await;
            return Err(OAuthError::wrong_credentials());
        }
    };
    state.pace.after(&hash, verified.took);
    if state.config.rehash_passwords && needs_upgrade(&hash) {
        attempts::upgrade_hash(state, req, &user, hash).await?;
    }
    if user.blocked {
        return Err(OAuthError::user_blocked());
    }
    if req.organization.is_some() && found.org.is_none() {
        return Err(OAuthError::not_a_member());
    }
    Ok(user)
}

/// Checks organization membership, counts the login (before the scripts run, so the first
/// login sees 1), resets the failure count, and reads roles and RBAC permissions: one trip.
async fn count_login(
    state: &AppState,
    req: &PasswordRequest<'_>,
    found: &Found,
    user: User,
) -> Result<Account, OAuthError> {
    let now = state.clock.now_rfc3339();
    let (uid, ip) = (user.user_id.clone(), req.meta.ip.clone());
    let (conn_id, login) = (found.connection.id.clone(), req.username.to_owned());
    let org_id = found.org.as_ref().map(|o| o.id.clone());
    let api_id = found
        .api
        .as_ref()
        .filter(|a| a.rbac_enabled)
        .map(|a| a.id.clone());
    let counted = state
        .store
        .call(move |db| {
            if let Some(o) = &org_id
                && !db.is_member(o, &uid)?
            {
                return Ok(None);
            }
            let count = db.record_login(&uid, &ip, &now)?;
            db.clear_login_failures(&conn_id, &login, &ip)?;
            let perms = api_id.map(|a| db.user_permissions(&uid, &a)).transpose()?;
            Ok(Some((count, db.user_roles(&uid)?, perms)))
        })
        .await
        .map_err(store_error)?;
    let Some((logins_count, roles, permissions)) = counted else {
        return Err(OAuthError::not_a_member());
    };
    Ok(Account {
        user: User {
            logins_count,
            ..user
        },
        roles,
        permissions,
    })
}
