//! `beckon-bench cohort`: a 10,000-candidate BulkCreateInvites on a running invite-service (the
//! release binary, as a child process, so that its peak memory is its own), timed until every
//! invite and outbox row is committed, against a raw insert of as many invite and outbox rows
//! into the same schema; then the time until the last email reaches an SMTP sink, against the
//! configured relay rate.
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    str::FromStr,
    time::{Duration, Instant},
};

use anyhow::Context;
use beckon_proto::invite::v1::{
    invite_service_client::InviteServiceClient, job_service_client::JobServiceClient,
    BulkCreateInvitesRequest, CreateJobRequest, Job,
};
use chrono::{DateTime, Utc};
use sea_orm::sqlx::{
    self,
    postgres::{PgConnection, PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
        SqliteSynchronous,
    },
    Connection,
};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::{server, sink::SmtpSink, BackendChoice, DEFAULT_POSTGRES_URL};

#[derive(clap::Args, Debug)]
pub struct CohortArgs {
    /// Which databases to run against. `both` skips PostgreSQL if it cannot be reached.
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    pub backend: BackendChoice,
    /// Candidates in the pasted list (at most invite-service's max_bulk_rows, 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub candidates: usize,
    /// notify-service's relay rate limit (emails per second) for the email phase.
    #[arg(long, default_value_t = 500.0)]
    pub relay_rate: f64,
    /// Its burst.
    #[arg(long, default_value_t = 50)]
    pub relay_burst: u32,
    /// invite-service's `cohort_chunk_size` (members per transaction); its default if unset.
    #[arg(long)]
    pub chunk_size: Option<u64>,
    /// The invite-service binary; defaults to `invite-service` next to this one.
    #[arg(long)]
    pub invite_service: Option<PathBuf>,
    /// PostgreSQL server (on this machine) to make throwaway databases on.
    #[arg(long, env = "BECKON_TEST_POSTGRES_URL", default_value = DEFAULT_POSTGRES_URL)]
    pub postgres_url: String,
}

/// Bounds every wait of this suite.
const COHORT_WAIT: Duration = Duration::from_secs(300);
const STARTUP_WAIT: Duration = Duration::from_secs(60);
/// The cohort's time against the raw load of its rows, at most.
const COHORT_TARGET: f64 = 1.5;
/// The service's peak memory until the cohort is done, at most.
const PEAK_MEMORY_TARGET_MIB: u64 = 64;
/// notify-service's `workers` and SMTP pool size in this suite.
const MAIL_CONCURRENCY: u32 = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        }
    }
}

struct Report {
    db: Db,
    call: Duration,
    cohort: Duration,
    raw: Duration,
    invites: i64,
    outbox_at_done: i64,
    hwm_idle_kib: Option<u64>,
    hwm_cohort_kib: Option<u64>,
    hwm_mail_kib: Option<u64>,
    mail: Option<MailTimes>,
}

struct MailTimes {
    arrived: u64,
    to_last: Duration,
    first_to_last: Option<Duration>,
}

