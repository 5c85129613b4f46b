//! `beckon-bench notify`: notify-service's throughput against the SMTP sink's own ceiling and
//! against Postfix's `smtp-source` into Postfix's `smtp-sink`, the Redis rate limiter's accuracy
//! with two replicas, and what one limiter call costs against a no-op script on the same Redis.
use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use beckon_limiter::{redis::RedisLimiter, Admission, Limit, Period, Rate, RateLimiter};
use beckon_proto::notify::v1::{
    notify_service_client::NotifyServiceClient, EnqueueMessagesRequest, MessageKind as PbKind,
    OutgoingMessage,
};
use lettre::{transport::smtp::PoolConfig, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use notify_service::{
    config::{SmtpConfig, SmtpSecurity},
    domain::MessageKind,
    mail::{Composer, Email},
    templates::{default_template, render, Rendered},
};
use tonic::transport::Channel;

use crate::{
    postfix::{self, PostfixSink},
    sink::SmtpSink,
};

const FROM: &str = "Beckon Bench <invites@bench.example.com>";
/// Bounds each wait for mail: a stuck pipeline fails the run instead of hanging it.
const MAIL_WAIT: Duration = Duration::from_secs(300);
/// notify-service against the plain lettre loop to this crate's sink.
const SINK_TARGET: f64 = 0.7;
/// notify-service against Postfix's smtp-source, to the same smtp-sink.
const POSTFIX_TARGET: f64 = 0.5;

#[derive(clap::Args, Debug)]
pub struct NotifyArgs {
    /// Messages per throughput run (sent as EnqueueMessages batches of 1000).
    #[arg(long, default_value_t = 10_000)]
    pub messages: u64,
    /// notify-service's `workers`, and the concurrency of the plain lettre loop.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// SMTP connections in the pool, for notify-service and the plain lettre loop alike.
    #[arg(long, default_value_t = 16)]
    pub pool_size: u32,
    /// Redis on this machine (notify's queue and limiter; the limiter runs).
    #[arg(
        long,
        env = "BECKON_TEST_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// Calls per limiter-cost run (and redis-benchmark's -n).
    #[arg(long, default_value_t = 100_000)]
    pub cost_calls: u64,
}

fn check_args(args: &NotifyArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=1_000_000).contains(&args.messages),
        "--messages must be between 1 and 1000000"
    );
    anyhow::ensure!(
        (1..=1000).contains(&args.workers),
        "--workers must be between 1 and 1000"
    );
    anyhow::ensure!(
        (1..=1000).contains(&args.pool_size),
        "--pool-size must be between 1 and 1000"
    );
    anyhow::ensure!(
        (1_000..=10_000_000).contains(&args.cost_calls),
        "--cost-calls must be between 1000 and 10000000"
    );
    let url = url::Url::parse(&args.redis_url)
        .with_context(|| format!("parsing --redis-url {}", args.redis_url))?;
    anyhow::ensure!(url.scheme() == "redis", "--redis-url must be redis://");
    let local = match url.host() {
        // redis:// is not a "special" scheme to the url crate: its host stays a plain name.
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    anyhow::ensure!(
        local,
        "--redis-url must name a Redis on this machine (127.0.0.1 or localhost)"
    );
    Ok(())
}

