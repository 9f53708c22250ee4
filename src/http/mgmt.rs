//! `/api/v2/…`: the Management API subset over HTTP. Reads the request once (method, path, query,
//! JSON body), checks the bearer token (this server's signature, issuer, the `<issuer>api/v2/`
//! audience, expiry) and the endpoint's scope, calls `mgmt`, and renders its answer or its
//! [`MgmtError`] in Auth0's shape.

use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

use super::{BodyError, Resp, json, raw_json, read_body};
use crate::mgmt::{self, MgmtError, access, users};
use crate::script::RequestInfo;
use crate::state::AppState;
use crate::token::{Expected, VerifyError};

/// Clock skew forgiven on `exp`: the tokens come from this very server's clock.
const LEEWAY_S: i64 = 5;

/// One endpoint of the subset, as the router names it.
enum Call {
    CreateUser,
    ListUsers,
    UsersByEmail,
    GetUser(String),
    UpdateUser(String),
    DeleteUser(String),
    Roles,
    CreateRole,
    UserRoles(String),
    GiveRoles(String),
    TakeRoles(String),
    Orgs,
    CreateOrg,
    Members(String),
    AddMembers(String),
}

impl Call {
    /// The endpoint a method and path name; `None` for any other.
    fn route(method: &Method, path: &str) -> Option<Call> {
        let rest = path.strip_prefix("/api/v2/")?;
        let segments: Vec<&str> = rest.split('/').collect();
        let id = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
                .filter(|c| !c.is_empty())
        };
        Some(match (method, segments.as_slice()) {
            (&Method::POST, ["users"]) => Call::CreateUser,
            (&Method::GET, ["users"]) => Call::ListUsers,
            (&Method::GET, ["users-by-email"]) => Call::UsersByEmail,
            (&Method::GET, ["users", u]) => Call::GetUser(id(u)?),
            (&Method::PATCH, ["users", u]) => Call::UpdateUser(id(u)?),
            (&Method::DELETE, ["users", u]) => Call::DeleteUser(id(u)?),
            (&Method::GET, ["roles"]) => Call::Roles,
            (&Method::POST, ["roles"]) => Call::CreateRole,
            (&Method::GET, ["users", u, "roles"]) => Call::UserRoles(id(u)?),
            (&Method::POST, ["users", u, "roles"]) => Call::GiveRoles(id(u)?),
            (&Method::DELETE, ["users", u, "roles"]) => Call::TakeRoles(id(u)?),
            (&Method::GET, ["organizations"]) => Call::Orgs,
            (&Method::POST, ["organizations"]) => Call::CreateOrg,
            (&Method::GET, ["organizations", o, "members"]) => Call::Members(id(o)?),
            (&Method::POST, ["organizations", o, "members"]) => Call::AddMembers(id(o)?),
            _ => return None,
        })
    }

    /// The endpoint as `/metrics` labels it: its path with `{id}` for an identifier.
    fn label(&self) -> &'static str {
        match self {
            Call::CreateUser | Call::ListUsers => "/api/v2/users",
            Call::UsersByEmail => "/api/v2/users-by-email",
            Call::GetUser(_) | Call::UpdateUser(_) | Call::DeleteUser(_) => "/api/v2/users/{id}",
            Call::Roles | Call::CreateRole => "/api/v2/roles",
            Call::UserRoles(_) | Call::GiveRoles(_) | Call::TakeRoles(_) => {
                "/api/v2/users/{id}/roles"
            }
            Call::Orgs | Call::CreateOrg => "/api/v2/organizations",
            Call::Members(_) | Call::AddMembers(_) => "/api/v2/organizations/{id}/members",
        }
    }

    /// The scope the token must grant (Auth0's names).
    fn scope(&self) -> &'static str {
        match self {
            Call::CreateUser => "create:users",
            Call::ListUsers | Call::UsersByEmail | Call::GetUser(_) => "read:users",
            Call::UpdateUser(_) => "update:users",
            Call::DeleteUser(_) => "delete:users",
            Call::Roles | Call::UserRoles(_) => "read:roles",
            Call::CreateRole => "create:roles",
            Call::GiveRoles(_) => "create:role_members",
            Call::TakeRoles(_) => "delete:role_members",
            Call::Orgs => "read:organizations",
            Call::CreateOrg => "create:organizations",
            Call::Members(_) => "read:organization_members",
            Call::AddMembers(_) => "create:organization_members",
        }
    }
}

/// The `/metrics` label of a Management API request: its endpoint's, `/api/v2/other` for a
/// path or method this subset does not serve (so a scan adds no series).
pub(super) fn label(method: &Method, path: &str) -> &'static str {
    Call::route(method, path).map_or("/api/v2/other", |c| c.label())
}