pub async fn run(args: CohortArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(
        (1..=10_000).contains(&args.candidates),
        "--candidates must be between 1 and 10000"
    );
    anyhow::ensure!(
        args.relay_rate > 0.0 && args.relay_rate <= 100_000.0 && args.relay_burst >= 1,
        "--relay-rate must be in (0, 100000] and --relay-burst at least 1"
    );
    let binary = match &args.invite_service {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the folder of this binary")?
            .join("invite-service"),
    };
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: build it with `cargo build --release -p invite-service` (or pass \
         --invite-service)",
        binary.display()
    );
    let dbs: &[Db] = match args.backend {
        BackendChoice::Sqlite => &[Db::Sqlite],
        BackendChoice::Postgres => &[Db::Postgres],
        BackendChoice::Both => &[Db::Sqlite, Db::Postgres],
    };
    if dbs.contains(&Db::Postgres) {
        server::check_postgres_is_local(&args.postgres_url)?;
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "beckon-bench cohort: {cpus} CPUs; {} candidates (pasted list, send_email = true); \
         invite-service as a child process ({}); relay rate {}/s, burst {}; notify workers and \
         SMTP pool {MAIL_CONCURRENCY}",
        args.candidates,
        binary.display(),
        args.relay_rate,
        args.relay_burst
    );
    println!();
    let mut reports = Vec::new();
    let mut ok = true;
    for &db in dbs {
        let result = match db {
            Db::Sqlite => bench_db(&args, &binary, db, None).await.map(Some),
            Db::Postgres => bench_postgres(&args, &binary).await,
        };
        match result {
            Ok(Some(report)) => reports.push(report),
            Ok(None) => println!("{}: skipped: PostgreSQL not reachable", db.name()),
            Err(err) => {
                ok = false;
                println!("{}: failed: {err:#}", db.name());
            }
        }
    }
    println!(
        "{:<9} {:>8} {:>10} {:>10} {:>8} {:>7}  ratio",
        "backend", "call s", "cohort s", "raw s", "invites", "outbox"
    );
    for r in &reports {
        let ratio = r.cohort.as_secs_f64() / r.raw.as_secs_f64().max(1e-9);
        println!(
            "{:<9} {:>8.2} {:>10.2} {:>10.3} {:>8} {:>7}  ratio {ratio:.2} (target <= {COHORT_TARGET}: {})",
            r.db.name(),
            r.call.as_secs_f64(),
            r.cohort.as_secs_f64(),
            r.raw.as_secs_f64(),
            r.invites,
            r.outbox_at_done,
            if ratio <= COHORT_TARGET { "met" } else { "MISSED" }
        );
        if r.invites != args.candidates as i64 {
            ok = false;
        }
    }
    println!(
        "call: BulkCreateInvites answered (preview + cohort stored); cohort: from the call to \
         the cohort's row reading `done` (its last chunk commits the last invites and outbox \
         rows with it); raw: {} invite rows + {} outbox rows in one transaction (SQLite: one \
         prepared INSERT per table; PostgreSQL: COPY); outbox: rows present when the cohort \
         was seen done (the relay may already have handed some over).",
        args.candidates, args.candidates
    );
    println!();
    let kib = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| format!("{} MiB", v / 1024));
    println!(
        "{:<9} {:>14} {:>16} {:>16}  peak during the cohort",
        "backend", "VmHWM at idle", "after the cohort", "after the emails"
    );
    for r in &reports {
        let verdict = match r.hwm_cohort_kib {
            Some(peak) if peak <= PEAK_MEMORY_TARGET_MIB * 1024 => "met",
            Some(_) => "MISSED",
            None => "not measured",
        };
        println!(
            "{:<9} {:>14} {:>16} {:>16}  target <= {PEAK_MEMORY_TARGET_MIB} MiB: {verdict}",
            r.db.name(),
            kib(r.hwm_idle_kib),
            kib(r.hwm_cohort_kib),
            kib(r.hwm_mail_kib)
        );
    }
    println!(
        "(VmHWM: peak resident memory of the invite-service process, which runs notify-service \
         inside it; the target holds the peak until the cohort is done.)"
    );
    println!();
    let floor = (args.candidates as f64 - f64::from(args.relay_burst)).max(0.0) / args.relay_rate;
    println!(
        "emails: relay limit {}/s burst {} => the last of {} emails cannot arrive before \
         {floor:.1} s after the first",
        args.relay_rate, args.relay_burst, args.candidates
    );
    println!(
        "{:<9} {:>8} {:>15} {:>18} {:>8}",
        "backend", "emails", "call->last s", "first->last s", "mail/s"
    );
    for r in &reports {
        match &r.mail {
            Some(m) => {
                let span = m.first_to_last.map(|d| d.as_secs_f64());
                println!(
                    "{:<9} {:>8} {:>15.2} {:>18} {:>8}",
                    r.db.name(),
                    m.arrived,
                    m.to_last.as_secs_f64(),
                    span.map_or_else(|| "-".into(), |s| format!("{s:.2}")),
                    span.map_or_else(
                        || "-".into(),
                        |s| format!("{:.0}", m.arrived.saturating_sub(1) as f64 / s.max(1e-9))
                    )
                );
                if m.arrived != args.candidates as u64 {
                    ok = false;
                }
            }
            None => {
                ok = false;
                println!("{:<9} emails did not all arrive", r.db.name());
            }
        }
    }
    Ok(ok)
}

