//! A way back from an expired link: the candidate asks for a new one from the dead link's page,
//! and, when the address they give is the invite's, the invite comes back with a new link and
//! expiry, emailed to them; or, when its job wants it (or the invite has an external id, or the
//! job is closed), its team is asked to approve it (`renew`). Invites an ATS made are its to
//! renew: nothing happens. Whatever happens, the asker is told the same thing, as fast: the
//! answer rests on one read, and the work is done after it (`carry_out`).
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{
    now,
    outbox::{self, NewOutbox, TeamEvent},
    public::Limits,
    transitions::{apply, begin, insert_event, Transition},
    Caller, Store,
};
use crate::{
    db::entities::{invite, invite_event, job},
    domain::{
        email::Email, secret, DeliveryStatus, EventKind, InviteSource, InviteStatus, JobState,
        MessageKind,
    },
    error::ServiceError,
};

const CANDIDATE: &str = "candidate";
/// A renewed link lasts as long as the one before did, and at least this long.
const SHORTEST_RENEWAL: Duration = Duration::days(1);

/// A request for a new link that is due: the expired invite it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Renewal {
    pub invite_id: Uuid,
}

/// What carrying a request out came to, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Nothing is due after all (a racing twin, or the invite changed since).
    Nothing,
    /// The new link is on its way to the candidate.
    Renewed,
    /// The team was asked to approve.
    TeamAsked,
    /// The team was asked already since the link expired.
    AlreadyAsked,
    /// Nobody in the organization can be asked.
    NobodyToAsk,
}

/// The candidate behind a dead link asks for a new one, giving their address. Takes one ask
/// from the link's, the client's and the address's allowance, then reads the link once (the
/// same read whatever the link): `Some` when it expired and the address is its candidate's.
pub async fn ask(
    store: &Store,
    limits: &Limits,
    token: &str,
    email: &Email,
    client: Option<IpAddr>,
) -> Result<Option<Renewal>, ServiceError> {
    let token_hash = secret::link_token_hash(token);
    limits
        .admit_renewal(&token_hash, client, email.as_str())
        .await?;
    let found = invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(token_hash))
        .one(&store.read)
        .await?;
    Ok(found
        .filter(|invite| {
            invite.status == InviteStatus::Expired
                && invite.candidate_email == email.as_str()
                && !is_ats_made(invite)
        })
        .map(|invite| Renewal {
            invite_id: invite.id,
        }))
}

/// Does what a due request asks, in one transaction: renews the invite, or asks its team once
/// per expiry.
pub async fn carry_out(store: &Store, renewal: Renewal) -> Result<Asked, ServiceError> {
    let txn = begin(store).await?;
    let found = invite::Entity::find_by_id(renewal.invite_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let Some(invite) = found.filter(|invite| invite.status == InviteStatus::Expired) else {
        return Ok(Asked::Nothing);
    };
    let job = job::Entity::find_by_id(invite.job_id)
        .filter(job::Column::OrgId.eq(invite.org_id))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("job"))?;
    let needs_team =
        job.renewal_needs_approval || job.state != JobState::Open || invite.external_id.is_some();
    let asked = if !needs_team {
        let transition = revival(
            store,
            &txn,
            &invite,
            "the candidate asked for a new link from the expired one",
        )
        .await?;
        match apply(&txn, &invite, transition, CANDIDATE).await? {
            Some(_) => Asked::Renewed,
            None => Asked::Nothing,
        }
    } else if latest_of(
        &txn,
        &invite,
        &[EventKind::Expired, EventKind::RenewalRequested],
    )
    .await?
    .is_some_and(|event| event.kind == EventKind::RenewalRequested)
    {
        Asked::AlreadyAsked
    } else {
        let messages = outbox::team_messages(&txn, &invite, TeamEvent::RenewalRequested).await?;
        if messages.is_empty() {
            // Not recorded: asked again once someone can be asked, it goes through.
            Asked::NobodyToAsk
        } else {
            insert_event(
                &txn,
                &invite,
                EventKind::RenewalRequested,
                CANDIDATE,
                "asked for a new link from the expired one",
            )
            .await?;
            outbox::insert(&txn, &invite, &messages).await?;
            Asked::TeamAsked
        }
    };
    txn.commit().await?;
    Ok(asked)
}

