//! notify-service's settings, from `BECKON_NOTIFY_*` variables alone, from its TOML file, and
//! wrong.
use std::{collections::BTreeSet, path::Path, time::Duration};

use beckon_proto::notify::v1::{
    notify_service_client::NotifyServiceClient, EnqueueMessagesRequest, MessageKind,
    OutgoingMessage,
};
use beckon_tests::smtp::{to, SmtpServer};
use serde_json::{json, Value};
use tokio::process::Command;
use tonic::{metadata::MetadataValue, transport::Channel, Code, Request};

use beckon_tests::process::{refused, service, setting, unique, Given, Running};

const SETTINGS_MESSAGE: &str = "effective configuration";

fn notify_service() -> Command {
    service("notify-service")
}

async fn start(command: Command) -> Running {
    Running::start(command, "Beckon notify-service listening on").await
}

fn invite_message(recipient: &str) -> OutgoingMessage {
    OutgoingMessage {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        organization_id: "0190d9a2-7c3e-7000-8000-000000000001".into(),
        kind: MessageKind::Invite as i32,
        recipient: recipient.into(),
        recipient_name: "Ada Lovelace".into(),
        variables: [
            ("candidate_first_name", "Ada"),
            ("candidate_name", "Ada Lovelace"),
            ("position_title", "Backend engineer"),
            ("link", "https://beckon.example/i/abc123"),
            ("organization_name", "Acme"),
            ("inviter_name", "Grace"),
            ("custom_message", "Looking forward to it."),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        invite_id: "invite-1".into(),
        ..Default::default()
    }
}

/// Enqueues one message, with `token` as the bearer token if given.
async fn enqueue(
    running: &Running,
    token: Option<&str>,
    recipient: &str,
) -> Result<(), tonic::Status> {
    let channel = Channel::from_shared(format!("http://{}", running.addr))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let auth: Option<MetadataValue<_>> =
        token.map(|token| format!("Bearer {token}").parse().expect("ascii"));
    let mut client =
        NotifyServiceClient::with_interceptor(channel, move |mut request: Request<()>| {
            if let Some(auth) = &auth {
                request.metadata_mut().insert("authorization", auth.clone());
            }
            Ok::<_, tonic::Status>(request)
        });
    client
        .enqueue_messages(EnqueueMessagesRequest {
            messages: vec![invite_message(recipient)],
        })
        .await
        .map(|_| ())
}

/// notify-service with `given`'s variables.
fn command_with(given: &Given) -> Command {
    let mut command = notify_service();
    given.apply(&mut command);
    command
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// A seal key (32 bytes, base64url) given as a setting.
const SEAL_KEY: &str = "o5u-tNzRDSBMaENco-8-UrWayn6N5J0H6W-4GHqDn0g";

/// SMTP by host, port and security alone, and every other setting by its variable alone: the
/// service starts, and real mail goes through the SMTP server so configured.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setting_from_its_environment_variable_alone_is_used() {
    let smtp = SmtpServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let redis_url = beckon_tests::notify::redis_url();
    let prefix = unique("test-config-notify");

    let mut mailing = Given::new("BECKON_NOTIFY_");
    mailing.set("listen_addr", "127.0.0.2:0", json!("127.0.0.2:0"));
    mailing.set(
        "data_dir",
        path_text(dir.path()),
        json!(path_text(dir.path())),
    );
    mailing.set("redis_url", &redis_url, json!(redis_url));
    mailing.set("key_prefix", &prefix, json!(prefix));
    mailing.set("auth_token", "notify-token-123", json!("<secret>"));
    mailing.set("seal_keys", SEAL_KEY, json!("<secret>"));
    mailing.set(
        "smtp.host",
        smtp.addr.ip().to_string(),
        json!(smtp.addr.ip().to_string()),
    );
    mailing.set(
        "smtp.port",
        smtp.addr.port().to_string(),
        json!(smtp.addr.port()),
    );
    mailing.set("smtp.security", "none", json!("none"));
    mailing.set("smtp.pool_size", "2", json!(2));
    mailing.set("smtp.timeout_secs", "5", json!(5));
    mailing.set(
        "from_address",
        "Hiring <hiring@example.test>",
        json!("Hiring <hiring@example.test>"),
    );
    mailing.set("workers", "3", json!(3));
    mailing.set("relay_rate", "7/second burst 9", json!("7/second burst 9"));
    mailing.set(
        "organization_rate",
        "390/min, burst=8",
        json!("390/minute burst 8"),
    );
    mailing.set("domain_rate", "5/s", json!("5/second burst 5"));
    mailing.set("max_attempts", "3", json!(3));
    mailing.set("retry_base_ms", "1000", json!(1000));
    mailing.set("retry_max_ms", "5000", json!(5000));
    mailing.set("ack_deadline_ms", "20000", json!(20000));
    mailing.set("dead_letter_after", "2", json!(2));
    mailing.set("reconcile_interval_ms", "15000", json!(15000));
    mailing.set("republish_after_ms", "120000", json!(120000));
    mailing.set("max_request_bytes", "2000000", json!(2_000_000));
    mailing.set("log_format", "json", json!("json"));
    mailing.set("max_db_connections", "6", json!(6));
    mailing.set("db_acquire_timeout_ms", "4000", json!(4000));
    mailing.set("metrics_addr", "127.0.0.1:0", json!("127.0.0.1:0"));
    mailing.set("shutdown_timeout_secs", "7", json!(7));

    let mut command = command_with(&mailing);
    // invite-service's variables are not notify-service's concern, even those in its namespace.
    command
        .env("BECKON_NOTIFY_ADDR", "http://127.0.0.1:9")
        .env("BECKON_NOTIFY_TOKEN", "for-invite-service")
        .env("BECKON_LISTEN_ADDR", "not an address")
        .env("BECKON_API_KEY", "bk_for_invitectl");
    let mut running = start(command).await;
    let settings = running.settings(SETTINGS_MESSAGE).await;
    mailing.assert_shown_in(&settings);
    assert_eq!(running.addr.ip().to_string(), "127.0.0.2");
    assert!(dir.path().join("notify.db").exists());
    // seal_keys: given, so no key file is made.
    assert!(!dir.path().join("seal-keys").exists());
    // metrics_addr: Prometheus metrics are served there, and read by Prometheus' own parser.
    let metrics: std::net::SocketAddr = running
        .banner
        .iter()
        .find_map(|line| line.trim().strip_prefix("metrics: http://"))
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no metrics line in {:?}", running.banner));
    assert_eq!(metrics.ip().to_string(), "127.0.0.1");
    let samples = beckon_tests::metrics::scrape(metrics).await;
    assert!(samples
        .iter()
        .any(|s| s.name == "beckon_notify_deliveries_pending"));

    // auth_token: required; smtp and from_address: the mail arrives, from that address.
    let refused = enqueue(&running, None, "ada@example.com")
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), Code::Unauthenticated);
    enqueue(&running, Some("notify-token-123"), "ada@example.com")
        .await
        .expect("enqueue");
    let mail = smtp
        .wait_for(Duration::from_secs(30), to("ada@example.com"))
        .await;
    let email = mail
        .iter()
        .find(|m| m.to == ["ada@example.com"])
        .expect("the email arrived");
    assert!(
        email
            .header("From")
            .is_some_and(|from| from.contains("hiring@example.test")),
        "{:?}",
        email.header("From")
    );
    // redis_url and key_prefix: the queue is in that Redis under that prefix.
    let client = redis::Client::open(redis_url.as_str()).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{prefix}}}:*"))
        .query_async(&mut connection)
        .await
        .expect("keys");
    assert!(!keys.is_empty(), "keys under {prefix}");
    // log_format: every line is JSON; no secret in any.
    for line in &running.log {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "{line}");
        assert!(!line.contains("notify-token-123"), "{line}");
        assert!(!line.contains(SEAL_KEY), "{line}");
    }
    beckon_tests::notify::remove_redis_keys(&redis_url, &prefix).await;

    // The settings the next two tests give, and the rest are all of them.
    let mut covered = mailing.names();
    // otlp_endpoint: traces.rs gives it and follows the spans to a collector; dkim.*: the DKIM
    // test gives them by variable, and the file test the key's file.
    covered.extend([
        "database_url",
        "mail_dir",
        "smtp.username",
        "smtp.password",
        "otlp_endpoint",
        "dkim.selector",
        "dkim.domain",
        "dkim.private_key",
        "dkim.private_key_file",
    ]);
    let all: BTreeSet<&str> = notify_service::config::SETTINGS.iter().copied().collect();
    assert_eq!(covered, all);
}

