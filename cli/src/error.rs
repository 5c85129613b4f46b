//! How a failed command is reported: a message on stderr and an exit code that tells scripts
//! what kind of failure it was. The codes are documented in `invitectl --help` (EXIT_CODES) and
//! cli/README.md; a change to them breaks scripts.
use std::{io, process::ExitCode};

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Shown at the end of `invitectl --help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    any other failure, e.g. an internal server error, or `no` at a confirmation prompt
  2    bad usage or input: a flag, the config file, an input file, or a field the server
       refused (the message names it); also a bulk send with no terminal to confirm on and
       no --yes
  3    not found: no such job, invite, cohort, key or webhook in your organization
  4    refused in the current state, e.g. inviting to a closed job, or already exists
  5    the API key is not valid, or its scope does not allow the call
  6    a bulk send or retry finished, but some candidates failed: see the failed rows
  7    temporary: the server is unreachable, busy or timed out; the same call may work later
  130  interrupted while watching a cohort: the cohort goes on on the server";

/// Failures found by invitectl itself, each with its own exit code. Server errors stay
/// `tonic::Status` and are mapped by `exit_code`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad flags, config file or input file, caught before or instead of a call.
    #[error("{0}")]
    Usage(String),
    /// The user answered no; nothing was sent.
    #[error("{0}")]
    Cancelled(String),
    /// The server could not be reached at all.
    #[error("{0}")]
    Unreachable(String),
    /// The command ran to its end, but some candidates failed.
    #[error("{0}")]
    PartlyFailed(String),
    /// Ctrl-C while watching; the server carries on.
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> anyhow::Error {
        Self::Usage(message.into()).into()
    }

    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Cancelled(_) => 1,
            CliError::Unreachable(_) => 7,
            CliError::PartlyFailed(_) => 6,
            CliError::Interrupted(_) => 130,
        }
    }
}

/// The exit code for a status from the server. Usage errors caught before any call exit 2
/// too (clap's own, and `CliError::Usage`), like `InvalidArgument`.
pub fn exit_code(code: Code) -> u8 {
    match code {
        Code::InvalidArgument | Code::OutOfRange => 2,
        Code::NotFound => 3,
        Code::FailedPrecondition | Code::AlreadyExists => 4,
        Code::Unauthenticated | Code::PermissionDenied => 5,
        // Worth retrying as they are, unlike everything above.
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted => 7,
        _ => 1,
    }
}

/// Prints `err` to stderr and picks the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if let Some(status) = err.downcast_ref::<Status>() {
        return report_status(err, status);
    }
    if let Some(cli) = err.downcast_ref::<CliError>() {
        eprintln!("error: {err:#}");
        return ExitCode::from(cli.exit_code());
    }
    if err
        .downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    {
        // The reader, e.g. `head`, stopped reading: not a failure of the command.
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}

fn report_status(err: &anyhow::Error, status: &Status) -> ExitCode {
    let message = match status.message() {
        "" => status.code().description(),
        message => message,
    };
    // Context added on the way up (e.g. "checking the list") comes first, as in `{:#}`.
    let context: Vec<String> = err
        .chain()
        .take_while(|cause| cause.downcast_ref::<Status>().is_none())
        .map(ToString::to_string)
        .collect();
    match context.is_empty() {
        true => eprintln!("error: {message}"),
        false => eprintln!("error: {}: {message}", context.join(": ")),
    }
    if let Some(bad_request) = status.get_details_bad_request() {
        for violation in bad_request.field_violations {
            let field = match flag_for_field(&violation.field) {
                Some(flag) => format!("{} ({flag})", violation.field),
                None => violation.field,
            };
            eprintln!("  {field}: {}", violation.description);
        }
    }
    ExitCode::from(status_exit_code(status))
}

/// `exit_code`, refined by the status's ErrorInfo reason where the code alone misleads.
fn status_exit_code(status: &Status) -> u8 {
    let reason = status.get_details_error_info().map(|info| info.reason);
    match reason.as_deref() {
        // RESOURCE_EXHAUSTED, but no later retry helps a list that is too long: split it.
        Some("REQUEST_TOO_LARGE") => 2,
        _ => exit_code(status.code()),
    }
}

