//! The claims of the tokens: registered claims are owned here, custom claims from scripts pass
//! Auth0's policy (spec §4): reserved names, `$` names and Auth0 namespaces are dropped (never
//! silently: each drop is logged with the script and the claim), OIDC profile claims need their
//! scope, the last write wins, and more than 100 KB of custom claims fails the login.
//!
//! Names are compared as a decoder that folds case or normalises Unicode would read them (issue
//! 7): `SUB`, `ſub`, `ｓｕｂ` or `s<ZWSP>ub` next to `sub` could override it there, so a name that
//! only looks like a reserved one is refused like it. The size of the whole signed token is
//! checked where the tokens are signed (`grant::size`).

use std::borrow::Cow;
use std::sync::Arc;

use icu_casemap::CaseMapper;
use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::CodePointSetData;
use icu_properties::props::DefaultIgnorableCodePoint;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::store::User;

/// `<issuer>userinfo`: the OIDC userinfo endpoint (discovery, spec §5.6), and so the audience of
/// tokens for no API and the second `aud` of an API token that grants `openid` (spec §5.4). The one
/// place this URL is built.
pub fn userinfo_url(issuer: &str) -> String {
    format!("{issuer}userinfo")
}

/// Custom claims of one token may not exceed this many bytes (names + JSON values).
pub const MAX_CUSTOM_CLAIMS_BYTES: usize = 100 * 1024;

/// Names Auth0 refuses as custom claims (spec §4).
const RESERVED: &[&str] = &[
    "acr",
    "act",
    "active",
    "amr",
    "at_hash",
    "ath",
    "attest",
    "aud",
    "auth_time",
    "authorization_details",
    "azp",
    "c_hash",
    "client_id",
    "cnf",
    "cty",
    "dest",
    "entitlements",
    "events",
    "exp",
    "groups",
    "gty",
    "htm",
    "htu",
    "iat",
    "internalService",
    "iss",
    "jcard",
    "jku",
    "jti",
    "jwe",
    "jwk",
    "kid",
    "may_act",
    "mky",
    "nbf",
    "nonce",
    "object_id",
    "org_id",
    "org_name",
    "orig",
    "origid",
    "permissions",
    "roles",
    "rph",
    "s_hash",
    "scope",
    "sid",
    "sip_callid",
    "sip_cseq_num",
    "sip_date",
    "sip_from_tag",
    "sip_via_branch",
    "sub",
    "sub_jwk",
    "toe",
    "txn",
    "typ",
    "uuid",
    "vot",
    "vtm",
    "x5t#S256",
];

/// OIDC standard claims and the scope each needs (OIDC Core §5.4).
fn scope_of_standard_claim(name: &str) -> Option<&'static str> {
    Some(match name {
        "name" | "family_name" | "given_name" | "middle_name" | "nickname"
        | "preferred_username" | "profile" | "picture" | "website" | "gender" | "birthdate"
        | "zoneinfo" | "locale" | "updated_at" => "profile",
        "email" | "email_verified" => "email",
        "phone_number" | "phone_number_verified" => "phone",
        "address" => "address",
        _ => return None,
    })
}

/// A custom claim a script set, with the script's name for the log line when policy drops it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub script: Arc<str>,
    pub name: String,
    pub value: Value,
}

/// Why the login cannot be given a token.
#[derive(Debug, thiserror::Error)]
#[error("custom claims exceed {MAX_CUSTOM_CLAIMS_BYTES} bytes (set by {script})")]
pub struct ClaimsTooLarge {
    pub script: String,
}

