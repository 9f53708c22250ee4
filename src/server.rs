//! The accept loop: a caller-supplied listener (so that tests bind `127.0.0.1:0`), optional TLS,
//! a connection cap (overall and per client IP), hyper-util's auto (HTTP/1.1 + HTTP/2) builder,
//! idle-connection timers, and a graceful shutdown in which in-flight requests finish. `run`
//! serves production and tests alike.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::http;
use crate::http::conn::{Activity, CLOSE_GRACE, PerIp};
use crate::state::AppState;

/// A TLS handshake must finish within this time, or the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why `--tls-cert` / `--tls-key` cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {}: {source}", path.display())]
    Certificate {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("TLS key {}: {source}", path.display())]
    Key {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Builds a TLS acceptor from PEM files (certificate chain, private key).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificate {
            path: cert.to_owned(),
            source,
        })?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
        path: key.to_owned(),
        source,
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish (up to
/// the configured grace period) and stops the script engine.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let cfg = state.config.clone();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper silently disables its header timeout: a client trickling a request's
    // headers would hold its slot. (A client sending nothing at all is closed by `serve`.)
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(10))
        .max_concurrent_streams(64);
    let stop = CancellationToken::new();
    let conns = TaskTracker::new();
    let slots = Arc::new(Semaphore::new(cfg.max_connections));
    let per_ip = Arc::new(PerIp::default());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(ip_slot) = per_ip.take(peer.ip(), cfg.max_connections_per_ip) else {
            tracing::debug!(%peer, "per-IP connection cap reached; closing");
            continue; // dropping the stream closes it
        };
        let _ = stream.set_nodelay(true);
        let (builder, stop, tls, state) =
            (builder.clone(), stop.clone(), tls.clone(), state.clone());
        conns.spawn(async move {
            let activity = Activity::new();
            let result = match tls {
                None => serve(&builder, stream, state, peer, &activity, &stop).await,
                Some(tls) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(s)) => serve(&builder, s, state, peer, &activity, &stop).await,
                        _ => Ok(()),
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop((permit, ip_slot));
        });
    }
    drop(listener);
    tracing::info!(
        connections = conns.len(),
        "stopped accepting; finishing in-flight requests"
    );
    stop.cancel();
    conns.close();
    if tokio::time::timeout(cfg.shutdown_grace, conns.wait())
        .await
        .is_err()
    {
        tracing::warn!("grace period over; closing the remaining connections");
    }
    state.pipeline.shutdown().await;
}

/// Serves one connection until it ends, the server stops, or it has been idle too long (see
/// [`crate::http::conn`]); the last two close it gracefully, then for good after [`CLOSE_GRACE`].
async fn serve<IO>(
    builder: &auto::Builder<TokioExecutor>,
    io: IO,
    state: Arc<AppState>,
    peer: SocketAddr,
    activity: &Arc<Activity>,
    stop: &CancellationToken,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let cfg = state.config.clone();
    let (header_timeout, idle_timeout) = (cfg.header_timeout, cfg.idle_timeout);
    let seen = activity.clone();
    let svc = service_fn(move |req| {
        let in_request = seen.begin();
        let state = state.clone();
        async move {
            let resp = http::route(req, state, peer).await;
            drop(in_request);
            resp
        }
    });
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let mut closing: Option<Instant> = None;
    loop {
        // While a request is in flight, look again after the idle timeout.
        let due = closing
            .or_else(|| activity.due(header_timeout, idle_timeout))
            .unwrap_or_else(|| Instant::now() + idle_timeout);
        tokio::select! {
            r = conn.as_mut() => return r,
            () = stop.cancelled(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                // In-flight requests may finish: `run` bounds the whole shutdown by its grace.
                closing = Some(Instant::now() + cfg.shutdown_grace + CLOSE_GRACE);
            }
            () = tokio::time::sleep_until(due.into()) => {
                if closing.is_some() {
                    return Ok(()); // the peer did not finish closing: drop the socket
                }
                if activity.due(header_timeout, idle_timeout).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!(%peer, "closing an idle connection");
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now() + CLOSE_GRACE);
                }
            }
        }
    }
}
