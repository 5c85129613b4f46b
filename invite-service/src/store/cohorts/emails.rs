//! The cohort's second stage: its members' emails, their counts, and what a new outcome does.

use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::lock_if_any;
use crate::{
    db::entities::{cohort, cohort_member},
    domain::{CohortState, DeliveryStatus, MemberDelivery},
    error::ServiceError,
    store::now,
};

/// A cohort's members by the state of their email.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmailCounts {
    pub queued: i32,
    pub deferred: i32,
    pub sent: i32,
    pub failed: i32,
    pub suppressed: i32,
}

impl EmailCounts {
    pub fn of(cohort: &cohort::Model) -> Self {
        Self {
            queued: cohort.emails_queued,
            deferred: cohort.emails_deferred,
            sent: cohort.emails_sent,
            failed: cohort.emails_failed,
            suppressed: cohort.emails_suppressed,
        }
    }

    fn slot(&mut self, status: DeliveryStatus) -> Option<&mut i32> {
        match status {
            DeliveryStatus::Queued => Some(&mut self.queued),
            DeliveryStatus::Deferred => Some(&mut self.deferred),
            DeliveryStatus::Sent => Some(&mut self.sent),
            DeliveryStatus::Failed => Some(&mut self.failed),
            DeliveryStatus::Suppressed => Some(&mut self.suppressed),
            DeliveryStatus::NotRequested => None,
        }
    }

    /// The counts after `count` members' emails went from `from` (none: no email yet) to `to`.
    pub(super) fn moved(
        mut self,
        from: Option<DeliveryStatus>,
        to: DeliveryStatus,
        count: i32,
    ) -> Self {
        if let Some(slot) = from.and_then(|from| self.slot(from)) {
            *slot -= count;
        }
        if let Some(slot) = self.slot(to) {
            *slot += count;
        }
        self
    }

    /// Emails without a final outcome yet.
    pub fn in_flight(&self) -> i32 {
        self.queued + self.deferred
    }

    /// Emails that did not reach their member, which a retry sends again.
    pub fn undelivered(&self) -> i32 {
        self.failed + self.suppressed
    }

    pub(super) fn write(
        self,
        update: sea_orm::UpdateMany<cohort::Entity>,
    ) -> sea_orm::UpdateMany<cohort::Entity> {
        update
            .col_expr(cohort::Column::EmailsQueued, Expr::value(self.queued))
            .col_expr(cohort::Column::EmailsDeferred, Expr::value(self.deferred))
            .col_expr(cohort::Column::EmailsSent, Expr::value(self.sent))
            .col_expr(cohort::Column::EmailsFailed, Expr::value(self.failed))
            .col_expr(
                cohort::Column::EmailsSuppressed,
                Expr::value(self.suppressed),
            )
    }
}

/// Where a cohort is once its members and emails are where they are now.
pub(super) fn state_for(members_pending: bool, emails: &EmailCounts) -> CohortState {
    if members_pending {
        CohortState::Running
    } else if emails.in_flight() > 0 {
        CohortState::Sending
    } else {
        CohortState::Done
    }
}

/// A cohort member's email has a new state (from the relay, in the transaction that records
/// it on the outbox row and the invite): the member gets it, with the next outcome number, and
/// the cohort its counts; the last final outcome of a `sending` cohort makes it `done`.
pub(crate) async fn record_email(
    txn: &sea_orm::DatabaseTransaction,
    cohort_id: Uuid,
    row: i32,
    status: DeliveryStatus,
    error: &str,
) -> Result<(), ServiceError> {
    let Some(cohort) = lock_if_any(txn, cohort_id).await? else {
        return Ok(());
    };
    let Some(member) = cohort_member::Entity::find_by_id((cohort_id, row))
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let before = member.delivery_status.status();
    if before == Some(status) {
        return Ok(());
    }
    let at = now();
    let sequence = cohort.last_sequence + 1;
    cohort_member::Entity::update_many()
        .col_expr(
            cohort_member::Column::DeliveryStatus,
            Expr::value(MemberDelivery::Tracked(status)),
        )
        .col_expr(cohort_member::Column::DeliveryError, Expr::value(error))
        .col_expr(cohort_member::Column::Sequence, Expr::value(sequence))
        .col_expr(cohort_member::Column::UpdatedAt, Expr::value(at))
        .filter(cohort_member::Column::CohortId.eq(cohort_id))
        .filter(cohort_member::Column::Row.eq(row))
        .exec(txn)
        .await?;
    let emails = EmailCounts::of(&cohort).moved(before, status, 1);
    let was = cohort.state;
    let state = match was {
        // Members still wait for their invites: the worker decides when that stage ends.
        CohortState::Running => CohortState::Running,
        CohortState::Sending | CohortState::Done => state_for(false, &emails),
    };
    let mut update = emails
        .write(cohort::Entity::update_many())
        .col_expr(cohort::Column::LastSequence, Expr::value(sequence))
        .col_expr(cohort::Column::State, Expr::value(state))
        .filter(cohort::Column::Id.eq(cohort_id));
    let finished = state == CohortState::Done && was != CohortState::Done;
    if finished {
        update = update.col_expr(cohort::Column::FinishedAt, Expr::value(at));
    }
    update.exec(txn).await?;
    if finished {
        crate::store::webhooks::emit::cohort_completed(txn, cohort_id).await?;
    }
    Ok(())
}
