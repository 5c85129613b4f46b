//! What notify-service's words mean: kinds of message, delivery states, the template variables
//! a message may carry and how each is checked.
use std::collections::BTreeMap;

use beckon_i18n::Locale;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{FieldViolation, NotifyError};

// Declared with the schema, which fixes the text each is stored as; what they mean is here.
pub use crate::db::values::{DeliveryState, MessageKind};

impl MessageKind {
    /// A candidate's own mail: what an unsubscribe from an organization stops.
    pub fn is_to_candidate(self) -> bool {
        match self {
            MessageKind::Invite
            | MessageKind::Resend
            | MessageKind::PublicRegistration
            | MessageKind::Reminder
            | MessageKind::Rescheduled
            | MessageKind::Cancelled => true,
            MessageKind::TeamStarted
            | MessageKind::TeamSubmitted
            | MessageKind::InviterCopy
            | MessageKind::WebhookDisabled
            | MessageKind::TeamRenewalRequested => false,
        }
    }
}

impl DeliveryState {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Sent | DeliveryState::Failed | DeliveryState::Suppressed
        )
    }

    /// States a worker still has to act on.
    pub const PENDING: &'static [DeliveryState] = &[DeliveryState::Queued, DeliveryState::Deferred];
}

/// How a template variable's value is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VariableRule {
    /// May end up in a header (a subject, a display name): one line.
    Line,
    /// Free text in a body: several lines allowed.
    Text,
    /// An absolute http(s) URL.
    Url,
    /// An email address (it also becomes a header).
    Email,
}

/// Every variable a template may use, and the rule its value follows.
const VARIABLES: &[(&str, VariableRule)] = &[
    ("candidate_name", VariableRule::Line),
    ("candidate_first_name", VariableRule::Line),
    ("position_title", VariableRule::Line),
    ("link", VariableRule::Url),
    ("organization_name", VariableRule::Line),
    ("custom_message", VariableRule::Text),
    ("inviter_name", VariableRule::Line),
    // Also the Reply-To: the candidate's answer goes to who invited them.
    ("inviter_email", VariableRule::Email),
    // Also the List-Unsubscribe header (RFC 8058 one-click): on mail sent in bulk.
    ("unsubscribe_url", VariableRule::Url),
    ("recipient_name", VariableRule::Line),
    ("invite_id", VariableRule::Line),
    // Times, each already in its reader's time zone, named, with its offset.
    ("link_expires", VariableRule::Line),
    ("event_time", VariableRule::Line),
    // A live interview: when, in the candidate's zone; and its calendar invitation.
    ("scheduled_local", VariableRule::Line),
    ("calendar_uid", VariableRule::Line),
    ("calendar_start", VariableRule::Line),
    ("calendar_minutes", VariableRule::Line),
    ("calendar_sequence", VariableRule::Line),
    ("calendar_summary", VariableRule::Line),
    ("webhook_endpoint_id", VariableRule::Line),
    ("webhook_url", VariableRule::Url),
    // Endpoint descriptions may hold several lines; they appear only in bodies.
    ("webhook_description", VariableRule::Text),
    ("webhook_disabled_reason", VariableRule::Line),
];

pub fn variable_names() -> impl Iterator<Item = &'static str> {
    VARIABLES.iter().map(|(name, _)| *name)
}

pub fn is_known_variable(name: &str) -> bool {
    VARIABLES.iter().any(|(known, _)| *known == name)
}

const MAX_LINE: usize = 300;
const MAX_TEXT: usize = 5000;
const MAX_KEY: usize = 200;

/// A message that passed validation, ready to be stored.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub idempotency_key: String,
    pub org_id: Uuid,
    pub kind: MessageKind,
    pub recipient: String,
    pub recipient_name: String,
    pub variables: BTreeMap<String, String>,
    pub not_before: Option<DateTime<Utc>>,
    pub invite_id: String,
    pub cohort_id: String,
    /// The sender's W3C trace context, when it gave a valid one.
    pub traceparent: Option<String>,
    /// The language it is written in.
    pub locale: Locale,
}

/// The raw fields of a message, as they arrive.
pub struct RawMessage<'a> {
    pub idempotency_key: &'a str,
    pub organization_id: &'a str,
    pub kind: Option<MessageKind>,
    pub recipient: &'a str,
    pub recipient_name: &'a str,
    pub variables: &'a std::collections::HashMap<String, String>,
    pub not_before: Option<DateTime<Utc>>,
    pub invite_id: &'a str,
    pub cohort_id: &'a str,
    pub traceparent: &'a str,
    /// Empty: English.
    pub locale: &'a str,
}

fn single_line_ok(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(
            "must be one line without control characters (CR/LF never reach a header)".into(),
        );
    }
    Ok(())
}

pub fn email_ok(value: &str) -> bool {
    value.len() <= 254
        && !value.chars().any(|c| c.is_control() || c.is_whitespace())
        && email_address::EmailAddress::is_valid(value)
}

