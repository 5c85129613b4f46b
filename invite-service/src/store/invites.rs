//! Invites: one candidate's secret link to one job, and everything that happens to it.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TryIntoModel,
};
use uuid::Uuid;

use super::{
    candidates,
    idempotency::{Idempotency, RequestId},
    invite_row::{NewInviteRow, Schedule},
    now,
    outbox::{self, NewOutbox, TeamEvent},
    paging::{Order, Page},
    transitions::{apply, change, Transition},
    webhooks::{self, emit::InviteHappening},
    writer, Caller, Store,
};
use crate::{
    db::entities::{
        ats_interview, candidate, idempotency_key, invite, invite_event, invite_label, job, member,
    },
    domain::{
        email::Email, ids::JobId, secret, webhooks::WebhookEvent, DeliveryStatus, EventKind,
        InviteSource, InviteStatus, JobState, MessageKind,
    },
    error::ServiceError,
};

pub use super::invite_row::Expiry;

/// Who a new invite is for.
#[derive(Clone, Debug)]
pub enum InviteeInput {
    /// Named in the request. Without an email (allowed when a name is given) no candidate row
    /// is made, and the invite stores empty text as before.
    Named { email: Option<Email>, name: String },
    /// An existing candidate of the caller's organization: its email and name are used.
    Candidate(Uuid),
}

#[derive(Clone, Debug)]
pub struct NewInvite {
    pub job_id: JobId,
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
    pub source: InviteSource,
    /// The member who invites (told when the candidate starts or submits, if there are no
    /// assignees). `None`: the calling key's owner, if it has one.
    pub inviter_member_id: Option<Uuid>,
    /// One reminder this long after creation, if the candidate has not started by then.
    pub remind_after: Option<chrono::Duration>,
    /// The applicant tracking system that asked for the invite, kept with it.
    pub ats: Option<super::ats::AtsReference>,
    /// The candidate's IANA time zone, checked; `None`: UTC.
    pub time_zone: Option<String>,
    /// The candidate's language, checked; `None`: the job's.
    pub locale: Option<String>,
    /// A live interview's time.
    pub schedule: Option<Schedule>,
}

/// An invite together with its link: only creates and reissues return one.
#[derive(Clone, Debug)]
pub struct InviteWithLink {
    pub invite: invite::Model,
    pub link_url: String,
}

#[derive(Clone, Debug, Default)]
pub struct InviteFilter {
    pub job_id: Option<JobId>,
    pub status: Option<InviteStatus>,
    pub label: Option<String>,
    pub candidate_email: Option<Email>,
    pub external_id: Option<String>,
}

pub async fn create(
    store: &Store,
    caller: &Caller,
    new: NewInvite,
    request: Option<RequestId>,
) -> Result<InviteWithLink, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "CreateInvite", &r));
    store
        .writer
        .create_invite(CreateRequest {
            caller: caller.clone(),
            new,
            idempotency,
            traceparent: beckon_common::telemetry::current_traceparent(),
        })
        .await
}

/// A CreateInvite on its way to the writer.
pub(crate) struct CreateRequest {
    pub caller: Caller,
    pub new: NewInvite,
    pub idempotency: Option<Idempotency>,
    /// The caller's trace: the writer task writes the email's outbox row outside the request.
    pub traceparent: Option<String>,
}

impl CreateRequest {
    /// A lost race on a unique index (the same request id, or a new candidate's email) is
    /// resolved by running again: the second run sees the winner's rows. So is an external id
    /// found taken by a call with a request id: the holder may be this very request's first
    /// call, committed after this one looked for it, and the second run replays its answer.
    pub(crate) fn worth_retrying(&self, err: &ServiceError) -> bool {
        matches!(err, ServiceError::UniqueViolation(_))
            || (self.idempotency.is_some() && matches!(err, ServiceError::ExternalIdInUse { .. }))
    }
}

/// Splits off the requests whose request id an earlier one of `batch` carries: they are
/// retries racing their first call, and replay its answer once it is committed.
pub(crate) fn split_repeats<T>(
    batch: Vec<T>,
    request: impl Fn(&T) -> &CreateRequest,
) -> (Vec<T>, Vec<T>) {
    let mut seen = HashSet::new();
    batch
        .into_iter()
        .partition(|item| match &request(item).idempotency {
            Some(idempotency) => seen.insert(idempotency.lookup_hash()),
            None => true,
        })
}

