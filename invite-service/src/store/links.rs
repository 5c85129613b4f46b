//! What the candidate's link does. The token is the only credential: it is hashed and looked up,
//! and unknown, revoked and expired links all come back as `None`.
use std::{
    collections::{HashMap, HashSet},
    sync::OnceLock,
};

use sea_orm::{
    sea_query::{CaseStatement, Expr, IntoCondition},
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult,
    IdenStatic, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait, SelectA, SelectB, Set,
    Statement,
};
use uuid::Uuid;

use super::{
    now,
    outbox::{self, TeamEvent},
    transitions::{apply, begin, Transition},
    webhooks::{self, emit::InviteHappening},
    Store,
};
use crate::{
    db::entities::{invite, invite_event, job, organization},
    domain::{secret, webhooks::WebhookEvent, EventKind, InviteStatus},
    error::ServiceError,
};

const CANDIDATE: &str = "candidate";
const SYSTEM: &str = "system";

/// A live link: the invite and its job.
#[derive(Clone, Debug)]
pub struct LiveLink {
    pub invite: invite::Model,
    pub job: job::Model,
}

/// What pressing Start led to.
#[derive(Clone, Debug)]
pub enum StartOutcome {
    /// Go on to the assessment.
    Started(LiveLink),
    /// The invite opens but cannot start until unlocked.
    Locked(LiveLink),
    /// The work was already submitted.
    Submitted(LiveLink),
}

/// Whom an unsubscribe link stops mail to: the invite's candidate, from its organization.
#[derive(Clone, Debug)]
pub struct UnsubscribeTarget {
    pub invite_id: Uuid,
    pub org_id: Uuid,
    pub organization_name: String,
    pub email: String,
    /// The candidate's language, if the invite has one, the job's, and the organization's
    /// default.
    pub locale: Option<String>,
    pub job_locale: Option<String>,
    pub default_locale: String,
}

/// The invite behind an unsubscribe token, whatever its state: a revoked or expired invite's
/// candidate may still want no more mail. `None` for a token this server did not make or an
/// invite that is gone.
pub async fn unsubscribe_target(
    store: &Store,
    token: &str,
) -> Result<Option<UnsubscribeTarget>, ServiceError> {
    let Some(invite_id) = store.link_key.unsubscribe_invite(token) else {
        return Ok(None);
    };
    let Some(invite) = invite::Entity::find_by_id(invite_id)
        .one(&store.read)
        .await?
    else {
        return Ok(None);
    };
    let organization = organization::Entity::find_by_id(invite.org_id)
        .one(&store.read)
        .await?;
    let job_locale = job::Entity::find_by_id(invite.job_id)
        .one(&store.read)
        .await?
        .and_then(|job| job.locale);
    Ok(organization.map(|organization| UnsubscribeTarget {
        invite_id,
        org_id: invite.org_id,
        organization_name: organization.name,
        email: invite.candidate_email,
        locale: invite.locale,
        job_locale,
        default_locale: organization.default_locale,
    }))
}

/// Finds the live invite behind a token, expiring it first if its time has passed. One indexed
/// read of the invite joined to its job, on the read pool.
async fn live(store: &Store, token: &str) -> Result<Option<LiveLink>, ServiceError> {
    // Malformed tokens still cost a lookup, so they take as long as well-formed unknown ones.
    let hash = secret::link_token_hash(token);
    let backend = store.read.get_database_backend();
    let statement = Statement::from_sql_and_values(backend, lookup_sql(backend), [hash.into()]);
    let found = match store.read.query_one(statement).await? {
        Some(row) => Some((
            invite::Model::from_query_result(&row, SelectA.as_str())?,
            job::Model::from_query_result_optional(&row, SelectB.as_str())?,
        )),
        None => None,
    };
    let Some((invite, Some(job))) = found.filter(|_| secret::looks_like_link_token(token)) else {
        return Ok(None);
    };
    if invite.status.link_is_dead() {
        return Ok(None);
    }
    if invite.expires_at.is_some_and(|at| at <= now()) {
        expire(store, &invite).await?;
        return Ok(None);
    }
    Ok(Some(LiveLink { invite, job }))
}

/// The link lookup's SQL for a backend, rendered once: rendering the query each time cost about
/// a third of a lookup (see BENCHMARKS.md).
fn lookup_sql(backend: DbBackend) -> String {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    let render = || {
        let its_job = invite::Entity::belongs_to(job::Entity)
            .from(invite::Column::JobId)
            .to(job::Column::Id)
            .on_condition(|invite_table, job_table| {
                Expr::col((job_table, job::Column::OrgId))
                    .equals((invite_table, invite::Column::OrgId))
                    .into_condition()
            });
        invite::Entity::find()
            .select_also(job::Entity)
            .join(JoinType::InnerJoin, its_job.into())
            // The one parameter, bound per lookup; the hash is unique, so no LIMIT (which
            // sea-query would bind as a second one).
            .filter(invite::Column::TokenHash.eq(String::new()))
            .build(backend)
            .sql
    };
    match backend {
        DbBackend::Postgres => POSTGRES.get_or_init(render),
        _ => SQLITE.get_or_init(render),
    }
    .clone()
}

