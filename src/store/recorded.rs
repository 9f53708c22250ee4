//! Recorded logins (`[debug] record`, README "Recorded logins"): the last N logins' post-login
//! `event` with the scripts' verdict, for `claimsmith logins` and `claimsmith test --event`.
//!
//! The table never holds a password, a secret or a token, whoever calls: [`Db::insert_recorded_login`]
//! redacts the event itself before writing it (`redact_event`).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use super::{Db, Result, json_text};

/// A login to record, as the grant saw it; `event` is redacted when written.
#[derive(Debug, Clone)]
pub struct NewRecordedLogin {
    pub recorded_at: String,
    pub client_id: String,
    /// The user who logged in (before any `setPrimaryUser`).
    pub user_id: String,
    /// The request's `grant_type` (`password`, `…/password-realm`, `refresh_token`).
    pub grant: String,
    /// `event.transaction.protocol`: `oauth2-password` or `oauth2-refresh-token`.
    pub protocol: String,
    /// What the scripts decided: `allow`, `deny`, `unauthorized`, `mfa_required`,
    /// `interaction_required`, `validation_error`, or `error` (a script failed).
    pub verdict: String,
    /// The deny reason or the failure's public description, when there is one.
    pub reason: Option<String>,
    /// The post-login `event` as an Action saw it (`script::event_json`).
    pub event: Value,
}

/// A recorded login; `event` only when one login is asked for.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedLogin {
    pub id: i64,
    pub recorded_at: String,
    pub client_id: String,
    pub user_id: String,
    pub grant: String,
    pub protocol: String,
    pub verdict: String,
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Value>,
}

const COLUMNS: &str = "id, recorded_at, client_id, user_id, grant_type, protocol, verdict, reason";

fn row(r: &rusqlite::Row<'_>, event: Option<Value>) -> rusqlite::Result<RecordedLogin> {
    Ok(RecordedLogin {
        id: r.get(0)?,
        recorded_at: r.get(1)?,
        client_id: r.get(2)?,
        user_id: r.get(3)?,
        grant: r.get(4)?,
        protocol: r.get(5)?,
        verdict: r.get(6)?,
        reason: r.get(7)?,
        event,
    })
}

impl Db<'_> {
    /// Writes `login` (its event redacted) and, in the same transaction, deletes every recorded
    /// login but the newest `keep`. Returns the new record's id.
    pub fn insert_recorded_login(&self, login: &NewRecordedLogin, keep: u32) -> Result<i64> {
        let mut event = login.event.clone();
        redact_event(&mut event);
        self.transaction(|db| {
            db.conn
                .prepare_cached(
                    "INSERT INTO recorded_logins (recorded_at, client_id, user_id, grant_type, \
                     protocol, verdict, reason, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    login.recorded_at,
                    login.client_id,
                    login.user_id,
                    login.grant,
                    login.protocol,
                    login.verdict,
                    login.reason,
                    json_text(&event),
                ])?;
            let id = db.conn.last_insert_rowid();
            db.conn
                .prepare_cached(
                    "DELETE FROM recorded_logins WHERE id <= \
                     (SELECT id FROM recorded_logins ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                )?
                .execute([keep])?;
            Ok(id)
        })
    }

    /// Every recorded login, newest first, without its event.
    pub fn recorded_logins(&self) -> Result<Vec<RecordedLogin>> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM recorded_logins ORDER BY id DESC"
        ))?;
        let rows = st
            .query_map([], |r| row(r, None))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// One recorded login, with its event.
    pub fn recorded_login(&self, id: i64) -> Result<Option<RecordedLogin>> {
        Ok(self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS}, event FROM recorded_logins WHERE id = ?1"
            ))?
            .query_row([id], |r| {
                let event: String = r.get(8)?;
                row(r, Some(serde_json::from_str(&event).unwrap_or(Value::Null)))
            })
            .optional()?)
    }
}

/// Takes out of a post-login `event` everything that is, or describes, a credential:
/// `refresh_token` (the presented token's record), every `secrets` value, and the request
/// parameters (body and query) that carry one. The grant already leaves `password`,
/// `client_secret`, `refresh_token` and `client_assertion` out of `request`; this also drops any
/// other parameter a client may send a credential in, so that a recording holds none whatever
/// was sent.
fn redact_event(event: &mut Value) {
    let Some(e) = event.as_object_mut() else {
        return;
    };
    e.remove("refresh_token");
    if let Some(secrets) = e.get_mut("secrets") {
        *secrets = Value::Object(Default::default());
    }
    if let Some(request) = e.get_mut("request").and_then(Value::as_object_mut) {
        for part in ["body", "query"] {
            if let Some(params) = request.get_mut(part).and_then(Value::as_object_mut) {
                params.retain(|name, _| !is_credential(name));
            }
        }
    }
}

