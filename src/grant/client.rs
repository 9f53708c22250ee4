//! Client authentication: `client_secret_basic`, `client_secret_post`, or none for a public
//! client. Every failure is the same `invalid_client`, whatever the cause. Then what an
//! authenticated client is trusted with: the end user's IP from `auth0-forwarded-for`.

use std::net::IpAddr;

use crate::credentials::verify_secret;
use crate::oauth::{OAuthError, RequestMeta, TokenRequest};
use crate::state::OncePerKey;
use crate::store::Client;

/// The client credentials a request presented.
pub struct Presented {
    pub client_id: String,
    secret: Option<String>,
    basic: bool,
}

/// Reads the credentials: Basic or body, never both (RFC 6749 §2.3.1).
pub fn presented(req: &TokenRequest) -> Result<Presented, OAuthError> {
    match (&req.basic, req.get("client_secret")) {
        (Some(_), Some(_)) => Err(OAuthError::both_client_credentials()),
        (Some((id, secret)), None) => {
            if req.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::client_id_mismatch());
            }
            Ok(Presented {
                client_id: id.clone(),
                secret: Some(secret.clone()),
                basic: true,
            })
        }
        (None, secret) => Ok(Presented {
            client_id: req.require("client_id")?.to_owned(),
            secret: secret.map(str::to_owned),
            basic: false,
        }),
    }
}

/// Checks the presented credentials against the stored client. A confidential client may use
/// either secret method; a public client (no stored secret) must present none.
pub fn authenticate(p: &Presented, client: Option<Client>) -> Result<Client, OAuthError> {
    let fail = || OAuthError::invalid_client(p.basic);
    let client = client.ok_or_else(fail)?;
    let ok = match (&client.secret_hash, &p.secret) {
        (Some(stored), Some(secret)) => verify_secret(secret, stored),
        (None, None) => true,
        _ => false,
    };
    if ok { Ok(client) } else { Err(fail()) }
}

/// The end user's IP when `auth0-forwarded-for` names it, decided once, right after `client`
/// authenticated: it then counts brute-force failures and is the scripts' `request.ip`. Only a
/// confidential client marked trusted may name it (Auth0: "Trust Token Endpoint IP Header", for
/// authenticated applications only), and then it must be one IP address. From any other client
/// the header is ignored, and that is logged once per client (`notices`), not per request.
pub fn forwarded_ip(
    client: &Client,
    meta: &RequestMeta,
    notices: &OncePerKey,
) -> Result<Option<String>, OAuthError> {
    let Some(value) = meta.forwarded_for.as_deref() else {
        return Ok(None);
    };
    if !(client.trusted_forwarded_for && client.secret_hash.is_some()) {
        if notices.first(&client.client_id) {
            tracing::warn!(
                client_id = %client.client_id,
                "auth0-forwarded-for ignored: the client is not trusted with it (clients update --trusted-forwarded-for true); logged once per client"
            );
        }
        return Ok(None);
    }
    let ip: IpAddr = value
        .trim()
        .parse()
        .map_err(|_| OAuthError::forwarded_for_invalid())?;
    // `::ffff:192.0.2.1` (what a dual-stack backend sees) counts as `192.0.2.1`.
    Ok(Some(ip.to_canonical().to_string()))
}

/// The request as the scripts and brute-force protection see it: with the forwarded IP when
/// [`forwarded_ip`] honours it (borrowed, untouched, otherwise).
pub fn effective_meta<'a>(
    client: &Client,
    meta: &'a RequestMeta,
    notices: &OncePerKey,
) -> Result<std::borrow::Cow<'a, RequestMeta>, OAuthError> {
    let mut meta = std::borrow::Cow::Borrowed(meta);
    if let Some(ip) = forwarded_ip(client, &meta, notices)? {
        meta.to_mut().ip = ip;
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ClientAuth;

    fn client(secret: bool, trusted: bool) -> Client {
        Client {
            client_id: format!("c-{secret}-{trusted}"),
            name: "c".into(),
            secret_hash: secret.then(|| "sha256:x".into()),
            app_type: "non_interactive".into(),
            grant_types: vec![],
            metadata: Default::default(),
            auth_method: ClientAuth::ClientSecretPost,
            trusted_forwarded_for: trusted,
        }
    }

    fn meta(forwarded: Option<&str>) -> RequestMeta {
        RequestMeta {
            ip: "10.0.0.1".into(),
            forwarded_for: forwarded.map(str::to_owned),
            ..RequestMeta::default()
        }
    }

    #[test]
    fn only_a_trusted_confidential_client_forwards_a_valid_ip() {
        let notices = OncePerKey::default();
        let ip = |c: &Client, f: Option<&str>| forwarded_ip(c, &meta(f), &notices);
        let trusted = client(true, true);
        assert_eq!(
            ip(&trusted, Some(" 192.0.2.7 ")).unwrap().as_deref(),
            Some("192.0.2.7")
        );
        assert_eq!(
            ip(&trusted, Some("::ffff:192.0.2.7")).unwrap().as_deref(),
            Some("192.0.2.7")
        );
        assert_eq!(
            ip(&trusted, Some("2001:db8::1")).unwrap().as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(ip(&trusted, None).unwrap(), None);
        for bad in ["", "192.0.2.7, 10.0.0.2", "example.com", "192.0.2.300"] {
            let e = ip(&trusted, Some(bad)).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
        }
        // Untrusted, or trusted but public (a stored flag the store would refuse): ignored,
        // whatever the value, and noticed once per client.
        for c in [
            client(true, false),
            client(false, true),
            client(false, false),
        ] {
            assert_eq!(ip(&c, Some("192.0.2.7")).unwrap(), None);
            assert_eq!(ip(&c, Some("junk")).unwrap(), None);
            assert!(!notices.first(&c.client_id), "logged already");
        }
    }
}
