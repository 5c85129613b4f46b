//! What the candidate's link does. The token is the only credential: it is hashed and looked up,
//! and unknown, revoked and expired links all come back as `None`.
use sea_orm::{
    sea_query::{Expr, IntoCondition},
    ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect,
};

use super::{
    invites::{apply, begin, record_event, Transition},
    now,
    outbox::{self, TeamEvent},
    Store,
};
use crate::{
    db::entities::{invite, job},
    domain::{secret, EventKind, InviteStatus},
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

/// Finds the live invite behind a token, expiring it first if its time has passed. One indexed
/// read of the invite joined to its job, on the read pool.
async fn live(store: &Store, token: &str) -> Result<Option<LiveLink>, ServiceError> {
    // Malformed tokens still cost a lookup, so they take as long as well-formed unknown ones.
    let hash = secret::link_token_hash(token);
    let its_job = invite::Entity::belongs_to(job::Entity)
        .from(invite::Column::JobId)
        .to(job::Column::Id)
        .on_condition(|invite_table, job_table| {
            Expr::col((job_table, job::Column::OrgId))
                .equals((invite_table, invite::Column::OrgId))
                .into_condition()
        });
    let found = invite::Entity::find()
        .select_also(job::Entity)
        .join(JoinType::InnerJoin, its_job.into())
        .filter(invite::Column::TokenHash.eq(hash))
        .one(&store.read)
        .await?;
    let Some((invite, Some(job))) = found.filter(|_| secret::looks_like_link_token(token)) else {
        return Ok(None);
    };
    let Some(status) = InviteStatus::parse(&invite.status) else {
        return Ok(None);
    };
    if status.link_is_dead() {
        return Ok(None);
    }
    if invite.expires_at.is_some_and(|at| at <= now()) {
        expire(store, &invite).await?;
        return Ok(None);
    }
    Ok(Some(LiveLink { invite, job }))
}

async fn expire(store: &Store, invite: &invite::Model) -> Result<(), ServiceError> {
    let txn = begin(store).await?;
    let transition = Transition {
        from: InviteStatus::LIVE,
        locked: None,
        changes: vec![(
            invite::Column::Status,
            Expr::value(InviteStatus::Expired.as_str()),
        )],
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
/// event naming the browser family. Returns the link as it was found.
pub async fn count_open(
    store: &Store,
    token: &str,
    browser: &str,
    signal: OpenSignal,
) -> Result<Option<LiveLink>, ServiceError> {
    let Some(link) = live(store, token).await? else {
        return Ok(None);
    };
    if signal == OpenSignal::Start && link.invite.first_opened_at.is_some() {
        return Ok(Some(link));
    }
    let at = now();
    let unopened: Vec<&str> = InviteStatus::UNOPENED.iter().map(|s| s.as_str()).collect();
    let live_states: Vec<&str> = InviteStatus::LIVE.iter().map(|s| s.as_str()).collect();
    let txn = begin(store).await?;
    // The first open, guarded in the UPDATE so that concurrent ones cannot both be first.
    let first = invite::Entity::update_many()
        .col_expr(
            invite::Column::OpenCount,
            Expr::col(invite::Column::OpenCount).add(1),
        )
        .col_expr(
            invite::Column::Status,
            Expr::case(
                invite::Column::Status.is_in(unopened),
                InviteStatus::Opened.as_str(),
            )
            .finally(Expr::col(invite::Column::Status))
            .into(),
        )
        .col_expr(invite::Column::FirstOpenedAt, Expr::value(at))
        .col_expr(invite::Column::UpdatedAt, Expr::value(at))
        .filter(invite::Column::Id.eq(link.invite.id))
        .filter(invite::Column::FirstOpenedAt.is_null())
        .filter(invite::Column::Status.is_in(live_states.clone()))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let counted = first
        || (signal == OpenSignal::Beacon
            && invite::Entity::update_many()
                .col_expr(
                    invite::Column::OpenCount,
                    Expr::col(invite::Column::OpenCount).add(1),
                )
                .col_expr(invite::Column::UpdatedAt, Expr::value(at))
                .filter(invite::Column::Id.eq(link.invite.id))
                .filter(invite::Column::Status.is_in(live_states))
                .exec(&txn)
                .await?
                .rows_affected
                == 1);
    if !counted {
        return Ok(Some(link));
    }
    let detail = match (first, signal) {
        (true, OpenSignal::Beacon) => format!("first open; browser: {browser}"),
        (true, OpenSignal::Start) => format!("first open, at Start; browser: {browser}"),
        (false, _) => format!("browser: {browser}"),
    };
    record_event(&txn, &link.invite, EventKind::Opened, CANDIDATE, &detail).await?;
    txn.commit().await?;
    Ok(Some(link))
}

/// Moves the invite to `started` once; pressing Start again only leads on again.
pub async fn start(store: &Store, token: &str) -> Result<Option<StartOutcome>, ServiceError> {
    let Some(link) = live(store, token).await? else {
        return Ok(None);
    };
    let status = InviteStatus::parse(&link.invite.status);
    if status == Some(InviteStatus::Submitted) {
        return Ok(Some(StartOutcome::Submitted(link)));
    }
    if link.invite.locked {
        return Ok(Some(StartOutcome::Locked(link)));
    }
    if status == Some(InviteStatus::Started) {
        return Ok(Some(StartOutcome::Started(link)));
    }
    let team = outbox::team_messages(&store.read, &link.invite, TeamEvent::Started).await?;
    let txn = begin(store).await?;
    let transition = Transition {
        from: InviteStatus::STARTABLE,
        locked: Some(false),
        changes: vec![
            (
                invite::Column::Status,
                Expr::value(InviteStatus::Started.as_str()),
            ),
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
            Ok(Some(match InviteStatus::parse(&link.invite.status) {
                Some(InviteStatus::Submitted) => StartOutcome::Submitted(link),
                _ if link.invite.locked => StartOutcome::Locked(link),
                _ => StartOutcome::Started(link),
            }))
        }
    }
}
