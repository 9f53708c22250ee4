//! Which scopes a login is granted, before and after the scripts' edits (spec §5.1, §1.5).
//!
//! Chosen behaviour (README, "Scopes"): OpenID scopes asked for are granted; API scopes asked for
//! are granted when the API defines them (others are dropped, and the response's `scope` says
//! what was granted, RFC 6749 §3.3); no `scope` at all grants every scope of the API, as Auth0
//! does; with RBAC on, API scopes are further limited to the user's permissions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::script::ScopeEdit;
use crate::store::Api;

const OIDC: [&str; 5] = ["openid", "profile", "email", "phone", "address"];
/// The scope that asks for a refresh token.
pub const OFFLINE: &str = "offline_access";

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

/// The scopes granted before the scripts run. `offline_access` is granted when asked for and
/// `offline` (the API allows offline access and the client has the `refresh_token` grant).
pub fn granted(
    requested: &[String],
    scope_given: bool,
    api: Option<&Api>,
    permissions: Option<&[String]>,
    offline: bool,
) -> Vec<String> {
    let allowed = |s: &str| {
        api.is_some_and(|a| a.scopes.iter().any(|x| x == s))
            && permissions.is_none_or(|p| p.iter().any(|x| x == s))
    };
    let mut out: Vec<String> = requested
        .iter()
        .filter(|s| OIDC.contains(&s.as_str()) || (offline && s.as_str() == OFFLINE) || allowed(s))
        .cloned()
        .collect();
    if !scope_given && let Some(api) = api {
        out.extend(api.scopes.iter().filter(|s| allowed(s)).cloned());
    }
    out
}

/// The scopes granted after the scripts' edits, each with the script that added it (`None`:
/// granted before the scripts ran), so an oversized token can name the script that grew it.
#[derive(Debug, Default)]
pub struct Granted {
    pub scopes: Vec<String>,
    pub added_by: Vec<Option<Arc<str>>>,
}

/// The list under edit: first-added order, with membership and removal in O(log n), so that
/// neither a flood of edits nor a long list makes the work quadratic.
#[derive(Default)]
struct Edited {
    seq_of: HashMap<String, u64>,
    by_seq: BTreeMap<u64, (String, Option<Arc<str>>)>,
    next: u64,
    /// Length of the space-joined list.
    bytes: usize,
}

impl Edited {
    fn add(&mut self, s: &str, by: Option<Arc<str>>) {
        if s.is_empty() || self.seq_of.contains_key(s) {
            return;
        }
        self.seq_of.insert(s.to_owned(), self.next);
        self.by_seq.insert(self.next, (s.to_owned(), by));
        self.next += 1;
        self.bytes += s.len() + usize::from(self.by_seq.len() > 1);
    }

    fn remove(&mut self, s: &str) {
        if let Some(n) = self.seq_of.remove(s) {
            self.by_seq.remove(&n);
            self.bytes -= s.len() + usize::from(!self.by_seq.is_empty());
        }
    }

    fn origin(&self, s: &str) -> Option<Option<Arc<str>>> {
        let n = self.seq_of.get(s)?;
        self.by_seq.get(n).map(|(_, by)| by.clone())
    }

    /// The script whose additions take the most bytes.
    fn biggest(&self) -> Option<Arc<str>> {
        let mut share: HashMap<&Arc<str>, usize> = HashMap::new();
        for (s, by) in self.by_seq.values() {
            if let Some(by) = by {
                *share.entry(by).or_default() += s.len() + 1;
            }
        }
        share
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(s, _)| s.clone())
    }
}

/// Applies the scripts' scope edits in the order they were made. Once the space-joined list is
/// longer than `max_bytes` (the whole-token limit: the token holds the list, so it could not
/// fit), stops with the script that added the most: a script that adds scopes in a loop must
/// not make the server build a list of megabytes before refusing it.
pub fn apply(
    granted: Vec<String>,
    edits: &[(Arc<str>, ScopeEdit)],
    max_bytes: usize,
) -> Result<Granted, Option<Arc<str>>> {
    let mut list = Edited::default();
    for s in granted {
        list.add(&s, None);
    }
    for (by, edit) in edits {
        match edit {
            ScopeEdit::Replace(all) => {
                let mut next = Edited::default();
                for s in all.iter().flat_map(|s| s.split_ascii_whitespace()) {
                    next.add(s, list.origin(s).unwrap_or_else(|| Some(by.clone())));
                    if next.bytes > max_bytes {
                        return Err(next.biggest());
                    }
                }
                list = next;
            }
            ScopeEdit::Add(s) => list.add(s, Some(by.clone())),
            ScopeEdit::Remove(s) => list.remove(s),
        }
        if list.bytes > max_bytes {
            return Err(list.biggest());
        }
    }
    let (scopes, added_by) = list.by_seq.into_values().unzip();
    Ok(Granted { scopes, added_by })
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
        assert_eq!(
            granted(&r, true, Some(&api()), None, false),
            ["openid", "read:a"]
        );
        assert_eq!(
            granted(&[], false, Some(&api()), None, false),
            ["read:a", "write:a"]
        );
        let perms = vec!["write:a".to_string()];
        assert_eq!(
            granted(&[], false, Some(&api()), Some(&perms), false),
            ["write:a"]
        );
        assert_eq!(granted(&r, true, None, None, false), ["openid"]);
        let r = requested(Some("openid offline_access"));
        assert_eq!(granted(&r, true, Some(&api()), None, false), ["openid"]);
        assert_eq!(
            granted(&r, true, Some(&api()), None, true),
            ["openid", "offline_access"]
        );
    }

    #[test]
    fn edits_apply_in_order_and_remember_who_added_what() {
        let (r, a): (Arc<str>, Arc<str>) = ("r".into(), "a".into());
        let g = apply(
            vec!["openid".into(), "b".into()],
            &[
                (
                    r.clone(),
                    ScopeEdit::Replace(vec!["a b".into(), "x".into()]),
                ),
                (a.clone(), ScopeEdit::Add("c".into())),
                (a.clone(), ScopeEdit::Remove("a".into())),
                (a.clone(), ScopeEdit::Add("c".into())),
                (a.clone(), ScopeEdit::Add(String::new())),
            ],
            usize::MAX,
        )
        .unwrap();
        assert_eq!(g.scopes, ["b", "x", "c"]);
        assert_eq!(g.added_by, [None, Some(r), Some(a)]);
    }

    #[test]
    fn a_flood_of_scopes_stops_at_the_limit_naming_the_biggest_adder() {
        let flood: Vec<(Arc<str>, ScopeEdit)> = (0..100_000)
            .map(|i| ("flood".into(), ScopeEdit::Add(format!("scope:{i}"))))
            .chain([("small".into(), ScopeEdit::Add("s".into()))])
            .collect();
        let mut edits = vec![("small".into(), ScopeEdit::Add("t".into()))];
        edits.extend(flood);
        let err = apply(vec!["openid".into()], &edits, 8000).unwrap_err();
        assert_eq!(err.as_deref(), Some("flood"));
        // The joined length is exact: "openid a" is 8 bytes.
        let a = [("x".into(), ScopeEdit::Add("a".into()))];
        assert!(apply(vec!["openid".into()], &a, 8).is_ok());
        assert!(apply(vec!["openid".into()], &a, 7).is_err());
    }
}
