//! Configuration: built-in defaults, then an optional TOML file, then `REDIS_URL`, then
//! `BECKON_NOTIFY_*` environment variables (nested settings with `__`, e.g.
//! `BECKON_NOTIFY_SMTP__HOST`). Any other `BECKON_NOTIFY_*` variable is refused. Checked once at
//! start.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

pub use beckon_common::config::ConfigError;
use beckon_common::config::Environment;
use serde::{Deserialize, Serialize};

pub use beckon_common::Secret;
pub use beckon_limiter::{Period, Rate};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same host or network).
    None,
    /// STARTTLS, required.
    StartTls,
    /// SMTPS: TLS from the first byte (port 465).
    Tls,
}

/// The SMTP server. Only `host` is needed; the rest have defaults (`Default`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    #[serde(deserialize_with = "beckon_common::config::text")]
    pub host: String,
    /// Unset: the usual port for `security` (25, 587, or 465 for SMTPS).
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    #[serde(deserialize_with = "beckon_common::config::optional_text")]
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Connections kept open to the server.
    pub pool_size: u32,
    /// How long one SMTP command may take before the attempt counts as a temporary failure.
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: None,
            security: SmtpSecurity::StartTls,
            username: None,
            password: None,
            pool_size: 8,
            timeout_secs: 30,
        }
    }
}

impl SmtpConfig {
    /// The configured port, else the usual one for the security.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        })
    }
}

/// DKIM signing (RFC 6376) of every message: receivers check the signature against the public
/// key published at `<selector>._domainkey.<domain>`, and mail without one from a domain that
/// asks for it lands in spam or is refused.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DkimConfig {
    /// The key's name in DNS (`s=`), e.g. `beckon2026`.
    #[serde(deserialize_with = "beckon_common::config::text")]
    pub selector: String,
    /// The signing domain (`d=`). Unset: the From address's domain.
    #[serde(deserialize_with = "beckon_common::config::optional_text")]
    pub domain: Option<String>,
    /// An RSA key in PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), or an Ed25519 key as the
    /// base64 of its 32 bytes.
    pub private_key: Option<Secret>,
    /// A file holding the key, instead of `private_key` (a mounted secret).
    pub private_key_file: Option<PathBuf>,
}

impl DkimConfig {
    /// The signing domain: `domain`, else the From address's.
    pub fn domain_for(&self, from_domain: &str) -> String {
        self.domain
            .clone()
            .unwrap_or_else(|| from_domain.to_string())
            .to_ascii_lowercase()
    }

