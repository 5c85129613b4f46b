//! Invites: one candidate's secret link to one job, and everything that happens to it.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    candidates::{self, CandidateInput},
    idempotency::{Idempotency, RequestId},
    jobs, now,
    outbox::{self, NewOutbox, TeamEvent},
    paging::Page,
    Caller, Store,
};
use crate::{
    db::entities::{invite, invite_event, invite_label, member},
    domain::{secret, DeliveryStatus, EventKind, InviteStatus, JobState},
    error::ServiceError,
};

/// When a new invite's link stops working.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The job's default.
    JobDefault,
    At(DateTime<Utc>),
}

/// Who a new invite is for.
#[derive(Clone, Debug)]
pub enum InviteeInput {
    /// Named in the request. The email is lower-cased and validated; it may be empty when a
    /// name is given, and then no candidate row is made.
    Named { email: String, name: String },
    /// An existing candidate of the caller's organization: its email and name are used.
    Candidate(Uuid),
}

#[derive(Clone, Debug)]
pub struct NewInvite {
    pub job_id: Uuid,
    pub invitee: InviteeInput,
    /// The caller's own id for the invite, validated; unique among live invites.
    pub external_id: Option<String>,
    pub send_email: bool,
    /// `None`: the job's default message.
    pub message: Option<String>,
    pub expiry: Expiry,
    pub locked: bool,
    pub assignee_ids: Vec<Uuid>,
    pub labels: Vec<String>,
    /// `None`: the job's default.
    pub time_limit_minutes: Option<i32>,
    pub source: String,
    /// The member who invites (told when the candidate starts or submits, if there are no
    /// assignees). `None`: the calling key's owner, if it has one.
    pub inviter_member_id: Option<Uuid>,
    /// One reminder this long after creation, if the candidate has not started by then.
    pub remind_after: Option<chrono::Duration>,
}

/// An invite together with its link: only creates and reissues return one.
#[derive(Clone, Debug)]
pub struct InviteWithLink {
    pub invite: invite::Model,
    pub link_url: String,
}

#[derive(Clone, Debug, Default)]
pub struct InviteFilter {
    pub job_id: Option<Uuid>,
    pub status: Option<InviteStatus>,
    pub label: Option<String>,
    pub candidate_email: Option<String>,
    pub external_id: Option<String>,
}

pub async fn create(
    store: &Store,
    caller: &Caller,
    new: NewInvite,
    request: Option<RequestId>,
) -> Result<InviteWithLink, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "CreateInvite", &r));
    // A lost race on a unique index (the same request id, or a new candidate's email) is
    // resolved by running again: the second run sees the winner's rows. So is an external id
    // found taken by a call with a request id: the holder may be this very request's first
    // call, committed after this one looked for it, and the second run replays its answer.
    match try_create(store, caller, &new, idempotency.as_ref()).await {
        Err(err)
            if matches!(err, ServiceError::UniqueViolation(_))
                || (idempotency.is_some()
                    && matches!(err, ServiceError::ExternalIdInUse { .. })) =>
        {
            try_create(store, caller, &new, idempotency.as_ref()).await
        }
        other => other,
    }
}

