//! Beckon's invite-service. See ARCHITECTURE.md at the repository root for the map.
pub mod app;
pub mod ats;
pub mod background;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod links;
pub mod metrics;
pub mod relay;
pub mod store;
pub mod webhooks;

pub use app::{start, start_on, start_with_notify, RunningServer};
pub use config::Config;
