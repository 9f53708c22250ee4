//! Refresh tokens: the first of a family (a password login with `offline_access`), and the
//! `refresh_token` grant, which checks the presented token, rotates it, re-runs the scripts with
//! protocol `oauth2-refresh-token` (no `logins_count` increment) and issues new tokens.
//!
//! Every refusal of a token is the one `invalid_grant` (Decisions: "unknown, revoked, expired or
//! reused refresh token"), so a client learns nothing about why. Reuse of a rotated token
//! revokes its whole family (Auth0's automatic reuse detection), except within
//! `refresh_token_reuse_leeway_s` of its rotation, and only for the token rotated last.

use serde_json::{Map, Value, json};

use super::client;
use super::login::{self, Account, Login, store_error};
use super::request::Audience;
use super::scope::{self, Granted, OFFLINE};
use crate::clock::rfc3339;
use crate::credentials::{hash_secret, new_secret};
use crate::oauth::{OAuthError, TokenRequest, TokenResponse};
use crate::script::{Outcome, RefreshEdit};
use crate::state::AppState;
use crate::store::{Api, Client, ConnectionRow, NewRefresh, Organization, RefreshToken, User};

/// The `grant_type` that exchanges refresh tokens, as listed in a client's grant types.
pub const GRANT: &str = "refresh_token";

/// Whether a login may be granted `offline_access` (spec §5.2: the API allows offline access
/// and the client has the `refresh_token` grant).
pub(super) fn offline_allowed(client: &Client, api: Option<&Api>) -> bool {
    api.is_some_and(|a| a.allow_offline_access) && client.grant_types.iter().any(|g| g == GRANT)
}

/// The first refresh token of a family, when `offline_access` was granted.
pub(super) async fn first(
    state: &AppState,
    login: &Login<'_>,
    account: &Account,
    granted: &Granted,
    outcome: &Outcome,
) -> Result<Option<String>, OAuthError> {
    if !login.offline || !granted.scopes.iter().any(|s| s == OFFLINE) {
        return Ok(None);
    }
    let token = new_secret();
    let hash = hash_secret(&token);
    let now_ms = state.clock.now_ms();
    let expires_at = rfc3339(now_ms + secs_ms(state.config.refresh_token_lifetime_s));
    let idle_expires_at = rfc3339(now_ms + secs_ms(state.config.refresh_token_idle_lifetime_s));
    // At a login only the metadata edits apply: there is no token yet to revoke or shorten.
    let metadata = apply_metadata(Map::new(), &outcome.effects.refresh_token);
    let (uid, cid) = (account.user.user_id.clone(), login.client.client_id.clone());
    let aud = login.audience.aud.clone();
    let scope = granted.scopes.join(" ");
    let org = login.org.as_ref().map(|o| o.id.clone());
    let now = rfc3339(now_ms);
    state
        .store
        .call(move |db| {
            let new = NewRefresh {
                token_hash: &hash,
                family_id: None,
                user_id: &uid,
                client_id: &cid,
                audience: &aud,
                scope: &scope,
                org_id: org.as_deref(),
                metadata: &metadata,
                expires_at: &expires_at,
                idle_expires_at: &idle_expires_at,
            };
            db.insert_refresh_token(&new, &now)
        })
        .await
        .map_err(store_error)?;
    Ok(Some(token))
}

/// What one store trip finds for a presented refresh token.
struct Found {
    client: Option<Client>,
    token: Option<Stored>,
}

struct Stored {
    row: RefreshToken,
    /// A later token of the family was rotated: this one may not be reused even in the leeway.
    rotated_after: bool,
    user: Option<User>,
    connection: Option<ConnectionRow>,
    api: Option<Api>,
    org: Option<Organization>,
    roles: Vec<String>,
    permissions: Option<Vec<String>>,
}

