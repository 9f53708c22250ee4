//! The store: every SQL statement of claimsmith lives under this module, behind [`Db`], whose
//! methods speak in domain types. Grants batch several calls into one trip to the blocking pool
//! with [`Store::call`]; the CLI and script workers (already off the async workers) use
//! [`Store::call_sync`]. A PostgreSQL backend would replace `Db`'s bodies, not its callers.
//!
//! "Not found" is `Ok(None)`, never an error: the grant decides what a missing row means.

mod access_mgmt;
mod apis;
mod client_grants;
mod clients;
mod connections;
mod failures;
mod keys;
mod organizations;
mod permissions;
mod recorded;
mod refresh;
mod roles;
mod users;
mod users_mgmt;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

pub use access_mgmt::RoleRow;
pub use apis::{Api, ApiPatch, NewApi};
pub use clients::{Client, ClientAuth, NewClient};
pub use connections::ConnectionRow;
pub use failures::Attempt;
pub use keys::KeyRow;
pub use organizations::Organization;
pub use recorded::{NewRecordedLogin, RecordedLogin};
pub use refresh::{NewRefresh, RefreshToken};
pub use roles::{Role, RolePermission};
pub use users::{NewUser, User, UserRef};
pub use users_mgmt::{UserFilter, UserUpdate};

/// The schema version this build writes (`PRAGMA user_version`): the last migration's.
pub const SCHEMA_VERSION: i64 = match MIGRATIONS.last() {
    Some((v, _)) => *v,
    None => 1,
};
/// Version 1, applied at every start (idempotent).
const SCHEMA: &str = include_str!("../../schema.sql");
/// What changed after version 1, in order: (the version it brings a database to, its SQL). Each
/// runs once, in one transaction with the version bump, on a database below its version; a new
/// database gets `SCHEMA` and then every block, so old and new databases end up the same shape.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        2,
        // Auth0's `connection.options`; Rules see it as `context.connectionOptions`.
        "ALTER TABLE connections ADD COLUMN options TEXT NOT NULL DEFAULT '{}';",
    ),
    (
        3,
        // Auth0's "Trust Token Endpoint IP Header" (`auth0-forwarded-for`), and its "enabled
        // connections" of a client. Every client that exists already gets every connection that
        // exists already, so that a deployment upgraded in place logs in exactly whom it did.
        "ALTER TABLE clients ADD COLUMN trusted_forwarded_for INTEGER NOT NULL DEFAULT 0;
         CREATE TABLE client_connections (
             client_id     TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
             connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
             PRIMARY KEY (client_id, connection_id)
         ) WITHOUT ROWID;
         INSERT INTO client_connections (client_id, connection_id)
             SELECT cl.client_id, co.id FROM clients cl CROSS JOIN connections co;",
    ),
    (
        4,
        // A refresh token's own idle expiry (`api.refreshToken.setIdleExpiresAt`), written for
        // every token; NULL (tokens of version 3 and before) means created_at + the configured idle lifetime.
        "ALTER TABLE refresh_tokens ADD COLUMN idle_expires_at TEXT;",
    ),
    (
        5,
        // `[debug] record`: the last N logins' redacted `event` and the scripts' verdict
        // (`recorded.rs`). AUTOINCREMENT: an id printed by `logins list` never names another
        // login later. A recording goes with its user or client.
        "CREATE TABLE recorded_logins (
             id          INTEGER PRIMARY KEY AUTOINCREMENT,
             recorded_at TEXT NOT NULL,
             client_id   TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
             user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
             grant_type  TEXT NOT NULL,
             protocol    TEXT NOT NULL,
             verdict     TEXT NOT NULL,
             reason      TEXT,
             event       TEXT NOT NULL
         );
         CREATE INDEX recorded_logins_user ON recorded_logins(user_id);
         CREATE INDEX recorded_logins_client ON recorded_logins(client_id);",
    ),
];

/// Store failures. SQL failures are internal; `Busy` maps to `temporarily_unavailable`;
/// `Conflict` and `Invalid` are the caller's mistakes (CLI).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database is busy")]
    Busy,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Sql(rusqlite::Error),
    #[error("database file {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("database schema version {0} is newer than this build ({SCHEMA_VERSION})")]
    TooNew(i64),
    #[error("the store task failed: {0}")]
    Task(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{ConstraintViolation, DatabaseBusy, DatabaseLocked};
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked) => StoreError::Busy,
            Some(ConstraintViolation) => StoreError::Conflict(e.to_string()),
            _ => StoreError::Sql(e),
        }
    }
}

/// Result of store calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

/// One locked connection; all queries are methods on it.
pub struct Db<'a> {
    conn: &'a Connection,
}

impl Store {
    /// Opens (creating it 0600 if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        create_private(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// A private in-memory database (tests, benchmarks).
    pub fn in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL lets readers run beside the writer; NORMAL sync is durable across a killed process
        // (not across power loss), at 12 µs instead of 63 µs per write transaction here.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew(version));
        }
        conn.execute_batch(SCHEMA)?;
        for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| version < *to) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", to)?;
            tx.commit()?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the blocking pool, so that SQLite never stalls an async worker.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db<'_>) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.call_sync(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` on this thread: for the CLI and for code already off the async workers.
    pub fn call_sync<T>(&self, f: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        // A panic while holding the lock leaves the connection itself intact.
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&Db { conn: &guard })
    }
}

impl Db<'_> {
    /// Runs `f` inside one transaction: all of it is written, or none. A savepoint, so that
    /// transactions nest (a demo seed calls methods that are transactions themselves).
    pub fn transaction<T>(&self, f: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("SAVEPOINT tx")?;
        match f(self) {
            Ok(out) => {
                self.conn.execute_batch("RELEASE tx")?;
                Ok(out)
            }
            Err(e) => {
                // The error that matters is `e`; a failed rollback leaves SQLite to undo it.
                let _ = self.conn.execute_batch("ROLLBACK TO tx; RELEASE tx");
                Err(e)
            }
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn exists(&self, sql: &str, p: impl rusqlite::Params) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(p, |_| Ok(()))
            .optional()?
            .is_some())
    }
}

/// Creates the file readable by its owner only, before SQLite opens it: it holds private keys and
/// password hashes. SQLite gives its -wal and -shm files the same mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Parses a JSON object column; anything else reads as an empty object.
fn json_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn json_text(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

/// A new random identifier with a prefix: `org_…`, `rol_…`, `con_…`.
fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", crate::credentials::random_id::<12>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_is_idempotent_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let s = Store::open(&path).unwrap();
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.call_sync(|db| db.schema_version()).unwrap(),
            SCHEMA_VERSION
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "database readable by others: {mode:o}");
        }
        s.call_sync(|db| {
            db.conn
                .pragma_update(None, "user_version", 99)
                .map_err(StoreError::from)
        })
        .unwrap();
        drop(s);
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew(99))));
    }

    #[test]
    fn json_object_tolerates_garbage() {
        assert!(json_object("[1]").is_empty());
        assert_eq!(json_object(r#"{"a":1}"#)["a"], 1);
    }
}
