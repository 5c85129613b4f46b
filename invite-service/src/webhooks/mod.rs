//! The HTTP edge of webhook delivery, in the Standard Webhooks format: where a webhook may go
//! (`destination`: public addresses only, unless the operator allows a network, checked again
//! on every connection), how one attempt is sent and what came of it (`sender`), and when a
//! failed one is tried again (`schedule`). Signing secrets and their signatures are domain
//! words (`domain::webhook_secret`); what is due and what was recorded is the store's.
pub mod destination;
pub mod schedule;
pub mod sender;
mod worker;

pub use destination::{resolve_checked, DestinationError, DestinationPolicy, Restricted};
pub use schedule::{RetrySchedule, ScheduleError};
pub use sender::{AttemptResult, Sender, WebhookHeaders};
pub use worker::{Deliverer, Round};

/// The `webhook-id` of a message: `msg_` and its id, as receivers deduplicate by it.
pub fn message_id(id: uuid::Uuid) -> String {
    format!("msg_{}", id.simple())
}

/// A message id as `message_id` shows it (a bare UUID is taken too).
pub fn parse_message_id(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(text.strip_prefix("msg_").unwrap_or(text)).ok()
}
