//! The refresh and client-credentials grants, server side, in process (`claimsmith::grant::issue`,
//! as the HTTP handler calls it), with no script and with 2 Rules + 3 Actions
//! (`benches/fixtures`), for RS256, ES256 and EdDSA APIs:
//! - server CPU per token: the process's CPU clock (every thread: tokio, the blocking pool, the
//!   script workers) over a run of 8 concurrent chains of grants, divided by the tokens issued.
//!   At concurrency 1 idle script workers would add their poll-before-park spin (queue.rs);
//!   under load they find the next job instead.
//! - the refresh grant's stages, one grant at a time, re-enacted through the public API as
//!   `src/grant/refresh.rs` runs them (lookup, scripts, claims, signing, rotation), wall time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use claimsmith::claims::Issue;
use claimsmith::credentials::{hash_secret, new_secret};
use claimsmith::oauth::TokenRequest;
use claimsmith::script::{LoginInput, RequestInfo, Verdict, user_profile};
use claimsmith::state::AppState;
use claimsmith::store::{ClientAuth, NewApi, NewClient, NewRefresh};
use claimsmith::token::Alg;
use serde_json::json;

use crate::support::server::{BCRYPT4_USER, BenchServer, PASSWORD};
use crate::support::stats::{env_usize, pct, us};

const APP: &str = "bench-rt";
const M2M: &str = "bench-m2m";
const SECRET: &str = "secret";
const APIS: [(&str, Alg); 3] = [
    ("https://rt.rs", Alg::RS256),
    ("https://rt.es", Alg::ES256),
    ("https://rt.ed", Alg::EdDSA),
];
const CHAINS: usize = 8;

/// The process's CPU time so far, all threads (`clock_gettime`: nanoseconds, where
/// `/proc/self/stat` counts 10 ms ticks).
#[allow(unsafe_code)]
fn cpu() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec it is given and nothing else.
        let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0;
        if ok {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    Duration::ZERO
}

fn request(params: &[(&str, &str)]) -> TokenRequest {
    let params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    TokenRequest::new(params, None, crate::stages::meta()).expect("request")
}

fn seed(state: &AppState) {
    let now = state.clock.now_rfc3339();
    state
        .store
        .call_sync(|db| {
            for (aud, alg) in APIS {
                db.insert_api(
                    &NewApi {
                        identifier: aud.into(),
                        name: aud.into(),
                        token_lifetime_s: 3600,
                        signing_alg: alg.as_str().into(),
                        rbac_enabled: false,
                        permissions_in_token: false,
                        allow_offline_access: true,
                        scopes: vec!["read".into()],
                    },
                    &now,
                )?;
            }
            for (id, grants) in [
                (APP, vec!["password", "refresh_token"]),
                (M2M, vec!["client_credentials"]),
            ] {
                db.insert_client(
                    &NewClient {
                        client_id: id.into(),
                        name: id.into(),
                        secret_hash: Some(hash_secret(SECRET)),
                        app_type: "non_interactive".into(),
                        grant_types: grants.into_iter().map(str::to_owned).collect(),
                        metadata: Default::default(),
                        auth_method: ClientAuth::ClientSecretPost,
                        trusted_forwarded_for: false,
                        connections: vec!["Username-Password-Authentication".into()],
                    },
                    &now,
                )?;
            }
            for (aud, _) in APIS {
                db.set_client_grant(M2M, aud, &["read".to_owned()])?;
            }
            Ok(())
        })
        .expect("seed");
}

/// A password login with `offline_access`: its refresh token.
async fn first_token(state: &AppState, aud: &str) -> String {
    let req = request(&[
        ("grant_type", "password"),
        ("client_id", APP),
        ("client_secret", SECRET),
        ("username", BCRYPT4_USER),
        ("password", PASSWORD),
        ("audience", aud),
        ("scope", "openid profile offline_access read"),
    ]);
    let r = claimsmith::grant::issue(state, req).await.expect("login");
    r.refresh_token.expect("a refresh token")
}

async fn refresh(state: &AppState, token: &str) -> String {
    let req = request(&[
        ("grant_type", "refresh_token"),
        ("client_id", APP),
        ("client_secret", SECRET),
        ("refresh_token", token),
    ]);
    let r = claimsmith::grant::issue(state, req).await.expect("refresh");
    assert!(r.id_token.is_some());
    r.refresh_token.expect("rotated")
}

