//! Timing guarantees, alone in their own test binary: cargo runs test binaries one after
//! another, so nothing else of the suite loads the CPU while this measures (another test's
//! password hashes beside it slow the bcrypt verification against the pace calibrated at start,
//! which made this test fail on a loaded machine when it ran among the others).

#[allow(dead_code, unused_imports)]
#[path = "it/support.rs"]
mod support;

use support::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::test]
async fn failed_logins_take_as_long_whoever_they_name() {
    // The state after an Auth0 migration: an imported bcrypt cost-10 user who has not logged in
    // since, next to argon2id and bcrypt cost-4 users. The server (re)starts on that database.
    let s = TestServer::start_with(|c| c.brute_force_threshold = 0).await;
    let hashes = [
        ("bcrypt10@example.com", bcrypt::hash("pw", 10).unwrap()),
        (
            "argon@example.com",
            claimsmith::credentials::hash_password("pw").unwrap(),
        ),
    ];
    s.db(|db| {
        for (email, hash) in &hashes {
            db.insert_user(
                &claimsmith::store::NewUser {
                    connection: CONNECTION.into(),
                    email: Some((*email).into()),
                    password_hash: Some(hash.clone()),
                    ..Default::default()
                },
                "2027-01-01T00:00:00.000Z",
            )?;
        }
        Ok(())
    });
    let seed = s.seed.clone();
    let dir = s.stop().await;
    let s = TestServer::start_in(dir, |c| c.brute_force_threshold = 0, Some(seed)).await;
    let names = [
        "bcrypt10@example.com",
        "argon@example.com",
        EMAIL,
        "nobody@example.com",
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..15 {
        for (i, name) in names.iter().enumerate() {
            times[i].push(failure_ms(&s, name).await);
        }
    }
    let medians: Vec<f64> = times.into_iter().map(median).collect();
    let slowest = medians[0];
    for (name, m) in names.iter().zip(&medians) {
        assert!(
            (m / slowest - 1.0).abs() <= 0.10,
            "a failure for {name} takes {m:.1} ms, for the bcrypt-10 user {slowest:.1} ms \
             (medians of 15): {medians:?}"
        );
    }
}
