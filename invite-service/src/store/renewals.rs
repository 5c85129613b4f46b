//! A way back from an expired link: the candidate asks for a new one from the dead link's page,
//! and, when the address they give is the invite's, the invite comes back with a new link and
//! expiry, emailed to them; or, when its job wants it (or an ATS owns the invite through its
//! external id, or the job is closed), its team is asked to approve it (`renew`). Whatever
//! happens, the asker is told the same thing.
use std::net::IpAddr;

use chrono::Duration;
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{
    now,
    outbox::{self, NewOutbox, TeamEvent},
    public::Limits,
    transitions::{apply, begin, change, insert_event, Transition},
    Caller, Store,
};
use crate::{
    db::entities::{invite, job},
    domain::{
        email::Email, secret, DeliveryStatus, EventKind, InviteStatus, JobState, MessageKind,
    },
    error::ServiceError,
};

const CANDIDATE: &str = "candidate";
/// A renewed link lasts as long as the first one did, and at least this long.
const SHORTEST_RENEWAL: Duration = Duration::days(1);

/// What a candidate's request came to. The page says the same for every one; the log tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// The link is not an expired one, or the address is not its candidate's.
    Nothing,
    /// The new link is on its way to the candidate.
    Renewed(Uuid),
    /// The team was asked to approve.
    TeamAsked(Uuid),
}

/// The candidate behind an expired link asks for a new one, giving their address.
pub async fn ask(
    store: &Store,
    limits: &Limits,
    token: &str,
    email: &Email,
    client: Option<IpAddr>,
) -> Result<Asked, ServiceError> {
    let token_hash = secret::link_token_hash(token);
    limits
        .admit_renewal(&token_hash, client, email.as_str())
        .await?;
    let txn = begin(store).await?;
    let found = invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(token_hash))
        .lock_exclusive()
        .one(&txn)
        .await?;
    let Some(invite) = found else {
        return Ok(Asked::Nothing);
    };
    if invite.status != InviteStatus::Expired || invite.candidate_email != email.as_str() {
        return Ok(Asked::Nothing);
    }
    let job = job::Entity::find_by_id(invite.job_id)
        .filter(job::Column::OrgId.eq(invite.org_id))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("job"))?;
    let needs_team =
        job.renewal_needs_approval || job.state != JobState::Open || invite.external_id.is_some();
    let asked = if needs_team {
        let messages = outbox::team_messages(&txn, &invite, TeamEvent::RenewalRequested).await?;
        insert_event(
            &txn,
            &invite,
            EventKind::RenewalRequested,
            CANDIDATE,
            "asked for a new link from the expired one",
        )
        .await?;
        outbox::insert(&txn, &invite, &messages).await?;
        Asked::TeamAsked(invite.id)
    } else {
        let transition = revival(
            store,
            &invite,
            "the candidate asked for a new link from the expired one",
        );
        match apply(&txn, &invite, transition, CANDIDATE).await? {
            Some(_) => Asked::Renewed(invite.id),
            None => Asked::Nothing,
        }
    };
    txn.commit().await?;
    Ok(asked)
}

/// The team approves what the candidate asked for: the expired invite comes back with a new
/// link, emailed to the candidate.
pub async fn renew(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    let renewed = change(
        store,
        caller,
        id,
        |_| false,
        |invite| {
            if invite.candidate_email.is_empty() {
                return Err(ServiceError::precondition(
                    "INVITE_HAS_NO_EMAIL",
                    "the invite has no candidate email to send a new link to",
                ));
            }
            Ok(revival(store, invite, "new link and expiry, email queued"))
        },
    )
    .await;
    match renewed {
        // The external id names another live invite now.
        Err(ServiceError::UniqueViolation(_)) => Err(ServiceError::precondition(
            "EXTERNAL_ID_IN_USE",
            "another live invite has this invite's external id now",
        )),
        other => other,
    }
}

/// An expired invite back to where the candidate left it (created, opened or started), with
/// the next link generation, an expiry as far off as its first one was, and the invite email.
fn revival(store: &Store, invite: &invite::Model, detail: &str) -> Transition<'static> {
    let generation = invite.link_generation + 1;
    let token = store.link_key.token(invite.id, generation);
    let lasted = invite
        .expires_at
        .map(|expires_at| expires_at - invite.created_at)
        .unwrap_or(SHORTEST_RENEWAL);
    let status = if invite.started_at.is_some() {
        InviteStatus::Started
    } else if invite.first_opened_at.is_some() {
        InviteStatus::Opened
    } else {
        InviteStatus::Created
    };
    Transition {
        from: &[InviteStatus::Expired],
        locked: None,
        changes: vec![
            (
                invite::Column::TokenHash,
                Expr::value(secret::link_token_hash(&token)),
            ),
            (invite::Column::LinkGeneration, Expr::value(generation)),
            (invite::Column::Status, Expr::value(status)),
            (
                invite::Column::ExpiresAt,
                Expr::value(Some(now() + lasted.max(SHORTEST_RENEWAL))),
            ),
            (
                invite::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Queued),
            ),
        ],
        event: EventKind::Renewed,
        detail: detail.into(),
        outbox: vec![NewOutbox::to_candidate(
            invite,
            MessageKind::Invite,
            generation,
        )],
    }
}