async fn try_create(
    store: &Store,
    caller: &Caller,
    new: &NewInvite,
    idempotency: Option<&Idempotency>,
) -> Result<InviteWithLink, ServiceError> {
    let txn = store.write.begin().await?;
    if let Some(idempotency) = idempotency {
        if let Some(replay) = idempotency.replay(&txn).await? {
            let invite = find(&txn, caller, replay.resource_id).await?;
            return Ok(InviteWithLink {
                link_url: store.link_url(invite.id, invite.link_generation),
                invite,
            });
        }
    }

    let job = jobs::find(&txn, caller, new.job_id).await?;
    if job.state != JobState::Open.as_str() {
        return Err(ServiceError::precondition(
            "JOB_CLOSED",
            "the job is closed and takes no new invites; reopen it first",
        ));
    }
    let inviter = new.inviter_member_id.or(caller.owner_member_id);
    let mut members_named = new.assignee_ids.clone();
    members_named.extend(new.inviter_member_id);
    check_members(&txn, caller, &members_named, new.assignee_ids.len()).await?;

    let (candidate_id, candidate_email, candidate_name) = match &new.invitee {
        InviteeInput::Named { email, name } if email.is_empty() => {
            (None, String::new(), name.clone())
        }
        InviteeInput::Named { email, name } => {
            let candidate = candidates::upsert_in(
                &txn,
                caller,
                &CandidateInput {
                    email: email.clone(),
                    name: name.clone(),
                    external_id: String::new(),
                },
            )
            .await?;
            (Some(candidate.id), email.clone(), name.clone())
        }
        InviteeInput::Candidate(id) => {
            let candidate = candidates::find(&txn, caller, *id).await?;
            (Some(candidate.id), candidate.email, candidate.name)
        }
    };
    if let Some(external_id) = &new.external_id {
        free_external_id(&txn, caller, external_id).await?;
    }

    let at = now();
    let expires_at = match new.expiry {
        Expiry::At(at) => Some(at),
        Expiry::JobDefault if job.default_expiry_days > 0 => {
            Some(at + chrono::Duration::days(i64::from(job.default_expiry_days)))
        }
        Expiry::JobDefault => None,
    };
    // A link that is not emailed is handed straight back to be shared: that is its sending.
    let (status, delivery) = if new.send_email {
        (InviteStatus::Created, DeliveryStatus::Queued)
    } else {
        (InviteStatus::Sent, DeliveryStatus::NotRequested)
    };
    let id = Uuid::now_v7();
    let token = store.link_key.token(id, 0);
    let invite = invite::ActiveModel {
        id: Set(id),
        org_id: Set(caller.org_id),
        job_id: Set(job.id),
        candidate_id: Set(candidate_id),
        candidate_email: Set(candidate_email),
        candidate_name: Set(candidate_name),
        token_hash: Set(secret::link_token_hash(&token)),
        status: Set(status.as_str().into()),
        delivery_status: Set(delivery.as_str().into()),
        locked: Set(new.locked),
        assignee_ids: Set(json_list(new.assignee_ids.iter().map(Uuid::to_string))),
        labels: Set(json_list(new.labels.iter().cloned())),
        message: Set(new
            .message
            .clone()
            .unwrap_or_else(|| job.default_message.clone())),
        time_limit_minutes: Set(new
            .time_limit_minutes
            .unwrap_or(job.default_time_limit_minutes)),
        expires_at: Set(expires_at),
        open_count: Set(0),
        send_count: Set(0),
        source: Set(new.source.clone()),
        created_by_key_id: Set(Some(caller.key_id)),
        created_at: Set(at),
        updated_at: Set(at),
        first_opened_at: Set(None),
        started_at: Set(None),
        submitted_at: Set(None),
        link_generation: Set(0),
        inviter_member_id: Set(inviter),
        last_sent_at: Set(None),
        cohort_id: Set(None),
        remind_at: Set(new.remind_after.map(|after| at + after)),
        reminded_at: Set(None),
        external_id: Set(new.external_id.clone()),
    }
    .insert(&txn)
    .await?;
    if !new.labels.is_empty() {
        invite_label::Entity::insert_many(new.labels.iter().map(|label| {
            invite_label::ActiveModel {
                invite_id: Set(invite.id),
                label: Set(label.clone()),
                org_id: Set(caller.org_id),
            }
        }))
        .exec(&txn)
        .await?;
    }
    let detail = if new.send_email {
        "email queued"
    } else {
        "link returned to be shared"
    };
    record_event(&txn, &invite, EventKind::Created, &caller.actor(), detail).await?;
    if new.send_email {
        outbox::insert(
            &txn,
            &invite,
            &[NewOutbox::to_candidate(&invite, outbox::INVITE, 0)],
        )
        .await?;
    }
    if let Some(idempotency) = idempotency {
        // The link is derived again on a retry: nothing secret to keep.
        idempotency.record(&txn, invite.id, None).await?;
    }
    txn.commit().await?;
    Ok(InviteWithLink {
        link_url: store.config.link_url(&token),
        invite,
    })
}

