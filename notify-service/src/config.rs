//! Configuration: built-in defaults, then an optional TOML file, then `BECKON_NOTIFY_*`
//! environment variables (nested settings with `__`, e.g. `BECKON_NOTIFY_SMTP__HOST`), and
//! `REDIS_URL`. Checked once at start.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::providers::Env;
use serde::{Deserialize, Serialize};

pub use beckon_common::Secret;

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

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Connections kept open to the server.
    pub pool_size: u32,
    pub timeout_secs: u64,
}

/// A rate: `per_second` on average, up to `burst` at once.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Messages sent at the same time by this replica.
    pub workers: usize,
    /// For the SMTP relay as a whole, shared by every replica.
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
    /// An unfinished delivery published longer ago than this is published again (the queue
    /// may have lost it: Redis restarted empty, or the in-process queue with its process).
    pub republish_after_ms: u64,
    pub max_request_bytes: usize,
    pub log_format: LogFormat,
    pub max_db_connections: u32,
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
            workers: 16,
            relay_rate: Rate {
                per_second: 50.0,
                burst: 50,
            },
            organization_rate: Rate {
                per_second: 20.0,
                burst: 20,
            },
            domain_rate: Rate {
                per_second: 20.0,
                burst: 20,
            },
            max_attempts: 8,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            ack_deadline_ms: 60_000,
            dead_letter_after: 5,
            reconcile_interval_ms: 30_000,
            republish_after_ms: 600_000,
            max_request_bytes: 4 * 1024 * 1024,
            log_format: LogFormat::Text,
            max_db_connections: 16,
        }
    }
}

pub use beckon_common::config::ConfigError;

impl Config {
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let config = beckon_common::config::load(&Config::default(), file, |figment| {
            figment
                .merge(
                    Env::prefixed("BECKON_NOTIFY_")
                        .ignore(&["config"])
                        .split("__"),
                )
                .merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis_url".into()))
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, problem: &str| ConfigError::Invalid {
            setting,
            problem: problem.to_string(),
        };
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
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(invalid(
                    "redis_url",
                    "must start with redis:// or rediss://",
                ));
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
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                return Err(invalid("smtp.host", "is required when smtp is set"));
            }
            if smtp.pool_size == 0 {
                return Err(invalid("smtp.pool_size", "must be at least 1"));
            }
            if smtp.username.is_some() != smtp.password.is_some() {
                return Err(invalid("smtp.username", "and smtp.password go together"));
            }
        }
        for (setting, rate) in [
            ("relay_rate", self.relay_rate),
            ("organization_rate", self.organization_rate),
            ("domain_rate", self.domain_rate),
        ] {
            if !(rate.per_second > 0.0 && rate.per_second <= 1_000_000.0) || rate.burst == 0 {
                return Err(invalid(
                    setting,
                    "needs per_second between 0 and 1000000 and a burst of at least 1",
                ));
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
            port: 465,
            security: SmtpSecurity::Tls,
            username: Some("beckon".into()),
            password: Some(Secret::new("hunter2")),
            pool_size: 4,
            timeout_secs: 30,
        });
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(config.message_id_domain(), "localhost");
    }
}
