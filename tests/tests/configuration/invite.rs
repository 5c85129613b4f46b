//! invite-service's settings, from `BECKON_*` variables alone, from its TOML file, and wrong.
use std::{collections::BTreeSet, time::Duration};

use beckon_proto::invite::v1::{invite_service_client::InviteServiceClient, CreateInviteRequest};
use beckon_tests::smtp::{to, SmtpServer};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};
use tokio::process::Command;
use tonic::{metadata::MetadataValue, transport::Channel, Request};

use beckon_tests::process::{refused, service, setting, unique, Given, Running};

const SETTINGS_MESSAGE: &str = "effective configuration";
/// 32 bytes in base64url.
const LINK_SECRET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

fn invite_service() -> Command {
    service("invite-service")
}

/// Starts it and waits for the end of its banner.
async fn start(command: Command) -> Running {
    Running::start(command, "Press Ctrl-C to stop.").await
}

/// Makes a job and an emailed invite for `email`; gives the invite's link.
async fn emailed_invite(running: &Running, email: &str) -> String {
    let channel = Channel::from_shared(format!("http://{}", running.addr))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let auth: MetadataValue<_> = format!("Bearer {}", running.admin_key())
        .parse()
        .expect("ascii");
    let with_key = move |mut request: Request<()>| {
        request.metadata_mut().insert("authorization", auth.clone());
        Ok::<_, tonic::Status>(request)
    };
    let job = beckon_tests::open_job(channel.clone(), with_key.clone()).await;
    InviteServiceClient::with_interceptor(channel, with_key)
        .create_invite(CreateInviteRequest {
            job_id: job.id,
            candidate_email: email.into(),
            candidate_name: "Ada Lovelace".into(),
            send_email: true,
            ..CreateInviteRequest::default()
        })
        .await
        .expect("create invite")
        .into_inner()
        .link_url
}

