//! What every grant that logs a user in does once it knows who (password, refresh): run the
//! scripts, persist their metadata changes, answer their verdict, switch to a primary user, grant
//! the scopes, and sign the tokens. One home, so that the grants cannot drift apart.

use serde_json::{Map, Value};

use super::request::Audience;
use super::scope::{self, Granted};
use super::size::{self, Measured};
use super::verdict;
use crate::claims::Issue;
use crate::oauth::{OAuthError, RequestMeta, TokenResponse};
use crate::script::{LoginInput, Outcome, RequestInfo, ScriptError, Verdict, user_profile};
use crate::state::AppState;
use crate::store::{
    Api, Client, ConnectionRow, NewRecordedLogin, Organization, RefreshToken, StoreError, User,
};
use crate::token::Alg;

/// Who logs in, through what, for which audience: what the grant found and checked.
pub(super) struct Login<'a> {
    pub client: Client,
    pub connection: ConnectionRow,
    pub api: Option<Api>,
    pub org: Option<Organization>,
    pub audience: &'a Audience,
    /// The scopes asked for, and whether a `scope` was given at all (none: every API scope).
    pub requested: Vec<String>,
    pub scope_given: bool,
    /// Whether `offline_access` may be granted: the API allows offline access and the client
    /// has the `refresh_token` grant.
    pub offline: bool,
    pub meta: &'a RequestMeta,
    /// `event.request.body`: the parameters without the secrets.
    pub body: Map<String, Value>,
    /// `oauth2-password` or `oauth2-refresh-token`.
    pub protocol: &'static str,
    /// The access token's `gty`.
    pub gty: &'static str,
    /// The refresh token presented on a refresh exchange (`event.refresh_token`).
    pub refresh: Option<RefreshToken>,
}

/// The user's standing once the login counts: roles, and permissions on an RBAC API.
pub(super) struct Account {
    pub user: User,
    pub roles: Vec<String>,
    pub permissions: Option<Vec<String>>,
}

/// Runs the Rules and Actions, persists their metadata changes (also on a deny), answers their
/// verdict, switches to the primary user a script named, and returns the outcome and the account
/// the tokens are for, with the scopes granted after the scripts' edits (refusing a list no token
/// of `max_token_bytes` could hold).
pub(super) async fn run_scripts(
    state: &AppState,
    login: &mut Login<'_>,
    account: Account,
) -> Result<(Outcome, Account, Granted), OAuthError> {
    let user = &account.user;
    let input = LoginInput {
        user: user_profile(user),
        client: (&login.client).into(),
        connection: (&login.connection).into(),
        // The scripts' copy: nothing after them reads the body.
        request: RequestInfo::new(login.meta, std::mem::take(&mut login.body)),
        protocol: login.protocol.into(),
        requested_scopes: login.requested.clone(),
        audience: login.audience.aud.clone(),
        roles: account.roles.clone(),
        organization: login.org.as_ref().map(Into::into),
        logins_count: user.logins_count,
        tenant: state.config.tenant.clone(),
        now_ms: state.clock.now_ms(),
        transaction_id: crate::credentials::random_id::<16>(),
        refresh_token: login
            .refresh
            .as_ref()
            .map(|t| super::refresh::event_refresh_token(state, t)),
    };
    // `[debug] record`: the event as the scripts see it, before they get it.
    let recording = state
        .config
        .debug
        .record
        .then(|| recording(state, login, &input));
    let run = state.pipeline.run(input).await;
    if let Some(r) = recording {
        record(state, r, &run).await;
    }
    if let Ok(outcome) = &run {
        // Also on a deny, before it is answered (as Auth0 does).
        persist_metadata(state, &account.user.user_id, outcome).await?;
        if let Some(t) = &login.refresh {
            super::refresh::revoke_if_asked(state, t, outcome).await?;
        }
    }
    let outcome = verdict::decide(run)?;
    let account = primary_user(state, login, &outcome, account).await?;
    let permissions = account.permissions.as_deref();
    let api = login.api.as_ref();
    let granted = scope::granted(
        &login.requested,
        login.scope_given,
        api,
        permissions,
        login.offline,
    );
    let max = state.config.max_token_bytes;
    let scopes = scope::apply(granted, &outcome.effects.scope_edits, max)
        .map_err(|script| size::too_large("access token", max, script, max + 1))?;
    Ok((outcome, account, scopes))
}

