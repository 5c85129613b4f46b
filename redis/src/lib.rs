//! How Beckon's services reach Redis, named by one URL (`redis_url`):
//! - `redis://[user:password@]host:port[/db]`: one server;
//! - `redis+cluster://[user:password@]host:port,host:port,...`: a Redis Cluster, through any of
//!   its nodes (the others are found from them);
//! - `redis+sentinel://[user:password@]host:port,host:port/<master>[/db]`: a master and its
//!   replicas watched by Redis Sentinel, through any of the sentinels (`sentinel.rs`).
//!
//! Every key Beckon writes carries its service's hash tag (`{prefix}:...`), so a cluster keeps
//! each service's keys in one slot, where its scripts and MULTI blocks may touch several at once.
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisError, RedisFuture, Value};

mod sentinel;
#[cfg(feature = "testing")]
pub mod testing;

const CLUSTER_SCHEME: &str = "redis+cluster://";

/// What a `redis_url` may be, said once for every setting that takes one.
pub const URL_FORMS: &str = "must start with redis:// (one server), redis+cluster:// (a Redis \
     Cluster) or redis+sentinel:// (Redis Sentinel)";

#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("{URL_FORMS}")]
    Scheme,
    /// This build's Redis client speaks no TLS.
    #[error("TLS to Redis is not supported: reach Redis on a private network, or through a TLS tunnel on this host")]
    Tls,
    #[error("names no cluster node: give at least one host:port after the scheme")]
    NoNodes,
    #[error("a Redis Cluster has database 0 only: leave the path out")]
    Database,
    #[error("names no master: give the name the sentinels watch after them, e.g. redis+sentinel://host:26379/mymaster")]
    NoMaster,
    #[error("`{0}` is not a Redis address (host:port, with credentials before an @)")]
    Node(String),
    #[error("is not a Redis URL: {0}")]
    Invalid(RedisError),
}

/// How long to wait for a connection and for each reply.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub response: Duration,
}

/// A Redis deployment, opened from its URL. Connects lazily: opening checks the URL only.
#[derive(Clone)]
pub struct Redis {
    kind: Kind,
    timeouts: Timeouts,
}

#[derive(Clone)]
enum Kind {
    Server(redis::Client),
    Cluster(ClusterClient),
    Sentinel(std::sync::Arc<tokio::sync::Mutex<redis::sentinel::SentinelClient>>),
}

/// The seed node URLs of a `redis+cluster://` URL, each as a `redis://` URL; `None` for any
/// other scheme.
fn cluster_nodes(url: &str) -> Option<Result<Vec<String>, UrlError>> {
    let rest = url.strip_prefix(CLUSTER_SCHEME)?;
    let scheme = "redis://";
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !matches!(path, "" | "0") {
        return Some(Err(UrlError::Database));
    }
    // The credentials, if any, are the cluster's: every node is given them.
    let (credentials, hosts) = credentials_and_hosts(authority);
    let nodes: Vec<String> = hosts
        .iter()
        .map(|host| format!("{scheme}{credentials}{host}"))
        .collect();
    if nodes.is_empty() {
        return Some(Err(UrlError::NoNodes));
    }
    Some(Ok(nodes))
}

/// A URL authority's credentials (`user:password@`, with the `@`, or nothing) and its
/// comma-separated hosts.
fn credentials_and_hosts(authority: &str) -> (String, Vec<&str>) {
    let (credentials, hosts) = match authority.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), authority),
    };
    let hosts = hosts
        .split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .collect();
    (credentials, hosts)
}

/// Checks a `redis_url` the way `Redis::open` reads it, for configuration checks.
pub fn check_url(url: &str) -> Result<(), UrlError> {
    Redis::open(url, Timeouts::default()).map(|_| ())
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            response: Duration::from_secs(5),
        }
    }
}

