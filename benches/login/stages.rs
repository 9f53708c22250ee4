//! One password login split into its stages, server side and in process: the grant's steps
//! re-enacted through the public API (the store, the hash pool, the pipeline, `claims::Issue`, the
//! key ring), each timed, then the whole grant (`claimsmith::grant::issue`) and the whole login
//! over HTTP for comparison. bcrypt cost 4 keeps the hash from hiding everything else.
//!
//! The re-enactment follows `src/grant/password.rs` step by step; it skips what costs nothing here
//! (form parsing, scope arithmetic, the primary-user switch, the metadata write when no script
//! changed metadata). If the grant gains a step, this file must follow, or the
//! "grant minus stages" line grows and says so.

use std::time::{Duration, Instant};

use claimsmith::claims::Issue;
use claimsmith::credentials::verify_secret;
use claimsmith::oauth::{RequestMeta, TokenRequest};
use claimsmith::script::{LoginInput, Outcome, RequestInfo, Verdict, user_profile};
use claimsmith::state::AppState;
use claimsmith::store::{Attempt, User};
use claimsmith::token::Alg;
use serde_json::{Map, Value};

use crate::support::client::{Conn, login_form};
use crate::support::server::{
    API, BCRYPT4_USER, BenchServer, CLIENT_ID, CLIENT_SECRET, CONNECTION, PASSWORD, SCOPE,
};
use crate::support::stats::{env_usize, pct, us};

/// The stages, in the grant's order, with the engine each one waits on.
const STAGES: [&str; 8] = [
    "lookup: client, connection, API, user (store)",
    "lookup: brute-force reservation (store)",
    "hash verify: bcrypt cost 4 (hash pool)",
    "lookup: count login, clear failures, roles",
    "scripts: build the input (LoginInput)",
    "scripts: 1 Rule + 1 Action (pipeline.run)",
    "claims: access + ID claims, size checks",
    "signing: RS256 access + ID token",
];

/// The grant's parameters, as the HTTP layer hands them over.
fn params() -> Vec<(String, String)> {
    form_urlencoded::parse(login_form(BCRYPT4_USER, PASSWORD).as_bytes())
        .into_owned()
        .collect()
}

/// The request as the HTTP layer describes a loopback login.
pub fn meta() -> RequestMeta {
    RequestMeta {
        ip: "127.0.0.1".into(),
        forwarded_for: None,
        hostname: "127.0.0.1".into(),
        user_agent: None,
        language: None,
        method: "POST".into(),
        query: Vec::new(),
    }
}