async fn bench_postgres(args: &CohortArgs, binary: &Path) -> anyhow::Result<Option<Report>> {
    let admin = match server::connect_admin(&args.postgres_url).await {
        Ok(admin) => admin,
        Err(err) if args.backend == BackendChoice::Both => {
            eprintln!("postgres: not reachable at {}: {err:#}", args.postgres_url);
            return Ok(None);
        }
        Err(err) => return Err(err.context("connecting to PostgreSQL")),
    };
    let (service_db, service_url) =
        server::create_postgres_database(&admin, &args.postgres_url).await?;
    let raw_db = server::create_postgres_database(&admin, &args.postgres_url).await;
    let result = match &raw_db {
        Ok((_, raw_url)) => {
            bench_db(
                args,
                binary,
                Db::Postgres,
                Some((service_url, raw_url.clone())),
            )
            .await
        }
        Err(_) => Err(anyhow::anyhow!("could not make the second database")),
    };
    for name in std::iter::once(&service_db).chain(raw_db.as_ref().ok().map(|(n, _)| n)) {
        if let Err(err) = server::drop_postgres_database(&admin, name).await {
            eprintln!("postgres: could not drop {name}: {err:#}");
        }
    }
    let _ = admin.close().await;
    result.map(Some)
}

/// `urls`: PostgreSQL's (service database, raw-insert database); `None` for SQLite files.
async fn bench_db(
    args: &CohortArgs,
    binary: &Path,
    db: Db,
    urls: Option<(String, String)>,
) -> anyhow::Result<Report> {
    let name = db.name();
    // The raw insert first, into a database of its own with the same schema.
    let raw = raw_insert(
        db,
        args.candidates,
        urls.as_ref().map(|(_, raw)| raw.clone()),
    )
    .await
    .context("the raw insert")?;
    eprintln!(
        "{name}: raw insert of {} + {} rows: {:.3} s",
        args.candidates,
        args.candidates,
        raw.as_secs_f64()
    );

    let sink = SmtpSink::start().await?;
    let data_dir = tempfile::tempdir()?;
    let service_url = match &urls {
        Some((service, _)) => service.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            data_dir.path().join("beckon.db").display()
        ),
    };
    let mut child = InviteProcess::start(binary, args, data_dir.path(), &urls, &sink)?;
    let result = cohort_run(args, db, &mut child, &sink, &service_url).await;
    child.stop();
    let (call, cohort, invites, outbox_at_done, hwm_idle, hwm_cohort, hwm_mail, mail) = result?;
    Ok(Report {
        db,
        call,
        cohort,
        raw,
        invites,
        outbox_at_done,
        hwm_idle_kib: hwm_idle,
        hwm_cohort_kib: hwm_cohort,
        hwm_mail_kib: hwm_mail,
        mail,
    })
}

type CohortOutcome = (
    Duration,
    Duration,
    i64,
    i64,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<MailTimes>,
);

