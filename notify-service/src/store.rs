//! notify-service's data: deliveries (the source of truth for every message), suppressions and
//! organization templates. Every state change of a delivery is guarded by its current state, so
//! a late or duplicate worker can never take a final delivery back.
use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::Context;
use beckon_common::paging::{self, Order};
use beckon_i18n::Locale;
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

use crate::{
    config::Config,
    db::{
        entities::{delivery, suppression, template, unsubscribe},
        migrations::Migrator,
    },
    domain::{message_id, DeliveryState, MessageKind, NewMessage},
    error::NotifyError,
    seal::{OpenError, SealRing},
    templates::TemplateSource,
};

/// Every database error becomes a `NotifyError` here, once.
impl From<sea_orm::DbErr> for NotifyError {
    fn from(err: sea_orm::DbErr) -> Self {
        if beckon_common::db::is_unavailable(&err) {
            NotifyError::DatabaseUnavailable(anyhow::Error::new(err).context("database"))
        } else {
            NotifyError::Internal(anyhow::Error::new(err).context("database"))
        }
    }
}

/// Database handles: as in invite-service, SQLite writes go through one connection. The pools
/// are private: only the store runs queries.
#[derive(Clone)]
pub struct Store {
    read: DatabaseConnection,
    write: DatabaseConnection,
    pub config: Arc<Config>,
    /// Seals the variables (they hold the links) before they reach the database.
    seal: Arc<SealRing>,
    /// Sealed variables were erased since SQLite's write-ahead log was last emptied.
    erased_since_checkpoint: Arc<AtomicBool>,
    /// What the service counts, served on `metrics_addr`.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// A delivery due within this much counts as due: the clocks of replicas differ a little.
const DUE_SLACK: chrono::Duration = chrono::Duration::milliseconds(50);

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

impl Store {
    pub async fn connect(config: Arc<Config>) -> anyhow::Result<Self> {
        let default_file = config
            .database_url
            .is_none()
            .then_some(config.data_dir.as_path());
        let (read, write) = beckon_common::db::connect(
            &config.database_url(),
            default_file,
            config.max_db_connections,
            config.db_acquire_timeout(),
        )
        .await?;
        let seal = SealRing::load(
            config.seal_keys.as_ref().map(|keys| keys.expose()),
            &config.data_dir,
        )?;
        Ok(Self {
            read,
            write,
            config,
            seal: Arc::new(seal),
            // A previous run may have stopped before emptying the log.
            erased_since_checkpoint: Arc::new(AtomicBool::new(true)),
            metrics: Arc::new(crate::metrics::Metrics::new()),
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        beckon_common::db::migrate_exclusively(&self.write, async {
            Migrator::up(&self.write, None)
                .await
                .context("running notify-service migrations")
        })
        .await
    }

    /// On SQLite, checkpoints the write-ahead log from a connection of its own until `stop`.
    pub fn spawn_checkpointer(
        &self,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        beckon_common::db::spawn_checkpointer(&self.write, stop)
    }

    /// Pings the database every `interval` until `stop`, and calls `on_change` with whether it
    /// can be reached, at the start and on every change.
    pub fn watch_reachability<F, Fut>(
        &self,
        interval: std::time::Duration,
        stop: tokio::sync::watch::Receiver<bool>,
        on_change: F,
    ) -> tokio::task::JoinHandle<()>
    where
        F: FnMut(bool) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        beckon_common::db::spawn_watcher(
            self.read.clone(),
            beckon_common::db::describe(&self.config.database_url()),
            interval,
            self.config.db_acquire_timeout(),
            stop,
            on_change,
        )
    }

    /// Stores new messages and returns every message's delivery, with whether it is new. Known
    /// idempotency keys are left as they are. Suppressed recipients are recorded as such.
    pub async fn enqueue(
        &self,
        messages: &[NewMessage],
    ) -> Result<Vec<(delivery::Model, bool)>, NotifyError> {
        let at = now();
        let domain = self.config.message_id_domain();
        let recipients: Vec<&str> = messages.iter().map(|m| m.recipient.as_str()).collect();
        let bounced: HashSet<String> = suppression::Entity::find()
            .filter(suppression::Column::Address.is_in(recipients.clone()))
            .all(&self.read)
            .await?
            .into_iter()
            .map(|s| s.address)
            .collect();
        let unsubscribed: HashSet<(Uuid, String)> = unsubscribe::Entity::find()
            .filter(unsubscribe::Column::Address.is_in(recipients))
            .all(&self.read)
            .await?
            .into_iter()
            .map(|u| (u.org_id, u.address))
            .collect();
        let fresh_ids: Vec<Uuid> = messages.iter().map(|_| Uuid::now_v7()).collect();
        let mut rows = Vec::with_capacity(messages.len());
        for (m, id) in messages.iter().zip(&fresh_ids) {
            let blocked = if bounced.contains(&m.recipient) {
                Some(Blocked::Bounced)
            } else if m.kind.is_to_candidate()
                && unsubscribed.contains(&(m.org_id, m.recipient.clone()))
            {
                Some(Blocked::Unsubscribed)
            } else {
                None
            };
            let state = match blocked {
                Some(_) => DeliveryState::Suppressed,
                None => DeliveryState::Queued,
            };
            let variables = if state.is_final() {
                "{}".to_string()
            } else {
                self.seal.seal(&m.variables, &m.idempotency_key)?
            };
            rows.push(delivery::ActiveModel {
                id: Set(*id),
                idempotency_key: Set(m.idempotency_key.clone()),
                org_id: Set(m.org_id),
                kind: Set(m.kind),
                recipient: Set(m.recipient.clone()),
                recipient_name: Set(m.recipient_name.clone()),
                variables: Set(variables),
                invite_id: Set(m.invite_id.clone()),
                cohort_id: Set(m.cohort_id.clone()),
                traceparent: Set(m.traceparent.clone()),
                locale: Set(m.locale.tag().to_string()),
                state: Set(state),
                attempts: Set(0),
                last_error: Set(blocked.map(Blocked::reason).unwrap_or("").to_string()),
                message_id: Set(message_id(&m.idempotency_key, &domain)),
                next_attempt_at: Set(m.not_before.unwrap_or(at).max(at)),
                published_at: Set(at),
                lease_until: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
                sent_at: Set(None),
            });
        }
        let txn = self.write.begin().await?;
        delivery::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(delivery::Column::IdempotencyKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        let keys: Vec<&str> = messages
            .iter()
            .map(|m| m.idempotency_key.as_str())
            .collect();
        let stored = delivery::Entity::find()
            .filter(delivery::Column::IdempotencyKey.is_in(keys))
            .all(&txn)
            .await?;
        txn.commit().await?;
        let fresh: HashSet<Uuid> = fresh_ids.into_iter().collect();
        messages
            .iter()
            .map(|m| {
                let row = stored
                    .iter()
                    .find(|d| d.idempotency_key == m.idempotency_key)
                    .cloned()
                    .ok_or_else(|| {
                        NotifyError::Internal(anyhow::anyhow!("a stored delivery went missing"))
                    })?;
                let is_new = fresh.contains(&row.id);
                Ok((row, is_new))
            })
            .collect()
    }

    /// A delivery's template variables, opened to render its message. Never stored opened.
    pub fn open_variables(
        &self,
        delivery: &delivery::Model,
    ) -> Result<BTreeMap<String, String>, OpenError> {
        self.seal
            .open(&delivery.variables, &delivery.idempotency_key)
    }

    pub async fn delivery(&self, id: Uuid) -> Result<Option<delivery::Model>, NotifyError> {
        Ok(delivery::Entity::find_by_id(id).one(&self.read).await?)
    }

    /// Deliveries named by id or by idempotency key.
    pub async fn deliveries_by_ids_or_keys(
        &self,
        ids_or_keys: &[String],
    ) -> Result<Vec<delivery::Model>, NotifyError> {
        let ids: Vec<Uuid> = ids_or_keys
            .iter()
            .filter_map(|s| Uuid::parse_str(s).ok())
            .collect();
        Ok(delivery::Entity::find()
            .filter(
                Condition::any()
                    .add(delivery::Column::Id.is_in(ids))
                    .add(delivery::Column::IdempotencyKey.is_in(ids_or_keys.iter().cloned())),
            )
            .all(&self.read)
            .await?)
    }

    pub async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<Uuid>,
        size: u64,
    ) -> Result<(Vec<delivery::Model>, Option<Uuid>), NotifyError> {
        let mut query = delivery::Entity::find();
        if let Some(org) = filter.org_id {
            query = query.filter(delivery::Column::OrgId.eq(org));
        }
        if let Some(invite) = &filter.invite_id {
            query = query.filter(delivery::Column::InviteId.eq(invite.as_str()));
        }
        if let Some(cohort) = &filter.cohort_id {
            query = query.filter(delivery::Column::CohortId.eq(cohort.as_str()));
        }
        if let Some(state) = filter.state {
            query = query.filter(delivery::Column::State.eq(state));
        }
        let column = delivery::Column::Id;
        Ok(paging::fetch(
            &self.read,
            query,
            column,
            Order::Descending,
            after,
            size,
            |d| d.id,
        )
        .await?)
    }

    /// Takes the delivery for one attempt until `now + hold`, unless it is final, not due, or
    /// held by another worker. Returns when the hold ends, if taken.
    pub async fn lease(
        &self,
        id: Uuid,
        hold: Duration,
    ) -> Result<Option<DateTime<Utc>>, NotifyError> {
        let at = now();
        let until = at + chrono::Duration::from_std(hold).unwrap_or(chrono::Duration::MAX);
        let taken = delivery::Entity::update_many()
            .col_expr(delivery::Column::LeaseUntil, Expr::value(until))
            .filter(delivery::Column::Id.eq(id))
            .filter(pending())
            // Due: a retry scheduled by a worker that got there first is not taken early.
            .filter(delivery::Column::NextAttemptAt.lte(at + DUE_SLACK))
            .filter(
                Condition::any()
                    .add(delivery::Column::LeaseUntil.is_null())
                    .add(delivery::Column::LeaseUntil.lt(at)),
            )
            .exec(&self.write)
            .await?
            .rows_affected;
        Ok((taken == 1).then_some(until))
    }

    /// Records the outcome of an attempt (or a decision without one). Only a pending delivery
    /// changes; the lease is released.
    /// Records a delivery's outcome; whether it was still pending (a repeat records nothing).
    pub async fn record(&self, id: Uuid, outcome: Outcome) -> Result<bool, NotifyError> {
        let at = now();
        let mut update = delivery::Entity::update_many()
            .col_expr(delivery::Column::UpdatedAt, Expr::value(at))
            .col_expr(
                delivery::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(delivery::Column::Id.eq(id))
            .filter(pending());
        let (state, attempts, error) = match &outcome {
            // A success clears the error of an earlier attempt.
            Outcome::Sent { attempts } => {
                (DeliveryState::Sent, Some(*attempts), Some(String::new()))
            }
            Outcome::Deferred {
                attempts,
                error,
                retry_at,
            } => {
                update = update
                    .col_expr(delivery::Column::NextAttemptAt, Expr::value(*retry_at))
                    .col_expr(delivery::Column::PublishedAt, Expr::value(at));
                (
                    DeliveryState::Deferred,
                    Some(*attempts),
                    Some(error.clone()),
                )
            }
            Outcome::Failed { attempts, error } => {
                (DeliveryState::Failed, *attempts, Some(error.clone()))
            }
            Outcome::Suppressed(blocked) => (
                DeliveryState::Suppressed,
                None,
                Some(blocked.reason().to_string()),
            ),
        };
        update = update.col_expr(delivery::Column::State, Expr::value(state));
        if let Some(attempts) = attempts {
            update = update.col_expr(delivery::Column::Attempts, Expr::value(attempts));
        }
        if let Some(error) = error {
            update = update.col_expr(delivery::Column::LastError, Expr::value(error));
        }
        if matches!(outcome, Outcome::Sent { .. }) {
            update = update.col_expr(delivery::Column::SentAt, Expr::value(at));
        }
        if state.is_final() {
            // The link inside the variables has done its job.
            update = update.col_expr(delivery::Column::Variables, Expr::value("{}"));
            // Marked before as well as after: readers see the erasure at its commit, before
            // this task runs on, and a checkpoint round run then must not find nothing to do.
            // (One that runs before the update cannot take the single writer in its middle.)
            self.erased_since_checkpoint.store(true, Ordering::Relaxed);
        }
        let recorded = update.exec(&self.write).await?.rows_affected > 0;
        if recorded && state.is_final() {
            self.erased_since_checkpoint.store(true, Ordering::Relaxed);
        }
        Ok(recorded)
    }

    /// The database pools' use now, for a metrics scrape.
    pub fn pool_use(&self) -> Vec<beckon_common::db::PoolUse> {
        beckon_common::db::pool_use(&self.write, &self.read)
    }

    /// Deliveries not yet final, for a metrics scrape.
    pub async fn pending_deliveries(&self) -> Result<u64, NotifyError> {
        Ok(delivery::Entity::find()
            .filter(pending())
            .count(&self.read)
            .await?)
    }

    /// On SQLite, moves erased variables out of the write-ahead log: the database file already
    /// zeroes what is deleted (`secure_delete`), and TRUNCATE empties the log, which still holds
    /// the pages as they were. Runs only when something was erased; tried again next time when
    /// readers kept the log busy. Whether the log holds no erased variables now.
    pub async fn checkpoint_erased(&self) -> Result<bool, NotifyError> {
        if self.write.get_database_backend() != DbBackend::Sqlite
            || !self.erased_since_checkpoint.swap(false, Ordering::Relaxed)
        {
            return Ok(true);
        }
        let emptied = match self
            .write
            .query_one(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ))
            .await
        {
            // The first column says whether readers kept the checkpoint from finishing.
            Ok(Some(row)) => row.try_get_by_index::<i32>(0).map(|busy| busy == 0),
            Ok(None) => Ok(true),
            Err(err) => Err(err),
        };
        if !matches!(emptied, Ok(true)) {
            self.erased_since_checkpoint.store(true, Ordering::Relaxed);
        }
        Ok(emptied?)
    }

    /// Unfinished deliveries that nobody holds and that have been due, without being published,
    /// for longer than `older_than`: the queue may have lost them. Marks them published now.
    pub async fn take_stale(
        &self,
        older_than: Duration,
        limit: u64,
    ) -> Result<Vec<Uuid>, NotifyError> {
        let at = now();
        let cutoff = at - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
        let txn = self.write.begin().await?;
        let ids: Vec<Uuid> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(pending())
            .filter(delivery::Column::PublishedAt.lt(cutoff))
            // A retry or a `not_before` time waits in the queue's delayed set until it is due.
            .filter(delivery::Column::NextAttemptAt.lt(cutoff))
            .filter(
                Condition::any()
                    .add(delivery::Column::LeaseUntil.is_null())
                    .add(delivery::Column::LeaseUntil.lt(at)),
            )
            .limit(limit)
            .into_tuple()
            .all(&txn)
            .await?;
        if !ids.is_empty() {
            delivery::Entity::update_many()
                .col_expr(delivery::Column::PublishedAt, Expr::value(at))
                .filter(delivery::Column::Id.is_in(ids.clone()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(ids)
    }

    /// Every unfinished delivery after `after` in id order, up to `limit`, with when it is due,
    /// marked published now: for refilling a queue that lost its entries.
    pub async fn take_unfinished(
        &self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>, NotifyError> {
        let at = now();
        let txn = self.write.begin().await?;
        let mut query = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .column(delivery::Column::NextAttemptAt)
            .filter(pending())
            .order_by_asc(delivery::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(delivery::Column::Id.gt(after));
        }
        let page: Vec<(Uuid, DateTime<Utc>)> = query.into_tuple().all(&txn).await?;
        if !page.is_empty() {
            delivery::Entity::update_many()
                .col_expr(delivery::Column::PublishedAt, Expr::value(at))
                .filter(delivery::Column::Id.is_in(page.iter().map(|(id, _)| *id)))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(page)
    }

    /// Whether the organization's mail of this kind may not go to the address, and why. An
    /// unsubscribe stops a candidate's mail only: a member's notices still go.
    pub async fn blocked(
        &self,
        org_id: Uuid,
        kind: MessageKind,
        address: &str,
    ) -> Result<Option<Blocked>, NotifyError> {
        if suppression::Entity::find_by_id(address.to_string())
            .one(&self.read)
            .await?
            .is_some()
        {
            return Ok(Some(Blocked::Bounced));
        }
        if !kind.is_to_candidate() {
            return Ok(None);
        }
        let unsubscribed = unsubscribe::Entity::find_by_id((org_id, address.to_string()))
            .one(&self.read)
            .await?
            .is_some();
        Ok(unsubscribed.then_some(Blocked::Unsubscribed))
    }

    /// The addresses of `addresses` that are on the suppression list, or, given an
    /// organization, that unsubscribed from its mail.
    pub async fn suppressed_among(
        &self,
        org_id: Option<Uuid>,
        addresses: &[String],
    ) -> Result<Vec<String>, NotifyError> {
        let mut found = BTreeSet::new();
        // Bounded statements: SQLite limits the number of bound values.
        for chunk in addresses.chunks(1000) {
            found.extend(
                suppression::Entity::find()
                    .filter(suppression::Column::Address.is_in(chunk.iter().cloned()))
                    .all(&self.read)
                    .await?
                    .into_iter()
                    .map(|s| s.address),
            );
            if let Some(org_id) = org_id {
                found.extend(
                    unsubscribe::Entity::find()
                        .filter(unsubscribe::Column::OrgId.eq(org_id))
                        .filter(unsubscribe::Column::Address.is_in(chunk.iter().cloned()))
                        .all(&self.read)
                        .await?
                        .into_iter()
                        .map(|u| u.address),
                );
            }
        }
        Ok(found.into_iter().collect())
    }

    /// The address asked the organization for no more mail. Idempotent.
    pub async fn unsubscribe(&self, org_id: Uuid, address: &str) -> Result<(), NotifyError> {
        unsubscribe::Entity::insert(unsubscribe::ActiveModel {
            org_id: Set(org_id),
            address: Set(address.to_string()),
            created_at: Set(now()),
        })
        .on_conflict(
            OnConflict::columns([unsubscribe::Column::OrgId, unsubscribe::Column::Address])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    pub async fn suppress(&self, address: &str, reason: &str) -> Result<(), NotifyError> {
        suppression::Entity::insert(suppression::ActiveModel {
            address: Set(address.to_string()),
            reason: Set(reason.to_string()),
            created_at: Set(now()),
        })
        .on_conflict(
            OnConflict::column(suppression::Column::Address)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    pub async fn list_suppressions(
        &self,
        after: Option<String>,
        size: u64,
    ) -> Result<(Vec<suppression::Model>, Option<String>), NotifyError> {
        let query = suppression::Entity::find();
        let column = suppression::Column::Address;
        let address_of = |s: &suppression::Model| s.address.clone();
        Ok(paging::fetch(
            &self.read,
            query,
            column,
            Order::Ascending,
            after,
            size,
            address_of,
        )
        .await?)
    }

    /// Removes an address from the list; true if it was there.
    pub async fn unsuppress(&self, address: &str) -> Result<bool, NotifyError> {
        let removed = suppression::Entity::delete_by_id(address.to_string())
            .exec(&self.write)
            .await?
            .rows_affected;
        Ok(removed > 0)
    }

    /// The organization's template a message in `locale` uses: the one for the language, else
    /// the one for every language; with the language it is for (`None`: every language).
    pub async fn org_template(
        &self,
        org_id: Uuid,
        kind: MessageKind,
        locale: Locale,
    ) -> Result<Option<(TemplateSource, Option<Locale>)>, NotifyError> {
        let mut found = template::Entity::find()
            .filter(template::Column::OrgId.eq(org_id))
            .filter(template::Column::Kind.eq(kind))
            .filter(template::Column::Locale.is_in([locale.tag(), ""]))
            .all(&self.read)
            .await?;
        // Its own language's first.
        found.sort_by_key(|t| t.locale.is_empty());
        Ok(found.into_iter().next().map(|t| {
            let source = TemplateSource {
                subject: t.subject,
                text_body: t.text_body,
                html_body: t.html_body,
            };
            (source, (!t.locale.is_empty()).then_some(locale))
        }))
    }

    /// The organization's template for a kind in exactly this language (`None`: the one for
    /// every language).
    pub async fn stored_template(
        &self,
        org_id: Uuid,
        kind: MessageKind,
        locale: Option<Locale>,
    ) -> Result<Option<TemplateSource>, NotifyError> {
        Ok(
            template::Entity::find_by_id((
                org_id,
                kind,
                locale.map_or("", Locale::tag).to_string(),
            ))
            .one(&self.read)
            .await?
            .map(|t| TemplateSource {
                subject: t.subject,
                text_body: t.text_body,
                html_body: t.html_body,
            }),
        )
    }

    /// Writes the organization's template for a kind in a language (`None`: every language).
    pub async fn put_template(
        &self,
        org_id: Uuid,
        kind: MessageKind,
        locale: Option<Locale>,
        source: &TemplateSource,
    ) -> Result<(), NotifyError> {
        template::Entity::insert(template::ActiveModel {
            org_id: Set(org_id),
            kind: Set(kind),
            locale: Set(locale.map_or("", Locale::tag).to_string()),
            subject: Set(source.subject.clone()),
            text_body: Set(source.text_body.clone()),
            html_body: Set(source.html_body.clone()),
            updated_at: Set(now()),
        })
        .on_conflict(
            OnConflict::columns([
                template::Column::OrgId,
                template::Column::Kind,
                template::Column::Locale,
            ])
            .update_columns([
                template::Column::Subject,
                template::Column::TextBody,
                template::Column::HtmlBody,
                template::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    /// Removes the organization's template for a kind in a language (`None`: every language).
    pub async fn delete_template(
        &self,
        org_id: Uuid,
        kind: MessageKind,
        locale: Option<Locale>,
    ) -> Result<(), NotifyError> {
        template::Entity::delete_by_id((org_id, kind, locale.map_or("", Locale::tag).to_string()))
            .exec(&self.write)
            .await?;
        Ok(())
    }
}

fn pending() -> Condition {
    Condition::all().add(delivery::Column::State.is_in(DeliveryState::PENDING.iter().copied()))
}

#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    pub org_id: Option<Uuid>,
    pub invite_id: Option<String>,
    pub cohort_id: Option<String>,
    pub state: Option<DeliveryState>,
}

/// What a worker decided about a delivery.
#[derive(Clone, Debug)]
pub enum Outcome {
    Sent {
        attempts: i32,
    },
    Deferred {
        attempts: i32,
        error: String,
        retry_at: DateTime<Utc>,
    },
    Failed {
        attempts: Option<i32>,
        error: String,
    },
    Suppressed(Blocked),
}

/// Why nothing may be sent to an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// It bounced: nobody's mail goes to it.
    Bounced,
    /// It asked the organization for no more mail.
    Unsubscribed,
}

impl Blocked {
    pub fn reason(self) -> &'static str {
        match self {
            Blocked::Bounced => "recipient is on the suppression list",
            Blocked::Unsubscribed => "the recipient unsubscribed from this organization's email",
        }
    }
}
