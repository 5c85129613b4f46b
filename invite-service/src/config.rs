//! Configuration: built-in defaults, then an optional TOML file, then `DATABASE_URL` and
//! `REDIS_URL`, then `BECKON_*` environment variables. Checked once at start, with messages that
//! name the setting; a `BECKON_*` variable that is no setting is refused (except notify-service's
//! `BECKON_NOTIFY_*`, the tests' `BECKON_TEST_*` and invitectl's variables).
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use beckon_common::config::Environment;
use serde::{Deserialize, Serialize};

pub use beckon_common::Secret;
pub use beckon_limiter::{Period, Rate};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where gRPC, gRPC-web and the link pages listen. Port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// The address candidates reach the link pages at. Links are built from this, never from a
    /// request's Host header.
    pub public_base_url: String,
    /// Holds the SQLite database when `database_url` is not set.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to a SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Browser origins allowed to call gRPC-web, e.g. `chrome-extension://<id>`.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_origins: Vec<String>,
    /// Largest accepted request body or gRPC message.
    pub max_request_bytes: usize,
    /// Upper bound on any request's deadline, whatever the client asks for.
    pub request_timeout_secs: u64,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Largest number of pooled database connections.
    pub max_db_connections: u32,
    /// How long a call waits for a database connection before it answers UNAVAILABLE (the
    /// database cannot be reached, or every connection is busy).
    pub db_acquire_timeout_ms: u64,
    /// The key link tokens are derived from (base64url, 32 bytes). Every replica needs the
    /// same one. Unset: made on first start and kept in `data_dir/link-secret`.
    pub link_secret: Option<Secret>,
    /// notify-service's address, e.g. `http://notify:8090`. Unset: notify-service runs inside
    /// this process (configured by its own `BECKON_NOTIFY_*` settings).
    pub notify_addr: Option<String>,
    /// Sent to notify-service as `authorization: Bearer <token>`.
    pub notify_token: Option<Secret>,
    /// How often the outbox relay looks for work.
    pub relay_interval_ms: u64,
    /// Most candidates one bulk call may name.
    pub max_bulk_rows: usize,
    /// Cohort members turned into invites per transaction.
    pub cohort_chunk_size: u64,
    /// How far back ListCohorts looks by default.
    pub cohort_window_hours: u32,
    /// How often expired links and due reminders are looked for.
    pub sweep_interval_ms: u64,
    /// With Redis, the public links' abuse limits are shared by every replica; without it each
    /// replica keeps its own.
    pub redis_url: Option<String>,
    /// Namespaces this service's Redis keys, so several deployments can share one Redis.
    #[serde(deserialize_with = "beckon_common::config::text")]
    pub redis_key_prefix: String,
    /// Registrations through one job's public link, e.g. `60/minute burst 20`.
    pub public_rate_per_link: Rate,
    /// Registrations from one client address (an IPv6 client's /64), over all public links.
    pub public_rate_per_address: Rate,
    /// Registrations of one email address, over all public links: the candidate's inbox is
    /// not to be flooded through them.
    pub public_rate_per_email: Rate,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed. A request from any
    /// other peer is limited by its own TCP address; empty (the default): by the TCP peer,
    /// so behind a proxy that is not listed every client shares the proxy's address.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<String>,
    /// Lets webhook endpoints use plain `http://` URLs (off: only `https://`).
    pub webhook_allow_http: bool,
    /// Networks webhooks may be sent into although they are not public, e.g. `10.20.0.0/16`
    /// for an ATS inside the company network. Loopback, private, link-local, multicast and
    /// the cloud metadata address are refused otherwise, checked at every attempt.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub webhook_allowed_networks: Vec<String>,
    /// How long one webhook attempt may take, connecting included.
    pub webhook_timeout_ms: u64,
    /// The waits between a webhook message's attempts; after the last, it has failed.
    #[serde(deserialize_with = "beckon_common::config::text")]
    pub webhook_retry_schedule: String,
    /// An endpoint whose every attempt failed for this long is turned off, and the
    /// organization's admin members are emailed.
    pub webhook_disable_after_secs: u64,
    /// Deliveries to one endpoint, unless the endpoint sets its own rate.
    pub webhook_rate_per_endpoint: Rate,
    /// How often due webhook messages are looked for when there was nothing to do.
    pub webhook_interval_ms: u64,
    /// How long webhook messages and attempts are kept (listed, replayable); a message still
    /// pending (being tried, or waiting for an endpoint that is off) is kept until it is not.
    pub webhook_retention_secs: u64,
    /// Serves the ATS partner routes (`/ats/...`, which take an API key in HTTP Basic auth)
    /// although `public_base_url` is plain `http://`; off: only behind HTTPS.
    pub ats_allow_http: bool,
    /// Ashby's API, where Beckon reports assessments' progress (`assessment.update`).
    #[serde(deserialize_with = "beckon_common::config::text")]
    pub ashby_api_url: String,
    /// Where Prometheus metrics are served (`GET /metrics`); none (the default): not at all.
    /// Never the public port: give an address only the monitoring network reaches.
    pub metrics_addr: Option<SocketAddr>,
    /// On SIGTERM, how long in-flight requests and background work may take to finish before
    /// the process exits anyway (what was cut short is taken again after its lease).
    pub shutdown_timeout_secs: u64,
    /// An OpenTelemetry collector's OTLP/gRPC address (`http://collector:4317`) to export traces
    /// to; none (the default): spans only name their trace in the logs.
    #[serde(default, deserialize_with = "beckon_common::config::optional_text")]
    pub otlp_endpoint: Option<String>,
}

