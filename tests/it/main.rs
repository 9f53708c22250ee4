//! The integration tests: one binary, each test starting its own server on `127.0.0.1:0` and
//! talking to it over HTTP as a client would, verifying tokens against the server's own JWKS.

#![allow(clippy::unwrap_used)] // Tests state their expectations with unwrap.

mod api_members;
mod auth0_sdk;
mod boundary;
mod claims;
mod cli;
mod cli_flags;
mod cli_manage;
mod cli_update;
mod client_credentials;
mod event_shape;
mod fail_closed;
mod fetch;
mod hostile;
mod keys;
mod management;
mod metrics;
mod modules;
mod node_globals;
mod npm;
mod oauth_clients;
mod overload;
mod promises;
mod recorded;
mod refresh;
mod registration;
mod reload;
mod reload_more;
mod scripts;
mod security;
mod signup;
mod support;
mod test_command;
mod tls;
mod token;
mod token_errors;
mod trusted;
mod typings;
mod userinfo;
