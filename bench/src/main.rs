//! `beckon-bench`: how fast invite-service makes invites and opens links, next to hello-world
//! requests on the very same server stack.
//!
//! For each database it boots invite-service in this process on 127.0.0.1:0 (as the end-to-end
//! tests do) and runs these phases, each a warm-up and then a measured window:
//!
//! 1. `grpc.health.v1.Health/Check`: unary gRPC that touches no database (the gRPC baseline);
//! 2. the invites limit: the rows of a CreateInvite written by a plain client (`limits.rs`);
//! 3. `CreateInvite`: a new candidate each call, no email; compared with 1 and 2;
//! 4. `GET /healthz`: a static HTTP route (the HTTP baseline);
//! 5. the lookup limit: the invite by token hash joined to its job, by a plain client;
//! 6. `GET /i/{token}`: a candidate's link page (links made beforehand); compared with 4 and 5;
//! 7. the opens limit: an open's update and event, by a plain client;
//! 8. `POST /i/{token}/opened`: the page's beacon, which records an open; compared with 7.
//!
//! The service's phases share one client each: a tonic `Channel` for gRPC, a `reqwest::Client`
//! for HTTP. The load runs in the same process as the server.
mod cohort;
mod limits;
mod load;
mod notify;
mod postfix;
mod receiver;
mod server;
mod sink;
mod webhooks;

use std::{
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use beckon_proto::invite::v1::{
    invite_service_client::InviteServiceClient, job_service_client::JobServiceClient,
    CreateInviteRequest, CreateJobRequest, Job,
};
use clap::{Parser, ValueEnum};
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::Channel,
    Request, Status,
};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

use crate::{
    limits::LimitDb,
    load::{PhaseStats, Plan},
    server::BenchServer,
};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Bounds each request; a request that takes longer counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser, Debug)]
#[command(
    name = "beckon-bench",
    about = "Throughput of CreateInvite, link pages and recorded opens against gRPC and HTTP \
             hello-world baselines on the same invite-service and against plain-client limit \
             baselines on the same database, on SQLite and PostgreSQL"
)]
struct Args {
    /// Another suite instead of the default run: `notify` (issue 3), `cohort` (issue 4) or
    /// `webhooks`.
    #[command(subcommand)]
    suite: Option<Suite>,
    /// Which databases to run against. `both` skips PostgreSQL if it cannot be reached.
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    backend: BackendChoice,
    /// Measured seconds per phase (after the warm-up).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Warm-up seconds per phase, not counted.
    #[arg(long, default_value_t = 1.0)]
    warmup_seconds: f64,
    /// Concurrent load tasks, all on one shared client.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Invites made before the link phase; the phase cycles through their links.
    #[arg(long, default_value_t = 2000)]
    links: usize,
    /// Hard cap on the requests one phase sends, warm-up included.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// PostgreSQL server (on this machine) to make a throwaway database on.
    #[arg(long, env = "BECKON_TEST_POSTGRES_URL", default_value = DEFAULT_POSTGRES_URL)]
    postgres_url: String,
}