/// The names of `Config`'s fields, as `BECKON_<NAME>` environment variables set them.
pub const SETTINGS: &[&str] = &[
    "listen_addr",
    "public_base_url",
    "data_dir",
    "database_url",
    "cors_origins",
    "max_request_bytes",
    "request_timeout_secs",
    "log_format",
    "max_db_connections",
    "db_acquire_timeout_ms",
    "link_secret",
    "notify_addr",
    "notify_token",
    "relay_interval_ms",
    "max_bulk_rows",
    "cohort_chunk_size",
    "cohort_window_hours",
    "sweep_interval_ms",
    "redis_url",
    "redis_key_prefix",
    "public_rate_per_link",
    "public_rate_per_address",
    "public_rate_per_email",
    "trusted_proxies",
    "webhook_allow_http",
    "webhook_allowed_networks",
    "webhook_timeout_ms",
    "webhook_retry_schedule",
    "webhook_disable_after_secs",
    "webhook_rate_per_endpoint",
    "webhook_interval_ms",
    "webhook_retention_secs",
    "ats_allow_http",
    "ashby_api_url",
    "metrics_addr",
    "shutdown_timeout_secs",
    "otlp_endpoint",
];

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            cors_origins: Vec::new(),
            max_request_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            log_format: LogFormat::Text,
            max_db_connections: 16,
            db_acquire_timeout_ms: 5000,
            link_secret: None,
            notify_addr: None,
            notify_token: None,
            relay_interval_ms: 500,
            max_bulk_rows: 10_000,
            cohort_chunk_size: 1000,
            cohort_window_hours: 48,
            sweep_interval_ms: 30_000,
            redis_url: None,
            redis_key_prefix: "beckon-invite".into(),
            public_rate_per_link: Rate::new(60, Period::Minute, 20),
            public_rate_per_address: Rate::new(10, Period::Minute, 5),
            public_rate_per_email: Rate::new(3, Period::Hour, 2),
            trusted_proxies: Vec::new(),
            webhook_allow_http: false,
            webhook_allowed_networks: Vec::new(),
            webhook_timeout_ms: 15_000,
            webhook_retry_schedule: "5s 5m 30m 2h 5h 10h 10h".into(),
            webhook_disable_after_secs: 5 * 24 * 3600,
            webhook_rate_per_endpoint: Rate::new(100, Period::Second, 100),
            webhook_interval_ms: 250,
            webhook_retention_secs: 30 * 24 * 3600,
            ats_allow_http: false,
            ashby_api_url: "https://api.ashbyhq.com".into(),
            metrics_addr: None,
            shutdown_timeout_secs: 10,
            otlp_endpoint: None,
        }
    }
}

pub use beckon_common::config::ConfigError;

/// Settings whose values never appear in the startup log.
const SECRETS: &[&str] = &["link_secret", "notify_token"];

/// The variable that names the configuration file.
pub const CONFIG_VARIABLE: &str = "BECKON_CONFIG";

/// Variables of other Beckon programs that share the `BECKON_` namespace (invitectl's).
const OTHER_PROGRAMS_VARIABLES: &[&str] = &["BECKON_SERVER", "BECKON_API_KEY"];