    /// The private key's text, from the setting or its file.
    pub fn key_text(&self) -> Result<Secret, String> {
        match (&self.private_key, &self.private_key_file) {
            (Some(key), None) => Ok(key.clone()),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(Secret::new)
                .map_err(|err| format!("cannot be read from {}: {err}", path.display())),
            (Some(_), Some(_)) => Err("and dkim.private_key_file: give one, not both".into()),
            (None, None) => Err("or dkim.private_key_file is required to sign".into()),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen_addr: SocketAddr,
    /// Holds the SQLite database and the mail folder when nothing else is configured.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `notify.db` in `data_dir`.
    pub database_url: Option<String>,
    /// With Redis, the queue and the rate limits are shared by every replica; without it they
    /// are in-process.
    pub redis_url: Option<String>,
    /// Namespaces every Redis key, so several deployments can share one Redis.
    #[serde(deserialize_with = "beckon_common::config::text")]
    pub key_prefix: String,
    /// When set, callers must send `authorization: Bearer <token>`.
    pub auth_token: Option<Secret>,
    /// Keys that seal template variables (the links) in the database: 32-byte base64url keys
    /// separated by commas; the first seals, every one opens. Every replica needs the same.
    /// Unset: kept in `data_dir/seal-keys` (made on first start).
    pub seal_keys: Option<Secret>,
    /// With no SMTP server, mail is written as `.eml` files to `mail_dir`.
    pub smtp: Option<SmtpConfig>,
    /// Defaults to `mail` in `data_dir`.
    pub mail_dir: Option<PathBuf>,
    /// The From of every message, e.g. `Beckon <invites@example.com>`.
    pub from_address: String,
    /// Signs every message; unset: unsigned, and a warning at start when mail goes out by SMTP.
    pub dkim: Option<DkimConfig>,
    /// Messages sent at the same time by this replica.
    pub workers: usize,
    /// For the SMTP relay as a whole, shared by every replica, e.g. `50/second burst 50`.
    pub relay_rate: Rate,
    /// For each organization.
    pub organization_rate: Rate,
    /// For each recipient domain.
    pub domain_rate: Rate,
    /// Attempts before a temporary failure becomes final.
    pub max_attempts: u32,
    /// The first retry waits about this long; each next one twice as long, with jitter.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// A message taken by a worker that did not finish it within this time goes to another.
    pub ack_deadline_ms: u64,
    /// A message handed out this many times without being finished is dead-lettered.
    pub dead_letter_after: u32,
    /// How often unfinished deliveries are checked for being lost by the queue.
    pub reconcile_interval_ms: u64,
    /// While nothing waits in the queue, an unfinished delivery due and not published for longer
    /// than this is published again (a lost publish). Unset: the ack deadline and a quarter of
    /// it. A queue that lost everything (Redis restarted empty, a new in-process queue) is
    /// refilled at once instead.
    pub republish_after_ms: Option<u64>,
    pub max_request_bytes: usize,
    pub log_format: LogFormat,
    pub max_db_connections: u32,
    /// How long a call waits for a database connection before it answers UNAVAILABLE (the
    /// database cannot be reached, or every connection is busy).
    pub db_acquire_timeout_ms: u64,
    /// Where Prometheus metrics are served (`GET /metrics`); none (the default): not at all.
    /// Never the public port. In-process (run by invite-service) too, on its own address.
    pub metrics_addr: Option<SocketAddr>,
    /// On SIGTERM, how long in-flight work may take to finish before the process exits anyway
    /// (a delivery cut short is taken again when its hold ends).
    pub shutdown_timeout_secs: u64,
    /// An OpenTelemetry collector's OTLP/gRPC address (`http://collector:4317`) to export traces
    /// to; none (the default): spans only name their trace in the logs. The separate
    /// service only: in-process, invite-service's own is used.
    #[serde(default, deserialize_with = "beckon_common::config::optional_text")]
    pub otlp_endpoint: Option<String>,
}

/// Every setting, as a dotted path; `BECKON_NOTIFY_` + the path with `.` as `__` sets it.
pub const SETTINGS: &[&str] = &[
    "listen_addr",
    "data_dir",
    "database_url",
    "redis_url",
    "key_prefix",
    "auth_token",
    "seal_keys",
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.username",
    "smtp.password",
    "smtp.pool_size",
    "smtp.timeout_secs",
    "mail_dir",
    "from_address",
    "dkim.selector",
    "dkim.domain",
    "dkim.private_key",
    "dkim.private_key_file",
    "workers",
    "relay_rate",
    "organization_rate",
    "domain_rate",
    "max_attempts",
    "retry_base_ms",
    "retry_max_ms",
    "ack_deadline_ms",
    "dead_letter_after",
    "reconcile_interval_ms",
    "republish_after_ms",
    "max_request_bytes",
    "log_format",
    "max_db_connections",
    "db_acquire_timeout_ms",
    "metrics_addr",
    "shutdown_timeout_secs",
    "otlp_endpoint",
];

/// Settings whose values never appear in the startup log.
const SECRETS: &[&str] = &[
    "auth_token",
    "seal_keys",
    "smtp.password",
    "dkim.private_key",
];

/// The variable that names the configuration file.
pub const CONFIG_VARIABLE: &str = "BECKON_NOTIFY_CONFIG";

/// invite-service's settings whose variables fall in this namespace: an environment shared
/// with invite-service holds them.
const INVITE_SERVICE_VARIABLES: &[&str] = &["BECKON_NOTIFY_ADDR", "BECKON_NOTIFY_TOKEN"];

/// Where notify-service reads its settings from in the environment.
pub fn environment() -> Environment {
    let mut also_allowed = vec![CONFIG_VARIABLE.to_string()];
    also_allowed.extend(INVITE_SERVICE_VARIABLES.iter().map(|name| name.to_string()));
    Environment {
        prefix: "BECKON_NOTIFY_",
        settings: SETTINGS.to_vec(),
        aliases: vec![("REDIS_URL", "redis_url")],
        also_allowed,
        not_ours: Vec::new(),
        suggestions: Vec::new(),
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 8090)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            redis_url: None,
            key_prefix: "beckon".into(),
            auth_token: None,
            seal_keys: None,
            smtp: None,
            mail_dir: None,
            from_address: "Beckon <beckon@localhost>".into(),
            dkim: None,
            workers: 16,
            relay_rate: Rate::new(50, Period::Second, 50),
            organization_rate: Rate::new(20, Period::Second, 20),
            domain_rate: Rate::new(20, Period::Second, 20),
            max_attempts: 8,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            ack_deadline_ms: 60_000,
            dead_letter_after: 5,
            reconcile_interval_ms: 30_000,
            republish_after_ms: None,
            max_request_bytes: 4 * 1024 * 1024,
            log_format: LogFormat::Text,
            max_db_connections: 16,
            db_acquire_timeout_ms: 5000,
            metrics_addr: None,
            shutdown_timeout_secs: 10,
            otlp_endpoint: None,
        }
    }
}

