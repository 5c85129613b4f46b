//! `beckon-bench webhooks`: how fast invite-service's delivery loop (`webhooks/worker.rs`) posts
//! webhook messages that are already due, against a plain reqwest loop posting the same bodies
//! with the same Standard Webhooks headers, at the same concurrency, to the same receiver.
//!
//! Per database: a receiver (`receiver.rs`) on 127.0.0.1; invite-service in this process with
//! loopback allowed over http and a per-endpoint rate that does not bind, and one endpoint at
//! the receiver taking `invite.created`; `--events` CreateInvite calls, each writing its message
//! in the invite's transaction. While they are made the delivery loop sleeps: the server runs
//! with `webhook_interval_ms` = 60,000, and its loop's first round (at start, before there was
//! an endpoint) found nothing. An endpoint turned off cannot hold the messages instead: it keeps
//! no new ones. The bodies are read back with ListWebhookMessages and the server is stopped.
//! Then the baseline posts them; then the server is started again on the same database (the
//! shipped `webhook_interval_ms`), its loop finds every message due, and the clock runs until
//! the receiver has them all.
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::{engine::general_purpose::STANDARD, Engine};
use beckon_proto::invite::v1::{
    job_service_client::JobServiceClient, webhook_service_client::WebhookServiceClient,
    CreateJobRequest, CreateWebhookEndpointRequest, Job, ListWebhookMessagesRequest,
    WebhookEndpoint, WebhookMessageStatus,
};
use futures::StreamExt;
use hmac::{Hmac, Mac};
use invite_service::Config;
use sha2::Sha256;
use tonic::transport::Channel;

use crate::{
    load::{host_busy_time, process_cpu_time},
    receiver::Receiver,
    server::{self, BenchServer},
    BackendChoice, DEFAULT_POSTGRES_URL,
};

#[derive(clap::Args, Debug)]
pub struct WebhookArgs {
    /// Which databases to run against. `both` skips PostgreSQL if it cannot be reached.
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    pub backend: BackendChoice,
    /// `invite.created` messages made (one CreateInvite each) and then delivered.
    #[arg(long, default_value_t = 10_000)]
    pub events: usize,
    /// The baseline's posts at once. The delivery loop's is fixed at 64 (worker.rs), so 64
    /// compares like with like.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Concurrent CreateInvite calls while the messages are made.
    #[arg(long, default_value_t = 32)]
    pub create_concurrency: usize,
    /// Bounds each delivery run (baseline or service), in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
    /// PostgreSQL server (on this machine) to make a throwaway database on.
    #[arg(long, env = "BECKON_TEST_POSTGRES_URL", default_value = DEFAULT_POSTGRES_URL)]
    pub postgres_url: String,
}

/// The service's delivered/s against the baseline's, at least.
const WEBHOOK_TARGET: f64 = 0.7;
/// The delivery loop's posts at once (`invite-service/src/webhooks/worker.rs`).
const SERVICE_CONCURRENCY: usize = 64;
/// While the messages are made the loop sleeps this long (the most the setting allows).
const PARKED_INTERVAL_MS: u64 = 60_000;
/// Making the messages must end well inside that sleep.
const CREATE_WAIT: Duration = Duration::from_secs(45);
/// Bounds each request of the baseline, as `webhook_timeout_ms` bounds the service's.
const POST_TIMEOUT: Duration = Duration::from_secs(15);
/// A per-endpoint rate that does not bind.
const OPEN_RATE: &str = "100000/second burst 10000";

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

/// One delivery run, as the receiver saw it.
struct Run {
    /// Requests that arrived (a message posted twice counts twice).
    requests: u64,
    /// Distinct `webhook-id`s that arrived.
    distinct: u64,
    /// From the first arrival to the last.
    first_to_last: Option<Duration>,
    /// From the clock's start (baseline: before the first post; service: before the server is
    /// started) to the last arrival.
    start_to_last: Option<Duration>,
    /// Posts that failed (baseline only).
    errors: u64,
    cpu_share: Option<f64>,
    host_share: Option<f64>,
    complete: bool,
}

impl Run {
    /// Messages per second between the first arrival and the last.
    fn rate(&self) -> Option<f64> {
        let span = self.first_to_last?.as_secs_f64();
        (self.distinct > 1 && span > 0.0).then(|| (self.distinct - 1) as f64 / span)
    }
}

struct Report {
    db: Db,
    create: Duration,
    baseline: Run,
    service: Run,
}

