//! Watches whether a dependency (the database, Redis) can be reached, so that health checks and
//! the log follow an outage as a whole instead of call by call; and what a service's readiness
//! is made of.
use std::{
    future::Future,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use tokio::{sync::watch, task::JoinHandle, time::Instant};

/// How long a Redis ping may take, connecting included, before it counts as failed: longer than
/// the database's, since it may have to connect first.
pub const REDIS_PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Failed pings in a row that make an outage.
const FAILURES_FOR_AN_OUTAGE: u32 = 2;

/// What a watcher watches, and how it speaks of it.
#[derive(Clone, Debug)]
pub struct Watched {
    /// "the database", "Redis".
    pub what: &'static str,
    /// What an outage means for callers, for the log: "health is NOT_SERVING".
    pub consequence: &'static str,
    /// Which one, for the log (a URL without its password, or the setting's name).
    pub name: String,
    pub interval: Duration,
    /// A ping unanswered this long fails.
    pub timeout: Duration,
}

/// Calls `ping` every `watched.interval` and `on_change(reachable)` each time reachability
/// changes. Two failed pings in a row make an outage: one slow ping through a busy pool does
/// not. It logs one warning when the dependency is lost and one line when it is back, however
/// many calls meet the outage. Ends when `stop` turns true or its sender is dropped.
pub fn spawn_watcher<P, PFut, F, Fut>(
    watched: Watched,
    mut stop: watch::Receiver<bool>,
    mut ping: P,
    mut on_change: F,
) -> JoinHandle<()>
where
    P: FnMut() -> PFut + Send + 'static,
    PFut: Future<Output = Result<(), String>> + Send,
    F: FnMut(bool) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let Watched {
        what,
        consequence,
        name,
        interval,
        timeout,
    } = watched;
    tokio::spawn(async move {
        let mut down_since: Option<Instant> = None;
        let mut failed_in_a_row = 0u32;
        while !*stop.borrow() {
            let pinged = match tokio::time::timeout(timeout, ping()).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
            };
            failed_in_a_row = if pinged.is_err() {
                failed_in_a_row + 1
            } else {
                0
            };
            match (down_since, pinged) {
                (None, Err(error)) if failed_in_a_row >= FAILURES_FOR_AN_OUTAGE => {
                    tracing::warn!(
                        dependency = what,
                        name = %name,
                        %error,
                        "{what} cannot be reached; {consequence} until it is back"
                    );
                    down_since = Some(Instant::now());
                    on_change(false).await;
                }
                (Some(since), Ok(())) => {
                    tracing::info!(
                        dependency = what,
                        name = %name,
                        down_for_secs = since.elapsed().as_secs(),
                        "{what} is reachable again"
                    );
                    down_since = None;
                    on_change(true).await;
                }
                _ => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
    })
}

/// What a service's readiness is made of: its database and, when it uses one, Redis. Ready
/// while every part can be reached.
#[derive(Debug)]
pub struct Readiness {
    database: AtomicBool,
    redis: AtomicBool,
    /// Held while readiness is read and written to health, so two watchers reporting at once
    /// cannot leave an older answer last.
    reporting: tokio::sync::Mutex<()>,
}

/// A part of readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dependency {
    Database,
    Redis,
}

impl Default for Readiness {
    fn default() -> Self {
        Self {
            database: AtomicBool::new(true),
            redis: AtomicBool::new(true),
            reporting: tokio::sync::Mutex::new(()),
        }
    }
}

impl Readiness {
    fn set(&self, dependency: Dependency, reachable: bool) {
        let flag = match dependency {
            Dependency::Database => &self.database,
            Dependency::Redis => &self.redis,
        };
        flag.store(reachable, Ordering::Relaxed);
    }

    /// Held while one report reads readiness and writes it out.
    async fn reporting(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.reporting.lock().await
    }

    pub fn ready(&self) -> bool {
        self.unreachable().is_none()
    }

    /// What cannot be reached, for `/readyz`'s answer.
    pub fn unreachable(&self) -> Option<&'static str> {
        if !self.database.load(Ordering::Relaxed) {
            Some("database unavailable")
        } else if !self.redis.load(Ordering::Relaxed) {
            Some("redis unavailable")
        } else {
            None
        }
    }
}

/// A ping as `spawn_watcher` calls it.
pub type Ping = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Pings Redis at `url` (one server, a cluster, or behind sentinels): `PING` on a connection of
/// the watcher's own, dropped after a failure or a silence and made again at the next ping, so a
/// Redis that comes back, or a new master, is seen at once.
pub fn redis_pinger(url: &str) -> anyhow::Result<impl FnMut() -> Ping + Send + 'static> {
    let timeouts = beckon_redis::Timeouts {
        connect: REDIS_PING_TIMEOUT,
        response: REDIS_PING_TIMEOUT,
    };
    let redis = beckon_redis::Redis::open(url, timeouts)?;
    let connection = std::sync::Arc::new(tokio::sync::Mutex::new(None::<beckon_redis::Connection>));
    Ok(move || {
        let (redis, connection) = (redis.clone(), connection.clone());
        Box::pin(async move {
            let mut held = connection.lock().await;
            if held.is_none() {
                *held = Some(redis.dedicated().await.map_err(|err| err.to_string())?);
            }
            let Some(open) = held.as_mut() else {
                return Err("no connection".to_string());
            };
            // Bounded here, under the watcher's own bound, so that a connection whose server
            // went silent is dropped too (a dedicated connection has no response timeout).
            let answer = tokio::time::timeout(
                REDIS_PING_TIMEOUT / 2,
                redis::cmd("PING").query_async::<String>(open),
            )
            .await
            .map_err(|_| "no answer".to_string())
            .and_then(|answer| answer.map_err(|err| err.to_string()));
            if answer.is_err() {
                *held = None;
            }
            answer.map(|_| ())
        }) as Ping
    })
}

/// Puts a service's readiness in its gRPC health, for each of its services (`""` is the server
/// as a whole): what every watcher calls when its dependency comes or goes.
#[derive(Clone)]
pub struct HealthPublisher {
    health: tonic_health::server::HealthReporter,
    readiness: std::sync::Arc<Readiness>,
    services: std::sync::Arc<[&'static str]>,
}

impl HealthPublisher {
    pub fn new(
        health: tonic_health::server::HealthReporter,
        readiness: std::sync::Arc<Readiness>,
        services: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        Self {
            health,
            readiness,
            services: services.into_iter().collect(),
        }
    }

    /// Marks `dependency` and reports, one report at a time (so two watchers reporting at once
    /// cannot leave an older answer last).
    pub async fn set(self, dependency: Dependency, reachable: bool) {
        self.readiness.set(dependency, reachable);
        let _one_at_a_time = self.readiness.reporting().await;
        let status = if self.readiness.ready() {
            tonic_health::ServingStatus::Serving
        } else {
            tonic_health::ServingStatus::NotServing
        };
        for service in self.services.iter() {
            self.health.set_service_status(*service, status).await;
        }
    }
}

/// Watches Redis at `url` as the database is watched, reporting through `publisher`.
pub fn watch_redis(
    url: &str,
    interval: Duration,
    publisher: HealthPublisher,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let ping = redis_pinger(url)?;
    Ok(spawn_watcher(
        Watched {
            what: "Redis",
            consequence: "health is NOT_SERVING",
            name: "redis_url".into(),
            interval,
            timeout: REDIS_PING_TIMEOUT,
        },
        stop,
        ping,
        move |up| publisher.clone().set(Dependency::Redis, up),
    ))
}
