//! The administrative commands of the CLI: each works on the store directly and returns the JSON
//! document the CLI prints (`--json`) or renders as a table. One file per resource; every write
//! is one store transaction.

mod access;
mod apis;
mod clients;
mod connections;
mod logins;
mod users;

use serde_json::{Map, Value};

use crate::store::StoreError;

pub use access::{orgs, roles};
pub use apis::apis;
pub use clients::clients;
pub use connections::{connections, keys};
pub use logins::logins;
pub use users::users;

/// A command that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Start(#[from] crate::bootstrap::StartError),
}

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

/// Parses an optional JSON object argument.
fn object(arg: Option<&str>, what: &str) -> Result<Map<String, Value>, AdminError> {
    match arg.map(serde_json::from_str::<Value>) {
        None => Ok(Map::new()),
        Some(Ok(Value::Object(m))) => Ok(m),
        _ => Err(invalid(format!("{what} must be a JSON object"))),
    }
}
