//! The limit on each signed token (`max_token_bytes`; README, "Token size"): a token must fit the
//! `Authorization` header that proxies and servers accept. The 100 KB custom-claims limit
//! (`claims.rs`) does not see scopes or registered claims; this one measures the whole token,
//! before it is signed. An oversized token fails the login with `server_error` naming the script
//! with the largest share of it: its custom claims that made it into the token, plus the scopes
//! its edits added.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::scope::Granted;
use crate::claims::Claim;
use crate::oauth::OAuthError;
use crate::token::{Alg, KeyRing};

/// The log line's detail of a refused token.
#[derive(Debug, thiserror::Error)]
#[error("the {token} would be at least {len} bytes; max_token_bytes is {max}")]
pub struct TokenTooLarge {
    pub token: &'static str,
    pub len: usize,
    pub max: usize,
}

/// One token to measure: its claims and where its custom claims and scopes came from.
pub struct Measured<'a> {
    /// `"access token"` or `"ID token"`, as the error names it.
    pub token: &'static str,
    pub alg: Alg,
    pub claims: &'a Map<String, Value>,
    pub custom: &'a [Claim],
    /// The access token's scopes; `None` for the ID token, which has none.
    pub scopes: Option<&'a Granted>,
}

/// Fails when the token, signed, would be longer than `max` bytes.
pub fn check(keys: &KeyRing, max: usize, t: &Measured<'_>) -> Result<(), OAuthError> {
    let len = keys
        .signed_len(t.alg, t.claims)
        .map_err(OAuthError::internal)?;
    if len <= max {
        return Ok(());
    }
    Err(too_large(t.token, max, largest_share(t), len))
}

/// The error of an oversized token, in the wording of the custom-claims limit.
pub fn too_large(
    token: &'static str,
    max: usize,
    script: Option<Arc<str>>,
    len: usize,
) -> OAuthError {
    let source = TokenTooLarge { token, len, max };
    OAuthError::token_too_large(token, max, script.as_deref(), source)
}

/// The script with the most bytes in the token (ties: the first name in order).
fn largest_share(t: &Measured<'_>) -> Option<Arc<str>> {
    let mut won: HashMap<&str, &Claim> = HashMap::new();
    for c in t.custom {
        won.insert(&c.name, c);
    }
    let mut share: HashMap<&Arc<str>, usize> = HashMap::new();
    for (name, c) in won {
        // Only a write that made it into the token (not refused, not overwritten) counts.
        if t.claims.get(name) == Some(&c.value) {
            *share.entry(&c.script).or_default() += name.len() + crate::claims::json_len(&c.value);
        }
    }
    for (s, by) in t
        .scopes
        .into_iter()
        .flat_map(|g| g.scopes.iter().zip(&g.added_by))
    {
        if let Some(by) = by {
            *share.entry(by).or_default() += s.len() + 1;
        }
    }
    share
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(s, _)| s.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claim(script: &str, name: &str, value: Value) -> Claim {
        Claim {
            script: script.into(),
            name: name.into(),
            value,
        }
    }

    #[test]
    fn the_largest_share_counts_winning_claims_and_added_scopes() {
        let custom = [
            claim("a", "x", json!("a".repeat(50))),
            claim("b", "x", json!("b")),
            claim("a", "sub", json!("a".repeat(500))),
            claim("c", "y", json!("c".repeat(30))),
        ];
        let mut claims = Map::new();
        claims.insert("x".into(), json!("b"));
        claims.insert("sub".into(), json!("auth0|1"));
        claims.insert("y".into(), json!("c".repeat(30)));
        let t = |scopes| Measured {
            token: "access token",
            alg: Alg::RS256,
            claims: &claims,
            custom: &custom,
            scopes,
        };
        // `a` lost `x` to `b` and its `sub` was refused: `c` has the most bytes in the token.
        assert_eq!(largest_share(&t(None)).as_deref(), Some("c"));
        let granted = Granted {
            scopes: vec!["openid".into(), "b:".repeat(40)],
            added_by: vec![None, Some("b".into())],
        };
        assert_eq!(largest_share(&t(Some(&granted))).as_deref(), Some("b"));
    }
}