/// `database_url` and `mail_dir`: the database and the `.eml` files are where they were put;
/// `REDIS_URL` is read too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_the_mail_folder_and_redis_url_are_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("elsewhere.db");
    let mail_dir = dir.path().join("outbox");
    let database_url = format!("sqlite://{}?mode=rwc", database.display());
    let redis_url = beckon_tests::notify::redis_url();
    let prefix = unique("test-config-notify");
    let mut given = Given::new("BECKON_NOTIFY_");
    given.set("listen_addr", "127.0.0.1:0", json!("127.0.0.1:0"));
    given.set(
        "data_dir",
        path_text(&dir.path().join("data")),
        json!(path_text(&dir.path().join("data"))),
    );
    given.set("database_url", &database_url, json!(database_url));
    given.set(
        "mail_dir",
        path_text(&mail_dir),
        json!(path_text(&mail_dir)),
    );
    given.set("key_prefix", &prefix, json!(prefix));
    let mut command = command_with(&given);
    command.env("REDIS_URL", &redis_url);
    let mut running = start(command).await;
    let settings = running.settings(SETTINGS_MESSAGE).await;
    given.assert_shown_in(&settings);
    assert_eq!(setting(&settings, "redis_url"), &json!(redis_url));
    assert!(database.exists());
    assert!(!dir.path().join("data").join("notify.db").exists());

    enqueue(&running, None, "ada@example.com")
        .await
        .expect("enqueue");
    // The file appears when a worker has sent it: bounded polling for the outcome.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let written = loop {
        let files = std::fs::read_dir(&mail_dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
            .unwrap_or(0);
        if files > 0 || tokio::time::Instant::now() > deadline {
            break files;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(written, 1, "one .eml file in the mail folder");
    beckon_tests::notify::remove_redis_keys(&redis_url, &prefix).await;
}

/// `redis_url` naming a Redis Cluster (`redis+cluster://`), from its variable: the queue lives in
/// the cluster and the mail goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_named_by_its_variable_carries_the_queue() {
    let url = tokio::task::spawn_blocking(beckon_redis::testing::shared_cluster_url)
        .await
        .expect("a Redis Cluster");
    the_redis_named_by_the_variable_carries_the_queue(url).await;
}