async fn cohort_run(
    args: &CohortArgs,
    db: Db,
    child: &mut InviteProcess,
    sink: &SmtpSink,
    service_url: &str,
) -> anyhow::Result<CohortOutcome> {
    let name = db.name();
    eprintln!(
        "{name}: invite-service (pid {}) on {}",
        child.pid, child.addr
    );
    let channel = Channel::from_shared(format!("http://{}", child.addr))?
        .timeout(COHORT_WAIT)
        .connect()
        .await
        .context("connecting to invite-service")?;
    let auth = crate::bearer(&child.admin_key)?;
    let job = JobServiceClient::new(channel.clone())
        .create_job(crate::authorized(
            CreateJobRequest {
                job: Some(Job {
                    title: "Cohort benchmark".into(),
                    assessment_url: "https://assess.example.com/start".into(),
                    ..Job::default()
                }),
                request_id: String::new(),
            },
            &auth,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the job: {}", crate::status_text(&s)))?
        .into_inner();
    let pasted: String = (0..args.candidates)
        .map(|i| format!("Candidate {i} <cand{i}@d{}.bench.example.com>\n", i % 100))
        .collect();
    let poll = DbPoll::connect(db, service_url).await?;
    let hwm_idle = vm_hwm_kib(child.pid);

    let began = Instant::now();
    let answer = InviteServiceClient::new(channel.clone())
        .max_decoding_message_size(64 * 1024 * 1024)
        .bulk_create_invites(crate::authorized(
            BulkCreateInvitesRequest {
                job_id: job.id.clone(),
                pasted_list: pasted,
                send_email: true,
                ..BulkCreateInvitesRequest::default()
            },
            &auth,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("BulkCreateInvites: {}", crate::status_text(&s)))?
        .into_inner();
    let call = began.elapsed();
    let cohort = answer.cohort.context("BulkCreateInvites made no cohort")?;
    let cohort_id = Uuid::parse_str(&cohort.id).context("the cohort id")?;
    let deadline = began + COHORT_WAIT;
    loop {
        if poll.cohort_done(cohort_id).await? {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the cohort was not done within {} s",
            COHORT_WAIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cohort_time = began.elapsed();
    let hwm_cohort = vm_hwm_kib(child.pid);
    let (invites, outbox) = poll.counts(cohort_id).await?;
    eprintln!(
        "{name}: cohort done in {:.2} s ({invites} invites; {outbox} outbox rows at that moment; \
         {} emails so far)",
        cohort_time.as_secs_f64(),
        sink.accepted()
    );
    let all = sink.wait_for(args.candidates as u64, COHORT_WAIT).await;
    let hwm_mail = vm_hwm_kib(child.pid);
    let mail = all.then(|| {
        let (first, last) = sink.first_and_last();
        MailTimes {
            arrived: sink.accepted(),
            to_last: last.map_or_else(|| began.elapsed(), |last| last - began),
            first_to_last: first.zip(last).map(|(f, l)| l - f),
        }
    });
    poll.close().await;
    Ok((
        call,
        cohort_time,
        invites,
        outbox,
        hwm_idle,
        hwm_cohort,
        hwm_mail,
        mail,
    ))
}

/// Peak resident memory of a process, from /proc/<pid>/status.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The service's database, read from outside the service.
enum DbPoll {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl DbPoll {
    async fn connect(db: Db, url: &str) -> anyhow::Result<Self> {
        Ok(match db {
            Db::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .read_only(true)
                    .busy_timeout(Duration::from_secs(10));
                DbPoll::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_with(options)
                        .await
                        .context("opening the service's SQLite file")?,
                )
            }
            Db::Postgres => DbPoll::Postgres(
                PgPoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .context("connecting to the service's database")?,
            ),
        })
    }

    async fn cohort_done(&self, id: Uuid) -> anyhow::Result<bool> {
        let state: Option<String> = match self {
            DbPoll::Sqlite(pool) => {
                sqlx::query_scalar("SELECT state FROM cohorts WHERE id = ?")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
            }
            DbPoll::Postgres(pool) => {
                sqlx::query_scalar("SELECT state FROM cohorts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
            }
        };
        // `sending`: every invite and outbox row is committed; only the emails remain.
        Ok(matches!(state.as_deref(), Some("sending" | "done")))
    }

    async fn counts(&self, cohort: Uuid) -> anyhow::Result<(i64, i64)> {
        Ok(match self {
            DbPoll::Sqlite(pool) => (
                sqlx::query_scalar("SELECT COUNT(*) FROM invites WHERE cohort_id = ?")
                    .bind(cohort)
                    .fetch_one(pool)
                    .await?,
                sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
                    .fetch_one(pool)
                    .await?,
            ),
            DbPoll::Postgres(pool) => (
                sqlx::query_scalar("SELECT COUNT(*) FROM invites WHERE cohort_id = $1")
                    .bind(cohort)
                    .fetch_one(pool)
                    .await?,
                sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
                    .fetch_one(pool)
                    .await?,
            ),
        })
    }

    async fn close(self) {
        match self {
            DbPoll::Sqlite(pool) => pool.close().await,
            DbPoll::Postgres(pool) => pool.close().await,
        }
    }
}

/// invite-service as a child process, configured by environment variables as an operator would.
struct InviteProcess {
    child: Child,
    pid: u32,
    addr: std::net::SocketAddr,
    admin_key: String,
}

impl InviteProcess {
    fn start(
        binary: &Path,
        args: &CohortArgs,
        data_dir: &Path,
        urls: &Option<(String, String)>,
        sink: &SmtpSink,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
            .env("BECKON_DATA_DIR", data_dir)
            .env("BECKON_NOTIFY_SMTP__HOST", "127.0.0.1")
            .env("BECKON_NOTIFY_SMTP__PORT", sink.addr.port().to_string())
            .env("BECKON_NOTIFY_SMTP__SECURITY", "none")
            // lettre waits ~40 ms per message on loopback (see BENCHMARKS.md): 32 workers and
            // connections are needed for 500/s, so that the relay limit is what binds.
            .env("BECKON_NOTIFY_WORKERS", MAIL_CONCURRENCY.to_string())
            .env(
                "BECKON_NOTIFY_SMTP__POOL_SIZE",
                MAIL_CONCURRENCY.to_string(),
            )
            .env("BECKON_NOTIFY_SMTP__TIMEOUT_SECS", "10")
            .env(
                "BECKON_NOTIFY_RELAY_RATE",
                format!("{}/second burst {}", args.relay_rate, args.relay_burst),
            )
            // Only the relay's limit is meant to bind.
            .env(
                "BECKON_NOTIFY_ORGANIZATION_RATE",
                "1000000/second burst 100000",
            )
            .env("BECKON_NOTIFY_DOMAIN_RATE", "1000000/second burst 100000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((service, _)) = urls {
            command.env("BECKON_DATABASE_URL", service);
        }
        if let Some(chunk_size) = args.chunk_size {
            command.env("BECKON_COHORT_CHUNK_SIZE", chunk_size.to_string());
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("the child's stdout")?;
        // The banner is read on a thread (bounded by a timeout); the rest of stdout is drained.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let (mut addr, mut key, mut next_is_key) = (None, None, false);
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if next_is_key {
                    key = Some(line.trim().to_string());
                    next_is_key = false;
                } else if let Some(rest) = line.strip_prefix("Beckon invite-service listening on ")
                {
                    addr = Some(rest.trim().to_string());
                } else if line.starts_with("A new database: this is its admin API key") {
                    next_is_key = true;
                } else if line.starts_with("Press Ctrl-C to stop.") {
                    let _ = tx.send((addr.take(), key.take()));
                    break;
                }
            }
            for _ in lines {}
        });
        let banner = rx.recv_timeout(STARTUP_WAIT);
        let mut process = Self {
            child,
            pid,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_key: String::new(),
        };
        let (addr, key) = match banner {
            Ok((Some(addr), Some(key))) => (addr, key),
            Ok(_) => {
                process.stop();
                anyhow::bail!("invite-service printed no address or no admin key");
            }
            Err(_) => {
                process.stop();
                anyhow::bail!(
                    "invite-service did not start within {} s",
                    STARTUP_WAIT.as_secs()
                );
            }
        };
        process.addr = addr.parse().context("the address invite-service printed")?;
        process.admin_key = key;
        Ok(process)
    }

    /// SIGTERM (a graceful stop), then SIGKILL if it has not exited within 10 s.
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for InviteProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Makes a database with invite-service's schema, one organization and one job (through the
/// server itself, in this process, then stopped), and times inserting `count` invite rows and
/// `count` outbox rows in one transaction.
async fn raw_insert(
    db: Db,
    count: usize,
    postgres_url: Option<String>,
) -> anyhow::Result<Duration> {
    let server = crate::server::BenchServer::start(postgres_url).await?;
    let channel = Channel::from_shared(server.base_url.clone())?
        .connect()
        .await?;
    let auth = crate::bearer(&server.admin_key)?;
    let job = JobServiceClient::new(channel)
        .create_job(crate::authorized(
            CreateJobRequest {
                job: Some(Job {
                    title: "Raw insert".into(),
                    assessment_url: "https://assess.example.com/start".into(),
                    ..Job::default()
                }),
                request_id: String::new(),
            },
            &auth,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the job: {}", crate::status_text(&s)))?
        .into_inner();
    let job_id = Uuid::parse_str(&job.id)?;
    let url = server.database_url.clone();
    // Kept until the end: for SQLite it owns the folder the file is in.
    let result = async {
        // Nothing else writes now: the server is stopped before the clock starts.
        let server_stopped = server.stop_keep_data().await?;
        let elapsed = match db {
            Db::Sqlite => raw_sqlite(&url, job_id, count).await?,
            Db::Postgres => raw_postgres(&url, job_id, count).await?,
        };
        drop(server_stopped);
        Ok::<_, anyhow::Error>(elapsed)
    }
    .await;
    result
}

struct Row {
    invite_id: Uuid,
    outbox_id: Uuid,
    email: String,
    name: String,
    token_hash: String,
}

fn rows(count: usize) -> Vec<Row> {
    let salt = Uuid::now_v7().as_u128();
    (0..count)
        .map(|i| Row {
            invite_id: Uuid::now_v7(),
            outbox_id: Uuid::now_v7(),
            email: format!("cand{i}@d{}.bench.example.com", i % 100),
            name: format!("Candidate {i}"),
            // 64 hex digits, unique, like a SHA-256 in hex.
            token_hash: format!("{salt:032x}{i:032x}"),
        })
        .collect()
}

const INVITE_COLUMNS: &str = "id, org_id, job_id, candidate_email, candidate_name, token_hash, \
     status, delivery_status, locked, assignee_ids, labels, message, time_limit_minutes, \
     open_count, send_count, source, created_at, updated_at, link_generation";
const OUTBOX_COLUMNS: &str = "id, org_id, invite_id, kind, recipient, recipient_name, \
     link_generation, state, delivery_state, attempts, next_attempt_at, last_error, created_at, \
     updated_at";

async fn raw_sqlite(url: &str, job_id: Uuid, count: usize) -> anyhow::Result<Duration> {
    // As invite-service opens it: WAL, synchronous = NORMAL.
    let options = SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let org_id: Uuid = sqlx::query_scalar("SELECT org_id FROM jobs WHERE id = ?")
        .bind(job_id)
        .fetch_one(&mut conn)
        .await?;
    let rows = rows(count);
    let invite_sql = format!(
        "INSERT INTO invites ({INVITE_COLUMNS}) VALUES \
         (?, ?, ?, ?, ?, ?, 'created', 'queued', ?, '[]', '[]', '', 0, 0, 0, 'bulk', ?, ?, 0)"
    );
    let outbox_sql = format!(
        "INSERT INTO outbox ({OUTBOX_COLUMNS}) VALUES \
         (?, ?, ?, 'invite', ?, ?, 0, 'pending', 'queued', 0, ?, '', ?, ?)"
    );
    let began = Instant::now();
    let at: DateTime<Utc> = Utc::now();
    let mut tx = conn.begin().await?;
    for row in &rows {
        sqlx::query(&invite_sql)
            .bind(row.invite_id)
            .bind(org_id)
            .bind(job_id)
            .bind(&row.email)
            .bind(&row.name)
            .bind(&row.token_hash)
            .bind(false)
            .bind(at)
            .bind(at)
            .execute(&mut *tx)
            .await?;
    }
    for row in &rows {
        sqlx::query(&outbox_sql)
            .bind(row.outbox_id)
            .bind(org_id)
            .bind(row.invite_id)
            .bind(&row.email)
            .bind(&row.name)
            .bind(at)
            .bind(at)
            .bind(at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let elapsed = began.elapsed();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invites")
        .fetch_one(&mut conn)
        .await?;
    anyhow::ensure!(n == count as i64, "the raw insert left {n} invites");
    conn.close().await?;
    Ok(elapsed)
}

/// COPY's text format: backslash, tab and line breaks escaped.
fn copy_text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

async fn raw_postgres(url: &str, job_id: Uuid, count: usize) -> anyhow::Result<Duration> {
    let mut conn = PgConnection::connect(url).await?;
    let org_id: Uuid = sqlx::query_scalar("SELECT org_id FROM jobs WHERE id = $1")
        .bind(job_id)
        .fetch_one(&mut conn)
        .await?;
    let rows = rows(count);
    let began = Instant::now();
    let at = Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
    let mut invites = String::with_capacity(count * 300);
    let mut outbox = String::with_capacity(count * 200);
    for row in &rows {
        let (email, name) = (copy_text(&row.email), copy_text(&row.name));
        invites.push_str(&format!(
            "{}\t{org_id}\t{job_id}\t{email}\t{name}\t{}\tcreated\tqueued\tf\t[]\t[]\t\t0\t0\t0\tbulk\t{at}\t{at}\t0\n",
            row.invite_id, row.token_hash
        ));
        outbox.push_str(&format!(
            "{}\t{org_id}\t{}\tinvite\t{email}\t{name}\t0\tpending\tqueued\t0\t{at}\t\t{at}\t{at}\n",
            row.outbox_id, row.invite_id
        ));
    }
    let mut tx = conn.begin().await?;
    let mut copy = tx
        .copy_in_raw(&format!("COPY invites ({INVITE_COLUMNS}) FROM STDIN"))
        .await?;
    copy.send(invites.as_bytes()).await?;
    copy.finish().await?;
    let mut copy = tx
        .copy_in_raw(&format!("COPY outbox ({OUTBOX_COLUMNS}) FROM STDIN"))
        .await?;
    copy.send(outbox.as_bytes()).await?;
    copy.finish().await?;
    tx.commit().await?;
    let elapsed = began.elapsed();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invites")
        .fetch_one(&mut conn)
        .await?;
    anyhow::ensure!(n == count as i64, "the raw insert left {n} invites");
    conn.close().await?;
    Ok(elapsed)
}