impl Redis {
    pub fn open(url: &str, timeouts: Timeouts) -> Result<Self, UrlError> {
        let kind = match cluster_nodes(url) {
            Some(nodes) => Kind::Cluster({
                let nodes = nodes?;
                // Each node on its own, so that the error names the one that is wrong.
                for node in &nodes {
                    redis::Client::open(node.as_str()).map_err(|_| {
                        UrlError::Node(node.rsplit('@').next().unwrap_or(node).to_owned())
                    })?;
                }
                ClusterClient::builder(nodes)
                    .connection_timeout(timeouts.connect)
                    .response_timeout(timeouts.response)
                    // Enough to ride out a failover (a replica takes over within the cluster's
                    // node timeout, a second or two), not so many that a lost cluster stalls a
                    // caller for minutes: about 2 s of retries in all.
                    .retries(8)
                    .min_retry_wait(100)
                    .max_retry_wait(500)
                    .build()
                    .map_err(UrlError::Invalid)?
            }),
            None if url.starts_with("rediss") => return Err(UrlError::Tls),
            None => match sentinel::target(url) {
                Some(target) => Kind::Sentinel(sentinel::client(target?)?),
                None if url.starts_with("redis://") => {
                    Kind::Server(redis::Client::open(url).map_err(UrlError::Invalid)?)
                }
                None => return Err(UrlError::Scheme),
            },
        };
        Ok(Self { kind, timeouts })
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self.kind, Kind::Cluster(_))
    }

    /// A connection shared by all of a service's non-blocking commands: it reconnects by itself
    /// (and, on a cluster, follows slots that move and replicas that take over).
    pub async fn shared(&self) -> Result<Connection, RedisError> {
        match &self.kind {
            Kind::Server(client) => {
                // One quick retry: fail promptly while Redis is down (the defaults back off for
                // minutes).
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(self.timeouts.connect)
                    .set_response_timeout(self.timeouts.response)
                    .set_number_of_retries(1)
                    .set_factor(2)
                    .set_max_delay(1000);
                let manager = client.get_connection_manager_with_config(config).await?;
                Ok(Connection(Inner::Manager(manager)))
            }
            Kind::Cluster(client) => Ok(Connection(Inner::Cluster(
                client.get_async_connection().await?,
            ))),
            Kind::Sentinel(sentinels) => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(self.timeouts.connect)
                    .set_response_timeout(self.timeouts.response);
                let lookup = self.timeouts.connect + self.timeouts.response;
                let connection =
                    sentinel::SentinelConnection::new(sentinels.clone(), config, lookup);
                Ok(Connection(Inner::Sentinel(connection.connected().await?)))
            }
        }
    }

    /// A connection of its own, for a command that blocks (XREADGROUP ... BLOCK): on a shared,
    /// multiplexed connection it would hold every other command behind it. The caller bounds the
    /// wait; on a cluster the response timeout still applies, so a block must stay under it.
    pub async fn dedicated(&self) -> Result<Connection, RedisError> {
        match &self.kind {
            Kind::Server(client) => {
                let config =
                    AsyncConnectionConfig::new().set_connection_timeout(self.timeouts.connect);
                let connection = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?;
                Ok(Connection(Inner::Multiplexed(connection)))
            }
            // A cluster connection of its own keeps its own connection to each node.
            Kind::Cluster(client) => Ok(Connection(Inner::Cluster(
                client.get_async_connection().await?,
            ))),
            Kind::Sentinel(sentinels) => {
                let config =
                    AsyncConnectionConfig::new().set_connection_timeout(self.timeouts.connect);
                let lookup = self.timeouts.connect + self.timeouts.response;
                let connection =
                    sentinel::SentinelConnection::new(sentinels.clone(), config, lookup);
                Ok(Connection(Inner::Sentinel(connection.connected().await?)))
            }
        }
    }
}

/// A connection to one server or to a cluster: every redis command, pipeline and script runs
/// on it as on the crate's own connections.
#[derive(Clone)]
pub struct Connection(Inner);

#[derive(Clone)]
enum Inner {
    Manager(ConnectionManager),
    Multiplexed(MultiplexedConnection),
    Cluster(ClusterConnection),
    Sentinel(sentinel::SentinelConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Inner::Manager(connection) => connection.req_packed_command(cmd),
            Inner::Multiplexed(connection) => connection.req_packed_command(cmd),
            Inner::Cluster(connection) => connection.req_packed_command(cmd),
            Inner::Sentinel(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Inner::Manager(connection) => connection.req_packed_commands(pipeline, offset, count),
            Inner::Multiplexed(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
            Inner::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
            Inner::Sentinel(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Inner::Manager(connection) => connection.get_db(),
            Inner::Multiplexed(connection) => connection.get_db(),
            Inner::Cluster(connection) => connection.get_db(),
            Inner::Sentinel(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_url_names_each_node_with_the_cluster_credentials() {
        let nodes = cluster_nodes("redis+cluster://:pw@127.0.0.1:7000,127.0.0.1:7001/")
            .and_then(Result::ok);
        assert_eq!(
            nodes,
            Some(vec![
                "redis://:pw@127.0.0.1:7000".to_owned(),
                "redis://:pw@127.0.0.1:7001".to_owned()
            ])
        );
    }

    #[test]
    fn urls_that_cannot_work_are_refused_with_the_reason() {
        for (url, reason) in [
            ("redis+cluster://", "names no cluster node"),
            ("redis+cluster://a:1/3", "database 0 only"),
            ("http://a:1", "must start with redis://"),
            ("rediss://a:1", "TLS to Redis is not supported"),
            ("rediss+cluster://a:1", "TLS to Redis is not supported"),
            (
                "redis+cluster://u:secret@a:1,a:notaport",
                "`a:notaport` is not a Redis address",
            ),
        ] {
            let error = check_url(url)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(reason), "{url}: {error}");
        }
        assert!(check_url("redis://127.0.0.1:6379/2").is_ok());
        assert!(check_url("redis+cluster://127.0.0.1:7000,127.0.0.1:7001").is_ok());
    }

    #[test]
    fn a_single_server_url_is_not_a_cluster() {
        let server = Redis::open("redis://127.0.0.1:6379", Timeouts::default());
        assert!(server.is_ok_and(|redis| !redis.is_cluster()));
    }
}
