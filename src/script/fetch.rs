//! The host side of the scripts' `fetch`: the egress allow-list (`[scripts] fetch_allow`), and
//! requests run as asynchronous I/O on a small tokio runtime of the engine's own (made on the
//! first fetch), so a script worker only waits for the answer, bounded by the login's deadline.
//! Redirects are followed only within the allow-list; TLS is always verified (webpki roots, plus
//! the server's own certificate when it serves HTTPS: see [`FetchPolicy::allow_own_server`]);
//! a response body past `fetch_max_bytes` is cut and the fetch fails. The JS side is
//! `node_fetch.js`; the waiting is in `sandbox.rs`'s driver.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use url::Url;

/// Where scripts may fetch from, and how much they may read.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    allow: Vec<Origin>,
    /// Largest response body read; a longer one fails the fetch.
    pub max_bytes: usize,
    /// The server's own certificates (`tls_cert`), trusted besides the webpki roots.
    own_roots: Vec<reqwest::Certificate>,
}

/// One `fetch_allow` entry: a scheme, a host (or `*.` and a domain: its subdomains) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    subdomains: bool,
    port: u16,
    /// Only URLs whose path starts so (the server's own Management API); `None`: any path.
    path: Option<String>,
}

/// The size cap's default: 1 MiB.
pub const DEFAULT_FETCH_MAX_BYTES: usize = 1 << 20;

impl Default for FetchPolicy {
    /// Nothing allowed.
    fn default() -> FetchPolicy {
        FetchPolicy {
            allow: Vec::new(),
            max_bytes: DEFAULT_FETCH_MAX_BYTES,
            own_roots: Vec::new(),
        }
    }
}

