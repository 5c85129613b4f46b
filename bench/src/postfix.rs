//! Postfix's own SMTP benchmark tools, from Debian's `postfix` package, as the SMTP baseline:
//! `smtp-sink` (a fast sink that counts) and `smtp-source` (a fast sender). Postfix's mail
//! system itself is not used.
use std::{
    os::unix::fs::MetadataExt,
    path::Path,
    process::Stdio,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    io::AsyncReadExt,
    process::{Child, Command},
    sync::Notify,
    task::JoinHandle,
};

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";
const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";
/// Bounds every wait on the tools.
const WAIT: Duration = Duration::from_secs(300);

/// Why the tools cannot be used here, if they cannot.
pub fn missing() -> Option<String> {
    [SMTP_SINK, SMTP_SOURCE]
        .iter()
        .find(|tool| !Path::new(tool).exists())
        .map(|tool| format!("{tool} is missing (apt-get install postfix)"))
}

#[derive(Default)]
struct Count {
    delivered: AtomicU64,
    last: Mutex<Option<Instant>>,
    changed: Notify,
}

/// `smtp-sink -c` on 127.0.0.1, its running count of delivered messages read from its output.
pub struct PostfixSink {
    pub port: u16,
    child: Child,
    count: Arc<Count>,
    reader: JoinHandle<()>,
}

impl PostfixSink {
    pub async fn start() -> anyhow::Result<Self> {
        // A free port, given back for the sink to bind.
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
            .local_addr()?
            .port();
        let mut command = Command::new(SMTP_SINK);
        command.arg("-c");
        // smtp-sink refuses to keep super-user privileges.
        let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        if as_root {
            command.args(["-u", "nobody"]);
        }
        let mut child = command
            .arg(format!("127.0.0.1:{port}"))
            .arg("256")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {SMTP_SINK}"))?;
        let mut stdout = child.stdout.take().context("smtp-sink's output")?;
        let count = Arc::new(Count::default());
        let reader = {
            let count = count.clone();
            tokio::spawn(async move {
                // "sess=N quit=N mesg=N\r" after every message and session.
                let mut buffer = [0_u8; 4096];
                let mut text = String::new();
                while let Ok(n) = stdout.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    text.push_str(&String::from_utf8_lossy(&buffer[..n]));
                    let Some(end) = text.rfind('\r') else {
                        continue;
                    };
                    let latest = text[..end]
                        .rsplit("mesg=")
                        .next()
                        .and_then(|tail| tail.split_whitespace().next())
                        .and_then(|number| number.parse::<u64>().ok());
                    text.drain(..=end);
                    if let Some(latest) = latest {
                        if count.delivered.swap(latest, Ordering::Relaxed) != latest {
                            if let Ok(mut last) = count.last.lock() {
                                *last = Some(Instant::now());
                            }
                        }
                        count.changed.notify_waiters();
                    }
                }
            })
        };
        let sink = Self {
            port,
            child,
            count,
            reader,
        };
        sink.wait_listening().await?;
        Ok(sink)
    }

    /// Until the sink accepts connections, within 10 s.
    async fn wait_listening(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "smtp-sink did not listen on 127.0.0.1:{} within 10 s",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn delivered(&self) -> u64 {
        self.count.delivered.load(Ordering::Relaxed)
    }

    /// When the count last went up.
    pub fn last_delivery(&self) -> Option<Instant> {
        self.count.last.lock().ok().and_then(|last| *last)
    }

    /// Until `n` messages have been delivered in all, within `timeout`.
    pub async fn wait_for(&self, n: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.count.changed.notified();
            if self.delivered() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.delivered() >= n;
            }
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        self.reader.abort();
    }
}

/// `smtp-source` sends `count` copies of the message in `message_file` over `sessions`
/// connections, each kept open (`-d`); it ends when the last is acknowledged. Returns how long
/// it took.
pub async fn smtp_source(
    port: u16,
    message_file: &Path,
    count: u64,
    sessions: u32,
) -> anyhow::Result<Duration> {
    let began = Instant::now();
    let output = tokio::time::timeout(
        WAIT,
        Command::new(SMTP_SOURCE)
            .arg("-d")
            .args(["-s", &sessions.to_string()])
            .args(["-m", &count.to_string()])
            .arg("-F")
            .arg(message_file)
            .args(["-f", "invites@bench.example.com"])
            .args(["-t", "candidate@bench.example.com"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("smtp-source did not finish within 300 s")?
    .with_context(|| format!("running {SMTP_SOURCE}"))?;
    let elapsed = began.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "smtp-source failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(elapsed)
}
