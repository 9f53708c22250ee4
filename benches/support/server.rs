//! The in-process server the login and HTTP benches measure: `claimsmith::run` on
//! `127.0.0.1:0`, as `tests/it/support.rs` starts it, with the shipped sample scripts (`rules/`
//! and `actions/` at the repo root) copied in, one confidential client, one RS256 API, and a user
//! of each password scheme: bcrypt cost 4 (the cheapest hash bcrypt allows, so that the rest of
//! the login shows) and argon2id with the default parameters.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use claimsmith::clock::Clock;
use claimsmith::config::Config;
use claimsmith::credentials::{hash_password, hash_secret};
use claimsmith::state::AppState;
use claimsmith::store::{ClientAuth, NewApi, NewClient, NewUser};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const CLIENT_ID: &str = "bench";
pub const CLIENT_SECRET: &str = "secret";
/// An API signing with RS256, Auth0's default.
pub const API: &str = "https://api.bench";
/// `openid` asks for an ID token too, as most password-grant clients do.
pub const SCOPE: &str = "openid profile email read";
/// A user whose password is hashed with bcrypt cost 4.
pub const BCRYPT4_USER: &str = "fast@example.com";
/// A user whose password is hashed with argon2id, m=19 MiB, t=2, p=1 (what the server makes).
pub const ARGON_USER: &str = "argon@example.com";
pub const PASSWORD: &str = "correct horse battery";
pub const CONNECTION: &str = "Username-Password-Authentication";

/// A running server and its state.
pub struct BenchServer {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl BenchServer {
    /// Starts a server on the current tokio runtime; `tweak` adjusts the test configuration.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> BenchServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for sub in ["rules", "actions"] {
            copy_dir(&root.join(sub), &dir.path().join(sub));
        }
        let mut config = Config::for_test(dir.path());
        config.rehash_passwords = false; // the bcrypt user must stay bcrypt
        tweak(&mut config);
        let state = claimsmith::bootstrap::app_state(config, Clock::system()).expect("state");
        seed(&state);
        let state = Arc::new(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(claimsmith::run(listener, state.clone(), None, async move {
            let _ = rx.await;
        }));
        BenchServer {
            addr,
            state,
            _dir: dir,
            stop: Some(tx),
            task,
        }
    }

    /// Shuts the server down and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }
}

fn seed(state: &AppState) {
    let now = state.clock.now_rfc3339();
    state
        .store
        .call_sync(|db| {
            db.insert_client(
                &NewClient {
                    client_id: CLIENT_ID.into(),
                    name: "bench".into(),
                    secret_hash: Some(hash_secret(CLIENT_SECRET)),
                    app_type: "non_interactive".into(),
                    grant_types: vec!["password".into()],
                    metadata: Default::default(),
                    auth_method: ClientAuth::ClientSecretPost,
                    trusted_forwarded_for: false,
                    connections: vec!["Username-Password-Authentication".into()],
                },
                &now,
            )?;
            db.insert_api(
                &NewApi {
                    identifier: API.into(),
                    name: "bench API".into(),
                    token_lifetime_s: 3600,
                    signing_alg: "RS256".into(),
                    rbac_enabled: false,
                    permissions_in_token: false,
                    allow_offline_access: false,
                    scopes: vec!["read".into()],
                },
                &now,
            )?;
            let app = json!({"role": "admin", "organisation_id": "org_bench"});
            for (email, hash) in [
                (BCRYPT4_USER, bcrypt::hash(PASSWORD, 4).expect("bcrypt")),
                (ARGON_USER, hash_password(PASSWORD).expect("argon2")),
            ] {
                db.insert_user(
                    &NewUser {
                        connection: CONNECTION.into(),
                        email: Some(email.into()),
                        email_verified: true,
                        name: Some("Ada Lovelace".into()),
                        password_hash: Some(hash),
                        app_metadata: app.as_object().cloned().unwrap_or_default(),
                        ..NewUser::default()
                    },
                    &now,
                )?;
            }
            Ok(())
        })
        .expect("seed");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}
