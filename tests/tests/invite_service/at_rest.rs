//! Secrets at rest: while mail waits (the SMTP server refuses every connection), no emailed link
//! and no API key is anywhere a dump can read: not in either service's database (a PostgreSQL
//! dump, or the raw SQLite files with their write-ahead logs), not in Redis. Then SMTP comes
//! back and every message arrives with its own link; afterwards the sealed variables are gone
//! from the SQLite files too.
use std::{path::Path, time::Duration};

use beckon_proto::invite::v1::*;
use beckon_tests::{
    notify::{self, QueueBackend},
    on_both_databases,
    smtp::SmtpServer,
    Backend, TestApp,
};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

on_both_databases!(
    no_link_or_key_at_rest_while_mail_waits_on_the_in_process_queue,
    no_link_or_key_at_rest_while_mail_waits_on_the_redis_queue,
);

const INVITES: usize = 6;
const WAIT: Duration = Duration::from_secs(60);

async fn no_link_or_key_at_rest_while_mail_waits_on_the_in_process_queue(backend: Backend) {
    secrets_stay_sealed_while_mail_waits(backend, QueueBackend::InProcess).await
}

async fn no_link_or_key_at_rest_while_mail_waits_on_the_redis_queue(backend: Backend) {
    secrets_stay_sealed_while_mail_waits(backend, QueueBackend::Redis).await
}

/// A secret a response showed, and what to call it in a failure.
pub(crate) struct Shown {
    pub what: String,
    pub value: String,
}

