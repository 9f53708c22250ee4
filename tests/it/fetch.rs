//! `fetch` from scripts over HTTP, against a loopback server of the test's own: allowed,
//! refused, a redirect inside and one out of the allow-list, an oversized body, and a slow
//! server cut at the login's deadline, while the only script worker serves other logins.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use claimsmith::script::{EngineConfig, Isolation};

use crate::support::*;

/// A small HTTP/1.1 server: `/json`, `/echo` (method, a header and the body back), `/redirect-in`,
/// `/redirect-out` (to `localhost`, which the allow-list does not name), `/big` (2 MiB) and
/// `/slow` (answers after 10 s). Returns its base URL.
async fn upstream() -> String {
    upstream_gated().await.0
}

/// `/hold` tells `arrived` that a request came, then answers "released" once `release` is
/// notified: a test knows a login is waiting for it, and says when the wait ends.
struct Gate {
    arrived: Arc<Notify>,
    release: Arc<Notify>,
}

/// [`upstream`] with its `/hold` gate.
async fn upstream_gated() -> (String, Gate) {
    let gate = Gate {
        arrived: Arc::new(Notify::new()),
        release: Arc::new(Notify::new()),
    };
    let (arrived, release) = (gate.arrived.clone(), gate.release.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (arrived, release) = (arrived.clone(), release.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let mut parts = head.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let path = target.split('?').next().unwrap_or("");
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| {
                            let (n, v) = l.split_once(':')?;
                            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default()
                };
                let (status, extra, reply) = match path {
                    "/json" => (
                        "200 OK",
                        "content-type: application/json\r\n".to_owned(),
                        r#"{"hello":"world"}"#.to_owned(),
                    ),
                    "/echo" => (
                        "200 OK",
                        String::new(),
                        format!(
                            "{method} {} {} {body}",
                            header("x-test"),
                            header("content-type")
                        ),
                    ),
                    "/auth" => (
                        "200 OK",
                        String::new(),
                        format!("{} {target}", header("authorization")),
                    ),
                    "/redirect-in" => {
                        ("302 Found", "location: /json\r\n".to_owned(), String::new())
                    }
                    "/redirect-out" => (
                        "302 Found",
                        format!("location: http://localhost:{port}/json\r\n"),
                        String::new(),
                    ),
                    "/big" => ("200 OK", String::new(), "x".repeat(2 << 20)),
                    "/hold" => {
                        arrived.notify_one();
                        release.notified().await;
                        ("200 OK", String::new(), "released".to_owned())
                    }
                    "/slow" => {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        ("200 OK", String::new(), "late".to_owned())
                    }
                    _ => ("404 Not Found", String::new(), String::new()),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{reply}",
                    reply.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}"), gate)
}

const FETCHER: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  const base = event.secrets.BASE;
  if (event.request.body.slow) { await fetch(base + '/slow'); return; }
  if (event.request.body.hold) {
    const r = await fetch(base + '/hold');
    api.accessToken.setCustomClaim('https://t/held', await r.text());
    return;
  }
  const out = {};
  const r = await fetch(base + '/json');
  out.json = [r.status, r.ok, r.headers.get('content-type'), await r.json()];
  const e = await fetch(new Request(base + '/echo', { method: 'post', body: new URLSearchParams({ a: '1 2' }), headers: { 'X-Test': 'y' } }));
  out.echo = await e.text();
  const ri = await fetch(base + '/redirect-in');
  out.redirectIn = [ri.redirected, ri.url.endsWith('/json'), (await ri.json()).hello];
  for (const [k, u] of [['refused', 'https://example.invalid/x'], ['redirectOut', base + '/redirect-out'], ['big', base + '/big']]) {
    try { await fetch(u); out[k] = 'fetched'; } catch (err) { out[k] = [err.name, err.message, err.cause ? err.cause.message : null]; }
  }
  api.accessToken.setCustomClaim('https://t/fetch', out);
};"#;

async fn server(base: &str) -> TestServer {
    server_with(base, |_| {}).await
}

/// [`server`] with one script worker, so that a login served while another waits shows the
/// waiting one does not hold the worker.
async fn one_worker(base: &str, isolation: Isolation, timeout: Duration) -> TestServer {
    server_with(base, move |e| {
        e.workers = 1;
        e.isolation = isolation;
        e.login_timeout = timeout;
    })
    .await
}

async fn server_with(
    base: &str,
    tweak: impl FnOnce(&mut EngineConfig) + Send + 'static,
) -> TestServer {
    serving(&[("actions/01-fetch.js", FETCHER)], base, tweak).await
}

#[tokio::test]
async fn fetch_reaches_allowed_origins_only_and_caps_what_it_reads() {
    let base = upstream().await;
    let s = server(&base).await;
    let c = s.claims().await;
    let port = base.rsplit(':').next().unwrap();
    assert_eq!(
        c["https://t/fetch"],
        json!({
            "json": [200, true, "application/json", {"hello": "world"}],
            "echo": "POST y application/x-www-form-urlencoded;charset=UTF-8 a=1+2",
            "redirectIn": [true, true, "world"],
            "refused": ["TypeError", "fetch to https://example.invalid refused: [scripts] fetch_allow does not list it", null],
            "redirectOut": ["TypeError", "fetch failed",
                format!("error following redirect for url ({base}/redirect-out): redirect to http://localhost:{port}, which [scripts] fetch_allow does not list")],
            "big": ["TypeError", "fetch failed", "the response body is over 1048576 bytes ([scripts] fetch_max_bytes)"],
        })
    );
    s.stop().await;
}

#[tokio::test]
async fn a_waiting_login_leaves_its_worker_to_others_and_goes_on_when_answered() {
    for isolation in [Isolation::Warm, Isolation::Strict] {
        let (base, gate) = upstream_gated().await;
        // A deadline far from the test's pace: a loaded machine must not make a login time out.
        let s = Arc::new(one_worker(&base, isolation, Duration::from_secs(10)).await);
        let held = {
            let s = s.clone();
            tokio::spawn(async move { s.login(&[("audience", API), ("hold", "1")]).await })
        };
        gate.arrived.notified().await; // its fetch reached the upstream: the login waits
        // The only worker serves another login meanwhile (a blocked one would answer it only
        // after the held login's deadline, which fails that login).
        for _ in 0..3 {
            let (status, body) = s.login(&[("audience", API)]).await;
            assert_eq!(status, 200, "{isolation:?}: {body}");
        }
        assert!(
            !held.is_finished(),
            "{isolation:?}: the held login still waits"
        );
        gate.release.notify_one();
        let (status, body) = held.await.unwrap();
        assert_eq!(status, 200, "{isolation:?}: {body}");
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(s.verify(token, API).await["https://t/held"], "released");
    }
}

#[tokio::test]
async fn a_slow_upstream_is_cut_at_the_deadline_while_other_logins_are_served() {
    let base = upstream().await;
    let s = Arc::new(one_worker(&base, Isolation::Warm, Duration::from_millis(1500)).await);
    let slow = {
        let s = s.clone();
        tokio::spawn(async move { s.login(&[("audience", API), ("slow", "1")]).await })
    };
    // Other logins, on the same and only worker, are answered while the first waits.
    for _ in 0..3 {
        let (status, body) = s.login(&[("audience", API)]).await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(!slow.is_finished(), "the slow login waits for its upstream");
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        body["error_description"],
        "Script '01-fetch' exceeded the time limit (timeout)."
    );
    // The worker itself ended the wait at the deadline: the watchdog did not have to abandon it.
    assert!(s.state.pipeline.abandoned_workers().is_empty());
}

const CLIENTS: &str = r#"const axios = require('axios'), nodeFetch = require('node-fetch');
exports.onExecutePostLogin = async (event, api) => {
  const base = event.secrets.BASE;
  const out = {};
  const g = await axios.get(base + '/json');
  out.get = [g.status, g.data, g.headers['content-type']];
  const p = await axios.post(base + '/echo', { a: 1 }, { headers: { 'X-Test': 'z' } });
  out.post = p.data;
  out.instance = (await axios.create({ baseURL: base }).get('/json', { params: { q: 'x y' } })).data.hello;
  for (const [k, f] of [['missing', () => axios.get(base + '/missing')], ['refused', () => axios.get('https://example.invalid/')]]) {
    try { await f(); out[k] = 'fetched'; } catch (e) { out[k] = [e.name, e.code, e.message, e.response ? e.response.status : null, axios.isAxiosError(e)]; }
  }
  const r = await nodeFetch(base + '/json');
  out.nodeFetch = [(await r.buffer()).toString(), nodeFetch.default === nodeFetch];
  api.accessToken.setCustomClaim('https://t/clients', out);
};"#;

#[tokio::test]
async fn axios_and_node_fetch_stand_ins_work_when_not_installed() {
    let base = upstream().await;
    let s = serving(&[("actions/01-clients.js", CLIENTS)], &base, |_| {}).await;
    let c = s.claims().await;
    assert_eq!(
        c["https://t/clients"],
        json!({
            "get": [200, {"hello": "world"}, "application/json"],
            "post": "POST z application/json {\"a\":1}",
            "instance": "world",
            "missing": ["AxiosError", "ERR_BAD_REQUEST", "Request failed with status code 404", 404, true],
            "refused": ["AxiosError", "ERR_NETWORK", "fetch to https://example.invalid refused: [scripts] fetch_allow does not list it", null, true],
            "nodeFetch": ["{\"hello\":\"world\"}", true],
        })
    );
    s.stop().await;
}

const REQUEST_RULE: &str = r#"function (user, context, callback) {
  const request = require('request');
  request.get({ url: configuration.BASE + '/json', json: true }, function (err, response, body) {
    if (err) return callback(err);
    context.accessToken['https://t/request'] = [response.statusCode, body.hello];
    request.post({ url: configuration.BASE + '/echo', form: { a: 'b c' }, headers: { 'X-Test': 'q' } }, function (err2, r2, text) {
      if (err2) return callback(err2);
      context.accessToken['https://t/form'] = text;
      require('request-promise')({ uri: configuration.BASE + '/missing', json: true }).then(
        function () { callback(null, user, context); },
        function (e) { context.accessToken['https://t/rp'] = [e.name, e.statusCode]; callback(null, user, context); });
    });
  });
}"#;

