//! Beckon as an applicant tracking system's assessment partner: the interviews an ATS asked
//! for (each an invite, made with it in one transaction), the organization's credentials for
//! calling the ATS, the errors an ATS reported, and the calls back to it (`callbacks.rs`).
pub mod callbacks;

use sea_orm::{
    sea_query::OnConflict, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{now, Caller, Store};
use crate::{
    db::entities::{ats_connection, ats_error, ats_interview, invite, job},
    domain::{
        ats::{in_progress, Ats},
        secret::LinkKey,
        InviteStatus, JobState,
    },
    error::ServiceError,
};

/// How much of an ATS's error report is kept.
const REPORT_BYTES: usize = 8 * 1024;

/// What an ATS asked for, kept with the invite it becomes.
#[derive(Clone)]
pub struct AtsReference {
    pub ats: Ats,
    /// The ATS's test or assessment type: the job's id as text.
    pub test_id: String,
    /// Ashby's application id; empty for Greenhouse.
    pub application_id: String,
    /// Greenhouse's completion callback; empty for Ashby.
    pub callback_url: String,
    pub profile_url: String,
    /// Greenhouse: the key it presented, sent back with the callback as its docs show.
    pub credential: Option<String>,
}

impl std::fmt::Debug for AtsReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtsReference")
            .field("ats", &self.ats)
            .field("test_id", &self.test_id)
            .field("application_id", &self.application_id)
            .field("callback_url", &self.callback_url)
            .field("profile_url", &self.profile_url)
            .field("credential", &self.credential.as_ref().map(|_| "<secret>"))
            .finish()
    }
}

impl AtsReference {
    pub(crate) fn row(
        &self,
        invite_id: Uuid,
        org_id: Uuid,
        link_key: &LinkKey,
        at: chrono::DateTime<chrono::Utc>,
    ) -> ats_interview::ActiveModel {
        ats_interview::ActiveModel {
            invite_id: Set(invite_id),
            org_id: Set(org_id),
            ats: Set(self.ats),
            test_id: Set(self.test_id.clone()),
            application_id: Set(self.application_id.clone()),
            callback_url: Set(self.callback_url.clone()),
            profile_url: Set(self.profile_url.clone()),
            credential_sealed: Set(self
                .credential
                .as_ref()
                .map(|c| link_key.ats_seal().seal(c.as_bytes(), invite_id))),
            created_at: Set(at),
        }
    }
}

/// An interview an ATS asked for, with its invite and job as they are now.
#[derive(Clone, Debug)]
pub struct Interview {
    pub reference: ats_interview::Model,
    pub invite: invite::Model,
    pub job: job::Model,
}

/// The organization's open jobs, oldest first: an ATS's list of tests.
pub async fn open_jobs(store: &Store, caller: &Caller) -> Result<Vec<job::Model>, ServiceError> {
    Ok(job::Entity::find()
        .filter(job::Column::OrgId.eq(caller.org_id))
        .filter(job::Column::State.eq(JobState::Open))
        .order_by_asc(job::Column::CreatedAt)
        .order_by_asc(job::Column::Id)
        .limit(1000)
        .all(&store.read)
        .await?)
}

/// The caller's interview of `ats` with this id; NOT_FOUND for another organization's or
/// another ATS's.
pub async fn interview(
    store: &Store,
    caller: &Caller,
    ats: Ats,
    invite_id: Uuid,
) -> Result<Interview, ServiceError> {
    let reference = ats_interview::Entity::find_by_id(invite_id)
        .filter(ats_interview::Column::OrgId.eq(caller.org_id))
        .filter(ats_interview::Column::Ats.eq(ats))
        .one(&store.read)
        .await?
        .ok_or(ServiceError::NotFound("interview"))?;
    with_invite(store, reference).await
}

/// Greenhouse presented another key for an interview it asked for again (its key was
/// rotated): the callback presents the new one.
pub async fn keep_credential(
    store: &Store,
    invite_id: Uuid,
    credential: &str,
) -> Result<(), ServiceError> {
    let sealed = store
        .link_key
        .ats_seal()
        .seal(credential.as_bytes(), invite_id);
    ats_interview::Entity::update_many()
        .col_expr(
            ats_interview::Column::CredentialSealed,
            sea_orm::sea_query::Expr::value(sealed),
        )
        .filter(ats_interview::Column::InviteId.eq(invite_id))
        .exec(&store.write)
        .await?;
    Ok(())
}

/// Whether the application has an interview of `ats` still in progress (not submitted,
/// revoked or expired) for another test than `test_id`.
pub async fn in_progress_elsewhere(
    store: &Store,
    caller: &Caller,
    ats: Ats,
    application_id: &str,
    test_id: &str,
) -> Result<bool, ServiceError> {
    let others: Vec<Uuid> = ats_interview::Entity::find()
        .select_only()
        .column(ats_interview::Column::InviteId)
        .filter(ats_interview::Column::OrgId.eq(caller.org_id))
        .filter(ats_interview::Column::Ats.eq(ats))
        .filter(ats_interview::Column::ApplicationId.eq(application_id))
        .filter(ats_interview::Column::TestId.ne(test_id))
        .into_tuple()
        .all(&store.read)
        .await?;
    if others.is_empty() {
        return Ok(false);
    }
    let statuses: Vec<InviteStatus> = invite::Entity::find()
        .select_only()
        .column(invite::Column::Status)
        .filter(invite::Column::Id.is_in(others))
        .into_tuple()
        .all(&store.read)
        .await?;
    Ok(statuses.into_iter().any(in_progress))
}

