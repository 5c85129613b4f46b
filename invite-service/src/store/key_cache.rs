//! Verified API keys, kept in memory so that a call makes no key read. An entry dies when its key
//! is revoked: on this replica at once, and on the others through PostgreSQL `LISTEN/NOTIFY`.
//! A revocation answers OK only once every replica listening for revocations has confirmed it
//! dropped the key; a replica whose listener is not connected uses no cache at all. On SQLite (one
//! process) the in-process invalidation is enough. A TTL bounds an entry's life as a backstop.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use sea_orm::{
    sqlx::{
        self,
        postgres::{PgListener, PgPoolOptions},
        PgPool,
    },
    ConnectionTrait, DatabaseConnection, DbBackend, Statement,
};
use tokio::{sync::broadcast, sync::watch, task::JoinHandle};
use uuid::Uuid;

use super::Caller;

/// How long a verified key is trusted without reading it again, even if no revocation is heard.
const TTL: Duration = Duration::from_secs(30);
/// At most this many keys are kept; a full cache first drops expired entries, then all.
const CAPACITY: usize = 10_000;
/// Payload: the revoked key's id.
const REVOKED: &str = "beckon_api_key_revoked";
/// Payload: the key id a listener dropped, or `*` when it starts listening with an empty cache.
const FORGOTTEN: &str = "beckon_api_key_forgotten";
/// The listeners' connections carry this name, so a revocation can find them all.
const LISTENER_NAME: &str = "beckon-api-key-listener";
/// How long a revocation waits for every listening replica to confirm.
const CONFIRM_WITHIN: Duration = Duration::from_secs(10);
/// The wait before reconnecting a listener that lost its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

struct Entry {
    secret_hash: String,
    caller: Caller,
    verified_at: Instant,
}

pub struct KeyCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Bumped by every invalidation: a key read before a bump is not cached after it.
    generation: AtomicU64,
    /// Off on PostgreSQL while no listener hears revocations.
    enabled: AtomicBool,
    /// Follows `enabled`, for a revocation that must hear the confirmations.
    listening: watch::Sender<bool>,
    /// Confirmations heard by this replica's listener: (key id or `*`, listener's backend pid).
    confirmations: broadcast::Sender<(String, i64)>,
}

impl KeyCache {
    /// `listening`: whether revocations reach this cache without a listener (SQLite).
    pub fn new(listening: bool) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            enabled: AtomicBool::new(listening),
            listening: watch::channel(listening).0,
            confirmations: broadcast::channel(1024).0,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves only a map of cached keys: still usable.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The caller behind a key prefix, if cached and fresh, with the stored secret hash.
    pub fn get(&self, prefix: &str) -> Option<(String, Caller)> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries();
        let entry = entries.get(prefix)?;
        (entry.verified_at.elapsed() < TTL)
            .then(|| (entry.secret_hash.clone(), entry.caller.clone()))
    }

    /// The generation to pass to `insert` for a key about to be read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches a verified key, unless something was invalidated since `generation` was taken.
    pub fn insert(&self, generation: u64, prefix: &str, secret_hash: &str, caller: &Caller) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries();
        // Checked under the lock that invalidations take: no stale entry slips in after one.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.retain(|_, entry| entry.verified_at.elapsed() < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            prefix.to_string(),
            Entry {
                secret_hash: secret_hash.to_string(),
                caller: caller.clone(),
                verified_at: Instant::now(),
            },
        );
    }

    /// Drops a key (revoked).
    pub fn forget(&self, key_id: Uuid) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, entry| entry.caller.key_id != key_id);
    }

    /// Drops every key and turns the cache on or off.
    fn reset(&self, enabled: bool) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.enabled.store(enabled, Ordering::Release);
        entries.clear();
        self.listening.send_replace(enabled);
    }

    /// Starts hearing confirmations, before a revocation commits: waits (bounded) for this
    /// replica's listener to be connected, since confirmations reach this replica through it.
    pub async fn subscribe(&self) -> anyhow::Result<broadcast::Receiver<(String, i64)>> {
        let mut listening = self.listening.subscribe();
        tokio::time::timeout(CONFIRM_WITHIN, listening.wait_for(|on| *on))
            .await
            .context("waiting to listen for API key revocations")??;
        Ok(self.confirmations.subscribe())
    }
}

