//! Layered configuration: built-in defaults, then an optional TOML file, then the environment.
use std::path::Path;

use figment::{
    providers::{Format, Serialized, Toml},
    Figment,
};
use serde::{de::DeserializeOwned, Serialize};

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

impl ConfigError {
    pub fn invalid(setting: &'static str, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            setting,
            problem: problem.into(),
        }
    }
}

/// `defaults`, then `file` (which must exist when named), then what `environment` adds.
pub fn load<T: Serialize + DeserializeOwned>(
    defaults: &T,
    file: Option<&Path>,
    environment: impl FnOnce(Figment) -> Figment,
) -> Result<T, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(defaults));
    if let Some(file) = file {
        if !file.exists() {
            return Err(ConfigError::invalid(
                "--config",
                format!("names a file that does not exist: {}", file.display()),
            ));
        }
        figment = figment.merge(Toml::file(file));
    }
    Ok(environment(figment).extract().map_err(Box::new)?)
}