/// CreateInvite for a batch, in the writer's transaction, with a few statements for all of
/// it. Each request gets its own answer, in order; one refused (a closed job, a taken external
/// id, …) writes nothing. An `Err` is a statement that failed: the transaction is then lost.
/// The batch's request ids are distinct (`split_repeats`).
pub(crate) async fn create_many(
    txn: &DatabaseTransaction,
    context: &writer::Context,
    requests: &[&CreateRequest],
) -> Result<Vec<Result<InviteWithLink, ServiceError>>, ServiceError> {
    let mut found = Found::read(txn, requests).await?;
    let mut answers = Vec::with_capacity(requests.len());
    let mut drafts = Vec::new();
    for request in requests {
        answers.push(match check(txn, context, request, &mut found).await? {
            Checked::Replay(answer) => Ok(*answer),
            Checked::Refused(err) => Err(err),
            Checked::Accepted(draft) => {
                drafts.push((answers.len(), draft));
                // Filled in below, once written.
                Err(ServiceError::NotFound("invite"))
            }
        });
    }
    if drafts.is_empty() {
        return Ok(answers);
    }

    let named: Vec<candidates::Named> = drafts
        .iter()
        .filter(|(_, d)| d.candidate_id.is_none() && !d.candidate_email.is_empty())
        .map(|(_, d)| candidates::Named {
            org_id: d.request.caller.org_id,
            email: &d.candidate_email,
            name: &d.candidate_name,
        })
        .collect();
    let candidate_ids = candidates::upsert_many(txn, &named).await?;

    let at = now();
    let mut rows = Vec::with_capacity(drafts.len());
    let mut labels = Vec::new();
    let mut events = Vec::with_capacity(drafts.len());
    let mut happenings = Vec::with_capacity(drafts.len());
    let mut keys = Vec::new();
    let mut interviews = Vec::new();
    for (_, draft) in &drafts {
        let CreateRequest {
            caller,
            new,
            idempotency,
            ..
        } = draft.request;
        let job = &found.jobs[&new.job_id.uuid()];
        let candidate_id = draft.candidate_id.or_else(|| {
            candidate_ids
                .get(&(caller.org_id, draft.candidate_email.clone()))
                .copied()
        });
        let id = draft.id;
        rows.push(
            NewInviteRow {
                id,
                job,
                candidate_id,
                candidate_email: draft.candidate_email.clone(),
                candidate_name: draft.candidate_name.clone(),
                send_email: new.send_email,
                locked: new.locked,
                assignee_ids: new.assignee_ids.clone(),
                labels: new.labels.clone(),
                message: new.message.clone(),
                time_limit_minutes: new.time_limit_minutes,
                expiry: new.expiry,
                remind_after: new.remind_after,
                source: new.source,
                created_by_key_id: Some(caller.key_id),
                inviter_member_id: new.inviter_member_id.or(caller.owner_member_id),
                cohort_id: None,
                external_id: new.external_id.clone(),
                time_zone: new.time_zone.clone(),
                locale: new.locale.clone(),
                schedule: new.schedule,
            }
            .into_active_model(&context.link_key, at),
        );
        labels.extend(new.labels.iter().map(|label| invite_label::ActiveModel {
            invite_id: Set(id),
            label: Set(label.clone()),
            org_id: Set(caller.org_id),
        }));
        let detail = if new.send_email {
            "email queued"
        } else {
            "link returned to be shared"
        };
        events.push(invite_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            invite_id: Set(id),
            kind: Set(EventKind::Created),
            actor: Set(caller.actor()),
            detail: Set(detail.into()),
            created_at: Set(at),
        });
        happenings.push(InviteHappening {
            event: WebhookEvent::InviteCreated,
            org_id: caller.org_id,
            invite_id: id,
            actor: caller.actor(),
            detail: detail.into(),
        });
        interviews.extend(
            new.ats
                .as_ref()
                .map(|r| r.row(id, caller.org_id, &context.link_key, at)),
        );
        // The link is derived again on a retry: nothing secret to keep.
        keys.extend(idempotency.as_ref().map(|i| i.row(id, None)));
    }
    // Every value is set and its times are at the stored precision, so the rows as stored are
    // known without reading them back (RETURNING copies every column of every row).
    let invites = rows
        .iter()
        .map(|row| row.clone().try_into_model())
        .collect::<Result<Vec<invite::Model>, _>>()?;
    invite::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    // Bounded statements: SQLite binds at most 32766 values per statement.
    for chunk in labels.chunks(1000) {
        invite_label::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    invite_event::Entity::insert_many(events)
        .exec_without_returning(txn)
        .await?;
    if !interviews.is_empty() {
        ats_interview::Entity::insert_many(interviews)
            .exec_without_returning(txn)
            .await?;
    }
    webhooks::emit::invites(txn, &happenings).await?;
    let messages: Vec<(&invite::Model, NewOutbox)> = invites
        .iter()
        .zip(&drafts)
        .filter(|(_, (_, draft))| draft.request.new.send_email)
        .map(|(invite, (_, draft))| {
            let message = NewOutbox::to_candidate(invite, MessageKind::Invite, 0);
            (invite, message.in_trace(draft.request.traceparent.clone()))
        })
        .collect();
    if !messages.is_empty() {
        let pairs: Vec<_> = messages.iter().map(|(i, m)| (*i, m)).collect();
        outbox::insert_for_many(txn, &pairs).await?;
    }
    if !keys.is_empty() {
        idempotency_key::Entity::insert_many(keys)
            .exec_without_returning(txn)
            .await?;
    }
    for (invite, (answer, _)) in invites.into_iter().zip(drafts) {
        answers[answer] = Ok(InviteWithLink {
            link_url: context.link_url(invite.id, 0),
            invite,
        });
    }
    Ok(answers)
}