async fn client_credentials(state: &AppState, aud: &str) {
    let req = request(&[
        ("grant_type", "client_credentials"),
        ("client_id", M2M),
        ("client_secret", SECRET),
        ("audience", aud),
    ]);
    claimsmith::grant::issue(state, req)
        .await
        .expect("client credentials");
}

/// Server CPU and wall time per token over `CHAINS` concurrent chains of `n` grants each.
async fn per_token(
    state: &Arc<AppState>,
    aud: &'static str,
    n: usize,
    refresh_grant: bool,
) -> (f64, f64) {
    let mut tokens = Vec::new();
    if refresh_grant {
        for _ in 0..CHAINS {
            tokens.push(first_token(state, aud).await);
        }
    }
    let (cpu0, wall0) = (cpu(), Instant::now());
    let mut tasks = Vec::new();
    for c in 0..CHAINS {
        let (state, mut token) = (state.clone(), tokens.get(c).cloned().unwrap_or_default());
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                if refresh_grant {
                    token = refresh(&state, &token).await;
                } else {
                    client_credentials(&state, aud).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("chain");
    }
    let issued = (CHAINS * n) as f64;
    (us(cpu() - cpu0) / issued, us(wall0.elapsed()) / issued)
}

/// The refresh grant's stages, one at a time (wall time per stage).
async fn stages(state: &AppState, aud: &str, n: usize) -> [Vec<Duration>; 5] {
    let mut t: [Vec<Duration>; 5] = Default::default();
    let mut token = first_token(state, aud).await;
    let alg = APIS
        .iter()
        .find(|(a, _)| *a == aud)
        .map(|(_, g)| *g)
        .expect("alg");
    for _ in 0..n {
        let s = Instant::now();
        let hash = hash_secret(&token);
        let (row, user, connection, api, roles) = state
            .store
            .call(move |db| {
                let row = db.refresh_token(&hash)?.expect("stored");
                let user = db.user_by_id(&row.user_id)?.expect("user");
                let connection = db
                    .connection_by_name(&user.connection)?
                    .expect("connection");
                assert!(db.is_connection_enabled(&row.client_id, &connection.id)?);
                assert!(!db.refresh_rotated_after(&row.family_id, &row.id)?);
                let api = db.api(&row.audience)?.expect("api");
                let roles = db.user_roles(&user.user_id)?;
                let client = db.client(APP)?.expect("client");
                assert!(claimsmith::credentials::verify_secret(
                    SECRET,
                    client.secret_hash.as_deref().unwrap_or("")
                ));
                Ok((row, user, connection, api, roles))
            })
            .await
            .expect("lookup");
        t[0].push(s.elapsed());

        let s = Instant::now();
        let scopes: Vec<String> = row.scope.split(' ').map(str::to_owned).collect();
        let client = state
            .store
            .call(|db| db.client(APP))
            .await
            .expect("client")
            .expect("client");
        let input = LoginInput {
            user: user_profile(&user),
            client: (&client).into(),
            connection: (&connection).into(),
            request: RequestInfo::new(&crate::stages::meta(), Default::default()),
            protocol: "oauth2-refresh-token".into(),
            requested_scopes: scopes.clone(),
            audience: row.audience.clone(),
            roles,
            organization: None,
            logins_count: user.logins_count,
            tenant: state.config.tenant.clone(),
            now_ms: state.clock.now_ms(),
            transaction_id: claimsmith::credentials::random_id::<16>(),
            refresh_token: Some(
                json!({"id": row.id, "client_id": row.client_id, "user_id": row.user_id,
                "created_at": row.created_at, "expires_at": row.expires_at, "rotating": true,
                "resource_servers": [{"audience": row.audience, "scopes": row.scope}], "metadata": row.metadata}),
            ),
        };
        let outcome = state.pipeline.run(input).await.expect("scripts");
        assert_eq!(outcome.verdict, Verdict::Allow);
        t[1].push(s.elapsed());

        let s = Instant::now();
        let issue = Issue {
            issuer: &state.config.issuer,
            sub: &user.user_id,
            client_id: APP,
            audience: &row.audience,
            iat: state.clock.now_secs(),
            access_lifetime_s: api.token_lifetime_s,
            id_lifetime_s: state.config.id_token_lifetime_s,
            scopes: &scopes,
            gty: "refresh_token",
            org: None,
            permissions: None,
        };
        let (access, id) = crate::stages::claims(state, &issue, &outcome, &user, alg);
        t[2].push(s.elapsed());

        let s = Instant::now();
        let _ = state
            .keys
            .sign_off_workers((alg, access), Some((Alg::RS256, id)))
            .await
            .expect("sign");
        t[3].push(s.elapsed());

        let s = Instant::now();
        let next = new_secret();
        let (hash, now) = (hash_secret(&next), state.clock.now_rfc3339());
        state
            .store
            .call(move |db| {
                let new = NewRefresh {
                    token_hash: &hash,
                    family_id: Some(&row.family_id),
                    user_id: &row.user_id,
                    client_id: &row.client_id,
                    audience: &row.audience,
                    scope: &row.scope,
                    org_id: row.org_id.as_deref(),
                    metadata: &row.metadata,
                    expires_at: &row.expires_at,
                    idle_expires_at: &row.expires_at,
                };
                db.rotate_refresh_token(&row.id, &new, &now, false)
            })
            .await
            .expect("rotate")
            .expect("not rotated before");
        token = next;
        t[4].push(s.elapsed());
    }
    t
}

pub async fn run() {
    let n = env_usize("LOGIN_GRANTS_N", 150);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures");
    let empty = tempfile::tempdir().expect("temp dir");
    println!(
        "refresh and client-credentials grants in process, server CPU per token ({CHAINS} concurrent chains x {n})"
    );
    println!(
        "{:<38} {:>12} {:>12} {:>12}",
        "grant, scripts, access token alg", "CPU/token", "wall/token", "CPU - sign"
    );
    let sign_cost = |alg: Alg, state: &AppState| {
        let claims =
            json!({"iss": "https://x/", "sub": "auth0|1", "aud": "https://rs", "scope": "read"});
        let mut v: Vec<Duration> = (0..300)
            .map(|_| {
                let s = Instant::now();
                let _ = state.keys.sign(alg, &claims).expect("sign");
                s.elapsed()
            })
            .collect();
        us(pct(&mut v, 0.5))
    };
    for (label, dir) in [
        ("0 scripts", None),
        ("2 Rules + 3 Actions", Some(&fixtures)),
    ] {
        let (actions, rules) = match dir {
            Some(d) => (d.join("actions"), d.join("rules")),
            None => (empty.path().join("a"), empty.path().join("r")),
        };
        let _ = std::fs::create_dir_all(&actions);
        let _ = std::fs::create_dir_all(&rules);
        let server = BenchServer::start(move |c| {
            c.actions_dir = actions;
            c.rules_dir = rules;
        })
        .await;
        let state = server.state.clone();
        seed(&state);
        for (aud, alg) in APIS {
            // A refresh signs the access token with the API's algorithm and the ID token RS256.
            let signing = sign_cost(alg, &state) + sign_cost(Alg::RS256, &state);
            let _ = per_token(&state, aud, n / 10 + 1, true).await; // warm-up
            let (c, w) = per_token(&state, aud, n, true).await;
            println!(
                "{:<38} {c:>10.1}µs {w:>10.1}µs {:>10.1}µs",
                format!("refresh, {label}, {}", alg.as_str()),
                c - signing
            );
        }
        for (aud, alg) in APIS {
            let signing = sign_cost(alg, &state);
            let _ = per_token(&state, aud, n / 10 + 1, false).await;
            let (c, w) = per_token(&state, aud, n, false).await;
            println!(
                "{:<38} {c:>10.1}µs {w:>10.1}µs {:>10.1}µs",
                format!("client credentials, {label}, {}", alg.as_str()),
                c - signing
            );
        }
        if dir.is_some() {
            println!("\nrefresh grant stages, one at a time, {label} (wall time)");
            println!("{:<38} {:>12} {:>12}", "stage", "RS256 p50", "EdDSA p50");
            let mut rs = stages(&state, APIS[0].0, n).await;
            let mut ed = stages(&state, APIS[2].0, n).await;
            let names = [
                "lookup: client, token, user, API (store)",
                "scripts: 2 Rules + 3 Actions",
                "claims: access + ID claims, size check",
                "signing: access + RS256 ID token",
                "rotation (store write)",
            ];
            for (i, name) in names.iter().enumerate() {
                println!(
                    "{name:<38} {:>10.1}µs {:>10.1}µs",
                    us(pct(&mut rs[i], 0.5)),
                    us(pct(&mut ed[i], 0.5))
                );
            }
            println!(
                "goal: a refresh with 2 Rules + 3 Actions costs at most its signing + 110 µs of server CPU \
                 (the 'CPU - sign' column above)"
            );
        }
        server.stop().await;
    }
}
