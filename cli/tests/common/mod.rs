//! What the end-to-end tests of `invitectl` share: running the binary as a user or a script
//! would, with a server and key in the environment (unless taken away) and a home of its own.
// Each test file uses only part of it.
#![allow(dead_code)]
use std::{path::PathBuf, process::Stdio, time::Duration};

use beckon_tests::TestApp;
use serde_json::Value;
use tokio::{io::AsyncWriteExt, process::Command};

/// Longest any one run may take: a bulk send waits for its whole cohort.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The id in the first line, `<noun> <id>`.
    pub fn id(&self) -> String {
        let first = self.stdout.lines().next().unwrap_or_default();
        match first.split_once(' ') {
            Some((_, id)) => id.trim().to_string(),
            None => panic!("no `<noun> <id>` line in:\n{}", self.stdout),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}):\n{}", self.stdout))
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs invitectl with a server and key in the environment (unless taken away) and a home of
/// its own, so that the developer's own config file can never leak in.
pub struct Ctl {
    pub server: Option<String>,
    pub key: Option<String>,
    pub home: tempfile::TempDir,
}

impl Ctl {
    pub fn new(app: &TestApp) -> Self {
        Self {
            server: Some(app.base_url.clone()),
            key: Some(app.admin_key.clone()),
            home: tempfile::tempdir().expect("temp home"),
        }
    }

    /// No server, no key: for commands that must not need them.
    pub fn offline() -> Self {
        Self {
            server: None,
            key: None,
            home: tempfile::tempdir().expect("temp home"),
        }
    }

    /// No key and a server that is not there: for what must fail before any call.
    pub fn unreachable() -> Self {
        Self {
            server: Some("http://127.0.0.1:1".into()),
            key: None,
            home: tempfile::tempdir().expect("temp home"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[]).await
    }

    pub async fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_invitectl"));
        command
            .args(args)
            .env_remove("BECKON_SERVER")
            .env_remove("BECKON_API_KEY")
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", self.home.path())
            .env("NO_COLOR", "1")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(server) = &self.server {
            command.env("BECKON_SERVER", server);
        }
        if let Some(key) = &self.key {
            command.env("BECKON_API_KEY", key);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start invitectl");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await.expect("write stdin");
        }
        let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("invitectl {args:?} did not finish"))
            .expect("invitectl output");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs with `--output json`; it must succeed.
    pub async fn json(&self, args: &[&str]) -> Value {
        let run = self.run(&[&["--output", "json"][..], args].concat()).await;
        run.assert_code(0);
        run.json()
    }

    pub async fn create_job(&self, title: &str) -> String {
        self.run(&[
            "jobs",
            "create",
            "--title",
            title,
            "--assessment-url",
            "https://assess.example.com/start",
        ])
        .await
        .assert_code(0)
        .id()
    }
}
