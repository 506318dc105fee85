//! The Apache compatibility suite's helpers (tests/apache_live.rs).
#![allow(dead_code)]

pub mod client;
pub mod der;
pub mod files;
pub mod pki;
pub mod server;