/// The statement that tells every listening replica a key was revoked; runs in the revoking
/// transaction, so it is delivered only if that commits.
pub fn revoked_notice(key_id: Uuid) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [REVOKED.into(), key_id.to_string().into()],
    )
}

/// Waits until every replica listening for revocations has dropped `key_id` (or started listening
/// afresh since `confirmations` was subscribed).
pub async fn await_confirmations(
    pool: &PgPool,
    key_id: Uuid,
    mut confirmations: broadcast::Receiver<(String, i64)>,
) -> anyhow::Result<()> {
    let listeners: Vec<i64> = sqlx::query_scalar(
        "SELECT pid::int8 FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = $1",
    )
    .bind(LISTENER_NAME)
    .fetch_all(pool)
    .await
    .context("finding the replicas that cache API keys")?;
    let mut waiting: HashSet<i64> = listeners.into_iter().collect();
    let key_id = key_id.to_string();
    let confirmed = async {
        while !waiting.is_empty() {
            match confirmations.recv().await {
                Ok((id, pid)) if id == key_id || id == "*" => {
                    waiting.remove(&pid);
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    anyhow::bail!("missed confirmations of an API key revocation")
                }
                Err(broadcast::error::RecvError::Closed) => {
                    anyhow::bail!("stopped hearing confirmations of API key revocations")
                }
            }
        }
        Ok(())
    };
    tokio::time::timeout(CONFIRM_WITHIN, confirmed)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "{} replica(s) did not confirm the API key revocation in time",
                waiting.len()
            )
        })?
}

/// Listens for revocations on PostgreSQL, keeping the cache on only while connected; on SQLite
/// there is nothing to listen to.
pub fn spawn_listener(
    cache: std::sync::Arc<KeyCache>,
    db: &DatabaseConnection,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if db.get_database_backend() != DbBackend::Postgres {
        return None;
    }
    let options = db
        .get_postgres_connection_pool()
        .connect_options()
        .as_ref()
        .clone()
        .application_name(LISTENER_NAME);
    // Its own connection: a listener holds one for good.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    Some(tokio::spawn(async move {
        loop {
            let result = tokio::select! {
                result = listen(&cache, &pool) => result,
                _ = stop.wait_for(|stop| *stop) => return,
            };
            cache.reset(false);
            if let Err(err) = result {
                tracing::debug!(error = %format!("{err:#}"), "API key listener disconnected");
            }
            tokio::select! {
                _ = tokio::time::sleep(RECONNECT_AFTER) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }))
}

/// Follows revocations until the connection is lost.
async fn listen(cache: &KeyCache, pool: &PgPool) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection is handled here (cache off, then a fresh start), not inside sqlx.
    listener.eager_reconnect(false);
    listener.listen_all([REVOKED, FORGOTTEN]).await?;
    // From here on every revocation is heard, so the cache may start afresh.
    cache.reset(true);
    confirm(&mut listener, "*").await?;
    while let Some(notice) = listener.try_recv().await? {
        match notice.channel() {
            REVOKED => {
                if let Ok(key_id) = Uuid::parse_str(notice.payload()) {
                    cache.forget(key_id);
                }
                confirm(&mut listener, notice.payload()).await?;
            }
            _ => {
                let _ = cache
                    .confirmations
                    .send((notice.payload().to_string(), i64::from(notice.process_id())));
            }
        }
    }
    Ok(())
}

async fn confirm(listener: &mut PgListener, what: &str) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(FORGOTTEN)
        .bind(what)
        .execute(listener)
        .await?;
    Ok(())
}
