//! What Beckon's services share: layered configuration, database pools, paging, progress and
//! secrets.
pub mod config;
pub mod db;
pub mod health;
pub mod metrics;
pub mod paging;
pub mod progress;
pub mod reachability;
pub mod shutdown;
pub mod telemetry;

/// `Display` for enums stored as text (sea-orm's `DeriveActiveEnum`): shows the stored text, for
/// audit details, logs and messages.
#[macro_export]
macro_rules! display_as_stored {
    ($($name:ty),+ $(,)?) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&sea_orm::ActiveEnum::to_value(self))
            }
        }
    )+};
}

/// A credential from configuration: never printed, never logged.
#[derive(Clone, serde::Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl<'de> serde::Deserialize<'de> for Secret {
    /// As text even when it looks like a number (a password `123456` in a variable).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        config::text(deserializer).map(Secret)
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", super::Secret::new("hunter2")), "<secret>");
    }
}
