//! Limit baselines: what the fastest plain client does with the rows a request writes or reads,
//! on the service's own database (so the same schema and the same rows around), at the same
//! concurrency, while the service is idle. Each database phase is printed as a ratio to one.
//!
//! - SQLite (rusqlite, the libsqlite3 sqlx uses): writes go to one writer thread that commits
//!   every pending request, up to 128, in one transaction (group commit), for async clients that
//!   each await their commit; reads run on threads with a connection each.
//! - PostgreSQL (plain sqlx): each task writes 16 requests per transaction, one multi-row
//!   statement per table; reads are one query per request on a pool.
//!
//! Writes are what the service writes for the same request: for an invite, the candidate
//! upsert, the invite and its `created` event (store/invites.rs `try_create`); for an open, the
//! invite's update and its `opened` event (store/links.rs `count_open`).
use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{types::Value, OpenFlags, OptionalExtension, TransactionBehavior};
use sea_orm::sqlx::{
    self,
    postgres::{PgPool, PgPoolOptions},
    Postgres, QueryBuilder, Row as _,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::load::{self, PhaseStats, Plan};

/// Requests one SQLite transaction commits at most.
const GROUP_COMMIT: usize = 128;
/// Requests one PostgreSQL transaction writes.
const POSTGRES_BATCH: usize = 16;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const CANDIDATE_NAME: &str = "Bench Candidate";
/// A link returned to be shared (`send_email = false`), as the CreateInvite phase asks for.
const CREATED_DETAIL: &str = "link returned to be shared";
const OPENED_DETAIL: &str = "browser: Firefox";
const LIVE: &str = "('created', 'sent', 'opened', 'started')";
const UNOPENED: &str = "('created', 'sent')";

/// The service's database, and the organization and job the invites go to.
pub enum LimitDb {
    Sqlite {
        path: PathBuf,
        /// As stored: sqlx keeps a uuid as a 16-byte blob in SQLite.
        org_id: Value,
        job_id: Value,
        key_id: Value,
    },
    Postgres {
        pool: PgPool,
        org_id: Uuid,
        job_id: Uuid,
        key_id: Uuid,
    },
}

/// The `created` event's actor, as the service names an API key.
fn actor(key_id: Uuid) -> String {
    format!("key:{key_id}")
}

/// A fresh candidate email per request of the phase.
fn email(seq: u64) -> String {
    format!("limit-{seq}@bench.example.com")
}

/// A unique token hash (64 hex digits, like the SHA-256 the service stores).
fn token_hash(salt: u128, seq: u64) -> String {
    format!("{salt:032x}{seq:032x}")
}

impl LimitDb {
    /// `database_url`: the service's; `job_id`: the job the bench made; `concurrency`: the
    /// PostgreSQL pool's size.
    pub async fn open(
        database_url: &str,
        job_id: Uuid,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let key_id = Uuid::now_v7();
        if let Some(rest) = database_url.strip_prefix("sqlite://") {
            let path = PathBuf::from(rest.split('?').next().unwrap_or(rest));
            let conn = open_sqlite(&path, false)?;
            let job_id = Value::Blob(job_id.as_bytes().to_vec());
            let org_id: Value = conn
                .query_row("SELECT org_id FROM jobs WHERE id = ?1", [&job_id], |row| {
                    row.get(0)
                })
                .context("reading the job's organization")?;
            return Ok(LimitDb::Sqlite {
                path,
                org_id,
                job_id,
                key_id: Value::Blob(key_id.as_bytes().to_vec()),
            });
        }
        let pool = PgPoolOptions::new()
            .max_connections(u32::try_from(concurrency).unwrap_or(u32::MAX))
            // No ping on every checkout: the fastest plain client.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect(database_url)
            .await
            .context("connecting the limit baselines' pool")?;
        let org_id: Uuid = sqlx::query_scalar("SELECT org_id FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_one(&pool)
            .await
            .context("reading the job's organization")?;
        Ok(LimitDb::Postgres {
            pool,
            org_id,
            job_id,
            key_id,
        })
    }

    pub async fn close(self) {
        if let LimitDb::Postgres { pool, .. } = self {
            pool.close().await;
        }
    }

    /// The rows of a CreateInvite (a new candidate each): candidate upsert, invite, `created`
    /// event.
    pub async fn create_invites(&self, plan: Plan) -> anyhow::Result<PhaseStats> {
        let salt = Uuid::now_v7().as_u128();
        match self {
            LimitDb::Sqlite {
                path,
                org_id,
                job_id,
                key_id,
            } => {
                let (org_id, job_id, key_id) = (org_id.clone(), job_id.clone(), key_id.clone());
                let actor = actor(uuid_of(&key_id)?);
                let writer = GroupWriter::start(path, move |tx, seq: u64| {
                    let at = sqlite_time(Utc::now());
                    let invite_id = Value::Blob(Uuid::now_v7().as_bytes().to_vec());
                    let email = email(seq);
                    let candidate_id: Value = tx
                        .prepare_cached(
                            "INSERT INTO candidates (id, org_id, email, name, external_id, \
                             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, '', ?5, ?5) \
                             ON CONFLICT (org_id, email) DO UPDATE SET name = excluded.name, \
                             updated_at = excluded.updated_at RETURNING id",
                        )?
                        .query_row(
                            rusqlite::params![
                                Uuid::now_v7().as_bytes().as_slice(),
                                org_id,
                                email,
                                CANDIDATE_NAME,
                                at
                            ],
                            |row| row.get(0),
                        )?;
                    tx.prepare_cached(
                        "INSERT INTO invites (id, org_id, job_id, candidate_id, candidate_email, \
                         candidate_name, token_hash, status, delivery_status, locked, \
                         assignee_ids, labels, message, time_limit_minutes, expires_at, \
                         open_count, send_count, source, created_by_key_id, created_at, \
                         updated_at, link_generation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                         'sent', 'not_requested', 0, '[]', '[]', '', 0, NULL, 0, 0, 'api', ?8, \
                         ?9, ?9, 0)",
                    )?
                    .execute(rusqlite::params![
                        invite_id,
                        org_id,
                        job_id,
                        candidate_id,
                        email,
                        CANDIDATE_NAME,
                        token_hash(salt, seq),
                        key_id,
                        at
                    ])?;
                    tx.prepare_cached(
                        "INSERT INTO invite_events (id, org_id, invite_id, kind, actor, detail, \
                         created_at) VALUES (?1, ?2, ?3, 'created', ?4, ?5, ?6)",
                    )?
                    .execute(rusqlite::params![
                        Uuid::now_v7().as_bytes().as_slice(),
                        org_id,
                        invite_id,
                        actor,
                        CREATED_DETAIL,
                        at
                    ])?;
                    Ok(())
                })?;
                writer.run(plan, |seq| seq).await
            }
            LimitDb::Postgres {
                pool,
                org_id,
                job_id,
                key_id,
            } => {
                let (pool, org_id, job_id, key_id) = (pool.clone(), *org_id, *job_id, *key_id);
                let stats = load::run(plan, move |batch| {
                    let pool = pool.clone();
                    async move {
                        postgres_invites(&pool, org_id, job_id, key_id, salt, batch)
                            .await
                            .map_err(|err| format!("{err:#}"))
                    }
                })
                .await?;
                Ok(stats.in_batches_of(POSTGRES_BATCH as u64))
            }
        }
    }

    /// The read behind a link page: the invite by its token hash, joined to its job.
    pub async fn look_up_links(
        &self,
        plan: Plan,
        hashes: Vec<String>,
    ) -> anyhow::Result<PhaseStats> {
        anyhow::ensure!(!hashes.is_empty(), "no links to look up");
        match self {
            LimitDb::Sqlite { path, .. } => {
                let path = path.clone();
                load::run_threads(
                    plan,
                    move || open_sqlite(&path, true),
                    move |conn, seq| {
                        let hash = &hashes[(seq % hashes.len() as u64) as usize];
                        sqlite_lookup(conn, hash).map_err(|err| format!("{err:#}"))
                    },
                )
                .await
            }
            LimitDb::Postgres { pool, .. } => {
                let pool = pool.clone();
                let hashes = std::sync::Arc::new(hashes);
                load::run(plan, move |seq| {
                    let pool = pool.clone();
                    let hashes = hashes.clone();
                    async move {
                        let hash = &hashes[(seq % hashes.len() as u64) as usize];
                        let found = sqlx::query(LOOKUP_POSTGRES)
                            .bind(hash)
                            .fetch_optional(&pool)
                            .await
                            .map_err(|err| err.to_string())?;
                        found
                            .map(drop)
                            .ok_or_else(|| "no invite for a link's token hash".to_string())
                    }
                })
                .await
            }
        }
    }

    /// The writes of a counted open: the invite's update and its `opened` event.
    pub async fn record_opens(
        &self,
        plan: Plan,
        hashes: Vec<String>,
    ) -> anyhow::Result<PhaseStats> {
        anyhow::ensure!(
            hashes.len() >= POSTGRES_BATCH,
            "at least {POSTGRES_BATCH} links are needed"
        );
        match self {
            LimitDb::Sqlite { path, .. } => {
                let writer = GroupWriter::start(path, move |tx, hash: String| {
                    let at = sqlite_time(Utc::now());
                    let (invite_id, org_id): (Value, Value) = tx
                        .prepare_cached(&format!(
                            "UPDATE invites SET open_count = open_count + 1, \
                             status = CASE WHEN status IN {UNOPENED} THEN 'opened' ELSE status END, \
                             first_opened_at = COALESCE(first_opened_at, ?1), updated_at = ?1 \
                             WHERE token_hash = ?2 AND status IN {LIVE} RETURNING id, org_id"
                        ))?
                        .query_row(rusqlite::params![at, hash], |row| {
                            Ok((row.get(0)?, row.get(1)?))
                        })?;
                    tx.prepare_cached(
                        "INSERT INTO invite_events (id, org_id, invite_id, kind, actor, detail, \
                         created_at) VALUES (?1, ?2, ?3, 'opened', 'candidate', ?4, ?5)",
                    )?
                    .execute(rusqlite::params![
                        Uuid::now_v7().as_bytes().as_slice(),
                        org_id,
                        invite_id,
                        OPENED_DETAIL,
                        at
                    ])?;
                    Ok(())
                })?;
                writer
                    .run(plan, move |seq| {
                        hashes[(seq % hashes.len() as u64) as usize].clone()
                    })
                    .await
            }
            LimitDb::Postgres { pool, .. } => {
                let pool = pool.clone();
                let hashes = std::sync::Arc::new(hashes);
                let stats = load::run(plan, move |batch| {
                    let pool = pool.clone();
                    // Consecutive links, so that batches in flight at the same time do not
                    // share rows (with at least 16 x concurrency links).
                    let batch: Vec<String> = (0..POSTGRES_BATCH as u64)
                        .map(|i| {
                            let seq = batch * POSTGRES_BATCH as u64 + i;
                            hashes[(seq % hashes.len() as u64) as usize].clone()
                        })
                        .collect();
                    async move {
                        postgres_opens(&pool, &batch)
                            .await
                            .map_err(|err| format!("{err:#}"))
                    }
                })
                .await?;
                Ok(stats.in_batches_of(POSTGRES_BATCH as u64))
            }
        }
    }
}

fn uuid_of(value: &Value) -> anyhow::Result<Uuid> {
    match value {
        Value::Blob(bytes) => Ok(Uuid::from_slice(bytes)?),
        _ => anyhow::bail!("a uuid that is not a 16-byte blob"),
    }
}

/// As sqlx writes a timestamp into SQLite.
fn sqlite_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A connection as invite-service opens its file: WAL, `synchronous = NORMAL`, foreign keys on.
fn open_sqlite(path: &std::path::Path, read_only: bool) -> anyhow::Result<rusqlite::Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = rusqlite::Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
    anyhow::ensure!(
        mode.eq_ignore_ascii_case("wal"),
        "the service's SQLite file is not in WAL mode ({mode})"
    );
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

const LOOKUP_SQLITE: &str = "SELECT i.*, j.* FROM invites i \
     JOIN jobs j ON j.id = i.job_id AND j.org_id = i.org_id WHERE i.token_hash = ?1";
const LOOKUP_POSTGRES: &str = "SELECT i.*, j.* FROM invites i \
     JOIN jobs j ON j.id = i.job_id AND j.org_id = i.org_id WHERE i.token_hash = $1";

/// Reads every column, as the service does to show the page.
fn sqlite_lookup(conn: &rusqlite::Connection, hash: &str) -> anyhow::Result<()> {
    let mut statement = conn.prepare_cached(LOOKUP_SQLITE)?;
    let columns = statement.column_count();
    let found = statement
        .query_row([hash], |row| {
            let mut bytes = 0;
            for i in 0..columns {
                bytes += match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        t.len()
                    }
                    _ => 8,
                };
            }
            Ok(bytes)
        })
        .optional()?;
    anyhow::ensure!(found.is_some(), "no invite for a link's token hash");
    Ok(())
}

