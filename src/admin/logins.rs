//! `logins`: the logins `[debug] record` kept (README "Recorded logins"). `show --as-event`
//! prints only the event, so that `claimsmith logins show 7 --as-event > case.json` is a test
//! case for `claimsmith test --event`.

use serde_json::Value;

use super::{AdminError, invalid};
use crate::cli::Logins;
use crate::store::Store;

pub fn logins(store: &Store, cmd: Logins) -> Result<Value, AdminError> {
    match cmd {
        Logins::List => {
            let rows = store.call_sync(|db| db.recorded_logins())?;
            Ok(serde_json::to_value(rows).unwrap_or_default())
        }
        Logins::Show { id, as_event } => {
            let found = store
                .call_sync(|db| db.recorded_login(id))?
                .ok_or_else(|| invalid(format!("no recorded login {id}")))?;
            match as_event {
                true => Ok(found.event.unwrap_or_default()),
                false => Ok(serde_json::to_value(found).unwrap_or_default()),
            }
        }
    }
}
