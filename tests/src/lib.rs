//! Test support: boots the real invite-service on port 0 with a database of its own (a SQLite
//! file, or a fresh PostgreSQL database) and gives typed gRPC clients and an HTTP client.
pub mod ats;
pub mod dkim;
pub mod edge;
pub mod haproxy;
pub mod ical;
pub mod logs;
pub mod metrics;
pub mod notify;
pub mod otlp;
pub mod process;
pub mod redis_server;
pub mod smtp;
pub mod webhooks;

use std::net::SocketAddr;

use beckon_proto::invite::v1::{
    ats_service_client::AtsServiceClient, candidate_service_client::CandidateServiceClient,
    invite_service_client::InviteServiceClient, job_service_client::JobServiceClient,
    organization_service_client::OrganizationServiceClient,
    webhook_service_client::WebhookServiceClient, ApiKeyScope, CreateApiKeyRequest,
    CreateInviteRequest, CreateInviteResponse, CreateJobRequest, Job, JobState, UpdateJobRequest,
};
use invite_service::{Config, RunningServer};
use sea_orm::{ConnectionTrait, Database};
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{interceptor::InterceptedService, Interceptor},
    transport::Channel,
    Request, Status,
};

/// How long a test waits for background work to have an effect before it looks one last time.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The origin the tests treat as the browser extension's.
pub const EXTENSION_ORIGIN: &str = "chrome-extension://beckontestextensionid";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed `async fn name(backend: Backend)` once against SQLite and once against
/// PostgreSQL, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Adds `authorization: Bearer <key>` to every call.
#[derive(Clone)]
pub struct Auth(Option<MetadataValue<Ascii>>);

impl Auth {
    /// `authorization: Bearer <key>`.
    pub fn bearer(key: &str) -> Self {
        Auth(Some(format!("Bearer {key}").parse().expect("key is ASCII")))
    }
}

impl Interceptor for Auth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Auth>;

/// An open job ("Backend engineer"), made through `channel` with `interceptor`'s credentials:
/// for tests that run a service as a process and reach it over the wire.
pub async fn open_job<I: Interceptor>(channel: Channel, interceptor: I) -> Job {
    JobServiceClient::with_interceptor(channel, interceptor)
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "Backend engineer".into(),
                assessment_url: "https://assess.example.com/start".into(),
                ..Job::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create job")
        .into_inner()
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base_url: String,
    pub admin_key: String,
    pub channel: Channel,
    pub http: reqwest::Client,
    pub backend: Backend,
    server: Option<RunningServer>,
    config: Config,
    _data_dir: tempfile::TempDir,
}