/// The issue's own case: SMTP set by host, port and security alone, and every other setting by
/// its variable alone; the service starts and uses each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setting_from_its_environment_variable_alone_is_used() {
    let smtp = SmtpServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("invite-data");
    let database = dir.path().join("elsewhere.db");
    let redis_url = beckon_tests::notify::redis_url();
    let redis_prefix = unique("test-config-invite");
    let public_base_url = "https://jobs.example.test/beckon";

    let mut given = Given::new("BECKON_");
    given.set("listen_addr", "127.0.0.2:0", json!("127.0.0.2:0"));
    given.set("public_base_url", public_base_url, json!(public_base_url));
    given.set(
        "data_dir",
        data_dir.display().to_string(),
        json!(data_dir.display().to_string()),
    );
    let database_url = format!("sqlite://{}?mode=rwc", database.display());
    given.set("database_url", &database_url, json!(database_url));
    given.set(
        "cors_origins",
        "https://ats.example.test, chrome-extension://abcdefgh",
        json!(["https://ats.example.test", "chrome-extension://abcdefgh"]),
    );
    given.set("max_request_bytes", "2097152", json!(2_097_152));
    given.set("request_timeout_secs", "45", json!(45));
    given.set("log_format", "json", json!("json"));
    given.set("max_db_connections", "7", json!(7));
    given.set("db_acquire_timeout_ms", "4000", json!(4000));
    given.set("link_secret", LINK_SECRET, json!("<secret>"));
    given.set("relay_interval_ms", "100", json!(100));
    given.set("max_bulk_rows", "20", json!(20));
    given.set("cohort_chunk_size", "7", json!(7));
    given.set("cohort_window_hours", "12", json!(12));
    given.set("sweep_interval_ms", "1000", json!(1000));
    given.set("redis_url", &redis_url, json!(redis_url));
    given.set("redis_key_prefix", &redis_prefix, json!(redis_prefix));
    given.set(
        "public_rate_per_link",
        "5/minute burst 2",
        json!("5/minute burst 2"),
    );
    given.set(
        "public_rate_per_address",
        "4/hour burst 3",
        json!("4/hour burst 3"),
    );
    given.set("public_rate_per_email", "2/day", json!("2/day burst 2"));
    given.set(
        "trusted_proxies",
        "10.0.0.1,10.0.0.2",
        json!(["10.0.0.1", "10.0.0.2"]),
    );
    given.set("webhook_allow_http", "true", json!(true));
    given.set(
        "webhook_allowed_networks",
        "10.20.0.0/16, fd00::/8",
        json!(["10.20.0.0/16", "fd00::/8"]),
    );
    given.set("webhook_timeout_ms", "5000", json!(5000));
    given.set("webhook_retry_schedule", "1s 1m 1h", json!("1s 1m 1h"));
    given.set("webhook_disable_after_secs", "86400", json!(86400));
    given.set(
        "webhook_rate_per_endpoint",
        "20/second burst 5",
        json!("20/second burst 5"),
    );
    given.set("webhook_interval_ms", "500", json!(500));
    given.set("webhook_retention_secs", "604800", json!(604800));
    given.set("ats_allow_http", "true", json!(true));
    given.set("metrics_addr", "127.0.0.1:0", json!("127.0.0.1:0"));
    given.set("shutdown_timeout_secs", "7", json!(7));
    given.set(
        "ashby_api_url",
        "https://ashby.example.test/api/",
        json!("https://ashby.example.test/api/"),
    );

    let mut command = invite_service();
    given.apply(&mut command);
    command
        .env("BECKON_NOTIFY_SMTP__HOST", smtp.addr.ip().to_string())
        .env("BECKON_NOTIFY_SMTP__PORT", smtp.addr.port().to_string())
        .env("BECKON_NOTIFY_SMTP__SECURITY", "none")
        .env("BECKON_NOTIFY_FROM_ADDRESS", "Hiring <hiring@example.test>");
    let mut running = start(command).await;

    let settings = running.settings(SETTINGS_MESSAGE).await;
    given.assert_shown_in(&settings);
    // listen_addr: it listens there.
    assert_eq!(
        running.addr.ip().to_string(),
        "127.0.0.2",
        "{:?}",
        running.banner
    );
    // The in-process notify-service took the SMTP server with the documented defaults.
    let notify = running
        .settings("effective configuration of the in-process notify-service")
        .await;
    assert_eq!(setting(&notify, "smtp.pool_size"), &json!(8));
    assert_eq!(setting(&notify, "smtp.timeout_secs"), &json!(30));
    assert_eq!(
        setting(&notify, "data_dir"),
        &json!(data_dir.display().to_string())
    );

    // metrics_addr: Prometheus metrics are served there, and read by Prometheus' own parser.
    let metrics: std::net::SocketAddr = running
        .banner
        .iter()
        .find_map(|line| line.trim().strip_prefix("metrics:"))
        .and_then(|url| url.trim().strip_prefix("http://"))
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no metrics line in {:?}", running.banner));
    assert_eq!(metrics.ip().to_string(), "127.0.0.1");
    assert_ne!(metrics.port(), running.addr.port());
    let samples = beckon_tests::metrics::scrape(metrics).await;
    assert!(samples.iter().any(|s| s.name == "beckon_outbox_pending"));

    // ats_allow_http: the ATS routes are served over this test's plain HTTP (401 without a key,
    // not the 403 they answer when not allowed).
    let ats = reqwest::get(format!("http://{}/ats/greenhouse/list_tests", running.addr))
        .await
        .expect("the ATS route answers");
    assert_eq!(ats.status(), 401);

    // public_base_url: links start with it, in the response and in the mail that arrives at the
    // SMTP server configured by variables alone, from the configured address.
    let link = emailed_invite(&running, "ada@example.com").await;
    assert!(link.starts_with(&format!("{public_base_url}/i/")), "{link}");
    let mail = smtp
        .wait_for(Duration::from_secs(30), to("ada@example.com"))
        .await;
    let email = mail
        .iter()
        .find(|m| m.to == ["ada@example.com"])
        .expect("the invite email arrived");
    assert!(
        email
            .header("From")
            .is_some_and(|from| from.contains("hiring@example.test")),
        "{:?}",
        email.header("From")
    );
    assert_eq!(
        email.link_starting(public_base_url).as_deref(),
        Some(link.as_str())
    );

    // cors_origins: a listed origin is allowed.
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!(
                "http://{}/beckon.invite.v1.OrganizationService/GetCaller",
                running.addr
            ),
        )
        .header("origin", "https://ats.example.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://ats.example.test"
    );

    // database_url and data_dir: the database is where it was put; notify-service's sits in
    // the data folder; link_secret: no key was made there.
    assert!(database.exists());
    assert!(!data_dir.join("beckon.db").exists());
    assert!(data_dir.join("notify.db").exists());
    assert!(!data_dir.join("link-secret").exists());

    // log_format: every log line is JSON, and no secret is in any.
    for line in &running.log {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "{line}");
        assert!(!line.contains(LINK_SECRET), "{line}");
    }

    // With the settings of the next test, every setting has been given.
    let mut covered = given.names();
    // otlp_endpoint: traces.rs gives it and follows the spans to a collector.
    covered.extend(["notify_addr", "notify_token", "otlp_endpoint"]);
    let all: BTreeSet<&str> = invite_service::config::SETTINGS.iter().copied().collect();
    assert_eq!(covered, all);
    beckon_tests::notify::remove_redis_keys(&redis_url, &redis_prefix).await;
}

