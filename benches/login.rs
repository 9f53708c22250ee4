//! The cost of a password login: first split into its stages (store, hash, scripts, claims,
//! signing) with bcrypt cost 4 and the sample scripts, beside the whole grant and the whole
//! login over HTTP (`login/stages.rs`); then end to end over HTTP with bcrypt cost 10 and
//! argon2id, failed logins, and signing alone with each algorithm. Prints tables and ratios; run
//! with `cargo bench --bench login`. `LOGIN_BENCH=stages` runs only the stage split,
//! `LOGIN_BENCH=grants` only the refresh and client-credentials grants (`login/grants.rs`,
//! `LOGIN_GRANTS_N` grants per chain), `LOGIN_BENCH=hashes` only the rest; `LOGIN_STAGES_N` sets
//! the stage split's login count.

#![allow(clippy::print_stdout)] // A bench binary prints its table.

#[path = "login/grants.rs"]
mod grants;
#[path = "login/stages.rs"]
mod stages;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use claimsmith::clock::Clock;
use claimsmith::config::Config;
use claimsmith::credentials::{hash_password, hash_secret};
use claimsmith::store::{ClientAuth, NewApi, NewClient, NewUser};
use claimsmith::token::Alg;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Failed logins (a wrong password) for an unknown name and for users of each stored scheme: the
/// spread of their medians is what an attacker could use to tell accounts apart (goal: <= 10%).
async fn enumeration_timing(http: &reqwest::Client, url: &str) {
    println!("\n{:<34} {:>10}", "failed login (wrong password)", "median");
    let names = [
        ("unknown name", "nobody@x"),
        ("bcrypt cost 10 user", "bcrypt@x"),
        ("argon2id user", "argon@x"),
    ];
    let mut times = vec![Vec::new(); names.len()];
    for _ in 0..25 {
        for (i, (_, user)) in names.iter().enumerate() {
            let t = Instant::now();
            let r = http
                .post(url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", "bench"),
                    ("client_secret", "secret"),
                    ("username", user),
                    ("password", "wrong"),
                ])
                .send()
                .await
                .expect("send");
            assert_eq!(r.status().as_u16(), 403, "a wrong password is refused");
            let _ = r.bytes().await;
            times[i].push(t.elapsed());
        }
    }
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    for ((label, _), m) in names.iter().zip(&medians) {
        println!("{label:<34} {:>8.2}ms", m.as_secs_f64() * 1e3);
    }
    let (lo, hi) = (medians.iter().min(), medians.iter().max());
    if let (Some(lo), Some(hi)) = (lo, hi) {
        println!(
            "spread of failure times: {:.1}% (goal <= 10%)",
            (hi.as_secs_f64() / lo.as_secs_f64() - 1.0) * 100.0
        );
    }
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

#[tokio::main]
async fn main() {
    let only = std::env::var("LOGIN_BENCH").unwrap_or_default();
    if only.is_empty() || only == "grants" {
        grants::run().await;
        println!();
    }
    if only == "grants" {
        return;
    }
    if only != "hashes" {
        stages::run().await;
        println!();
    }
    if only == "stages" {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_test(dir.path());
    config.hash_concurrency = 1;
    config.rehash_passwords = false; // the bcrypt case must stay bcrypt
    config.brute_force_threshold = 0; // the enumeration case fails many logins on purpose
    let state = claimsmith::bootstrap::app_state(config, Clock::system()).expect("state");
    let now = "2026-01-01T00:00:00.000Z";
    state
        .store
        .call_sync(|db| {
            db.insert_client(
                &NewClient {
                    client_id: "bench".into(),
                    name: "bench".into(),
                    secret_hash: Some(hash_secret("secret")),
                    app_type: "non_interactive".into(),
                    grant_types: vec!["password".into()],
                    metadata: Default::default(),
                    auth_method: ClientAuth::ClientSecretPost,
                    trusted_forwarded_for: false,
                    connections: vec!["Username-Password-Authentication".into()],
                },
                now,
            )?;
            for (aud, alg) in [
                ("https://rs", "RS256"),
                ("https://es", "ES256"),
                ("https://ed", "EdDSA"),
            ] {
                db.insert_api(
                    &NewApi {
                        identifier: aud.into(),
                        name: aud.into(),
                        token_lifetime_s: 3600,
                        signing_alg: alg.into(),
                        rbac_enabled: false,
                        permissions_in_token: false,
                        allow_offline_access: false,
                        scopes: vec!["read".into()],
                    },
                    now,
                )?;
            }
            for (email, hash) in [
                ("bcrypt@x", bcrypt::hash("pw", 10).expect("bcrypt")),
                ("argon@x", hash_password("pw").expect("argon2")),
            ] {
                db.insert_user(
                    &NewUser {
                        connection: "Username-Password-Authentication".into(),
                        email: Some(email.into()),
                        password_hash: Some(hash),
                        ..NewUser::default()
                    },
                    now,
                )?;
            }
            Ok(())
        })
        .expect("seed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/oauth/token",
        listener.local_addr().expect("addr")
    );
    let state = Arc::new(state);
    let keys = state.keys.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(claimsmith::run(listener, state, None, async move {
        let _ = rx.await;
    }));
    // reqwest's rustls takes the process's crypto provider (see tests/it/support.rs).
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::new();

    println!(
        "{:<34} {:>10} {:>10}",
        "password login (sequential)", "median", "p99"
    );
    let mut medians = Vec::new();
    for (label, user, aud, n) in [
        ("bcrypt cost 10, RS256", "bcrypt@x", "https://rs", 30),
        ("argon2id m=19MiB t=2, RS256", "argon@x", "https://rs", 60),
        ("argon2id, ES256", "argon@x", "https://es", 60),
        ("argon2id, EdDSA", "argon@x", "https://ed", 60),
    ] {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let r = http
                .post(&url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", "bench"),
                    ("client_secret", "secret"),
                    ("username", user),
                    ("password", "pw"),
                    ("audience", aud),
                ])
                .send()
                .await
                .expect("send");
            assert!(r.status().is_success(), "login failed: {}", r.status());
            let _ = r.bytes().await;
            times.push(t.elapsed());
        }
        let m = median(times.clone());
        medians.push(m);
        println!(
            "{label:<34} {:>8.2}ms {:>8.2}ms",
            m.as_secs_f64() * 1e3,
            p99(times).as_secs_f64() * 1e3
        );
    }
    println!(
        "bcrypt/argon2id login ratio: {:.1}x",
        medians[0].as_secs_f64() / medians[1].as_secs_f64()
    );

    enumeration_timing(&http, &url).await;

    println!("\n{:<34} {:>10}", "signing alone (cached key)", "median");
    let claims = serde_json::json!({"iss": "https://x/", "sub": "auth0|1", "aud": "https://rs", "scope": "read"});
    let mut sign = Vec::new();
    for alg in Alg::ALL {
        let times: Vec<Duration> = (0..2000)
            .map(|_| {
                let t = Instant::now();
                let _ = keys.sign(alg, &claims).expect("sign");
                t.elapsed()
            })
            .collect();
        let m = median(times);
        sign.push(m);
        println!("{:<34} {:>8.1}µs", alg.as_str(), m.as_secs_f64() * 1e6);
    }
    println!(
        "RS256/ES256: {:.1}x, RS256/EdDSA: {:.1}x",
        sign[0].as_secs_f64() / sign[1].as_secs_f64(),
        sign[0].as_secs_f64() / sign[2].as_secs_f64()
    );
    let _ = tx.send(());
    let _ = server.await;
}