/// The live interview (its invite neither revoked nor expired) with this external id, if any.
pub async fn live_interview(
    store: &Store,
    caller: &Caller,
    ats: Ats,
    external_id: &str,
) -> Result<Option<Interview>, ServiceError> {
    let invite = invite::Entity::find()
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .filter(invite::Column::ExternalId.eq(external_id))
        .filter(invite::Column::Status.is_not_in([InviteStatus::Revoked, InviteStatus::Expired]))
        .one(&store.read)
        .await?;
    let Some(invite) = invite else {
        return Ok(None);
    };
    let reference = ats_interview::Entity::find_by_id(invite.id)
        .filter(ats_interview::Column::Ats.eq(ats))
        .one(&store.read)
        .await?;
    match reference {
        Some(reference) => with_invite(store, reference).await.map(Some),
        None => Ok(None),
    }
}

async fn with_invite(
    store: &Store,
    reference: ats_interview::Model,
) -> Result<Interview, ServiceError> {
    let invite = invite::Entity::find_by_id(reference.invite_id)
        .filter(invite::Column::OrgId.eq(reference.org_id))
        .one(&store.read)
        .await?
        .ok_or(ServiceError::NotFound("interview"))?;
    let job = job::Entity::find_by_id(invite.job_id)
        .one(&store.read)
        .await?
        .ok_or(ServiceError::NotFound("interview"))?;
    Ok(Interview {
        reference,
        invite,
        job,
    })
}

/// Keeps an error an ATS reported about one of Beckon's answers, for the organization's
/// admins (`ListAtsErrors`).
pub async fn record_error(
    store: &Store,
    caller: &Caller,
    ats: Ats,
    api_call: &str,
    invite_id: Option<Uuid>,
    report: &str,
) -> Result<(), ServiceError> {
    let mut cut = REPORT_BYTES.min(report.len());
    while !report.is_char_boundary(cut) {
        cut -= 1;
    }
    ats_error::Entity::insert(ats_error::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(caller.org_id),
        ats: Set(ats),
        api_call: Set(api_call.chars().take(100).collect()),
        invite_id: Set(invite_id),
        report: Set(report[..cut].to_string()),
        created_at: Set(now()),
    })
    .exec_without_returning(&store.write)
    .await?;
    Ok(())
}

/// Forgets what is past the webhook history's retention: delivered calls back and error
/// reports. How many rows went.
pub async fn forget_before(
    store: &Store,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, ServiceError> {
    let calls = callbacks::forget_delivered_before(store, before).await?;
    let errors = ats_error::Entity::delete_many()
        .filter(ats_error::Column::CreatedAt.lt(before))
        .exec(&store.write)
        .await?
        .rows_affected;
    Ok(calls + errors)
}

/// The organization's latest ATS error reports, newest first.
pub async fn list_errors(
    store: &Store,
    caller: &Caller,
    limit: u64,
) -> Result<Vec<ats_error::Model>, ServiceError> {
    Ok(ats_error::Entity::find()
        .filter(ats_error::Column::OrgId.eq(caller.org_id))
        .order_by_desc(ats_error::Column::Id)
        .limit(limit)
        .all(&store.read)
        .await?)
}

/// Sets (or, with `None`, removes) the organization's API key for `ats`'s API, kept sealed.
pub async fn set_api_key(
    store: &Store,
    caller: &Caller,
    ats: Ats,
    api_key: Option<&str>,
) -> Result<(), ServiceError> {
    let Some(api_key) = api_key else {
        ats_connection::Entity::delete_many()
            .filter(ats_connection::Column::OrgId.eq(caller.org_id))
            .filter(ats_connection::Column::Ats.eq(ats))
            .exec(&store.write)
            .await?;
        return Ok(());
    };
    let sealed = store
        .link_key
        .ats_seal()
        .seal(api_key.as_bytes(), connection_owner(caller.org_id, ats));
    ats_connection::Entity::insert(ats_connection::ActiveModel {
        org_id: Set(caller.org_id),
        ats: Set(ats),
        api_key_sealed: Set(sealed),
        updated_at: Set(now()),
    })
    .on_conflict(
        OnConflict::columns([ats_connection::Column::OrgId, ats_connection::Column::Ats])
            .update_columns([
                ats_connection::Column::ApiKeySealed,
                ats_connection::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&store.write)
    .await?;
    Ok(())
}

/// When the organization's key for `ats` was last set, if it has one.
pub async fn api_key_set_at(
    store: &Store,
    caller: &Caller,
    ats: Ats,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ServiceError> {
    Ok(ats_connection::Entity::find_by_id((caller.org_id, ats))
        .one(&store.read)
        .await?
        .map(|c| c.updated_at))
}

/// What a connection's key is sealed to: the organization and the ATS, so a sealed key copied
/// to another organization's row does not open.
fn connection_owner(org_id: Uuid, ats: Ats) -> Uuid {
    let digest = Sha256::digest([org_id.as_bytes().as_slice(), ats.name().as_bytes()].concat());
    Uuid::from_slice(&digest[..16]).unwrap_or(org_id)
}