/// One login, stage by stage, as `grant/password.rs` runs it; the time of each stage.
async fn staged(state: &AppState, meta: &RequestMeta) -> [Duration; 8] {
    let mut t = [Duration::ZERO; 8];
    let cfg = &state.config;

    let s = Instant::now();
    let (client, connection, api, user) = state
        .store
        .call(|db| {
            let connection = db.connection_by_name(CONNECTION)?.expect("connection");
            let user = db.user_by_login(&connection.id, BCRYPT4_USER)?;
            Ok((db.client(CLIENT_ID)?, connection, db.api(API)?, user))
        })
        .await
        .expect("find");
    let client = client.expect("client");
    let secret = client.secret_hash.as_deref().expect("confidential client");
    assert!(verify_secret(CLIENT_SECRET, secret));
    let (api, user) = (api.expect("api"), user.expect("user"));
    t[0] = s.elapsed();

    let s = Instant::now();
    let now_ms = state.clock.now_ms();
    let until = claimsmith::clock::rfc3339(now_ms + cfg.brute_force_block.as_millis() as i64);
    let (conn_id, ip, threshold) = (
        connection.id.clone(),
        meta.ip.clone(),
        cfg.brute_force_threshold,
    );
    let attempt = state
        .store
        .call(move |db| {
            let now = claimsmith::clock::rfc3339(now_ms);
            db.reserve_login_attempt(&conn_id, BCRYPT4_USER, &ip, &now, threshold, &until)
        })
        .await
        .expect("reserve");
    assert!(!matches!(attempt, Attempt::Blocked));
    t[1] = s.elapsed();

    let s = Instant::now();
    let hash = user.password_hash.clone().expect("hash");
    let verified = state.hashes.verify(PASSWORD.into(), hash).await;
    assert!(verified.expect("hash pool").ok);
    t[2] = s.elapsed();

    let s = Instant::now();
    let (uid, ip, conn_id, now) = (
        user.user_id.clone(),
        meta.ip.clone(),
        connection.id.clone(),
        state.clock.now_rfc3339(),
    );
    let (logins_count, roles) = state
        .store
        .call(move |db| {
            let count = db.record_login(&uid, &ip, &now)?;
            db.clear_login_failures(&conn_id, BCRYPT4_USER, &ip)?;
            Ok((count, db.user_roles(&uid)?))
        })
        .await
        .expect("count");
    let user = claimsmith::store::User {
        logins_count,
        ..user
    };
    t[3] = s.elapsed();

    let s = Instant::now();
    let scopes: Vec<String> = SCOPE.split(' ').map(str::to_owned).collect();
    let body: Map<String, Value> = claimsmith::oauth::redacted(&params())
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    let input = LoginInput {
        user: user_profile(&user),
        client: (&client).into(),
        connection: (&connection).into(),
        request: RequestInfo::new(meta, body),
        protocol: "oauth2-password".into(),
        requested_scopes: scopes.clone(),
        audience: API.into(),
        roles,
        organization: None,
        logins_count: user.logins_count,
        tenant: cfg.tenant.clone(),
        now_ms: state.clock.now_ms(),
        transaction_id: claimsmith::credentials::random_id::<16>(),
        refresh_token: None,
    };
    t[4] = s.elapsed();

    let s = Instant::now();
    let outcome = state.pipeline.run(input).await.expect("scripts");
    assert_eq!(outcome.verdict, Verdict::Allow);
    assert!(outcome.effects.app_metadata.is_empty() && outcome.effects.user_metadata.is_empty());
    t[5] = s.elapsed();

    let s = Instant::now();
    let issue = Issue {
        issuer: &cfg.issuer,
        sub: &user.user_id,
        client_id: &client.client_id,
        audience: API,
        iat: state.clock.now_secs(),
        access_lifetime_s: api.token_lifetime_s,
        id_lifetime_s: cfg.id_token_lifetime_s,
        scopes: &scopes,
        gty: "password",
        org: None,
        permissions: None,
    };
    let (access, id) = claims(state, &issue, &outcome, &user, Alg::RS256);
    t[6] = s.elapsed();

    let s = Instant::now();
    let (_access, id) = state
        .keys
        .sign_off_workers((Alg::RS256, access), Some((Alg::RS256, id)))
        .await
        .expect("sign");
    assert!(id.is_some());
    t[7] = s.elapsed();
    t
}

/// The access and ID token claims of a login, size-checked as the grants check them.
pub fn claims(
    state: &AppState,
    issue: &Issue<'_>,
    outcome: &Outcome,
    user: &User,
    alg: Alg,
) -> (Map<String, Value>, Map<String, Value>) {
    let access = issue
        .access_claims(&outcome.effects.access_claims)
        .expect("access claims");
    let id = issue
        .id_claims(user, &outcome.effects.id_claims)
        .expect("id claims");
    for (claims, alg) in [(&access, alg), (&id, Alg::RS256)] {
        let len = state.keys.signed_len(alg, claims).expect("length");
        assert!(len <= state.config.max_token_bytes);
    }
    (access, id)
}

/// The SQL of the three store trips on this thread (`call_sync`): the stages' store rows minus
/// this is what the blocking-pool hops cost.
fn store_sql(state: &AppState, connection_id: &str, user_id: &str) -> Duration {
    let s = Instant::now();
    let now = state.clock.now_rfc3339();
    state
        .store
        .call_sync(|db| {
            let connection = db.connection_by_name(CONNECTION)?;
            let user = db.user_by_login(connection_id, BCRYPT4_USER)?;
            let found = (db.client(CLIENT_ID)?, connection, db.api(API)?, user);
            assert!(found.0.is_some() && found.3.is_some());
            let a =
                db.reserve_login_attempt(connection_id, BCRYPT4_USER, "127.0.0.1", &now, 10, &now)?;
            assert!(!matches!(a, Attempt::Blocked));
            db.record_login(user_id, "127.0.0.1", &now)?;
            db.clear_login_failures(connection_id, BCRYPT4_USER, "127.0.0.1")?;
            db.user_roles(user_id)
        })
        .expect("store");
    s.elapsed()
}

/// The whole grant in process, as the HTTP handler calls it.
async fn whole_grant(state: &AppState) -> Duration {
    let s = Instant::now();
    let req = TokenRequest::new(params(), None, meta()).expect("request");
    let resp = claimsmith::grant::issue(state, req).await.expect("login");
    assert!(resp.id_token.is_some());
    s.elapsed()
}