async fn expire(store: &Store, invite: &invite::Model) -> Result<(), ServiceError> {
    let txn = begin(store).await?;
    let transition = Transition {
        from: InviteStatus::LIVE,
        locked: None,
        changes: vec![(invite::Column::Status, Expr::value(InviteStatus::Expired))],
        event: EventKind::Expired,
        detail: String::new(),
        outbox: Vec::new(),
    };
    if apply(&txn, invite, transition, SYSTEM).await?.is_some() {
        txn.commit().await?;
    }
    Ok(())
}

/// The live invite behind a token, for showing its page. Showing the page is not an open: link
/// scanners and chat previews fetch it too.
pub async fn find(store: &Store, token: &str) -> Result<Option<LiveLink>, ServiceError> {
    live(store, token).await
}

/// What told us that a person saw the invite page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenSignal {
    /// The page's script, once the browser showed the page: every one counts.
    Beacon,
    /// Pressing Start: counts only when nothing counted before (no script ran, or its beacon
    /// was lost).
    Start,
}

/// Counts an open of the invite behind a token, seen in a browser of the given family: the first
/// moves the invite to `opened` and sets its first-opened time. Each counted open is an `opened`
/// event naming the browser family. Returns the invite's id if the link is live (whether or not
/// this open counted), `None` for a link that is not.
///
/// The writer finds the invite by its token's hash in the batch's own locked read, so an open
/// costs no read of its own; only a link the writer finds past its expiry time is looked up
/// again, which expires it.
pub async fn count_open(
    store: &Store,
    token: &str,
    browser: &str,
    signal: OpenSignal,
) -> Result<Option<Uuid>, ServiceError> {
    let counted = store
        .writer
        .record_open(OpenRequest {
            token_hash: secret::link_token_hash(token),
            well_formed: secret::looks_like_link_token(token),
            browser: browser.to_string(),
            signal,
        })
        .await?;
    match counted {
        OpenOutcome::Live(invite_id) => Ok(Some(invite_id)),
        OpenOutcome::Dead => Ok(None),
        OpenOutcome::PastExpiry => Ok(live(store, token).await?.map(|link| link.invite.id)),
    }
}

/// An open on its way to the writer.
pub(crate) struct OpenRequest {
    pub token_hash: String,
    /// Whether the token could be a link token at all; a malformed one is looked up all the
    /// same (so it takes as long as an unknown one) and answered `Dead`.
    pub well_formed: bool,
    pub browser: String,
    pub signal: OpenSignal,
}

/// What the writer made of an open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpenOutcome {
    /// The link still shows its page (a submitted invite's too): the open counted, or it
    /// counts nothing (a Start after an open, a submitted invite).
    Live(Uuid),
    /// The token is malformed or unknown, or its invite revoked or expired.
    Dead,
    /// Not revoked or expired by its status, but its time has passed: it is to be expired.
    PastExpiry,
}

