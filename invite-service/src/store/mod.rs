//! Operations on Beckon's data: each function validates what the domain requires, runs in one
//! transaction, and returns rows as sea-orm models. Every query is scoped to the caller's
//! organization. Nothing here knows about gRPC or HTTP.
pub mod ats;
pub mod backlog;
pub mod candidates;
pub mod cohorts;
pub mod enrollments;
pub mod idempotency;
pub mod invite_row;
pub mod invites;
pub mod jobs;
pub mod key_cache;
pub mod links;
pub mod organization;
pub mod outbox;
pub mod paging;
pub mod public;
pub mod renewals;
pub mod sweeps;
pub mod transitions;
pub mod webhooks;
pub mod writer;

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use key_cache::KeyCache;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, SqlErr, TransactionError};
use sea_orm_migration::MigratorTrait;
use tokio::{sync::watch, task::JoinHandle};
use uuid::Uuid;

use crate::{
    config::Config,
    db::migrations::Migrator,
    domain::{secret::LinkKey, Scope},
    error::ServiceError,
};

/// Who is calling: resolved from the API key on every request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub org_id: Uuid,
    pub key_id: Uuid,
    pub scope: Scope,
    /// The member the key belongs to, if any.
    pub owner_member_id: Option<Uuid>,
}

impl Caller {
    pub fn actor(&self) -> String {
        format!("key:{}", self.key_id)
    }
}

/// Database handles. SQLite allows one writer at a time, so writes there go through a pool of
/// one connection and never meet a "database is locked" error; PostgreSQL uses one pool for both.
/// The pools are private: only `store` runs queries.
#[derive(Clone)]
pub struct Store {
    read: DatabaseConnection,
    write: DatabaseConnection,
    pub config: Arc<Config>,
    pub link_key: Arc<LinkKey>,
    /// Verified API keys (`organization::authenticate`).
    pub keys: Arc<KeyCache>,
    /// What the edges count, served on `metrics_addr` (every part of the server holds the
    /// store, so it carries them).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// CreateInvites and counted opens, written in batches.
    writer: writer::Writer,
    /// Organizations' default languages, for link pages that know no closer one.
    default_locales: Arc<organization::DefaultLocales>,
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
        // SQLite is one process: its own revocations are all there are to hear.
        let keys = KeyCache::new(read.get_database_backend() == DbBackend::Sqlite);
        let link_key = Arc::new(load_link_key(&config)?);
        let writer = writer::Writer::spawn(writer::Context {
            db: write.clone(),
            link_key: link_key.clone(),
            config: config.clone(),
        });
        Ok(Self {
            read,
            write,
            keys: Arc::new(keys),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            link_key,
            config,
            writer,
            default_locales: Arc::default(),
        })
    }

    /// The candidate-facing URL of an invite's link at a generation.
    pub fn link_url(&self, invite_id: Uuid, generation: i32) -> String {
        self.config
            .link_url(&self.link_key.token(invite_id, generation))
    }

    /// The UID of an invite's calendar event, the same for every version of it, whatever the
    /// settings become: the invite's id (a UUID, unique on its own) in Beckon's name.
    pub fn calendar_uid(&self, invite_id: Uuid) -> String {
        format!("{invite_id}@beckon.invite")
    }

    /// The invite's unsubscribe link (mail sent in bulk carries it).
    pub fn unsubscribe_url(&self, invite_id: Uuid) -> String {
        self.config
            .unsubscribe_url(&self.link_key.unsubscribe_token(invite_id))
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migrate_then(async { Ok(()) }).await
    }

    /// Migrates, then runs `then`, both under the migration lock: what replicas starting
    /// together must do one at a time (the first organization is made once).
    pub async fn migrate_then<T>(
        &self,
        then: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        beckon_common::db::migrate_exclusively(&self.write, async {
            Migrator::up(&self.write, None)
                .await
                .context("running database migrations")?;
            then.await
        })
        .await
    }

    /// On SQLite, checkpoints the write-ahead log from a connection of its own until `stop`.
    pub fn spawn_checkpointer(&self, stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
        beckon_common::db::spawn_checkpointer(&self.write, stop)
    }

    /// On PostgreSQL, listens for keys revoked on other replicas until `stop`.
    pub fn spawn_key_listener(&self, stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
        key_cache::spawn_listener(self.keys.clone(), &self.read, stop)
    }

    /// Pings the database every `interval` until `stop`, and calls `on_change` with whether it
    /// can be reached, at the start and on every change.
    pub fn watch_reachability<F, Fut>(
        &self,
        interval: Duration,
        stop: watch::Receiver<bool>,
        on_change: F,
    ) -> JoinHandle<()>
    where
        F: FnMut(bool) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
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
}

/// Every database error becomes a `ServiceError` here, once: a lost race on a unique index is
/// told apart (running the operation again sees the winner's row), and so is a database that
/// cannot be reached.
impl From<DbErr> for ServiceError {
    fn from(err: DbErr) -> Self {
        let unique = matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)));
        let unavailable = beckon_common::db::is_unavailable(&err);
        let err = anyhow::Error::new(err).context("database");
        if unique {
            ServiceError::UniqueViolation(err)
        } else if unavailable {
            ServiceError::Unavailable(err)
        } else {
            ServiceError::Internal(err)
        }
    }
}

impl From<TransactionError<ServiceError>> for ServiceError {
    fn from(err: TransactionError<ServiceError>) -> Self {
        match err {
            TransactionError::Connection(db) => db.into(),
            TransactionError::Transaction(inner) => inner,
        }
    }
}

/// Now, to the microsecond: what PostgreSQL keeps, so a row built in memory is the row stored.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    to_stored_precision(chrono::Utc::now())
}

/// A time as the databases store it (microseconds).
pub(crate) fn to_stored_precision(
    at: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    chrono::SubsecRound::trunc_subsecs(at, 6)
}

/// The configured link key, or the one kept in the data folder (made on first start).
fn load_link_key(config: &Config) -> anyhow::Result<LinkKey> {
    if let Some(secret) = &config.link_secret {
        return LinkKey::decode(secret.expose())
            .context("link_secret is not 32 bytes of base64url");
    }
    let path = config.data_dir.join("link-secret");
    match std::fs::read_to_string(&path) {
        Ok(text) => LinkKey::decode(&text)
            .with_context(|| format!("{} does not hold a link key", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&config.data_dir)?;
            let key = LinkKey::generate();
            write_private(&path, &key.encode())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "made a new link key");
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}
