//! The load generator: N tasks send one request after another for a warm-up and then a measured
//! window. Only requests that complete inside the measured window count towards the rate and
//! the latencies; a failed request counts as an error whenever it happens.
use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;

/// How one phase is run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    pub measure: Duration,
    /// A hard cap on the requests a phase sends, warm-up included.
    pub max_requests: u64,
}

/// What one phase measured.
#[derive(Debug)]
pub struct PhaseStats {
    /// Successful requests that completed inside the measured window.
    pub ok_measured: u64,
    /// Failed requests over the whole phase, warm-up included.
    pub errors: u64,
    /// A few of the failures, as told by the client.
    pub error_samples: Vec<String>,
    /// The measured window (shorter than planned only if the request cap was reached).
    pub window: Duration,
    pub capped: bool,
    /// CPU time this whole process (server and load client) used during the measured window,
    /// as a share of one core; `None` where /proc/self/stat cannot be read.
    pub cpu_share: Option<f64>,
    /// CPU time the whole machine spent busy (every process: PostgreSQL, and anything else
    /// running) during the measured window, as a share of one core.
    pub host_cpu_share: Option<f64>,
    /// Invites or opens one request carries (a batch on PostgreSQL's limit baselines).
    items_per_request: u64,
    /// Latencies of the measured successful requests, sorted.
    latencies: Vec<Duration>,
}

impl PhaseStats {
    /// Each request carried `items` invites or opens: rates and counts are of those.
    pub fn in_batches_of(mut self, items: u64) -> Self {
        self.items_per_request = items;
        self
    }

    /// Invites or opens (requests, unless batched) completed in the measured window.
    pub fn items(&self) -> u64 {
        self.ok_measured * self.items_per_request
    }

    /// Items per second.
    pub fn rate(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.items() as f64 / secs
        } else {
            0.0
        }
    }

    /// The nearest-rank percentile (`p` in 0..=100) of the measured latencies.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let n = self.latencies.len();
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.latencies.get(rank.clamp(1, n) - 1).copied()
    }
}

#[derive(Default)]
struct WorkerStats {
    ok_measured: u64,
    errors: u64,
    error_samples: Vec<String>,
    latencies: Vec<Duration>,
    last_measured_completion: Option<Instant>,
}

const MAX_ERROR_SAMPLES: usize = 5;

/// What every load worker of one phase shares: the clock, the sequence and the cap.
#[derive(Clone)]
struct Window {
    next_seq: Arc<AtomicU64>,
    capped: Arc<AtomicBool>,
    measure_start: Instant,
    end: Instant,
    max_requests: u64,
}

impl Window {
    fn new(plan: Plan) -> Self {
        let measure_start = Instant::now() + plan.warmup;
        Self {
            next_seq: Arc::new(AtomicU64::new(0)),
            capped: Arc::new(AtomicBool::new(false)),
            measure_start,
            end: measure_start + plan.measure,
            max_requests: plan.max_requests,
        }
    }

    /// The next request's sequence number, or `None` once the phase is over.
    fn next(&self) -> Option<u64> {
        if Instant::now() >= self.end {
            return None;
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        if seq >= self.max_requests {
            self.capped.store(true, Ordering::Relaxed);
            return None;
        }
        Some(seq)
    }

    fn record(&self, stats: &mut WorkerStats, sent: Instant, outcome: Result<(), String>) {
        let done = Instant::now();
        match outcome {
            Ok(()) => {
                if done >= self.measure_start && done < self.end {
                    stats.ok_measured += 1;
                    stats.latencies.push(done - sent);
                    stats.last_measured_completion = Some(done);
                }
            }
            Err(message) => {
                stats.errors += 1;
                if stats.error_samples.len() < MAX_ERROR_SAMPLES
                    && !stats.error_samples.contains(&message)
                {
                    stats.error_samples.push(message);
                }
            }
        }
    }

    /// Samples the CPU time used over the measured window.
    fn sample_cpu(&self) -> tokio::task::JoinHandle<(Option<f64>, Option<f64>)> {
        let (measure_start, end) = (self.measure_start, self.end);
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_start.into()).await;
            let before = (process_cpu_time(), host_busy_time());
            tokio::time::sleep_until(end.into()).await;
            let after = (process_cpu_time(), host_busy_time());
            let window = (end - measure_start).as_secs_f64();
            let share = |before: Option<Duration>, after: Option<Duration>| {
                Some(after?.saturating_sub(before?).as_secs_f64() / window)
            };
            (share(before.0, after.0), share(before.1, after.1))
        })
    }
}

/// Runs `request(seq)` from `plan.concurrency` tasks until the window closes. `seq` is unique
/// within the phase (0, 1, 2, …), for requests that need distinct data.
pub async fn run<F, Fut>(plan: Plan, request: F) -> anyhow::Result<PhaseStats>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let request = Arc::new(request);
    let window = Window::new(plan);
    let cpu_sampler = window.sample_cpu();
    let mut workers = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency {
        let request = request.clone();
        let window = window.clone();
        workers.push(tokio::spawn(async move {
            let mut stats = WorkerStats::default();
            while let Some(seq) = window.next() {
                let sent = Instant::now();
                let outcome = request(seq).await;
                window.record(&mut stats, sent, outcome);
            }
            stats
        }));
    }
    let mut all = Vec::with_capacity(workers.len());
    for worker in workers {
        all.push(worker.await.context("a load task panicked")?);
    }
    finish(plan, &window, all, cpu_sampler).await
}