/// The same for Redis Sentinel (`redis+sentinel://`): the queue lives on the master the
/// sentinels name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_sentinel_named_by_its_variable_carries_the_queue() {
    let url = tokio::task::spawn_blocking(beckon_redis::testing::shared_sentinel_url)
        .await
        .expect("Redis Sentinel");
    the_redis_named_by_the_variable_carries_the_queue(url).await;
}

async fn the_redis_named_by_the_variable_carries_the_queue(redis_url: String) {
    let smtp = SmtpServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = unique("test-config-notify");
    let mut given = Given::new("BECKON_NOTIFY_");
    given.set("listen_addr", "127.0.0.1:0", json!("127.0.0.1:0"));
    given.set(
        "data_dir",
        path_text(dir.path()),
        json!(path_text(dir.path())),
    );
    given.set("redis_url", &redis_url, json!(redis_url));
    given.set("key_prefix", &prefix, json!(prefix));
    given.set("smtp.host", "127.0.0.1", json!("127.0.0.1"));
    given.set(
        "smtp.port",
        smtp.addr.port().to_string(),
        json!(smtp.addr.port()),
    );
    given.set("smtp.security", "none", json!("none"));
    let mut running = start(command_with(&given)).await;
    given.assert_shown_in(&running.settings(SETTINGS_MESSAGE).await);

    enqueue(&running, None, "ada@example.com")
        .await
        .expect("enqueue");
    let mail = smtp
        .wait_for(Duration::from_secs(30), to("ada@example.com"))
        .await;
    assert!(
        mail.iter().any(|m| m.to == ["ada@example.com"]),
        "the email arrived"
    );
    let redis = beckon_redis::Redis::open(&redis_url, beckon_redis::Timeouts::default())
        .expect("a Redis URL");
    let mut connection = redis.shared().await.expect("Redis answers");
    let stream: bool = redis::cmd("EXISTS")
        .arg(format!("{{{prefix}}}:deliveries"))
        .query_async(&mut connection)
        .await
        .expect("EXISTS");
    assert!(stream, "the queue's stream is there");
    beckon_tests::notify::remove_redis_keys(&redis_url, &prefix).await;
}

