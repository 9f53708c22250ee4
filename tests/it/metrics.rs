//! `GET /metrics` (issue 14): the real server with metrics on, some logins (a success, a script's
//! deny, a script's throw, a wrong password, a script that times out), a client-credentials token
//! and a Management API call; then the scrape, read back with a Prometheus text-format parser,
//! must count exactly what was done, by label, and leak nothing. Off, the route does not exist;
//! with `metrics_token`, loopback too must present it (a non-loopback caller cannot be made here:
//! `http::metrics`'s unit test covers the decision for one).

use prometheus_parse::{Scrape, Value as Sample};

use crate::support::*;

const RULE: &str = "function (user, context, callback) { callback(null, user, context); }";

/// Decides by the request's `mode` parameter what the login's scripts do.
const GATE: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  const mode = event.request.body.mode;
  if (mode === 'deny') api.access.deny('not today');
  if (mode === 'throw') throw new Error('boom');
  if (mode === 'spin') { while (true) {} }
};"#;

const AFTER: &str = "exports.onExecutePostLogin = async (event, api) => {};";

const CX: &str = "exports.onExecuteCredentialsExchange = async (event, api) => {};";

async fn scrape(s: &TestServer, bearer: Option<&str>) -> (u16, String) {
    let mut req = s.http.get(s.url("/metrics"));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of `metric` with exactly `labels`: a counter's or gauge's value, a histogram's
/// count (its `+Inf` bucket); 0 when the series does not exist.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| {
            s.labels.len() == labels.len() && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))
        })
        .map(|s| match &s.value {
            Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
            Sample::Histogram(buckets) => buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .map(|b| b.count)
                .unwrap(),
            other => panic!("{metric}: unexpected {other:?}"),
        })
        .collect();
    assert!(found.len() <= 1, "{metric} {labels:?}: {found:?}");
    found.first().copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_grants_scripts_and_failures_by_label() {
    let s = TestServer::start_scripts(
        &[
            ("rules/01-pass.js", RULE),
            ("actions/01-gate.js", GATE),
            ("actions/02-after.js", AFTER),
            ("actions/03-cx.js", CX),
        ],
        |c| {
            c.metrics = true;
            c.scripts.engine.login_timeout = std::time::Duration::from_millis(500);
        },
    )
    .await;
    let (m2m, m2m_secret) = s.db(|db| {
        let c = add_client(db, &["client_credentials"])?;
        db.set_client_grant(&c.0, API, &[])?;
        Ok(c)
    });

    assert_eq!(s.login(&[("audience", API)]).await.0, 200);
    let deny = s.login(&[("audience", API), ("mode", "deny")]).await;
    assert_eq!(deny.0, 403, "{}", deny.1);
    let threw = s.login(&[("audience", API), ("mode", "throw")]).await;
    assert_eq!(threw.0, 403, "{}", threw.1);
    let wrong = s
        .token(&[
            ("grant_type", "password"),
            ("client_id", &s.seed.client_id),
            ("client_secret", &s.seed.client_secret),
            ("username", EMAIL),
            ("password", "not the password"),
        ])
        .await;
    assert_eq!(wrong.0, 403, "{}", wrong.1);
    let cc = s
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &m2m),
            ("client_secret", &m2m_secret),
            ("audience", API),
        ])
        .await;
    assert_eq!(cc.0, 200, "{}", cc.1);
    let spin = s.login(&[("audience", API), ("mode", "spin")]).await;
    assert_eq!(spin.0, 500, "{}", spin.1);
    // A Management API path with an id (no token: 401): one series for every id.
    let user_path = format!("/api/v2/users/{}", s.seed.user_id);
    let mgmt = s.http.get(s.url(&user_path)).send().await.unwrap();
    assert_eq!(mgmt.status().as_u16(), 401);
    // Paths no route serves are one series, whatever they are.
    for path in ["/wp-admin/setup.php", "/oauth/token/", "/api/v2/whatever"] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }

    let version = s.script_version().await;
    let (status, text) = scrape(&s, None).await;
    assert_eq!(status, 200, "{text}");
    let m = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();

    let requests = "claimsmith_http_requests_total";
    let token = [("endpoint", "/oauth/token")];
    let req = |status: &'static str| {
        let mut l = token.to_vec();
        l.push(("status", status));
        value(&m, requests, &l)
    };
    assert_eq!(req("200"), 2.0, "{text}");
    assert_eq!(req("403"), 3.0, "{text}");
    assert_eq!(req("500"), 1.0, "{text}");
    // prometheus-parse's sample pattern (`\{[^}]+\}`) cannot read a `}` inside a label value,
    // which the text format allows (Prometheus reads it): this one series is read as text.
    let user = r#"claimsmith_http_requests_total{endpoint="/api/v2/users/{id}",status="401"} 1"#;
    assert!(text.lines().any(|l| l == user), "{text}");
    let other = |e: &'static str| value(&m, requests, &[("endpoint", e), ("status", "404")]);
    assert_eq!(
        (other("other"), other("/api/v2/other")),
        (2.0, 1.0),
        "{text}"
    );
    // The health polls of `script_version`, then nothing else but this scrape (counted after).
    assert_eq!(
        value(&m, requests, &[("endpoint", "/healthz"), ("status", "200")]),
        1.0,
        "{text}"
    );

    let tokens = "claimsmith_token_request_duration_seconds";
    let grant =
        |g: &'static str, o: &'static str| value(&m, tokens, &[("grant", g), ("outcome", o)]);
    assert_eq!(grant("password", "issued"), 1.0, "{text}");
    assert_eq!(grant("password", "refused"), 3.0, "{text}");
    assert_eq!(grant("password", "failed"), 1.0, "{text}");
    assert_eq!(grant("client_credentials", "issued"), 1.0, "{text}");
    assert_eq!(grant("refresh_token", "issued"), 0.0, "{text}");

    // The Rule and the gate ran in the success, the deny and the throw; the next Action only
    // in the success; the credentials-exchange Action once. The login that timed out has no
    // outcome, so no runs: it counts as a `timeout`.
    let runs = "claimsmith_script_run_duration_seconds";
    let ran = |script: &'static str| value(&m, runs, &[("script", script)]);
    assert_eq!(ran("01-pass"), 3.0, "{text}");
    assert_eq!(ran("01-gate"), 3.0, "{text}");
    assert_eq!(ran("02-after"), 1.0, "{text}");
    assert_eq!(ran("03-cx"), 1.0, "{text}");

    let failures = "claimsmith_script_failures_total";
    let failed = |kind: &'static str| value(&m, failures, &[("kind", kind)]);
    assert_eq!(failed("deny"), 1.0, "{text}");
    assert_eq!(failed("throw"), 1.0, "{text}");
    assert_eq!(failed("timeout"), 1.0, "{text}");
    assert_eq!(failed("memory"), 0.0, "{text}");

    assert_eq!(value(&m, "claimsmith_hash_queue_depth", &[]), 0.0);
    assert_eq!(
        value(&m, "claimsmith_script_set_version", &[]),
        version as f64
    );
    assert_eq!(value(&m, "claimsmith_script_load_errors", &[]), 0.0);

    // Nothing that names a user, a client or a secret.
    for secret in [
        EMAIL,
        PASSWORD,
        s.seed.user_id.as_str(),
        s.seed.client_id.as_str(),
        s.seed.client_secret.as_str(),
        m2m.as_str(),
        m2m_secret.as_str(),
        "not today",
        "boom",
    ] {
        assert!(!text.contains(secret), "{secret} in\n{text}");
    }
    s.stop().await;
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let s = TestServer::start().await;
    assert_eq!(scrape(&s, None).await.0, 404);
    s.stop().await;
}