pub async fn run(args: NotifyArgs) -> anyhow::Result<bool> {
    check_args(&args)?;
    let mut ok = true;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "beckon-bench notify: {cpus} CPUs; {} messages per run; workers {}; SMTP pool {}; \
         Redis {}",
        args.messages, args.workers, args.pool_size, args.redis_url
    );
    println!(
        "Everything runs in this process (notify-service, the load, the SMTP sink on \
         127.0.0.1) except Redis and redis-benchmark."
    );
    println!();

    // (a) Throughput.
    println!("(a) whole path: EnqueueMessages (batches of 1000) -> queue -> workers -> limiter -> lettre pool -> SMTP sink");
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>6} {:>6}  ratio",
        "run", "messages", "seconds", "msg/s", "cpu", "host"
    );
    let ceiling = sink_ceiling(&args).await.context("the plain lettre loop")?;
    print_throughput("plain lettre loop (sink ceiling)", &ceiling, None);
    for backend in [Backend::Redis, Backend::InProcess] {
        match notify_throughput(&args, backend).await {
            Ok(run) => {
                let ratio = run.rate() / ceiling.rate();
                print_throughput(backend.label(), &run, Some((ratio, SINK_TARGET)));
                if run.errors > 0 {
                    ok = false;
                }
            }
            Err(err) => {
                ok = false;
                println!("{:<34} failed: {err:#}", backend.label());
            }
        }
    }
    println!();

    // (a') Against Postfix's tools.
    println!(
        "(a') the same {} messages to Postfix's smtp-sink: smtp-source with {} sessions \
         (baseline) against notify-service (in-process backend, {} SMTP connections)",
        args.messages, args.pool_size, args.pool_size
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>6} {:>6}  ratio",
        "run", "messages", "seconds", "msg/s", "cpu", "host"
    );
    match postfix::missing() {
        Some(why) => println!("smtp-source/smtp-sink: skipped: {why}"),
        None => match against_postfix(&args).await {
            Ok(good) => ok &= good,
            Err(err) => {
                ok = false;
                println!("{:<34} failed: {err:#}", "smtp-source / notify-service");
            }
        },
    }
    println!();

    // (b) Accuracy.
    println!(
        "(b) RedisLimiter accuracy: two replicas (two RedisLimiter, separate connections), one \
         Redis, one limit; 32 callers (16 per replica) offering 5x the limit"
    );
    println!(
        "{:>6} {:>6} {:>9} {:>10} {:>9} {:>10} {:>17} {:>8} {:>6}  verdict",
        "rate/s",
        "burst",
        "window s",
        "offered/s",
        "admitted",
        "ceiling",
        "band (+-1%)",
        "over",
        "errors"
    );
    for (rate, window) in [(10.0, 3.0), (100.0, 3.0), (1000.0, 3.0), (5000.0, 2.0)] {
        match limiter_accuracy(&args.redis_url, rate, Duration::from_secs_f64(window)).await {
            Ok(row) => {
                let ceiling = row.ceiling();
                let (low, high) = (ceiling * 0.99, ceiling * 1.01);
                let over = (row.admitted as f64 - ceiling.floor()).max(0.0) as u64;
                let in_band = (low..=high).contains(&(row.admitted as f64));
                let verdict = match (over, in_band) {
                    (0, true) => "ok: within 1%, none over".to_string(),
                    (0, false) => format!(
                        "none over; {:.1}% under the ceiling (outside the 1% band)",
                        (1.0 - row.admitted as f64 / ceiling) * 100.0
                    ),
                    (over, _) => format!("OVER-ADMITTED by {over}"),
                };
                if over > 0 || row.errors > 0 {
                    ok = false;
                }
                println!(
                    "{:>6} {:>6} {:>9.3} {:>10.0} {:>9} {:>10.1} {:>17} {:>8} {:>6}  {verdict}",
                    rate,
                    row.burst,
                    row.window.as_secs_f64(),
                    row.offered as f64 / row.window.as_secs_f64(),
                    row.admitted,
                    ceiling,
                    format!("{low:.1}..{high:.1}"),
                    over,
                    row.errors
                );
            }
            Err(err) => {
                ok = false;
                println!("{rate:>6} failed: {err:#}");
            }
        }
    }
    println!(
        "window: Redis's own clock (TIME) from before the first call to after the last reply; \
         ceiling = rate x window + burst; over = admitted - floor(ceiling), if positive."
    );
    println!();

    // (c) Cost.
    println!(
        "(c) limiter cost: RedisLimiter.acquire at concurrency 32 (limits that never bind) \
         against redis-benchmark's no-op EVALSHA (-c 32), same Redis, same run"
    );
    match limiter_cost(&args).await {
        Ok(ok_cost) => ok &= ok_cost,
        Err(err) => {
            ok = false;
            println!("failed: {err:#}");
        }
    }
    Ok(ok)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Redis,
    InProcess,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Redis => "notify-service, Redis backend",
            Backend::InProcess => "notify-service, in-process backend",
        }
    }
}

struct Throughput {
    messages: u64,
    elapsed: Duration,
    errors: u64,
    cpu: Option<f64>,
    host: Option<f64>,
}