/// Refuses an external id that a live invite of the organization carries. A holder whose
/// expiry has passed (the sweep has not reached it yet) is expired here, freeing the id, as
/// its link already answers like a dead one. The unique index `invites_live_external_id`
/// backs this check against concurrent creates: the loser's insert fails, and `create` runs
/// again to land here.
async fn free_external_id(
    txn: &DatabaseTransaction,
    caller: &Caller,
    external_id: &str,
) -> Result<(), ServiceError> {
    let holder = invite::Entity::find()
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .filter(invite::Column::ExternalId.eq(external_id))
        .filter(invite::Column::Status.is_not_in(DEAD.iter().map(|s| s.as_str())))
        .one(txn)
        .await?;
    let Some(holder) = holder else {
        return Ok(());
    };
    if holder.expires_at.is_some_and(|at| at <= now()) {
        let expired = apply(txn, &holder, expiry_transition(), "system").await?;
        if expired.is_some() {
            return Ok(());
        }
    }
    Err(ServiceError::ExternalIdInUse {
        invite_id: holder.id,
    })
}

/// The states that free an invite's external id; the invite never leaves them.
const DEAD: &[InviteStatus] = &[InviteStatus::Revoked, InviteStatus::Expired];

fn expiry_transition() -> Transition<'static> {
    Transition {
        from: InviteStatus::LIVE,
        locked: None,
        changes: vec![(
            invite::Column::Status,
            Expr::value(InviteStatus::Expired.as_str()),
        )],
        event: EventKind::Expired,
        detail: String::new(),
        outbox: Vec::new(),
    }
}

fn json_list(items: impl Iterator<Item = String>) -> String {
    serde_json::Value::Array(items.map(serde_json::Value::String).collect()).to_string()
}

/// Reads back a list stored by `json_list`.
pub fn parse_json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Every named member must be the caller's organization's: the first `assignees` ids are
/// `assignee_ids[i]`, the one after them the inviter.
async fn check_members(
    db: &impl ConnectionTrait,
    caller: &Caller,
    member_ids: &[Uuid],
    assignees: usize,
) -> Result<(), ServiceError> {
    if member_ids.is_empty() {
        return Ok(());
    }
    let found: Vec<Uuid> = member::Entity::find()
        .select_only()
        .column(member::Column::Id)
        .filter(member::Column::OrgId.eq(caller.org_id))
        .filter(member::Column::Id.is_in(member_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let missing: Vec<_> = member_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !found.contains(id))
        .map(|(i, _)| crate::error::FieldViolation {
            field: if i < assignees {
                format!("assignee_ids[{i}]")
            } else {
                "inviter_id".to_string()
            },
            description: "is not a member of this organization".into(),
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::InvalidArgument(missing))
    }
}

pub async fn get(store: &Store, caller: &Caller, id: Uuid) -> Result<invite::Model, ServiceError> {
    find(&store.read, caller, id).await
}

/// The invite carrying an external id: the live one if any (there is at most one), otherwise
/// the newest dead one.
pub async fn lookup(
    store: &Store,
    caller: &Caller,
    external_id: &str,
) -> Result<invite::Model, ServiceError> {
    let carriers = || {
        invite::Entity::find()
            .filter(invite::Column::OrgId.eq(caller.org_id))
            .filter(invite::Column::ExternalId.eq(external_id))
    };
    let live = carriers()
        .filter(invite::Column::Status.is_not_in(DEAD.iter().map(|s| s.as_str())))
        .one(&store.read)
        .await?;
    if let Some(live) = live {
        return Ok(live);
    }
    carriers()
        .order_by_desc(invite::Column::Id)
        .one(&store.read)
        .await?
        .ok_or(ServiceError::NotFound("invite"))
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    invite::Entity::find_by_id(id)
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("invite"))
}

pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: &InviteFilter,
    page: &Page,
) -> Result<(Vec<invite::Model>, String), ServiceError> {
    let mut query = invite::Entity::find()
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .order_by_desc(invite::Column::Id)
        .limit(page.fetch_limit());
    if let Some(job_id) = filter.job_id {
        query = query.filter(invite::Column::JobId.eq(job_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(invite::Column::Status.eq(status.as_str()));
    }
    if let Some(email) = &filter.candidate_email {
        query = query.filter(invite::Column::CandidateEmail.eq(email.as_str()));
    }
    if let Some(external_id) = &filter.external_id {
        query = query.filter(invite::Column::ExternalId.eq(external_id.as_str()));
    }
    if let Some(label) = &filter.label {
        let labelled = sea_orm::sea_query::Query::select()
            .column(invite_label::Column::InviteId)
            .from(invite_label::Entity)
            .and_where(Expr::col(invite_label::Column::OrgId).eq(caller.org_id))
            .and_where(Expr::col(invite_label::Column::Label).eq(label.as_str()))
            .to_owned();
        query = query.filter(invite::Column::Id.in_subquery(labelled));
    }
    if let Some(after) = page.after {
        query = query.filter(invite::Column::Id.lt(after));
    }
    let mut rows = query.all(&store.read).await?;
    let next = page.finish(&mut rows, |i| i.id);
    Ok((rows, next))
}

pub async fn list_events(
    store: &Store,
    caller: &Caller,
    invite_id: Uuid,
    page: &Page,
) -> Result<(Vec<invite_event::Model>, String), ServiceError> {
    find(&store.read, caller, invite_id).await?;
    let mut query = invite_event::Entity::find()
        .filter(invite_event::Column::OrgId.eq(caller.org_id))
        .filter(invite_event::Column::InviteId.eq(invite_id))
        .order_by_asc(invite_event::Column::Id)
        .limit(page.fetch_limit());
    if let Some(after) = page.after {
        query = query.filter(invite_event::Column::Id.gt(after));
    }
    let mut rows = query.all(&store.read).await?;
    let next = page.finish(&mut rows, |e| e.id);
    Ok((rows, next))
}

pub(crate) async fn record_event(
    db: &impl ConnectionTrait,
    invite: &invite::Model,
    kind: EventKind,
    actor: &str,
    detail: &str,
) -> Result<(), ServiceError> {
    invite_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(invite.org_id),
        invite_id: Set(invite.id),
        kind: Set(kind.as_str().into()),
        actor: Set(actor.into()),
        detail: Set(detail.into()),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// One guarded change of an invite: applied only if the invite is in one of `from` (and, when
/// given, its lock is as expected), with its event, in one transaction. The guard sits in the
/// UPDATE's WHERE, so concurrent callers cannot both pass it.
pub(crate) struct Transition<'a> {
    pub from: &'a [InviteStatus],
    pub locked: Option<bool>,
    pub changes: Vec<(invite::Column, sea_orm::sea_query::SimpleExpr)>,
    pub event: EventKind,
    pub detail: String,
    /// Messages the change sends, written in its transaction.
    pub outbox: Vec<NewOutbox>,
}

/// Applies the transition; `Ok(None)` when the guard did not hold.
pub(crate) async fn apply(
    txn: &DatabaseTransaction,
    invite: &invite::Model,
    transition: Transition<'_>,
    actor: &str,
) -> Result<Option<invite::Model>, ServiceError> {
    let mut update = invite::Entity::update_many()
        .col_expr(invite::Column::UpdatedAt, Expr::value(now()))
        .filter(invite::Column::Id.eq(invite.id))
        .filter(invite::Column::OrgId.eq(invite.org_id))
        .filter(invite::Column::Status.is_in(transition.from.iter().map(|s| s.as_str())));
    if let Some(locked) = transition.locked {
        update = update.filter(invite::Column::Locked.eq(locked));
    }
    for (column, value) in transition.changes {
        update = update.col_expr(column, value);
    }
    if update.exec(txn).await?.rows_affected == 0 {
        return Ok(None);
    }
    record_event(txn, invite, transition.event, actor, &transition.detail).await?;
    let updated = invite::Entity::find_by_id(invite.id)
        .one(txn)
        .await?
        .ok_or(ServiceError::NotFound("invite"))?;
    outbox::insert(txn, &updated, &transition.outbox).await?;
    Ok(Some(updated))
}

/// Runs an admin-side transition on the caller's invite, or says why it cannot happen.
///
/// The invite is read locked inside the transaction (`FOR UPDATE` on PostgreSQL; SQLite has one
/// writer), so the answer rests on its state as this change finds it, even when concurrent calls
/// race: if `done` already holds, the transition has happened (a retry, or a racing twin won),
/// and the invite is returned as it is with nothing written; if its state is one the transition
/// cannot leave from, the call is refused; otherwise it is applied.
async fn change(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    done: fn(&invite::Model) -> bool,
    transition: impl FnOnce(&invite::Model) -> Result<Transition<'static>, ServiceError>,
) -> Result<invite::Model, ServiceError> {
    let txn = store.write.begin().await?;
    let invite = invite::Entity::find_by_id(id)
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("invite"))?;
    if done(&invite) {
        // Nothing to write; let the next caller waiting on the lock go at once.
        txn.rollback().await?;
        return Ok(invite);
    }
    let transition = transition(&invite)?;
    let (from, locked) = (transition.from, transition.locked);
    match apply(&txn, &invite, transition, &caller.actor()).await? {
        Some(updated) => {
            txn.commit().await?;
            Ok(updated)
        }
        None => Err(refusal(&invite, from, locked)),
    }
}

/// For transitions that change something every time they are asked (resend, reissue).
fn never_done(_: &invite::Model) -> bool {
    false
}

fn status_of(invite: &invite::Model) -> Option<InviteStatus> {
    InviteStatus::parse(&invite.status)
}

/// Why the transition cannot leave the invite's state: the state first, the lock only when the
/// state would do.
fn refusal(invite: &invite::Model, from: &[InviteStatus], locked: Option<bool>) -> ServiceError {
    let status = invite.status.as_str();
    if status_of(invite).is_some_and(|s| from.contains(&s)) {
        if let Some(locked) = locked {
            if invite.locked != locked {
                return if invite.locked {
                    ServiceError::precondition("INVITE_LOCKED", "the invite is locked")
                } else {
                    ServiceError::precondition("INVITE_NOT_LOCKED", "the invite is not locked")
                };
            }
        }
    }
    let allowed: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    ServiceError::precondition(
        "INVALID_INVITE_STATE",
        format!(
            "the invite is {status}; this needs it to be {}",
            allowed.join(" or ")
        ),
    )
}

/// Guards that need the invite itself, beyond its status.
fn require(condition: bool, reason: &'static str, message: &str) -> Result<(), ServiceError> {
    if condition {
        Ok(())
    } else {
        Err(ServiceError::precondition(reason, message))
    }
}

pub async fn resend(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    change(store, caller, id, never_done, |invite| {
        require(
            !invite.candidate_email.is_empty(),
            "INVITE_HAS_NO_EMAIL",
            "the invite has no candidate email to send to",
        )?;
        Ok(Transition {
            from: &[
                InviteStatus::Created,
                InviteStatus::Sent,
                InviteStatus::Opened,
            ],
            locked: None,
            changes: vec![(
                invite::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Queued.as_str()),
            )],
            event: EventKind::Resent,
            detail: "email queued".into(),
            outbox: vec![NewOutbox::to_candidate(
                invite,
                outbox::RESEND,
                invite.link_generation,
            )],
        })
    })
    .await
}

