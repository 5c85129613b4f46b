//! What holds on PostgreSQL alone: replicas sharing one database hear each other's API key
//! revocations, and a database on this machine is reached without TLS unless the URL asks.
use beckon_proto::invite::v1::*;
use beckon_tests::{postgres_admin_url, Backend, TestApp};
use sea_orm::{ConnectionTrait, Database, Statement};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_replica_is_refused_at_once_by_the_other() {
    let first = TestApp::spawn(Backend::Postgres).await;
    let second = first.spawn_replica().await;
    let key = first.key_with_scope(ApiKeyScope::Admin).await;
    // Both replicas have verified the key, so both hold it in memory.
    for replica in [&first, &second] {
        replica
            .jobs_as(&key)
            .list_jobs(ListJobsRequest::default())
            .await
            .expect("the key works");
    }
    let id = second
        .organization_as(&key)
        .get_caller(GetCallerRequest {})
        .await
        .expect("caller")
        .into_inner()
        .api_key
        .expect("key")
        .id;

    second
        .organization()
        .revoke_api_key(RevokeApiKeyRequest { id })
        .await
        .expect("revoke");

    for replica in [&first, &second] {
        let refused = replica
            .jobs_as(&key)
            .list_jobs(ListJobsRequest::default())
            .await
            .expect_err("a revoked key");
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    }
}

/// Whether each of the server's connections to its database uses TLS.
async fn connections_use_tls(app: &TestApp) -> Vec<bool> {
    let url = app.config().database_url.clone().expect("a PostgreSQL URL");
    let name = url
        .rsplit_once('/')
        .and_then(|(_, rest)| rest.split('?').next())
        .expect("a database name")
        .to_string();
    let admin = Database::connect(&postgres_admin_url())
        .await
        .expect("admin connection");
    let rows = admin
        .query_all(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = $1",
            [name.into()],
        ))
        .await
        .expect("pg_stat_ssl");
    rows.iter()
        .map(|row| row.try_get_by_index::<bool>(0).expect("ssl"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_on_loopback_is_reached_without_tls_unless_the_url_asks() {
    assert!(
        std::env::var_os("PGSSLMODE").is_none(),
        "the test needs PGSSLMODE unset"
    );
    let plain = TestApp::spawn(Backend::Postgres).await;
    let url = plain
        .config()
        .database_url
        .clone()
        .expect("a PostgreSQL URL");
    assert!(
        url.contains("127.0.0.1") && !url.contains("sslmode"),
        "{url}"
    );
    let used = connections_use_tls(&plain).await;
    assert!(!used.is_empty() && used.iter().all(|tls| !tls), "{used:?}");

    // The test server offers TLS (`ssl = on`): asked for, it is used.
    let asked = TestApp::spawn_with(Backend::Postgres, |config| {
        if let Some(url) = &mut config.database_url {
            url.push_str("?sslmode=require");
        }
    })
    .await;
    let used = connections_use_tls(&asked).await;
    assert!(!used.is_empty() && used.iter().all(|tls| *tls), "{used:?}");
}
