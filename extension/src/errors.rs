//! Turns what went wrong in a call into words a recruiter can act on. Every failure the popup,
//! the options page or the context menu can meet ends up here.
use std::time::Duration;

use serde::Serialize;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// What went wrong, reduced to what matters for the explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The browser has no network at all.
    Offline,
    /// The request never got an answer: nothing listening, DNS, TLS, or CORS refusing us.
    Unreachable,
    /// Something answered, but not with gRPC-web: the address points at another kind of server.
    NotBeckon,
    TimedOut,
    /// A gRPC status from Beckon.
    Status {
        code: Code,
        /// The google.rpc.ErrorInfo reason, e.g. `API_KEY_INVALID`.
        reason: String,
        message: String,
        retry_after: Option<Duration>,
        /// google.rpc.BadRequest field violations: (field, description).
        violations: Vec<(String, String)>,
    },
    /// Found on our side before calling: a malformed address or key.
    Local(UserError),
}

/// An error as shown to the person: a short title and a sentence on what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserError {
    /// A stable word the UI and tests can switch on: `offline`, `unreachable`, `key_revoked`…
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
    /// For rate limits: when to try again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// Whether fixing it means opening the extension's options (address or key).
    pub fix_in_options: bool,
}

impl UserError {
    pub fn new(kind: &'static str, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind,
            title: title.into(),
            detail: detail.into(),
            retry_after_seconds: None,
            fix_in_options: false,
        }
    }

    /// Beckon was not allowed into the page (it is, only through a click on Beckon there), or
    /// the page is one no extension may touch.
    pub fn page_unreachable() -> Self {
        Self::new(
            "page_unreachable",
            "Beckon can't reach this page.",
            "Open Beckon from the page itself (its button, right-click menu or shortcut). Browser pages (chrome://, the Web Store) never allow it: copy the link instead.",
        )
    }

    pub fn no_tab() -> Self {
        Self::new(
            "no_tab",
            "No page to insert into.",
            "Open Beckon from the page with the field.",
        )
    }

    pub fn copy_failed() -> Self {
        Self::new(
            "copy_failed",
            "Couldn't copy.",
            "Select the link and press Ctrl+C.",
        )
    }

    pub fn no_job() -> Self {
        Self::new(
            "no_job",
            "Pick a job first.",
            "Choose the job this interview is for from the list.",
        )
    }

    /// The context menu and the shortcut use the job picked last in the popup.
    pub fn no_job_picked() -> Self {
        Self::new(
            "no_job",
            "Pick a job first.",
            "Open the Beckon popup once and choose a job; the menu and the shortcut use the last job you picked.",
        )
    }

    pub fn no_candidate() -> Self {
        Self::new(
            "no_candidate",
            "Who is it for?",
            "Enter the candidate's name or email, so you can tell the links apart.",
        )
    }

    pub fn setup_needed() -> Self {
        Self::new(
            "setup_needed",
            "Set up Beckon first.",
            "In the options page that just opened, paste the enrolment link your Beckon admin sent you, or enter your server and an API key.",
        )
        .in_options()
    }

    /// The page navigated or lost a frame while Beckon was working in it.
    pub fn page_changed() -> Self {
        Self::new(
            "page_changed",
            "The page changed while Beckon was working in it.",
            "Nothing was inserted. Click where the link goes and try again.",
        )
    }

    /// A call failed before reaching the server, yet something answers there: the server's CORS
    /// settings refuse this extension's origin.
    pub fn cors_refused(origin: &str) -> Self {
        Self::new(
            "cors_refused",
            "The server is running but refuses this extension.",
            format!(
                "Add {origin} to the server's cors_origins (BECKON_CORS_ORIGINS) and restart it."
            ),
        )
    }

    /// The server knows no such unused, unexpired enrolment code.
    pub fn enrollment_spent() -> Self {
        Self::new(
            "enrollment_spent",
            "This enrolment link doesn't work any more.",
            "Each link works once, until it expires. Ask your Beckon admin for a new one.",
        )
        .in_options()
    }

    /// Anything else: a defect of the extension, with what the person can report.
    pub fn extension_bug(message: &str) -> Self {
        Self::new(
            "extension_bug",
            "Something went wrong in the extension.",
            format!("Try again; if it keeps happening, report this: {message}"),
        )
    }

    fn in_options(mut self) -> Self {
        self.fix_in_options = true;
        self
    }
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.title, self.detail)
    }
}