/// `DATABASE_URL` and `REDIS_URL` are read too; with a notify address set, notify-service is
/// not started here; the tests' and invitectl's variables are left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aliases_and_a_separate_notify_service_are_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_postgres_database().await;
    let redis_url = beckon_tests::notify::redis_url();
    let mut command = invite_service();
    command
        .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
        .env("BECKON_DATA_DIR", dir.path())
        .env("DATABASE_URL", &database_url)
        .env("REDIS_URL", &redis_url)
        .env("BECKON_NOTIFY_ADDR", "http://127.0.0.1:9")
        .env("BECKON_NOTIFY_TOKEN", "notify-token-123")
        // Others' variables in the same environment.
        .env("BECKON_API_KEY", "bk_for_invitectl")
        .env("BECKON_SERVER", "http://127.0.0.1:8080")
        .env("BECKON_TEST_ANYTHING", "1");
    let mut running = start(command).await;
    let settings = running.settings(SETTINGS_MESSAGE).await;
    assert_eq!(setting(&settings, "database_url"), &json!(database_url));
    assert_eq!(setting(&settings, "redis_url"), &json!(redis_url));
    assert_eq!(
        setting(&settings, "notify_addr"),
        &json!("http://127.0.0.1:9")
    );
    assert_eq!(setting(&settings, "notify_token"), &json!("<secret>"));
    assert!(
        running
            .banner
            .iter()
            .any(|line| line.contains("notify-service at its configured address")),
        "{:?}",
        running.banner
    );
    assert!(!dir.path().join("beckon.db").exists());
    assert!(!dir.path().join("notify.db").exists());
    let database = Database::connect(&database_url).await.expect("connect");
    let tables = database
        .query_one(Statement::from_string(
            database.get_database_backend(),
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
        ))
        .await
        .expect("query")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("a count");
    assert!(tables > 0, "the migrations ran in DATABASE_URL's database");
    for line in &running.log {
        assert!(!line.contains("notify-token-123"), "{line}");
    }
}