/// SQLite's limit writer: one thread, one connection, a transaction per batch of pending
/// requests; every request of a batch is answered after its commit.
struct GroupWriter<R> {
    sender: mpsc::Sender<(R, oneshot::Sender<Result<(), String>>)>,
    thread: std::thread::JoinHandle<()>,
}

impl<R: Send + 'static> GroupWriter<R> {
    fn start<W>(path: &std::path::Path, mut write: W) -> anyhow::Result<Self>
    where
        W: FnMut(&rusqlite::Transaction, R) -> rusqlite::Result<()> + Send + 'static,
    {
        let mut conn = open_sqlite(path, false)?;
        let (sender, mut receiver) =
            mpsc::channel::<(R, oneshot::Sender<Result<(), String>>)>(GROUP_COMMIT * 8);
        let thread = std::thread::spawn(move || {
            let mut batch = Vec::with_capacity(GROUP_COMMIT);
            while let Some(first) = receiver.blocking_recv() {
                batch.push(first);
                while batch.len() < GROUP_COMMIT {
                    match receiver.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (requests, replies): (Vec<R>, Vec<_>) = batch.drain(..).unzip();
                // A failed batch is rolled back whole: all of it failed.
                let result = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .and_then(|tx| {
                        for request in requests {
                            write(&tx, request)?;
                        }
                        tx.commit()
                    })
                    .map_err(|err| err.to_string());
                for reply in replies {
                    let _ = reply.send(result.clone());
                }
            }
        });
        Ok(Self { sender, thread })
    }

    /// The phase: each task sends `request(seq)` and awaits its commit.
    async fn run<F>(self, plan: Plan, request: F) -> anyhow::Result<PhaseStats>
    where
        F: Fn(u64) -> R + Send + Sync + 'static,
    {
        let sender = self.sender.clone();
        let stats = load::run(plan, move |seq| {
            let sender = sender.clone();
            let request = request(seq);
            async move {
                let (reply, answer) = oneshot::channel();
                sender
                    .send((request, reply))
                    .await
                    .map_err(|_| "the writer thread stopped".to_string())?;
                answer
                    .await
                    .map_err(|_| "the writer thread dropped a request".to_string())?
            }
        })
        .await;
        drop(self.sender);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .context("joining the writer thread")?
            .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
        stats
    }
}