/// notify-service sending through `smtp` from `from`, with `given`'s other variables.
fn mailing(smtp: &SmtpServer, dir: &Path, from: &str) -> Given {
    let mut given = Given::new("BECKON_NOTIFY_");
    given.set("listen_addr", "127.0.0.1:0", json!("127.0.0.1:0"));
    given.set("data_dir", path_text(dir), json!(path_text(dir)));
    let host = smtp.addr.ip().to_string();
    given.set("smtp.host", &host, json!(host));
    given.set(
        "smtp.port",
        smtp.addr.port().to_string(),
        json!(smtp.addr.port()),
    );
    given.set("smtp.security", "none", json!("none"));
    given.set("from_address", from, json!(from));
    given
}

/// DKIM by its variables: every message is signed, over the headers RFC 6376 asks for, as
/// dkimpy verifies with the key published in DNS, and a change on the way is caught; the key
/// never shows. Mail leaving unsigned, or signed for a domain that is not the From's, is
/// warned about at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_by_its_variables_signs_every_message_as_an_independent_verifier_accepts() {
    use beckon_tests::dkim::{rsa_key, signed_headers, tag, verify};
    let smtp = SmtpServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let key = rsa_key();
    let mut given = mailing(&smtp, dir.path(), "Hiring <hiring@mail.example.test>");
    given.set("dkim.selector", "beckon2026", json!("beckon2026"));
    // A parent of the From's domain: aligned, as DMARC's relaxed mode counts it.
    given.set("dkim.domain", "example.test", json!("example.test"));
    given.set("dkim.private_key", &key.private_pem, json!("<secret>"));
    let mut running = start(command_with(&given)).await;
    let settings = running.settings(SETTINGS_MESSAGE).await;
    given.assert_shown_in(&settings);
    enqueue(&running, None, "ada@example.com")
        .await
        .expect("enqueue");
    let mail = smtp
        .wait_for(Duration::from_secs(30), to("ada@example.com"))
        .await;
    let email = mail
        .iter()
        .find(|m| m.to == ["ada@example.com"])
        .expect("the email arrived");
    let signature = email.header("DKIM-Signature").expect("a DKIM signature");
    assert_eq!(tag(&signature, "d").as_deref(), Some("example.test"));
    assert_eq!(tag(&signature, "s").as_deref(), Some("beckon2026"));
    assert_eq!(tag(&signature, "a").as_deref(), Some("rsa-sha256"));
    let signed = signed_headers(&signature);
    for header in ["from", "to", "subject", "date", "message-id"] {
        assert!(signed.iter().any(|h| h == header), "{header} in {signed:?}");
    }
    verify(
        email.data.as_bytes(),
        "beckon2026",
        "example.test",
        &key.dns_record,
    )
    .expect("dkimpy verifies the signature");
    let changed = email.data.replacen("Subject: ", "Subject: Re: ", 1);
    assert!(
        verify(
            changed.as_bytes(),
            "beckon2026",
            "example.test",
            &key.dns_record
        )
        .is_err(),
        "a changed subject fails"
    );
    let other = rsa_key();
    assert!(
        verify(
            email.data.as_bytes(),
            "beckon2026",
            "example.test",
            &other.dns_record
        )
        .is_err(),
        "another published key fails"
    );
    running.drain_log().await;
    let secret_line = key
        .private_pem
        .lines()
        .nth(1)
        .expect("a line of the key")
        .to_string();
    for line in &running.log {
        assert!(!line.contains(&secret_line), "{line}");
        assert!(!line.contains("DKIM-signed"), "{line}");
    }

    // Unsigned, by SMTP: said at start, with what to set.
    let unsigned_dir = tempfile::tempdir().expect("temp dir");
    let unsigned = mailing(&smtp, unsigned_dir.path(), "Hiring <hiring@example.test>");
    let mut running = start(command_with(&unsigned)).await;
    running
        .log_line(|line| {
            (line.contains("mail from example.test is not DKIM-signed")
                && line.contains("BECKON_NOTIFY_DKIM__PRIVATE_KEY"))
            .then_some(())
        })
        .await;

    // Signed for another domain: DMARC would not count it.
    let other_dir = tempfile::tempdir().expect("temp dir");
    let mut misaligned = mailing(&smtp, other_dir.path(), "Hiring <hiring@example.test>");
    misaligned.set("dkim.selector", "beckon2026", json!("beckon2026"));
    misaligned.set("dkim.domain", "elsewhere.test", json!("elsewhere.test"));
    misaligned.set("dkim.private_key", &key.private_pem, json!("<secret>"));
    let mut running = start(command_with(&misaligned)).await;
    running
        .log_line(|line| {
            line.contains("DKIM signs for elsewhere.test but mail is from example.test")
                .then_some(())
        })
        .await;
}

