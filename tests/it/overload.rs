//! Wedged script threads are capped: once `max_abandoned_workers` threads are stuck in a built-in
//! that ignores the time limit, logins answer 503 `temporarily_unavailable` with `Retry-After`
//! instead of starting one more thread each.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// `join` over 2^28 holes never polls the interrupt handler: it runs for seconds (5-20 s
/// depending on the machine) and then ends, so the abandoned thread does not outlive the test
/// binary by much.
const WEDGE: &str =
    "exports.onExecutePostLogin = async (event, api) => {\n  new Array(2 ** 28).join('');\n};\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_abandoned_worker_cap_logins_answer_503_with_retry_after() {
    let s = TestServer::start_scripts(&[("actions/wedge.js", WEDGE)], |c| {
        c.scripts.engine.login_timeout = Duration::from_millis(300);
        c.scripts.engine.workers = 1;
        c.scripts.engine.max_abandoned_workers = 1;
    })
    .await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("timeout")),
        "{body}"
    );
    // The wedged thread still runs: the next login is refused at once.
    let params = [
        ("grant_type", "password"),
        ("client_id", s.seed.client_id.as_str()),
        ("client_secret", s.seed.client_secret.as_str()),
        ("username", EMAIL),
        ("password", PASSWORD),
        ("audience", API),
    ];
    let r = s
        .http
        .post(s.url("/oauth/token"))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    // The operator sees the stuck thread and its age.
    let h = s.health().await;
    let abandoned = &h["scripts"]["abandoned_workers"];
    assert_eq!(abandoned["count"], 1, "{h}");
    assert!(abandoned["ages_ms"][0].as_u64().is_some(), "{h}");
    s.stop().await;
}