/// `grant_type=refresh_token`.
pub async fn issue(state: &AppState, req: &TokenRequest) -> Result<TokenResponse, OAuthError> {
    let presented = client::presented(req)?;
    let presented_token = req.require("refresh_token")?;
    let hash = hash_secret(presented_token);
    let client_id = presented.client_id.clone();
    let found = state
        .store
        .call(move |db| {
            let client = db.client(&client_id)?;
            let Some(row) = db.refresh_token(&hash)? else {
                return Ok(Found {
                    client,
                    token: None,
                });
            };
            let user = db.user_by_id(&row.user_id)?;
            let mut connection = match &user {
                Some(u) => db.connection_by_name(&u.connection)?,
                None => None,
            };
            // A connection since disabled for the client ends its users' refresh tokens too.
            if let Some(c) = &connection
                && !db.is_connection_enabled(&row.client_id, &c.id)?
            {
                connection = None;
            }
            let api = db.api(&row.audience)?;
            let org = row
                .org_id
                .as_deref()
                .map(|o| db.org(o))
                .transpose()?
                .flatten();
            let rbac = api
                .as_ref()
                .filter(|a| a.rbac_enabled)
                .map(|a| a.id.clone());
            let (roles, permissions) = match &user {
                Some(u) => (
                    db.user_roles(&u.user_id)?,
                    rbac.map(|a| db.user_permissions(&u.user_id, &a))
                        .transpose()?,
                ),
                None => (Vec::new(), None),
            };
            let rotated_after = db.refresh_rotated_after(&row.family_id, &row.id)?;
            Ok(Found {
                client,
                token: Some(Stored {
                    row,
                    rotated_after,
                    user,
                    connection,
                    api,
                    org,
                    roles,
                    permissions,
                }),
            })
        })
        .await
        .map_err(store_error)?;
    let client = client::authenticate(&presented, found.client)?;
    let meta = client::effective_meta(&client, &req.meta, &state.forwarded_notices)?;
    if !client.grant_types.iter().any(|g| g == GRANT) {
        return Err(OAuthError::grant_not_allowed(GRANT));
    }
    let stored = found.token.ok_or_else(OAuthError::invalid_refresh_token)?;
    let user = check(state, &client, &stored).await?;
    let Some(connection) = stored.connection else {
        return Err(OAuthError::invalid_refresh_token());
    };
    if user.blocked {
        return Err(OAuthError::user_blocked());
    }
    let row = stored.row;
    // A narrower `scope` narrows the tokens; scopes beyond the original grant are dropped, as
    // scopes that are not allowed always are (README, "Scopes").
    let original = scope::requested(Some(&row.scope));
    let requested: Vec<String> = match req.get("scope") {
        Some(s) => scope::requested(Some(s))
            .into_iter()
            .filter(|s| original.contains(s))
            .collect(),
        None => original.clone(),
    };
    let audience = Audience {
        api: stored.api.as_ref().map(|a| a.identifier.clone()),
        aud: row.audience.clone(),
    };
    let offline = offline_allowed(&client, stored.api.as_ref());
    let mut login = Login {
        client,
        connection,
        api: stored.api,
        org: stored.org,
        audience: &audience,
        requested,
        scope_given: true,
        offline,
        meta: &meta,
        body: req
            .redacted_params()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect(),
        protocol: "oauth2-refresh-token",
        gty: GRANT,
        refresh: Some(row),
    };
    let account = Account {
        user,
        roles: stored.roles,
        permissions: stored.permissions,
    };
    let (outcome, account, granted) = login::run_scripts(state, &mut login, account).await?;
    let mut tokens = login::sign_tokens(state, &login, &account, &outcome, &granted).await?;
    if let Some(row) = &login.refresh {
        tokens.refresh_token = Some(rotate(state, row, &outcome.effects.refresh_token).await?);
    }
    Ok(tokens)
}

/// Checks the presented token: this client's, not revoked, within its absolute and idle
/// lifetimes, and not rotated (beyond the leeway: then its family is revoked). Returns its user.
async fn check(state: &AppState, client: &Client, s: &Stored) -> Result<User, OAuthError> {
    let invalid = OAuthError::invalid_refresh_token;
    let t = &s.row;
    let now_ms = state.clock.now_ms();
    let now = rfc3339(now_ms);
    // Times are written by `rfc3339` in one fixed format, so they compare as strings.
    let idle_expired = match &t.idle_expires_at {
        Some(at) => *at <= now,
        None => {
            t.created_at <= rfc3339(now_ms - secs_ms(state.config.refresh_token_idle_lifetime_s))
        }
    };
    if t.client_id != client.client_id
        || t.revoked_at.is_some()
        || t.expires_at <= now
        || idle_expired
    {
        return Err(invalid());
    }
    if let Some(rotated) = &t.rotated_at {
        let leeway_since = rfc3339(now_ms - secs_ms(state.config.refresh_token_reuse_leeway_s));
        let leeway = state.config.refresh_token_reuse_leeway_s > 0;
        if !(leeway && !s.rotated_after && *rotated >= leeway_since) {
            let family = t.family_id.clone();
            let revoked = state
                .store
                .call(move |db| db.revoke_refresh_family(&family, &now))
                .await
                .map_err(store_error)?;
            tracing::warn!(client_id = %client.client_id, user_id = %t.user_id, revoked,
                "a rotated refresh token was presented again: its family is revoked (reuse detection)");
            return Err(invalid());
        }
    }
    s.user.clone().ok_or_else(invalid)
}

/// `api.refreshToken.revoke(reason)` on a refresh exchange: the family is revoked (the login is
/// denied by the verdict); called before the verdict is answered.
pub(super) async fn revoke_if_asked(
    state: &AppState,
    t: &RefreshToken,
    outcome: &Outcome,
) -> Result<(), OAuthError> {
    if !outcome.effects.refresh_token.contains(&RefreshEdit::Revoke) {
        return Ok(());
    }
    let (family, now) = (t.family_id.clone(), state.clock.now_rfc3339());
    state
        .store
        .call(move |db| db.revoke_refresh_family(&family, &now))
        .await
        .map_err(store_error)?;
    tracing::info!(user_id = %t.user_id, "refresh token revoked by an Action");
    Ok(())
}