/// SMTP credentials by variables: accepted, the username shown, the password never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_credentials_from_variables_are_taken_and_the_password_never_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut given = Given::new("BECKON_NOTIFY_");
    given.set("listen_addr", "127.0.0.1:0", json!("127.0.0.1:0"));
    given.set(
        "data_dir",
        path_text(dir.path()),
        json!(path_text(dir.path())),
    );
    given.set("smtp.host", "smtp.example.test", json!("smtp.example.test"));
    given.set("smtp.security", "tls", json!("tls"));
    // Text, although they look like numbers.
    given.set("smtp.username", "20240101", json!("20240101"));
    given.set("smtp.password", "123456789", json!("<secret>"));
    let mut running = start(command_with(&given)).await;
    let settings = running.settings(SETTINGS_MESSAGE).await;
    given.assert_shown_in(&settings);
    // The defaults the README gives.
    assert_eq!(setting(&settings, "smtp.port"), &Value::Null);
    assert_eq!(setting(&settings, "smtp.pool_size"), &json!(8));
    assert_eq!(setting(&settings, "smtp.timeout_secs"), &json!(30));
    assert!(
        running.log.iter().all(|line| !line.contains("123456789")),
        "{:?}",
        running.log
    );
}

/// Every setting from the TOML file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setting_from_the_toml_file_is_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("file.db").display());
    let redis_url = beckon_tests::notify::redis_url();
    let prefix = unique("test-config-notify");
    let key_file = dir.path().join("dkim.pem");
    std::fs::write(&key_file, beckon_tests::dkim::rsa_key().private_pem).expect("write the key");
    let file = dir.path().join("notify.toml");
    let toml = format!(
        r#"
listen_addr = "127.0.0.2:0"
data_dir = "{data_dir}"
database_url = "{database_url}"
redis_url = "{redis_url}"
key_prefix = "{prefix}"
auth_token = "file-token"
seal_keys = "{SEAL_KEY}"
mail_dir = "{data_dir}/eml"
from_address = "File <file@example.test>"
workers = 4
relay_rate = "11/second burst 12"
organization_rate = "3/second burst 3"
domain_rate = "6/hour"
max_attempts = 4
retry_base_ms = 2000
retry_max_ms = 9000
ack_deadline_ms = 30000
dead_letter_after = 3
reconcile_interval_ms = 10000
republish_after_ms = 90000
max_request_bytes = 1000000
log_format = "json"
max_db_connections = 4
db_acquire_timeout_ms = 3000
metrics_addr = "127.0.0.2:0"
shutdown_timeout_secs = 9
otlp_endpoint = "http://127.0.0.1:4317"

[smtp]
host = "smtp.example.test"
port = 2525
security = "starttls"
username = "beckon"
password = "file-password"
pool_size = 3
timeout_secs = 7

[dkim]
selector = "file2026"
private_key_file = "{key_file}"
"#,
        data_dir = dir.path().display(),
        key_file = key_file.display(),
    );
    std::fs::write(&file, toml).expect("write the file");
    let mut command = notify_service();
    command.arg("--config").arg(&file);
    let mut running = start(command).await;
    let settings = running.settings(SETTINGS_MESSAGE).await;
    let expected = json!({
        "listen_addr": "127.0.0.2:0",
        "data_dir": path_text(dir.path()),
        "database_url": database_url,
        "redis_url": redis_url,
        "key_prefix": prefix,
        "auth_token": "<secret>",
        "seal_keys": "<secret>",
        "smtp": {
            "host": "smtp.example.test",
            "port": 2525,
            "security": "starttls",
            "username": "beckon",
            "password": "<secret>",
            "pool_size": 3,
            "timeout_secs": 7,
        },
        "mail_dir": format!("{}/eml", dir.path().display()),
        "from_address": "File <file@example.test>",
        "dkim": {
            "selector": "file2026",
            "domain": null,
            "private_key": null,
            "private_key_file": path_text(&key_file),
        },
        "workers": 4,
        "relay_rate": "11/second burst 12",
        "organization_rate": "3/second burst 3",
        "domain_rate": "6/hour burst 6",
        "max_attempts": 4,
        "retry_base_ms": 2000,
        "retry_max_ms": 9000,
        "ack_deadline_ms": 30000,
        "dead_letter_after": 3,
        "reconcile_interval_ms": 10000,
        "republish_after_ms": 90000,
        "max_request_bytes": 1_000_000,
        "log_format": "json",
        "max_db_connections": 4,
        "db_acquire_timeout_ms": 3000,
        "metrics_addr": "127.0.0.2:0",
        "shutdown_timeout_secs": 9,
        "otlp_endpoint": "http://127.0.0.1:4317",
    });
    assert_eq!(settings, expected);
    assert_eq!(running.addr.ip().to_string(), "127.0.0.2");
    assert!(dir.path().join("file.db").exists());
    beckon_tests::notify::remove_redis_keys(&redis_url, &prefix).await;
}