/// Every setting from the TOML file; a variable still overrides the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setting_from_the_toml_file_is_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("file.db").display());
    let redis_url = beckon_tests::notify::redis_url();
    let file = dir.path().join("invite.toml");
    let toml = format!(
        r#"
listen_addr = "127.0.0.2:0"
public_base_url = "https://file.example.test"
data_dir = "{data_dir}"
database_url = "{database_url}"
cors_origins = ["https://ats.example.test"]
max_request_bytes = 3000000
request_timeout_secs = 12
log_format = "json"
max_db_connections = 5
db_acquire_timeout_ms = 3000
link_secret = "{LINK_SECRET}"
notify_addr = "http://127.0.0.1:9"
notify_token = "file-token"
relay_interval_ms = 200
max_bulk_rows = 30
cohort_chunk_size = 9
cohort_window_hours = 24
sweep_interval_ms = 2000
redis_url = "{redis_url}"
redis_key_prefix = "file-prefix"
public_rate_per_link = "6/minute burst 3"
public_rate_per_address = "5/hour burst 4"
public_rate_per_email = "1/day burst 1"
trusted_proxies = ["10.1.1.1"]
webhook_allow_http = true
webhook_allowed_networks = ["192.168.7.0/24"]
webhook_timeout_ms = 9000
webhook_retry_schedule = "2s 2m"
webhook_disable_after_secs = 3600
webhook_rate_per_endpoint = "7/second burst 7"
webhook_interval_ms = 300
webhook_retention_secs = 86400
ats_allow_http = true
ashby_api_url = "http://127.0.0.1:9/ashby/"
metrics_addr = "127.0.0.2:0"
shutdown_timeout_secs = 9
otlp_endpoint = "http://127.0.0.1:4317"
"#,
        data_dir = data_dir.display(),
    );
    std::fs::write(&file, toml).expect("write the file");
    let mut command = invite_service();
    command
        .arg("--config")
        .arg(&file)
        .env("BECKON_REQUEST_TIMEOUT_SECS", "13");
    let mut running = start(command).await;
    let settings = running.settings(SETTINGS_MESSAGE).await;
    let expected = json!({
        "listen_addr": "127.0.0.2:0",
        "public_base_url": "https://file.example.test",
        "data_dir": data_dir.display().to_string(),
        "database_url": database_url,
        "cors_origins": ["https://ats.example.test"],
        "max_request_bytes": 3_000_000,
        "request_timeout_secs": 13,
        "log_format": "json",
        "max_db_connections": 5,
        "db_acquire_timeout_ms": 3000,
        "link_secret": "<secret>",
        "notify_addr": "http://127.0.0.1:9",
        "notify_token": "<secret>",
        "relay_interval_ms": 200,
        "max_bulk_rows": 30,
        "cohort_chunk_size": 9,
        "cohort_window_hours": 24,
        "sweep_interval_ms": 2000,
        "redis_url": redis_url,
        "redis_key_prefix": "file-prefix",
        "public_rate_per_link": "6/minute burst 3",
        "public_rate_per_address": "5/hour burst 4",
        "public_rate_per_email": "1/day burst 1",
        "trusted_proxies": ["10.1.1.1"],
        "webhook_allow_http": true,
        "webhook_allowed_networks": ["192.168.7.0/24"],
        "webhook_timeout_ms": 9000,
        "webhook_retry_schedule": "2s 2m",
        "webhook_disable_after_secs": 3600,
        "webhook_rate_per_endpoint": "7/second burst 7",
        "webhook_interval_ms": 300,
        "webhook_retention_secs": 86400,
        "ats_allow_http": true,
        "ashby_api_url": "http://127.0.0.1:9/ashby/",
        "metrics_addr": "127.0.0.2:0",
        "shutdown_timeout_secs": 9,
        "otlp_endpoint": "http://127.0.0.1:4317",
    });
    assert_eq!(settings, expected);
    assert_eq!(running.addr.ip().to_string(), "127.0.0.2");
    assert!(dir.path().join("file.db").exists());
}

/// Makes a database of its own on the test PostgreSQL server.
async fn fresh_postgres_database() -> String {
    let admin_url = beckon_tests::postgres_admin_url();
    let admin = Database::connect(&admin_url).await.expect("PostgreSQL");
    let name = format!("beckon_test_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("a URL ending in /<database>");
    format!("{base}/{name}")
}

#[tokio::test]
async fn a_mistyped_variable_is_refused_with_the_closest_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = invite_service();
    command
        .env("BECKON_DATA_DIR", dir.path())
        .env("BECKON_LISTEN_ADR", "127.0.0.1:0");
    refused(command)
        .await
        .assert_one_line(&["BECKON_LISTEN_ADR", "did you mean BECKON_LISTEN_ADDR?"]);

    // A notify-service setting mistyped is offered its right name too.
    let mut command = invite_service();
    command
        .env("BECKON_DATA_DIR", dir.path())
        .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
        .env("BECKON_NOTIFY_SMTP_HOST", "127.0.0.1");
    refused(command)
        .await
        .assert_one_line(&["did you mean BECKON_NOTIFY_SMTP__HOST?"]);
}