/// A parameter name that carries a credential: a password, a secret, a token, a one-time or
/// authorization code, an assertion.
fn is_credential(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("password")
        || n.contains("secret")
        || n.contains("token")
        || n.contains("assertion")
        || matches!(
            n.as_str(),
            "otp" | "code" | "code_verifier" | "recovery_code" | "binding_code" | "oob_code"
        )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{ClientAuth, NewClient, NewUser, Store};

    fn store_with_user() -> (Store, String) {
        let s = Store::in_memory().unwrap();
        let now = "2027-01-01T00:00:00.000Z";
        let user = s
            .call_sync(|db| {
                db.ensure_connection("db", now)?;
                db.insert_client(
                    &NewClient {
                        client_id: "cli".into(),
                        name: "c".into(),
                        secret_hash: None,
                        app_type: "spa".into(),
                        grant_types: vec!["password".into()],
                        metadata: Default::default(),
                        auth_method: ClientAuth::None,
                        trusted_forwarded_for: false,
                        connections: vec!["db".into()],
                    },
                    now,
                )?;
                let u = db.insert_user(
                    &NewUser {
                        connection: "db".into(),
                        email: Some("a@example.com".into()),
                        ..NewUser::default()
                    },
                    now,
                )?;
                Ok(u.user_id)
            })
            .unwrap();
        (s, user)
    }

    fn login(user: &str, n: u32, event: Value) -> NewRecordedLogin {
        NewRecordedLogin {
            recorded_at: format!("2027-01-01T00:00:0{n}.000Z"),
            client_id: "cli".into(),
            user_id: user.into(),
            grant: "password".into(),
            protocol: "oauth2-password".into(),
            verdict: if n.is_multiple_of(2) { "allow" } else { "deny" }.into(),
            reason: (!n.is_multiple_of(2)).then(|| format!("no {n}")),
            event,
        }
    }

    #[test]
    fn keeps_the_newest_n_newest_first_and_ids_are_never_reused() {
        let (s, user) = store_with_user();
        let ids: Vec<i64> = (0..5)
            .map(|n| {
                s.call_sync(|db| db.insert_recorded_login(&login(&user, n, json!({"n": n})), 3))
                    .unwrap()
            })
            .collect();
        let rows = s.call_sync(|db| db.recorded_logins()).unwrap();
        let kept: Vec<i64> = rows.iter().map(|r| r.id).collect();
        assert_eq!(kept, [ids[4], ids[3], ids[2]]);
        assert!(rows.iter().all(|r| r.event.is_none()));
        assert_eq!(rows[1].reason.as_deref(), Some("no 3"));
        assert_eq!(rows[1].verdict, "deny");
        assert!(
            s.call_sync(|db| db.recorded_login(ids[1]))
                .unwrap()
                .is_none()
        );
        let one = s
            .call_sync(|db| db.recorded_login(ids[4]))
            .unwrap()
            .unwrap();
        assert_eq!(one.event, Some(json!({"n": 4})));
        // A lower `keep` trims at the next write; ids keep growing after deletes.
        let next = s
            .call_sync(|db| db.insert_recorded_login(&login(&user, 5, json!({})), 1))
            .unwrap();
        assert!(next > ids[4]);
        let rows = s.call_sync(|db| db.recorded_logins()).unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn the_event_is_stored_without_credentials() {
        let (s, user) = store_with_user();
        let event = json!({
            "user": {"user_id": user},
            "request": {
                "body": {"grant_type": "password", "username": "a", "password": "pw",
                         "client_secret": "cs", "mfa_token": "mt", "otp": "123456",
                         "client_assertion": "ca", "scope": "openid"},
                "query": {"refresh_token": "rt", "x": "1"},
            },
            "secrets": {"API_KEY": "k"},
            "refresh_token": {"id": "tok_1"},
        });
        let id = s
            .call_sync(|db| db.insert_recorded_login(&login(&user, 0, event), 10))
            .unwrap();
        let got = s.call_sync(|db| db.recorded_login(id)).unwrap().unwrap();
        assert_eq!(
            got.event.unwrap(),
            json!({
                "user": {"user_id": user},
                "request": {"body": {"grant_type": "password", "username": "a", "scope": "openid"},
                            "query": {"x": "1"}},
                "secrets": {},
            })
        );
    }

    #[test]
    fn a_recorded_login_goes_with_its_user() {
        let (s, user) = store_with_user();
        s.call_sync(|db| db.insert_recorded_login(&login(&user, 0, json!({})), 10))
            .unwrap();
        s.call_sync(|db| db.delete_user(&user)).unwrap();
        assert!(s.call_sync(|db| db.recorded_logins()).unwrap().is_empty());
    }
}
