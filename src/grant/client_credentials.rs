//! `grant_type=client_credentials`: a confidential client with a client grant for the audience
//! gets an access token for itself (`sub` `<client_id>@clients`, `gty` `client-credentials`),
//! scoped to what it asked for within what it was granted (all of it when it asked for nothing).
//! The Actions exporting `onExecuteCredentialsExchange` run first; Rules never run here.

use super::login::store_error;
use super::scope::{self, Granted};
use super::size::{self, Measured};
use super::{client, verdict};
use crate::claims::Issue;
use crate::oauth::{OAuthError, TokenRequest, TokenResponse};
use crate::script::{CredentialsInput, RequestInfo, Trigger};
use crate::state::AppState;
use crate::token::Alg;

/// The `grant_type`, as listed in a client's grant types.
pub const GRANT: &str = "client_credentials";

pub async fn issue(state: &AppState, req: &TokenRequest) -> Result<TokenResponse, OAuthError> {
    let presented = client::presented(req)?;
    let audience = req
        .get("audience")
        .map(str::to_owned)
        .or_else(|| state.config.default_audience.clone());
    let (client_id, aud) = (presented.client_id.clone(), audience.clone());
    let (client, api, granted) = state
        .store
        .call(move |db| {
            let api = aud.as_deref().map(|a| db.api(a)).transpose()?.flatten();
            let granted = match &api {
                Some(a) => db.client_grant(&client_id, &a.id)?,
                None => None,
            };
            Ok((db.client(&client_id)?, api, granted))
        })
        .await
        .map_err(store_error)?;
    let client = client::authenticate(&presented, client)?;
    let meta = client::effective_meta(&client, &req.meta, &state.forwarded_notices)?;
    // A public client has no secret to prove who it is: Auth0 never lets it use this grant.
    if client.secret_hash.is_none() || !client.grant_types.iter().any(|g| g == GRANT) {
        return Err(OAuthError::grant_not_allowed(GRANT));
    }
    let Some(audience) = audience else {
        return Err(OAuthError::no_audience());
    };
    let Some(api) = api else {
        return Err(OAuthError::service_not_enabled(&audience));
    };
    let Some(granted) = granted else {
        return Err(OAuthError::no_client_grant(&client.client_id, &audience));
    };
    let requested = scope::requested(req.get("scope"));
    let scopes: Vec<String> = match req.get("scope") {
        Some(_) => granted
            .iter()
            .filter(|s| requested.contains(s))
            .cloned()
            .collect(),
        None => granted,
    };
    let input = CredentialsInput {
        client: (&client).into(),
        audience: audience.clone(),
        requested_scopes: requested,
        scopes: scopes.clone(),
        request: RequestInfo::new(
            &meta,
            req.redacted_params()
                .map(|(k, v)| (k.to_owned(), v.into()))
                .collect(),
        ),
        tenant: state.config.tenant.clone(),
        now_ms: state.clock.now_ms(),
        transaction_id: crate::credentials::random_id::<16>(),
    };
    let outcome = verdict::decide(
        state
            .pipeline
            .run_actions(Trigger::CredentialsExchange(input))
            .await,
    )?;
    let sub = format!("{}@clients", client.client_id);
    let issue = Issue {
        issuer: &state.config.issuer,
        sub: &sub,
        client_id: &client.client_id,
        audience: &audience,
        iat: state.clock.now_secs(),
        access_lifetime_s: api.token_lifetime_s,
        id_lifetime_s: 0,
        scopes: &scopes,
        gty: "client-credentials",
        org: None,
        permissions: None,
    };
    let custom = &outcome.effects.access_claims;
    let claims = issue
        .access_claims(custom)
        .map_err(|e| OAuthError::claims_too_large(&e.script))?;
    let alg = Alg::parse(&api.signing_alg).unwrap_or(Alg::RS256);
    let max = state.config.max_token_bytes;
    let measured_scopes = Granted {
        added_by: vec![None; scopes.len()],
        scopes: scopes.clone(),
    };
    let measured = Measured {
        token: "access token",
        alg,
        claims: &claims,
        custom,
        scopes: Some(&measured_scopes),
    };
    size::check(&state.keys, max, &measured)?;
    let (access_token, _) = state
        .keys
        .sign_off_workers((alg, claims), None)
        .await
        .map_err(OAuthError::internal)?;
    tracing::info!(client_id = %client.client_id, %audience, "client credentials");
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: api.token_lifetime_s,
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        id_token: None,
        refresh_token: None,
        provenance: super::login::provenance(state, custom, &[], &scopes),
    })
}