impl Failure {
    /// Reads a status that came back from a call through the gRPC-web client.
    pub fn from_status(status: &Status) -> Failure {
        let message = status.message().to_string();
        match status.code() {
            // The wasm client reports fetch failures (connection refused, CORS) and answers
            // that are not gRPC-web as Unknown, with its own error text as the message.
            Code::Unknown if message.contains("JS API error") => Failure::Unreachable,
            Code::Unknown
                if message.contains("content type")
                    || message.contains("content-type")
                    || message.contains("malformed response")
                    || message.contains("missing response body") =>
            {
                Failure::NotBeckon
            }
            Code::DeadlineExceeded => Failure::TimedOut,
            code => {
                let details = status.get_error_details();
                Failure::Status {
                    code,
                    reason: details
                        .error_info()
                        .map(|info| info.reason.clone())
                        .unwrap_or_default(),
                    message,
                    retry_after: details.retry_info().and_then(|info| info.retry_delay),
                    violations: details
                        .bad_request()
                        .map(|bad| {
                            bad.field_violations
                                .iter()
                                .map(|v| (v.field.clone(), v.description.clone()))
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            }
        }
    }

    /// The explanation shown for this failure. `server` is the configured address, named in
    /// messages about reaching it.
    pub fn explain(&self, server: &str) -> UserError {
        match self {
            Failure::Offline => UserError::new(
                "offline",
                "You're offline.",
                "Connect to the internet, then try again.",
            ),
            Failure::Unreachable => UserError::new(
                "unreachable",
                "Can't reach the Beckon server.",
                format!("Nothing answered at {server}. Check that the server is running and that the address in Options is right."),
            )
            .in_options(),
            Failure::NotBeckon => UserError::new(
                "not_beckon",
                "That address isn't a Beckon server.",
                format!("{server} answered, but not like Beckon does. Check the server address in Options."),
            )
            .in_options(),
            Failure::TimedOut => UserError::new(
                "timed_out",
                "The Beckon server took too long to answer.",
                "It may be busy. Try again in a moment.",
            ),
            Failure::Local(error) => error.clone(),
            Failure::Status {
                code,
                reason,
                message,
                retry_after,
                violations,
            } => explain_status(*code, reason, message, *retry_after, violations),
        }
    }
}

fn explain_status(
    code: Code,
    reason: &str,
    message: &str,
    retry_after: Option<Duration>,
    violations: &[(String, String)],
) -> UserError {
    match (code, reason) {
        (Code::Unauthenticated, "API_KEY_MISSING") => UserError::new(
            "key_missing",
            "No API key is set.",
            "Enter your Beckon API key in Options.",
        )
        .in_options(),
        (Code::Unauthenticated, _) => UserError::new(
            "key_revoked",
            "This API key doesn't work any more.",
            "It was revoked or mistyped. Ask your Beckon admin for a new key (the links scope is enough) and enter it in Options.",
        )
        .in_options(),
        (Code::PermissionDenied, _) => UserError::new(
            "scope_insufficient",
            "This API key isn't allowed to make links.",
            "Ask your Beckon admin for a key with the links scope and enter it in Options.",
        )
        .in_options(),
        (Code::FailedPrecondition, "JOB_CLOSED") => UserError::new(
            "job_closed",
            "This job is closed.",
            "It takes no new invites. Pick another job, or ask your Beckon admin to reopen it.",
        ),
        (Code::AlreadyExists, "EXTERNAL_ID_IN_USE") => UserError::new(
            "external_id_in_use",
            "This application already has a live link.",
            "Use the link made for it earlier, or leave the application id empty. Revoking the old invite frees the id.",
        ),
        (Code::NotFound, _) => UserError::new(
            "not_found",
            "That job or invite no longer exists.",
            "Pick the job again from the list; it may have been removed.",
        ),
        (Code::InvalidArgument, _) if !violations.is_empty() => UserError::new(
            "invalid_fields",
            "Please check the form.",
            violations
                .iter()
                .map(|(field, description)| format!("{} {description}.", field_label(field)))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (Code::ResourceExhausted, _) => {
            let seconds = retry_after.map(|d| d.as_secs().max(1));
            let when = match seconds {
                Some(s) => format!("Try again in {}.", human_duration(s)),
                None => "Try again in a minute.".to_string(),
            };
            UserError {
                retry_after_seconds: seconds,
                ..UserError::new(
                    "rate_limited",
                    "Too many links in a short time.",
                    format!("Beckon is limiting requests. {when}"),
                )
            }
        }
        (Code::Unimplemented, _) => UserError::new(
            "server_too_old",
            "The Beckon server is too old for this extension.",
            "Ask your Beckon admin to update the server.",
        ),
        (Code::Unavailable, _) => UserError::new(
            "unavailable",
            "The Beckon server is not available right now.",
            "Try again in a moment.",
        ),
        _ => UserError::new(
            "server_error",
            "Something went wrong on the Beckon server.",
            if message.is_empty() || code == Code::Internal {
                "Try again; if it keeps happening, tell your Beckon admin.".to_string()
            } else {
                format!("It said: {message}.")
            },
        ),
    }
}

/// The popup's names for the API's fields.
fn field_label(field: &str) -> String {
    match field {
        "candidate_email" => "Candidate email".into(),
        "candidate_name" => "Candidate name".into(),
        "external_id" => "Application id".into(),
        "job_id" => "Job".into(),
        "message" => "Message".into(),
        other => {
            let words = other.replace(['_', '.'], " ");
            let mut chars = words.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => words,
            }
        }
    }
}

fn human_duration(seconds: u64) -> String {
    match seconds {
        1 => "1 second".into(),
        s if s < 90 => format!("{s} seconds"),
        s if s < 5400 => format!("{} minutes", s.div_ceil(60)),
        s => format!("{} hours", s.div_ceil(3600)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tonic_types::ErrorDetails;

    use super::*;

    const SERVER: &str = "https://beckon.example.com";

    fn status_with_reason(code: Code, reason: &str) -> Status {
        let mut details = ErrorDetails::new();
        details.set_error_info(reason, "invite.beckon.dev", HashMap::new());
        Status::with_error_details(code, "server words", details)
    }

    fn explain(status: Status) -> UserError {
        Failure::from_status(&status).explain(SERVER)
    }

    #[test]
    fn a_fetch_failure_is_an_unreachable_server_named_by_address() {
        let error = explain(Status::unknown("JS API error: TypeError: Failed to fetch"));
        assert_eq!(error.kind, "unreachable");
        assert!(error.detail.contains(SERVER));
        assert!(error.fix_in_options);
    }

    #[test]
    fn an_answer_that_is_not_grpc_web_means_a_wrong_address() {
        let error = explain(Status::unknown("invalid content type: text/html"));
        assert_eq!(error.kind, "not_beckon");
    }

    #[test]
    fn revoked_and_missing_keys_point_to_options() {
        let revoked = explain(status_with_reason(Code::Unauthenticated, "API_KEY_INVALID"));
        assert_eq!(revoked.kind, "key_revoked");
        assert!(revoked.title.contains("doesn't work any more"));
        assert!(revoked.fix_in_options);
        let missing = explain(status_with_reason(Code::Unauthenticated, "API_KEY_MISSING"));
        assert_eq!(missing.kind, "key_missing");
    }

    #[test]
    fn a_key_without_the_scope_says_which_scope_to_ask_for() {
        let error = explain(status_with_reason(
            Code::PermissionDenied,
            "SCOPE_INSUFFICIENT",
        ));
        assert_eq!(error.kind, "scope_insufficient");
        assert!(error.detail.contains("links scope"));
    }

    #[test]
    fn a_closed_job_suggests_another_job() {
        let error = explain(status_with_reason(Code::FailedPrecondition, "JOB_CLOSED"));
        assert_eq!(error.kind, "job_closed");
        assert!(error.detail.contains("Pick another job"));
    }

    #[test]
    fn an_application_id_in_use_says_the_application_has_a_link() {
        let error = explain(status_with_reason(
            Code::AlreadyExists,
            "EXTERNAL_ID_IN_USE",
        ));
        assert_eq!(error.kind, "external_id_in_use");
        assert!(error.title.contains("already has a live link"));
        assert!(!error.fix_in_options);
        assert_eq!(field_label("external_id"), "Application id");
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let mut details = ErrorDetails::new();
        details.set_retry_info(Some(Duration::from_secs(30)));
        let status = Status::with_error_details(Code::ResourceExhausted, "slow down", details);
        let error = explain(status);
        assert_eq!(error.kind, "rate_limited");
        assert_eq!(error.retry_after_seconds, Some(30));
        assert!(
            error.detail.contains("Try again in 30 seconds."),
            "{}",
            error.detail
        );

        let error = explain(Status::resource_exhausted("slow down"));
        assert!(error.detail.contains("Try again in a minute."));
        assert_eq!(human_duration(600), "10 minutes");
    }

    #[test]
    fn field_violations_are_listed_with_the_popups_labels() {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("candidate_email", "is not a valid email address");
        details.set_error_info("INVALID_FIELDS", "invite.beckon.dev", HashMap::new());
        let status = Status::with_error_details(Code::InvalidArgument, "invalid fields", details);
        let error = explain(status);
        assert_eq!(error.kind, "invalid_fields");
        assert_eq!(
            error.detail,
            "Candidate email is not a valid email address."
        );
    }

    #[test]
    fn timeouts_offline_and_old_servers_have_their_own_words() {
        assert_eq!(
            explain(Status::deadline_exceeded("Request timed out")).kind,
            "timed_out"
        );
        assert_eq!(Failure::Offline.explain(SERVER).kind, "offline");
        assert_eq!(explain(Status::unimplemented("")).kind, "server_too_old");
    }

    #[test]
    fn internal_errors_do_not_echo_server_text() {
        let error = explain(Status::internal("internal error"));
        assert_eq!(error.kind, "server_error");
        assert!(!error.detail.contains("internal error"));
    }
}
