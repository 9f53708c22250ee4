//! `/.well-known/jwks.json` under load, over HTTP/1.1 keep-alive (issue 10's edge cases):
//! (a) 32 connections asking for the JWKS as fast as they can; (b) the same while 16 other
//! connections flood the password grant with argon2id logins, which must not starve the cheap
//! endpoint. Prints requests/s, p50 and p99 beside the reference points.
//!
//! The server runs on its own tokio runtime (as many workers as cores), the load generator on
//! another (`HTTP_BENCH_CLIENT_THREADS`, default 2), in one process sharing the same cores, as wrk
//! on the same machine would. `HTTP_BENCH_SECS` sets each case's measured time (default 4 s,
//! after 1 s of warm-up); `HTTP_BENCH_CASE=jwks|flood` runs one case. Run with
//! `cargo bench --bench http`.

#![allow(clippy::print_stdout)] // A bench binary prints its table.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::client::{Conn, login_form};
use support::server::{ARGON_USER, BenchServer, PASSWORD};
use support::stats::{env_secs, env_usize, ms, pct};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

/// The reference points of issue 10, printed beside the measurements.
const GOAL_ALONE: &str = "~175,000 req/s, p99 2.4-3.2 ms";
const GOAL_FLOOD: &str = "p99 4.6 ms";
const JWKS_CONNS: usize = 32;
const FLOOD_CONNS: usize = 16;

/// What one group of connections did in the measured window.
struct Load {
    latencies: Vec<Duration>,
    /// Responses other than 200 (an overloaded hash queue answers 503).
    refused: u64,
    window: Duration,
}

impl Load {
    fn rate(&self) -> f64 {
        (self.latencies.len() as u64 + self.refused) as f64 / self.window.as_secs_f64()
    }
}

/// What a connection asks for, again and again.
#[derive(Clone, Copy)]
enum Ask {
    Jwks,
    Login,
}

/// Opens `conns` connections that each send `ask` back to back until `end`; keeps the latency
/// of every request that started at or after `from`.
fn spawn_group(
    set: &mut JoinSet<(Vec<Duration>, u64)>,
    addr: SocketAddr,
    conns: usize,
    ask: Ask,
    (from, end): (Instant, Instant),
) {
    let form: Arc<str> = login_form(ARGON_USER, PASSWORD).into();
    for _ in 0..conns {
        let form = form.clone();
        set.spawn(async move {
            let mut conn = Conn::open(addr).await;
            let (mut times, mut refused) = (Vec::with_capacity(1 << 16), 0);
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                let (status, _) = match ask {
                    Ask::Jwks => conn.get("/.well-known/jwks.json").await,
                    Ask::Login => conn.post_form("/oauth/token", &form).await,
                };
                if t < from {
                    continue;
                }
                match status {
                    200 => times.push(t.elapsed()),
                    _ => refused += 1,
                }
            }
            (times, refused)
        });
    }
}

async fn collect(mut set: JoinSet<(Vec<Duration>, u64)>, window: Duration) -> Load {
    let mut load = Load {
        latencies: Vec::new(),
        refused: 0,
        window,
    };
    while let Some(r) = set.join_next().await {
        let (times, refused) = r.expect("connection task");
        load.latencies.extend(times);
        load.refused += refused;
    }
    load
}

/// Runs `jwks` JWKS connections and `flood` login connections at once; returns (JWKS, logins).
fn measure(client: &Runtime, addr: SocketAddr, jwks: usize, flood: usize) -> (Load, Load) {
    let warm = env_secs("HTTP_BENCH_WARMUP_SECS", 1.0);
    let window = env_secs("HTTP_BENCH_SECS", 4.0);
    client.block_on(async {
        let from = Instant::now() + warm;
        let span = (from, from + window);
        let (mut gets, mut logins) = (JoinSet::new(), JoinSet::new());
        spawn_group(&mut gets, addr, jwks, Ask::Jwks, span);
        spawn_group(&mut logins, addr, flood, Ask::Login, span);
        let gets = collect(gets, window).await;
        (gets, collect(logins, window).await)
    })
}

fn print_row(case: &str, conns: &str, load: &mut Load, goal: &str) {
    let rate = load.rate();
    let (p50, p99) = (
        pct(&mut load.latencies, 0.5),
        pct(&mut load.latencies, 0.99),
    );
    println!(
        "{case:<34} {conns:>6} {rate:>10.0} {:>8.2}ms {:>8.2}ms  {goal}",
        ms(p50),
        ms(p99)
    );
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .expect("server runtime");
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(env_usize("HTTP_BENCH_CLIENT_THREADS", 2))
        .enable_all()
        .build()
        .expect("client runtime");
    // argon2id on as many hash threads as cores, the default outside tests.
    let server = server_rt.block_on(BenchServer::start(|c| c.hash_concurrency = cores));
    let only = std::env::var("HTTP_BENCH_CASE").unwrap_or_default();

    println!(
        "JWKS over HTTP/1.1 keep-alive; server and load generator in one process on {cores} \
         cores (a shared, noisy machine)"
    );
    println!(
        "{:<34} {:>6} {:>10} {:>10} {:>10}  goal (issue 10)",
        "case", "conns", "req/s", "p50", "p99"
    );
    if only.is_empty() || only == "jwks" {
        let (mut jwks, _) = measure(&client, server.addr, JWKS_CONNS, 0);
        print_row("JWKS alone", "32", &mut jwks, GOAL_ALONE);
    }
    if only.is_empty() || only == "flood" {
        let (mut jwks, mut logins) = measure(&client, server.addr, JWKS_CONNS, FLOOD_CONNS);
        print_row(
            "JWKS, 16 conns flood logins",
            "32+16",
            &mut jwks,
            GOAL_FLOOD,
        );
        print_row("  the flood: argon2id logins", "16", &mut logins, "");
        let (_, mut alone) = measure(&client, server.addr, 0, FLOOD_CONNS);
        print_row("  the same flood without JWKS load", "16", &mut alone, "");
        for (label, load) in [("with", &logins), ("without", &alone)] {
            if load.refused > 0 {
                println!(
                    "  {} logins refused (not 200) {label} JWKS load",
                    load.refused
                );
            }
        }
    }
    drop(client);
    server_rt.block_on(server.stop());
}