/// Runs the stage split and prints its table. `LOGIN_STAGES_N` sets the number of logins.
pub async fn run() {
    let n = env_usize("LOGIN_STAGES_N", 500);
    let server = BenchServer::start(|_| {}).await;
    let state = server.state.clone();
    let mut http = Conn::open(server.addr).await;
    let form = login_form(BCRYPT4_USER, PASSWORD);
    let meta = meta();

    let (mut stages, mut sums) = (
        vec![Vec::with_capacity(n); STAGES.len()],
        Vec::with_capacity(n),
    );
    let (mut grant, mut over_http, mut hop) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sql, mut jwks, mut spawned) = (Vec::new(), Vec::new(), Vec::new());
    let (connection_id, user_id) = state
        .store
        .call_sync(|db| {
            let c = db.connection_by_name(CONNECTION)?.expect("connection");
            let u = db.user_by_login(&c.id, BCRYPT4_USER)?.expect("user");
            Ok((c.id, u.user_id))
        })
        .expect("ids");
    for i in 0..n + n / 10 {
        let warm = i < n / 10;
        let t = staged(&state, &meta).await;
        let g = whole_grant(&state).await;
        let st = state.clone();
        let w = tokio::spawn(async move { whole_grant(&st).await })
            .await
            .expect("spawned grant");
        let s = Instant::now();
        let (status, _) = http.post_form("/oauth/token", &form).await;
        assert_eq!(status, 200, "login over HTTP");
        let h = s.elapsed();
        let s = Instant::now();
        state.store.call(|_| Ok(())).await.expect("hop");
        let e = s.elapsed();
        let q = store_sql(&state, &connection_id, &user_id);
        let s = Instant::now();
        let (status, _) = http.get("/.well-known/jwks.json").await;
        assert_eq!(status, 200, "JWKS");
        let j = s.elapsed();
        if warm {
            continue;
        }
        for (v, d) in stages.iter_mut().zip(t) {
            v.push(d);
        }
        sums.push(t.iter().sum::<Duration>());
        grant.push(g);
        spawned.push(w);
        over_http.push(h);
        hop.push(e);
        sql.push(q);
        jwks.push(j);
    }

    println!(
        "password login split into stages, server side, in process (n={n}, one login at a time)"
    );
    println!("bcrypt cost 4; sample rules/ + actions/; RS256 access + ID token; brute-force on");
    println!("{:<50} {:>9} {:>9} {:>7}", "stage", "p50", "p99", "share");
    let p50s: Vec<Duration> = stages.iter_mut().map(|v| pct(v, 0.5)).collect();
    let sum_p50: Duration = p50s.iter().sum();
    for ((name, v), p50) in STAGES.iter().zip(&mut stages).zip(&p50s) {
        let share = p50.as_secs_f64() / sum_p50.as_secs_f64() * 100.0;
        println!(
            "{name:<50} {:>7.1}µs {:>7.1}µs {share:>6.1}%",
            us(*p50),
            us(pct(v, 0.99))
        );
    }
    let row = |label: &str, v: &mut Vec<Duration>| {
        println!(
            "{label:<50} {:>7.1}µs {:>7.1}µs",
            us(pct(v, 0.5)),
            us(pct(v, 0.99))
        );
    };
    println!("{:<50} {:>7.1}µs", "sum of the stage p50s", us(sum_p50));
    row("total: the stages of one login, summed", &mut sums);
    row("whole grant in process (grant::issue)", &mut grant);
    row(
        "  the same, on a spawned task (as a connection)",
        &mut spawned,
    );
    row("whole login over HTTP/1.1 keep-alive", &mut over_http);
    row(
        "  HTTP floor: GET /.well-known/jwks.json, same conn",
        &mut jwks,
    );
    row("  one blocking-pool hop (empty store.call)", &mut hop);
    row("  SQL of the 3 store trips, no hop (call_sync)", &mut sql);
    let (g, s, h) = (
        pct(&mut grant, 0.5),
        pct(&mut sums, 0.5),
        pct(&mut over_http, 0.5),
    );
    let diff = |a: Duration, b: Duration| us(a) - us(b);
    println!(
        "grant minus stages: {:+.1}µs (the steps not re-enacted, and noise); HTTP minus grant: \
         {:+.1}µs (client, hyper, routing, form, rendering); a login makes 4 blocking-pool hops \
         (3 store, signing), 1 hashing-thread hop and 1 script-worker hop",
        diff(g, s),
        diff(h, g)
    );
    drop(http);
    server.stop().await;
}
