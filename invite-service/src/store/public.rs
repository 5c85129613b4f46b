//! Public registration links: a job may be opened to anyone who has its public URL
//! (`/p/{token}`). Registering gives the candidate an invite of their own (source `public`) and
//! emails them its link.
//!
//! - The token is 256 random bits, shown when it is made (SetJobPublicLink on a job without
//!   one) or rotated, and stored only as a hash. Turning the link off keeps the hash, so turning
//!   it on again brings the same URL back (which cannot be shown again); rotating makes a new
//!   one. Unknown, malformed, turned-off and rotated-away tokens are one and the same `None`.
//! - The answer is the same whether or not the email was known. An email that already has a
//!   live or submitted invite to the job gets that invite's link again (no second invite, no
//!   free retake); anyone else gets a new invite.
//! - Abuse limits (GCRA, shared through Redis when configured): per link, per client address
//!   and per email, taken together or not at all, before anything is written. A refused or
//!   invalid registration writes nothing.
use std::{net::IpAddr, sync::Arc};

use anyhow::Context;
use beckon_limiter::{
    memory::MemoryLimiter, redis::RedisLimiter, Admission, Limit, Rate, RateLimiter,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    invite_row::{Expiry, NewInviteRow},
    jobs, now,
    outbox::{self, NewOutbox},
    transitions::{apply, record_event, Transition},
    Caller, Store,
};
use crate::domain::email::Email;
use crate::{
    config::Config,
    db::entities::{candidate, invite, job},
    domain::{
        secret,
        validate::{Violations, MAX_NAME},
        DeliveryStatus, EventKind, InviteSource, InviteStatus, JobState, MessageKind,
    },
    error::ServiceError,
};

/// The audit trail's actor for what the candidate does through the public link.
const CANDIDATE: &str = "candidate";

/// Invites whose link a registration sends again rather than making another invite.
const REUSABLE: &[InviteStatus] = &[
    InviteStatus::Created,
    InviteStatus::Sent,
    InviteStatus::Opened,
    InviteStatus::Started,
    InviteStatus::Submitted,
];

/// A job after a change of its public link.
#[derive(Clone, Debug)]
pub struct PublicLinkChange {
    pub job: job::Model,
    /// The public URL when this change made a new token; the only time it can be shown.
    pub public_url: Option<String>,
}