/// Kills the link for good. Revoking a revoked invite answers with it as it is; the first
/// reason stays in the audit trail.
pub async fn revoke(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    reason: String,
) -> Result<invite::Model, ServiceError> {
    let revoked = |invite: &invite::Model| status_of(invite) == Some(InviteStatus::Revoked);
    change(store, caller, id, revoked, |_| {
        Ok(Transition {
            from: &[
                InviteStatus::Created,
                InviteStatus::Sent,
                InviteStatus::Opened,
                InviteStatus::Started,
                InviteStatus::Submitted,
            ],
            locked: None,
            changes: vec![(
                invite::Column::Status,
                Expr::value(InviteStatus::Revoked.as_str()),
            )],
            event: EventKind::Revoked,
            detail: reason,
            outbox: Vec::new(),
        })
    })
    .await
}

/// Takes a submitted invite back to `started`. An invite already started answers with it as it
/// is, whether an earlier reopen put it there or it was never submitted: either way the candidate
/// can work on it now, which is what a reopen asks for.
pub async fn reopen(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    let started = |invite: &invite::Model| status_of(invite) == Some(InviteStatus::Started);
    change(store, caller, id, started, |_| {
        Ok(reopen_transition(String::new(), Vec::new()))
    })
    .await
}

/// A submitted invite back to `started` on the same link.
pub(crate) fn reopen_transition(detail: String, outbox: Vec<NewOutbox>) -> Transition<'static> {
    Transition {
        from: &[InviteStatus::Submitted],
        locked: None,
        changes: vec![
            (
                invite::Column::Status,
                Expr::value(InviteStatus::Started.as_str()),
            ),
            (
                invite::Column::SubmittedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
        ],
        event: EventKind::Reopened,
        detail,
        outbox,
    }
}