impl Throughput {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `ratio`: (this run's rate / the baseline's, the target).
fn print_throughput(label: &str, run: &Throughput, ratio: Option<(f64, f64)>) {
    let ratio = match ratio {
        Some((ratio, target)) => format!(
            "ratio {ratio:.2} (target >= {target}: {})",
            if ratio >= target { "met" } else { "MISSED" }
        ),
        None => "baseline".into(),
    };
    let errors = if run.errors > 0 {
        format!("  [{} errors]", run.errors)
    } else {
        String::new()
    };
    println!(
        "{:<34} {:>9} {:>9.2} {:>9.0} {:>6} {:>6}  {ratio}{errors}",
        label,
        run.messages,
        run.elapsed.as_secs_f64(),
        run.rate(),
        crate::percent(run.cpu),
        crate::percent(run.host),
    );
}

/// CPU use of this process and of the whole machine between two samples.
struct CpuWindow {
    began: Instant,
    process: Option<Duration>,
    host: Option<Duration>,
}

impl CpuWindow {
    fn start() -> Self {
        Self {
            began: Instant::now(),
            process: crate::load::process_cpu_time(),
            host: crate::load::host_busy_time(),
        }
    }

    fn shares(&self) -> (Option<f64>, Option<f64>) {
        let secs = self.began.elapsed().as_secs_f64().max(1e-9);
        let share = |before: Option<Duration>, after: Option<Duration>| {
            Some(after?.saturating_sub(before?).as_secs_f64() / secs)
        };
        (
            share(self.process, crate::load::process_cpu_time()),
            share(self.host, crate::load::host_busy_time()),
        )
    }
}

fn variables(i: u64) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("candidate_name".to_string(), format!("Candidate {i}")),
        ("candidate_first_name".to_string(), "Candidate".to_string()),
        (
            "position_title".to_string(),
            "Benchmark engineer".to_string(),
        ),
        ("organization_name".to_string(), "Bench Org".to_string()),
        (
            "link".to_string(),
            format!(
                "http://127.0.0.1:8080/i/{:064x}",
                u128::from(i as u32) << 64 | 0xbeef
            ),
        ),
    ])
}

/// Builds messages as notify-service does with the bench's From (unsigned, as its runs are).
fn composer() -> anyhow::Result<Composer> {
    Composer::new(&notify_service::Config {
        from_address: FROM.into(),
        ..notify_service::Config::default()
    })
}

fn recipient(i: u64) -> String {
    // 100 domains, as a real cohort spreads over a few.
    format!("cand{i}@d{}.bench.example.com", i % 100)
}

/// The SMTP sink's ceiling: a plain pooled lettre transport, `workers` concurrent senders, the
/// same rendered invite notify-service would send.
async fn sink_ceiling(args: &NotifyArgs) -> anyhow::Result<Throughput> {
    let sink = SmtpSink::start().await?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.addr.port())
        .timeout(Some(Duration::from_secs(10)))
        .pool_config(PoolConfig::new().max_size(args.pool_size))
        .build();
    let composer = Arc::new(composer()?);
    let content: Rendered = render(
        &default_template(MessageKind::Invite),
        &variables(0),
        "Candidate 0",
        beckon_i18n::Locale::En,
    )
    .map_err(|err| anyhow::anyhow!("rendering the invite template: {err}"))?;
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let cpu = CpuWindow::start();
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.workers {
        let transport = transport.clone();
        let composer = composer.clone();
        let content = content.clone();
        let next = next.clone();
        let errors = errors.clone();
        let total = args.messages;
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let email = Email {
                    to_address: recipient(i),
                    to_name: format!("Candidate {i}"),
                    message_id: format!("<{}@bench.example.com>", uuid::Uuid::now_v7()),
                    idempotency_key: format!("ceiling-{i}"),
                    content: content.clone(),
                    reply_to: None,
                    unsubscribe_url: None,
                    calendar: None,
                    locale: beckon_i18n::Locale::En,
                };
                let sent = match composer.compose(&email) {
                    Ok(message) => transport.send(message).await.is_ok(),
                    Err(_) => false,
                };
                if !sent {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.context("a sender task panicked")?;
    }
    let errors = errors.load(Ordering::Relaxed);
    let arrived = sink.wait_for(args.messages - errors, MAIL_WAIT).await;
    anyhow::ensure!(arrived, "the sink did not get every message");
    let elapsed = sink
        .first_and_last()
        .1
        .map_or_else(|| began.elapsed(), |last| last - began);
    let (cpu, host) = cpu.shares();
    Ok(Throughput {
        messages: sink.accepted(),
        elapsed,
        errors,
        cpu,
        host,
    })
}

