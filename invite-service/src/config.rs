//! Configuration: built-in defaults, then an optional TOML file, then `BECKON_*` environment
//! variables (and `DATABASE_URL`). Checked once at start, with messages that name the setting.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

pub use notify_service::config::Secret;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
}

/// The names of `Config`'s fields, as `BECKON_<NAME>` environment variables set them.
const SETTINGS: &[&str] = &[
    "listen_addr",
    "public_base_url",
    "data_dir",
    "database_url",
    "cors_origins",
    "max_request_bytes",
    "request_timeout_secs",
    "log_format",
    "max_db_connections",
    "link_secret",
    "notify_addr",
    "notify_token",
    "relay_interval_ms",
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
            link_secret: None,
            notify_addr: None,
            notify_token: None,
            relay_interval_ms: 500,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration setting `{setting}` {problem}")]
    Invalid {
        setting: &'static str,
        problem: String,
    },
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment, and validates the result.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid {
                    setting: "--config",
                    problem: format!("names a file that does not exist: {}", file.display()),
                });
            }
            figment = figment.merge(Toml::file(file));
        }
        // Only our own settings: other tools (invitectl, tests) read BECKON_* variables too.
        figment = figment
            .merge(Env::prefixed("BECKON_").only(SETTINGS))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            );
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting, problem: &str| ConfigError::Invalid {
            setting,
            problem: problem.to_string(),
        };
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
                return Err(ConfigError::Invalid {
                    setting: "cors_origins",
                    problem: format!(
                        "has `{origin}`, which is not an origin such as chrome-extension://abcdef or https://ats.example.com"
                    ),
                });
            }
        }
        if self.max_request_bytes < 4096 || self.max_request_bytes > 64 * 1024 * 1024 {
            return Err(invalid(
                "max_request_bytes",
                "must be between 4096 and 67108864",
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
        if !(10..=60_000).contains(&self.relay_interval_ms) {
            return Err(invalid("relay_interval_ms", "must be between 10 and 60000"));
        }
        if !(1..=1000).contains(&self.max_db_connections) {
            return Err(invalid("max_db_connections", "must be between 1 and 1000"));
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
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