#[tokio::test]
async fn mistakes_are_refused_once_with_exit_status_2_naming_the_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = || {
        let mut command = notify_service();
        command
            .env("BECKON_NOTIFY_DATA_DIR", dir.path())
            .env("BECKON_NOTIFY_LISTEN_ADDR", "127.0.0.1:0");
        command
    };
    let mut command = base();
    command.env("BECKON_NOTIFY_WORKER", "4");
    refused(command).await.assert_one_line(&[
        "BECKON_NOTIFY_WORKER ",
        "did you mean BECKON_NOTIFY_WORKERS?",
    ]);

    let mut command = base();
    command.env("BECKON_NOTIFY_SMTP__HOTS", "127.0.0.1");
    refused(command)
        .await
        .assert_one_line(&["did you mean BECKON_NOTIFY_SMTP__HOST?"]);

    let mut command = base();
    command
        .env("BECKON_NOTIFY_SMTP__HOST", "127.0.0.1")
        .env("BECKON_NOTIFY_SMTP__SECURITY", "ssl");
    refused(command)
        .await
        .assert_one_line(&["`smtp.security`", "BECKON_NOTIFY_SMTP__SECURITY"]);

    let mut command = base();
    command
        .env("BECKON_NOTIFY_DKIM__SELECTOR", "beckon2026")
        .env(
            "BECKON_NOTIFY_DKIM__PRIVATE_KEY",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQ\n",
        );
    refused(command).await.assert_one_line(&[
        "`dkim.private_key`",
        "PKCS#1",
        "openssl rsa -traditional",
    ]);

    let mut command = base();
    command.env("BECKON_NOTIFY_DKIM__PRIVATE_KEY", "not a key at all");
    refused(command)
        .await
        .assert_one_line(&["`dkim.selector`", "the key's name in DNS"]);

    let mut command = base();
    command.env("BECKON_NOTIFY_SMTP__PORT", "2525");
    refused(command)
        .await
        .assert_one_line(&["`smtp.host`", "is required"]);

    let file = dir.path().join("notify.toml");
    std::fs::write(&file, "[smtp]\nhots = \"127.0.0.1\"\n").expect("write");
    let mut command = base();
    command.arg("--config").arg(&file);
    refused(command).await.assert_one_line(&[
        "`smtp.hots`",
        "notify.toml",
        "did you mean `smtp.host`?",
    ]);

    let mut command = base();
    command.env("BECKON_NOTIFY_CONFIG", dir.path().join("missing.toml"));
    refused(command).await.assert_one_line(&["missing.toml"]);
}
