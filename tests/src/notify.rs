//! Test support for notify-service: boots it in-process (or as a real process, for crash tests)
//! on the in-process or the Redis backend, sending to a test SMTP server.
use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use beckon_proto::notify::v1::notify_service_client::NotifyServiceClient;
use notify_service::{
    config::{Period, Rate, SmtpConfig, SmtpSecurity},
    Config, RunningNotify,
};
use tonic::transport::Channel;

use crate::smtp::SmtpServer;

/// Which queue and limiter notify-service runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueBackend {
    InProcess,
    Redis,
    /// A Redis Cluster: `BECKON_TEST_REDIS_CLUSTER_URL`, else one started for the test process.
    Cluster,
}

/// Runs each listed `async fn name(backend: QueueBackend)` on every backend, as
/// `in_process::name`, `redis::name` and `cluster::name`.
#[macro_export]
macro_rules! on_every_queue {
    ($($name:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::notify::QueueBackend::InProcess).await
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::notify::QueueBackend::Redis).await
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::notify::QueueBackend::Cluster).await
                }
            )*
        }
    };
}

pub fn redis_url() -> String {
    std::env::var("BECKON_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

impl QueueBackend {
    /// The Redis a backend's queue and limits live on.
    pub fn redis_url(self) -> Option<String> {
        match self {
            QueueBackend::InProcess => None,
            QueueBackend::Redis => Some(redis_url()),
            QueueBackend::Cluster => Some(beckon_redis::testing::shared_cluster_url()),
        }
    }
}

/// Settings for a test: fast retries and deadlines, generous rates, mail to `smtp`.
pub fn test_config(backend: QueueBackend, smtp: &SmtpServer, data_dir: &Path) -> Config {
    let fast = Rate::new(5000, Period::Second, 500);
    Config {
        listen_addr: "127.0.0.1:0".parse().expect("address"),
        data_dir: data_dir.to_path_buf(),
        redis_url: backend.redis_url(),
        key_prefix: format!("test-{}", uuid::Uuid::now_v7().simple()),
        smtp: Some(SmtpConfig {
            host: smtp.addr.ip().to_string(),
            port: Some(smtp.addr.port()),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            pool_size: 8,
            timeout_secs: 10,
        }),
        from_address: "Beckon Test <invites@beckon.test>".into(),
        workers: 8,
        relay_rate: fast,
        organization_rate: fast,
        domain_rate: fast,
        retry_base_ms: 50,
        retry_max_ms: 200,
        ack_deadline_ms: 1500,
        reconcile_interval_ms: 250,
        republish_after_ms: Some(3000),
        ..Config::default()
    }
}

pub struct NotifyApp {
    pub running: Option<RunningNotify>,
    pub client: NotifyServiceClient<Channel>,
    pub config: Config,
    pub addr: SocketAddr,
    _data_dir: Option<tempfile::TempDir>,
}

impl NotifyApp {
    pub async fn spawn(backend: QueueBackend, smtp: &SmtpServer) -> Self {
        Self::spawn_with(backend, smtp, |_| {}).await
    }

    pub async fn spawn_with(
        backend: QueueBackend,
        smtp: &SmtpServer,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(backend, smtp, data_dir.path());
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let running = notify_service::start_on(config.clone(), listener)
            .await
            .expect("notify-service starts");
        let client = NotifyServiceClient::new(
            Channel::from_shared(format!("http://{addr}"))
                .expect("url")
                .connect()
                .await
                .expect("connect"),
        );
        Self {
            running: Some(running),
            client,
            config,
            addr,
            _data_dir: Some(data_dir),
        }
    }

    /// Stops notify-service and removes the test's Redis keys.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
        if let Some(url) = &self.config.redis_url {
            remove_redis_keys(url, &self.config.key_prefix).await;
        }
    }
}

/// A binary of this workspace, built next to the test binaries.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build -p {name}`)",
        path.display()
    );
    path
}

