//! The zbor server: HTTP API, background tasks and the operator command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod database;
#[cfg(feature = "simulator")]
pub mod demo;
pub mod dev;
pub mod http;
pub mod live;
pub mod metrics;
pub mod overflow;
pub mod qr;
pub mod tasks;
pub mod workers;
