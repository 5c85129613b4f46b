//! What Beckon's services share: layered configuration, database pools, text-backed enums and
//! secrets.
pub mod config;
pub mod db;
pub mod paging;
pub mod progress;

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

/// Declares an enum stored as short text: `as_str` gives the text, `parse` reads it back, `ALL`
/// lists the variants.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    text_enum!(Colour { Red = "red", Blue = "blue" });

    #[test]
    fn text_enums_round_trip_and_secrets_do_not_print() {
        for colour in Colour::ALL {
            assert_eq!(Colour::parse(colour.as_str()), Some(*colour));
        }
        assert_eq!(Colour::parse("green"), None);
        assert_eq!(format!("{:?}", super::Secret::new("hunter2")), "<secret>");
    }
}