/// A recording of this login (`[debug] record`, README "Recorded logins"): who, through which
/// grant, and the `event` an Action sees; the verdict comes once the scripts ran.
fn recording(state: &AppState, login: &Login<'_>, input: &LoginInput) -> NewRecordedLogin {
    let grant = input.request.body.get("grant_type").and_then(Value::as_str);
    NewRecordedLogin {
        recorded_at: state.clock.now_rfc3339(),
        client_id: login.client.client_id.clone(),
        user_id: input.user["user_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        grant: grant.unwrap_or(login.gty).to_owned(),
        protocol: login.protocol.to_owned(),
        verdict: String::new(),
        reason: None,
        event: crate::script::event_json(input),
    }
}

/// Writes the recording with the scripts' verdict, on the store's blocking pool (the store
/// redacts the event and keeps the newest `record_keep`). Never fails the login: an error is
/// logged and the login goes on.
async fn record(state: &AppState, mut r: NewRecordedLogin, run: &Result<Outcome, ScriptError>) {
    let (verdict, reason) = match run {
        Ok(outcome) => match &outcome.verdict {
            Verdict::Allow => ("allow", None),
            Verdict::Deny(why) | Verdict::CredentialsDenied { reason: why, .. } => {
                ("deny", Some(why.clone()))
            }
            Verdict::RegistrationDenied { reason, .. } => ("deny", Some(reason.clone())),
            Verdict::Unauthorized(why) => ("unauthorized", Some(why.clone())),
            Verdict::MfaRequired => ("mfa_required", None),
            Verdict::InteractionRequired(why) => ("interaction_required", Some(why.clone())),
            Verdict::ValidationError { code, message } => {
                ("validation_error", Some(format!("{code}: {message}")))
            }
        },
        Err(e) => ("error", Some(e.public_description())),
    };
    (r.verdict, r.reason) = (verdict.to_owned(), reason);
    let keep = state.config.debug.record_keep;
    let written = state
        .store
        .call(move |db| db.insert_recorded_login(&r, keep))
        .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "the login could not be recorded ([debug] record)");
    }
}

/// `api.authentication.setPrimaryUser(id)` or a Rule's `context.primaryUser`: the tokens are issued
/// for that user (`sub`, ID-token profile, its own RBAC permissions) when it exists and is not
/// blocked; otherwise the login fails, as Auth0's does ("tokens will not be issued").
async fn primary_user(
    state: &AppState,
    found: &Login<'_>,
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
pub(super) async fn sign_tokens(
    state: &AppState,
    found: &Login<'_>,
    account: &Account,
    outcome: &Outcome,
    granted: &Granted,
) -> Result<TokenResponse, OAuthError> {
    let audience = found.audience.aud.as_str();
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
        gty: found.gty,
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
        scopes: Some(granted),
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
    let effects = &outcome.effects;
    let id_claims = if id_token.is_some() {
        &effects.id_claims[..]
    } else {
        &[]
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: issue.access_lifetime_s,
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        id_token,
        refresh_token: None,
        provenance: provenance(state, &effects.access_claims, id_claims, scopes),
    })
}

/// `[debug] provenance`: which script set, overwrote or had each custom claim dropped (and
/// why), for a response header and a log line; `None` when it is off.
pub(super) fn provenance(
    state: &AppState,
    access: &[crate::claims::Claim],
    id: &[crate::claims::Claim],
    scopes: &[String],
) -> Option<String> {
    if !state.config.debug.provenance {
        return None;
    }
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let mut all = crate::claims::provenance(access, &scopes, "access_token");
    all.extend(crate::claims::provenance(id, &scopes, "id_token"));
    let text = serde_json::to_string(&all).ok()?;
    tracing::info!(target: "provenance", claims = %text, "custom claims");
    Some(text)
}

/// Pending `api.user.set*Metadata` changes are written once, in one transaction, after the last
/// script, also when the login is denied (as Auth0 does).
pub(super) async fn persist_metadata(
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
