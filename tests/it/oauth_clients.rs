//! Two OAuth clients nobody here wrote log in as applications would, finding every endpoint and
//! key through discovery: the `oauth2` crate (password, refresh, client credentials) and, in
//! Node, `openid-client` (the same, plus revocation; it validates the ID tokens itself).

use jsonwebtoken::jwk::JwkSet;
use oauth2::basic::BasicClient;
use oauth2::{
    ClientId, ClientSecret, HttpRequest, HttpResponse, RefreshToken, ResourceOwnerPassword,
    ResourceOwnerUsername, Scope, TokenResponse, TokenUrl,
};
use serde_json::{Value, json};

use crate::support::*;

const OFFLINE_API: &str = "https://offline.test";

/// A server whose issuer is its own address, with an application (password + refresh) and a
/// machine client granted `OFFLINE_API`.
struct Apps {
    s: TestServer,
    app: (String, String),
    m2m: (String, String),
}

async fn apps() -> Apps {
    let s = TestServer::start_with(|c| c.issuer_derived = true).await;
    let (app, m2m) = s.db(|db| {
        add_offline_api(db, OFFLINE_API, "ES256", &["read:x"])?;
        let app = add_client(db, &["password", "refresh_token"])?;
        let m2m = add_client(db, &["client_credentials"])?;
        db.set_client_grant(&m2m.0, OFFLINE_API, &["read:x".to_owned()])?;
        Ok((app, m2m))
    });
    Apps { s, app, m2m }
}

/// What discovery says, and the key set it points to.
async fn discover(s: &TestServer) -> (Value, JwkSet) {
    let meta = s.discovery().await;
    let jwks = s.get_json(meta["jwks_uri"].as_str().unwrap()).await;
    (meta, jwks)
}

#[tokio::test]
async fn the_oauth2_crate_logs_in_refreshes_and_gets_client_credentials() {
    let a = apps().await;
    let (meta, jwks) = discover(&a.s).await;
    let issuer = meta["issuer"].as_str().unwrap().to_owned();
    assert_eq!(issuer, format!("{}/", a.s.base));
    let token_url = TokenUrl::new(meta["token_endpoint"].as_str().unwrap().into()).unwrap();
    // oauth2's own HTTP seam, served by the tests' client.
    let http = a.s.http.clone();
    let send = move |req: HttpRequest| {
        let http = http.clone();
        async move {
            let (parts, body) = req.into_parts();
            let r = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(std::io::Error::other)?;
            let mut out = HttpResponse::new(r.status().as_u16().to_string().into_bytes());
            *out.status_mut() = r.status();
            *out.headers_mut() = r.headers().clone();
            *out.body_mut() = r.bytes().await.map_err(std::io::Error::other)?.to_vec();
            Ok::<_, std::io::Error>(out)
        }
    };
    let verify = |jwt: &str, aud: &str| verify_issued(&jwks, jwt, aud, &issuer);

    // The application: client_secret_basic, oauth2's default.
    let app = BasicClient::new(ClientId::new(a.app.0.clone()))
        .set_client_secret(ClientSecret::new(a.app.1.clone()))
        .set_token_uri(token_url.clone());
    let login = app
        .exchange_password(
            &ResourceOwnerUsername::new(EMAIL.into()),
            &ResourceOwnerPassword::new(PASSWORD.into()),
        )
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_scope(Scope::new("read:x".into()))
        .add_extra_param("audience", OFFLINE_API)
        .request_async(&send)
        .await
        .expect("password grant");
    let claims = verify(login.access_token().secret(), OFFLINE_API);
    assert_eq!(claims["sub"], a.s.seed.user_id.as_str());
    assert_eq!(claims["gty"], "password");
    let granted: Vec<String> = login
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(granted, ["openid", "offline_access", "read:x"]);
    let rt = login.refresh_token().expect("a refresh token").clone();

    let refreshed = app
        .exchange_refresh_token(&rt)
        .request_async(&send)
        .await
        .expect("refresh grant");
    let claims = verify(refreshed.access_token().secret(), OFFLINE_API);
    assert_eq!(
        (claims["sub"].clone(), claims["gty"].clone()),
        (json!(a.s.seed.user_id), json!("refresh_token"))
    );
    let next: &RefreshToken = refreshed.refresh_token().expect("rotated");
    assert_ne!(next.secret(), rt.secret());
    // The spent token is refused: oauth2 reports the server's error.
    let reused = app.exchange_refresh_token(&rt).request_async(&send).await;
    assert!(
        format!("{reused:?}").contains("invalid_grant"),
        "{reused:?}"
    );

    // The machine client.
    let m2m = BasicClient::new(ClientId::new(a.m2m.0.clone()))
        .set_client_secret(ClientSecret::new(a.m2m.1.clone()))
        .set_token_uri(token_url);
    let cc = m2m
        .exchange_client_credentials()
        .add_extra_param("audience", OFFLINE_API)
        .request_async(&send)
        .await
        .expect("client credentials");
    let claims = verify(cc.access_token().secret(), OFFLINE_API);
    assert_eq!(claims["sub"], format!("{}@clients", a.m2m.0));
    assert_eq!(claims["scope"], "read:x");
}

#[tokio::test]
async fn openid_client_in_node_logs_in_refreshes_gets_client_credentials_and_revokes() {
    let a = apps().await;
    let r = crate::npm::run_node(
        "openid-client",
        "oauth_clients/openid_client.js",
        &[
            a.s.base.as_str(),
            &a.app.0,
            &a.app.1,
            &a.m2m.0,
            &a.m2m.1,
            EMAIL,
            PASSWORD,
            OFFLINE_API,
        ],
        &[],
    )
    .await;
    let user = a.s.seed.user_id.as_str();
    assert_eq!(
        r,
        json!({
            "issuer": format!("{}/", a.s.base),
            "idToken": {"sub": user, "aud": a.app.0, "name": "Ann Example"},
            "password": {"sub": user, "scope": "openid profile offline_access read:x", "gty": "password", "azp": a.app.0},
            "refresh": {"sub": user, "scope": "openid profile offline_access read:x", "gty": "refresh_token", "azp": a.app.0,
                "idToken": user, "rotated": true},
            "clientCredentials": {"sub": format!("{}@clients", a.m2m.0), "scope": "read:x", "gty": "client-credentials", "azp": a.m2m.0},
            "afterRevoke": "invalid_grant",
        })
    );
}