impl Config {
    /// Loads the defaults, then `file` (if given), then the environment, and validates the
    /// result.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        Self::load_over(Config::default(), file)
    }

    /// `load` with other defaults: invite-service running notify-service in-process gives it
    /// its own data folder and database.
    pub fn load_over(
        defaults: Config,
        file: Option<&std::path::Path>,
    ) -> Result<Self, ConfigError> {
        beckon_common::config::load(&defaults, file, &environment(), Config::validate)
    }

    /// The effective configuration as one line for the startup log, secrets hidden.
    pub fn summary(&self) -> String {
        beckon_common::config::summary(self, SECRETS)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, problem: &str| ConfigError::invalid(setting, problem);
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
        if let Some(url) = &self.database_url {
            if !(url.starts_with("sqlite:") || url.starts_with("postgres")) {
                return Err(invalid(
                    "database_url",
                    "must start with sqlite: or postgres://",
                ));
            }
        }
        if let Some(keys) = &self.seal_keys {
            if let Err(err) = crate::seal::SealRing::parse(keys.expose()) {
                return Err(invalid("seal_keys", &format!("{err:#}")));
            }
        }
        if let Some(url) = &self.redis_url {
            if let Err(err) = beckon_redis::check_url(url) {
                return Err(invalid("redis_url", &err.to_string()));
            }
        }
        if self.key_prefix.is_empty()
            || !self
                .key_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(invalid(
                "key_prefix",
                "must be letters, digits, '-', '_' or '.'",
            ));
        }
        if self
            .from_address
            .parse::<lettre::message::Mailbox>()
            .is_err()
        {
            return Err(invalid(
                "from_address",
                "must be an address such as `Beckon <invites@example.com>`",
            ));
        }
        if let Some(dkim) = &self.dkim {
            if let Err((setting, problem)) =
                crate::mail::check_dkim(dkim, &self.message_id_domain())
            {
                return Err(invalid(setting, &problem));
            }
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                return Err(invalid(
                    "smtp.host",
                    "is required when any other smtp setting is given",
                ));
            }
            if smtp.port == Some(0) {
                return Err(invalid("smtp.port", "must be a port between 1 and 65535"));
            }
            if smtp.pool_size == 0 {
                return Err(invalid("smtp.pool_size", "must be at least 1"));
            }
            if !(1..=3600).contains(&smtp.timeout_secs) {
                return Err(invalid("smtp.timeout_secs", "must be between 1 and 3600"));
            }
            if smtp.username.is_some() != smtp.password.is_some() {
                return Err(invalid("smtp.username", "and smtp.password go together"));
            }
        }
        if !(1..=1000).contains(&self.workers) {
            return Err(invalid("workers", "must be between 1 and 1000"));
        }
        if self.max_attempts == 0 || self.dead_letter_after == 0 {
            return Err(invalid(
                "max_attempts",
                "and dead_letter_after must be at least 1",
            ));
        }
        if self.retry_base_ms == 0 || self.retry_max_ms < self.retry_base_ms {
            return Err(invalid(
                "retry_max_ms",
                "must be at least retry_base_ms, which must be positive",
            ));
        }
        if self.ack_deadline_ms < 100 || self.reconcile_interval_ms < 100 {
            return Err(invalid(
                "ack_deadline_ms",
                "and reconcile_interval_ms must be at least 100",
            ));
        }
        if !(100..=600_000).contains(&self.db_acquire_timeout_ms) {
            return Err(invalid(
                "db_acquire_timeout_ms",
                "must be between 100 and 600000",
            ));
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("notify.db").display()
            ),
        }
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.mail_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("mail"))
    }

    pub fn ack_deadline(&self) -> Duration {
        Duration::from_millis(self.ack_deadline_ms)
    }

    /// `republish_after_ms`, or the ack deadline and a quarter of it.
    pub fn republish_after(&self) -> Duration {
        match self.republish_after_ms {
            Some(ms) => Duration::from_millis(ms),
            None => self.ack_deadline() + self.ack_deadline() / 4,
        }
    }

    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }

    /// The domain of the From address: Message-IDs are made under it.
    pub fn message_id_domain(&self) -> String {
        self.from_address
            .parse::<lettre::message::Mailbox>()
            .map(|m| m.email.domain().to_string())
            .unwrap_or_else(|_| "localhost".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_secrets_do_not_print() {
        let mut config = Config::default();
        assert!(config.validate().is_ok());
        config.smtp = Some(SmtpConfig {
            host: "smtp.example.com".into(),
            security: SmtpSecurity::Tls,
            username: Some("beckon".into()),
            password: Some(Secret::new("hunter2")),
            ..SmtpConfig::default()
        });
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!config.summary().contains("hunter2"));
        assert_eq!(config.smtp.as_ref().map(SmtpConfig::port), Some(465));
        assert_eq!(config.message_id_domain(), "localhost");
    }

    /// Every field (every leaf of a fully set configuration) is in `SETTINGS`, so every setting
    /// can come from the environment and no variable is refused that names one.
    #[test]
    fn every_setting_can_come_from_the_environment() {
        let config = Config {
            smtp: Some(SmtpConfig::default()),
            dkim: Some(DkimConfig::default()),
            ..Config::default()
        };
        let value = serde_json::to_value(config).expect("serializable");
        let mut leaves = Vec::new();
        collect_leaves(&value, String::new(), &mut leaves);
        leaves.sort();
        let mut settings: Vec<String> = SETTINGS.iter().map(|s| s.to_string()).collect();
        settings.sort();
        assert_eq!(leaves, settings);
    }

    fn collect_leaves(value: &serde_json::Value, path: String, leaves: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(fields) => {
                for (name, value) in fields {
                    let path = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    collect_leaves(value, path, leaves);
                }
            }
            _ => leaves.push(path),
        }
    }
}
