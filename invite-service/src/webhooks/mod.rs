//! The HTTP edge of webhook delivery, in the Standard Webhooks format: where a webhook may go
//! (`destination`: public addresses only, unless the operator allows a network, checked again
//! on every connection), how one attempt is sent and what came of it (`sender`), and when a
//! failed one is tried again (`schedule`). Signing secrets and their signatures are domain
//! words (`domain::webhook_secret`); what is due and what was recorded is the store's.
pub mod destination;
pub mod schedule;
pub mod sender;

pub use destination::{resolve_checked, DestinationError, DestinationPolicy, Restricted};
pub use schedule::{RetrySchedule, ScheduleError};
pub use sender::{AttemptResult, Sender, WebhookHeaders};