#[derive(clap::Subcommand, Debug)]
enum Suite {
    /// notify-service: throughput against the SMTP sink's ceiling, Redis limiter accuracy with
    /// two replicas, and the limiter's cost against a no-op EVALSHA.
    Notify(notify::NotifyArgs),
    /// A 10,000-candidate BulkCreateInvites against a raw insert of the same rows, its peak
    /// memory, and the time until the last email against the relay rate limit.
    Cohort(cohort::CohortArgs),
    /// invite-service's webhook delivery loop posting already-due messages, against a plain
    /// reqwest loop posting the same signed bodies to the same receiver.
    Webhooks(webhooks::WebhookArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn create_invite_target(self) -> f64 {
        match self {
            Backend::Sqlite => 0.5,
            Backend::Postgres => 0.3,
        }
    }
}

const LINK_OPEN_TARGET: f64 = 0.5;
/// Each database phase against its limit baseline.
const LIMIT_TARGET: f64 = 0.5;
/// CreateInvite's p99 / p50: no stalls (such as checkpoints) on the writer.
const TAIL_TARGET: f64 = 3.0;
/// What a link page's beacon says it is: a browser, so the open counts.
const BROWSER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// One line of the table.
struct Row {
    backend: Backend,
    phase: &'static str,
    stats: PhaseStats,
    /// Empty for a baseline.
    checks: Vec<Check>,
}

/// A figure of a phase held against its target.
struct Check {
    what: &'static str,
    value: f64,
    target: Target,
}

enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Check {
    /// This phase's rate as a share of a baseline's.
    fn ratio(what: &'static str, rate: f64, baseline: f64, at_least: f64) -> Self {
        Self {
            what,
            value: rate / baseline.max(f64::MIN_POSITIVE),
            target: Target::AtLeast(at_least),
        }
    }

    fn text(&self) -> String {
        // A baseline that measured nothing (it failed) proves nothing.
        if !self.value.is_finite() || self.value > 1e6 {
            return format!("{} unknown (the baseline measured nothing)", self.what);
        }
        let (sign, target, met) = match self.target {
            Target::AtLeast(t) => (">=", t, self.value >= t),
            Target::AtMost(t) => ("<=", t, self.value <= t),
        };
        format!(
            "{} {:.2} (target {sign} {target}: {})",
            self.what,
            self.value,
            if met { "met" } else { "MISSED" }
        )
    }
}

/// What one backend produced: its rows, or why it stopped, or why it was skipped.
enum Outcome {
    Ran(Vec<Row>),
    Failed(Backend, Vec<Row>, anyhow::Error),
    Skipped(Backend, String),
}

impl Args {
    fn plan(&self) -> anyhow::Result<Plan> {
        anyhow::ensure!(
            self.seconds > 0.0 && self.seconds <= 600.0,
            "--seconds must be more than 0 and at most 600"
        );
        anyhow::ensure!(
            (0.0..=60.0).contains(&self.warmup_seconds),
            "--warmup-seconds must be between 0 and 60"
        );
        anyhow::ensure!(
            (1..=1024).contains(&self.concurrency),
            "--concurrency must be between 1 and 1024"
        );
        anyhow::ensure!(
            (1..=100_000).contains(&self.links),
            "--links must be between 1 and 100000"
        );
        anyhow::ensure!(self.max_requests >= 1, "--max-requests must be at least 1");
        Ok(Plan {
            concurrency: self.concurrency,
            warmup: Duration::from_secs_f64(self.warmup_seconds),
            measure: Duration::from_secs_f64(self.seconds),
            max_requests: self.max_requests,
        })
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    let suite = match args.suite.take() {
        None => run(args).await,
        Some(Suite::Notify(notify_args)) => notify::run(notify_args).await.map(exit_code),
        Some(Suite::Cohort(cohort_args)) => cohort::run(cohort_args).await.map(exit_code),
        Some(Suite::Webhooks(webhook_args)) => webhooks::run(webhook_args).await.map(exit_code),
    };
    match suite {
        Ok(code) => code,
        Err(err) => {
            eprintln!("beckon-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("beckon-bench: FAILED (see the output above)");
        ExitCode::FAILURE
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let plan = args.plan()?;
    let backends: &[Backend] = match args.backend {
        BackendChoice::Sqlite => &[Backend::Sqlite],
        BackendChoice::Postgres => &[Backend::Postgres],
        BackendChoice::Both => &[Backend::Sqlite, Backend::Postgres],
    };
    if backends.contains(&Backend::Postgres) {
        server::check_postgres_is_local(&args.postgres_url)?;
    }

    let mut outcomes = Vec::new();
    for &backend in backends {
        let outcome = match backend {
            Backend::Sqlite => match bench_backend(backend, None, &args, plan).await {
                Ok(rows) => Outcome::Ran(rows),
                Err((rows, err)) => Outcome::Failed(backend, rows, err),
            },
            Backend::Postgres => bench_postgres(&args, plan)
                .await
                .unwrap_or_else(|err| Outcome::Failed(backend, Vec::new(), err)),
        };
        outcomes.push(outcome);
    }

    print_report(&args, &outcomes);

    let failed_requests: u64 = outcomes
        .iter()
        .flat_map(|o| match o {
            Outcome::Ran(rows) | Outcome::Failed(_, rows, _) => rows.as_slice(),
            Outcome::Skipped(..) => &[],
        })
        .map(|row| row.stats.errors)
        .sum();
    let backend_failed = outcomes.iter().any(|o| matches!(o, Outcome::Failed(..)));
    if failed_requests > 0 || backend_failed {
        eprintln!(
            "beckon-bench: FAILED ({failed_requests} failed requests{})",
            if backend_failed {
                ", and a backend did not finish"
            } else {
                ""
            }
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// PostgreSQL: a fresh database for the run, dropped afterwards whatever happened.
async fn bench_postgres(args: &Args, plan: Plan) -> anyhow::Result<Outcome> {
    let admin = match server::connect_admin(&args.postgres_url).await {
        Ok(admin) => admin,
        Err(err) if args.backend == BackendChoice::Both => {
            eprintln!("postgres: not reachable at {}: {err:#}", args.postgres_url);
            return Ok(Outcome::Skipped(
                Backend::Postgres,
                format!(
                    "not reachable at {} (set --postgres-url or BECKON_TEST_POSTGRES_URL)",
                    args.postgres_url
                ),
            ));
        }
        Err(err) => {
            return Err(err.context(format!("connecting to PostgreSQL at {}", args.postgres_url)))
        }
    };
    let (name, url) = server::create_postgres_database(&admin, &args.postgres_url).await?;
    eprintln!("postgres: made database {name}");
    let result = bench_backend(Backend::Postgres, Some(url), args, plan).await;
    let dropped = server::drop_postgres_database(&admin, &name).await;
    let _ = admin.close().await;
    Ok(match (result, dropped) {
        (Ok(rows), Ok(())) => {
            eprintln!("postgres: dropped database {name}");
            Outcome::Ran(rows)
        }
        (Ok(rows), Err(err)) => Outcome::Failed(
            Backend::Postgres,
            rows,
            err.context(format!("the database {name} was left behind")),
        ),
        (Err((rows, err)), dropped) => {
            if let Err(drop_err) = dropped {
                eprintln!("postgres: could not drop database {name}: {drop_err:#}");
            }
            Outcome::Failed(Backend::Postgres, rows, err)
        }
    })
}

/// Boots a server on the backend, runs the four phases, and stops it. On error, the rows
/// finished so far come back with it.
async fn bench_backend(
    backend: Backend,
    database_url: Option<String>,
    args: &Args,
    plan: Plan,
) -> Result<Vec<Row>, (Vec<Row>, anyhow::Error)> {
    let server = BenchServer::start(database_url).await.map_err(|err| {
        (
            Vec::new(),
            err.context(format!("{}: booting", backend.name())),
        )
    })?;
    eprintln!(
        "{}: invite-service listening on {}",
        backend.name(),
        server.addr
    );
    let mut rows = Vec::new();
    let result = run_phases(backend, &server, args, plan, &mut rows).await;
    let stopped = server.stop().await;
    match (result, stopped) {
        (Ok(()), Ok(())) => Ok(rows),
        (Err(err), _) => Err((rows, err.context(backend.name()))),
        (Ok(()), Err(err)) => Err((rows, err.context(format!("{}: stopping", backend.name())))),
    }
}

fn bearer(key: &str) -> anyhow::Result<MetadataValue<Ascii>> {
    format!("Bearer {key}")
        .parse()
        .context("the admin key is not ASCII")
}

/// Adds the admin key to a request.
fn authorized<T>(message: T, auth: &MetadataValue<Ascii>) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", auth.clone());
    request
}

fn status_text(status: &Status) -> String {
    format!("gRPC {:?}: {}", status.code(), status.message())
}

async fn run_phases(
    backend: Backend,
    server: &BenchServer,
    args: &Args,
    plan: Plan,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    // One HTTP/2 connection, shared by every gRPC load task.
    let channel = Channel::from_shared(server.base_url.clone())?
        .timeout(REQUEST_TIMEOUT)
        .connect()
        .await
        .context("connecting the gRPC channel")?;
    // One pooled HTTP/1.1 client, shared by every HTTP load task.
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTP client")?;
    let auth = bearer(&server.admin_key)?;

    let job = JobServiceClient::new(channel.clone())
        .create_job(authorized(
            CreateJobRequest {
                job: Some(Job {
                    title: "Benchmark engineer".into(),
                    assessment_url: "https://assess.example.com/start".into(),
                    ..Job::default()
                }),
                request_id: String::new(),
            },
            &auth,
        ))
        .await
        .map_err(|status| anyhow::anyhow!("creating the job: {}", status_text(&status)))?
        .into_inner();

    let job_id = uuid::Uuid::parse_str(&job.id).context("the job's id")?;
    let limits = LimitDb::open(&server.database_url, job_id, args.concurrency)
        .await
        .context("opening the database for the limit baselines")?;
    let result = phases(
        backend, server, args, plan, rows, &channel, &http, &auth, &job, &limits,
    )
    .await;
    limits.close().await;
    result
}

/// The phases, in order; see the module's comment.
#[allow(clippy::too_many_arguments)]
async fn phases(
    backend: Backend,
    server: &BenchServer,
    args: &Args,
    plan: Plan,
    rows: &mut Vec<Row>,
    channel: &Channel,
    http: &reqwest::Client,
    auth: &MetadataValue<Ascii>,
    job: &Job,
    limits: &LimitDb,
) -> anyhow::Result<()> {
    let name = backend.name();
    let row = |phase, stats, checks| Row {
        backend,
        phase,
        stats,
        checks,
    };

    // 1. gRPC baseline.
    eprintln!("{name}: health (gRPC)…");
    let health = {
        let channel = channel.clone();
        load::run(plan, move |_| {
            let mut client = HealthClient::new(channel.clone());
            async move {
                let response = client
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map_err(|status| status_text(&status))?
                    .into_inner();
                if response.status == ServingStatus::Serving as i32 {
                    Ok(())
                } else {
                    Err(format!("health status {}", response.status))
                }
            }
        })
        .await?
    };
    let health_rate = health.rate();
    rows.push(row("health (gRPC)", health, Vec::new()));

    // 2. The rows of CreateInvite, by a plain client.
    eprintln!("{name}: limit: invites…");
    let invites_limit = limits.create_invites(plan).await?;
    let invites_limit_rate = invites_limit.rate();
    rows.push(row("limit: invites", invites_limit, Vec::new()));

    // 3. CreateInvite, a new candidate each call.
    eprintln!("{name}: CreateInvite…");
    let create = {
        let client = InviteServiceClient::new(channel.clone());
        let auth = auth.clone();
        let job_id = job.id.clone();
        load::run(plan, move |seq| {
            let mut client = client.clone();
            let request = authorized(
                CreateInviteRequest {
                    job_id: job_id.clone(),
                    candidate_email: format!("load-{seq}@bench.example.com"),
                    candidate_name: "Bench Candidate".into(),
                    send_email: false,
                    ..CreateInviteRequest::default()
                },
                &auth,
            );
            async move {
                let response = client
                    .create_invite(request)
                    .await
                    .map_err(|status| status_text(&status))?
                    .into_inner();
                if response.link_url.is_empty() {
                    Err("CreateInvite returned no link".to_string())
                } else {
                    Ok(())
                }
            }
        })
        .await?
    };
    let mut checks = vec![
        Check::ratio(
            "vs health",
            create.rate(),
            health_rate,
            backend.create_invite_target(),
        ),
        Check::ratio("vs limit", create.rate(), invites_limit_rate, LIMIT_TARGET),
    ];
    if let (Some(p50), Some(p99)) = (create.percentile(50.0), create.percentile(99.0)) {
        checks.push(Check {
            what: "p99/p50",
            value: p99.as_secs_f64() / p50.as_secs_f64().max(f64::MIN_POSITIVE),
            target: Target::AtMost(TAIL_TARGET),
        });
    }
    rows.push(row("CreateInvite", create, checks));

    // Links for the link phases, made before them and not timed as part of them.
    eprintln!("{name}: making {} links…", args.links);
    let began = Instant::now();
    let links = make_links(channel, auth, &job.id, args.links, args.concurrency).await?;
    let prefix = format!("{}/i/", server.base_url);
    let mut hashes = Vec::with_capacity(links.len());
    for link in &links {
        let token = link.strip_prefix(&prefix).with_context(|| {
            format!("a link points somewhere other than the server under test: {link}")
        })?;
        hashes.push(invite_service::domain::secret::link_token_hash(token));
    }
    eprintln!(
        "{name}: made {} links in {:.1} s",
        links.len(),
        began.elapsed().as_secs_f64()
    );

    // 4. HTTP baseline.
    eprintln!("{name}: GET /healthz…");
    let healthz = {
        let http = http.clone();
        let url = Arc::new(format!("{}/healthz", server.base_url));
        load::run(plan, move |_| {
            let request = http.get(url.as_str());
            async move {
                let response = request.send().await.map_err(|err| format!("{err}"))?;
                let status = response.status();
                let body = response.bytes().await.map_err(|err| format!("{err}"))?;
                if status != reqwest::StatusCode::OK {
                    Err(format!("HTTP {status}"))
                } else if body.as_ref() != b"ok" {
                    Err("GET /healthz answered something other than \"ok\"".to_string())
                } else {
                    Ok(())
                }
            }
        })
        .await?
    };
    let healthz_rate = healthz.rate();
    rows.push(row("GET /healthz", healthz, Vec::new()));

    // 5. The read behind a link page, by a plain client.
    eprintln!("{name}: limit: lookup…");
    let lookup_limit = limits.look_up_links(plan, hashes.clone()).await?;
    let lookup_limit_rate = lookup_limit.rate();
    rows.push(row("limit: lookup", lookup_limit, Vec::new()));

    // 6. Link pages, round-robin over the links.
    eprintln!("{name}: GET /i/{{token}}…");
    let links = Arc::new(links);
    let show = {
        let http = http.clone();
        let links = links.clone();
        load::run(plan, move |seq| {
            let index = (seq % links.len() as u64) as usize;
            let request = http.get(links[index].as_str());
            async move {
                let response = request.send().await.map_err(|err| format!("{err}"))?;
                let status = response.status();
                // The whole page is read, as a browser would.
                let body = response.bytes().await.map_err(|err| format!("{err}"))?;
                if status != reqwest::StatusCode::OK {
                    Err(format!("HTTP {status}"))
                } else if body.is_empty() {
                    Err("the link page was empty".to_string())
                } else {
                    Ok(())
                }
            }
        })
        .await?
    };
    let checks = vec![
        Check::ratio("vs /healthz", show.rate(), healthz_rate, LINK_OPEN_TARGET),
        Check::ratio("vs limit", show.rate(), lookup_limit_rate, LIMIT_TARGET),
    ];
    rows.push(row("GET /i/{token}", show, checks));

    // 7. The writes of a counted open, by a plain client.
    eprintln!("{name}: limit: opens…");
    let opens_limit = limits.record_opens(plan, hashes).await?;
    let opens_limit_rate = opens_limit.rate();
    rows.push(row("limit: opens", opens_limit, Vec::new()));

    // 8. The page's beacon: every one from a browser records an open.
    eprintln!("{name}: POST /i/{{token}}/opened…");
    let opens = {
        let http = http.clone();
        load::run(plan, move |seq| {
            let index = (seq % links.len() as u64) as usize;
            let request = http
                .post(format!("{}/opened", links[index]))
                .header(reqwest::header::USER_AGENT, BROWSER_AGENT);
            async move {
                let response = request.send().await.map_err(|err| format!("{err}"))?;
                let status = response.status();
                response.bytes().await.map_err(|err| format!("{err}"))?;
                if status == reqwest::StatusCode::NO_CONTENT {
                    Ok(())
                } else {
                    Err(format!("HTTP {status}"))
                }
            }
        })
        .await?
    };
    let checks = vec![
        Check::ratio("vs /healthz", opens.rate(), healthz_rate, LINK_OPEN_TARGET),
        Check::ratio("vs limit", opens.rate(), opens_limit_rate, LIMIT_TARGET),
    ];
    rows.push(row("POST /i/{token}/opened", opens, checks));
    Ok(())
}

/// Makes `count` invites with `concurrency` tasks and returns their links.
async fn make_links(
    channel: &Channel,
    auth: &MetadataValue<Ascii>,
    job_id: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(count) {
        let mut client = InviteServiceClient::new(channel.clone());
        let auth = auth.clone();
        let job_id = job_id.to_string();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut links = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count as u64 {
                    return Ok::<_, anyhow::Error>(links);
                }
                let response = client
                    .create_invite(authorized(
                        CreateInviteRequest {
                            job_id: job_id.clone(),
                            candidate_email: format!("link-{i}@bench.example.com"),
                            candidate_name: "Link Candidate".into(),
                            send_email: false,
                            ..CreateInviteRequest::default()
                        },
                        &auth,
                    ))
                    .await
                    .map_err(|status| {
                        anyhow::anyhow!("making link {i}: {}", status_text(&status))
                    })?;
                links.push(response.into_inner().link_url);
            }
        }));
    }
    let mut links = Vec::with_capacity(count);
    for task in tasks {
        links.extend(task.await.context("a link-making task panicked")??);
    }
    Ok(links)
}

fn millis(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.2}", d.as_secs_f64() * 1000.0))
        .unwrap_or_else(|| "-".into())
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_string(), |share| format!("{:.0}%", share * 100.0))
}

fn print_report(args: &Args, outcomes: &[Outcome]) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "beckon-bench: {cpus} CPUs; concurrency {}; per phase {} s warm-up + {} s measured; \
         {} links for the link phases",
        args.concurrency, args.warmup_seconds, args.seconds, args.links
    );
    println!(
        "The load client runs in the same process and tokio runtime ({cpus} worker threads) as \
         the server; both sides of each ratio share it."
    );
    println!(
        "cpu: CPU time of this process (server + load client) in the measured window; host: \
         busy CPU time of the whole machine (PostgreSQL and anything else running too); both as \
         a share of one core ({cpus} cores = {}%).",
        cpus * 100
    );
    println!(
        "gRPC phases: one tonic Channel (one HTTP/2 connection). HTTP phases: one reqwest \
         client (HTTP/1.1, pooled keep-alive connections)."
    );
    println!(
        "limit: the same rows written (or read) by a plain client on the service's database, \
         concurrency {}: SQLite (rusqlite) writes through one writer thread committing up to \
         128 pending requests per transaction, reads on a connection per thread; PostgreSQL \
         (sqlx) writes 16 requests per transaction, one multi-row statement per table (its \
         p50/p99 are per transaction), reads one query per request. req/s counts invites or \
         opens.",
        args.concurrency
    );
    println!();
    println!(
        "{:<9} {:<22} {:>8} {:>9} {:>8} {:>8} {:>7} {:>5} {:>5}  ratios",
        "backend", "phase", "req/s", "requests", "p50 ms", "p99 ms", "errors", "cpu", "host"
    );
    let mut failures = Vec::new();
    for outcome in outcomes {
        let rows = match outcome {
            Outcome::Ran(rows) => rows.as_slice(),
            Outcome::Failed(backend, rows, err) => {
                failures.push(format!("{}: did not finish: {err:#}", backend.name()));
                rows.as_slice()
            }
            Outcome::Skipped(backend, why) => {
                println!("{:<9} skipped: {why}", backend.name());
                continue;
            }
        };
        for row in rows {
            let stats = &row.stats;
            let ratio = if row.checks.is_empty() {
                "baseline".to_string()
            } else {
                row.checks
                    .iter()
                    .map(Check::text)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let capped = if stats.capped {
                " [stopped at --max-requests]"
            } else {
                ""
            };
            println!(
                "{:<9} {:<22} {:>8.0} {:>9} {:>8} {:>8} {:>7} {:>5} {:>5}  {ratio}{capped}",
                row.backend.name(),
                row.phase,
                stats.rate(),
                stats.items(),
                millis(stats.percentile(50.0)),
                millis(stats.percentile(99.0)),
                stats.errors,
                percent(stats.cpu_share),
                percent(stats.host_cpu_share),
            );
            for sample in &stats.error_samples {
                failures.push(format!(
                    "{} {}: {} failed; e.g. {sample}",
                    row.backend.name(),
                    row.phase,
                    stats.errors
                ));
            }
        }
    }
    if !failures.is_empty() {
        println!();
        for failure in failures {
            println!("{failure}");
        }
    }
}
