//! A raw HTTP/1.1 keep-alive client on hyper's `client::conn` (as a load generator such as wrk
//! holds connections): one connection, one request at a time, the body read to the end.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// One open keep-alive connection.
pub struct Conn {
    send: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects and spawns the connection's driver on the current runtime (it ends when `Conn`
    /// is dropped).
    pub async fn open(addr: SocketAddr) -> Conn {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Conn {
            send,
            host: addr.to_string(),
        }
    }

    /// `GET path`: the status and the body.
    pub async fn get(&mut self, path: &str) -> (u16, Bytes) {
        let req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("host", &self.host)
            .body(Full::new(Bytes::new()))
            .expect("request");
        self.send(req).await
    }

    /// `POST path` with a form body: the status and the body.
    pub async fn post_form(&mut self, path: &str, form: &str) -> (u16, Bytes) {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("host", &self.host)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::copy_from_slice(form.as_bytes())))
            .expect("request");
        self.send(req).await
    }

    async fn send(&mut self, req: Request<Full<Bytes>>) -> (u16, Bytes) {
        self.send.ready().await.expect("connection usable");
        let resp = self.send.send_request(req).await.expect("response");
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, body)
    }
}

/// The password-grant form for `user` against the bench client and API.
pub fn login_form(user: &str, password: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", super::server::CLIENT_ID)
        .append_pair("client_secret", super::server::CLIENT_SECRET)
        .append_pair("username", user)
        .append_pair("password", password)
        .append_pair("audience", super::server::API)
        .append_pair("scope", super::server::SCOPE)
        .finish()
}