impl FetchPolicy {
    /// The policy of `fetch_allow` entries such as `https://api.example.com`,
    /// `http://127.0.0.1:8089` or `https://*.example.org`; an entry with a path, query or user
    /// is refused, naming it.
    pub fn new(entries: &[String], max_bytes: usize) -> Result<FetchPolicy, String> {
        let allow = entries
            .iter()
            .map(|e| {
                origin(e).ok_or_else(|| {
                    format!("{e}: not an origin (scheme://host[:port], host may start with *.)")
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(FetchPolicy {
            allow,
            max_bytes,
            own_roots: Vec::new(),
        })
    }

    /// Lets scripts reach this server's Management API (`<issuer>api/v2/`, nothing else of it): a
    /// Rule calls it with `auth0.accessToken`; and when the server serves HTTPS the
    /// certificates of its `tls_cert` file (`cert_pem`) are trusted as roots, so that a
    /// self-signed or private-CA certificate verifies. They are the server's own certificates: a
    /// leaf verifies only the names it was issued for, which are the server's.
    pub fn allow_own_server(
        &mut self,
        issuer: &str,
        cert_pem: Option<&[u8]>,
    ) -> Result<(), String> {
        let u = Url::parse(issuer).map_err(|e| format!("{issuer}: {e}"))?;
        let mut own = origin(&u.origin().ascii_serialization())
            .ok_or_else(|| format!("{issuer}: not an http(s) origin"))?;
        // Only the Management API: not the token endpoint, signup, `/healthz` or `/metrics`,
        // whose operator view a loopback caller would get (a script's fetch comes from here).
        let base = u.path().trim_end_matches('/');
        own.path = Some(format!("{base}/api/v2/"));
        if !self.allow.contains(&own) {
            self.allow.push(own);
        }
        if let Some(pem) = cert_pem {
            self.own_roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("the TLS certificate cannot be read: {e}"))?;
            if self.own_roots.is_empty() {
                return Err("the TLS certificate file holds no certificate".into());
            }
        }
        Ok(())
    }

    /// Whether a request to `url` may be made.
    pub(super) fn allows(&self, url: &Url) -> bool {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.allow.iter().any(|o| {
            o.scheme == url.scheme()
                && o.port == port
                && o.path.as_deref().is_none_or(|p| url.path().starts_with(p))
                && if o.subdomains {
                    host.len() > o.host.len() + 1
                        && host.ends_with(&o.host)
                        && host.as_bytes()[host.len() - o.host.len() - 1] == b'.'
                } else {
                    host == o.host
                }
        })
    }
}

fn origin(entry: &str) -> Option<Origin> {
    let (text, subdomains) = match entry.split_once("://*.") {
        Some((scheme, rest)) => (format!("{scheme}://{rest}"), true),
        None => (entry.to_owned(), false),
    };
    let u = Url::parse(&text).ok()?;
    let plain = u.username().is_empty()
        && u.password().is_none()
        && matches!(u.path(), "" | "/")
        && u.query().is_none()
        && u.fragment().is_none()
        && matches!(u.scheme(), "http" | "https");
    plain.then(|| Origin {
        scheme: u.scheme().to_owned(),
        host: u.host_str().unwrap_or_default().to_ascii_lowercase(),
        subdomains,
        port: u.port_or_known_default().unwrap_or(0),
        path: None,
    })
}

/// A request a script made.
pub(super) struct Request {
    pub id: u32,
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub script: Arc<str>,
}

/// What came back: a response, or why there is none.
pub(super) struct Done {
    pub id: u32,
    pub result: Result<Response, String>,
}

pub(super) struct Response {
    pub status: u16,
    pub status_text: String,
    pub url: String,
    pub redirected: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The engine's fetcher: the policy, and the runtime and client made on first use.
#[derive(Debug)]
pub(crate) struct Fetcher {
    pub policy: Arc<FetchPolicy>,
    io: OnceLock<Result<(tokio::runtime::Runtime, reqwest::Client), String>>,
}

impl Fetcher {
    pub(crate) fn new(policy: FetchPolicy) -> Fetcher {
        Fetcher {
            policy: Arc::new(policy),
            io: OnceLock::new(),
        }
    }

    fn io(&self) -> Result<&(tokio::runtime::Runtime, reqwest::Client), String> {
        self.io
            .get_or_init(|| {
                let _ =
                    tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("script-fetch")
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                let policy = self.policy.clone();
                // Each hop must be allowed too; at most 20, as browsers do.
                let redirects = reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() >= 20 {
                        attempt.error("too many redirects")
                    } else if policy.allows(attempt.url()) {
                        attempt.follow()
                    } else {
                        let to = attempt.url().origin().ascii_serialization();
                        attempt.error(format!(
                            "redirect to {to}, which [scripts] fetch_allow does not list"
                        ))
                    }
                });
                let mut builder = reqwest::Client::builder()
                    .use_rustls_tls()
                    .redirect(redirects);
                for cert in &self.policy.own_roots {
                    builder = builder.add_root_certificate(cert.clone());
                }
                let client = builder.build().map_err(|e| e.to_string())?;
                Ok((rt, client))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Starts `req` (already allowed); its answer goes to `done`. The handle aborts it.
    pub(super) fn start(
        &self,
        req: Request,
        done: Sender<Done>,
    ) -> Result<tokio::task::AbortHandle, String> {
        let (rt, client) = self.io()?;
        let (client, max) = (client.clone(), self.policy.max_bytes);
        let task = rt.spawn(async move {
            let (id, script, origin) = (req.id, req.script.clone(), req.url.origin().ascii_serialization());
            let started = Instant::now();
            let result = send(&client, req, max).await;
            let status = result.as_ref().map_or(0, |r| r.status);
            tracing::info!(target: "script", script = %script, origin = %origin, status, ms = started.elapsed().as_millis() as u64, "fetch");
            let _ = done.send(Done { id, result });
        });
        Ok(task.abort_handle())
    }
}

impl Drop for Fetcher {
    /// The engine may be dropped on a tokio worker: never block there for the fetch thread.
    fn drop(&mut self) {
        if let Some(Ok((rt, _))) = self.io.take() {
            rt.shutdown_background();
        }
    }
}

async fn send(client: &reqwest::Client, req: Request, max: usize) -> Result<Response, String> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|e| e.to_string())?;
    let first = req.url.clone();
    let mut builder = client.request(method, req.url);
    for (k, v) in req.headers {
        builder = builder.header(k, v);
    }
    if let Some(body) = req.body {
        builder = builder.body(body);
    }
    let mut res = builder.send().await.map_err(describe)?;
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let status = res.status();
    let url = res.url().to_string();
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > max {
            return Err(format!(
                "the response body is over {max} bytes ([scripts] fetch_max_bytes)"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or("").to_owned(),
        redirected: url != first.as_str(),
        url,
        headers,
        body,
    })
}

/// A transport error as a script sees it: what failed, without the engine's internals.
fn describe(e: reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// A sandbox's fetches in flight: answers come back on `rx`; an answer to a fetch of an
/// earlier login (or one already aborted) is not in `in_flight` and is dropped.
pub(super) struct Flights {
    pub tx: Sender<Done>,
    pub rx: Receiver<Done>,
    pub in_flight: HashMap<u32, tokio::task::AbortHandle>,
    /// Answers of this login's fetches, for the library's next `fetchTake`.
    pub ready: Vec<Done>,
    pub next_id: u32,
}

impl Default for Flights {
    fn default() -> Flights {
        let (tx, rx) = crossbeam_channel::unbounded();
        Flights {
            tx,
            rx,
            in_flight: HashMap::new(),
            ready: Vec::new(),
            next_id: 0,
        }
    }
}

impl Flights {
    /// Aborts what is still in flight: nothing of a login outlives it.
    pub(super) fn cancel_all(&mut self) {
        for (_, h) in self.in_flight.drain() {
            h.abort();
        }
        self.ready.clear();
    }

    /// Moves the answers that arrived to `ready` (those of this login only).
    pub(super) fn collect(&mut self, first: Option<Done>) {
        for done in first.into_iter().chain(self.rx.try_iter()) {
            if self.in_flight.remove(&done.id).is_some() {
                self.ready.push(done);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_matches_scheme_host_and_port() {
        let p = FetchPolicy::new(
            &[
                "https://api.example.com".into(),
                "http://127.0.0.1:8089".into(),
                "https://*.example.org".into(),
            ],
            1,
        )
        .unwrap();
        let ok = |u: &str| p.allows(&Url::parse(u).unwrap());
        assert!(ok("https://api.example.com/v1?x=1"));
        assert!(ok("https://API.example.com:443/"));
        assert!(!ok("http://api.example.com/"), "scheme");
        assert!(!ok("https://api.example.com:8443/"), "port");
        assert!(!ok("https://api.example.com.evil.test/"), "suffix");
        assert!(ok("http://127.0.0.1:8089/x"));
        assert!(!ok("http://127.0.0.1:8090/x"));
        assert!(ok("https://a.b.example.org/"));
        assert!(
            !ok("https://example.org/"),
            "the wildcard is for subdomains"
        );
        assert!(!ok("https://badexample.org/"));
        for bad in [
            "api.example.com",
            "https://x.example/path",
            "ftp://x.example",
            "https://u:p@x.example",
        ] {
            assert!(FetchPolicy::new(&[bad.into()], 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_own_server_is_allowed_at_its_management_api_only() {
        let mut p = FetchPolicy::default();
        p.allow_own_server("https://localhost:8443/", None).unwrap();
        let ok = |u: &str| p.allows(&Url::parse(u).unwrap());
        assert!(ok("https://localhost:8443/api/v2/users"));
        for elsewhere in [
            "/healthz",
            "/metrics",
            "/oauth/token",
            "/api/v2",
            "/api/v2/../healthz",
            "/api/v2/%2e%2e/metrics",
        ] {
            assert!(
                !ok(&format!("https://localhost:8443{elsewhere}")),
                "{elsewhere}"
            );
        }
        assert!(!ok("http://localhost:8443/api/v2/users"), "scheme");
        assert!(!ok("https://localhost/"), "port");
        assert!(!ok("https://127.0.0.1:8443/"), "host");
        let mut q = FetchPolicy::default();
        assert!(
            q.allow_own_server("https://localhost/", Some(b"not a certificate"))
                .is_err()
        );
    }
}
