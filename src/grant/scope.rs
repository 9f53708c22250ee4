//! Which scopes a login is granted, before and after the scripts' edits (spec §5.1, §1.5).
//!
//! Chosen behaviour (README, "Scopes"): OpenID scopes asked for are granted; API scopes asked for
//! are granted when the API defines them (others are dropped, and the response's `scope` says
//! what was granted, RFC 6749 §3.3); no `scope` at all grants every scope of the API, as Auth0
//! does; with RBAC on, API scopes are further limited to the user's permissions.

use crate::script::ScopeEdit;
use crate::store::Api;

const OIDC: [&str; 5] = ["openid", "profile", "email", "phone", "address"];

/// The requested scopes, in order, without repeats.
pub fn requested(scope: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.unwrap_or("").split_ascii_whitespace() {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// The scopes granted before the scripts run.
pub fn granted(
    requested: &[String],
    scope_given: bool,
    api: Option<&Api>,
    permissions: Option<&[String]>,
) -> Vec<String> {
    let allowed = |s: &str| {
        api.is_some_and(|a| a.scopes.iter().any(|x| x == s))
            && permissions.is_none_or(|p| p.iter().any(|x| x == s))
    };
    let mut out: Vec<String> = requested
        .iter()
        .filter(|s| OIDC.contains(&s.as_str()) || allowed(s))
        .cloned()
        .collect();
    if !scope_given && let Some(api) = api {
        out.extend(api.scopes.iter().filter(|s| allowed(s)).cloned());
    }
    out
}

/// Applies the scripts' scope edits in the order they were made.
pub fn apply(mut scopes: Vec<String>, edits: &[ScopeEdit]) -> Vec<String> {
    for e in edits {
        match e {
            ScopeEdit::Replace(all) => scopes = requested(Some(&all.join(" "))),
            ScopeEdit::Add(s) => {
                if !s.is_empty() && !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            ScopeEdit::Remove(s) => scopes.retain(|x| x != s),
        }
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Api {
        Api {
            id: "rs".into(),
            identifier: "https://api".into(),
            name: "api".into(),
            token_lifetime_s: 60,
            signing_alg: "RS256".into(),
            rbac_enabled: false,
            permissions_in_token: false,
            allow_offline_access: false,
            scopes: vec!["read:a".into(), "write:a".into()],
        }
    }

    #[test]
    fn grants_oidc_and_known_api_scopes() {
        let r = requested(Some("openid read:a read:a bogus"));
        assert_eq!(granted(&r, true, Some(&api()), None), ["openid", "read:a"]);
        assert_eq!(
            granted(&[], false, Some(&api()), None),
            ["read:a", "write:a"]
        );
        let perms = vec!["write:a".to_string()];
        assert_eq!(granted(&[], false, Some(&api()), Some(&perms)), ["write:a"]);
        assert_eq!(granted(&r, true, None, None), ["openid"]);
    }

    #[test]
    fn edits_apply_in_order() {
        let s = apply(
            vec!["openid".into()],
            &[
                ScopeEdit::Replace(vec!["a".into(), "b".into()]),
                ScopeEdit::Add("c".into()),
                ScopeEdit::Remove("a".into()),
                ScopeEdit::Add("c".into()),
            ],
        );
        assert_eq!(s, ["b", "c"]);
    }
}