/// Checks one message; `field` prefixes the names in violations (e.g. `messages[3]`).
pub fn validate_message(
    field: &str,
    raw: RawMessage<'_>,
    violations: &mut Vec<FieldViolation>,
) -> Option<NewMessage> {
    let mut bad = |name: &str, description: String| {
        violations.push(FieldViolation {
            field: format!("{field}.{name}"),
            description,
        })
    };
    let mut ok = true;
    let key = raw.idempotency_key.trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        bad(
            "idempotency_key",
            format!("must be 1 to {MAX_KEY} printable ASCII characters without spaces"),
        );
        ok = false;
    }
    let org_id = match Uuid::parse_str(raw.organization_id.trim()) {
        Ok(id) => id,
        Err(_) => {
            bad(
                "organization_id",
                "must be an organization id (a UUID)".into(),
            );
            ok = false;
            Uuid::nil()
        }
    };
    let Some(kind) = raw.kind else {
        bad("kind", "must be a known MessageKind".into());
        return None;
    };
    let recipient = raw.recipient.trim().to_lowercase();
    if !email_ok(&recipient) {
        bad(
            "recipient",
            "must be an email address such as ada@example.com".into(),
        );
        ok = false;
    }
    if let Err(problem) = single_line_ok(raw.recipient_name.trim(), MAX_LINE) {
        bad("recipient_name", problem);
        ok = false;
    }
    let mut variables = BTreeMap::new();
    for (name, value) in raw.variables {
        let Some((_, rule)) = VARIABLES.iter().find(|(known, _)| known == name) else {
            bad(
                &format!("variables.{name}"),
                format!(
                    "is not a template variable; known: {}",
                    variable_names().collect::<Vec<_>>().join(", ")
                ),
            );
            ok = false;
            continue;
        };
        let problem = match rule {
            VariableRule::Line => single_line_ok(value.trim(), MAX_LINE).err(),
            VariableRule::Text => (value.chars().count() > MAX_TEXT)
                .then(|| format!("must be at most {MAX_TEXT} characters")),
            VariableRule::Url => match url_ok(value.trim()) {
                true => None,
                false => Some("must be an absolute http(s) URL".into()),
            },
            VariableRule::Email => (!value.trim().is_empty() && !email_ok(value.trim()))
                .then(|| "must be an email address such as grace@example.com".into()),
        };
        if let Some(problem) = problem {
            bad(&format!("variables.{name}"), problem);
            ok = false;
        }
        variables.insert(name.clone(), value.trim().to_string());
    }
    let locale = match raw.locale.trim() {
        "" => Locale::FALLBACK,
        tag => Locale::for_tag(tag).unwrap_or_else(|refused| {
            bad("locale", refused.to_string());
            ok = false;
            Locale::FALLBACK
        }),
    };
    for (name, value) in [("invite_id", raw.invite_id), ("cohort_id", raw.cohort_id)] {
        if let Err(problem) = single_line_ok(value, MAX_KEY) {
            bad(name, problem);
            ok = false;
        }
    }
    ok.then(|| NewMessage {
        idempotency_key: key.to_string(),
        org_id,
        kind,
        recipient,
        recipient_name: raw.recipient_name.trim().to_string(),
        variables,
        not_before: raw.not_before,
        invite_id: raw.invite_id.trim().to_string(),
        cohort_id: raw.cohort_id.trim().to_string(),
        // One that does not parse is ignored, as the trace context standard asks.
        traceparent: beckon_common::telemetry::parse_traceparent(raw.traceparent),
        locale,
    })
}

fn url_ok(value: &str) -> bool {
    matches!(
        value.split_once("://"),
        // No `<` or `>`: a URL may become a header's `<url>`.
        Some(("http" | "https", rest)) if !rest.is_empty() && !value.chars().any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
    )
}

/// Errors for a batch: refuses the whole batch when any message is bad.
pub fn finish(violations: Vec<FieldViolation>) -> Result<(), NotifyError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(NotifyError::InvalidArgument(violations))
    }
}

/// The Message-ID every attempt of a delivery carries: derived from the idempotency key, so a
/// resend after a crash is recognisable as the same message.
pub fn message_id(idempotency_key: &str, domain: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    format!("<{}@{domain}>", &digest[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_header_injection_and_unknown_variables_is_refused() {
        let mut variables = std::collections::HashMap::new();
        variables.insert(
            "position_title".to_string(),
            "Dev\r\nBcc: all@x.com".to_string(),
        );
        variables.insert("favourite_colour".to_string(), "blue".to_string());
        let mut violations = Vec::new();
        let message = validate_message(
            "messages[0]",
            RawMessage {
                idempotency_key: "k1",
                organization_id: &Uuid::now_v7().to_string(),
                kind: Some(MessageKind::Invite),
                recipient: "not-an-address",
                recipient_name: "",
                variables: &variables,
                not_before: None,
                invite_id: "",
                cohort_id: "",
                traceparent: "",
                locale: "",
            },
            &mut violations,
        );
        assert!(message.is_none());
        let mut fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "messages[0].recipient",
                "messages[0].variables.favourite_colour",
                "messages[0].variables.position_title"
            ]
        );
    }

    #[test]
    fn message_ids_are_stable_per_key() {
        assert_eq!(message_id("a", "x.org"), message_id("a", "x.org"));
        assert_ne!(message_id("a", "x.org"), message_id("b", "x.org"));
        assert!(message_id("a", "x.org").ends_with("@x.org>"));
    }
}