/// Counts a batch of opens, in the writer's transaction, with three statements for all of it:
/// the invites are read locked by their tokens' hashes, the counts worked out in order (so of
/// two first opens, one is first), then written with one UPDATE and one INSERT of the events.
/// An invite no longer live counts nothing. Each open's outcome, in order.
pub(crate) async fn record_opens(
    txn: &DatabaseTransaction,
    opens: &[&OpenRequest],
) -> Result<Vec<OpenOutcome>, ServiceError> {
    if opens.is_empty() {
        return Ok(Vec::new());
    }
    let hashes: HashSet<&str> = opens.iter().map(|o| o.token_hash.as_str()).collect();
    let mut invites: HashMap<String, invite::Model> = invite::Entity::find()
        .filter(invite::Column::TokenHash.is_in(hashes))
        .order_by_asc(invite::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?
        .into_iter()
        .map(|i| (i.token_hash.clone(), i))
        .collect();
    let at = now();
    let mut outcomes = Vec::with_capacity(opens.len());
    let mut counts: HashMap<Uuid, i32> = HashMap::new();
    let mut events = Vec::new();
    let mut happenings = Vec::new();
    for open in opens {
        // The same rules as `live`: a revoked or expired link is dead; any other past its
        // expiry time is expired there.
        let invite = match invites.get_mut(&open.token_hash) {
            Some(invite) if open.well_formed && !invite.status.link_is_dead() => invite,
            _ => {
                outcomes.push(OpenOutcome::Dead);
                continue;
            }
        };
        if invite.expires_at.is_some_and(|expires| expires <= at) {
            outcomes.push(OpenOutcome::PastExpiry);
            continue;
        }
        outcomes.push(OpenOutcome::Live(invite.id));
        // A submitted invite's page still shows; opening it counts nothing.
        if !InviteStatus::LIVE.contains(&invite.status) {
            continue;
        }
        let first = invite.first_opened_at.is_none();
        if !first && open.signal == OpenSignal::Start {
            continue;
        }
        invite.first_opened_at = Some(at);
        *counts.entry(invite.id).or_default() += 1;
        let detail = match (first, open.signal) {
            (true, OpenSignal::Beacon) => format!("first open; browser: {}", open.browser),
            (true, OpenSignal::Start) => format!("first open, at Start; browser: {}", open.browser),
            (false, _) => format!("browser: {}", open.browser),
        };
        happenings.push(InviteHappening {
            event: WebhookEvent::InviteOpened,
            org_id: invite.org_id,
            invite_id: invite.id,
            actor: CANDIDATE.into(),
            detail: detail.clone(),
        });
        events.push(invite_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(invite.org_id),
            invite_id: Set(invite.id),
            kind: Set(EventKind::Opened),
            actor: Set(CANDIDATE.into()),
            detail: Set(detail),
            created_at: Set(at),
        });
    }
    if counts.is_empty() {
        return Ok(outcomes);
    }
    let unopened: Vec<InviteStatus> = InviteStatus::UNOPENED.to_vec();
    let live_states: Vec<InviteStatus> = InviteStatus::LIVE.to_vec();
    let added = counts
        .iter()
        .fold(CaseStatement::new(), |case, (id, count)| {
            case.case(invite::Column::Id.eq(*id), *count)
        })
        .finally(0);
    // SET expressions read the row as it was: the first open is the one that finds no
    // first-opened time.
    invite::Entity::update_many()
        .col_expr(
            invite::Column::OpenCount,
            Expr::col(invite::Column::OpenCount).add(added),
        )
        .col_expr(
            invite::Column::Status,
            Expr::case(
                invite::Column::FirstOpenedAt
                    .is_null()
                    .and(invite::Column::Status.is_in(unopened)),
                InviteStatus::Opened,
            )
            .finally(Expr::col(invite::Column::Status))
            .into(),
        )
        .col_expr(
            invite::Column::FirstOpenedAt,
            Expr::col(invite::Column::FirstOpenedAt).if_null(at),
        )
        .col_expr(invite::Column::UpdatedAt, Expr::value(at))
        .filter(invite::Column::Id.is_in(counts.keys().copied()))
        .filter(invite::Column::Status.is_in(live_states))
        .exec(txn)
        .await?;
    invite_event::Entity::insert_many(events)
        .exec_without_returning(txn)
        .await?;
    webhooks::emit::invites(txn, &happenings).await?;
    Ok(outcomes)
}

/// Moves the invite to `started` once; pressing Start again only leads on again.
pub async fn start(store: &Store, token: &str) -> Result<Option<StartOutcome>, ServiceError> {
    let Some(link) = live(store, token).await? else {
        return Ok(None);
    };
    let status = link.invite.status;
    if status == InviteStatus::Submitted {
        return Ok(Some(StartOutcome::Submitted(link)));
    }
    if link.invite.locked {
        return Ok(Some(StartOutcome::Locked(link)));
    }
    if status == InviteStatus::Started {
        return Ok(Some(StartOutcome::Started(link)));
    }
    let team = outbox::team_messages(&store.read, &link.invite, TeamEvent::Started).await?;
    let txn = begin(store).await?;
    let transition = Transition {
        from: InviteStatus::STARTABLE,
        locked: Some(false),
        changes: vec![
            (invite::Column::Status, Expr::value(InviteStatus::Started)),
            (invite::Column::StartedAt, Expr::value(now())),
        ],
        event: EventKind::Started,
        detail: String::new(),
        outbox: team,
    };
    match apply(&txn, &link.invite, transition, CANDIDATE).await? {
        Some(invite) => {
            txn.commit().await?;
            Ok(Some(StartOutcome::Started(LiveLink {
                invite,
                job: link.job,
            })))
        }
        None => {
            drop(txn);
            // Someone else changed it first (most often: a concurrent Start). Decide again.
            let Some(link) = live(store, token).await? else {
                return Ok(None);
            };
            Ok(Some(match link.invite.status {
                InviteStatus::Submitted => StartOutcome::Submitted(link),
                _ if link.invite.locked => StartOutcome::Locked(link),
                _ => StartOutcome::Started(link),
            }))
        }
    }
}