/// Like `run`, for a blocking client: `plan.concurrency` threads, each with a state of its own
/// (a database connection) made by `open`, each calling `request(state, seq)` in a loop.
pub async fn run_threads<S, O, F>(plan: Plan, open: O, request: F) -> anyhow::Result<PhaseStats>
where
    O: Fn() -> anyhow::Result<S> + Send + Sync + 'static,
    F: Fn(&mut S, u64) -> Result<(), String> + Send + Sync + 'static,
{
    let open = Arc::new(open);
    let request = Arc::new(request);
    let window = Window::new(plan);
    let cpu_sampler = window.sample_cpu();
    let mut threads = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency {
        let (open, request, window) = (open.clone(), request.clone(), window.clone());
        threads.push(std::thread::spawn(move || {
            let mut state = open()?;
            let mut stats = WorkerStats::default();
            while let Some(seq) = window.next() {
                let sent = Instant::now();
                let outcome = request(&mut state, seq);
                window.record(&mut stats, sent, outcome);
            }
            Ok::<_, anyhow::Error>(stats)
        }));
    }
    let joined = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("a load thread panicked"))?
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })
    .await
    .context("joining the load threads")??;
    finish(plan, &window, joined, cpu_sampler).await
}

async fn finish(
    plan: Plan,
    window: &Window,
    workers: Vec<WorkerStats>,
    cpu_sampler: tokio::task::JoinHandle<(Option<f64>, Option<f64>)>,
) -> anyhow::Result<PhaseStats> {
    let mut total = WorkerStats::default();
    for stats in workers {
        total.ok_measured += stats.ok_measured;
        total.errors += stats.errors;
        for message in stats.error_samples {
            if total.error_samples.len() < MAX_ERROR_SAMPLES
                && !total.error_samples.contains(&message)
            {
                total.error_samples.push(message);
            }
        }
        total.latencies.extend(stats.latencies);
        total.last_measured_completion = total
            .last_measured_completion
            .max(stats.last_measured_completion);
    }
    total.latencies.sort_unstable();
    let capped = window.capped.load(Ordering::Relaxed);
    // When the cap ended the phase early, the sampler's window is not the phase's: no figure.
    let (cpu_share, host_cpu_share) = if capped {
        cpu_sampler.abort();
        (None, None)
    } else {
        cpu_sampler.await.context("the CPU sampler panicked")?
    };
    let measured = if capped {
        // The cap stopped the phase early: the window is as long as requests kept completing.
        total
            .last_measured_completion
            .map(|last| last - window.measure_start)
            .unwrap_or_default()
    } else {
        plan.measure
    };
    if measured.is_zero() && total.errors == 0 {
        anyhow::bail!(
            "no request completed in the measured window (the request cap of {} was reached \
             during the warm-up?)",
            plan.max_requests
        );
    }
    Ok(PhaseStats {
        ok_measured: total.ok_measured,
        errors: total.errors,
        error_samples: total.error_samples,
        window: measured,
        capped,
        cpu_share,
        host_cpu_share,
        items_per_request: 1,
        latencies: total.latencies,
    })
}

/// Busy CPU time of the whole machine so far, all cores added up (Linux only).
pub fn host_busy_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some(Duration::from_millis(total.checked_sub(idle)? * 10))
}

/// User plus system CPU time of this process so far (Linux only).
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: the first of
    // these is field 3 (state), so utime (field 14) and stime (field 15) are at 11 and 12.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // Linux reports these in USER_HZ, which is 100 on every mainstream architecture.
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let stats = PhaseStats {
            ok_measured: 100,
            errors: 0,
            error_samples: Vec::new(),
            window: Duration::from_secs(1),
            capped: false,
            cpu_share: None,
            host_cpu_share: None,
            items_per_request: 1,
            latencies: (1..=100).map(Duration::from_millis).collect(),
        };
        assert_eq!(stats.percentile(50.0), Some(Duration::from_millis(50)));
        assert_eq!(stats.percentile(99.0), Some(Duration::from_millis(99)));
        assert_eq!(stats.percentile(100.0), Some(Duration::from_millis(100)));
        assert_eq!(stats.percentile(0.0), Some(Duration::from_millis(1)));
        assert!((stats.rate() - 100.0).abs() < 1e-9);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counts_successes_and_errors() {
        let plan = Plan {
            concurrency: 4,
            warmup: Duration::from_millis(20),
            measure: Duration::from_millis(100),
            max_requests: 1_000_000,
        };
        let stats = run(plan, |seq| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            if seq % 10 == 0 {
                Err("every tenth fails".to_string())
            } else {
                Ok(())
            }
        })
        .await
        .unwrap_or_else(|err| panic!("phase runs: {err:#}"));
        assert!(stats.ok_measured > 0);
        assert!(stats.errors > 0);
        assert_eq!(stats.error_samples, vec!["every tenth fails".to_string()]);
        assert!(!stats.capped);
        if cfg!(target_os = "linux") {
            assert!(stats.cpu_share.is_some());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stops_at_the_request_cap() {
        let plan = Plan {
            concurrency: 2,
            warmup: Duration::ZERO,
            measure: Duration::from_secs(10),
            max_requests: 50,
        };
        let began = Instant::now();
        let stats = run(plan, |_| async { Ok(()) })
            .await
            .unwrap_or_else(|err| panic!("phase runs: {err:#}"));
        assert!(began.elapsed() < Duration::from_secs(5));
        assert!(stats.capped);
        assert_eq!(stats.ok_measured, 50);
    }
}
