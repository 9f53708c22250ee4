//! Start-up: opens and migrates the store, creates the default connection and the first signing
//! keys, and builds the shared [`AppState`]. Also the key rotation the CLI offers.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::{FailurePace, HashPool, dummy_hash_like, random_id};
use crate::pipeline::Pipeline;
use crate::state::AppState;
use crate::store::{Db, Store, StoreError};
use crate::token::{self, Alg, KeyRing, SignError, StoredKey};

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] SignError),
    #[error(transparent)]
    Scripts(#[from] crate::pipeline::PipelineError),
    /// The scripts' `fetch` cannot trust the server's own certificate.
    #[error("tls_cert: {0}")]
    OwnCertificate(String),
}

/// Opens the store named by the config and makes sure the default connection and a signing key
/// of every algorithm exist.
pub fn open_store(config: &Config, clock: &Clock) -> Result<Store, StartError> {
    let store = Store::open(&config.db)?;
    let now = clock.now_rfc3339();
    store.call_sync(|db| {
        if let Some(name) = &config.default_connection {
            db.ensure_connection(name, &now)?;
        }
        Ok(())
    })?;
    let missing: Vec<Alg> = store.call_sync(|db| {
        let keys = db.keys()?;
        Ok(Alg::ALL
            .into_iter()
            .filter(|a| !keys.iter().any(|k| k.alg == a.as_str() && !k.rotated))
            .collect())
    })?;
    for alg in missing {
        let key = token::generate(alg, new_kid())?;
        store.call_sync(|db| db.insert_key(&key.kid, key.alg.as_str(), &key.pkcs8, &now))?;
        tracing::info!(kid = %key.kid, alg = %alg, "generated a signing key");
    }
    store.call_sync(|db| db.activate_signing_keys(&now))?;
    Ok(store)
}

/// Parses every published key of the store into a key ring.
pub fn key_ring(db: &Db<'_>) -> Result<KeyRing, StartError> {
    let rows = db.keys()?;
    Ok(KeyRing::load(rows.iter().map(|k| StoredKey {
        kid: &k.kid,
        alg: &k.alg,
        pkcs8: &k.pkcs8,
        published: !k.retired,
        signing: !k.rotated && !k.retired,
    }))?)
}

/// Replaces the signing key of `alg`; the old one stays in the JWKS so that its tokens still
/// verify, and takes effect at the next start. Keys whose successor has signed for longer than
/// the longest token lifetime leave the JWKS.
pub fn rotate_key(
    store: &Store,
    alg: Alg,
    config: &Config,
    clock: &Clock,
) -> Result<String, StartError> {
    let key = token::generate(alg, new_kid())?;
    let now_ms = clock.now_ms();
    let now = crate::clock::rfc3339(now_ms);
    let floor = config
        .access_token_lifetime_s
        .max(config.id_token_lifetime_s);
    store.call_sync(|db| {
        db.transaction(|db| {
            db.insert_key(&key.kid, key.alg.as_str(), &key.pkcs8, &now)?;
            let lifetime_ms = db.longest_token_lifetime(floor)? as i64 * 1000;
            db.retire_old_keys(&now, &crate::clock::rfc3339(now_ms - lifetime_ms))
        })
    })?;
    Ok(key.kid)
}

fn new_kid() -> String {
    random_id::<16>()
}

/// Builds the state the server shares between requests.
pub fn app_state(mut config: Config, clock: Clock) -> Result<AppState, StartError> {
    scripts_reach_this_server(&mut config)?;
    if config.debug.record {
        tracing::warn!(
            keep = config.debug.record_keep,
            "[debug] record is on: logins are kept in the database (redacted) for `claimsmith \
             logins`. For development only, never in production"
        );
    }
    if config.debug.provenance {
        tracing::warn!(
            "[debug] provenance is on: every token response names the scripts and custom claims              behind it (x-claimsmith-provenance). For development only, never in production"
        );
    }
    let store = open_store(&config, &clock)?;
    // The Management API is always registered, for the issuer this server answers as.
    let (audience, now) = (crate::mgmt::audience(&config.issuer), clock.now_rfc3339());
    store.call_sync(|db| db.ensure_management_api(&audience, crate::mgmt::SCOPES, &now))?;
    let keys = Arc::new(store.call_sync(|db| Ok(key_ring(db)))??);
    let rules_token = crate::mgmt::RulesToken::new(&config.issuer, keys.clone(), clock.clone());
    let rules_token: crate::pipeline::RulesToken = Box::new(move || {
        rules_token.get().map_err(|e| {
            tracing::error!(error = %e, "the Rules' Management API token could not be signed");
            crate::script::TokenUnavailable
        })
    });
    let classes = store.call_sync(|db| db.password_hash_classes())?;
    let dummy_hash = dummy_hash_like(classes.first().map(String::as_str));
    // The dummy copies the most common class: with one class there is nothing to pace against
    // (a class that appears later is measured at its first check), so start-up stays quick.
    let pace = match classes.len() {
        0 | 1 => FailurePace::default(),
        _ => FailurePace::calibrate(&classes),
    };
    let metrics = Arc::new(crate::metrics::Metrics::new(config.metrics));
    Ok(AppState {
        pace,
        dummy_hash: dummy_hash.into(),
        hashes: HashPool::new(config.hash_concurrency, config.hash_queue),
        keys,
        pipeline: Pipeline::start(&config, store.clone(), clock.clone(), rules_token)?
            .with_metrics(metrics.clone()),
        metrics,
        token_requests: Default::default(),
        forwarded_notices: Default::default(),
        config: Arc::new(config),
        store,
        clock,
    })
}

/// Rules' `auth0.baseUrl` is the Management API under the issuer, and the scripts' `fetch` may
/// reach the issuer (with the server's own certificate trusted when it serves HTTPS), so that a
/// Rule can call the Management API with `auth0.accessToken`.
fn scripts_reach_this_server(config: &mut Config) -> Result<(), StartError> {
    let engine = &mut config.scripts.engine;
    engine.base_url = format!("{}api/v2", config.issuer);
    let pem = match &config.tls {
        Some((cert, _)) => Some(
            std::fs::read(cert)
                .map_err(|e| StartError::OwnCertificate(format!("{}: {e}", cert.display())))?,
        ),
        None => None,
    };
    engine
        .fetch
        .allow_own_server(&config.issuer, pem.as_deref())
        .map_err(StartError::OwnCertificate)
}