#[tokio::test]
async fn a_bad_value_is_refused_once_with_exit_status_2_naming_setting_and_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = || {
        let mut command = invite_service();
        command
            .env("BECKON_DATA_DIR", dir.path())
            .env("BECKON_LISTEN_ADDR", "127.0.0.1:0");
        command
    };
    let mut command = base();
    command.env("BECKON_MAX_REQUEST_BYTES", "lots");
    refused(command)
        .await
        .assert_one_line(&["`max_request_bytes`", "BECKON_MAX_REQUEST_BYTES"]);

    let mut command = base();
    command.env("BECKON_PUBLIC_BASE_URL", "ftp://example.com");
    refused(command)
        .await
        .assert_one_line(&["`public_base_url`", "BECKON_PUBLIC_BASE_URL"]);

    let mut command = base();
    command.env("BECKON_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8, the office");
    refused(command).await.assert_one_line(&[
        "`webhook_allowed_networks`",
        "BECKON_WEBHOOK_ALLOWED_NETWORKS",
        "the office",
    ]);

    let mut command = base();
    command.env("BECKON_WEBHOOK_RETRY_SCHEDULE", "5s soon");
    refused(command).await.assert_one_line(&[
        "`webhook_retry_schedule`",
        "BECKON_WEBHOOK_RETRY_SCHEDULE",
        "soon",
    ]);

    let mut command = base();
    command.env("BECKON_WEBHOOK_RETENTION_SECS", "0");
    refused(command).await.assert_one_line(&[
        "`webhook_retention_secs`",
        "BECKON_WEBHOOK_RETENTION_SECS",
        "between 1 and",
    ]);

    let mut command = base();
    command.env("BECKON_OTLP_ENDPOINT", "collector:4317");
    refused(command).await.assert_one_line(&[
        "`otlp_endpoint`",
        "BECKON_OTLP_ENDPOINT",
        "OTLP/gRPC collector",
    ]);

    let mut command = base();
    command.env("BECKON_OTLP_ENDPOINT", "https://collector:4317");
    refused(command).await.assert_one_line(&[
        "`otlp_endpoint`",
        "BECKON_OTLP_ENDPOINT",
        "cannot be https",
    ]);

    let mut command = base();
    command.env("REDIS_URL", "redis+cluster://127.0.0.1:7000/2");
    refused(command)
        .await
        .assert_one_line(&["`redis_url`", "REDIS_URL", "database 0 only"]);

    let mut command = base();
    command.env("BECKON_ASHBY_API_URL", "api.ashbyhq.com");
    refused(command).await.assert_one_line(&[
        "`ashby_api_url`",
        "BECKON_ASHBY_API_URL",
        "absolute http(s) URL",
    ]);

    // notify-service's settings, read in this process, are refused the same way.
    let mut command = base();
    command
        .env("BECKON_NOTIFY_SMTP__HOST", "127.0.0.1")
        .env("BECKON_NOTIFY_SMTP__PORT", "twenty-five");
    refused(command)
        .await
        .assert_one_line(&["`smtp.port`", "BECKON_NOTIFY_SMTP__PORT"]);

    let mut command = base();
    command
        .env("BECKON_NOTIFY_SMTP__HOST", "127.0.0.1")
        .env("BECKON_NOTIFY_SMTP__POOL_SIZE", "0");
    refused(command)
        .await
        .assert_one_line(&["`smtp.pool_size`", "BECKON_NOTIFY_SMTP__POOL_SIZE"]);
}

#[tokio::test]
async fn a_bad_file_is_refused_once_with_exit_status_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("invite.toml");
    std::fs::write(&file, "listen_adr = \"127.0.0.1:0\"\n").expect("write");
    let mut command = invite_service();
    command
        .env("BECKON_DATA_DIR", dir.path())
        .arg("--config")
        .arg(&file);
    refused(command).await.assert_one_line(&[
        "`listen_adr`",
        "invite.toml",
        "did you mean `listen_addr`?",
    ]);

    let mut command = invite_service();
    command
        .env("BECKON_DATA_DIR", dir.path())
        .env("BECKON_CONFIG", dir.path().join("missing.toml"));
    refused(command).await.assert_one_line(&["missing.toml"]);
}

