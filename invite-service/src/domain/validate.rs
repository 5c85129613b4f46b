//! Input checks that collect every bad field at once, so a caller fixes them in one go.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::email::{Email, EmailError};
use crate::error::{FieldViolation, ServiceError};

pub const MAX_TITLE: usize = 200;
pub const MAX_NAME: usize = 200;
pub const MAX_EMAIL: usize = 254;
pub const MAX_MESSAGE: usize = 2000;
pub const MAX_URL: usize = 2048;
pub const MAX_LABEL: usize = 64;
/// An interview's longest length: a day.
pub const MAX_DURATION_MINUTES: u32 = 24 * 60;
pub const MAX_LABELS: usize = 20;
pub const MAX_ASSIGNEES: usize = 20;
pub const MAX_EXTERNAL_ID: usize = 255;
pub const MAX_PAGE_SIZE: i32 = 1000;
pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// Collects field violations; `finish` turns them into one INVALID_ARGUMENT.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    pub fn finish(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidArgument(self.0))
        }
    }

    /// Text that may end up in an email header or a page title: one line, bounded.
    pub fn single_line(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
        if value.chars().any(|c| c.is_control()) {
            self.add(field, "must be a single line without control characters");
        }
        value.to_string()
    }

    /// Like `single_line`, but must not be empty.
    pub fn required_line(&mut self, field: &str, value: &str, max: usize) -> String {
        if value.trim().is_empty() {
            self.add(field, "is required");
        }
        self.single_line(field, value, max)
    }

    /// Free text such as a custom message: may span lines, but no other control characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.add(field, "must not contain control characters");
        }
        value.to_string()
    }

    /// An email address, lower-cased. `None` when empty (callers decide whether it is
    /// required) or when refused, a violation then being recorded.
    pub fn email(&mut self, field: &str, value: &str) -> Option<Email> {
        match Email::parse(value) {
            Ok(email) => Some(email),
            Err(EmailError::Empty) => None,
            Err(EmailError::TooLong) => {
                self.add(field, format!("must be at most {MAX_EMAIL} characters"));
                None
            }
            Err(EmailError::Malformed) => {
                self.add(field, "must be an email address such as ada@example.com");
                None
            }
        }
    }

    /// Like `email`, but must be given. `None` only with a violation recorded, so after a
    /// successful `finish` it is `Some`; `finish_with` turns it into the value.
    pub fn required_email(&mut self, field: &str, value: &str) -> Option<Email> {
        if value.trim().is_empty() {
            self.add(field, "is required");
            return None;
        }
        self.email(field, value)
    }

    /// `finish`, then the value of a required field checked on the way (`None` only with a
    /// violation recorded; without one it is still refused rather than trusted).
    pub fn finish_with<T>(self, field: &str, value: Option<T>) -> Result<T, ServiceError> {
        self.finish()?;
        value.ok_or_else(|| {
            ServiceError::InvalidArgument(vec![FieldViolation {
                field: field.to_string(),
                description: "is required".to_string(),
            }])
        })
    }

    /// An absolute http(s) URL.
    pub fn http_url(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, "is required");
            return String::new();
        }
        if value.len() > MAX_URL {
            self.add(field, format!("must be at most {MAX_URL} characters"));
            return String::new();
        }
        match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                url.to_string()
            }
            _ => {
                self.add(field, "must be an absolute http or https URL");
                String::new()
            }
        }
    }

    /// A caller's own id for a row (e.g. an ATS application id): spaces at either end are
    /// dropped, then 1 to `MAX_EXTERNAL_ID` characters without control characters. Empty
    /// stays empty (`None`): callers decide whether it is required.
    pub fn external_id(&mut self, field: &str, value: &str) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.add(field, "must not be blank; leave it empty for none");
            return None;
        }
        if trimmed.chars().count() > MAX_EXTERNAL_ID {
            self.add(
                field,
                format!("must be at most {MAX_EXTERNAL_ID} characters"),
            );
            return None;
        }
        if trimmed.chars().any(char::is_control) {
            self.add(
                field,
                "must not contain control characters such as line breaks",
            );
            return None;
        }
        Some(trimmed.to_string())
    }

    /// An interview's length: 1 to 1440 minutes; `Some(None)` for 0 (not given).
    pub fn duration_minutes(&mut self, field: &str, minutes: u32) -> Option<Option<i32>> {
        match minutes {
            0 => Some(None),
            1..=MAX_DURATION_MINUTES => Some(Some(minutes as i32)),
            _ => {
                self.add(
                    field,
                    format!("must be 1 to {MAX_DURATION_MINUTES} minutes"),
                );
                None
            }
        }
    }

    /// An IANA time zone name, kept as the database names it; empty: none (UTC).
    pub fn time_zone(&mut self, field: &str, value: &str) -> Option<String> {
        if value.trim().is_empty() {
            return None;
        }
        match super::time_zone::TimeZone::parse(value) {
            Ok(zone) => Some(zone.name().to_string()),
            Err(problem) => {
                self.add(field, problem);
                None
            }
        }
    }

    /// A language: a BCP 47 tag of a shipped locale, kept canonical (`pt-br` is `pt-BR`);
    /// empty: none (the next in line decides).
    pub fn locale(&mut self, field: &str, value: &str) -> Option<String> {
        if value.trim().is_empty() {
            return None;
        }
        match beckon_i18n::Locale::canonical_tag(value) {
            Ok(tag) => Some(tag),
            Err(refused) => {
                self.add(field, refused.to_string());
                None
            }
        }
    }

    /// A resource id. Malformed ids are a caller's mistake, not a missing resource.
    pub fn id(&mut self, field: &str, value: &str) -> Uuid {
        if value.trim().is_empty() {
            self.add(field, "is required");
            return Uuid::nil();
        }
        match Uuid::parse_str(value.trim()) {
            Ok(id) => id,
            Err(_) => {
                self.add(field, "must be an id as returned by this API (a UUID)");
                Uuid::nil()
            }
        }
    }

    /// AIP-155: request ids are UUIDs. Their randomness also keeps sealed answers secret.
    pub fn request_id(&mut self, value: &str) -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        match Uuid::parse_str(value) {
            Ok(id) => Some(id.hyphenated().to_string()),
            Err(_) => {
                self.add("request_id", "must be a UUID");
                None
            }
        }
    }

    pub fn page_size(&mut self, value: i32) -> u64 {
        match value {
            0 => DEFAULT_PAGE_SIZE,
            1..=MAX_PAGE_SIZE => value as u64,
            _ => {
                self.add(
                    "page_size",
                    format!("must be between 1 and {MAX_PAGE_SIZE}, or 0 for the default"),
                );
                DEFAULT_PAGE_SIZE
            }
        }
    }

    pub fn labels(&mut self, field: &str, values: &[String]) -> Vec<String> {
        if values.len() > MAX_LABELS {
            self.add(field, format!("at most {MAX_LABELS} labels"));
        }
        let mut labels: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, label)| self.required_line(&format!("{field}[{i}]"), label, MAX_LABEL))
            .collect();
        labels.sort();
        labels.dedup();
        labels
    }

    pub fn future_time(&mut self, field: &str, at: DateTime<Utc>, now: DateTime<Utc>) {
        if at <= now {
            self.add(field, "must be in the future");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_bad_field() {
        let mut v = Violations::new();
        v.required_line("title", "", MAX_TITLE);
        v.single_line("name", "Ada\r\nBcc: x@y.z", MAX_NAME);
        v.email("email", "not-an-email");
        v.page_size(5000);
        match v.finish() {
            Err(ServiceError::InvalidArgument(list)) => {
                let fields: Vec<_> = list.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(fields, ["title", "name", "email", "page_size"]);
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn external_ids_are_trimmed_bounded_and_printable() {
        let mut v = Violations::new();
        assert_eq!(v.external_id("external_id", ""), None);
        assert_eq!(
            v.external_id("external_id", " app-42 "),
            Some("app-42".to_string())
        );
        let longest = "é".repeat(MAX_EXTERNAL_ID);
        assert_eq!(
            v.external_id("external_id", &longest),
            Some(longest.clone())
        );
        assert!(v.finish().is_ok());
        for bad in ["   ", "a\nb", "tab\there", &"x".repeat(MAX_EXTERNAL_ID + 1)] {
            let mut v = Violations::new();
            assert_eq!(v.external_id("external_id", bad), None, "{bad:?}");
            assert!(v.finish().is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn good_input_is_normalised() {
        let mut v = Violations::new();
        assert_eq!(
            v.email("email", " Ada@Example.COM ")
                .map(Email::into_string),
            Some("ada@example.com".to_string())
        );
        assert_eq!(
            v.labels("labels", &["b".into(), "a".into(), "b".into()]),
            ["a", "b"]
        );
        assert!(v.finish().is_ok());
    }
}