/// The PostgreSQL server tests make their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("BECKON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A new, empty database on the test PostgreSQL server; its URL.
pub async fn fresh_postgres_database() -> String {
    let admin_url = postgres_admin_url();
    let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin_url} (set BECKON_TEST_POSTGRES_URL): {e}")
    });
    let name = format!("beckon_test_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("BECKON_TEST_POSTGRES_URL ends in /<database>");
    format!("{base}/{name}")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Boots a server; `adjust` may change its configuration first.
    /// A server whose in-process notify-service mails `smtp`.
    pub async fn spawn_with_mail(backend: Backend, smtp: &smtp::SmtpServer) -> Self {
        Self::spawn_full(backend, |_| {}, Some(smtp)).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_full(backend, adjust, None).await
    }

    pub async fn spawn_full(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
        smtp: Option<&smtp::SmtpServer>,
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let database_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_postgres_database().await),
        };
        let mut config = Config {
            listen_addr: "127.0.0.1:0".parse().expect("address"),
            data_dir: data_dir.path().to_path_buf(),
            database_url,
            cors_origins: vec![EXTENSION_ORIGIN.to_string()],
            max_db_connections: 8,
            relay_interval_ms: 50,
            ..Config::default()
        };
        adjust(&mut config);
        let notify = match smtp {
            Some(smtp) => notify::test_config(
                notify::QueueBackend::InProcess,
                smtp,
                &data_dir.path().join("notify"),
            ),
            // Mail goes to .eml files in the test's folder.
            None => notify_service::Config {
                data_dir: data_dir.path().join("notify"),
                workers: 2,
                ..notify_service::Config::default()
            },
        };
        Self::boot(backend, config, data_dir, notify).await
    }

    /// A server whose in-process notify-service is configured by `notify_config`, given the
    /// folder for notify-service's data and the server's own database URL (PostgreSQL), which an
    /// embedded notify-service shares in production.
    pub async fn spawn_with_notify_config(
        backend: Backend,
        notify_config: impl FnOnce(&std::path::Path, Option<&str>) -> notify_service::Config,
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let database_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_postgres_database().await),
        };
        let notify = notify_config(&data_dir.path().join("notify"), database_url.as_deref());
        let config = Config {
            listen_addr: "127.0.0.1:0".parse().expect("address"),
            data_dir: data_dir.path().to_path_buf(),
            database_url,
            cors_origins: vec![EXTENSION_ORIGIN.to_string()],
            max_db_connections: 8,
            relay_interval_ms: 50,
            // An ATS may call over the test's plain HTTP.
            ats_allow_http: true,
            ..Config::default()
        };
        Self::boot(backend, config, data_dir, notify).await
    }

    /// A second invite-service on this one's PostgreSQL database (its own port, folder and
    /// in-process notify-service), as another replica behind a load balancer; same admin key.
    pub async fn spawn_replica(&self) -> Self {
        assert_eq!(self.backend, Backend::Postgres, "replicas share PostgreSQL");
        let data_dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            listen_addr: "127.0.0.1:0".parse().expect("address"),
            data_dir: data_dir.path().to_path_buf(),
            ..self.config.clone()
        };
        let notify = notify_service::Config {
            data_dir: data_dir.path().join("notify"),
            workers: 2,
            ..notify_service::Config::default()
        };
        let mut replica = Self::boot(self.backend, config, data_dir, notify).await;
        replica.admin_key = self.admin_key.clone();
        replica
    }

    /// The folder holding the server's files (and its SQLite databases).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    async fn boot(
        backend: Backend,
        mut config: Config,
        data_dir: tempfile::TempDir,
        notify: notify_service::Config,
    ) -> Self {
        // Bound before the server starts: the address is known and ready, no waiting needed.
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        config.listen_addr = addr;
        let base_url = format!("http://{addr}");
        config.public_base_url = base_url.clone();
        let server = invite_service::start_with_notify(config.clone(), listener, Some(notify))
            .await
            .expect("server starts");
        // A replica on a database already bootstrapped gets no key; `spawn_replica` sets it.
        let admin_key = server.bootstrap_key.clone().unwrap_or_default();
        let channel = Channel::from_shared(base_url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            addr,
            base_url,
            admin_key,
            channel,
            http,
            backend,
            server: Some(server),
            config,
            _data_dir: data_dir,
        }
    }

    /// Stops the server gracefully (in-flight requests finish).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }

    /// The server's own database handles, for tests that must arrange what no API can (time).
    /// Moves an invite's expiry a minute into the past. Time cannot be hurried through the API,
    /// and the server's pools are its store's alone, so this uses a connection of its own.
    pub async fn backdate_expiry(&self, invite_id: &str) {
        use invite_service::db::entities::invite;
        use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};

        let db = Database::connect(self.config.database_url())
            .await
            .expect("connect to the test database");
        invite::Entity::update_many()
            .col_expr(
                invite::Column::ExpiresAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
            )
            .filter(invite::Column::Id.eq(uuid::Uuid::parse_str(invite_id).expect("uuid")))
            .exec(&db)
            .await
            .expect("backdate expiry");
        db.close().await.expect("close the test connection");
    }

    /// Writes a value straight into one column of an invite, as a bug or a hand edit might:
    /// for tests of what the service makes of stored data no API can write.
    pub async fn overwrite_invite_column(
        &self,
        invite_id: &str,
        column: invite_service::db::entities::invite::Column,
        value: impl Into<sea_orm::Value>,
    ) {
        use invite_service::db::entities::invite;
        use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};

        let db = Database::connect(self.config.database_url())
            .await
            .expect("connect to the test database");
        let changed = invite::Entity::update_many()
            .col_expr(column, Expr::value(value.into()))
            .filter(invite::Column::Id.eq(uuid::Uuid::parse_str(invite_id).expect("uuid")))
            .exec(&db)
            .await
            .expect("overwrite the column")
            .rows_affected;
        assert_eq!(changed, 1, "the invite {invite_id} is in the database");
        db.close().await.expect("close the test connection");
    }

    /// The notify-service running inside the server (none when it was given a `notify_addr`).
    pub fn in_process_notify(&self) -> &notify_service::RunningNotify {
        self.server
            .as_ref()
            .expect("server running")
            .notify
            .as_ref()
            .expect("an in-process notify-service")
    }

    pub fn store(&self) -> &invite_service::store::Store {
        &self.server.as_ref().expect("server running").store
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn auth(key: &str) -> Auth {
        Auth::bearer(key)
    }

    pub fn jobs(&self) -> JobServiceClient<Authed> {
        self.jobs_as(&self.admin_key)
    }

    pub fn jobs_as(&self, key: &str) -> JobServiceClient<Authed> {
        JobServiceClient::with_interceptor(self.channel.clone(), Self::auth(key))
    }

    pub fn invites(&self) -> InviteServiceClient<Authed> {
        self.invites_as(&self.admin_key)
    }

    pub fn invites_as(&self, key: &str) -> InviteServiceClient<Authed> {
        InviteServiceClient::with_interceptor(self.channel.clone(), Self::auth(key))
    }

    pub fn candidates(&self) -> CandidateServiceClient<Authed> {
        CandidateServiceClient::with_interceptor(self.channel.clone(), Self::auth(&self.admin_key))
    }

    pub fn organization(&self) -> OrganizationServiceClient<Authed> {
        self.organization_as(&self.admin_key)
    }

    pub fn organization_as(&self, key: &str) -> OrganizationServiceClient<Authed> {
        OrganizationServiceClient::with_interceptor(self.channel.clone(), Self::auth(key))
    }

    pub fn webhooks(&self) -> WebhookServiceClient<Authed> {
        self.webhooks_as(&self.admin_key)
    }

    pub fn webhooks_as(&self, key: &str) -> WebhookServiceClient<Authed> {
        WebhookServiceClient::with_interceptor(self.channel.clone(), Self::auth(key))
    }

    /// One round of every background job, now (the rounds their loops run).
    pub async fn run_background_round(&self) -> invite_service::app::BackgroundRound {
        let server = self.server.as_ref().expect("server running");
        server
            .run_background_round()
            .await
            .expect("a background round")
    }

    /// Where the server serves its metrics, when `metrics_addr` was set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().and_then(|s| s.metrics_addr)
    }

    pub fn ats(&self) -> AtsServiceClient<Authed> {
        self.ats_as(&self.admin_key)
    }

    pub fn ats_as(&self, key: &str) -> AtsServiceClient<Authed> {
        AtsServiceClient::with_interceptor(self.channel.clone(), Self::auth(key))
    }

    /// A client that sends no key at all.
    pub fn jobs_without_key(&self) -> JobServiceClient<Authed> {
        JobServiceClient::with_interceptor(self.channel.clone(), Auth(None))
    }

    /// A new key of the given scope in the admin's organization.
    pub async fn key_with_scope(&self, scope: ApiKeyScope) -> String {
        self.organization()
            .create_api_key(CreateApiKeyRequest {
                name: format!("{scope:?} key"),
                scope: scope as i32,
                request_id: String::new(),
                ..Default::default()
            })
            .await
            .expect("create key")
            .into_inner()
            .secret
    }

    /// A second organization on the same server, with its own admin key.
    pub async fn other_organization_key(&self) -> String {
        let server = self.server.as_ref().expect("server running");
        invite_service::store::organization::bootstrap(&server.store, "Other organization")
            .await
            .expect("bootstrap second organization")
            .admin_key
    }

    pub async fn create_job(&self, title: &str) -> Job {
        self.jobs()
            .create_job(CreateJobRequest {
                job: Some(Job {
                    title: title.to_string(),
                    assessment_url: "https://assess.example.com/start".into(),
                    ..Job::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("create job")
            .into_inner()
    }

    /// Closes a job: it takes no new invites.
    pub async fn close_job(&self, id: &str) {
        self.jobs()
            .update_job(UpdateJobRequest {
                job: Some(Job {
                    id: id.to_string(),
                    state: JobState::Closed as i32,
                    ..Job::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["state".into()],
                }),
            })
            .await
            .expect("close job");
    }

    /// An invite to a new job, link only (no email).
    pub async fn create_invite(&self) -> CreateInviteResponse {
        let job = self.create_job("Backend engineer").await;
        self.create_invite_for(&job.id).await
    }

    pub async fn create_invite_for(&self, job_id: &str) -> CreateInviteResponse {
        self.invites()
            .create_invite(CreateInviteRequest {
                job_id: job_id.to_string(),
                candidate_email: "ada@example.com".into(),
                candidate_name: "Ada Lovelace".into(),
                ..CreateInviteRequest::default()
            })
            .await
            .expect("create invite")
            .into_inner()
    }

    /// Reads with `read` until `done` holds for what it read, driving the background work in
    /// between: after each read that falls short, runs one round of each background job (the
    /// cohort worker, the sweeper, the relay: the rounds their loops run) and reads again if
    /// one did something. When none had anything to do, what is missing is elsewhere (the
    /// in-process notify-service sending the mail whose outcome the relay then follows, or a
    /// row not due yet): waits for a round of the loops here or of notify-service's workers to
    /// write something. Until `WAIT` has passed; returns the last read.
    pub async fn when<T>(&self, read: impl AsyncFn() -> T, done: impl Fn(&T) -> bool) -> T {
        let server = self.server.as_ref().expect("server running");
        let mut rounds = server.progress.subscribe();
        let mut sends = server
            .notify
            .as_ref()
            .map(|notify| notify.progress.subscribe());
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            rounds.mark_unchanged();
            if let Some(sends) = &mut sends {
                sends.mark_unchanged();
            }
            let value = read().await;
            if done(&value) {
                return value;
            }
            match tokio::time::timeout_at(deadline, server.run_background_round()).await {
                // Out of time.
                Err(_) => return value,
                Ok(Ok(round)) if round.worked() => continue,
                Ok(Ok(_)) => {}
                Ok(Err(err)) => panic!("a background round failed: {err:#}"),
            }
            let progressed = async {
                tokio::select! {
                    changed = rounds.changed() => changed.is_ok(),
                    changed = changed_if_any(&mut sends) => changed,
                }
            };
            match tokio::time::timeout_at(deadline, progressed).await {
                Ok(true) => {}
                // Out of time, or the server stopped: nothing more will change.
                Ok(false) | Err(_) => return value,
            }
        }
    }

    /// The invite once `done` holds (outcomes arrive from background work); see `when`.
    pub async fn invite_when(
        &self,
        id: &str,
        done: impl Fn(&beckon_proto::invite::v1::Invite) -> bool,
    ) -> beckon_proto::invite::v1::Invite {
        let read = async || {
            self.invites()
                .get_invite(beckon_proto::invite::v1::GetInviteRequest { id: id.into() })
                .await
                .expect("get invite")
                .into_inner()
        };
        self.when(read, done).await
    }

    /// The invites to an address, once there is one (a cohort makes them in the background).
    pub async fn invites_to(&self, email: &str) -> Vec<beckon_proto::invite::v1::Invite> {
        let read = async || {
            self.invites()
                .list_invites(beckon_proto::invite::v1::ListInvitesRequest {
                    candidate_email: email.into(),
                    ..Default::default()
                })
                .await
                .expect("list invites")
                .into_inner()
                .invites
        };
        self.when(read, |invites| !invites.is_empty()).await
    }

    /// The kinds of an invite's events, oldest first.
    pub async fn event_kinds(&self, id: &str) -> Vec<String> {
        self.invites()
            .list_invite_events(beckon_proto::invite::v1::ListInviteEventsRequest {
                invite_id: id.into(),
                ..Default::default()
            })
            .await
            .expect("events")
            .into_inner()
            .events
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("GET")
    }

    pub async fn post(&self, url: &str) -> reqwest::Response {
        self.http.post(url).send().await.expect("POST")
    }
}

/// Whether `progress` (if there is one) advanced; false once its sender is gone, never
/// without one.
async fn changed_if_any(progress: &mut Option<tokio::sync::watch::Receiver<u64>>) -> bool {
    match progress {
        Some(progress) => progress.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

/// The field names of a status's BadRequest violations.
pub fn violated_fields(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The ErrorInfo reason of a status.
pub fn error_reason(status: &Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}