fn notify_config(
    args: &NotifyArgs,
    backend: Backend,
    sink_port: u16,
    data_dir: &std::path::Path,
    prefix: &str,
) -> notify_service::Config {
    // High enough never to bind at the rates reached here.
    let unbound = Rate::new(1_000_000, Period::Second, 100_000);
    notify_service::Config {
        listen_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.to_path_buf(),
        redis_url: (backend == Backend::Redis).then(|| args.redis_url.clone()),
        key_prefix: prefix.to_string(),
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(sink_port),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            pool_size: args.pool_size,
            timeout_secs: 10,
        }),
        from_address: FROM.into(),
        workers: args.workers,
        relay_rate: unbound,
        organization_rate: unbound,
        domain_rate: unbound,
        ..notify_service::Config::default()
    }
}

fn unique_prefix(what: &str) -> String {
    format!("beckon-bench-{what}-{}", uuid::Uuid::now_v7().simple())
}

/// Deletes every key of a benchmark prefix (`{prefix}:…`).
async fn delete_prefix(redis_url: &str, prefix: &str) -> anyhow::Result<u64> {
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let pattern = format!("{{{prefix}}}*");
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            let n: u64 = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
            deleted += n;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

async fn notify_throughput(args: &NotifyArgs, backend: Backend) -> anyhow::Result<Throughput> {
    let sink = SmtpSink::start().await?;
    let data_dir = tempfile::tempdir().context("a temporary folder")?;
    let prefix = unique_prefix("notify");
    let config = notify_config(args, backend, sink.addr.port(), data_dir.path(), &prefix);
    let result = notify_throughput_on(args, Sink::Own(&sink), config).await;
    if backend == Backend::Redis {
        match delete_prefix(&args.redis_url, &prefix).await {
            Ok(n) => eprintln!("notify: deleted {n} Redis keys under {{{prefix}}}"),
            Err(err) => eprintln!("notify: could not delete the Redis keys of {prefix}: {err:#}"),
        }
    }
    result
}

/// Where a run's messages go: this crate's sink, or Postfix's `smtp-sink` (shared with the
/// `smtp-source` baseline, so its count starts where that left it).
#[derive(Clone, Copy)]
enum Sink<'a> {
    Own(&'a SmtpSink),
    Postfix(&'a PostfixSink, u64),
}

impl Sink<'_> {
    /// Messages of this run that arrived.
    fn accepted(self) -> u64 {
        match self {
            Sink::Own(sink) => sink.accepted(),
            Sink::Postfix(sink, before) => sink.delivered().saturating_sub(before),
        }
    }

    async fn wait_for(self, n: u64, within: Duration) -> bool {
        match self {
            Sink::Own(sink) => sink.wait_for(n, within).await,
            Sink::Postfix(sink, before) => sink.wait_for(before + n, within).await,
        }
    }

    fn last_arrival(self) -> Option<Instant> {
        match self {
            Sink::Own(sink) => sink.first_and_last().1,
            Sink::Postfix(sink, _) => sink.last_delivery(),
        }
    }

    fn bytes(self) -> String {
        match self {
            Sink::Own(sink) => format!("{} bytes", sink.bytes()),
            Sink::Postfix(..) => "smtp-sink".to_string(),
        }
    }
}

async fn notify_throughput_on(
    args: &NotifyArgs,
    sink: Sink<'_>,
    config: notify_service::Config,
) -> anyhow::Result<Throughput> {
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    let addr = listener.local_addr()?;
    let running = notify_service::start_on(config, listener)
        .await
        .context("starting notify-service")?;
    let outcome = async {
        let channel = Channel::from_shared(format!("http://{addr}"))?
            .timeout(Duration::from_secs(60))
            .connect()
            .await
            .context("connecting to notify-service")?;
        let mut client = NotifyServiceClient::new(channel)
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024);
        let org = uuid::Uuid::now_v7().to_string();
        let run = uuid::Uuid::now_v7().simple().to_string();
        // The batches are made before the clock starts.
        let batches: Vec<EnqueueMessagesRequest> = (0..args.messages)
            .collect::<Vec<_>>()
            .chunks(1000)
            .map(|chunk| EnqueueMessagesRequest {
                messages: chunk
                    .iter()
                    .map(|&i| OutgoingMessage {
                        idempotency_key: format!("bench-{run}-{i}"),
                        organization_id: org.clone(),
                        kind: PbKind::Invite as i32,
                        recipient: recipient(i),
                        recipient_name: format!("Candidate {i}"),
                        variables: variables(i).into_iter().collect::<HashMap<_, _>>(),
                        ..OutgoingMessage::default()
                    })
                    .collect(),
            })
            .collect();
        let cpu = CpuWindow::start();
        let began = Instant::now();
        for batch in batches {
            client
                .enqueue_messages(batch)
                .await
                .map_err(|s| anyhow::anyhow!("EnqueueMessages: {:?}: {}", s.code(), s.message()))?;
        }
        let enqueued = began.elapsed();
        let arrived = sink.wait_for(args.messages, MAIL_WAIT).await;
        anyhow::ensure!(
            arrived,
            "only {} of {} messages reached the sink within {} s",
            sink.accepted(),
            args.messages,
            MAIL_WAIT.as_secs()
        );
        let elapsed = sink
            .last_arrival()
            .map_or_else(|| began.elapsed(), |last| last - began);
        let (cpu, host) = cpu.shares();
        // A short settle: any duplicate send would show up as more than `messages`.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let accepted = sink.accepted();
        eprintln!(
            "notify: enqueued {} in {:.2} s; {} reached the sink ({})",
            args.messages,
            enqueued.as_secs_f64(),
            accepted,
            sink.bytes()
        );
        Ok(Throughput {
            messages: args.messages,
            elapsed,
            errors: accepted.saturating_sub(args.messages),
            cpu,
            host,
        })
    }
    .await;
    let stopped = tokio::time::timeout(Duration::from_secs(30), running.shutdown()).await;
    match stopped {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("notify: shutdown: {err:#}"),
        Err(_) => eprintln!("notify: shutdown took over 30 s"),
    }
    outcome
}

