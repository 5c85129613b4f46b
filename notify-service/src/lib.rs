//! Beckon's notify-service: email delivery and team notifications at a controlled rate, with
//! nothing lost. See ARCHITECTURE.md at the repository root for the map.
pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod mail;
pub mod metrics;
pub mod queue;
pub mod seal;
pub mod store;
pub mod templates;
pub mod worker;

pub use app::{start, start_on, RunningNotify};
pub use config::Config;
