//! A subset of Auth0's Management API v2 (`<issuer>api/v2/`): the logic of its endpoints as plain
//! functions of parsed inputs (no hyper here: `http/mgmt.rs` reads requests, checks the bearer
//! token and its scope, and renders). Errors are [`MgmtError`]s, in Auth0's shape.

pub mod access;
mod error;
pub mod users;

pub use error::MgmtError;

/// The path of the Management API's audience under the issuer.
const PATH: &str = "api/v2/";

/// The Management API's audience for an issuer (always registered, see `bootstrap.rs`).
pub fn audience(issuer: &str) -> String {
    format!("{issuer}{PATH}")
}

/// Whether `aud` is the Management API's audience, without building it (every password login
/// asks).
pub fn is_audience(issuer: &str, aud: &str) -> bool {
    aud.strip_prefix(issuer) == Some(PATH)
}

/// The scopes of the Management API's registration: Auth0's names, those this subset checks
/// first.
pub const SCOPES: &[&str] = &[
    "read:users",
    "create:users",
    "update:users",
    "delete:users",
    "read:roles",
    "create:roles",
    "read:role_members",
    "create:role_members",
    "delete:role_members",
    "read:organizations",
    "create:organizations",
    "read:organization_members",
    "create:organization_members",
    "read:users_app_metadata",
    "update:users_app_metadata",
    "create:users_app_metadata",
];

/// The scopes of Rules' `auth0.accessToken`: Auth0 limits that token to `read:users` and
/// `update:users` ("Use the Management API from within Rules").
pub const RULES_SCOPES: &[&str] = &["read:users", "update:users"];

/// The `azp` of Rules' `auth0.accessToken`; its `sub` is `<this>@clients` and its `gty`
/// `client-credentials`, as if an internal client of the server had asked for it (no stored
/// client has this id's shape: `clients add` makes random ids).
pub const RULES_CLIENT: &str = "claimsmith-rules";

/// How long a token for the Rules lives. One is reused while more than half of this is left, so
/// a Rule always gets one with at least half of it to run.
pub const RULES_TOKEN_LIFETIME_S: i64 = 600;

/// Rules' `auth0.accessToken`: one token for the Management API, signed (RS256, as Auth0 signs
/// its Management API tokens) with the server's key ring when first asked for, and again only
/// once less than half its lifetime is left. Asked for on the script worker threads, never on a
/// tokio worker: signing RS256 takes ~0.3 ms.
pub struct RulesToken {
    issuer: String,
    keys: std::sync::Arc<crate::token::KeyRing>,
    clock: crate::clock::Clock,
    /// The token and its `exp`.
    cached: std::sync::Mutex<Option<(String, i64)>>,
}

impl RulesToken {
    pub fn new(
        issuer: &str,
        keys: std::sync::Arc<crate::token::KeyRing>,
        clock: crate::clock::Clock,
    ) -> RulesToken {
        RulesToken {
            issuer: issuer.to_owned(),
            keys,
            clock,
            cached: Default::default(),
        }
    }

    /// The current token, signed now if there is none with more than half its life left.
    pub fn get(&self) -> Result<String, crate::token::SignError> {
        let now = self.clock.now_secs();
        // Held while signing: workers asking at once wait for one signature, not sign twice.
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, exp)) = &*cached
            && exp - now > RULES_TOKEN_LIFETIME_S / 2
        {
            return Ok(token.clone());
        }
        let exp = now + RULES_TOKEN_LIFETIME_S;
        let claims = serde_json::json!({
            "iss": self.issuer,
            "sub": format!("{RULES_CLIENT}@clients"),
            "aud": audience(&self.issuer),
            "iat": now,
            "exp": exp,
            "scope": RULES_SCOPES.join(" "),
            "gty": "client-credentials",
            "azp": RULES_CLIENT,
        });
        let token = self.keys.sign(crate::token::Alg::RS256, &claims)?;
        *cached = Some((token.clone(), exp));
        Ok(token)
    }
}
