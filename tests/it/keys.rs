//! Signing keys across restarts: a rotated key stays in the JWKS, so tokens it signed verify.

use crate::support::*;

#[tokio::test]
async fn a_token_signed_before_a_rotation_still_verifies_after_it() {
    let s = TestServer::start().await;
    let (_, body) = s.login(&[("audience", API)]).await;
    let old_token = body["access_token"].as_str().unwrap().to_owned();
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();
    let seed = s.seed.clone();
    let dir = s.stop().await;

    let store = claimsmith::store::Store::open(&dir.path().join("claimsmith.db")).unwrap();
    let clock = claimsmith::clock::Clock::fixed(NOW_MS);
    let config = claimsmith::config::Config::for_test(dir.path());
    let new_kid =
        claimsmith::bootstrap::rotate_key(&store, claimsmith::token::Alg::RS256, &config, &clock)
            .unwrap();
    drop(store);

    let s = TestServer::start_in(dir, |_| {}, Some(seed.clone())).await;
    let (_, body) = s.login(&[("audience", API)]).await;
    let new_token = body["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(new_token).unwrap().kid.unwrap(),
        new_kid
    );
    assert_ne!(new_kid, old_kid);
    let jwks = s.jwks().await;
    assert_eq!(
        verify_with(&jwks, &old_token, API)["sub"],
        s.seed.user_id.as_str()
    );
    assert_eq!(
        verify_with(&jwks, new_token, API)["sub"],
        s.seed.user_id.as_str()
    );
    let dir = s.stop().await;

    // A second rotation right away keeps the first key published: the second key has not signed
    // for a whole token lifetime yet, so tokens of the first may still be alive.
    let store = claimsmith::store::Store::open(&dir.path().join("claimsmith.db")).unwrap();
    claimsmith::bootstrap::rotate_key(&store, claimsmith::token::Alg::RS256, &config, &clock)
        .unwrap();
    assert!(
        store
            .call_sync(|db| db.keys())
            .unwrap()
            .iter()
            .all(|k| !k.retired)
    );
    // A rotation once the longest lifetime (86400 s here) has passed retires it.
    clock.advance(86_401_000);
    claimsmith::bootstrap::rotate_key(&store, claimsmith::token::Alg::RS256, &config, &clock)
        .unwrap();
    let retired: Vec<String> = store
        .call_sync(|db| db.keys())
        .unwrap()
        .into_iter()
        .filter(|k| k.retired)
        .map(|k| k.kid)
        .collect();
    assert_eq!(retired, vec![old_kid.clone()]);
    drop(store);
    let s = TestServer::start_in(dir, |_| {}, Some(seed)).await;
    let jwks = s.jwks().await;
    assert!(jwks.find(&old_kid).is_none());
    assert!(jwks.find(&new_kid).is_some());
    s.stop().await;
}
