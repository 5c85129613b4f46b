//! Layered configuration: built-in defaults, then an optional TOML file, then plain aliases
//! such as `DATABASE_URL`, then the service's own prefixed environment variables (nested
//! settings joined with `__`, e.g. `BECKON_NOTIFY_SMTP__HOST`).
//!
//! Every error is one line that names the setting and where its value came from. A variable in
//! the service's namespace that is not one of its settings is refused with the closest known
//! name, as an unknown key in the file is: a typo must not silently fall back to a default.
use std::path::Path;

use figment::{
    error::Kind,
    providers::{Env, Format, Serialized, Toml},
    value::{Dict, Map},
    Figment, Metadata, Profile, Provider,
};
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable in the service's namespace that names no setting.
    #[error("{}", unknown_message(&format!("environment variable {name}"), "a setting", suggestion.as_deref()))]
    UnknownVariable {
        name: String,
        suggestion: Option<String>,
    },
    /// A key in the file (or inside a structured variable) that names no setting.
    #[error("{}", unknown_message(&format!("setting `{key}` ({origin})"), "known", suggestion.as_deref()))]
    UnknownKey {
        key: String,
        origin: String,
        suggestion: Option<String>,
    },
    /// A value that could not be read as its setting's type.
    #[error("setting `{setting}` ({origin}): {problem}")]
    Unreadable {
        setting: String,
        origin: String,
        problem: String,
    },
    /// A value that was read but is not allowed. `origin` is filled in by `load`.
    #[error("setting `{setting}`{} {problem}", origin.as_ref().map(|o| format!(" ({o})")).unwrap_or_default())]
    Invalid {
        setting: &'static str,
        origin: Option<String>,
        problem: String,
    },
    /// `--config` (or its variable) names a file that is not there.
    #[error("the configuration file {0} does not exist")]
    MissingFile(String),
}

fn unknown_message(what: &str, known_as: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(suggestion) => format!("{what} is not {known_as}; did you mean {suggestion}?"),
        None => format!("{what} is not {known_as}; the README lists every setting"),
    }
}

impl ConfigError {
    pub fn invalid(setting: &'static str, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            setting,
            origin: None,
            problem: problem.into(),
        }
    }
}

/// Where a service takes its settings from in the environment.
#[derive(Clone, Debug)]
pub struct Environment {
    /// The service's namespace, e.g. `BECKON_` or `BECKON_NOTIFY_`.
    pub prefix: &'static str,
    /// Every setting as a dotted path (`smtp.host`); each is `prefix` + the path with `.`
    /// written `__`, in capitals.
    pub settings: Vec<&'static str>,
    /// Plain variables that also set a setting, e.g. (`DATABASE_URL`, `database_url`). The
    /// prefixed variable wins when both are set.
    pub aliases: Vec<(&'static str, &'static str)>,
    /// Variables in the namespace that are not settings but are expected there (the config file
    /// variable, the command-line client's variables).
    pub also_allowed: Vec<String>,
    /// Parts of the namespace that belong to someone else, e.g. `BECKON_NOTIFY_` inside
    /// `BECKON_`: they are neither read nor refused.
    pub not_ours: Vec<&'static str>,
    /// More names offered when suggesting what a mistyped variable meant (e.g. another
    /// service's that shares the namespace).
    pub suggestions: Vec<String>,
}

const NESTING: &str = "__";

impl Environment {
    /// The variable that sets `setting` (a dotted path).
    pub fn variable(&self, setting: &str) -> String {
        format!(
            "{}{}",
            self.prefix,
            setting.replace('.', NESTING).to_ascii_uppercase()
        )
    }

    /// Every variable this service reads: settings, aliases and the others allowed.
    pub fn variables(&self) -> Vec<String> {
        let mut names: Vec<String> = self.settings.iter().map(|s| self.variable(s)).collect();
        names.extend(self.aliases.iter().map(|(name, _)| name.to_string()));
        names.extend(self.also_allowed.iter().cloned());
        names
    }