/// The invitectl flag behind an API field the server named, so that the user knows what to
/// change. Indexes (`assignee_ids[2]`) and map keys (`corrected_emails[7]`) are ignored.
fn flag_for_field(field: &str) -> Option<&'static str> {
    let base = field.split('[').next().unwrap_or(field);
    Some(match base {
        "job_id" => "--job",
        "candidate_email" | "member.email" => "--email",
        "candidate_name" | "member.name" | "organization.name" | "name" => "--name",
        "locale" | "job.locale" | "member.locale" => "--locale",
        "organization.default_locale" => "--default-locale",
        "time_zone" | "member.time_zone" => "--time-zone",
        "candidate_id" => "--candidate",
        "external_id" => "--external-id",
        "message" | "job.defaults.message" => "--message",
        "ttl" => "--ttl-hours",
        "remind_after" => "--remind-after-hours",
        "assignee_ids" => "--assignee",
        "labels" => "--label",
        "job.title" => "--title",
        "job.assessment_url" => "--assessment-url",
        "job.defaults.expiry_days" => "--expiry-days",
        "job.defaults.time_limit_minutes" => "--time-limit-minutes",
        "csv" => "--file",
        "pasted_list" => "--file/--list",
        "corrected_emails" => "--fix",
        "submitted_policy" => "--submitted",
        "within_hours" => "--within-hours",
        "scope" => "--scope",
        "endpoint.url" => "the URL argument, or --url",
        "endpoint.description" => "--description",
        "endpoint.event_types" => "--event",
        "endpoint.rate_limit" => "--rate",
        "overlap" => "--overlap",
        "since" => "--since",
        "status" => "--status",
        "request_id" => "--request-id",
        "message_id" => "MSG_ID, or --message",
        "id" | "cohort_id" | "endpoint.id" | "endpoint_id" => "the ID argument",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_group_statuses_by_what_the_user_can_do() {
        assert_eq!(exit_code(Code::InvalidArgument), 2);
        assert_eq!(exit_code(Code::NotFound), 3);
        assert_eq!(exit_code(Code::FailedPrecondition), 4);
        assert_eq!(exit_code(Code::AlreadyExists), 4);
        assert_eq!(exit_code(Code::Unauthenticated), 5);
        assert_eq!(exit_code(Code::PermissionDenied), 5);
        assert_eq!(exit_code(Code::Unavailable), 7);
        assert_eq!(exit_code(Code::ResourceExhausted), 7);
        assert_eq!(exit_code(Code::Internal), 1);
        assert_eq!(exit_code(Code::Unimplemented), 1);
    }

    #[test]
    fn a_request_too_large_is_bad_input_not_a_temporary_failure() {
        let mut details = tonic_types::ErrorDetails::new();
        details.set_error_info(
            "REQUEST_TOO_LARGE",
            "invite.beckon.dev",
            std::collections::HashMap::new(),
        );
        let status = Status::with_error_details(Code::ResourceExhausted, "split it", details);
        assert_eq!(status_exit_code(&status), 2);
        assert_eq!(
            status_exit_code(&Status::resource_exhausted("slow down")),
            7
        );
    }

    #[test]
    fn fields_are_translated_to_the_flags_that_set_them() {
        assert_eq!(flag_for_field("candidate_email"), Some("--email"));
        assert_eq!(flag_for_field("assignee_ids[1]"), Some("--assignee"));
        assert_eq!(flag_for_field("corrected_emails[7]"), Some("--fix"));
        assert_eq!(flag_for_field("endpoint.event_types[2]"), Some("--event"));
        assert_eq!(flag_for_field("endpoint_id"), Some("the ID argument"));
        assert_eq!(flag_for_field("page_token"), None);
    }

    #[test]
    fn every_exit_code_is_documented() {
        for code in [0, 1, 2, 3, 4, 5, 6, 7, 130] {
            assert!(
                EXIT_CODES.contains(&format!("\n  {code} ")),
                "exit code {code} is missing from EXIT_CODES"
            );
        }
    }
}