async fn secrets_stay_sealed_while_mail_waits(backend: Backend, queue: QueueBackend) {
    let smtp = SmtpServer::start().await;
    smtp.refuse_connections(true);
    let mut notify_config = None;
    let mut app = TestApp::spawn_with_notify_config(backend, |data_dir, database_url| {
        let mut config = notify::test_config(queue, &smtp, data_dir);
        // The embedded notify-service shares invite-service's PostgreSQL database.
        config.database_url = database_url.map(str::to_string);
        // Retries go on until SMTP is back.
        config.max_attempts = 100_000;
        config.retry_base_ms = 100;
        config.retry_max_ms = 300;
        notify_config = Some(config.clone());
        config
    })
    .await;
    let notify_config = notify_config.expect("notify-service configured");

    let mut shown = vec![Shown {
        what: "the bootstrap admin key".into(),
        value: app.admin_key.clone(),
    }];
    let mut ats_key = String::new();
    for scope in [
        ApiKeyScope::Admin,
        ApiKeyScope::Invites,
        ApiKeyScope::Links,
        ApiKeyScope::Ats,
    ] {
        let key = app.key_with_scope(scope).await;
        if scope == ApiKeyScope::Ats {
            ats_key = key.clone();
        }
        shown.push(Shown {
            what: format!("the {scope:?} API key"),
            value: key,
        });
    }
    // Greenhouse's key is kept (sealed) for its callback; the organization's Ashby key too.
    let (status, sent) = beckon_tests::ats::AtsDouble::start()
        .await
        .call(
            reqwest::Method::POST,
            &format!("{}/ats/greenhouse/send_test", app.base_url),
            &ats_key,
            Some(serde_json::json!({
                "partner_test_id": app.create_job("Greenhouse test").await.id,
                "candidate": {"first_name": "Harry", "last_name": "Potter",
                              "email": "hpotter@hogwarts.edu",
                              "greenhouse_profile_url": "https://app.greenhouse.io/people/1"},
                "url": "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/1"
            })),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let interview = sent["partner_interview_id"]
        .as_str()
        .expect("an interview")
        .to_string();
    let ashby_key = format!("ashby-{}", uuid::Uuid::new_v4().simple());
    app.ats()
        .set_ats_api_key(SetAtsApiKeyRequest {
            ats: Ats::Ashby as i32,
            api_key: ashby_key.clone(),
        })
        .await
        .expect("set the Ashby key");
    // A webhook endpoint's signing secret is sealed at rest, like the links.
    let endpoint = app
        .webhooks()
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: "https://hooks.example.com/beckon".into(),
                event_types: vec!["cohort.completed".into()],
                ..Default::default()
            }),
            request_id: uuid::Uuid::new_v4().to_string(),
        })
        .await
        .expect("create a webhook endpoint")
        .into_inner();
    let webhook_secret = endpoint.secret;
    let key_part = webhook_secret
        .strip_prefix("whsec_")
        .expect("whsec_<base64>")
        .to_string();
    let job = app.create_job("Backend engineer").await;
    let mut invites = Vec::new();
    for n in 0..INVITES {
        let email = format!("candidate{n}@example.com");
        let created = app
            .invites()
            .create_invite(CreateInviteRequest {
                job_id: job.id.clone(),
                candidate_email: email.clone(),
                candidate_name: format!("Candidate {n}"),
                send_email: true,
                ..Default::default()
            })
            .await
            .expect("create invite")
            .into_inner();
        let invite = created.invite.expect("invite");
        shown.push(Shown {
            what: format!("the link emailed to {email}"),
            value: created.link_url.clone(),
        });
        invites.push((invite.id, email, created.link_url));
    }
    // Every key and link must be absent whole, and so must its secret part alone.
    let mut secrets: Vec<Shown> = Vec::new();
    for secret in &shown {
        // `…/i/<token>` or `bk_<prefix>_<secret>`; tokens and secrets may hold '_'.
        let tail = match secret.value.rsplit_once("/i/") {
            Some((_, token)) => token,
            None => secret
                .value
                .strip_prefix("bk_")
                .and_then(|rest| rest.split_once('_'))
                .map(|(_, secret)| secret)
                .expect("an API key bk_<prefix>_<secret>"),
        }
        .to_string();
        assert!(tail.len() >= 40, "{} has a secret part", secret.what);
        secrets.push(Shown {
            what: format!("{} (its secret part)", secret.what),
            value: tail,
        });
    }
    secrets.extend(shown);
    secrets.push(Shown {
        what: "the organization's Ashby API key".into(),
        value: ashby_key,
    });
    secrets.push(Shown {
        what: "the webhook signing secret (its key part)".into(),
        value: key_part,
    });
    secrets.push(Shown {
        what: "the webhook signing secret".into(),
        value: webhook_secret,
    });

    // Every email was handed over, stored, queued and tried: it waits, deferred.
    for (id, email, _) in &invites {
        let invite = app
            .invite_when(id, |i| i.delivery_status == DeliveryStatus::Deferred as i32)
            .await;
        assert_eq!(
            invite.delivery_status,
            DeliveryStatus::Deferred as i32,
            "the email to {email} waits for SMTP"
        );
    }
    let waiting = app
        .invite_when(&interview, |i| {
            i.delivery_status == DeliveryStatus::Deferred as i32
        })
        .await;
    assert_eq!(
        waiting.delivery_status,
        DeliveryStatus::Deferred as i32,
        "Greenhouse's invite email waits for SMTP"
    );
    assert!(smtp.refused() > 0, "SMTP refused the attempts");

    let at_rest = everything_at_rest(&app, &notify_config).await;
    assert_no_secret_in(&at_rest, &secrets, "while mail waits");
    let sealed = sealed_variables(&notify_config).await;
    assert_eq!(
        sealed.len(),
        INVITES + 1,
        "every waiting delivery holds sealed variables"
    );

    // SMTP comes back: every message arrives, each with its own link.
    smtp.refuse_connections(false);
    let mail = smtp
        .wait_for(WAIT, |mail| {
            invites
                .iter()
                .all(|(_, email, _)| mail.iter().any(|m| m.to.contains(email)))
        })
        .await;
    for (id, email, link) in &invites {
        let messages: Vec<_> = mail.iter().filter(|m| m.to.contains(email)).collect();
        assert_eq!(messages.len(), 1, "one email to {email}");
        assert_eq!(
            messages[0]
                .link_starting(&format!("{}/i/", app.base_url))
                .as_deref(),
            Some(link.as_str()),
            "the email to {email} carries its own link"
        );
        let invite = app
            .invite_when(id, |i| i.delivery_status == DeliveryStatus::Sent as i32)
            .await;
        assert_eq!(invite.delivery_status, DeliveryStatus::Sent as i32);
    }
    // Greenhouse's invite email too: every sealed value found above is final now.
    let sent = app
        .invite_when(&interview, |i| {
            i.delivery_status == DeliveryStatus::Sent as i32
        })
        .await;
    assert_eq!(sent.delivery_status, DeliveryStatus::Sent as i32);

    // After the final outcome, nothing is left to find, sealed or not: the SQLite files (whose
    // write-ahead log notify-service empties after erasing) no longer hold the sealed values.
    let mut sealed_secrets: Vec<Shown> = sealed
        .into_iter()
        .map(|value| Shown {
            what: "sealed variables of a delivered message".into(),
            value,
        })
        .collect();
    if backend == Backend::Sqlite {
        sealed_secrets = checkpoint_then_scan(&app, sealed_secrets).await;
    }
    sealed_secrets.extend(secrets);
    let at_rest = everything_at_rest(&app, &notify_config).await;
    assert_no_secret_in(&at_rest, &sealed_secrets, "after delivery");

    app.stop().await;
    if let Some(url) = &notify_config.redis_url {
        notify::remove_redis_keys(url, &notify_config.key_prefix).await;
    }
}