/// notify-service as a real process, for tests that kill it.
pub struct NotifyProcess {
    pub child: Child,
    pub addr: SocketAddr,
}

impl NotifyProcess {
    /// Starts the binary with `config` as environment variables and waits for its
    /// "listening on" line.
    pub fn start(config: &Config) -> Self {
        let mut command = Command::new(workspace_binary("notify-service"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in config_env(config) {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start notify-service");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("notify-service exited before listening");
            };
            if let Some(addr) = line.strip_prefix("Beckon notify-service listening on ") {
                break addr.trim().parse().expect("listen address");
            }
        };
        Self { child, addr }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub async fn client(&self) -> NotifyServiceClient<Channel> {
        NotifyServiceClient::new(
            Channel::from_shared(format!("http://{}", self.addr))
                .expect("url")
                .connect()
                .await
                .expect("connect"),
        )
    }
}

impl Drop for NotifyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The configuration as `BECKON_NOTIFY_*` variables, as an operator would set it.
fn config_env(config: &Config) -> Vec<(String, String)> {
    let mut env = vec![
        ("BECKON_NOTIFY_LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        (
            "BECKON_NOTIFY_DATA_DIR".into(),
            config.data_dir.display().to_string(),
        ),
        ("BECKON_NOTIFY_KEY_PREFIX".into(), config.key_prefix.clone()),
        (
            "BECKON_NOTIFY_FROM_ADDRESS".into(),
            config.from_address.clone(),
        ),
        ("BECKON_NOTIFY_WORKERS".into(), config.workers.to_string()),
        (
            "BECKON_NOTIFY_RETRY_BASE_MS".into(),
            config.retry_base_ms.to_string(),
        ),
        (
            "BECKON_NOTIFY_RETRY_MAX_MS".into(),
            config.retry_max_ms.to_string(),
        ),
        (
            "BECKON_NOTIFY_ACK_DEADLINE_MS".into(),
            config.ack_deadline_ms.to_string(),
        ),
        (
            "BECKON_NOTIFY_RECONCILE_INTERVAL_MS".into(),
            config.reconcile_interval_ms.to_string(),
        ),
    ];
    if let Some(ms) = config.republish_after_ms {
        env.push(("BECKON_NOTIFY_REPUBLISH_AFTER_MS".into(), ms.to_string()));
    }
    for (name, rate) in [
        ("RELAY_RATE", config.relay_rate),
        ("ORGANIZATION_RATE", config.organization_rate),
        ("DOMAIN_RATE", config.domain_rate),
    ] {
        env.push((format!("BECKON_NOTIFY_{name}"), rate.to_string()));
    }
    if let Some(url) = &config.redis_url {
        env.push(("BECKON_NOTIFY_REDIS_URL".into(), url.clone()));
    }
    if let Some(smtp) = &config.smtp {
        env.push(("BECKON_NOTIFY_SMTP__HOST".into(), smtp.host.clone()));
        env.push(("BECKON_NOTIFY_SMTP__PORT".into(), smtp.port().to_string()));
        env.push(("BECKON_NOTIFY_SMTP__SECURITY".into(), "none".into()));
        env.push((
            "BECKON_NOTIFY_SMTP__POOL_SIZE".into(),
            smtp.pool_size.to_string(),
        ));
        env.push((
            "BECKON_NOTIFY_SMTP__TIMEOUT_SECS".into(),
            smtp.timeout_secs.to_string(),
        ));
    }
    env
}

/// Deletes every key under a test's prefix (keys are `{prefix}:…`), on a server or a cluster.
pub async fn remove_redis_keys(url: &str, prefix: &str) {
    let (url, prefix) = (url.to_owned(), prefix.to_owned());
    let _ = tokio::task::spawn_blocking(move || {
        beckon_redis::testing::delete_keys(&url, &prefix);
    })
    .await;
}