/// Turns the job's public link on (making one if it has none) or off. Off keeps the token's
/// hash, so on again brings the same URL back.
pub async fn set_enabled(
    store: &Store,
    caller: &Caller,
    job_id: Uuid,
    enabled: bool,
) -> Result<PublicLinkChange, ServiceError> {
    let txn = store.write.begin().await?;
    let job = jobs::find(&txn, caller, job_id).await?;
    let mut public_url = None;
    if enabled && job.public_token_hash.is_none() {
        let token = secret::new_public_token();
        // Guarded, so that of two concurrent first enables only one token is kept and shown.
        let made = job::Entity::update_many()
            .col_expr(
                job::Column::PublicTokenHash,
                Expr::value(secret::link_token_hash(&token)),
            )
            .col_expr(job::Column::PublicLinkEnabled, Expr::value(true))
            .col_expr(job::Column::UpdatedAt, Expr::value(now()))
            .filter(job::Column::Id.eq(job.id))
            .filter(job::Column::OrgId.eq(caller.org_id))
            .filter(job::Column::PublicTokenHash.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if made {
            public_url = Some(store.config.public_link_url(&token));
        }
    }
    if public_url.is_none() {
        job::Entity::update_many()
            .col_expr(job::Column::PublicLinkEnabled, Expr::value(enabled))
            .col_expr(job::Column::UpdatedAt, Expr::value(now()))
            .filter(job::Column::Id.eq(job.id))
            .filter(job::Column::OrgId.eq(caller.org_id))
            .filter(job::Column::PublicLinkEnabled.ne(enabled))
            .exec(&txn)
            .await?;
    }
    let job = jobs::find(&txn, caller, job_id).await?;
    txn.commit().await?;
    Ok(PublicLinkChange { job, public_url })
}

/// Replaces the job's public link with a new one, turned on; the old URL stops working at once.
pub async fn rotate(
    store: &Store,
    caller: &Caller,
    job_id: Uuid,
) -> Result<PublicLinkChange, ServiceError> {
    let txn = store.write.begin().await?;
    let job = jobs::find(&txn, caller, job_id).await?;
    let token = secret::new_public_token();
    // Unguarded: of two concurrent rotations the later one's link is the one that works, as
    // after two rotations one after the other.
    job::Entity::update_many()
        .col_expr(
            job::Column::PublicTokenHash,
            Expr::value(secret::link_token_hash(&token)),
        )
        .col_expr(job::Column::PublicLinkEnabled, Expr::value(true))
        .col_expr(job::Column::UpdatedAt, Expr::value(now()))
        .filter(job::Column::Id.eq(job.id))
        .filter(job::Column::OrgId.eq(caller.org_id))
        .exec(&txn)
        .await?;
    let job = jobs::find(&txn, caller, job_id).await?;
    txn.commit().await?;
    Ok(PublicLinkChange {
        job,
        public_url: Some(store.config.public_link_url(&token)),
    })
}

/// The job behind a public token, if the token is one and its link is on. Closed jobs are
/// found too: their page says registrations are closed.
pub async fn find(store: &Store, token: &str) -> Result<Option<job::Model>, ServiceError> {
    // Malformed tokens still cost a lookup, so they take as long as well-formed unknown ones.
    let found = job::Entity::find()
        .filter(job::Column::PublicTokenHash.eq(secret::link_token_hash(token)))
        .filter(job::Column::PublicLinkEnabled.eq(true))
        .one(&store.read)
        .await?;
    Ok(found.filter(|_| secret::looks_like_link_token(token)))
}

pub fn takes_registrations(job: &job::Model) -> bool {
    job.state == JobState::Open
}

fn closed() -> ServiceError {
    ServiceError::precondition("JOB_CLOSED", "the job no longer accepts registrations")
}

/// Who registers: validated by the edge with `parse`.
#[derive(Clone, Debug)]
pub struct Registrant {
    pub name: String,
    pub email: Email,
    /// The language the person registered in (their browser's), which their emails keep.
    pub locale: Option<String>,
}

impl Registrant {
    /// `None` only with a violation recorded in `v`: see `Violations::finish_with`.
    pub fn parse(v: &mut Violations, name: &str, email: &str) -> Option<Self> {
        let name = v.required_line("name", name, MAX_NAME);
        let email = v.required_email("email", email)?;
        Some(Self {
            name,
            email,
            locale: None,
        })
    }
}

/// What a registration did. The candidate is told the same either way.
#[derive(Clone, Debug)]
pub enum Registered {
    /// A new invite, its link emailed.
    Invited(invite::Model),
    /// The email already had an invite to the job: its link was emailed again.
    Resent(invite::Model),
}

impl Registered {
    pub fn invite(&self) -> &invite::Model {
        match self {
            Registered::Invited(invite) | Registered::Resent(invite) => invite,
        }
    }

    /// Ids only: no token and no email in the log.
    pub fn log(&self) {
        let invite = self.invite();
        let resent = matches!(self, Registered::Resent(_));
        tracing::info!(job_id = %invite.job_id, invite_id = %invite.id, resent, "public registration");
    }
}

/// Registers through a public link: NOT_FOUND for a token that is not a live public link,
/// FAILED_PRECONDITION `JOB_CLOSED` for a closed job, RESOURCE_EXHAUSTED past a limit.
pub async fn register(
    store: &Store,
    limits: &Limits,
    token: &str,
    registrant: &Registrant,
    client: Option<IpAddr>,
) -> Result<Registered, ServiceError> {
    let job = find(store, token)
        .await?
        .ok_or(ServiceError::NotFound("public link"))?;
    if !takes_registrations(&job) {
        return Err(closed());
    }
    limits
        .admit(job.id, client, registrant.email.as_str())
        .await?;
    // A lost race on a unique index (a new candidate's email) is resolved by running again:
    // the second run sees the winner's rows.
    let token_hash = secret::link_token_hash(token);
    match try_register(store, job.id, &token_hash, registrant).await {
        Err(ServiceError::UniqueViolation(_)) => {
            try_register(store, job.id, &token_hash, registrant).await
        }
        other => other,
    }
}

async fn try_register(
    store: &Store,
    job_id: Uuid,
    token_hash: &str,
    registrant: &Registrant,
) -> Result<Registered, ServiceError> {
    let txn = store.write.begin().await?;
    // The link may have been turned off or rotated, or the job closed, since it was looked up.
    // The job's row is locked (on PostgreSQL; SQLite has one writer anyway), so that the same
    // email registering twice at once makes one invite: the second sees the first's.
    let job = job::Entity::find_by_id(job_id)
        .filter(job::Column::PublicTokenHash.eq(token_hash))
        .filter(job::Column::PublicLinkEnabled.eq(true))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("public link"))?;
    if !takes_registrations(&job) {
        return Err(closed());
    }
    if let Some(existing) = reusable_invite(&txn, &job, registrant.email.as_str()).await? {
        let transition = Transition {
            from: REUSABLE,
            locked: None,
            changes: vec![(
                invite::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Queued),
            )],
            event: EventKind::Resent,
            detail: "registered again through the public link; email queued".into(),
            outbox: vec![NewOutbox::to_candidate(
                &existing,
                MessageKind::PublicRegistration,
                existing.link_generation,
            )],
        };
        if let Some(invite) = apply(&txn, &existing, transition, CANDIDATE).await? {
            txn.commit().await?;
            return Ok(Registered::Resent(invite));
        }
        // It was revoked meanwhile: the candidate gets a new invite instead.
    }
    let invite = create_invite(store, &txn, &job, registrant).await?;
    txn.commit().await?;
    Ok(Registered::Invited(invite))
}