/// Where invite-service reads its settings from in the environment. `BECKON_NOTIFY_*` belongs
/// to notify-service (checked by it, in this process when it runs here) and `BECKON_TEST_*` to
/// the test suite; a mistyped notify-service variable is still offered its right name.
pub fn environment() -> Environment {
    let mut also_allowed: Vec<String> = OTHER_PROGRAMS_VARIABLES
        .iter()
        .map(|name| name.to_string())
        .collect();
    also_allowed.push(CONFIG_VARIABLE.to_string());
    Environment {
        prefix: "BECKON_",
        settings: SETTINGS.to_vec(),
        aliases: vec![("DATABASE_URL", "database_url"), ("REDIS_URL", "redis_url")],
        also_allowed,
        not_ours: vec!["BECKON_NOTIFY_", "BECKON_TEST_"],
        suggestions: notify_service::config::environment().variables(),
    }
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment, and validates the result.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        beckon_common::config::load(&Config::default(), file, &environment(), Config::validate)
    }

    /// The effective configuration as one line for the startup log, secrets hidden.
    pub fn summary(&self) -> String {
        beckon_common::config::summary(self, SECRETS)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting, problem: &str| ConfigError::invalid(setting, problem);
        match url::Url::parse(&self.public_base_url) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.has_host()
                    && url.query().is_none()
                    && url.fragment().is_none() => {}
            _ => return Err(invalid(
                "public_base_url",
                "must be an absolute http(s) URL without query, e.g. https://beckon.example.com",
            )),
        }
        match url::Url::parse(&self.ashby_api_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => {
                return Err(invalid(
                    "ashby_api_url",
                    "must be an absolute http(s) URL, e.g. https://api.ashbyhq.com",
                ))
            }
        }
        if let Some(metrics) = self.metrics_addr {
            if metrics == self.listen_addr && metrics.port() != 0 {
                return Err(invalid(
                    "metrics_addr",
                    "must differ from listen_addr: metrics are not served on the public port",
                ));
            }
        }
        if let Some(url) = &self.database_url {
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                return Err(invalid(
                    "database_url",
                    "must start with sqlite:, postgres:// or postgresql://",
                ));
            }
        }
        for origin in &self.cors_origins {
            let ok = match url::Url::parse(origin) {
                Ok(url) => {
                    matches!(url.scheme(), "http" | "https" | "chrome-extension")
                        && url.has_host()
                        && url.path().trim_end_matches('/').is_empty()
                        && !origin.ends_with('/')
                }
                Err(_) => false,
            };
            if !ok {
                return Err(ConfigError::invalid(
                    "cors_origins",
                    format!(
                        "has `{origin}`, which is not an origin such as chrome-extension://abcdef or https://ats.example.com"
                    ),
                ));
            }
        }
        if self.max_request_bytes < 4096 || self.max_request_bytes > 64 * 1024 * 1024 {
            return Err(invalid(
                "max_request_bytes",
                "must be between 4096 and 67108864",
            ));
        }
        if let Some(endpoint) = &self.otlp_endpoint {
            if let Err(problem) = beckon_common::telemetry::check_otlp_endpoint(endpoint) {
                return Err(invalid("otlp_endpoint", problem));
            }
        }
        if !(1..=600).contains(&self.shutdown_timeout_secs) {
            return Err(invalid(
                "shutdown_timeout_secs",
                "must be between 1 and 600",
            ));
        }
        if !(1..=600).contains(&self.request_timeout_secs) {
            return Err(invalid("request_timeout_secs", "must be between 1 and 600"));
        }
        if let Some(secret) = &self.link_secret {
            if crate::domain::secret::LinkKey::decode(secret.expose()).is_none() {
                return Err(invalid(
                    "link_secret",
                    "must be 32 bytes in base64url (43 characters), e.g. from `openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`",
                ));
            }
        }
        if let Some(addr) = &self.notify_addr {
            if !(addr.starts_with("http://") || addr.starts_with("https://")) {
                return Err(invalid(
                    "notify_addr",
                    "must be a URL such as http://notify:8090",
                ));
            }
        }
        if !(1..=1_000_000).contains(&self.max_bulk_rows) {
            return Err(invalid("max_bulk_rows", "must be between 1 and 1000000"));
        }
        if !(1..=5000).contains(&self.cohort_chunk_size) {
            return Err(invalid("cohort_chunk_size", "must be between 1 and 5000"));
        }
        if !(1..=720).contains(&self.cohort_window_hours) {
            return Err(invalid("cohort_window_hours", "must be between 1 and 720"));
        }
        if !(10..=3_600_000).contains(&self.sweep_interval_ms) {
            return Err(invalid(
                "sweep_interval_ms",
                "must be between 10 and 3600000",
            ));
        }
        if !(10..=60_000).contains(&self.relay_interval_ms) {
            return Err(invalid("relay_interval_ms", "must be between 10 and 60000"));
        }
        if !(1..=1000).contains(&self.max_db_connections) {
            return Err(invalid("max_db_connections", "must be between 1 and 1000"));
        }
        if !(100..=600_000).contains(&self.db_acquire_timeout_ms) {
            return Err(invalid(
                "db_acquire_timeout_ms",
                "must be between 100 and 600000",
            ));
        }
        if let Some(url) = &self.redis_url {
            if let Err(err) = beckon_redis::check_url(url) {
                return Err(invalid("redis_url", &err.to_string()));
            }
        }
        if self.redis_key_prefix.is_empty()
            || !self
                .redis_key_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(invalid(
                "redis_key_prefix",
                "must be letters, digits, '-', '_' or '.'",
            ));
        }
        if let Err(problem) = self.webhook_destinations() {
            return Err(ConfigError::invalid("webhook_allowed_networks", problem));
        }
        if !(100..=120_000).contains(&self.webhook_timeout_ms) {
            return Err(invalid(
                "webhook_timeout_ms",
                "must be between 100 and 120000",
            ));
        }
        if let Err(problem) = self.webhook_retries() {
            return Err(ConfigError::invalid("webhook_retry_schedule", problem));
        }
        if !(1..=31_536_000).contains(&self.webhook_disable_after_secs) {
            return Err(invalid(
                "webhook_disable_after_secs",
                "must be between 1 and 31536000 (a year; 432000 is 5 days)",
            ));
        }
        if !(1..=315_360_000).contains(&self.webhook_retention_secs) {
            return Err(invalid(
                "webhook_retention_secs",
                "must be between 1 and 315360000 (ten years; 2592000 is 30 days)",
            ));
        }
        if !(10..=60_000).contains(&self.webhook_interval_ms) {
            return Err(invalid(
                "webhook_interval_ms",
                "must be between 10 and 60000",
            ));
        }
        for proxy in &self.trusted_proxies {
            if proxy.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError::invalid(
                    "trusted_proxies",
                    format!("has `{proxy}`, which is not an IP address"),
                ));
            }
        }
        Ok(())
    }

    /// Where webhooks may go, from `webhook_allow_http` and `webhook_allowed_networks`.
    pub fn webhook_destinations(&self) -> Result<crate::webhooks::DestinationPolicy, String> {
        let allowed_networks = self
            .webhook_allowed_networks
            .iter()
            .map(|network| {
                network.parse().map_err(|_| {
                    format!(
                        "has `{network}`, which is not a network such as 10.20.0.0/16 or fd00::/8"
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(crate::webhooks::DestinationPolicy {
            allow_http: self.webhook_allow_http,
            allowed_networks,
        })
    }

    pub fn webhook_retries(&self) -> Result<crate::webhooks::RetrySchedule, String> {
        self.webhook_retry_schedule
            .parse()
            .map_err(|err: crate::webhooks::ScheduleError| err.to_string())
    }

    /// Whether the ATS partner routes are served: behind HTTPS, or when allowed over HTTP.
    pub fn ats_routes_allowed(&self) -> bool {
        self.ats_allow_http || self.public_base_url.starts_with("https://")
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }

    /// The database to use: the configured URL, or a SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("beckon.db").display()
            ),
        }
    }

    /// The candidate-facing link for a token.
    pub fn link_url(&self, token: &str) -> String {
        format!("{}/i/{token}", self.public_base_url.trim_end_matches('/'))
    }

    /// Where a candidate stops an organization's bulk mail (List-Unsubscribe, RFC 8058).
    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/u/{token}", self.public_base_url.trim_end_matches('/'))
    }

    /// An enrolment link for the browser extension: the code rides in the fragment, which
    /// browsers never send, so the page it opens (and any link scanner) never sees it.
    pub fn enrollment_url(&self, code: &str) -> String {
        format!(
            "{}/enroll#{code}",
            self.public_base_url.trim_end_matches('/')
        )
    }

    /// A job's public registration page for a token.
    pub fn public_link_url(&self, token: &str) -> String {
        format!("{}/p/{token}", self.public_base_url.trim_end_matches('/'))
    }
}

fn list_or_comma_separated<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrText::deserialize(deserializer)? {
        ListOrText::List(list) => list,
        ListOrText::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn every_setting_can_come_from_the_environment() {
        let defaults = serde_json::to_value(Config::default()).expect("serializable");
        let mut fields: Vec<&str> = defaults
            .as_object()
            .expect("a struct")
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        let mut settings = SETTINGS.to_vec();
        settings.sort_unstable();
        assert_eq!(fields, settings);
    }

    #[test]
    fn bad_settings_are_named() {
        let config = Config {
            cors_origins: vec!["chrome-extension://abc/popup.html".into()],
            ..Config::default()
        };
        let err = config.validate().expect_err("path in origin");
        assert!(err.to_string().contains("cors_origins"), "{err}");
        let config = Config {
            public_base_url: "ftp://x".into(),
            ..Config::default()
        };
        assert!(config
            .validate()
            .expect_err("ftp")
            .to_string()
            .contains("public_base_url"));
    }
}