    /// Whether `key` (below the prefix, dotted, lower case) is a setting or a section of them
    /// (`smtp`, which a variable may set whole as `{host="…", port=25}`).
    fn is_setting(&self, key: &str) -> bool {
        self.settings.iter().any(|setting| {
            *setting == key
                || setting
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// The first variable in `variables` that is in the namespace but is no setting.
    fn refuse_unknown(
        &self,
        variables: impl IntoIterator<Item = String>,
    ) -> Result<(), ConfigError> {
        let allowed: Vec<String> = self
            .also_allowed
            .iter()
            .map(|name| name.to_ascii_uppercase())
            .collect();
        let mut unknown: Vec<String> = variables
            .into_iter()
            .map(|name| name.to_ascii_uppercase())
            .filter(|name| name.starts_with(self.prefix))
            .filter(|name| !self.not_ours.iter().any(|other| name.starts_with(other)))
            .filter(|name| !allowed.contains(name))
            .filter(|name| {
                let key = name[self.prefix.len()..]
                    .replace(NESTING, ".")
                    .to_ascii_lowercase();
                !self.is_setting(&key)
            })
            .collect();
        // The same answer whatever order the environment lists its variables in.
        unknown.sort();
        match unknown.into_iter().next() {
            None => Ok(()),
            Some(name) => {
                let mut candidates = self.variables();
                candidates.extend(self.suggestions.iter().cloned());
                let suggestion = closest(&name, &candidates, |n| {
                    n.strip_prefix("BECKON_").unwrap_or(n)
                });
                Err(ConfigError::UnknownVariable { name, suggestion })
            }
        }
    }
}

/// The candidate most like `name`, if any is like it at all. `core` takes off what every name
/// shares, which would otherwise make unrelated names look alike.
fn closest(name: &str, candidates: &[String], core: impl Fn(&str) -> &str) -> Option<String> {
    candidates
        .iter()
        .map(|candidate| {
            let score = strsim::normalized_damerau_levenshtein(
                &core(name).to_ascii_lowercase(),
                &core(candidate).to_ascii_lowercase(),
            );
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.clone())
}

/// A provider under the name an operator knows it by (e.g. `DATABASE_URL`), so errors about
/// its value say where the value came from.
struct Named<P> {
    name: String,
    provider: P,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.provider.data()
    }
}

const ENVIRONMENT_SOURCE: &str = "environment";

/// `defaults`, then `file` (which must exist when named), then the environment as described by
/// `environment`; then `validate`. Every error names its setting and where its value came from.
pub fn load<T: Serialize + DeserializeOwned>(
    defaults: &T,
    file: Option<&Path>,
    environment: &Environment,
    validate: impl FnOnce(&T) -> Result<(), ConfigError>,
) -> Result<T, ConfigError> {
    environment
        .refuse_unknown(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
    let mut figment = Figment::from(Serialized::defaults(defaults));
    if let Some(file) = file {
        if !file.is_file() {
            return Err(ConfigError::MissingFile(file.display().to_string()));
        }
        figment = figment.merge(Toml::file(file));
    }
    for &(alias, setting) in &environment.aliases {
        figment = figment.merge(Named {
            name: alias.to_string(),
            provider: Env::raw().only(&[alias]).map(move |_| setting.into()),
        });
    }
    let settings = environment.clone();
    figment = figment.merge(Named {
        name: ENVIRONMENT_SOURCE.to_string(),
        provider: Env::prefixed(environment.prefix)
            .split(NESTING)
            .filter(move |key| settings.is_setting(&key.as_str().to_ascii_lowercase())),
    });
    let config: T = figment
        .extract()
        .map_err(|err| describe(err, &figment, environment))?;
    validate(&config).map_err(|err| match err {
        ConfigError::Invalid {
            setting,
            origin: None,
            problem,
        } => ConfigError::Invalid {
            setting,
            origin: origin_of(&figment, setting, environment),
            problem,
        },
        other => other,
    })?;
    Ok(config)
}

/// Where the value of `setting` came from, in the operator's words; none for a default.
fn origin_of(figment: &Figment, setting: &str, environment: &Environment) -> Option<String> {
    let metadata = figment.find_metadata(setting)?;
    origin(metadata, setting, environment)
}

fn origin(metadata: &Metadata, setting: &str, environment: &Environment) -> Option<String> {
    if let Some(path) = metadata.source.as_ref().and_then(|s| s.file_path()) {
        return Some(format!("in {}", path.display()));
    }
    match metadata.name.as_ref() {
        ENVIRONMENT_SOURCE => Some(format!("from {}", environment.variable(setting))),
        name if environment.aliases.iter().any(|(alias, _)| *alias == name) => {
            Some(format!("from {name}"))
        }
        _ => None,
    }
}

/// One line for the first thing figment could not read.
fn describe(err: figment::Error, figment: &Figment, environment: &Environment) -> ConfigError {
    let Some(err) = err.into_iter().next() else {
        return ConfigError::invalid("configuration", "could not be read");
    };
    let path = err.path.join(".");
    let origin_at = |key: &str| {
        origin_of(figment, key, environment)
            .or_else(|| {
                err.metadata
                    .as_ref()
                    .and_then(|m| origin(m, key, environment))
            })
            .unwrap_or_else(|| "as given".to_string())
    };
    match &err.kind {
        Kind::UnknownField(field, expected) => {
            // figment's path may or may not end with the unknown key itself.
            let mut parent = err.path.clone();
            if parent.last() == Some(field) {
                parent.pop();
            }
            let path = parent.join(".");
            let key = if path.is_empty() {
                field.clone()
            } else {
                format!("{path}.{field}")
            };
            let origin = origin_at(&key);
            let candidates: Vec<String> = expected
                .iter()
                .map(|name| {
                    if path.is_empty() {
                        name.to_string()
                    } else {
                        format!("{path}.{name}")
                    }
                })
                .collect();
            let suggestion = closest(&key, &candidates, |n| n).map(|s| format!("`{s}`"));
            ConfigError::UnknownKey {
                key,
                origin,
                suggestion,
            }
        }
        Kind::UnknownVariant(found, expected) => ConfigError::Unreadable {
            origin: origin_at(&path),
            setting: path,
            problem: format!("`{found}` is not one of {}", expected.join(", ")),
        },
        kind => ConfigError::Unreadable {
            origin: origin_at(&path),
            setting: if path.is_empty() {
                "configuration".into()
            } else {
                path
            },
            problem: kind.to_string().replace('\n', " "),
        },
    }
}

/// The effective configuration as one line of JSON for the startup log: every secret (and the
/// password in any URL) replaced by `<secret>`.
pub fn summary<T: Serialize>(config: &T, secrets: &[&str]) -> String {
    let mut value = match serde_json::to_value(config) {
        Ok(value) => value,
        Err(err) => return format!("unprintable: {err}"),
    };
    for secret in secrets {
        let mut slot = Some(&mut value);
        for part in secret.split('.') {
            slot = slot.and_then(|v| v.get_mut(part));
        }
        if let Some(slot) = slot {
            if !slot.is_null() {
                *slot = serde_json::Value::String("<secret>".into());
            }
        }
    }
    hide_url_passwords(&mut value);
    value.to_string()
}

fn hide_url_passwords(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let Some(hidden) = without_url_password(text) {
                *text = hidden;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(hide_url_passwords),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(hide_url_passwords),
        _ => {}
    }
}

/// `scheme://user:password@host…` with the password replaced; `None` when there is none.
fn without_url_password(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (user_info, _) = rest[..authority_end].rsplit_once('@')?;
    let (user, _) = user_info.split_once(':')?;
    let host_and_rest = &rest[user_info.len()..];
    Some(format!("{scheme}://{user}:<secret>{host_and_rest}"))
}

/// Reads text settings from the environment as text even when they look like numbers or
/// booleans (a password `123456`, a key prefix `2024`): figment types variables by their look.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(TextLike::deserialize(deserializer)?.0)
}

/// `text` for optional settings.
pub fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<TextLike>::deserialize(deserializer)?.map(|t| t.0))
}

struct TextLike(String);

impl<'de> Deserialize<'de> for TextLike {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = TextLike;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }

            fn visit_char<E: serde::de::Error>(self, v: char) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }

            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }

            fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }

            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<TextLike, E> {
                Ok(TextLike(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment() -> Environment {
        Environment {
            prefix: "BECKON_",
            settings: vec!["listen_addr", "smtp.host", "smtp.port"],
            aliases: vec![("DATABASE_URL", "database_url")],
            also_allowed: vec!["BECKON_CONFIG".into()],
            not_ours: vec!["BECKON_NOTIFY_", "BECKON_TEST_"],
            suggestions: vec!["BECKON_NOTIFY_WORKERS".into()],
        }
    }

    fn refused(names: &[&str]) -> Option<String> {
        environment()
            .refuse_unknown(names.iter().map(|n| n.to_string()))
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn unknown_variables_in_the_namespace_are_refused_with_the_closest_name() {
        assert_eq!(
            refused(&[
                "BECKON_LISTEN_ADDR",
                "BECKON_SMTP__HOST",
                "BECKON_SMTP",
                "BECKON_CONFIG",
                "BECKON_NOTIFY_ANYTHING",
                "BECKON_TEST_POSTGRES_URL",
                "DATABASE_URL",
                "PATH",
            ]),
            None
        );
        assert_eq!(
            refused(&["BECKON_LISTEN_ADR"]).as_deref(),
            Some(
                "environment variable BECKON_LISTEN_ADR is not a setting; did you mean BECKON_LISTEN_ADDR?"
            )
        );
        let err = refused(&["BECKON_SMTP_PORT"]).expect("refused");
        assert!(err.contains("did you mean BECKON_SMTP__PORT?"), "{err}");
        let err = refused(&["BECKON_NOTIFI_WORKERS"]).expect("refused");
        assert!(err.contains("did you mean BECKON_NOTIFY_WORKERS?"), "{err}");
        let err = refused(&["BECKON_ZZZZZZZZZZZZ"]).expect("refused");
        assert!(err.ends_with("the README lists every setting"), "{err}");
    }

    #[test]
    fn summaries_hide_secrets_and_url_passwords() {
        let config = serde_json::json!({
            "token": "hunter2",
            "unset": null,
            "smtp": { "password": "swordfish", "host": "mail" },
            "database_url": "postgres://beckon:pa55@db:5432/beckon",
            "redis_url": "redis://cache:6379",
        });
        let line = summary(&config, &["token", "unset", "smtp.password"]);
        for secret in ["hunter2", "swordfish", "pa55"] {
            assert!(!line.contains(secret), "{line}");
        }
        assert!(
            line.contains("postgres://beckon:<secret>@db:5432/beckon"),
            "{line}"
        );
        assert!(line.contains("redis://cache:6379"), "{line}");
        assert!(line.contains("\"unset\":null"), "{line}");
    }
}
