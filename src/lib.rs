//! claimsmith: a self-hosted, Auth0-compatible token server whose heart is a sandboxed
//! JavaScript runtime.
//!
//! # Architecture
//!
//! A login flows down these layers. A module uses only modules on lower lines, or to its right
//! on its own line (`tests/it/boundary.rs` reads this map and checks every `crate::` path against
//! it). Each engine has one home: hyper in `server`/`http`, rquickjs in `script`, rusqlite in
//! `store`, jsonwebtoken in `token`, notify in `reload`.
//!
//! ```text
//! demo ─ admin ─ bootstrap ─ output ─ cli ─ dev         seeding, administration, start-up, tables, the arguments, `claimsmith test`
//! server ─ http                                         accept loop, TLS; routing and rendering (token, discovery, health)
//! grant ─ mgmt ─ register                               every OAuth error of a grant; the Management API; signup, registration
//! state                                                 what every request shares
//! pipeline ─ reload ─ config                            Rules then Actions → Outcome; hot reload; configuration
//! script                                                QuickJS sandboxes, workers, the shim
//! claims ─ token                                        registered + custom claims, Auth0's policy; keys, JWTs, JWKS
//! store                                                 every SQL statement, domain types
//! credentials                                           password / secret checks, hashing pool
//! oauth ─ clock ─ signals ─ gauge ─ metrics ─ typings   wire types, the one error; time; signals; counts; Prometheus; .d.ts
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
pub mod dev;
pub mod gauge;
pub mod grant;
pub mod http;
pub mod metrics;
pub mod mgmt;
pub mod oauth;
pub mod output;
pub mod pipeline;
pub mod register;
pub mod reload;
pub mod script;
pub mod server;
pub mod signals;
pub mod state;
pub mod store;
pub mod token;
pub mod typings;

pub use config::Config;
pub use server::run;
