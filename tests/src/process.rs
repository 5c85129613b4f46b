//! A service binary as a real process: started with a cleared environment, ready once it prints
//! where it listens, its log read as it comes.
use std::{collections::BTreeSet, net::SocketAddr, process::Stdio, time::Duration};

use crate::notify::workspace_binary;
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::mpsc,
};

/// Longest a start (migrations included) or a refusal may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `name` (a binary of this workspace) with nothing in its environment but `PATH`.
pub fn service(name: &str) -> Command {
    let mut command = Command::new(workspace_binary(name));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// How a start that must fail ended.
pub struct Refusal {
    pub code: Option<i32>,
    pub stderr: String,
}

impl Refusal {
    /// Exit status 2 and exactly one line on stderr, which contains every one of `parts`.
    #[track_caller]
    pub fn assert_one_line(&self, parts: &[&str]) {
        assert_eq!(self.code, Some(2), "exit status; stderr:\n{}", self.stderr);
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line on stderr:\n{}",
            self.stderr
        );
        for part in parts {
            assert!(self.stderr.contains(part), "`{part}` in:\n{}", self.stderr);
        }
    }
}

/// Runs a start that must fail, and what it printed.
pub async fn refused(mut command: Command) -> Refusal {
    let child = command.spawn().expect("start the service");
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .expect("the service refused to start instead of running")
        .expect("wait for the service");
    Refusal {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub struct Running {
    child: Child,
    /// Where it says it listens.
    pub addr: SocketAddr,
    /// What it printed on stdout up to the end of its banner.
    pub banner: Vec<String>,
    stderr: mpsc::UnboundedReceiver<String>,
    /// The log lines read so far.
    pub log: Vec<String>,
}

impl Running {
    /// Starts the service and reads its stdout up to the line `last_line` starts with (the end
    /// of its banner).
    pub async fn start(mut command: Command, last_line: &str) -> Self {
        let mut child = command.spawn().expect("start the service");
        let (sender, stderr) = mpsc::unbounded_channel();
        let mut errors = BufReader::new(child.stderr.take().expect("stderr")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut banner = Vec::new();
        let mut running = Self {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            banner: Vec::new(),
            stderr,
            log: Vec::new(),
        };
        let read_banner = async {
            while let Ok(Some(line)) = lines.next_line().await {
                let last = line.starts_with(last_line);
                banner.push(line);
                if last {
                    return true;
                }
            }
            false
        };
        let complete = tokio::time::timeout(TIMEOUT, read_banner)
            .await
            .unwrap_or(false);
        if !complete {
            running.drain_log().await;
            panic!(
                "the service did not start.\nstdout:\n{}\nstderr:\n{}",
                banner.join("\n"),
                running.log.join("\n")
            );
        }
        running.addr = banner
            .iter()
            .find_map(|line| line.split_once(" listening on "))
            .and_then(|(_, addr)| addr.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `listening on` line in {banner:?}"));
        running.banner = banner;
        // Keeps stdout open: a closed pipe would fail the service's next print.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        running
    }

    /// The admin key invite-service printed for a new database.
    pub fn admin_key(&self) -> String {
        self.banner
            .iter()
            .map(|line| line.trim())
            .find(|line| line.starts_with("bk_"))
            .unwrap_or_else(|| panic!("no admin key in {:?}", self.banner))
            .to_string()
    }

    /// A gRPC channel to where it listens.
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Channel::from_shared(format!("http://{}", self.addr))
            .expect("url")
            .connect()
            .await
            .expect("connect")
    }

    /// Kills the process with SIGKILL, as a crash or the OOM killer would, and waits for it.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("kill the service");
    }

    /// Sends SIGTERM, as an orchestrator stopping it does, and waits for the process to exit;
    /// its exit status and how long that took.
    pub async fn terminate(&mut self) -> (std::process::ExitStatus, Duration) {
        let pid = self.child.id().expect("the service is running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("a pid"));
        let sent = std::time::Instant::now();
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let status = self.child.wait().await.expect("the service exits");
        (status, sent.elapsed())
    }

    /// What has been logged by now, without waiting.
    pub async fn drain_log(&mut self) {
        while let Ok(Some(line)) =
            tokio::time::timeout(Duration::from_millis(200), self.stderr.recv()).await
        {
            self.log.push(line);
        }
    }

    /// The first log line for which `wanted` gives a value, waiting for it if need be.
    pub async fn log_line<T>(&mut self, wanted: impl Fn(&str) -> Option<T>) -> T {
        if let Some(found) = self.log.iter().find_map(|line| wanted(line)) {
            return found;
        }
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, self.stderr.recv()).await {
                Ok(Some(line)) => {
                    let found = wanted(&line);
                    self.log.push(line);
                    if let Some(found) = found {
                        return found;
                    }
                }
                _ => panic!("no such log line in:\n{}", self.log.join("\n")),
            }
        }
    }

    /// The effective configuration logged at start under `message`.
    pub async fn settings(&mut self, message: &str) -> Value {
        let message = message.to_string();
        self.log_line(move |line| settings_in(line, &message)).await
    }
}

/// The `settings` of a log line with this message, in either log format.
fn settings_in(line: &str, message: &str) -> Option<Value> {
    if let Ok(Value::Object(record)) = serde_json::from_str::<Value>(line) {
        let fields = record.get("fields")?;
        if fields.get("message")?.as_str()? != message {
            return None;
        }
        return serde_json::from_str(fields.get("settings")?.as_str()?).ok();
    }
    let (_, settings) = line.split_once(&format!(" {message} settings="))?;
    serde_json::from_str(settings).ok()
}

/// A setting's value in an effective configuration (`smtp.port` looks into `smtp`).
pub fn setting<'a>(settings: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .try_fold(settings, |value, part| value.get(part))
        .unwrap_or_else(|| panic!("no `{path}` in {settings}"))
}

/// Every test's own prefix for Redis keys.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// Every setting a test gives a value of its own through its variable, with the value and how
/// the effective configuration shows it.
pub struct Given {
    /// `BECKON_` or `BECKON_NOTIFY_`: the service's namespace.
    prefix: &'static str,
    variables: Vec<(String, String)>,
    expected: Vec<(&'static str, Value)>,
}

impl Given {
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            variables: Vec::new(),
            expected: Vec::new(),
        }
    }

    /// `<prefix><SETTING>` (nested with `__`) = `value`, shown as `shown`.
    pub fn set(&mut self, setting: &'static str, value: impl Into<String>, shown: Value) {
        self.variables.push((
            format!(
                "{}{}",
                self.prefix,
                setting.replace('.', "__").to_ascii_uppercase()
            ),
            value.into(),
        ));
        self.expected.push((setting, shown));
    }

    pub fn apply(&self, command: &mut Command) {
        for (name, value) in &self.variables {
            command.env(name, value);
        }
    }

    #[track_caller]
    pub fn assert_shown_in(&self, settings: &Value) {
        for (name, shown) in &self.expected {
            assert_eq!(setting(settings, name), shown, "setting `{name}`");
        }
    }

    pub fn names(&self) -> BTreeSet<&'static str> {
        self.expected.iter().map(|(name, _)| *name).collect()
    }
}