#[tokio::test]
async fn a_metrics_token_is_required_of_every_caller_once_set() {
    let s = TestServer::start_with(|c| {
        c.metrics = true;
        c.metrics_token = Some("scr4pe".into());
    })
    .await;
    assert_eq!(scrape(&s, None).await.0, 401, "loopback without the token");
    assert_eq!(scrape(&s, Some("scr4p")).await.0, 401);
    assert_eq!(scrape(&s, Some("op-t0ken")).await.0, 401);
    let (status, text) = scrape(&s, Some("scr4pe")).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("# TYPE claimsmith_http_requests_total counter"),
        "{text}"
    );
    s.stop().await;
}

const PRE: &str = r#"exports.onExecutePreUserRegistration = async (event, api) => {
  if (event.user.email.startsWith('deny')) api.access.deny('closed', 'Sign-ups are closed.');
};"#;

const POST: &str = "exports.onExecutePostUserRegistration = async (event, api) => {};";

/// The registration triggers count too: the pre-registration Actions the signup waits for
/// (`run_actions`), and the post-registration ones it does not (`spawn_actions`, polled for).
#[tokio::test]
async fn registration_actions_are_counted_also_when_nobody_waits_for_them() {
    let s = TestServer::start_scripts(
        &[("actions/01-pre.js", PRE), ("actions/02-post.js", POST)],
        |c| c.metrics = true,
    )
    .await;
    for (email, want) in [("new@example.com", 200), ("deny@example.com", 400)] {
        let r = s
            .http
            .post(s.url("/dbconnections/signup"))
            .json(&serde_json::json!({
                "client_id": s.seed.public_client_id,
                "connection": CONNECTION,
                "email": email,
                "password": "Sup3r-secret!",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "{email}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let m = loop {
        let (status, text) = scrape(&s, None).await;
        assert_eq!(status, 200);
        let m = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        let runs = "claimsmith_script_run_duration_seconds";
        if value(&m, runs, &[("script", "02-post")]) >= 1.0 {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no post run in\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let runs = "claimsmith_script_run_duration_seconds";
    assert_eq!(value(&m, runs, &[("script", "01-pre")]), 2.0);
    assert_eq!(value(&m, runs, &[("script", "02-post")]), 1.0);
    let failures = "claimsmith_script_failures_total";
    assert_eq!(value(&m, failures, &[("kind", "deny")]), 1.0);
    let signups = [("endpoint", "/dbconnections/signup"), ("status", "200")];
    assert_eq!(value(&m, "claimsmith_http_requests_total", &signups), 1.0);
    s.stop().await;
}