/// Why a custom claim was not written, or `None` when it may be. Every rule matches the name's
/// [`match_key`], so a lookalike is refused like the name it imitates.
pub(crate) fn refusal(name: &str, scopes: &[&str]) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty claim name");
    }
    let key = match_key(name);
    if key.is_empty() {
        return Some("claim name of only whitespace or invisible characters");
    }
    let said = |exact: &'static str, lookalike: &'static str| {
        Some(if *key == *name { exact } else { lookalike })
    };
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&key)) {
        return said("reserved claim name", "looks like a reserved claim name");
    }
    if key.starts_with('$') {
        return said(
            "names starting with $ are reserved",
            "looks like a name starting with $",
        );
    }
    if is_auth0_namespace(&key) {
        return said(
            "Auth0 namespaces are reserved",
            "looks like an Auth0 namespace",
        );
    }
    // A lookalike of a profile claim needs the scope too; with the scope granted the script may
    // set the claim itself, so the lookalike gains it nothing.
    if let Some(scope) = scope_of_standard_claim(&key)
        && !scopes.contains(&scope)
    {
        return Some(match scope {
            "profile" => "needs the profile scope",
            "email" => "needs the email scope",
            "phone" => "needs the phone scope",
            _ => "needs the address scope",
        });
    }
    None
}

/// The name as a decoder that ignores case and Unicode form reads it (UAX #15 compatibility
/// caseless matching, with invisible characters dropped): default-ignorable code points
/// (zero-width spaces and joiners, BOM, soft hyphen, bidi controls, Hangul fillers) and control
/// characters are removed wherever they are, whitespace only at the ends; then NFKC (fullwidth
/// to ASCII, `ſ` to `s`), full case folding, and NFKC again, as folding can denormalise.
/// ASCII names, the common case, allocate only when they hold capitals or controls.
pub(crate) fn match_key(name: &str) -> Cow<'_, str> {
    if name.is_ascii() {
        let t = name.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
        if !t
            .bytes()
            .any(|b| b.is_ascii_uppercase() || b.is_ascii_control())
        {
            return Cow::Borrowed(t);
        }
        let kept = t.chars().filter(|c| !c.is_ascii_control());
        return Cow::Owned(kept.map(|c| c.to_ascii_lowercase()).collect());
    }
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let visible = |s: &str| -> String {
        s.chars()
            .filter(|&c| !c.is_control() && !ignorable.contains(c))
            .collect()
    };
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    let folded = CaseMapper::new()
        .fold_string(&nfkc.normalize(&visible(name)))
        .into_owned();
    let key = visible(&nfkc.normalize(&folded));
    Cow::Owned(key.trim_matches(char::is_whitespace).to_owned())
}

/// Whether a [`match_key`] names an Auth0 namespace: a `urn:auth0` URN, or an http(s) URL whose
/// host is, or is under, auth0.com, webtask.io or webtask.run. Percent-encoding is undone and
/// the IDNA full stops (U+3002, U+FF0E, U+FF61; UTS #46) read as dots first, as URL parsers do.
fn is_auth0_namespace(key: &str) -> bool {
    let mut key = Cow::Borrowed(key);
    // Bounded: each round shortens the text; `%252e` takes two.
    for _ in 0..4 {
        let decoded = percent_decode_str(&key).decode_utf8_lossy();
        if decoded == key {
            break;
        }
        let next = match_key(&decoded).into_owned();
        drop(decoded);
        key = Cow::Owned(next);
    }
    if !key.is_ascii() {
        key = Cow::Owned(key.replace(['\u{3002}', '\u{FF0E}', '\u{FF61}'], "."));
    }
    if key.starts_with("urn:auth0") {
        return true;
    }
    let Some(rest) = key
        .strip_prefix("https:")
        .or_else(|| key.strip_prefix("http:"))
    else {
        return false;
    };
    // Schemes and hosts are case-insensitive (the key is folded); WHATWG URL parsers take any
    // run of `/` or `\` after the scheme, and a user-info part or a trailing dot names the same
    // host.
    let rest = rest.trim_start_matches(['/', '\\']);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port
        .split(':')
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    ["auth0.com", "webtask.io", "webtask.run"].iter().any(|d| {
        host.strip_suffix(d)
            .is_some_and(|sub| sub.is_empty() || sub.ends_with('.'))
    })
}

