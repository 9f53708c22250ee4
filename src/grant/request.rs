//! A password-grant request, read once: every parameter the grant uses is taken from the form
//! here, in the order its absence is reported, and the audience is decided here, once. The rest
//! of the grant reads fields, never the form.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::Grant;
use super::client::{self, Presented};
use crate::claims::userinfo_url;
use crate::config::Config;
use crate::oauth::{OAuthError, RequestMeta, TokenRequest};

/// The `password` / `password-realm` parameters the grant uses.
pub(super) struct PasswordRequest<'a> {
    /// The client credentials, Basic or body.
    pub client: Presented,
    pub username: &'a str,
    pub password: &'a str,
    /// `realm` (password-realm only): the connection to log in to.
    pub realm: Option<&'a str>,
    pub audience: Audience,
    /// `organization`: an org id or name (spec, Decisions).
    pub organization: Option<&'a str>,
    /// `scope` as sent; `None` when absent or empty.
    pub scope: Option<&'a str>,
    /// Borrowed from the request until a trusted client's `auth0-forwarded-for` replaces `ip`.
    pub meta: Cow<'a, RequestMeta>,
    /// `event.request.body`: the parameters without the secrets.
    pub body: Map<String, Value>,
}

/// The audience of a login.
#[derive(Debug, PartialEq)]
pub(super) struct Audience {
    /// The API the tokens are for, which must exist: `audience`, else the configured default.
    pub api: Option<String>,
    /// `aud` of the tokens and `event.resource_server.identifier`: that API (its identifier is
    /// looked up by exact match, so it is this very string), else `<issuer>userinfo`.
    pub aud: String,
}

/// The one place the audience is decided (spec, Decisions: "the requested audience, else the
/// configured default audience, else `<issuer>userinfo`").
pub(super) fn audience(requested: Option<&str>, config: &Config) -> Audience {
    let api = requested
        .map(str::to_owned)
        .or_else(|| config.default_audience.clone());
    let aud = api.clone().unwrap_or_else(|| userinfo_url(&config.issuer));
    Audience { api, aud }
}

impl<'a> PasswordRequest<'a> {
    /// Reads the request; a missing parameter is `invalid_request` naming it, checked in this
    /// order: the client, `username`, `password`, `realm`.
    pub fn read(req: &'a TokenRequest, grant: Grant, config: &Config) -> Result<Self, OAuthError> {
        let client = client::presented(req)?;
        let username = req.require("username")?;
        let password = req.require("password")?;
        let realm = match grant {
            Grant::PasswordRealm => Some(req.require("realm")?),
            _ => None,
        };
        Ok(Self {
            client,
            username,
            password,
            realm,
            audience: audience(req.get("audience"), config),
            organization: req.get("organization"),
            scope: req.get("scope"),
            meta: Cow::Borrowed(&req.meta),
            body: req
                .redacted_params()
                .map(|(k, v)| (k.to_owned(), Value::from(v)))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_is_the_request_then_the_default_then_userinfo() {
        let mut config = Config::for_test(std::path::Path::new("/nonexistent"));
        config.issuer = "https://t.example/".into();
        let api = |a: &str| Audience {
            api: Some(a.into()),
            aud: a.into(),
        };
        assert_eq!(
            audience(None, &config),
            Audience {
                api: None,
                aud: "https://t.example/userinfo".into()
            }
        );
        config.default_audience = Some("https://default".into());
        assert_eq!(audience(None, &config), api("https://default"));
        assert_eq!(
            audience(Some("https://asked"), &config),
            api("https://asked")
        );
    }
}