/// One transaction: 16 candidates, invites and `created` events, a multi-row INSERT each.
async fn postgres_invites(
    pool: &PgPool,
    org_id: Uuid,
    job_id: Uuid,
    key_id: Uuid,
    salt: u128,
    batch: u64,
) -> anyhow::Result<()> {
    let at = Utc::now();
    let seqs: Vec<u64> = (0..POSTGRES_BATCH as u64)
        .map(|i| batch * POSTGRES_BATCH as u64 + i)
        .collect();
    let mut tx = pool.begin().await?;
    let mut candidates = QueryBuilder::<Postgres>::new(
        "INSERT INTO candidates (id, org_id, email, name, external_id, created_at, updated_at) ",
    );
    candidates.push_values(&seqs, |mut row, &seq| {
        row.push_bind(Uuid::now_v7())
            .push_bind(org_id)
            .push_bind(email(seq))
            .push_bind(CANDIDATE_NAME)
            .push_bind("")
            .push_bind(at)
            .push_bind(at);
    });
    candidates.push(
        " ON CONFLICT (org_id, email) DO UPDATE SET name = EXCLUDED.name, \
         updated_at = EXCLUDED.updated_at RETURNING id, email",
    );
    let upserted = candidates.build().fetch_all(&mut *tx).await?;
    let mut rows = Vec::with_capacity(seqs.len());
    for &seq in &seqs {
        let email = email(seq);
        let candidate_id: Uuid = upserted
            .iter()
            .find(|row| row.try_get::<&str, _>(1).is_ok_and(|e| e == email))
            .context("a candidate was not upserted")?
            .try_get(0)?;
        rows.push((Uuid::now_v7(), candidate_id, email, token_hash(salt, seq)));
    }
    let mut invites = QueryBuilder::<Postgres>::new(
        "INSERT INTO invites (id, org_id, job_id, candidate_id, candidate_email, candidate_name, \
         token_hash, status, delivery_status, locked, assignee_ids, labels, message, \
         time_limit_minutes, expires_at, open_count, send_count, source, created_by_key_id, \
         created_at, updated_at, link_generation) ",
    );
    invites.push_values(&rows, |mut row, (id, candidate_id, email, hash)| {
        row.push_bind(*id)
            .push_bind(org_id)
            .push_bind(job_id)
            .push_bind(*candidate_id)
            .push_bind(email.as_str())
            .push_bind(CANDIDATE_NAME)
            .push_bind(hash.as_str())
            .push_bind("sent")
            .push_bind("not_requested")
            .push_bind(false)
            // Empty lists, as literals: the columns are jsonb.
            .push("'[]'")
            .push("'[]'")
            .push_bind("")
            .push_bind(0_i32)
            .push_bind(None::<DateTime<Utc>>)
            .push_bind(0_i32)
            .push_bind(0_i32)
            .push_bind("api")
            .push_bind(key_id)
            .push_bind(at)
            .push_bind(at)
            .push_bind(0_i32);
    });
    invites.build().execute(&mut *tx).await?;
    let actor = actor(key_id);
    let mut events = QueryBuilder::<Postgres>::new(
        "INSERT INTO invite_events (id, org_id, invite_id, kind, actor, detail, created_at) ",
    );
    events.push_values(&rows, |mut row, (invite_id, ..)| {
        row.push_bind(Uuid::now_v7())
            .push_bind(org_id)
            .push_bind(*invite_id)
            .push_bind("created")
            .push_bind(actor.as_str())
            .push_bind(CREATED_DETAIL)
            .push_bind(at);
    });
    events.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// One transaction: one UPDATE of 16 invites, then their `opened` events in one INSERT.
async fn postgres_opens(pool: &PgPool, hashes: &[String]) -> anyhow::Result<()> {
    let at = Utc::now();
    let mut tx = pool.begin().await?;
    let opened = sqlx::query(&format!(
        "UPDATE invites SET open_count = open_count + 1, \
         status = CASE WHEN status IN {UNOPENED} THEN 'opened' ELSE status END, \
         first_opened_at = COALESCE(first_opened_at, $1), updated_at = $1 \
         WHERE token_hash = ANY($2) AND status IN {LIVE} RETURNING id, org_id"
    ))
    .bind(at)
    .bind(hashes)
    .fetch_all(&mut *tx)
    .await?;
    anyhow::ensure!(
        opened.len() == hashes.len(),
        "{} of {} links were live",
        opened.len(),
        hashes.len()
    );
    let mut events = QueryBuilder::<Postgres>::new(
        "INSERT INTO invite_events (id, org_id, invite_id, kind, actor, detail, created_at) ",
    );
    let mut bad = None;
    events.push_values(&opened, |mut row, invite| {
        let ids = (invite.try_get::<Uuid, _>(0), invite.try_get::<Uuid, _>(1));
        let (invite_id, org_id) = match ids {
            (Ok(invite_id), Ok(org_id)) => (invite_id, org_id),
            (Err(err), _) | (_, Err(err)) => {
                bad = Some(err);
                (Uuid::nil(), Uuid::nil())
            }
        };
        row.push_bind(Uuid::now_v7())
            .push_bind(org_id)
            .push_bind(invite_id)
            .push_bind("opened")
            .push_bind("candidate")
            .push_bind(OPENED_DETAIL)
            .push_bind(at);
    });
    if let Some(err) = bad {
        return Err(err.into());
    }
    events.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