/// Folds the custom claims into `claims` (last write wins), applying the policy; more than
/// [`MAX_CUSTOM_CLAIMS_BYTES`] of what remains (names + JSON values) fails, naming the script that
/// wrote the biggest claim. This is the one place that limit is enforced.
pub fn add_custom(
    claims: &mut Map<String, Value>,
    custom: &[Claim],
    scopes: &[&str],
    token: &'static str,
) -> Result<(), ClaimsTooLarge> {
    let mut written: Map<String, Value> = Map::new();
    for c in custom {
        if let Some(reason) = refusal(&c.name, scopes) {
            tracing::warn!(script = %c.script, claim = %c.name, token, reason, "custom claim dropped");
            continue;
        }
        written.insert(c.name.clone(), c.value.clone());
    }
    let size = |(k, v): (&String, &Value)| k.len() + json_len(v);
    if written.iter().map(size).sum::<usize>() > MAX_CUSTOM_CLAIMS_BYTES {
        // Blame the script that last wrote the biggest claim (the value that was kept).
        let biggest = written.iter().max_by_key(|kv| size(*kv)).map(|(k, _)| k);
        let script = custom
            .iter()
            .rev()
            .find(|c| Some(&c.name) == biggest)
            .map_or("", |c| &*c.script);
        return Err(ClaimsTooLarge {
            script: script.to_owned(),
        });
    }
    claims.extend(written);
    Ok(())
}

/// What became of one custom claim a script wrote to one token, in the order written: for
/// `claimsmith test` and `[debug] provenance`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provenance {
    pub token: &'static str,
    pub claim: String,
    pub script: String,
    /// `set`, `overwrote` (a value an earlier write had set) or `dropped`.
    pub fate: &'static str,
    /// The script whose value this write replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
    /// Why the write was dropped (the policy of [`add_custom`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// The fate of each write in `custom` under the policy [`add_custom`] applies (the same
/// [`refusal`]); the size limit fails the whole token, and is reported as its error.
pub fn provenance(custom: &[Claim], scopes: &[&str], token: &'static str) -> Vec<Provenance> {
    let mut kept: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    custom
        .iter()
        .map(|c| {
            let (fate, replaced, reason) = match refusal(&c.name, scopes) {
                Some(reason) => ("dropped", None, Some(reason)),
                None => match kept.insert(&c.name, &c.script) {
                    Some(before) => ("overwrote", Some(before.to_owned()), None),
                    None => ("set", None, None),
                },
            };
            Provenance {
                token,
                claim: c.name.clone(),
                script: c.script.to_string(),
                fate,
                replaced,
                reason,
            }
        })
        .collect()
}

/// The length of `v` as JSON, counted without building the text.
pub(crate) fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    serde_json::to_writer(&mut n, v).map_or(0, |()| n.0)
}

/// The user's standard claims that `scopes` allow (spec §5.5): `profile` ⇒ name, nickname,
/// given_name, family_name, picture, preferred_username, updated_at; `email` ⇒ email,
/// email_verified. Absent values are left out. The one mapping of the ID token and `/userinfo`.
pub fn profile_claims(user: &User, scopes: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    if scopes.contains(&"profile") {
        for (k, v) in [
            ("name", &user.name),
            ("nickname", &user.nickname),
            ("given_name", &user.given_name),
            ("family_name", &user.family_name),
            ("picture", &user.picture),
            ("preferred_username", &user.username),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        m.insert("updated_at".into(), user.updated_at.clone().into());
    }
    if scopes.contains(&"email")
        && let Some(e) = &user.email
    {
        m.insert("email".into(), e.clone().into());
        m.insert("email_verified".into(), user.email_verified.into());
    }
    m
}

/// What the registered claims of a login's tokens are made of.
pub struct Issue<'a> {
    pub issuer: &'a str,
    pub sub: &'a str,
    pub client_id: &'a str,
    pub audience: &'a str,
    pub iat: i64,
    pub access_lifetime_s: u64,
    pub id_lifetime_s: u64,
    /// Granted scopes, in order.
    pub scopes: &'a [String],
    pub gty: &'static str,
    pub org: Option<(&'a str, &'a str)>,
    pub permissions: Option<&'a [String]>,
}

