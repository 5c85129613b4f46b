//! Migrations keep the rows already stored: each is run on a database holding rows written by
//! the schema before it, on both databases.
use beckon_tests::{fresh_postgres_database, on_both_databases, Backend};
use chrono::Utc;
use invite_service::db::{
    entities::{cohort, member, outbox},
    migrations::Migrator,
    values::{CohortOptions, MessageKind, OutboxState, ReportedDelivery, SubmittedPolicy},
};
use sea_orm::{
    sea_query::{Alias, Query, SimpleExpr},
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, Set,
};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

on_both_databases!(
    the_webhook_notices_migration_keeps_the_outbox_and_finds_the_admins,
    the_cohort_options_migration_keeps_stored_options_readable,
);

/// A new database of `backend`, migrated up to (not including) the migration `name`.
async fn database_before(
    backend: Backend,
    folder: &std::path::Path,
    name: &str,
) -> DatabaseConnection {
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", folder.join("beckon.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let db = Database::connect(&url).await.expect("connect");
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == name)
        .expect("the migration exists");
    Migrator::up(&db, Some(u32::try_from(before).expect("few migrations")))
        .await
        .expect("migrate up to it");
    db
}

/// Inserts a row through the table's columns of the time, not today's entity.
async fn insert(db: &DatabaseConnection, table: &str, row: &[(&str, SimpleExpr)]) {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table))
        .columns(row.iter().map(|(column, _)| Alias::new(*column)))
        .values_panic(row.iter().map(|(_, value)| value.clone()));
    db.execute(db.get_database_backend().build(&insert))
        .await
        .unwrap_or_else(|err| panic!("insert into {table}: {err}"));
}

/// A new organization's id.
async fn insert_organization(db: &DatabaseConnection) -> Uuid {
    let org = Uuid::now_v7();
    insert(
        db,
        "organizations",
        &[
            ("id", org.into()),
            ("name", "Acme".into()),
            ("created_at", Utc::now().into()),
        ],
    )
    .await;
    org
}

async fn the_cohort_options_migration_keeps_stored_options_readable(backend: Backend) {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = database_before(
        backend,
        folder.path(),
        "m20261204_000002_cohort_options_json",
    )
    .await;
    let now = Utc::now();
    let org = insert_organization(&db).await;
    let options = CohortOptions {
        send_email: true,
        message: Some("Good luck".into()),
        labels: vec!["spring".into()],
        assignee_ids: vec![Uuid::now_v7()],
        submitted_policy: SubmittedPolicy::Reopen,
        ..Default::default()
    };
    let cohort_id = Uuid::now_v7();
    // As the service wrote it before: the options as JSON text.
    let text = serde_json::to_string(&options).expect("options as JSON");
    insert(
        &db,
        "cohorts",
        &[
            ("id", cohort_id.into()),
            ("org_id", org.into()),
            ("job_id", Uuid::now_v7().into()),
            ("options", text.into()),
            ("created_by_key_id", Uuid::now_v7().into()),
            ("state", "running".into()),
            ("total", 1.into()),
            ("succeeded", 0.into()),
            ("failed", 0.into()),
            ("last_sequence", 0i64.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    Migrator::up(&db, None).await.expect("migrate");
    let read = cohort::Entity::find_by_id(cohort_id)
        .one(&db)
        .await
        .expect("read the cohort")
        .expect("the cohort");
    assert_eq!(read.options, options);
    db.close().await.expect("close");
}

async fn the_webhook_notices_migration_keeps_the_outbox_and_finds_the_admins(backend: Backend) {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = database_before(
        backend,
        folder.path(),
        "m20261201_000003_webhook_disabled_notices",
    )
    .await;
    let now = Utc::now();
    let org = insert_organization(&db).await;
    // Members owning an admin key, a revoked admin key, a narrower key; and one owning none.
    let mut members = Vec::new();
    for (n, key) in [
        Some(("admin", false)),
        Some(("admin", true)),
        Some(("invites", false)),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let id = Uuid::now_v7();
        insert(
            &db,
            "members",
            &[
                ("id", id.into()),
                ("org_id", org.into()),
                ("email", format!("m{n}@acme.test").into()),
                ("name", format!("Member {n}").into()),
                ("notify_started", true.into()),
                ("notify_submitted", true.into()),
                ("created_at", now.into()),
            ],
        )
        .await;
        if let Some((scope, revoked)) = key {
            insert(
                &db,
                "api_keys",
                &[
                    ("id", Uuid::now_v7().into()),
                    ("org_id", org.into()),
                    ("name", "a key".into()),
                    ("scope", scope.into()),
                    ("prefix", format!("bk_{n}").into()),
                    ("secret_hash", "00".into()),
                    ("created_at", now.into()),
                    ("revoked_at", revoked.then_some(now).into()),
                    ("owner_member_id", Some(id).into()),
                ],
            )
            .await;
        }
        members.push(id);
    }
    let (row_id, invite_id, cohort_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    insert(
        &db,
        "outbox",
        &[
            ("id", row_id.into()),
            ("org_id", org.into()),
            ("invite_id", invite_id.into()),
            ("kind", "invite".into()),
            ("recipient", "ada@example.com".into()),
            ("recipient_name", "Ada".into()),
            ("link_generation", 2.into()),
            ("state", "accepted".into()),
            ("delivery_state", "deferred".into()),
            ("attempts", 3.into()),
            ("next_attempt_at", now.into()),
            ("last_error", "451 try later".into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
            ("cohort_id", Some(cohort_id).into()),
            ("cohort_row", Some(7).into()),
        ],
    )
    .await;

    Migrator::up(&db, None)
        .await
        .expect("the rest of the migrations");

    let kept = outbox::Entity::find_by_id(row_id)
        .one(&db)
        .await
        .expect("read")
        .expect("the outbox row is kept");
    assert_eq!(kept.invite_id, Some(invite_id));
    assert_eq!(kept.kind, MessageKind::Invite);
    assert_eq!(kept.link_generation, 2);
    assert_eq!(kept.state, OutboxState::Accepted);
    assert_eq!(kept.delivery_state, ReportedDelivery::Deferred);
    assert_eq!(kept.attempts, 3);
    assert_eq!(kept.last_error, "451 try later");
    assert_eq!(
        (kept.cohort_id, kept.cohort_row),
        (Some(cohort_id), Some(7))
    );
    assert_eq!(kept.webhook_endpoint_id, None);

    let mut admins = Vec::new();
    for id in &members {
        let member = member::Entity::find_by_id(*id)
            .one(&db)
            .await
            .expect("read")
            .expect("member kept");
        admins.push(member.admin);
    }
    assert_eq!(
        admins,
        [true, false, false, false],
        "only the owner of an unrevoked admin key is an admin"
    );

    // A row about an endpoint, not an invite, can now be stored.
    let mut endpoint_row = outbox::ActiveModel::from(kept).reset_all();
    endpoint_row.id = Set(Uuid::now_v7());
    endpoint_row.invite_id = Set(None);
    endpoint_row.webhook_endpoint_id = Set(Some(Uuid::now_v7()));
    endpoint_row.kind = Set(MessageKind::WebhookDisabled);
    endpoint_row
        .insert(&db)
        .await
        .expect("a row without an invite");
}