/// What a batch of creates needs to check its requests, read once for all of them.
struct Found {
    /// Request ids seen before, by `Idempotency::lookup_hash`.
    replays: HashMap<String, idempotency_key::Model>,
    /// The invites those first calls made.
    replayed: HashMap<Uuid, invite::Model>,
    jobs: HashMap<Uuid, job::Model>,
    /// (organization, member id) of every member named.
    members: HashSet<(Uuid, Uuid)>,
    /// Candidates named by id.
    candidates: HashMap<Uuid, candidate::Model>,
    /// Who holds each external id asked for, by organization and external id.
    holders: HashMap<(Uuid, String), Holder>,
}

enum Holder {
    /// A live invite.
    Stored(Box<invite::Model>),
    /// An invite of this batch.
    Batch(Uuid),
}

impl Found {
    async fn read(
        txn: &DatabaseTransaction,
        requests: &[&CreateRequest],
    ) -> Result<Self, ServiceError> {
        let key_hashes: Vec<String> = requests
            .iter()
            .filter_map(|r| r.idempotency.as_ref().map(Idempotency::lookup_hash))
            .collect();
        let replays: HashMap<String, idempotency_key::Model> = if key_hashes.is_empty() {
            HashMap::new()
        } else {
            idempotency_key::Entity::find()
                .filter(idempotency_key::Column::KeyHash.is_in(key_hashes))
                .all(txn)
                .await?
                .into_iter()
                .map(|row| (row.key_hash.clone(), row))
                .collect()
        };
        let replayed = if replays.is_empty() {
            HashMap::new()
        } else {
            by_id(
                invite::Entity::find()
                    .filter(invite::Column::Id.is_in(replays.values().map(|r| r.resource_id)))
                    .all(txn)
                    .await?,
                |i| i.id,
            )
        };
        let job_ids: HashSet<Uuid> = requests.iter().map(|r| r.new.job_id.uuid()).collect();
        let jobs = by_id(
            job::Entity::find()
                .filter(job::Column::Id.is_in(job_ids))
                .all(txn)
                .await?,
            |j| j.id,
        );
        let member_ids: HashSet<Uuid> = requests
            .iter()
            .flat_map(|r| r.new.assignee_ids.iter().chain(&r.new.inviter_member_id))
            .copied()
            .collect();
        let members = if member_ids.is_empty() {
            HashSet::new()
        } else {
            member::Entity::find()
                .select_only()
                .column(member::Column::OrgId)
                .column(member::Column::Id)
                .filter(member::Column::Id.is_in(member_ids))
                .into_tuple()
                .all(txn)
                .await?
                .into_iter()
                .collect()
        };
        let candidate_ids: HashSet<Uuid> = requests
            .iter()
            .filter_map(|r| match r.new.invitee {
                InviteeInput::Candidate(id) => Some(id),
                InviteeInput::Named { .. } => None,
            })
            .collect();
        let candidates = if candidate_ids.is_empty() {
            HashMap::new()
        } else {
            by_id(
                candidate::Entity::find()
                    .filter(candidate::Column::Id.is_in(candidate_ids))
                    .all(txn)
                    .await?,
                |c| c.id,
            )
        };
        let external_ids: HashSet<&str> = requests
            .iter()
            .filter_map(|r| r.new.external_id.as_deref())
            .collect();
        let holders = if external_ids.is_empty() {
            HashMap::new()
        } else {
            invite::Entity::find()
                .filter(invite::Column::ExternalId.is_in(external_ids))
                .filter(invite::Column::Status.is_not_in(DEAD.iter().copied()))
                .all(txn)
                .await?
                .into_iter()
                .filter_map(|i| {
                    Some((
                        (i.org_id, i.external_id.clone()?),
                        Holder::Stored(Box::new(i)),
                    ))
                })
                .collect()
        };
        Ok(Self {
            replays,
            replayed,
            jobs,
            members,
            candidates,
            holders,
        })
    }
}