struct Accuracy {
    burst: u32,
    window: Duration,
    offered: u64,
    admitted: u64,
    errors: u64,
    rate: f64,
}

impl Accuracy {
    fn ceiling(&self) -> f64 {
        self.rate * self.window.as_secs_f64() + f64::from(self.burst)
    }
}

/// Redis's clock, in µs.
async fn redis_time(conn: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<u64> {
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(conn).await?;
    Ok(secs * 1_000_000 + micros)
}

const CALLERS: usize = 32;

async fn limiter_accuracy(
    redis_url: &str,
    rate: f64,
    window: Duration,
) -> anyhow::Result<Accuracy> {
    let prefix = unique_prefix("limit");
    let replicas = [
        Arc::new(RedisLimiter::connect(redis_url, &prefix).await?),
        Arc::new(RedisLimiter::connect(redis_url, &prefix).await?),
    ];
    let burst = ((rate / 10.0) as u32).max(2);
    let limit = Arc::new([Limit::new(
        "relay",
        Rate::new(rate as u32, Period::Second, burst),
    )]);
    let client = redis::Client::open(redis_url)?;
    let mut admin = client.get_multiplexed_async_connection().await?;
    let offered_rate = rate * 5.0;
    let offered = Arc::new(AtomicU64::new(0));
    let admitted = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));

    let redis_start = redis_time(&mut admin).await?;
    let start = tokio::time::Instant::now();
    let end = start + window;
    let mut tasks = Vec::new();
    for caller in 0..CALLERS {
        let limiter = replicas[caller % 2].clone();
        let limit = limit.clone();
        let (offered, admitted, errors) = (offered.clone(), admitted.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            // Caller k's j-th call is due at (j * CALLERS + k) / offered_rate: together the
            // callers offer 5x the limit, evenly spread.
            for j in 0u64.. {
                let due = start
                    + Duration::from_secs_f64(
                        (j as f64 * CALLERS as f64 + caller as f64) / offered_rate,
                    );
                if due >= end {
                    return;
                }
                tokio::time::sleep_until(due).await;
                offered.fetch_add(1, Ordering::Relaxed);
                match limiter.acquire(limit.as_slice()).await {
                    Ok(Admission::Admitted) => {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Admission::RetryAfter(_)) => {}
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.context("a caller panicked")?;
    }
    let redis_end = redis_time(&mut admin).await?;
    let deleted = delete_prefix(redis_url, &prefix).await;
    if let Err(err) = deleted {
        eprintln!("limiter: could not delete the keys of {prefix}: {err:#}");
    }
    Ok(Accuracy {
        burst,
        window: Duration::from_micros(redis_end.saturating_sub(redis_start)),
        offered: offered.load(Ordering::Relaxed),
        admitted: admitted.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        rate,
    })
}

/// acquire() calls per second from 32 tasks sharing one limiter (one multiplexed connection,
/// as a notify replica has), with `limits` limits per call.
async fn acquire_rate(redis_url: &str, calls: u64, limits: usize) -> anyhow::Result<(f64, u64)> {
    let prefix = unique_prefix("cost");
    let limiter = Arc::new(RedisLimiter::connect(redis_url, &prefix).await?);
    let unbound: Arc<Vec<Limit>> = Arc::new(
        ["relay", "org:bench", "domain:bench.example.com"]
            .iter()
            .take(limits)
            .map(|key| Limit::new(*key, Rate::new(1_000_000, Period::Second, 1_000_000)))
            .collect(),
    );
    // Warm-up: the script is loaded, the connection is up.
    for _ in 0..100 {
        limiter.acquire(&unbound).await?;
    }
    let next = Arc::new(AtomicU64::new(0));
    let problems = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (limiter, unbound, next, problems) = (
            limiter.clone(),
            unbound.clone(),
            next.clone(),
            problems.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                // A refusal would mean the limit bound: counted as a problem too.
                if !matches!(limiter.acquire(&unbound).await, Ok(Admission::Admitted)) {
                    problems.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.context("a caller panicked")?;
    }
    let elapsed = began.elapsed();
    if let Err(err) = delete_prefix(redis_url, &prefix).await {
        eprintln!("limiter: could not delete the keys of {prefix}: {err:#}");
    }
    Ok((
        calls as f64 / elapsed.as_secs_f64().max(1e-9),
        problems.load(Ordering::Relaxed),
    ))
}

/// redis-benchmark's figure for a no-op EVALSHA, or why there is none.
async fn redis_benchmark(redis_url: &str, calls: u64) -> anyhow::Result<Result<f64, String>> {
    let url = url::Url::parse(redis_url)?;
    let host = url.host_str().unwrap_or("127.0.0.1").to_string();
    let port = url.port().unwrap_or(6379);
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg("return 1")
        .query_async(&mut conn)
        .await?;
    let mut command = tokio::process::Command::new("redis-benchmark");
    command
        .args([
            "-h",
            &host,
            "-p",
            &port.to_string(),
            "-n",
            &calls.to_string(),
        ])
        .args(["-c", "32", "-q", "EVALSHA", &sha, "0"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(Duration::from_secs(120), command.output()).await {
        Err(_) => return Ok(Err("redis-benchmark did not finish within 120 s".into())),
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err(
                "redis-benchmark is not installed (it ships with redis-server / redis-tools)"
                    .into(),
            ))
        }
        Ok(Err(err)) => return Ok(Err(format!("redis-benchmark could not run: {err}"))),
        Ok(Ok(output)) => output,
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let parsed = parse_redis_benchmark(&stdout);
    Ok(parsed.ok_or_else(|| {
        format!(
            "could not read redis-benchmark's output (exit {}): {}",
            output.status,
            stdout.trim()
        )
    }))
}

/// The req/s in `EVALSHA …: 123456.78 requests per second, p50=…`.
fn parse_redis_benchmark(output: &str) -> Option<f64> {
    output
        .split(['\r', '\n'])
        .filter(|segment| segment.contains("requests per second"))
        .filter_map(|segment| {
            let before = segment.split(" requests per second").next()?;
            before.rsplit(": ").next()?.trim().parse::<f64>().ok()
        })
        .next_back()
}

async fn limiter_cost(args: &NotifyArgs) -> anyhow::Result<bool> {
    let mut ok = true;
    let (one, problems_one) = acquire_rate(&args.redis_url, args.cost_calls, 1).await?;
    let (three, problems_three) = acquire_rate(&args.redis_url, args.cost_calls, 3).await?;
    let baseline = redis_benchmark(&args.redis_url, args.cost_calls).await?;
    println!("{:<58} {:>10}  ratio", "run", "calls/s");
    match &baseline {
        Ok(rate) => println!(
            "{:<58} {:>10.0}  baseline",
            format!(
                "redis-benchmark -n {} -c 32 EVALSHA <return 1> 0",
                args.cost_calls
            ),
            rate
        ),
        Err(why) => println!("redis-benchmark: skipped: {why}"),
    }
    for (label, rate, problems) in [
        (
            "RedisLimiter.acquire, 1 limit (32 tasks, 1 connection)",
            one,
            problems_one,
        ),
        (
            "RedisLimiter.acquire, 3 limits as a worker takes them",
            three,
            problems_three,
        ),
    ] {
        let ratio = match &baseline {
            Ok(base) => {
                let ratio = rate / base;
                format!(
                    "ratio {ratio:.2} (target >= 0.5: {})",
                    if ratio >= 0.5 { "met" } else { "MISSED" }
                )
            }
            Err(_) => "no baseline".into(),
        };
        let problems = if problems > 0 {
            ok = false;
            format!("  [{problems} refused or failed]")
        } else {
            String::new()
        };
        println!("{label:<58} {rate:>10.0}  {ratio}{problems}");
    }
    Ok(ok)
}

/// smtp-source, then notify-service, each sending `messages` of notify's invite email to one
/// smtp-sink. The message smtp-source sends is the one notify builds, byte for byte.
async fn against_postfix(args: &NotifyArgs) -> anyhow::Result<bool> {
    let content: Rendered = render(
        &default_template(MessageKind::Invite),
        &variables(0),
        "Candidate 0",
        beckon_i18n::Locale::En,
    )
    .map_err(|err| anyhow::anyhow!("rendering the invite template: {err}"))?;
    let message = composer()?
        .compose(&Email {
            to_address: recipient(0),
            to_name: "Candidate 0".into(),
            message_id: format!("<{}@bench.example.com>", uuid::Uuid::now_v7()),
            idempotency_key: "postfix-0".into(),
            content,
            reply_to: None,
            unsubscribe_url: None,
            calendar: None,
            locale: beckon_i18n::Locale::En,
        })
        .map_err(|err| anyhow::anyhow!("building the message: {err}"))?;
    let folder = tempfile::tempdir().context("a temporary folder")?;
    let message_file = folder.path().join("invite.eml");
    // smtp-source ends each line with CRLF itself.
    let text = String::from_utf8_lossy(&message.formatted()).replace("\r\n", "\n");
    std::fs::write(&message_file, text).context("writing the message file")?;

    let sink = PostfixSink::start().await?;
    let result = async {
        let cpu = CpuWindow::start();
        let elapsed =
            postfix::smtp_source(sink.port, &message_file, args.messages, args.pool_size).await?;
        let (cpu, host) = cpu.shares();
        anyhow::ensure!(
            sink.wait_for(args.messages, Duration::from_secs(10)).await,
            "smtp-sink counted {} of the {} messages smtp-source sent",
            sink.delivered(),
            args.messages
        );
        let baseline = Throughput {
            messages: args.messages,
            elapsed,
            errors: 0,
            cpu,
            host,
        };
        print_throughput(
            &format!("smtp-source -s {}", args.pool_size),
            &baseline,
            None,
        );
        let before = sink.delivered();
        let data_dir = tempfile::tempdir().context("a temporary folder")?;
        let config = notify_config(
            args,
            Backend::InProcess,
            sink.port,
            data_dir.path(),
            &unique_prefix("postfix"),
        );
        let run = notify_throughput_on(args, Sink::Postfix(&sink, before), config).await?;
        let ratio = run.rate() / baseline.rate();
        print_throughput(
            "notify-service, in-process backend",
            &run,
            Some((ratio, POSTFIX_TARGET)),
        );
        Ok(run.errors == 0)
    }
    .await;
    sink.stop().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_redis_benchmark_quiet_output() {
        let out = "EVALSHA abc 0: rps=0.0 (overall: nan) avg_msec=nan\rEVALSHA abc 0: 98039.22 requests per second, p50=0.175 msec\n\n";
        assert_eq!(parse_redis_benchmark(out), Some(98039.22));
        assert_eq!(parse_redis_benchmark("nothing"), None);
    }
}
