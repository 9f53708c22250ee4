//! The password grants (`password` and Auth0's `password-realm`): authenticate the client, find
//! the connection, the API and the user, verify the password off the async workers, count the
//! login, run the scripts, persist their metadata changes, and sign the tokens.

use super::request::PasswordRequest;
use super::scope::Granted;
use super::size::{self, Measured};
use super::{Grant, attempts, client, scope, verdict};
use crate::claims::Issue;
use crate::credentials::needs_upgrade;
use crate::oauth::{OAuthError, TokenRequest, TokenResponse};
use crate::script::{LoginInput, Outcome, RequestInfo, user_profile};
use crate::state::AppState;
use crate::store::{Api, Client, ConnectionRow, Organization, StoreError, User};
use crate::token::Alg;

/// What one trip to the store finds for a login, with the checks before the password passed.
struct Found {
    client: Client,
    connection: ConnectionRow,
    api: Option<Api>,
    user: Option<User>,
    org: Option<Organization>,
}

/// The user's standing once the login counts: roles, and permissions on an RBAC API.
struct Account {
    user: User,
    roles: Vec<String>,
    permissions: Option<Vec<String>>,
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
    let (outcome, account, scopes) = run_scripts(state, &mut req, &found, account).await?;
    sign_tokens(state, &req, &found, &account, &outcome, scopes).await
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

/// Runs the Rules and Actions, persists their metadata changes (also on a deny), answers their
/// verdict, switches to the primary user a script named, and returns the outcome and the account
/// the tokens are for, with the scopes granted after the scripts' edits (refusing a list no token
/// of `max_token_bytes` could hold).
async fn run_scripts(
    state: &AppState,
    req: &mut PasswordRequest<'_>,
    found: &Found,
    account: Account,
) -> Result<(Outcome, Account, Granted), OAuthError> {
    let requested = scope::requested(req.scope);
    let api = found.api.as_ref();
    let user = &account.user;
    let input = LoginInput {
        user: user_profile(user),
        client: (&found.client).into(),
        connection: (&found.connection).into(),
        // The scripts' copy: nothing after them reads the body.
        request: RequestInfo::new(&req.meta, std::mem::take(&mut req.body)),
        protocol: "oauth2-password".into(),
        requested_scopes: requested.clone(),
        audience: req.audience.aud.clone(),
        roles: account.roles.clone(),
        organization: found.org.as_ref().map(Into::into),
        logins_count: user.logins_count,
        tenant: state.config.tenant.clone(),
        now_ms: state.clock.now_ms(),
        transaction_id: crate::credentials::random_id::<16>(),
    };
    let run = state.pipeline.run(input).await;
    if let Ok(outcome) = &run {
        // Also on a deny, before it is answered (as Auth0 does).
        persist_metadata(state, &account.user.user_id, outcome).await?;
    }
    let outcome = verdict::decide(run)?;
    let account = primary_user(state, found, &outcome, account).await?;
    let permissions = account.permissions.as_deref();
    let granted = scope::granted(&requested, req.scope.is_some(), api, permissions);
    let max = state.config.max_token_bytes;
    let scopes = scope::apply(granted, &outcome.effects.scope_edits, max)
        .map_err(|script| size::too_large("access token", max, script, max + 1))?;
    Ok((outcome, account, scopes))
}

/// `api.authentication.setPrimaryUser(id)` or a Rule's `context.primaryUser`: the tokens are issued
/// for that user (`sub`, ID-token profile, its own RBAC permissions) when it exists and is not
/// blocked; otherwise the login fails, as Auth0's does ("tokens will not be issued").
async fn primary_user(
    state: &AppState,
    found: &Found,
    outcome: &Outcome,
    account: Account,
) -> Result<Account, OAuthError> {
    let Some(id) = outcome.effects.primary_user.clone() else {
        return Ok(account);
    };
    if id == account.user.user_id {
        return Ok(account);
    }
    let lookup = id.clone();
    let api_id = found
        .api
        .as_ref()
        .filter(|a| a.rbac_enabled)
        .map(|a| a.id.clone());
    let primary = state
        .store
        .call(move |db| {
            let Some(user) = db.user_by_id(&lookup)? else {
                return Ok(None);
            };
            let perms = api_id
                .map(|a| db.user_permissions(&user.user_id, &a))
                .transpose()?;
            let roles = db.user_roles(&user.user_id)?;
            Ok(Some((user, roles, perms)))
        })
        .await
        .map_err(store_error)?;
    match primary {
        Some((user, roles, permissions)) if !user.blocked => Ok(Account {
            user,
            roles,
            permissions,
        }),
        _ => Err(OAuthError::no_primary_user(&id)),
    }
}

/// Builds both tokens' claims, checks their size, and signs them.
async fn sign_tokens(
    state: &AppState,
    req: &PasswordRequest<'_>,
    found: &Found,
    account: &Account,
    outcome: &Outcome,
    granted: Granted,
) -> Result<TokenResponse, OAuthError> {
    let audience = req.audience.aud.as_str();
    let cfg = &state.config;
    let scopes = &granted.scopes;
    let api = found.api.as_ref();
    let issue = Issue {
        issuer: &cfg.issuer,
        sub: &account.user.user_id,
        client_id: &found.client.client_id,
        audience,
        iat: state.clock.now_secs(),
        access_lifetime_s: api.map_or(cfg.access_token_lifetime_s, |a| a.token_lifetime_s),
        id_lifetime_s: cfg.id_token_lifetime_s,
        scopes,
        gty: "password",
        org: found.org.as_ref().map(|o| (o.id.as_str(), o.name.as_str())),
        permissions: api
            .filter(|a| a.permissions_in_token)
            .and(account.permissions.as_deref()),
    };
    let too_large = |e: crate::claims::ClaimsTooLarge| OAuthError::claims_too_large(&e.script);
    let access = issue
        .access_claims(&outcome.effects.access_claims)
        .map_err(too_large)?;
    let alg = api
        .and_then(|a| Alg::parse(&a.signing_alg))
        .unwrap_or(Alg::RS256);
    let max = cfg.max_token_bytes;
    let measured = Measured {
        token: "access token",
        alg,
        claims: &access,
        custom: &outcome.effects.access_claims,
        scopes: Some(&granted),
    };
    size::check(&state.keys, max, &measured)?;
    let id = match scopes.iter().any(|s| s == "openid") {
        true => Some(
            issue
                .id_claims(&account.user, &outcome.effects.id_claims)
                .map_err(too_large)?,
        ),
        false => None,
    };
    if let Some(claims) = &id {
        let measured = Measured {
            token: "ID token",
            alg: Alg::RS256,
            claims,
            custom: &outcome.effects.id_claims,
            scopes: None,
        };
        size::check(&state.keys, max, &measured)?;
    }
    let (access_token, id_token) = state
        .keys
        .sign_off_workers((alg, access), id.map(|c| (Alg::RS256, c)))
        .await
        .map_err(OAuthError::internal)?;
    tracing::info!(user_id = %account.user.user_id, client_id = %found.client.client_id, %audience, "login");
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: issue.access_lifetime_s,
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        id_token,
        refresh_token: None,
    })
}

/// Pending `api.user.set*Metadata` changes are written once, in one transaction, after the last
/// script, also when the login is denied (as Auth0 does).
async fn persist_metadata(
    state: &AppState,
    user_id: &str,
    outcome: &Outcome,
) -> Result<(), OAuthError> {
    let (app, user) = (
        &outcome.effects.app_metadata,
        &outcome.effects.user_metadata,
    );
    if app.is_empty() && user.is_empty() {
        return Ok(());
    }
    let (id, app, user, now) = (
        user_id.to_owned(),
        app.clone(),
        user.clone(),
        state.clock.now_rfc3339(),
    );
    state
        .store
        .call(move |db| db.patch_metadata(&id, &app, &user, &now))
        .await
        .map_err(store_error)?;
    Ok(())
}

/// A SQL failure is internal; a database busy past its timeout will pass (503).
pub(super) fn store_error(e: StoreError) -> OAuthError {
    match e {
        StoreError::Busy => OAuthError::store_busy(e),
        e => OAuthError::internal(e),
    }
}