/// The email's newest invite to the job whose link still works (or shows the submission).
async fn reusable_invite(
    db: &impl ConnectionTrait,
    job: &job::Model,
    email: &str,
) -> Result<Option<invite::Model>, ServiceError> {
    Ok(invite::Entity::find()
        .filter(invite::Column::OrgId.eq(job.org_id))
        .filter(invite::Column::JobId.eq(job.id))
        .filter(invite::Column::CandidateEmail.eq(email))
        .filter(invite::Column::Status.is_in(REUSABLE.iter().copied()))
        .filter(
            Condition::any()
                .add(invite::Column::ExpiresAt.is_null())
                .add(invite::Column::ExpiresAt.gt(now())),
        )
        .order_by_desc(invite::Column::Id)
        .one(db)
        .await?)
}

async fn create_invite(
    store: &Store,
    txn: &DatabaseTransaction,
    job: &job::Model,
    registrant: &Registrant,
) -> Result<invite::Model, ServiceError> {
    let candidate = candidate(txn, job.org_id, registrant).await?;
    let invite = NewInviteRow {
        id: Uuid::now_v7(),
        job,
        candidate_id: Some(candidate.id),
        candidate_email: registrant.email.to_string(),
        candidate_name: registrant.name.clone(),
        send_email: true,
        locked: false,
        assignee_ids: Vec::new(),
        labels: Vec::new(),
        message: None,
        time_limit_minutes: None,
        expiry: Expiry::JobDefault,
        remind_after: None,
        source: InviteSource::Public,
        // No key and no inviter: the team hears through `outbox::team_messages`' public rule.
        created_by_key_id: None,
        inviter_member_id: None,
        cohort_id: None,
        external_id: None,
        // A form has no way to know it: times read in UTC.
        time_zone: None,
        // The language the registration page was read in.
        locale: registrant.locale.clone(),
        schedule: None,
    }
    .into_active_model(&store.link_key, now())
    .insert(txn)
    .await?;
    record_event(
        txn,
        &invite,
        EventKind::Created,
        CANDIDATE,
        "registered through the public link; email queued",
    )
    .await?;
    outbox::insert(
        txn,
        &invite,
        &[NewOutbox::to_candidate(
            &invite,
            MessageKind::PublicRegistration,
            0,
        )],
    )
    .await?;
    Ok(invite)
}

/// The organization's candidate with this email, made if new. An existing candidate is left as
/// it is: whoever holds a public link must not be able to rename people.
async fn candidate(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    registrant: &Registrant,
) -> Result<candidate::Model, ServiceError> {
    let existing = candidate::Entity::find()
        .filter(candidate::Column::OrgId.eq(org_id))
        .filter(candidate::Column::Email.eq(registrant.email.as_str()))
        .one(db)
        .await?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    let at = now();
    Ok(candidate::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org_id),
        email: Set(registrant.email.to_string()),
        name: Set(registrant.name.clone()),
        external_id: Set(String::new()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await?)
}

/// The public links' abuse limits: the GCRA limiter (`beckon-limiter`), on Redis when `redis_url`
/// is set (shared by every replica), else in this process.
pub struct Limits {
    limiter: Arc<dyn RateLimiter>,
    per_link: Rate,
    per_address: Rate,
    per_email: Rate,
}