/// Lets a locked live invite be started. A live invite that is not locked (any more) answers
/// with it as it is.
pub async fn unlock(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    let unlocked_and_live = |invite: &invite::Model| {
        !invite.locked && status_of(invite).is_some_and(|s| InviteStatus::LIVE.contains(&s))
    };
    change(store, caller, id, unlocked_and_live, |_| {
        Ok(Transition {
            from: InviteStatus::LIVE,
            locked: Some(true),
            changes: vec![(invite::Column::Locked, Expr::value(false))],
            event: EventKind::Unlocked,
            detail: String::new(),
            outbox: Vec::new(),
        })
    })
    .await
}

/// Marks the invite submitted. Repeating it is harmless, at once or later: assessment platforms
/// retry.
pub async fn complete(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    let submitted = |invite: &invite::Model| status_of(invite) == Some(InviteStatus::Submitted);
    let invite = find(&store.read, caller, id).await?;
    if submitted(&invite) {
        return Ok(invite);
    }
    let team = outbox::team_messages(&store.read, &invite, TeamEvent::Submitted).await?;
    change(store, caller, id, submitted, |_| {
        Ok(Transition {
            from: &[InviteStatus::Started],
            locked: None,
            changes: vec![
                (
                    invite::Column::Status,
                    Expr::value(InviteStatus::Submitted.as_str()),
                ),
                (invite::Column::SubmittedAt, Expr::value(now())),
            ],
            event: EventKind::Submitted,
            detail: String::new(),
            outbox: team,
        })
    })
    .await
}

/// Kills the current link and makes a new one for the same invite.
pub async fn reissue(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    send_email: bool,
) -> Result<InviteWithLink, ServiceError> {
    let invite = change(store, caller, id, never_done, |invite| {
        if send_email {
            require(
                !invite.candidate_email.is_empty(),
                "INVITE_HAS_NO_EMAIL",
                "the invite has no candidate email to send to",
            )?;
        }
        let generation = invite.link_generation + 1;
        let token = store.link_key.token(invite.id, generation);
        let mut changes = vec![
            (
                invite::Column::TokenHash,
                Expr::value(secret::link_token_hash(&token)),
            ),
            (invite::Column::LinkGeneration, Expr::value(generation)),
        ];
        let outbox = if send_email {
            vec![NewOutbox::to_candidate(invite, outbox::INVITE, generation)]
        } else {
            Vec::new()
        };
        if send_email {
            changes.push((
                invite::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Queued.as_str()),
            ));
        }
        Ok(Transition {
            from: InviteStatus::LIVE,
            locked: None,
            changes,
            event: EventKind::Reissued,
            detail: if send_email {
                "new link, email queued".into()
            } else {
                "new link returned to be shared".into()
            },
            outbox,
        })
    })
    .await?;
    Ok(InviteWithLink {
        link_url: store.link_url(invite.id, invite.link_generation),
        invite,
    })
}

/// A transaction for the link pages, which change invites on the candidate's behalf.
pub(crate) async fn begin(store: &Store) -> Result<DatabaseTransaction, ServiceError> {
    Ok(store.write.begin().await?)
}
