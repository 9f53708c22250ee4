//! What the benches share: an in-process server seeded for logins with the sample scripts
//! (`server`), a raw keep-alive HTTP/1 client (`client`) and percentiles (`stats`). Each bench
//! uses part of it, so unused items are expected.
#![allow(dead_code)]

pub mod client;
pub mod server;
pub mod stats;
