//! The password grants (`password` and Auth0's `password-realm`): authenticate the client, find
//! the connection, the API and the user, verify the password off the async workers, count the
//! login, run the scripts, persist their metadata changes, and sign the tokens.

use serde_json::{Map, Value};

use super::{Grant, client, scope};
use crate::claims::Issue;
use crate::oauth::{ErrorCode, OAuthError, TokenRequest, TokenResponse};
use crate::pipeline::{LoginFacts, login_input};
use crate::script::{Outcome, Verdict};
use crate::state::AppState;
use crate::store::{Api, Client, ConnectionRow, Organization, StoreError, User};
use crate::token::Alg;

/// What one trip to the store finds for a login.
struct Found {
    client: Option<Client>,
    connection: Option<ConnectionRow>,
    api: Option<Api>,
    user: Option<User>,
    org: Option<Organization>,
    /// Brute-force protection blocks this login name from this IP.
    blocked: bool,
}

pub async fn issue(
    state: &AppState,
    req: &TokenRequest,
    grant: Grant,
) -> Result<TokenResponse, OAuthError> {
    let cfg = &state.config;
    let presented = client::presented(req)?;
    let username = req.require("username")?.to_owned();
    let password = req.require("password")?.to_owned();
    let realm = match grant {
        Grant::PasswordRealm => Some(req.require("realm")?.to_owned()),
        Grant::Password => None,
    };
    let audience = req
        .get("audience")
        .map(str::to_owned)
        .or_else(|| cfg.default_audience.clone());
    let org_ref = req.get("organization").map(str::to_owned);

    let conn_name = cfg.connection_or_default(realm.clone()).unwrap_or_default();
    let client_id = presented.client_id.clone();
    let (aud, login, org) = (audience.clone(), username.clone(), org_ref.clone());
    let (ip, now) = (req.meta.ip.clone(), state.clock.now_rfc3339());
    let found = state
        .store
        .call(move |db| {
            let connection = db.connection_by_name(&conn_name)?;
            let (user, blocked) = match &connection {
                Some(c) => (
                    db.user_by_login(&c.id, &login)?,
                    db.is_login_blocked(&c.id, &login, &ip, &now)?,
                ),
                None => (None, false),
            };
            Ok(Found {
                client: db.client(&client_id)?,
                api: aud.as_deref().map(|a| db.api(a)).transpose()?.flatten(),
                org: org.as_deref().map(|o| db.org(o)).transpose()?.flatten(),
                connection,
                user,
                blocked,
            })
        })
        .await
        .map_err(store_error)?;

    let client = client::authenticate(&presented, found.client)?;
    if !client
        .grant_types
        .iter()
        .any(|g| g == grant.as_str() || g == "password")
    {
        return Err(OAuthError::grant_not_allowed(grant.as_str()));
    }
    if let (Some(aud), None) = (&audience, &found.api) {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            format!(
                "Service not enabled within domain: {}",
                crate::oauth::clean(aud)
            ),
        ));
    }
    let Some(connection) = found.connection else {
        return Err(match realm {
            Some(r) => {
                OAuthError::invalid_request(format!("Unknown realm {}.", crate::oauth::clean(&r)))
            }
            None => OAuthError::server_error(
                "Authorization server not configured with default connection.",
                None,
            ),
        });
    };

    // Blocked names answer before any hashing, whether or not the user exists.
    if found.blocked {
        return Err(OAuthError::new(
            ErrorCode::TooManyAttempts,
            crate::oauth::TOO_MANY_ATTEMPTS,
        ));
    }
    // The same work whether or not the user exists: a dummy hash of the same scheme and cost.
    let hash = found
        .user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let verified = state.hashes.verify(password, hash).await.map_err(|e| {
        OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "Too many logins at once; retry shortly.",
        )
        .with_source(e)
    })?;
    let user = match found.user {
        Some(u) if verified && u.password_hash.is_some() => u,
        _ => {
            record_failure(state, &connection.id, &username, &req.meta.ip).await?;
            return Err(OAuthError::wrong_credentials());
        }
    };
    if user.blocked {
        return Err(OAuthError::new(ErrorCode::Unauthorized, "user is blocked"));
    }
    if org_ref.is_some() && found.org.is_none() {
        return Err(not_a_member());
    }

    let now = state.clock.now_rfc3339();
    let (uid, ip) = (user.user_id.clone(), req.meta.ip.clone());
    let (conn_id, login) = (connection.id.clone(), username.clone());
    let org_id = found.org.as_ref().map(|o| o.id.clone());
    let api_id = found
        .api
        .as_ref()
        .filter(|a| a.rbac_enabled)
        .map(|a| a.id.clone());
    let (logins_count, roles, member, permissions) = state
        .store
        .call(move |db| {
            let member = match &org_id {
                Some(o) => db.is_member(o, &uid)?,
                None => true,
            };
            if !member {
                return Ok((0, Vec::new(), false, None));
            }
            let count = db.record_login(&uid, &ip, &now)?;
            db.clear_login_failures(&conn_id, &login, &ip)?;
            let perms = api_id.map(|a| db.user_permissions(&uid, &a)).transpose()?;
            Ok((count, db.user_roles(&uid)?, true, perms))
        })
        .await
        .map_err(store_error)?;
    if !member {
        return Err(not_a_member());
    }
    let user = User {
        logins_count,
        ..user
    };

    let requested = scope::requested(req.get("scope"));
    let api = found.api.as_ref();
    let granted = scope::granted(
        &requested,
        req.get("scope").is_some(),
        api,
        permissions.as_deref(),
    );
    let audience = api.map_or_else(
        || format!("{}userinfo", cfg.issuer),
        |a| a.identifier.clone(),
    );
    let body: Map<String, Value> = req
        .redacted_params()
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    let input = login_input(LoginFacts {
        user: &user,
        client: &client,
        connection: &connection,
        meta: &req.meta,
        body,
        protocol: "oauth2-password",
        requested_scopes: requested,
        audience: audience.clone(),
        roles,
        organization: found.org.as_ref(),
        tenant: &cfg.tenant,
        now_ms: state.clock.now_ms(),
    });
    let outcome = state
        .pipeline
        .run(input)
        .await
        .map_err(|e| OAuthError::server_error(e.public_description(), Some(Box::new(e))))?;
    persist_metadata(state, &user.user_id, &outcome).await?;
    verdict(&outcome.verdict)?;

    let scopes = scope::apply(granted, &outcome.effects.scope_edits);
    let issue = Issue {
        issuer: &cfg.issuer,
        sub: &user.user_id,
        client_id: &client.client_id,
        audience: &audience,
        iat: state.clock.now_secs(),
        access_lifetime_s: api.map_or(cfg.access_token_lifetime_s, |a| a.token_lifetime_s),
        id_lifetime_s: cfg.id_token_lifetime_s,
        scopes: &scopes,
        gty: "password",
        org: found.org.as_ref().map(|o| (o.id.as_str(), o.name.as_str())),
        permissions: api
            .filter(|a| a.permissions_in_token)
            .and(permissions.as_deref()),
    };
    let too_large = |e: crate::claims::ClaimsTooLarge| {
        OAuthError::server_error(
            format!(
                "Script '{}' set more than 100 KB of custom claims for one token (claims too large).",
                e.script
            ),
            None,
        )
    };
    let access = issue
        .access_claims(&outcome.effects.access_claims)
        .map_err(too_large)?;
    let alg = api
        .and_then(|a| Alg::parse(&a.signing_alg))
        .unwrap_or(Alg::RS256);
    let id = if scopes.iter().any(|s| s == "openid") {
        Some(
            issue
                .id_claims(&user, &outcome.effects.id_claims)
                .map_err(too_large)?,
        )
    } else {
        None
    };
    // RSA signing takes ~340 µs per token: off the async workers, both tokens in one trip.
    let keys = state.keys.clone();
    let (access_token, id_token) = tokio::task::spawn_blocking(move || {
        let access = keys.sign(alg, &access)?;
        let id = id.map(|c| keys.sign(Alg::RS256, &c)).transpose()?;
        Ok::<_, crate::token::SignError>((access, id))
    })
    .await
    .map_err(OAuthError::internal)?
    .map_err(OAuthError::internal)?;
    tracing::info!(user_id = %user.user_id, client_id = %client.client_id, audience = %audience, "login");
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: issue.access_lifetime_s,
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        id_token,
        refresh_token: None,
    })
}