/// The team approves what the candidate asked for: the expired invite comes back with a new
/// link, emailed to the candidate. One renewed since it expired is returned as it is, so a
/// second approver's call is no error.
pub async fn renew(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    let txn = begin(store).await?;
    let invite = invite::Entity::find_by_id(id)
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("invite"))?;
    if is_ats_made(&invite) {
        return Err(ServiceError::precondition(
            "ATS_OWNED",
            "an applicant tracking system made this invite: start a new assessment there",
        ));
    }
    if invite.status != InviteStatus::Expired {
        let renewed = latest_of(&txn, &invite, &[EventKind::Expired, EventKind::Renewed])
            .await?
            .is_some_and(|event| event.kind == EventKind::Renewed);
        return match renewed {
            true => Ok(invite),
            false => Err(ServiceError::precondition(
                "INVALID_INVITE_STATE",
                format!(
                    "the invite is {}; this needs it to be expired",
                    invite.status
                ),
            )),
        };
    }
    if invite.candidate_email.is_empty() {
        return Err(ServiceError::precondition(
            "INVITE_HAS_NO_EMAIL",
            "the invite has no candidate email to send a new link to",
        ));
    }
    let transition = revival(store, &txn, &invite, "new link and expiry, email queued").await?;
    let renewed = match apply(&txn, &invite, transition, &caller.actor()).await {
        Ok(renewed) => renewed,
        // The external id names another live invite now.
        Err(ServiceError::UniqueViolation(_)) => {
            return Err(ServiceError::precondition(
                "EXTERNAL_ID_IN_USE",
                "another live invite has this invite's external id now",
            ))
        }
        Err(err) => return Err(err),
    };
    // Locked and expired above: the guard holds.
    let renewed = renewed.ok_or(ServiceError::NotFound("invite"))?;
    txn.commit().await?;
    Ok(renewed)
}

/// Greenhouse or Ashby made it: they renew by starting a new assessment, which they track.
fn is_ats_made(invite: &invite::Model) -> bool {
    matches!(
        invite.source,
        InviteSource::Greenhouse | InviteSource::Ashby
    )
}

/// The invite's newest event of these kinds.
async fn latest_of(
    db: &impl ConnectionTrait,
    invite: &invite::Model,
    kinds: &[EventKind],
) -> Result<Option<invite_event::Model>, ServiceError> {
    Ok(invite_event::Entity::find()
        .filter(invite_event::Column::InviteId.eq(invite.id))
        .filter(invite_event::Column::Kind.is_in(kinds.iter().copied()))
        .order_by_desc(invite_event::Column::CreatedAt)
        .order_by_desc(invite_event::Column::Id)
        .one(db)
        .await?)
}

/// An expired invite back to where the candidate left it (created, opened or started), with
/// the next link generation, an expiry as far off as the last one was from its start (its
/// creation or last renewal), a reminder as far into the new period as before, and the invite
/// email.
async fn revival(
    store: &Store,
    db: &impl ConnectionTrait,
    invite: &invite::Model,
    detail: &str,
) -> Result<Transition<'static>, ServiceError> {
    let began: DateTime<Utc> = latest_of(db, invite, &[EventKind::Renewed])
        .await?
        .map_or(invite.created_at, |event| event.created_at);
    let at = now();
    let lasted = invite
        .expires_at
        .map_or(SHORTEST_RENEWAL, |expires_at| expires_at - began)
        .max(SHORTEST_RENEWAL);
    let remind_at = invite
        .remind_at
        .filter(|_| invite.reminded_at.is_none())
        .map(|remind_at| at + (remind_at - began).max(Duration::zero()));
    let generation = invite.link_generation + 1;
    let token = store.link_key.token(invite.id, generation);
    let status = if invite.started_at.is_some() {
        InviteStatus::Started
    } else if invite.first_opened_at.is_some() {
        InviteStatus::Opened
    } else {
        InviteStatus::Created
    };
    let mut changes = vec![
        (
            invite::Column::TokenHash,
            Expr::value(secret::link_token_hash(&token)),
        ),
        (invite::Column::LinkGeneration, Expr::value(generation)),
        (invite::Column::Status, Expr::value(status)),
        (invite::Column::ExpiresAt, Expr::value(Some(at + lasted))),
        (invite::Column::RemindAt, Expr::value(remind_at)),
        (
            invite::Column::DeliveryStatus,
            Expr::value(DeliveryStatus::Queued),
        ),
    ];
    match super::invites::scheduled(invite) {
        // Still ahead: the calendar gets the new link.
        Some(schedule) if schedule.end() > at => {
            changes.push(super::invites::next_calendar_sequence(invite));
        }
        // Past: no calendar invitation for it goes out again.
        Some(_) => changes.extend([
            (
                invite::Column::ScheduledAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
            (
                invite::Column::DurationMinutes,
                Expr::value(Option::<i32>::None),
            ),
        ]),
        None => {}
    }
    Ok(Transition {
        from: &[InviteStatus::Expired],
        locked: None,
        changes,
        event: EventKind::Renewed,
        detail: detail.into(),
        outbox: vec![NewOutbox::to_candidate(
            invite,
            MessageKind::Invite,
            generation,
        )],
    })
}