pub async fn handle(req: Request<Incoming>, state: &AppState, peer: SocketAddr) -> Resp {
    let limit = state.config.max_body_bytes;
    let answer = match read_body(req, limit).await {
        Ok((parts, body)) => answer(&parts, &body, state, peer).await,
        Err(BodyError::TooLarge) => Err(MgmtError::too_large(limit)),
        Err(BodyError::Broken) => Err(MgmtError::invalid_body("the body could not be read")),
    };
    match answer {
        Ok((StatusCode::NO_CONTENT, _)) => raw_json(StatusCode::NO_CONTENT, bytes::Bytes::new()),
        Ok((status, body)) => json(status, &body),
        Err(e) => {
            match &e.source {
                Some(cause) => tracing::error!(error = %cause, "management API request failed"),
                None => {
                    tracing::debug!(status = e.status, message = %e.message, "management API request refused")
                }
            }
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = json(status, &e.body());
            // The store or the hash pool is saturated: it will pass.
            if status == StatusCode::SERVICE_UNAVAILABLE {
                r.headers_mut().insert(
                    hyper::header::RETRY_AFTER,
                    hyper::header::HeaderValue::from_static("1"),
                );
            }
            r
        }
    }
}

async fn answer(
    parts: &Parts,
    body: &[u8],
    state: &AppState,
    peer: SocketAddr,
) -> Result<(StatusCode, Value), MgmtError> {
    let call = Call::route(&parts.method, parts.uri.path()).ok_or_else(MgmtError::not_found)?;
    authorize(parts, state, call.scope())?;
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let json_body = || -> Result<Value, MgmtError> {
        serde_json::from_slice(body).map_err(|_| MgmtError::invalid_body("the body is not JSON"))
    };
    Ok(match call {
        Call::CreateUser => {
            // The registration Actions' `event.request` (no body: it holds the password).
            let request = RequestInfo::new(&super::request_meta(parts, peer), Default::default());
            let user = users::create(state, json_body()?, request).await?;
            (StatusCode::CREATED, user)
        }
        Call::ListUsers => (StatusCode::OK, users::list(state, &query).await?),
        Call::UsersByEmail => (StatusCode::OK, users::by_email(state, &query).await?),
        Call::GetUser(id) => (StatusCode::OK, users::get(state, id, &query).await?),
        Call::UpdateUser(id) => (
            StatusCode::OK,
            users::update(state, id, json_body()?).await?,
        ),
        Call::DeleteUser(id) => {
            users::delete(state, id).await?;
            (StatusCode::NO_CONTENT, Value::Null)
        }
        Call::Roles => (StatusCode::OK, access::roles(state).await?),
        Call::CreateRole => (
            StatusCode::OK,
            access::create_role(state, json_body()?).await?,
        ),
        Call::UserRoles(id) => (StatusCode::OK, access::user_roles(state, id).await?),
        Call::GiveRoles(id) | Call::TakeRoles(id) => {
            let give = matches!(parts.method, Method::POST);
            access::set_user_roles(state, id, json_body()?, give).await?;
            (StatusCode::NO_CONTENT, Value::Null)
        }
        Call::Orgs => (StatusCode::OK, access::orgs(state).await?),
        Call::CreateOrg => (
            StatusCode::CREATED,
            access::create_org(state, json_body()?).await?,
        ),
        Call::Members(id) => (StatusCode::OK, access::members(state, id).await?),
        Call::AddMembers(id) => {
            access::add_members(state, id, json_body()?).await?;
            (StatusCode::NO_CONTENT, Value::Null)
        }
    })
}

/// Checks the bearer token and that it grants `scope`.
fn authorize(parts: &Parts, state: &AppState, scope: &'static str) -> Result<(), MgmtError> {
    let token = super::bearer(&parts.headers).map_err(|e| match e {
        super::NoBearer::Missing => MgmtError::missing_authentication(),
        super::NoBearer::Malformed => MgmtError::invalid_token(),
    })?;
    let issuer = &state.config.issuer;
    let audience = mgmt::audience(issuer);
    let expected = Expected {
        issuer,
        audience: &audience,
        now_secs: state.clock.now_secs(),
        leeway_s: LEEWAY_S,
    };
    let claims = state.keys.verify(token, &expected).map_err(|e| match e {
        VerifyError::Expired => MgmtError::expired_token(),
        _ => MgmtError::invalid_token(),
    })?;
    let granted = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    if granted.split(' ').any(|s| s == scope) {
        Ok(())
    } else {
        Err(MgmtError::insufficient_scope(&[scope]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/metrics` labels: the endpoint's path with `{id}`, never the raw path.
    #[test]
    fn labels_are_endpoint_names_never_raw_paths() {
        for (method, path, label) in [
            (Method::GET, "/api/v2/users", "/api/v2/users"),
            (Method::POST, "/api/v2/users", "/api/v2/users"),
            (
                Method::GET,
                "/api/v2/users/auth0%7C123",
                "/api/v2/users/{id}",
            ),
            (
                Method::POST,
                "/api/v2/users/auth0%7C123/roles",
                "/api/v2/users/{id}/roles",
            ),
            (
                Method::GET,
                "/api/v2/organizations/org_1/members",
                "/api/v2/organizations/{id}/members",
            ),
            (Method::GET, "/api/v2/users/a/b/c", "/api/v2/other"),
            (Method::GET, "/api/v2/whatever", "/api/v2/other"),
            (Method::PUT, "/api/v2/users", "/api/v2/other"),
        ] {
            assert_eq!(super::label(&method, path), label, "{method} {path}");
        }
    }
}