pub async fn run(args: WebhookArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(
        (2..=100_000).contains(&args.events),
        "--events must be between 2 and 100000"
    );
    anyhow::ensure!(
        (1..=1024).contains(&args.concurrency) && (1..=1024).contains(&args.create_concurrency),
        "--concurrency and --create-concurrency must be between 1 and 1024"
    );
    anyhow::ensure!(
        (1..=3600).contains(&args.timeout_seconds),
        "--timeout-seconds must be between 1 and 3600"
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
    let mut reports = Vec::new();
    let mut ok = true;
    for &db in dbs {
        let result = match db {
            Db::Sqlite => bench_db(&args, db, None).await.map(Some),
            Db::Postgres => bench_postgres(&args).await,
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
        "beckon-bench webhooks: {cpus} CPUs; {} invite.created messages to one endpoint; \
         baseline {} posts at once, the delivery loop {SERVICE_CONCURRENCY} (two claimers \
         taking 128 at a time into a queue of 256; outcomes recorded as they come); rate limit \
         {OPEN_RATE}",
        args.events, args.concurrency
    );
    println!(
        "Everything runs in this process: invite-service, the baseline's client and the \
         receiver (HTTP/1.1 on 127.0.0.1, answers 204 at once, verifies nothing)."
    );
    println!(
        "msg/s: distinct messages between the first arrival and the last at the receiver; \
         start->last: from the baseline's first post, or from starting invite-service on the \
         database holding the due messages, to the last arrival. cpu: this process; host: the \
         machine (PostgreSQL too); shares of one core."
    );
    println!(
        "baseline: a plain reqwest client posting the same bodies with the same three \
         Standard Webhooks headers (HMAC-SHA256 signature computed per post, as the service \
         does)."
    );
    println!();
    println!(
        "{:<9} {:<28} {:>8} {:>8} {:>7} {:>10} {:>8} {:>13} {:>5} {:>5}  ratio",
        "backend",
        "run",
        "requests",
        "distinct",
        "errors",
        "first->last",
        "msg/s",
        "start->last",
        "cpu",
        "host"
    );
    let secs =
        |d: Option<Duration>| d.map_or_else(|| "-".into(), |d| format!("{:.3}", d.as_secs_f64()));
    let share = |s: Option<f64>| s.map_or_else(|| "-".into(), |s| format!("{:.0}%", s * 100.0));
    let rate = |r: Option<f64>| r.map_or_else(|| "-".into(), |r| format!("{r:.0}"));
    for r in &reports {
        for (label, run, is_service) in [
            (
                format!("plain reqwest, {} at once", args.concurrency),
                &r.baseline,
                false,
            ),
            ("invite-service delivery".to_string(), &r.service, true),
        ] {
            let ratio = if !is_service {
                "baseline".to_string()
            } else {
                match (r.service.rate(), r.baseline.rate()) {
                    (Some(s), Some(b)) if b > 0.0 => {
                        let ratio = s / b;
                        format!(
                            "ratio {ratio:.2} (target >= {WEBHOOK_TARGET}: {})",
                            if ratio >= WEBHOOK_TARGET {
                                "met"
                            } else {
                                "MISSED"
                            }
                        )
                    }
                    _ => "ratio unknown".to_string(),
                }
            };
            println!(
                "{:<9} {:<28} {:>8} {:>8} {:>7} {:>10} {:>8} {:>13} {:>5} {:>5}  {ratio}{}",
                r.db.name(),
                label,
                run.requests,
                run.distinct,
                run.errors,
                secs(run.first_to_last),
                rate(run.rate()),
                secs(run.start_to_last),
                share(run.cpu_share),
                share(run.host_share),
                if run.complete { "" } else { " [INCOMPLETE]" }
            );
            if !run.complete || run.errors > 0 {
                ok = false;
            }
        }
        println!(
            "{:<9} (the {} messages were made by CreateInvite in {:.2} s beforehand, not timed above)",
            r.db.name(),
            args.events,
            r.create.as_secs_f64()
        );
    }
    Ok(ok)
}

async fn bench_postgres(args: &WebhookArgs) -> anyhow::Result<Option<Report>> {
    let admin = match server::connect_admin(&args.postgres_url).await {
        Ok(admin) => admin,
        Err(err) if args.backend == BackendChoice::Both => {
            eprintln!("postgres: not reachable at {}: {err:#}", args.postgres_url);
            return Ok(None);
        }
        Err(err) => return Err(err.context("connecting to PostgreSQL")),
    };
    let (name, url) = server::create_postgres_database(&admin, &args.postgres_url).await?;
    eprintln!("postgres: made database {name}");
    let result = bench_db(args, Db::Postgres, Some(url)).await;
    match server::drop_postgres_database(&admin, &name).await {
        Ok(()) => eprintln!("postgres: dropped database {name}"),
        Err(err) => eprintln!("postgres: could not drop {name}: {err:#}"),
    }
    let _ = admin.close().await;
    result.map(Some)
}

/// Loopback allowed over http, a rate that does not bind; `parked`: the loop sleeps a minute.
fn configure(config: &mut Config, parked: bool) {
    config.webhook_allow_http = true;
    config.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
    config.webhook_rate_per_endpoint = OPEN_RATE.parse().expect("a valid rate");
    if parked {
        config.webhook_interval_ms = PARKED_INTERVAL_MS;
    }
}

async fn bench_db(
    args: &WebhookArgs,
    db: Db,
    database_url: Option<String>,
) -> anyhow::Result<Report> {
    let name = db.name();
    let receiver = Receiver::start().await?;
    let server =
        BenchServer::start_with(database_url.clone(), None, |c| configure(c, true)).await?;
    let made = make_messages(args, &server, &receiver).await;
    // Stopped whatever happened; the data folder (the SQLite file) is kept for the restart.
    let data_dir = server.stop_keep_data().await?;
    let (admin_key, create, key, bodies) = made?;
    anyhow::ensure!(
        receiver.requests() == 0,
        "the delivery loop posted {} messages while they were being made (making them took \
         longer than webhook_interval_ms = {PARKED_INTERVAL_MS}?)",
        receiver.requests()
    );
    eprintln!(
        "{name}: made {} messages in {:.2} s; baseline…",
        bodies.len(),
        create.as_secs_f64()
    );

    let timeout = Duration::from_secs(args.timeout_seconds);
    let baseline = baseline(&receiver, &bodies, &key, args.concurrency, timeout).await?;
    eprintln!(
        "{name}: baseline {:?} msg/s; the delivery loop…",
        baseline.rate().map(|r| r as u64)
    );
    receiver.reset();

    let cpu_before = process_cpu_time();
    let host_before = host_busy_time();
    let began = Instant::now();
    let server = BenchServer::start_with(database_url, Some((data_dir, admin_key)), |c| {
        configure(c, false)
    })
    .await?;
    let complete = receiver.wait_for(bodies.len() as u64, timeout).await;
    let service = finish_run(&receiver, began, cpu_before, host_before, 0, complete);
    server.stop().await?;
    eprintln!(
        "{name}: delivery loop {:?} msg/s",
        service.rate().map(|r| r as u64)
    );
    Ok(Report {
        db,
        create,
        baseline,
        service,
    })
}

/// A message as the service will post it: its `webhook-id` and body.
struct Body {
    id: String,
    payload: String,
}

/// The job, the endpoint and `--events` invites (each an `invite.created` message for the
/// endpoint); then the messages read back. Returns the admin key, how long the invites took,
/// the endpoint's signing key and the messages.
async fn make_messages(
    args: &WebhookArgs,
    server: &BenchServer,
    receiver: &Receiver,
) -> anyhow::Result<(String, Duration, Vec<u8>, Vec<Body>)> {
    let channel = Channel::from_shared(server.base_url.clone())?
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .context("connecting to invite-service")?;
    let auth = crate::bearer(&server.admin_key)?;
    let job = JobServiceClient::new(channel.clone())
        .create_job(crate::authorized(
            CreateJobRequest {
                job: Some(Job {
                    title: "Webhook benchmark".into(),
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
    let mut webhooks = WebhookServiceClient::new(channel.clone());
    let created = webhooks
        .create_webhook_endpoint(crate::authorized(
            CreateWebhookEndpointRequest {
                endpoint: Some(WebhookEndpoint {
                    url: receiver.url(),
                    description: "beckon-bench".into(),
                    event_types: vec!["invite.created".into()],
                    enabled: true,
                    ..WebhookEndpoint::default()
                }),
                request_id: String::new(),
            },
            &auth,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the endpoint: {}", crate::status_text(&s)))?
        .into_inner();
    let endpoint = created
        .endpoint
        .context("CreateWebhookEndpoint returned no endpoint")?;
    let key = secret_key(&created.secret)?;

    let began = Instant::now();
    tokio::time::timeout(
        CREATE_WAIT,
        crate::make_links(
            &channel,
            &auth,
            &job.id,
            args.events,
            args.create_concurrency,
        ),
    )
    .await
    .with_context(|| {
        format!(
            "making {} invites took longer than {} s",
            args.events,
            CREATE_WAIT.as_secs()
        )
    })??;
    let create = began.elapsed();

    // Every message, a page of 1,000 at a time (a bounded number of pages).
    let mut messages = Vec::with_capacity(args.events);
    let mut page_token = String::new();
    for _ in 0..args.events / 1000 + 2 {
        let page = webhooks
            .list_webhook_messages(crate::authorized(
                ListWebhookMessagesRequest {
                    endpoint_id: endpoint.id.clone(),
                    status: WebhookMessageStatus::Unspecified as i32,
                    page_size: 1000,
                    page_token: page_token.clone(),
                },
                &auth,
            ))
            .await
            .map_err(|s| anyhow::anyhow!("ListWebhookMessages: {}", crate::status_text(&s)))?
            .into_inner();
        messages.extend(page.messages);
        page_token = page.next_page_token;
        if page_token.is_empty() {
            break;
        }
    }
    anyhow::ensure!(
        messages.len() == args.events,
        "the endpoint has {} messages, not {}",
        messages.len(),
        args.events
    );
    let pending = WebhookMessageStatus::Pending as i32;
    anyhow::ensure!(
        messages
            .iter()
            .all(|m| m.event_type == "invite.created" && m.status == pending),
        "every message should be a pending invite.created"
    );
    // Oldest first, as the loop sends them.
    messages.reverse();
    let bodies = messages
        .into_iter()
        .map(|m| Body {
            id: m.id,
            payload: m.payload,
        })
        .collect();
    Ok((server.admin_key.clone(), create, key, bodies))
}

/// The key in a `whsec_…` secret.
fn secret_key(secret: &str) -> anyhow::Result<Vec<u8>> {
    let encoded = secret
        .strip_prefix("whsec_")
        .context("the signing secret does not start with whsec_")?;
    STANDARD
        .decode(encoded)
        .context("the signing secret is not base64")
}

/// `v1,` + base64 of HMAC-SHA256 of "{id}.{timestamp}.{body}", as Standard Webhooks signs.
fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The same bodies, posted by a plain client `concurrency` at a time, each signed when sent.
async fn baseline(
    receiver: &Receiver,
    bodies: &[Body],
    key: &[u8],
    concurrency: usize,
    timeout: Duration,
) -> anyhow::Result<Run> {
    receiver.reset();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(POST_TIMEOUT)
        .build()
        .context("building the baseline's HTTP client")?;
    let url = receiver.url();
    let cpu_before = process_cpu_time();
    let host_before = host_busy_time();
    let began = Instant::now();
    let posts = futures::stream::iter(bodies)
        .map(|body| {
            let timestamp = chrono::Utc::now().timestamp();
            let request = client
                .post(url.as_str())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("webhook-id", body.id.as_str())
                .header("webhook-timestamp", timestamp.to_string())
                .header(
                    "webhook-signature",
                    signature(key, &body.id, timestamp, body.payload.as_bytes()),
                )
                .body(body.payload.clone());
            async move {
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.is_ok()
                    }
                    _ => false,
                }
            }
        })
        .buffer_unordered(concurrency)
        .fold(0u64, |errors, ok| async move { errors + u64::from(!ok) });
    let (errors, finished) = match tokio::time::timeout(timeout, posts).await {
        Ok(errors) => (errors, true),
        Err(_) => (0, false),
    };
    let complete = finished
        && receiver
            .wait_for(bodies.len() as u64, Duration::from_secs(5))
            .await;
    Ok(finish_run(
        receiver,
        began,
        cpu_before,
        host_before,
        errors,
        complete,
    ))
}

fn finish_run(
    receiver: &Receiver,
    began: Instant,
    cpu_before: Option<Duration>,
    host_before: Option<Duration>,
    errors: u64,
    complete: bool,
) -> Run {
    let arrivals = receiver.arrivals();
    let window = arrivals
        .last
        .map(|last| last.saturating_duration_since(began));
    let per_window = |before: Option<Duration>, after: Option<Duration>| {
        let busy = after?.checked_sub(before?)?;
        let window = window?.as_secs_f64();
        (window > 0.0).then(|| busy.as_secs_f64() / window)
    };
    Run {
        requests: arrivals.requests,
        distinct: arrivals.distinct,
        first_to_last: arrivals
            .first
            .zip(arrivals.last)
            .map(|(first, last)| last - first),
        start_to_last: window,
        errors,
        cpu_share: per_window(cpu_before, process_cpu_time()),
        host_share: per_window(host_before, host_busy_time()),
        complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        let key = secret_key("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect("a valid secret");
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            signature(&key, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }
}
