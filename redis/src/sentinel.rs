//! Redis behind Sentinel: `redis+sentinel://[user:password@]host:port,host:port/<master>[/db]`
//! names the sentinels and the master they watch; the credentials and database are the Redis
//! servers'. Beckon asks the sentinels which server is the master, and asks again whenever that
//! server fails or answers that it is a replica now (after a failover).
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisFuture, Value,
};
use tokio::sync::Mutex;

use crate::UrlError;

pub(crate) const SCHEME: &str = "redis+sentinel://";

/// What a `redis+sentinel://` URL names.
pub(crate) struct Target {
    pub sentinels: Vec<String>,
    pub master: String,
    pub node: redis::RedisConnectionInfo,
}

/// The sentinels, the master's name and the servers' credentials of a `redis+sentinel://` URL;
/// `None` for any other scheme.
pub(crate) fn target(url: &str) -> Option<Result<Target, UrlError>> {
    let rest = url.strip_prefix(SCHEME)?;
    Some(parse(rest))
}

fn parse(rest: &str) -> Result<Target, UrlError> {
    let (authority, path) = rest.split_once('/').ok_or(UrlError::NoMaster)?;
    let (master, db) = path.split_once('/').unwrap_or((path, ""));
    if master.is_empty() {
        return Err(UrlError::NoMaster);
    }
    // The credentials are the servers', not the sentinels'.
    let (credentials, hosts) = crate::credentials_and_hosts(authority);
    let sentinels: Vec<String> = hosts.iter().map(|host| format!("redis://{host}")).collect();
    if sentinels.is_empty() {
        return Err(UrlError::NoNodes);
    }
    for sentinel in &sentinels {
        redis::Client::open(sentinel.as_str())
            .map_err(|_| UrlError::Node(sentinel.trim_start_matches("redis://").to_owned()))?;
    }
    // The servers' credentials and database, read as a server URL would be.
    let node = format!("redis://{credentials}sentinel-named-master/{db}")
        .into_connection_info()
        .map_err(UrlError::Invalid)?
        .redis;
    Ok(Target {
        sentinels,
        master: master.to_owned(),
        node,
    })
}

pub(crate) fn client(target: Target) -> Result<Arc<Mutex<SentinelClient>>, UrlError> {
    let node = SentinelNodeConnectionInfo {
        tls_mode: None,
        redis_connection_info: Some(target.node),
    };
    let client = SentinelClient::build(
        target.sentinels,
        target.master,
        Some(node),
        SentinelServerType::Master,
    )
    .map_err(UrlError::Invalid)?;
    Ok(Arc::new(Mutex::new(client)))
}

/// A connection to whichever server the sentinels name as master: made on first use, and made
/// again (the sentinels asked again) after the server failed or said it is no master.
#[derive(Clone)]
pub(crate) struct SentinelConnection {
    sentinels: Arc<Mutex<SentinelClient>>,
    config: AsyncConnectionConfig,
    /// Bounds one lookup: the sentinels and the master they name (redis-rs sets no timeout).
    lookup_timeout: Duration,
    current: Arc<Mutex<Current>>,
}

#[derive(Default)]
struct Current {
    /// The connection, and which one it is: a failure on an older one must not drop a newer.
    connection: Option<(u64, MultiplexedConnection)>,
    made: u64,
    /// When a lookup last failed: callers fail fast for a moment instead of each asking the
    /// sentinels again while a failover is under way.
    failed_at: Option<Instant>,
}

/// How long after a failed lookup callers fail without asking again.
const LOOKUP_PAUSE: Duration = Duration::from_millis(250);

impl SentinelConnection {
    pub(crate) fn new(
        sentinels: Arc<Mutex<SentinelClient>>,
        config: AsyncConnectionConfig,
        lookup_timeout: Duration,
    ) -> Self {
        Self {
            sentinels,
            config,
            lookup_timeout,
            current: Arc::default(),
        }
    }

    /// Connects now: a service that starts while its Redis is down says so.
    pub(crate) async fn connected(self) -> Result<Self, RedisError> {
        self.connection().await?;
        Ok(self)
    }

    async fn connection(&self) -> Result<(u64, MultiplexedConnection), RedisError> {
        let mut current = self.current.lock().await;
        if let Some(connection) = &current.connection {
            return Ok(connection.clone());
        }
        if current
            .failed_at
            .is_some_and(|failed| failed.elapsed() < LOOKUP_PAUSE)
        {
            return Err(unreachable(
                "the sentinels named no master that answers; trying again shortly",
            ));
        }
        let lookup = async {
            let master = self.sentinels.lock().await.async_get_client().await?;
            master
                .get_multiplexed_async_connection_with_config(&self.config)
                .await
        };
        let looked_up = tokio::time::timeout(self.lookup_timeout, lookup)
            .await
            .unwrap_or_else(|_| Err(unreachable("no answer from the sentinels or their master")));
        match looked_up {
            Ok(connection) => {
                current.made += 1;
                current.failed_at = None;
                current.connection = Some((current.made, connection.clone()));
                Ok((current.made, connection))
            }
            Err(error) => {
                current.failed_at = Some(Instant::now());
                Err(error)
            }
        }
    }

    /// After an answer that says the master is elsewhere now, or gone: drops connection
    /// `which`, unless a newer one replaced it already.
    async fn forget_if_moved(&self, which: u64, error: &RedisError) {
        let moved = error.is_io_error()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
            || error.is_timeout()
            || matches!(error.code(), Some("READONLY" | "MASTERDOWN" | "LOADING"));
        if moved {
            let mut current = self.current.lock().await;
            if current
                .connection
                .as_ref()
                .is_some_and(|(made, _)| *made == which)
            {
                current.connection = None;
            }
        }
    }
}

fn unreachable(why: &'static str) -> RedisError {
    RedisError::from((redis::ErrorKind::IoError, "Redis Sentinel", why.to_owned()))
}

impl ConnectionLike for SentinelConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let (which, mut connection) = self.connection().await?;
            let answer = connection.req_packed_command(cmd).await;
            if let Err(error) = &answer {
                self.forget_if_moved(which, error).await;
            }
            answer
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let (which, mut connection) = self.connection().await?;
            let answer = connection
                .req_packed_commands(pipeline, offset, count)
                .await;
            if let Err(error) = &answer {
                self.forget_if_moved(which, error).await;
            }
            answer
        })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentinel_url_names_the_sentinels_the_master_and_the_servers_credentials() {
        let target = parse(":pw@127.0.0.1:26379,127.0.0.1:26380/beckon/2").ok();
        let target = target.expect("parses");
        assert_eq!(
            target.sentinels,
            ["redis://127.0.0.1:26379", "redis://127.0.0.1:26380"]
        );
        assert_eq!(target.master, "beckon");
        assert_eq!(target.node.password.as_deref(), Some("pw"));
        assert_eq!(target.node.db, 2);
    }

    #[test]
    fn a_sentinel_url_without_a_master_is_refused() {
        assert!(matches!(parse("127.0.0.1:26379"), Err(UrlError::NoMaster)));
        assert!(matches!(parse("127.0.0.1:26379/"), Err(UrlError::NoMaster)));
        assert!(matches!(parse("/beckon"), Err(UrlError::NoNodes)));
    }
}
