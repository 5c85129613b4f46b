//! Bulk invites: a list is checked (the preview), stored as a cohort of members in one
//! transaction, and turned into invites in the background, a chunk per transaction. A member's
//! outcome and its invite are written in the same transaction, so a restart in the middle loses
//! nothing and invites nobody twice.
//!
//! A cohort that sends email has a second stage: each member's email is an outbox row that
//! names the member, and the relay writes its outcome to the member, with the cohort's counts,
//! in the transaction that writes it to the invite (`record_email`). The cohort is `sending`
//! until every member's email has a final outcome (sent, failed, suppressed), then `done`.
//!
//! Every writer of a cohort's members takes the cohort's row first (`lock`): outcome numbers
//! and counts are read and written under it, so the cohort worker, the relay and a retry never
//! hand out one number twice or lose a count, and never wait on each other in a cycle.
//!
//! The module follows a cohort's life: `preview` checks the list, `create` stores it, `worker`
//! makes the invites a chunk at a time (their rows built in `invite_rows`), `emails` follows
//! their emails, `retry` puts failed members back in line, and `read` answers questions.
mod create;
mod emails;
mod invite_rows;
mod preview;
mod read;
mod retry;
mod worker;

use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use create::create;
pub(crate) use emails::record_email;
pub use emails::EmailCounts;
pub use preview::{preview, Preview, PreviewRow, RowOutcome};
pub use read::{list, members, outcomes_after, MemberView};
pub use retry::retry_failures;
pub use worker::process_next_chunk;

use super::Caller;
use crate::{db::entities::cohort, error::ServiceError};

pub use crate::db::values::{CohortOptions, SubmittedPolicy};

/// The cohort's row, locked until the transaction ends (PostgreSQL locks the row a no-op
/// UPDATE touches; SQLite has one writer anyway), then read.
async fn lock(
    txn: &sea_orm::DatabaseTransaction,
    cohort_id: Uuid,
) -> Result<cohort::Model, ServiceError> {
    lock_if_any(txn, cohort_id)
        .await?
        .ok_or(ServiceError::NotFound("cohort"))
}

async fn lock_if_any(
    txn: &sea_orm::DatabaseTransaction,
    cohort_id: Uuid,
) -> Result<Option<cohort::Model>, ServiceError> {
    cohort::Entity::update_many()
        .col_expr(
            cohort::Column::LastSequence,
            Expr::col(cohort::Column::LastSequence).into(),
        )
        .filter(cohort::Column::Id.eq(cohort_id))
        .exec(txn)
        .await?;
    Ok(cohort::Entity::find_by_id(cohort_id).one(txn).await?)
}

/// Whether the cohort emails its invites (and so has a second stage).
pub fn sends_email(cohort: &cohort::Model) -> bool {
    cohort.options.send_email
}

/// The caller's cohort; another organization's answers like a missing one.
pub async fn get(
    store: &super::Store,
    caller: &Caller,
    id: Uuid,
) -> Result<cohort::Model, ServiceError> {
    find(&store.read, caller, id).await
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<cohort::Model, ServiceError> {
    cohort::Entity::find_by_id(id)
        .filter(cohort::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("cohort"))
}
