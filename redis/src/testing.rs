//! Throwaway Redis deployments for tests: a Redis Cluster (six `redis-server --cluster-enabled
//! yes` on free loopback ports, three masters with a replica each, made by `redis-cli --cluster
//! create`), and a master with a replica watched by three sentinels.
//!
//! Each server runs under a small shell that kills it and removes its directory when the pipe
//! from this process closes: when the `Cluster` is dropped, or when the test process ends, even
//! by a panic or a signal (a cluster kept in a `static` is never dropped).
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const NODES: usize = 6;
/// How long a master may be silent before its replica takes over, in ms: short where a test
/// kills one, so that the failover takes a second or two; long in the deployments many tests
/// share, so that a busy machine's stall never fails a master over under them.
const QUICK_FAILOVER_MS: u32 = 1000;
const SHARED_FAILOVER_MS: u32 = 10_000;
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Cluster {
    nodes: Vec<Node>,
}

struct Node {
    port: u16,
    /// Closing it stops the server.
    keepalive: Option<ChildStdin>,
    shell: Child,
}

/// The cluster at `BECKON_TEST_REDIS_CLUSTER_URL`, or else one started for this test process
/// (once, on first use) and stopped when the process ends.
pub fn shared_cluster_url() -> String {
    static SHARED: OnceLock<String> = OnceLock::new();
    SHARED
        .get_or_init(|| match std::env::var("BECKON_TEST_REDIS_CLUSTER_URL") {
            Ok(url) => url,
            Err(_) => {
                let cluster = Cluster::start_with(SHARED_FAILOVER_MS);
                let url = cluster.url();
                // Stays up until the process ends, which stops it.
                std::mem::forget(cluster);
                url
            }
        })
        .clone()
}

/// A port free on loopback now, whose cluster bus port (+10000) is free too.
fn free_port() -> u16 {
    loop {
        let Ok(port) = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
        else {
            continue;
        };
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// Runs `redis-cli -p <port> <args>` and returns what it printed.
fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli is installed (with redis-server; scripts/test installs it)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How a node is started: its arguments (given its directory) and the log line that says it
/// is ready.
struct Launch {
    args: Vec<String>,
    ready: &'static str,
}

impl Node {
    fn start(port: u16, launch: impl FnOnce(&std::path::Path) -> Launch) -> Self {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("beckon-redis-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the node");
        let Launch { args, ready } = launch(&dir);
        let mut shell = Command::new("sh")
            .arg("-c")
            // The server gets /dev/null as stdin; the shell waits on ours.
            .arg(r#"dir=$1; shift; redis-server "$@" & pid=$!; read -r _; kill -KILL $pid 2>/dev/null; wait $pid; rm -rf "$dir""#)
            .arg("sh")
            .arg(&dir)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh and redis-server are installed (scripts/test installs redis-server)");
        let keepalive = shell.stdin.take();
        let stdout = shell.stdout.take().expect("piped stdout");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // Reads the log to its end: a full pipe would stall the server.
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(ready) {
                    if let Some(ready_tx) = ready_tx.take() {
                        let _ = ready_tx.send(());
                    }
                }
            }
        });
        ready_rx
            .recv_timeout(PATIENCE)
            .expect("redis-server started on a free port");
        Self {
            port,
            keepalive,
            shell,
        }
    }

    /// A data server: a cluster's node, or a master or replica that sentinels watch.
    fn server(port: u16, extra: &[&str]) -> Self {
        Self::start(port, |dir| {
            let mut args: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                // Replicas get their first copy at once, not after the default 5 s wait for
                // more replicas to share one transfer.
                "--repl-diskless-sync-delay",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                &dir.display().to_string(),
            ]
            .map(str::to_owned)
            .to_vec();
            args.extend(extra.iter().map(|arg| (*arg).to_owned()));
            Launch {
                args,
                ready: "Ready to accept connections",
            }
        })
    }

    /// SIGKILL, as a crash: the server's own process id, from the server.
    fn kill(&mut self) {
        let info = cli(self.port, &["INFO", "server"]);
        let pid = info
            .lines()
            .find_map(|line| line.strip_prefix("process_id:"))
            .map(|pid| pid.trim().to_owned())
            .expect("INFO server names the process");
        let killed = Command::new("kill").args(["-KILL", &pid]).status();
        assert!(
            killed.is_ok_and(|status| status.success()),
            "kill -KILL {pid}"
        );
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        drop(self.keepalive.take());
        let _ = self.shell.wait();
    }
}

impl Cluster {
    /// Six nodes, three masters with a replica each, every slot served and every replica in
    /// step with its master when this returns; a master that dies is replaced within a second.
    pub fn start() -> Self {
        Self::start_with(QUICK_FAILOVER_MS)
    }