/// Every place a secret could rest, named, with its bytes: each file in the data folder (the
/// SQLite databases with their `-wal` and `-shm`), a dump of the PostgreSQL database and every
/// table's rows as text, and every Redis key under the test's prefix.
async fn everything_at_rest(
    app: &TestApp,
    notify_config: &notify_service::Config,
) -> Vec<(String, Vec<u8>)> {
    let mut places = databases_at_rest(app, true).await;
    if let Some(url) = &notify_config.redis_url {
        let keys = redis_keys(url, &notify_config.key_prefix).await;
        assert!(!keys.is_empty(), "the Redis queue has keys to scan");
        places.extend(keys);
    }
    places
}

/// The databases' part of `everything_at_rest`: the data folder's files, and on PostgreSQL its
/// rows and a dump; `with_notify`: notify-service's database is expected among them.
pub(crate) async fn databases_at_rest(app: &TestApp, with_notify: bool) -> Vec<(String, Vec<u8>)> {
    let mut places = files_under(app.data_dir());
    match app.backend {
        Backend::Sqlite => {
            let names: Vec<&str> = places.iter().map(|(name, _)| name.as_str()).collect();
            let notify = ["notify.db", "notify.db-wal"];
            for expected in ["beckon.db", "beckon.db-wal"]
                .into_iter()
                .chain(notify.into_iter().filter(|_| with_notify))
            {
                assert!(
                    names.iter().any(|name| name.ends_with(expected)),
                    "{expected} is among the scanned files: {names:?}"
                );
            }
        }
        Backend::Postgres => {
            let url = app
                .config()
                .database_url
                .clone()
                .expect("a PostgreSQL database");
            places.push((
                "the PostgreSQL rows".into(),
                postgres_rows(&url, with_notify).await,
            ));
            places.push(("pg_dump".into(), pg_dump(&url)));
        }
    }
    places
}

pub(crate) fn assert_no_secret_in(places: &[(String, Vec<u8>)], secrets: &[Shown], when: &str) {
    let hits: Vec<String> = places
        .iter()
        .flat_map(|(place, bytes)| {
            secrets
                .iter()
                .filter(|secret| find(bytes, secret.value.as_bytes()).is_some())
                .map(move |secret| format!("{place} holds {}", secret.what))
        })
        .collect();
    assert!(hits.is_empty(), "{when}: {hits:#?}");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Every file under `dir`, by path, with its raw bytes.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read the data folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((path.display().to_string(), bytes));
            }
        }
    }
    files
}

/// Every row of every table in the database, as PostgreSQL prints it; `with_notify`: the
/// in-process notify-service keeps its tables there too.
async fn postgres_rows(url: &str, with_notify: bool) -> Vec<u8> {
    let db = Database::connect(url).await.expect("connect to PostgreSQL");
    let tables: Vec<String> = db
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        ))
        .await
        .expect("list tables")
        .into_iter()
        .map(|row| row.try_get_by_index(0).expect("table name"))
        .collect();
    assert!(
        tables.iter().any(|t| t == "invites"),
        "invite-service's tables are in the database: {tables:?}"
    );
    assert!(
        !with_notify || tables.iter().any(|t| t == "notify_deliveries"),
        "notify-service's tables are in the database too: {tables:?}"
    );
    let mut text = Vec::new();
    for table in tables {
        let rows = db
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT t::text FROM \"{table}\" t"),
            ))
            .await
            .expect("read a table");
        for row in rows {
            let line: String = row.try_get_by_index(0).expect("row as text");
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
    }
    db.close().await.expect("close");
    text
}

