//! The two host functions behind `fetch` (`node_fetch.js`): `fetchStart` checks the request
//! against the allow-list and starts it (fetch.rs); `fetchTake` hands the answers the driver
//! collected to the library. Both reach the sandbox's [`LoginState`], so they are made with the
//! shim's host object and handed to the Node library when it is built.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use rquickjs::function::Opt;
use rquickjs::{Array, Ctx, Exception, Function, Value};
use url::Url;

use super::fetch::{Done, Fetcher, Request};
use super::sandbox::LoginState;

/// `fetchStart(method, url, [name, value, …], body?)`: the request's id, or a `TypeError` when
/// the URL is not allowed (naming its origin and the setting) or cannot be sent.
pub(super) fn start<'js>(
    ctx: &Ctx<'js>,
    fetcher: &Arc<Fetcher>,
    state: &Rc<RefCell<LoginState>>,
) -> rquickjs::Result<Function<'js>> {
    let (fetcher, state) = (fetcher.clone(), state.clone());
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>,
              method: String,
              url: String,
              headers: Vec<String>,
              body: Opt<String>| {
            let refuse = |m: String| Err(Exception::throw_type(&ctx, &m));
            let Ok(url) = Url::parse(&url) else {
                return refuse(format!("fetch: invalid URL {url}"));
            };
            if !fetcher.policy.allows(&url) {
                let origin = url.origin().ascii_serialization();
                return refuse(format!(
                    "fetch to {origin} refused: [scripts] fetch_allow does not list it"
                ));
            }
            let body = match body.0.map(|b| binary(&b)).transpose() {
                Ok(b) => b,
                Err(()) => return refuse("fetch: the body is not binary text".into()),
            };
            let mut st = state.borrow_mut();
            let id = st.flights.next_id;
            st.flights.next_id = id.wrapping_add(1);
            let request = Request {
                id,
                method,
                url,
                headers: headers
                    .chunks_exact(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect(),
                body,
                script: st.current_name(),
            };
            match fetcher.start(request, st.flights.tx.clone()) {
                Ok(handle) => {
                    st.flights.in_flight.insert(id, handle);
                    Ok(id)
                }
                Err(e) => refuse(format!("fetch: {e}")),
            }
        },
    )
}

/// `fetchTake()`: the answers collected since the last call, as
/// `[[id, ok, status, statusText, url, redirected, [name, value, …], body or error], …]`, or
/// `null` when there are none.
pub(super) fn take<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<RefCell<LoginState>>,
) -> rquickjs::Result<Function<'js>> {
    let state = state.clone();
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>| -> rquickjs::Result<Value<'js>> {
            let ready: Vec<Done> = std::mem::take(&mut state.borrow_mut().flights.ready);
            if ready.is_empty() {
                return Ok(Value::new_null(ctx));
            }
            let all = Array::new(ctx.clone())?;
            for (i, done) in ready.into_iter().enumerate() {
                let row = Array::new(ctx.clone())?;
                row.set(0, done.id)?;
                match done.result {
                    Ok(r) => {
                        row.set(1, true)?;
                        row.set(2, r.status)?;
                        row.set(3, r.status_text)?;
                        row.set(4, r.url)?;
                        row.set(5, r.redirected)?;
                        let flat: Vec<String> =
                            r.headers.into_iter().flat_map(|(k, v)| [k, v]).collect();
                        row.set(6, flat)?;
                        row.set(7, latin1(&r.body))?;
                    }
                    Err(e) => {
                        row.set(1, false)?;
                        row.set(7, e)?;
                    }
                }
                all.set(i, row)?;
            }
            Ok(all.into_value())
        },
    )
}

/// A binary string (one char per byte, as `atob` returns) as bytes.
fn binary(s: &str) -> Result<Vec<u8>, ()> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| ()))
        .collect()
}

/// Bytes as a binary string.
fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}
