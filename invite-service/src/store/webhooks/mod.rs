//! Webhooks in the store: endpoints (`endpoints.rs`), the messages written in the transaction
//! of the change they tell of (`emit.rs`, the webhook outbox), and their delivery to each
//! endpoint: what is due, what each attempt found, replays (`delivery.rs`), and forgetting
//! them after the retention period (`retention.rs`). The HTTP side is `crate::webhooks`.
pub mod delivery;
pub(crate) mod emit;
pub mod endpoints;
mod payload;
pub mod retention;

pub use delivery::{Attempted, Due, NextStep};
pub use endpoints::{CreatedEndpoint, EndpointChanges, NewEndpoint, RotatedSecret};