fn by_id<T>(rows: Vec<T>, id: impl Fn(&T) -> Uuid) -> HashMap<Uuid, T> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}

/// A create request after its checks.
enum Checked<'a> {
    /// Its request id was seen: the first answer.
    Replay(Box<InviteWithLink>),
    Refused(ServiceError),
    Accepted(Draft<'a>),
}

/// An accepted request, before its rows are written.
struct Draft<'a> {
    request: &'a CreateRequest,
    id: Uuid,
    /// `None` for a candidate named by email: made or found with the batch's candidates.
    candidate_id: Option<Uuid>,
    candidate_email: String,
    candidate_name: String,
}

/// Checks one request of a batch against what the batch found, in the order a lone create would
/// meet them. `Err` is a statement that failed.
async fn check<'a>(
    txn: &DatabaseTransaction,
    context: &writer::Context,
    request: &'a CreateRequest,
    found: &mut Found,
) -> Result<Checked<'a>, ServiceError> {
    let refused = |err| Ok(Checked::Refused(err));
    let CreateRequest {
        caller,
        new,
        idempotency,
        ..
    } = request;
    if let Some(idempotency) = idempotency {
        if let Some(row) = found.replays.get(&idempotency.lookup_hash()) {
            let replay = match idempotency.replay_of(row.clone()) {
                Ok(replay) => replay,
                Err(err) => return refused(err),
            };
            return Ok(match found.replayed.get(&replay.resource_id) {
                Some(invite) if invite.org_id == caller.org_id => {
                    Checked::Replay(Box::new(InviteWithLink {
                        link_url: context.link_url(invite.id, invite.link_generation),
                        invite: invite.clone(),
                    }))
                }
                _ => Checked::Refused(ServiceError::NotFound("invite")),
            });
        }
    }

    let Some(job) = found
        .jobs
        .get(&new.job_id.uuid())
        .filter(|j| j.org_id == caller.org_id)
    else {
        return refused(ServiceError::NotFound("job"));
    };
    if job.state != JobState::Open {
        return refused(ServiceError::precondition(
            "JOB_CLOSED",
            "the job is closed and takes no new invites; reopen it first",
        ));
    }
    if let Err(err) = check_members(&found.members, caller, new) {
        return refused(err);
    }
    let (candidate_id, candidate_email, candidate_name) = match &new.invitee {
        InviteeInput::Named { email, name } => (
            None,
            email.as_ref().map(Email::to_string).unwrap_or_default(),
            name.clone(),
        ),
        InviteeInput::Candidate(id) => match found.candidates.get(id) {
            Some(c) if c.org_id == caller.org_id => (Some(c.id), c.email.clone(), c.name.clone()),
            _ => return refused(ServiceError::NotFound("candidate")),
        },
    };
    let id = Uuid::now_v7();
    if let Some(external_id) = &new.external_id {
        let key = (caller.org_id, external_id.clone());
        match found.holders.get(&key) {
            Some(Holder::Batch(holder)) => {
                return refused(ServiceError::ExternalIdInUse { invite_id: *holder })
            }
            // A holder whose expiry has passed (the sweep has not reached it yet) is expired
            // here, freeing the id, as its link already answers like a dead one. The unique
            // index `invites_live_external_id` backs this check against concurrent creates.
            Some(Holder::Stored(holder)) => {
                let expired = holder.expires_at.is_some_and(|at| at <= now())
                    && apply(txn, holder, expiry_transition(), "system")
                        .await?
                        .is_some();
                if !expired {
                    return refused(ServiceError::ExternalIdInUse {
                        invite_id: holder.id,
                    });
                }
            }
            None => {}
        }
        found.holders.insert(key, Holder::Batch(id));
    }
    Ok(Checked::Accepted(Draft {
        request,
        id,
        candidate_id,
        candidate_email,
        candidate_name,
    }))
}