/// The metadata after `api.refreshToken.setMetadata/deleteMetadata/evictMetadata`, in order.
fn apply_metadata(mut m: Map<String, Value>, edits: &[RefreshEdit]) -> Map<String, Value> {
    for e in edits {
        match e {
            RefreshEdit::SetMetadata(k, v) => {
                m.insert(k.clone(), Value::from(v.as_str()));
            }
            RefreshEdit::DeleteMetadata(k) => {
                m.remove(k);
            }
            RefreshEdit::EvictMetadata => m.clear(),
            _ => {}
        }
    }
    m
}

/// Marks `old` rotated and stores its successor in the family, with the Actions' edits: an
/// absolute expiry only ever earlier than the family's, an idle expiry instead of the configured
/// one (never past the absolute one), the metadata. Returns the new token.
async fn rotate(
    state: &AppState,
    old: &RefreshToken,
    edits: &[RefreshEdit],
) -> Result<String, OAuthError> {
    let token = new_secret();
    let hash = hash_secret(&token);
    let old = old.clone();
    let now_ms = state.clock.now_ms();
    let now = rfc3339(now_ms);
    let mut expires_at = old.expires_at.clone();
    let mut idle_expires_at = rfc3339(now_ms + secs_ms(state.config.refresh_token_idle_lifetime_s));
    for e in edits {
        match e {
            RefreshEdit::ExpiresAt(ms) => expires_at = expires_at.min(rfc3339(*ms)),
            RefreshEdit::IdleExpiresAt(ms) => idle_expires_at = rfc3339(*ms),
            _ => {}
        }
    }
    let idle_expires_at = idle_expires_at.min(expires_at.clone());
    let metadata = apply_metadata(old.metadata.clone(), edits);
    // Two exchanges of one token can race past `check`; the second to rotate is a retry within
    // the leeway when there is one, else reuse.
    let retry = state.config.refresh_token_reuse_leeway_s > 0;
    let family = old.family_id.clone();
    let rotated = state
        .store
        .call(move |db| {
            let new = NewRefresh {
                token_hash: &hash,
                family_id: Some(&old.family_id),
                user_id: &old.user_id,
                client_id: &old.client_id,
                audience: &old.audience,
                scope: &old.scope,
                org_id: old.org_id.as_deref(),
                metadata: &metadata,
                expires_at: &expires_at,
                idle_expires_at: &idle_expires_at,
            };
            db.rotate_refresh_token(&old.id, &new, &now, retry)
        })
        .await
        .map_err(store_error)?;
    if rotated.is_none() {
        let now = state.clock.now_rfc3339();
        state
            .store
            .call(move |db| db.revoke_refresh_family(&family, &now))
            .await
            .map_err(store_error)?;
        tracing::warn!(
            "a refresh token was exchanged twice at once: its family is revoked (reuse detection)"
        );
        return Err(OAuthError::invalid_refresh_token());
    }
    Ok(token)
}

/// `event.refresh_token` (Auth0's refresh-token object; no device or session here).
pub(super) fn event_refresh_token(state: &AppState, t: &RefreshToken) -> Value {
    let idle_ms = secs_ms(state.config.refresh_token_idle_lifetime_s);
    let idle_expires_at = match &t.idle_expires_at {
        Some(at) => Value::from(at.as_str()),
        None => crate::clock::parse_rfc3339_ms(&t.created_at)
            .map(|c| rfc3339(c + idle_ms))
            .map_or(Value::Null, Value::from),
    };
    json!({
        "id": t.id,
        "user_id": t.user_id,
        "client_id": t.client_id,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "idle_expires_at": idle_expires_at,
        "last_exchanged_at": t.rotated_at,
        "rotating": true,
        "resource_servers": [{"audience": t.audience, "scopes": t.scope}],
        "metadata": t.metadata,
    })
}

fn secs_ms(s: u64) -> i64 {
    i64::try_from(s)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

/// `POST /oauth/revoke` (RFC 7009, Auth0's body `{client_id, client_secret?, token}`): revokes the
/// refresh token's whole family when it is this client's. An unknown token, or another client's,
/// is answered the same (200) and left alone, so that the answer tells nothing.
pub async fn revoke(state: &AppState, req: &TokenRequest) -> Result<(), OAuthError> {
    let presented = client::presented(req)?;
    let token = req.require("token")?;
    let hash = hash_secret(token);
    let client_id = presented.client_id.clone();
    let (client, row) = state
        .store
        .call(move |db| Ok((db.client(&client_id)?, db.refresh_token(&hash)?)))
        .await
        .map_err(store_error)?;
    let client = client::authenticate(&presented, client)?;
    let Some(row) = row.filter(|r| r.client_id == client.client_id) else {
        return Ok(());
    };
    let now = state.clock.now_rfc3339();
    let family = row.family_id;
    state
        .store
        .call(move |db| db.revoke_refresh_family(&family, &now))
        .await
        .map_err(store_error)?;
    tracing::info!(client_id = %client.client_id, user_id = %row.user_id, "refresh token revoked");
    Ok(())
}
