//! A checked email address: the compiler keeps unchecked text out of the places that need one.
use std::fmt;

use super::validate::MAX_EMAIL;

/// A trimmed, lower-cased address that passed the same check as every request field. The
/// field is private, so the only ways in are `parse` (used by `Violations::email`) and
/// `from_stored` for text read back from the database.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why text is not an `Email`; the caller words it for its own field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailError {
    Empty,
    TooLong,
    Malformed,
}

impl Email {
    /// Checks and lower-cases `raw`, trimmed.
    pub(crate) fn parse(raw: &str) -> Result<Email, EmailError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(EmailError::Empty);
        }
        if value.len() > MAX_EMAIL {
            return Err(EmailError::TooLong);
        }
        if value.chars().any(|c| c.is_control() || c.is_whitespace())
            || !email_address::EmailAddress::is_valid(value)
            || !value.contains('@')
        {
            return Err(EmailError::Malformed);
        }
        Ok(Email(value.to_lowercase()))
    }

    /// An address read back from a column that only ever held checked ones; checked again,
    /// so bad data is an error rather than a silently trusted value.
    pub fn from_stored(text: &str) -> Result<Email, EmailError> {
        Self::parse(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Debug as the bare text: page tokens fingerprint filters by their `Debug` form, so tokens
/// issued before this type existed stay valid.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_trims_and_lower_cases() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").map(Email::into_string),
            Ok("ada@example.com".to_string())
        );
    }

    #[test]
    fn parse_refuses_empty_long_and_malformed_text() {
        assert_eq!(Email::parse("  "), Err(EmailError::Empty));
        assert_eq!(Email::parse("not-an-email"), Err(EmailError::Malformed));
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn debug_is_the_bare_text_that_page_tokens_fingerprint() {
        let email = Email::parse("ada@example.com").ok();
        assert_eq!(format!("{email:?}"), r#"Some("ada@example.com")"#);
    }
}