/// The states that free an invite's external id. Only a renewal (`renewals.rs`) leaves one
/// (expired), and it fails if the id names another live invite by then.
const DEAD: &[InviteStatus] = &[InviteStatus::Revoked, InviteStatus::Expired];

fn expiry_transition() -> Transition<'static> {
    Transition {
        from: InviteStatus::LIVE,
        locked: None,
        changes: vec![(invite::Column::Status, Expr::value(InviteStatus::Expired))],
        event: EventKind::Expired,
        detail: String::new(),
        outbox: Vec::new(),
    }
}

/// Every member the request names must be the caller's organization's: its assignees, then
/// its inviter.
fn check_members(
    found: &HashSet<(Uuid, Uuid)>,
    caller: &Caller,
    new: &NewInvite,
) -> Result<(), ServiceError> {
    let named = new
        .assignee_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("assignee_ids[{i}]"), id))
        .chain(
            new.inviter_member_id
                .iter()
                .map(|id| ("inviter_id".to_string(), id)),
        );
    let missing: Vec<_> = named
        .filter(|(_, id)| !found.contains(&(caller.org_id, **id)))
        .map(|(field, _)| crate::error::FieldViolation {
            field,
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
        .filter(invite::Column::Status.is_not_in(DEAD.iter().copied()))
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
    let mut query = invite::Entity::find().filter(invite::Column::OrgId.eq(caller.org_id));
    if let Some(job_id) = filter.job_id {
        query = query.filter(invite::Column::JobId.eq(job_id.uuid()));
    }
    if let Some(status) = filter.status {
        query = query.filter(invite::Column::Status.eq(status));
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
    page.fetch(
        &store.read,
        query,
        invite::Column::Id,
        Order::Descending,
        |i| i.id,
    )
    .await
}

pub async fn list_events(
    store: &Store,
    caller: &Caller,
    invite_id: Uuid,
    page: &Page,
) -> Result<(Vec<invite_event::Model>, String), ServiceError> {
    find(&store.read, caller, invite_id).await?;
    let query = invite_event::Entity::find()
        .filter(invite_event::Column::OrgId.eq(caller.org_id))
        .filter(invite_event::Column::InviteId.eq(invite_id));
    page.fetch(
        &store.read,
        query,
        invite_event::Column::Id,
        Order::Ascending,
        |e| e.id,
    )
    .await
}

/// For transitions that change something every time they are asked (resend, reissue).
fn never_done(_: &invite::Model) -> bool {
    false
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
                Expr::value(DeliveryStatus::Queued),
            )],
            event: EventKind::Resent,
            detail: "email queued".into(),
            outbox: vec![NewOutbox::to_candidate(
                invite,
                MessageKind::Resend,
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
    let revoked = |invite: &invite::Model| invite.status == InviteStatus::Revoked;
    change(store, caller, id, revoked, |invite| {
        // A scheduled interview is taken out of the candidate's calendar.
        let ahead = scheduled(invite).is_some_and(|schedule| schedule.end() > now());
        let (changes, outbox) = match ahead {
            true if InviteStatus::LIVE.contains(&invite.status)
                && !invite.candidate_email.is_empty() =>
            {
                (
                    vec![
                        (invite::Column::Status, Expr::value(InviteStatus::Revoked)),
                        next_calendar_sequence(invite),
                    ],
                    vec![NewOutbox::to_candidate(
                        invite,
                        MessageKind::Cancelled,
                        invite.link_generation,
                    )],
                )
            }
            _ => (
                vec![(invite::Column::Status, Expr::value(InviteStatus::Revoked))],
                Vec::new(),
            ),
        };
        Ok(Transition {
            from: &[
                InviteStatus::Created,
                InviteStatus::Sent,
                InviteStatus::Opened,
                InviteStatus::Started,
                InviteStatus::Submitted,
            ],
            locked: None,
            changes,
            event: EventKind::Revoked,
            detail: reason,
            outbox,
        })
    })
    .await
}

/// The invite's interview, if it is one.
pub(crate) fn scheduled(invite: &invite::Model) -> Option<Schedule> {
    Some(Schedule {
        start: invite.scheduled_at?,
        duration_minutes: invite.duration_minutes?,
    })
}

/// The calendar invitation's next version: a calendar takes the highest SEQUENCE.
pub(crate) fn next_calendar_sequence(
    invite: &invite::Model,
) -> (invite::Column, sea_orm::sea_query::SimpleExpr) {
    (
        invite::Column::CalendarSequence,
        Expr::value(invite.calendar_sequence + 1),
    )
}

/// Moves a scheduled interview and emails the candidate the calendar update.
pub async fn reschedule(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    start: DateTime<Utc>,
    duration_minutes: Option<i32>,
) -> Result<invite::Model, ServiceError> {
    let start = super::to_stored_precision(start);
    // A retry of the same move finds it made: nothing is sent twice.
    let moved = move |invite: &invite::Model| {
        invite.scheduled_at == Some(start)
            && duration_minutes.is_none_or(|minutes| invite.duration_minutes == Some(minutes))
    };
    change(store, caller, id, moved, |invite| {
        require(
            invite.scheduled_at.is_some(),
            "INVITE_NOT_SCHEDULED",
            "the invite has no scheduled interview to move",
        )?;
        let schedule = Schedule {
            start,
            duration_minutes: duration_minutes.or(invite.duration_minutes).unwrap_or(60),
        };
        let mut changes = vec![
            (invite::Column::ScheduledAt, Expr::value(Some(start))),
            (
                invite::Column::DurationMinutes,
                Expr::value(Some(schedule.duration_minutes)),
            ),
            next_calendar_sequence(invite),
        ];
        // The link keeps working until a day after the interview ends.
        if let Some(expires_at) = invite.expires_at {
            let needed = schedule.link_needed_until();
            if expires_at < needed {
                changes.push((invite::Column::ExpiresAt, Expr::value(Some(needed))));
            }
        }
        let outbox = if invite.candidate_email.is_empty() {
            Vec::new()
        } else {
            changes.push((
                invite::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Queued),
            ));
            vec![NewOutbox::to_candidate(
                invite,
                MessageKind::Rescheduled,
                invite.link_generation,
            )]
        };
        Ok(Transition {
            from: InviteStatus::LIVE,
            locked: None,
            changes,
            event: EventKind::Rescheduled,
            detail: format!("to {}", start.to_rfc3339()),
            outbox,
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
    let started = |invite: &invite::Model| invite.status == InviteStatus::Started;
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
            (invite::Column::Status, Expr::value(InviteStatus::Started)),
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

/// Keeps an invite the candidate has not started from being started until unlocked. One that
/// is locked already answers with it as it is.
pub async fn lock(store: &Store, caller: &Caller, id: Uuid) -> Result<invite::Model, ServiceError> {
    let locked_and_startable =
        |invite: &invite::Model| invite.locked && InviteStatus::STARTABLE.contains(&invite.status);
    change(store, caller, id, locked_and_startable, |_| {
        Ok(Transition {
            from: InviteStatus::STARTABLE,
            locked: Some(false),
            changes: vec![(invite::Column::Locked, Expr::value(true))],
            event: EventKind::Locked,
            detail: String::new(),
            outbox: Vec::new(),
        })
    })
    .await
}

/// Lets a locked live invite be started. A live invite that is not locked (any more) answers
/// with it as it is.
pub async fn unlock(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<invite::Model, ServiceError> {
    let unlocked_and_live =
        |invite: &invite::Model| !invite.locked && InviteStatus::LIVE.contains(&invite.status);
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
    let submitted = |invite: &invite::Model| invite.status == InviteStatus::Submitted;
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
                (invite::Column::Status, Expr::value(InviteStatus::Submitted)),
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
        if invite.scheduled_at.is_some() {
            // The calendar's location is the link: a new link is a new version of the event.
            changes.push(next_calendar_sequence(invite));
        }
        let outbox = if send_email {
            vec![NewOutbox::to_candidate(
                invite,
                MessageKind::Invite,
                generation,
            )]
        } else {
            Vec::new()
        };
        if send_email {
            changes.push((
                invite::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Queued),
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
