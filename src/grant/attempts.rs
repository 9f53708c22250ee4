//! What guards a password check: the brute-force reservation made before it runs, and the
//! upkeep after it succeeds (an old hash replaced by one of the current scheme).

use super::login::store_error;
use super::request::PasswordRequest;
use crate::oauth::OAuthError;
use crate::state::AppState;
use crate::store::{Attempt, User};

/// Reserves this password check with brute-force protection before it runs: a blocked name
/// answers 429 before any hashing, whether or not the user exists.
pub(super) async fn reserve(
    state: &AppState,
    req: &PasswordRequest<'_>,
    connection_id: &str,
) -> Result<(), OAuthError> {
    let cfg = &state.config;
    if cfg.brute_force_threshold == 0 {
        return Ok(());
    }
    let now_ms = state.clock.now_ms();
    let until = crate::clock::rfc3339(now_ms + cfg.brute_force_block.as_millis() as i64);
    let (c, l, i, now, threshold) = (
        connection_id.to_owned(),
        req.username.to_owned(),
        req.meta.ip.clone(),
        crate::clock::rfc3339(now_ms),
        cfg.brute_force_threshold,
    );
    let attempt = state
        .store
        .call(move |db| db.reserve_login_attempt(&c, &l, &i, &now, threshold, &until))
        .await
        .map_err(store_error)?;
    match attempt {
        Attempt::Allowed => Ok(()),
        Attempt::Last => {
            tracing::warn!(ip = %req.meta.ip, "login name blocked after repeated failures unless this attempt succeeds");
            Ok(())
        }
        Attempt::Blocked => Err(OAuthError::too_many_attempts()),
    }
}

/// Rehashes the password with the current scheme after a successful login with an older one
/// (bcrypt from an Auth0 export, weaker argon2 parameters), so that pacing failures to the slowest
/// scheme costs less as users come back.
pub(super) async fn upgrade_hash(
    state: &AppState,
    req: &PasswordRequest<'_>,
    user: &User,
    old: String,
) -> Result<(), OAuthError> {
    let password = req.password.to_owned();
    let Some(new) = state
        .hashes
        .hash(password)
        .await
        .map_err(OAuthError::hashing_overloaded)?
    else {
        return Ok(()); // hashing failed: keep the old hash, the login stands
    };
    let id = user.user_id.clone();
    state
        .store
        .call(move |db| db.upgrade_password_hash(&id, &old, &new))
        .await
        .map_err(store_error)?;
    tracing::info!(user_id = %user.user_id, "password hash upgraded to the current scheme");
    Ok(())
}