impl Limits {
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let limiter: Arc<dyn RateLimiter> = match &config.redis_url {
            Some(url) => Arc::new(
                RedisLimiter::connect(url, &config.redis_key_prefix)
                    .await
                    .context("connecting the public links' rate limiter to Redis")?,
            ),
            None => Arc::new(MemoryLimiter::new()),
        };
        Ok(Self::with_limiter(config, limiter))
    }

    pub fn with_limiter(config: &Config, limiter: Arc<dyn RateLimiter>) -> Self {
        Self {
            limiter,
            per_link: config.public_rate_per_link,
            per_address: config.public_rate_per_address,
            per_email: config.public_rate_per_email,
        }
    }

    /// Takes one registration from the link's, the address's and the email's allowance, or
    /// from none of them.
    async fn admit(
        &self,
        job_id: Uuid,
        client: Option<IpAddr>,
        email: &str,
    ) -> Result<(), ServiceError> {
        let limits = self.link_address_email("public", &job_id.to_string(), client, email);
        self.take(&limits, "registrations").await
    }

    /// Takes one request for a new link (from an expired one's page) from the link's, the
    /// client address's and the email's allowance, or from none: the public pages' rates, kept
    /// apart from registrations'.
    pub async fn admit_renewal(
        &self,
        token_hash: &str,
        client: Option<IpAddr>,
        email: &str,
    ) -> Result<(), ServiceError> {
        let limits = self.link_address_email("renew", token_hash, client, email);
        self.take(&limits, "requests for a new link").await
    }

    /// Takes one enrolment-code trade from the client address's allowance (the public pages'
    /// per-address rate): codes can't be guessed, but every try costs a write.
    pub async fn admit_redemption(&self, client: Option<IpAddr>) -> Result<(), ServiceError> {
        let limit = Limit::new(
            format!("enroll:addr:{}", address_key(client)),
            self.per_address,
        );
        self.take(&[limit], "enrolment attempts").await
    }

    /// One link's, one client address's and one email's allowance, kept under `scope`. The
    /// link and the email are hashed: neither a token nor an address reaches Redis.
    fn link_address_email(
        &self,
        scope: &str,
        link: &str,
        client: Option<IpAddr>,
        email: &str,
    ) -> [Limit; 3] {
        let short_hash = |text: &str| secret::sha256_hex(text.as_bytes())[..32].to_string();
        [
            Limit::new(format!("{scope}:link:{}", short_hash(link)), self.per_link),
            Limit::new(
                format!("{scope}:addr:{}", address_key(client)),
                self.per_address,
            ),
            Limit::new(
                format!("{scope}:email:{}", short_hash(email)),
                self.per_email,
            ),
        ]
    }

    /// Takes one from each of `limits`, or from none; `what` names them when one has none left.
    async fn take(&self, limits: &[Limit], what: &'static str) -> Result<(), ServiceError> {
        match self.limiter.acquire(limits).await {
            Ok(Admission::Admitted) => Ok(()),
            Ok(Admission::RetryAfter(retry_after)) => {
                Err(ServiceError::RateLimited { retry_after, what })
            }
            // Fails closed: while the limiter is down, nobody can flood anything.
            Err(err) => Err(ServiceError::Internal(
                anyhow::Error::new(err).context(format!("the limits on {what}")),
            )),
        }
    }
}

/// The address a limit is kept for: an IPv4 address, or an IPv6 client's /64 (one host is
/// usually given a whole /64, so single addresses would be free for the taking).
fn address_key(client: Option<IpAddr>) -> String {
    match client.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        // Without a peer address (not over TCP), such clients share one allowance.
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_64() {
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            address_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }

    #[tokio::test]
    async fn one_refusal_takes_nothing_from_the_other_allowances() {
        let config = Config {
            public_rate_per_link: "100/hour burst 3".parse().expect("rate"),
            public_rate_per_address: "100/hour burst 100".parse().expect("rate"),
            public_rate_per_email: "1/hour burst 1".parse().expect("rate"),
            ..Config::default()
        };
        let limits = Limits::with_limiter(&config, Arc::new(MemoryLimiter::new()));
        let (job, client) = (Uuid::now_v7(), ip("192.0.2.1"));
        assert!(limits.admit(job, client, "a@example.com").await.is_ok());
        for _ in 0..5 {
            let refused = limits.admit(job, client, "a@example.com").await;
            assert!(
                matches!(refused, Err(ServiceError::RateLimited { retry_after, .. }) if retry_after.as_secs() > 3000),
                "{refused:?}"
            );
        }
        // The refusals took nothing from the link: two more emails fit its burst of three.
        assert!(limits.admit(job, client, "b@example.com").await.is_ok());
        assert!(limits.admit(job, client, "c@example.com").await.is_ok());
        assert!(limits.admit(job, client, "d@example.com").await.is_err());
    }
}