/// Counts a failed password login; at the threshold the name is blocked from this IP.
async fn record_failure(
    state: &AppState,
    connection_id: &str,
    login: &str,
    ip: &str,
) -> Result<(), OAuthError> {
    let cfg = &state.config;
    if cfg.brute_force_threshold == 0 {
        return Ok(());
    }
    let now_ms = state.clock.now_ms();
    let until = crate::clock::rfc3339(now_ms + cfg.brute_force_block.as_millis() as i64);
    let (c, l, i, now, threshold) = (
        connection_id.to_owned(),
        login.to_owned(),
        ip.to_owned(),
        crate::clock::rfc3339(now_ms),
        cfg.brute_force_threshold,
    );
    let blocked = state
        .store
        .call(move |db| db.record_login_failure(&c, &l, &i, &now, threshold, &until))
        .await
        .map_err(store_error)?;
    if blocked {
        tracing::warn!(ip, "login name blocked after repeated failures");
    }
    Ok(())
}

fn not_a_member() -> OAuthError {
    OAuthError::new(
        ErrorCode::AccessDenied,
        "User is not a member of the organization.",
    )
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

/// The scripts' verdict as the Decisions table answers it.
fn verdict(v: &Verdict) -> Result<(), OAuthError> {
    match v {
        Verdict::Allow => Ok(()),
        Verdict::Deny(reason) => Err(OAuthError::script_denied(ErrorCode::AccessDenied, reason)),
        Verdict::Unauthorized(reason) => {
            Err(OAuthError::script_denied(ErrorCode::Unauthorized, reason))
        }
        Verdict::MfaRequired => Err(OAuthError::new(
            ErrorCode::MfaRequired,
            "Multifactor authentication required",
        )),
        Verdict::InteractionRequired(reason) => Err(OAuthError::script_denied(
            ErrorCode::InteractionRequired,
            reason,
        )),
    }
}

fn store_error(e: StoreError) -> OAuthError {
    match e {
        StoreError::Busy => OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "The database is busy; retry shortly.",
        )
        .with_source(e),
        e => OAuthError::internal(e),
    }
}