impl Issue<'_> {
    fn has_scope(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }

    fn scope_refs(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }

    /// Access token claims: `aud` is an array with `<issuer>userinfo` when `openid` was granted
    /// and the audience is an API (spec §5.4).
    pub fn access_claims(&self, custom: &[Claim]) -> Result<Map<String, Value>, ClaimsTooLarge> {
        let userinfo = userinfo_url(self.issuer);
        let aud = if self.audience != userinfo && self.has_scope("openid") {
            Value::from(vec![self.audience.to_owned(), userinfo])
        } else {
            Value::from(self.audience)
        };
        let mut m = Map::new();
        add_custom(&mut m, custom, &self.scope_refs(), "access_token")?;
        m.insert("iss".into(), self.issuer.into());
        m.insert("sub".into(), self.sub.into());
        m.insert("aud".into(), aud);
        m.insert("iat".into(), self.iat.into());
        m.insert(
            "exp".into(),
            (self.iat + self.access_lifetime_s as i64).into(),
        );
        m.insert("scope".into(), self.scopes.join(" ").into());
        m.insert("gty".into(), self.gty.into());
        m.insert("azp".into(), self.client_id.into());
        if let Some((id, name)) = self.org {
            m.insert("org_id".into(), id.into());
            m.insert("org_name".into(), name.into());
        }
        if let Some(p) = self.permissions {
            m.insert("permissions".into(), p.into());
        }
        Ok(m)
    }

    /// ID token claims: profile and email claims gated by their scopes (spec §5.5).
    pub fn id_claims(
        &self,
        user: &User,
        custom: &[Claim],
    ) -> Result<Map<String, Value>, ClaimsTooLarge> {
        let mut m = Map::new();
        let scopes = self.scope_refs();
        add_custom(&mut m, custom, &scopes, "id_token")?;
        // A script may set a profile claim itself (its scope granted): its value wins.
        for (k, v) in profile_claims(user, &scopes) {
            m.entry(k).or_insert(v);
        }
        m.insert("iss".into(), self.issuer.into());
        m.insert("sub".into(), self.sub.into());
        m.insert("aud".into(), self.client_id.into());
        m.insert("iat".into(), self.iat.into());
        m.insert("exp".into(), (self.iat + self.id_lifetime_s as i64).into());
        if let Some((id, name)) = self.org {
            m.insert("org_id".into(), id.into());
            m.insert("org_name".into(), name.into());
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn provenance_names_who_set_overwrote_and_had_a_claim_dropped() {
        let by = |script: &str, name: &str| Claim {
            script: Arc::from(script),
            name: name.into(),
            value: json!(1),
        };
        let custom = [
            by("01-a", "https://x/role"),
            by("02-b", "https://x/role"),
            by("02-b", "scope"),
            by("03-c", "email"),
        ];
        let p = provenance(&custom, &["openid"], "access_token");
        let fates: Vec<_> = p
            .iter()
            .map(|p| (p.script.as_str(), p.fate, p.replaced.as_deref(), p.reason))
            .collect();
        assert_eq!(
            fates,
            [
                ("01-a", "set", None, None),
                ("02-b", "overwrote", Some("01-a"), None),
                ("02-b", "dropped", None, Some("reserved claim name")),
                ("03-c", "dropped", None, Some("needs the email scope")),
            ]
        );
    }

    fn claim(name: &str, value: Value) -> Claim {
        Claim {
            script: Arc::from("01-test"),
            name: name.into(),
            value,
        }
    }

    fn issue(scopes: &[String]) -> Issue<'_> {
        Issue {
            issuer: "https://t.example/",
            sub: "auth0|1",
            client_id: "cid",
            audience: "https://api",
            iat: 1000,
            access_lifetime_s: 60,
            id_lifetime_s: 30,
            scopes,
            gty: "password",
            org: None,
            permissions: None,
        }
    }

    #[test]
    fn registered_claims_and_userinfo_audience() {
        let scopes = vec!["openid".to_string(), "read:x".into()];
        let c = issue(&scopes).access_claims(&[]).unwrap();
        assert_eq!(
            c["aud"],
            json!(["https://api", "https://t.example/userinfo"])
        );
        assert_eq!(c["exp"], 1060);
        assert_eq!(c["scope"], "openid read:x");
        assert_eq!(c["gty"], "password");
        assert_eq!(c["azp"], "cid");
        let none = vec!["read:x".to_string()];
        assert_eq!(
            issue(&none).access_claims(&[]).unwrap()["aud"],
            "https://api"
        );
    }

    #[test]
    fn policy_drops_reserved_namespaced_and_unscoped_claims_last_write_wins() {
        let scopes = vec!["openid".to_string()];
        let custom = [
            claim("sub", json!("evil")),
            claim("$x", json!(1)),
            claim("https://tenant.auth0.com/x", json!(1)),
            claim("urn:auth0:x", json!(1)),
            claim("HTTPS://X.AUTH0.COM/a", json!(1)),
            claim("https://u@auth0.com/a", json!(1)),
            claim("https://auth0.com./a", json!(1)),
            claim("URN:auth0:y", json!(1)),
            claim("email", json!("a@b")),
            claim("https://ns/role", json!("a")),
            claim("https://ns/role", json!("b")),
            claim("organisation_id", json!("o1")),
        ];
        let c = issue(&scopes).access_claims(&custom).unwrap();
        assert_eq!(c["sub"], "auth0|1");
        assert!(!c.contains_key("$x") && !c.contains_key("email"));
        assert!(!c.contains_key("https://tenant.auth0.com/x") && !c.contains_key("urn:auth0:x"));
        for bypass in [
            "HTTPS://X.AUTH0.COM/a",
            "https://u@auth0.com/a",
            "https://auth0.com./a",
            "URN:auth0:y",
        ] {
            assert!(!c.contains_key(bypass), "{bypass}");
        }
        assert_eq!(c["https://ns/role"], "b");
        assert_eq!(c["organisation_id"], "o1");
        let with_email = vec!["email".to_string()];
        let c = issue(&with_email).access_claims(&custom).unwrap();
        assert_eq!(c["email"], "a@b");
    }

    #[test]
    fn lookalikes_of_reserved_names_and_namespaces_are_refused() {
        for name in [
            "Sub",
            "SUB",
            "\u{17F}ub",
            "\u{FF53}\u{FF55}\u{FF42}",
            "s\u{200B}ub",
            "\u{200B}sub",
            "sub\u{FEFF}",
            "su\u{AD}b",
            "\u{3164}sub",
            "s\u{200D}ub",
            "\u{202E}sub",
            "sub\u{0}",
            " iss",
            "iss\t",
            "iss\u{A0}",
            "\u{3000}iss",
            "InternalService",
            "X5T#s256",
            "\u{FF04}x",
            " $x",
            "https://x.auth0\u{3002}com/y",
            "https://x.auth0\u{FF0E}com/y",
            "https://x.auth0\u{FF61}com/y",
            "https://x.auth0%2ecom/y",
            "https://x.auth0%2Ecom/y",
            "https://x.auth0%252ecom/y",
            "https://x.%61uth0.com/y",
            "HTTPS://X.AUTH0.COM/a",
            "https:\\\\x.auth0.com\\a",
            "https:/x.webtask.run/a",
            "https://\u{FF41}uth0.com/a",
            "https://a.w\u{200B}ebtask.io/z",
            "urn\u{FF1A}auth0:x",
            " urn:auth0:x",
            "\u{200B}",
        ] {
            assert!(refusal(name, &[]).is_some(), "{name:?}");
        }
        assert_eq!(
            refusal("SUB", &[]),
            Some("looks like a reserved claim name")
        );
        assert_eq!(refusal("sub", &[]), Some("reserved claim name"));
        assert_eq!(refusal("EMAIL", &[]), Some("needs the email scope"));
        assert_eq!(refusal("\u{FF45}mail", &["email"]), None);
    }

    #[test]
    fn ordinary_names_pass_and_ascii_keys_do_not_allocate() {
        for name in [
            "https://myapp.example.com/roles",
            "role",
            "organisation_id",
            "\u{7D44}\u{7E54}",
            "Plan",
            "https://auth0.com.example.org/x",
            "https://notauth0.com/x",
            "subject",
            "s ub",
            "caf\u{E9}",
        ] {
            assert_eq!(refusal(name, &[]), None, "{name:?}");
        }
        assert!(matches!(
            match_key("https://myapp.example.com/roles"),
            Cow::Borrowed(_)
        ));
        assert_eq!(match_key("\u{17F}UB\u{200B}"), "sub");
        assert_eq!(match_key("Stra\u{DF}e"), "strasse", "full case folding");
    }

    #[test]
    fn no_custom_claim_can_pass_for_a_registered_one() {
        let scopes: Vec<String> = ["openid", "profile", "email"].map(String::from).to_vec();
        let perms = vec!["read:x".to_string()];
        let issue = Issue {
            org: Some(("org_1", "acme")),
            permissions: Some(&perms),
            ..issue(&scopes)
        };
        let some = |s: &str| Some(s.to_owned());
        let user = User {
            user_id: "auth0|1".into(),
            connection: "c".into(),
            email: some("a@b"),
            username: some("ann"),
            email_verified: true,
            name: some("Ann"),
            nickname: some("ann"),
            given_name: some("Ann"),
            family_name: some("Example"),
            picture: some("https://p"),
            phone_number: some("+31"),
            password_hash: None,
            app_metadata: Map::new(),
            user_metadata: Map::new(),
            blocked: false,
            logins_count: 1,
            last_login: None,
            last_ip: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            last_password_reset: None,
        };
        let access = issue.access_claims(&[]).unwrap();
        let id = issue.id_claims(&user, &[]).unwrap();
        for k in access.keys().chain(id.keys()) {
            // Profile claims are refused without their scope; with it a script may set them.
            assert!(refusal(k, &[]).is_some(), "{k}");
            assert!(refusal(&k.to_uppercase(), &[]).is_some(), "{k}");
            let fullwidth: String = k
                .chars()
                .map(|c| {
                    char::from_u32(c as u32 + 0xFEE0)
                        .filter(|_| c.is_ascii_graphic())
                        .unwrap_or(c)
                })
                .collect();
            assert!(refusal(&fullwidth, &[]).is_some(), "{fullwidth}");
        }
    }

    #[test]
    fn oversized_custom_claims_fail() {
        let big = claim("big", json!("x".repeat(MAX_CUSTOM_CLAIMS_BYTES)));
        let err = issue(&[]).access_claims(&[big]).unwrap_err();
        assert_eq!(err.script, "01-test");
    }

    /// The limit counts what is written after the policy and folding, and blames the script of
    /// the biggest claim, not the last one that wrote any.
    #[test]
    fn the_size_limit_folds_and_names_the_biggest_claims_script() {
        let by = |script: &str, name: &str, value: Value| Claim {
            script: Arc::from(script),
            name: name.into(),
            value,
        };
        let half = || json!("x".repeat(60 * 1024));
        // The same name twice: folded to one 60 KB claim.
        let twice = [by("a", "x", half()), by("b", "x", half())];
        assert!(issue(&[]).access_claims(&twice).is_ok());
        // A refused name does not count.
        let refused = [by("a", "x", half()), by("b", "sub", half())];
        assert!(issue(&[]).access_claims(&refused).is_ok());
        let over = [
            by("big", "y", json!("x".repeat(70 * 1024))),
            by("mid", "z", half()),
            by("last", "w", json!(1)),
        ];
        assert_eq!(issue(&[]).access_claims(&over).unwrap_err().script, "big");
        // Each token is counted on its own.
        let mut m = Map::new();
        add_custom(&mut m, &[by("a", "y", half())], &[], "access_token").unwrap();
        add_custom(&mut m, &[by("a", "z", half())], &[], "id_token").unwrap();
    }
}
