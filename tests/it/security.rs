//! The security guarantees of the HTTP edge and the password grant (README "Security"): idle
//! sockets cannot hold connection slots, brute-force protection cannot be raced, and `/healthz`
//! tells strangers nothing. That a failed login takes as long whoever it names is measured alone,
//! in `tests/timing.rs`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::support::*;

/// How long a test waits for something that must happen before it calls it broken (a guard
/// against hanging, never a synchronisation).
const GUARD: Duration = Duration::from_secs(15);

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the socket; panics if it is still open after [`GUARD`].
async fn closed_by_server(mut sock: TcpStream, what: &str) {
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(GUARD, async {
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "{what}: the server kept the socket open");
}

#[tokio::test]
async fn silent_sockets_cannot_hold_the_connection_slots() {
    let s = TestServer::start_with(|c| {
        c.max_connections = 3;
        c.header_timeout = Duration::from_millis(300);
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(addr(&s)).await.unwrap());
    }
    // Every slot is taken by a socket that never sends a byte: a real client still gets in once
    // the header timeout has closed them.
    let served = tokio::time::timeout(GUARD, s.http.get(s.url("/healthz")).send()).await;
    assert_eq!(
        served.expect("served within the guard").unwrap().status(),
        200
    );
    for sock in idle {
        closed_by_server(sock, "a silent socket").await;
    }
}

#[tokio::test]
async fn idle_http2_and_keep_alive_connections_are_closed() {
    let s = TestServer::start_with(|c| c.idle_timeout = Duration::from_millis(300)).await;
    // HTTP/2 with prior knowledge: the client answers the server's PINGs, as a live peer does.
    let io = TokioIo::new(TcpStream::connect(addr(&s)).await.unwrap());
    let (mut h2, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    let h2_conn = tokio::spawn(conn);
    let req = hyper::Request::get(s.url("/healthz"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(h2.send_request(req).await.unwrap().status(), 200);
    let ended = tokio::time::timeout(GUARD, h2_conn).await;
    assert!(ended.is_ok(), "an idle HTTP/2 connection stayed open");
    // HTTP/1.1 keep-alive after a request.
    let io = TokioIo::new(TcpStream::connect(addr(&s)).await.unwrap());
    let (mut h1, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    let h1_conn = tokio::spawn(conn);
    let req = hyper::Request::get("/healthz")
        .header("host", addr(&s))
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(h1.send_request(req).await.unwrap().status(), 200);
    let ended = tokio::time::timeout(GUARD, h1_conn).await;
    assert!(ended.is_ok(), "an idle keep-alive connection stayed open");
    // An HTTP/2 preface and nothing more is not a request: closed after the header timeout.
    let s = TestServer::start_with(|c| c.header_timeout = Duration::from_millis(300)).await;
    let mut sock = TcpStream::connect(addr(&s)).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut sock,
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    )
    .await
    .unwrap();
    closed_by_server(sock, "an HTTP/2 preface without a request").await;
}

#[tokio::test]
async fn one_client_ip_cannot_take_every_slot() {
    let s = TestServer::start_with(|c| c.max_connections_per_ip = 2).await;
    let held = [
        TcpStream::connect(addr(&s)).await.unwrap(),
        TcpStream::connect(addr(&s)).await.unwrap(),
    ];
    // The header timeout is 10 s here: a close within the guard's first seconds is the cap.
    let start = Instant::now();
    let third = TcpStream::connect(addr(&s)).await.unwrap();
    closed_by_server(third, "a connection past the per-IP cap").await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "closed by the cap, not by the header timeout"
    );
    drop(held);
    // The slots come back once the server has seen the two close.
    let deadline = Instant::now() + GUARD;
    loop {
        if let Ok(r) = s.http.get(s.url("/healthz")).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(Instant::now() < deadline, "slots were never given back");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_burst_of_guesses_verifies_at_most_the_threshold() {
    let s = TestServer::start().await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (http, url, id, secret) = (
            s.http.clone(),
            s.url("/oauth/token"),
            s.seed.client_id.clone(),
            s.seed.client_secret.clone(),
        );
        burst.spawn(async move {
            let pw = format!("guess {i}");
            let form = [
                ("grant_type", "password"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("username", EMAIL),
                ("password", &pw),
            ];
            let r = http.post(url).form(&form).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        });
    }
    let (mut verified, mut refused) = (0, 0);
    while let Some(r) = burst.join_next().await {
        let (status, body) = r.unwrap();
        match (status, body["error"].as_str()) {
            (403, Some("invalid_grant")) => verified += 1,
            (429, Some("too_many_attempts")) => refused += 1,
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    assert_eq!(
        (verified, refused),
        (10, 50),
        "60 guesses at once: only the threshold (10) may reach the password check"
    );
    let (status, body) = s.login(&[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_attempts")),
        "the right password after the burst: {body}"
    );
}

#[tokio::test]
async fn healthz_detail_is_for_the_operator_only() {
    let s = TestServer::start_with(|c| c.health_token = Some("op-t0ken".into())).await;
    let get = |bearer: Option<&'static str>| s.health_as(bearer);
    // Loopback alone is not enough once a token is configured (a local proxy makes every caller
    // loopback): no version, paths, hashes or load errors.
    assert_eq!(get(None).await, (200, json!({"status": "ok"})));
    assert_eq!(get(Some("op-t0ke")).await, (200, json!({"status": "ok"})));
    let (status, detail) = get(Some("op-t0ken")).await;
    assert_eq!(status, 200);
    assert!(detail["scripts"]["loaded"].is_array(), "{detail}");
    assert!(detail["version"].is_string(), "{detail}");
}

#[tokio::test]
async fn an_old_hash_is_upgraded_at_the_next_successful_login() {
    let hash = |s: &TestServer| {
        let id = s.seed.user_id.clone();
        s.db(move |db| db.user_by_id(&id))
            .and_then(|u| u.password_hash)
            .unwrap()
    };
    let s = TestServer::start_with(|c| c.rehash_passwords = false).await;
    assert_eq!(s.login(&[]).await.0, 200);
    assert!(
        hash(&s).starts_with("$2b$04$"),
        "rehash_passwords = false keeps it"
    );
    let s = TestServer::start().await;
    failure_ms(&s, EMAIL).await; // a wrong password: refused, and nothing changes
    assert!(hash(&s).starts_with("$2b$04$"), "a failure changes nothing");
    assert_eq!(s.login(&[]).await.0, 200);
    assert!(
        hash(&s).starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        hash(&s)
    );
    let (status, body) = s.login(&[]).await;
    assert_eq!(status, 200, "the upgraded hash verifies: {body}");
}
