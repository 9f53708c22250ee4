//! claimsmith: a self-hosted, Auth0-compatible token server whose heart is a sandboxed
//! JavaScript runtime.
//!
//! # Architecture
//!
//! A login flows down these modules; dependencies point downwards only, and each engine has one
//! home (hyper in `server`/`http`, rquickjs in `script`, rusqlite in `store`, jsonwebtoken in
//! `token`, notify in `reload`):
//!
//! ```text
//! main ─ cli ─ admin / demo            command line, seeding
//! server ─ http::{token, discovery, health}   accept loop, TLS, routing, rendering
//!            │
//!          grant::{password, client, scope}    decides every OAuth error of a grant
//!            ├─ pipeline ─ script              Rules then Actions in QuickJS → Outcome
//!            │      └─ reload                   watches actions/ and rules/, swaps script sets
//!            ├─ claims                         registered + custom claims, Auth0's policy
//!            ├─ token                          signing keys, JWTs, JWKS
//!            ├─ credentials                    password / secret checks, hashing pool
//!            └─ store                          every SQL statement, domain types
//! oauth                                        RFC 6749 wire types and the one error type
//! config, clock, state, bootstrap, signals    configuration, time, shared state, start-up, signals
//! ```
//!
//! [`server::run`] takes a bound listener and a shutdown future, so production and tests run the
//! same code.

pub mod admin;
pub mod bootstrap;
pub mod claims;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod grant;
pub mod http;
pub mod oauth;
pub mod pipeline;
pub mod reload;
pub mod script;
pub mod server;
pub mod signals;
pub mod state;
pub mod store;
pub mod token;

pub use config::Config;
pub use server::run;