/// What `pg_dump` writes for the database.
fn pg_dump(url: &str) -> Vec<u8> {
    let binary = std::iter::once(std::path::PathBuf::from("pg_dump"))
        .chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|version| version.path().join("bin/pg_dump")),
        )
        .find(|candidate| {
            std::process::Command::new(candidate)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
        .expect("pg_dump is installed");
    let out = std::process::Command::new(binary)
        .arg("--no-owner")
        .arg(format!("--dbname={url}"))
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every key under the prefix with everything it holds, read by type, and its DUMP.
async fn redis_keys(url: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let client = redis::Client::open(url).expect("Redis URL");
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{prefix}}}:*"))
        .query_async(&mut redis)
        .await
        .expect("KEYS");
    let mut places = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .expect("TYPE");
        let read = match kind.as_str() {
            "string" => redis::cmd("GET").arg(&key).clone(),
            "hash" => redis::cmd("HGETALL").arg(&key).clone(),
            "list" => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).clone(),
            "set" => redis::cmd("SMEMBERS").arg(&key).clone(),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .clone(),
            "stream" => redis::cmd("XRANGE").arg(&key).arg("-").arg("+").clone(),
            // Gone since KEYS (an entry taken meanwhile).
            _ => continue,
        };
        let value: redis::Value = read.query_async(&mut redis).await.expect("read a key");
        let mut bytes = Vec::new();
        flatten(&value, &mut bytes);
        let dump: redis::Value = redis::cmd("DUMP")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .expect("DUMP");
        flatten(&dump, &mut bytes);
        places.push((format!("Redis key {key} ({kind})"), bytes));
    }
    places
}

fn flatten(value: &redis::Value, into: &mut Vec<u8>) {
    match value {
        redis::Value::BulkString(bytes) => into.extend_from_slice(bytes),
        redis::Value::SimpleString(text) => into.extend_from_slice(text.as_bytes()),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            for item in items {
                flatten(item, into);
                into.push(b'\n');
            }
        }
        redis::Value::Map(pairs) => {
            for (key, item) in pairs {
                flatten(key, into);
                into.push(b'\n');
                flatten(item, into);
                into.push(b'\n');
            }
        }
        other => into.extend_from_slice(format!("{other:?}").as_bytes()),
    }
}

/// The variables column of every delivery that has not reached its final outcome.
async fn sealed_variables(notify_config: &notify_service::Config) -> Vec<String> {
    let (url, backend) = match &notify_config.database_url {
        Some(url) => (url.clone(), DbBackend::Postgres),
        None => (notify_config.database_url(), DbBackend::Sqlite),
    };
    let db = Database::connect(&url).await.expect("connect");
    let values = db
        .query_all(Statement::from_string(
            backend,
            "SELECT variables FROM notify_deliveries WHERE state IN ('queued', 'deferred')",
        ))
        .await
        .expect("read deliveries")
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("variables"))
        .collect::<Vec<_>>();
    db.close().await.expect("close");
    for value in &values {
        assert!(
            value.starts_with("sealed:"),
            "variables are sealed: {value}"
        );
    }
    values
}

/// Runs notify-service's reconcile round (the one whose checkpoint empties SQLite's write-ahead
/// log of erased variables) until it reports them out of the log, then scans every file under
/// the data folder once: none of `secrets` may be left. Returns them. A round whose checkpoint
/// readers kept from finishing has already waited for them (the busy timeout), so the next one
/// follows at once; all within `WAIT`.
async fn checkpoint_then_scan(app: &TestApp, secrets: Vec<Shown>) -> Vec<Shown> {
    let notify = app.in_process_notify();
    tokio::time::timeout(WAIT, async {
        while !notify.reconcile_round().await.expect("reconcile round") {}
    })
    .await
    .expect("the write-ahead log was emptied of erased variables in time");
    let files = files_under(app.data_dir());
    assert_no_secret_in(&files, &secrets, "after delivery and a checkpoint");
    secrets
}