/// Replicas starting together on an empty PostgreSQL database migrate one after another: each of
/// several `migrate` runs at once, of both services, on one database succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_by_several_replicas_at_once_all_succeed() {
    let database_url = fresh_postgres_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut runs = Vec::new();
    for replica in 0..3 {
        let mut invite = invite_service();
        invite
            .arg("migrate")
            .env(
                "BECKON_DATA_DIR",
                dir.path().join(format!("invite-{replica}")),
            )
            .env("DATABASE_URL", &database_url);
        let mut notify = service("notify-service");
        notify
            .arg("migrate")
            .env(
                "BECKON_NOTIFY_DATA_DIR",
                dir.path().join(format!("notify-{replica}")),
            )
            .env("BECKON_NOTIFY_DATABASE_URL", &database_url);
        for mut command in [invite, notify] {
            command
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            runs.push(command.spawn().expect("start a migration"));
        }
    }
    for run in runs {
        let output = tokio::time::timeout(Duration::from_secs(60), run.wait_with_output())
            .await
            .expect("the migration ends")
            .expect("wait for it");
        assert!(
            output.status.success(),
            "a migration failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Runs `<binary> health [--live]` with `env`: whether it exits 0, and what it said on stderr.
async fn health(binary: &str, env: &[(&str, String)], live: bool) -> (bool, String) {
    let mut command = service(binary);
    command
        .arg("health")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    if live {
        command.arg("--live");
    }
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("the health check ends")
        .expect("run the health check");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `health`, the command a container's health check runs, asks the service at its configured
/// address: ready while Redis answers, not ready (exit 1, saying why) while it does not, and
/// alive (`--live`) all along; both fail once the service is gone. For both services.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_command_tells_ready_from_alive() {
    let redis =
        beckon_tests::redis_server::OwnRedis::start(beckon_tests::redis_server::free_port());
    let dir = tempfile::tempdir().expect("temp dir");
    let invite_env = [
        (
            "BECKON_DATA_DIR",
            dir.path().join("invite").display().to_string(),
        ),
        (
            "BECKON_LISTEN_ADDR",
            format!("127.0.0.1:{}", beckon_tests::redis_server::free_port()),
        ),
        (
            "BECKON_NOTIFY_DATA_DIR",
            dir.path().join("notify").display().to_string(),
        ),
        ("REDIS_URL", redis.url()),
    ];
    let notify_env = [
        (
            "BECKON_NOTIFY_DATA_DIR",
            dir.path().join("notify").display().to_string(),
        ),
        (
            "BECKON_NOTIFY_LISTEN_ADDR",
            format!("0.0.0.0:{}", beckon_tests::redis_server::free_port()),
        ),
        ("REDIS_URL", redis.url()),
    ];
    let mut invite = invite_service();
    invite.envs(invite_env.iter().map(|(k, v)| (*k, v.as_str())));
    let mut invite = start(invite).await;
    let mut notify = service("notify-service");
    notify.envs(notify_env.iter().map(|(k, v)| (*k, v.as_str())));
    let mut notify = Running::start(notify, "Beckon notify-service listening on").await;

    for (binary, env) in [
        ("invite-service", &invite_env[..]),
        ("notify-service", &notify_env[..]),
    ] {
        assert_eq!(
            health(binary, env, false).await,
            (true, String::new()),
            "{binary}"
        );
        assert_eq!(
            health(binary, env, true).await,
            (true, String::new()),
            "{binary}"
        );
    }
    redis.kill();
    for (binary, env) in [
        ("invite-service", &invite_env[..]),
        ("notify-service", &notify_env[..]),
    ] {
        // The services notice within their watchers' interval and ping timeout.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let (ready, said) = loop {
            let (ready, said) = health(binary, env, false).await;
            if !ready || tokio::time::Instant::now() > deadline {
                break (ready, said);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(!ready, "{binary} is not ready without Redis");
        assert!(said.contains("NOT_SERVING"), "{binary}: {said}");
        assert_eq!(
            health(binary, env, true).await,
            (true, String::new()),
            "{binary}"
        );
    }
    invite.terminate().await;
    notify.terminate().await;
    for (binary, env) in [
        ("invite-service", &invite_env[..]),
        ("notify-service", &notify_env[..]),
    ] {
        let (ready, said) = health(binary, env, true).await;
        assert!(
            !ready && said.contains("nothing answers"),
            "{binary}: {said}"
        );
    }
}

/// Replicas starting together on an empty PostgreSQL database make one first organization, and
/// one of them shows its admin key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_on_an_empty_database_make_one_organization() {
    let database_url = fresh_postgres_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let replica = |n: usize| {
        let mut command = invite_service();
        command
            .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
            .env("BECKON_DATA_DIR", dir.path().join(format!("replica-{n}")))
            .env("BECKON_LINK_SECRET", LINK_SECRET)
            .env("DATABASE_URL", &database_url);
        start(command)
    };
    let replicas = futures::future::join_all((0..3).map(replica)).await;
    let with_key = replicas
        .iter()
        .filter(|replica| {
            replica
                .banner
                .iter()
                .any(|line| line.trim().starts_with("bk_"))
        })
        .count();
    assert_eq!(with_key, 1, "one replica made the first organization");
    let database = Database::connect(&database_url).await.expect("connect");
    let organizations = database
        .query_one(Statement::from_string(
            database.get_database_backend(),
            "SELECT count(*) AS n FROM organizations",
        ))
        .await
        .expect("query")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("a count");
    assert_eq!(organizations, 1);
}
