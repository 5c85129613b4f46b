//! The `invite-service` binary as an operator meets it: settings errors, subcommands, first start.
use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

fn invite_service(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invite-service"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BECKON_DATA_DIR", data_dir)
        .env("BECKON_LISTEN_ADDR", "127.0.0.1:0");
    command
}

#[test]
fn a_bad_setting_stops_the_start_with_a_message_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = invite_service(dir.path())
        .env("BECKON_PUBLIC_BASE_URL", "ftp://example.com")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("public_base_url"), "{stderr}");

    let output = invite_service(dir.path())
        .env("BECKON_MAX_REQUEST_BYTES", "lots")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr).to_lowercase();
    assert!(stderr.contains("max_request_bytes"), "{stderr}");
}

#[test]
fn a_config_file_is_read_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("beckon.toml");
    std::fs::write(&file, "request_timeout_secs = 9999\n").expect("write");
    let output = invite_service(dir.path())
        .arg("--config")
        .arg(&file)
        .arg("migrate")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("request_timeout_secs"), "{stderr}");

    let output = invite_service(dir.path())
        .arg("--config")
        .arg(&file)
        .arg("migrate")
        .env("BECKON_REQUEST_TIMEOUT_SECS", "20")
        // invitectl's settings share the prefix and must not upset the server.
        .env("BECKON_API_KEY", "bk_for_invitectl")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");

    let output = invite_service(dir.path())
        .arg("--config")
        .arg(dir.path().join("missing.toml"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn bootstrap_makes_an_organization_and_prints_its_key_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = invite_service(dir.path())
        .args(["bootstrap", "--organization", "Acme Hiring"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("organization Acme Hiring"), "{stdout}");
    assert!(
        stdout.contains("admin API key (shown only now): bk_"),
        "{stdout}"
    );
}

#[test]
fn the_first_start_prints_where_it_listens_and_the_admin_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = invite_service(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let key = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("server stopped before printing a key: {seen:?}");
        };
        if let Some(key) = line.trim().strip_prefix("bk_") {
            break key.to_string();
        }
        seen.push(line);
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen[0].starts_with("Beckon invite-service listening on 127.0.0.1:"));
    assert!(key.len() > 40);
}