#[tokio::test]
async fn request_and_request_promise_stand_ins_serve_old_rules() {
    let base = upstream().await;
    let b = base.clone();
    let s = TestServer::start_scripts(&[("rules/01-request.js", REQUEST_RULE)], move |c| {
        c.scripts.engine.fetch =
            claimsmith::script::FetchPolicy::new(std::slice::from_ref(&b), 1 << 20)
                .expect("policy");
        c.scripts
            .engine
            .configuration
            .insert("BASE".into(), json!(b));
    })
    .await;
    let c = s.claims().await;
    assert_eq!(c["https://t/request"], json!([200, "world"]));
    assert_eq!(
        c["https://t/form"],
        "POST q application/x-www-form-urlencoded a=b+c"
    );
    assert_eq!(c["https://t/rp"], json!(["StatusCodeError", 404]));
    s.stop().await;
}

const TIMEOUTS: &str = r#"const axios = require('axios'), request = require('request'), rp = require('request-promise');
exports.onExecutePostLogin = async (event, api) => {
  const base = event.secrets.BASE;
  const out = {};
  out.axiosAuth = (await axios.get(base + '/auth', { auth: { username: 'u', password: 'p w' }, params: { a: 'x y:z', l: [1, 2], n: null } })).data;
  out.rpAuth = await rp({ uri: base + '/auth', qs: { b: 'x y:z', l: [1, 2], n: null }, auth: { bearer: 'tok' } });
  out.requestAuth = await new Promise((ok, no) => request({ url: base + '/auth', auth: { user: 'v', pass: 'q' } },
    (err, res, body) => err ? no(err) : ok(body)));
  try { await axios.get(base + '/slow', { timeout: 50 }); out.axiosTimeout = 'answered'; }
  catch (e) { out.axiosTimeout = [e.name, e.code, e.message]; }
  try { await rp({ uri: base + '/slow', timeout: 50 }); out.rpTimeout = 'answered'; }
  catch (e) { out.rpTimeout = [e.name, e.error && e.error.code]; }
  api.accessToken.setCustomClaim('https://t/timeouts', out);
};"#;

#[tokio::test]
async fn stand_ins_send_auth_and_query_and_give_up_at_their_timeout() {
    let base = upstream().await;
    let s = serving(&[("actions/01-timeouts.js", TIMEOUTS)], &base, |e| {
        e.login_timeout = Duration::from_secs(3)
    })
    .await;
    let c = s.claims().await;
    assert_eq!(
        c["https://t/timeouts"],
        json!({
            "axiosAuth": "Basic dTpwIHc= /auth?a=x+y:z&l[]=1&l[]=2",
            "rpAuth": "Bearer tok /auth?b=x%20y%3Az&l%5B0%5D=1&l%5B1%5D=2&n=",
            "requestAuth": "Basic djpx /auth",
            "axiosTimeout": ["AxiosError", "ECONNABORTED", "timeout of 50ms exceeded"],
            "rpTimeout": ["RequestError", "ETIMEDOUT"],
        })
    );
    s.stop().await;
}
