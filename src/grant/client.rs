//! Client authentication: `client_secret_basic`, `client_secret_post`, or none for a public
//! client. Every failure is the same `invalid_client`, whatever the cause.

use crate::credentials::verify_secret;
use crate::oauth::{OAuthError, TokenRequest};
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