    fn start_with(failover_ms: u32) -> Self {
        let failover_ms = failover_ms.to_string();
        let nodes: Vec<Node> = (0..NODES)
            .map(|_| {
                Node::server(
                    free_port(),
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        &failover_ms,
                    ],
                )
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli is installed");
        assert!(created.success(), "redis-cli --cluster create failed");
        let cluster = Self { nodes };
        cluster.wait_until_whole();
        cluster
    }

    /// `redis+cluster://` with the masters' addresses.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .take(3)
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    fn live_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.nodes
            .iter()
            .filter(|node| node.keepalive.is_some())
            .map(|node| node.port)
    }

    /// Waits until every live node says every slot is served (`cluster_state:ok`) and every
    /// replica holds its master's copy (`master_link_status:up`): a replica without one could
    /// not take over.
    fn wait_until_whole(&self) {
        let start = Instant::now();
        let whole = |port| {
            let replication = cli(port, &["INFO", "replication"]);
            cli(port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
                && (replication.contains("role:master")
                    || replication.contains("master_link_status:up"))
        };
        while !self.live_ports().all(whole) {
            assert!(
                start.elapsed() < PATIENCE,
                "the Redis Cluster did not become whole"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills (SIGKILL) the master that holds `key`'s slot; its replica takes over within the
    /// node timeout. Returns the killed master's port.
    pub fn kill_master_of(&mut self, key: &str) -> u16 {
        let any = self.live_ports().next().expect("a live node");
        let slot: u16 = cli(any, &["CLUSTER", "KEYSLOT", key])
            .trim()
            .parse()
            .expect("CLUSTER KEYSLOT answers a number");
        let nodes = cli(any, &["CLUSTER", "NODES"]);
        let port = nodes
            .lines()
            .find_map(|line| master_port_serving(line, slot))
            .expect("a master serves every slot");
        let node = self
            .nodes
            .iter_mut()
            .find(|node| node.port == port)
            .expect("the master is one of ours");
        node.kill();
        // Its shell is left to notice the pipe close at drop; the server is gone already.
        drop(node.keepalive.take());
        port
    }
}

/// The port of the master on a `CLUSTER NODES` line, if it serves `slot`.
/// A line: `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`.
fn master_port_serving(line: &str, slot: u16) -> Option<u16> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (address, flags, slots) = (fields.get(1)?, fields.get(2)?, fields.get(8..)?);
    if !flags.split(',').any(|flag| flag == "master") || flags.contains("fail") {
        return None;
    }
    let serves = slots.iter().any(|range| {
        let (low, high) = range.split_once('-').unwrap_or((range, range));
        match (low.parse::<u16>(), high.parse::<u16>()) {
            (Ok(low), Ok(high)) => (low..=high).contains(&slot),
            _ => false,
        }
    });
    let port = address.split('@').next()?.rsplit_once(':')?.1;
    serves.then(|| port.parse().ok()).flatten()
}

/// Deletes every key under `prefix` (`{prefix}:...`, one slot) on a server or a cluster at
/// `url`: what a test's fixture does when it ends.
pub fn delete_keys(url: &str, prefix: &str) {
    let pattern = format!("{{{prefix}}}:*");
    if let Some(Ok(nodes)) = crate::cluster_nodes(url) {
        let Ok(client) = redis::cluster::ClusterClient::new(nodes) else {
            return;
        };
        let Ok(mut connection) = client.get_connection() else {
            return;
        };
        // The keys share the slot of their hash tag: scan the master that serves it.
        let slot = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(format!("{{{prefix}}}"))
            .query::<u16>(&mut connection);
        let Ok(slot) = slot else { return };
        let route = redis::cluster_routing::RoutingInfo::SingleNode(
            redis::cluster_routing::SingleNodeRoutingInfo::SpecificNode(
                redis::cluster_routing::Route::new(slot, redis::cluster_routing::SlotAddr::Master),
            ),
        );
        let mut cursor = 0u64;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000);
            let Ok(value) = connection.route_command(&scan, route.clone()) else {
                return;
            };
            let Ok((next, keys)) = redis::from_redis_value::<(u64, Vec<String>)>(&value) else {
                return;
            };
            if !keys.is_empty() {
                let _ = redis::cmd("DEL").arg(&keys).query::<()>(&mut connection);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
    // Behind sentinels: on the server that is master now.
    let client = match crate::sentinel::target(url) {
        Some(target) => target
            .ok()
            .and_then(|target| crate::sentinel::client(target).ok())
            .and_then(|sentinels| sentinels.try_lock().ok()?.get_client().ok()),
        None => redis::Client::open(url).ok(),
    };
    let Some(client) = client else {
        return;
    };
    let Ok(mut connection) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = match redis::Commands::scan_match(&mut connection, &pattern) {
        Ok(keys) => keys.collect(),
        Err(_) => return,
    };
    if !keys.is_empty() {
        let _: Result<(), _> = redis::Commands::del(&mut connection, keys);
    }
}

/// A Redis deployment of a test's own whose master a test can kill.
pub trait Breakable: Send + 'static {
    /// The `redis_url` that names it.
    fn url(&self) -> String;
    /// Kills (SIGKILL) the master that holds `key`; returns its port.
    fn kill_master_holding(&mut self, key: &str) -> u16;
}

impl Breakable for Cluster {
    fn url(&self) -> String {
        Cluster::url(self)
    }

    fn kill_master_holding(&mut self, key: &str) -> u16 {
        self.kill_master_of(key)
    }
}

impl Breakable for Sentinels {
    fn url(&self) -> String {
        Sentinels::url(self)
    }

    /// Every key is on the one master.
    fn kill_master_holding(&mut self, _key: &str) -> u16 {
        self.kill_master()
    }
}

/// The name the test sentinels watch their master by.
pub const SENTINEL_MASTER: &str = "beckon";

/// A master and its replica watched by three sentinels (quorum 2), each on a free loopback port,
/// stopped as a `Cluster` is.
pub struct Sentinels {
    servers: Vec<Node>,
    sentinels: Vec<Node>,
}

/// The sentinels at `BECKON_TEST_REDIS_SENTINEL_URL`, or else ones started for this test process
/// (once, on first use) and stopped when the process ends.
pub fn shared_sentinel_url() -> String {
    static SHARED: OnceLock<String> = OnceLock::new();
    SHARED
        .get_or_init(|| match std::env::var("BECKON_TEST_REDIS_SENTINEL_URL") {
            Ok(url) => url,
            Err(_) => {
                let sentinels = Sentinels::start_with(SHARED_FAILOVER_MS);
                let url = sentinels.url();
                std::mem::forget(sentinels);
                url
            }
        })
        .clone()
}

/// How many lines of `output` are exactly `word`: redis-cli prints a reply's fields one a line.
fn count_lines(output: &str, word: &str) -> usize {
    output.lines().filter(|line| line.trim() == word).count()
}

impl Sentinels {
    /// Ready when every sentinel knows the replica and the other two sentinels (without them
    /// it could not agree to a failover); a master that dies is replaced within a few seconds.
    pub fn start() -> Self {
        Self::start_with(QUICK_FAILOVER_MS)
    }

    fn start_with(failover_ms: u32) -> Self {
        let master = Node::server(free_port(), &[]);
        let master_port = master.port.to_string();
        let replica = Node::server(free_port(), &["--replicaof", "127.0.0.1", &master_port]);
        let sentinels: Vec<Node> = (0..3)
            .map(|_| {
                let port = free_port();
                Node::start(port, |dir| {
                    let conf = dir.join("sentinel.conf");
                    let text = format!(
                        "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                         sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master_port} 2\n\
                         sentinel down-after-milliseconds {SENTINEL_MASTER} {failover_ms}\n\
                         sentinel failover-timeout {SENTINEL_MASTER} 5000\n",
                        dir = dir.display()
                    );
                    std::fs::write(&conf, text).expect("write sentinel.conf");
                    Launch {
                        args: vec![conf.display().to_string(), "--sentinel".to_owned()],
                        ready: "+monitor master",
                    }
                })
            })
            .collect();
        let set = Self {
            servers: vec![master, replica],
            sentinels,
        };
        let start = Instant::now();
        while !set.sentinels.iter().all(|sentinel| {
            let replicas = cli(sentinel.port, &["SENTINEL", "REPLICAS", SENTINEL_MASTER]);
            let others = cli(sentinel.port, &["SENTINEL", "SENTINELS", SENTINEL_MASTER]);
            count_lines(&replicas, "name") == 1 && count_lines(&others, "name") == 2
        }) || !cli(set.servers[1].port, &["INFO", "replication"])
            .contains("master_link_status:up")
        {
            assert!(
                start.elapsed() < PATIENCE,
                "the sentinels did not find each other"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        set
    }

    /// `redis+sentinel://` with every sentinel's address and the master's name.
    pub fn url(&self) -> String {
        let sentinels: Vec<String> = self
            .sentinels
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        format!("redis+sentinel://{}/{SENTINEL_MASTER}", sentinels.join(","))
    }

    /// Kills (SIGKILL) the server that is master now; the sentinels make the replica master
    /// within their down-after time and an election. Returns the killed server's port.
    pub fn kill_master(&mut self) -> u16 {
        let master = self
            .servers
            .iter_mut()
            .find(|node| {
                node.keepalive.is_some()
                    && cli(node.port, &["INFO", "replication"]).contains("role:master")
            })
            .expect("a live master");
        master.kill();
        drop(master.keepalive.take());
        master.port
    }
}

#[cfg(test)]
mod tests {
    use super::master_port_serving;

    #[test]
    fn a_cluster_nodes_line_names_the_master_serving_a_slot() {
        let line = "07c3 127.0.0.1:30004@40004 myself,master - 0 0 1 connected 0-5460 6000";
        assert_eq!(master_port_serving(line, 100), Some(30004));
        assert_eq!(master_port_serving(line, 6000), Some(30004));
        assert_eq!(master_port_serving(line, 5461), None);
        let replica = "67ed 127.0.0.1:30005@40005 slave 07c3 0 0 1 connected";
        assert_eq!(master_port_serving(replica, 100), None);
    }
}
