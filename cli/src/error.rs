//! How a failed command is reported: a message on stderr and an exit code that tells scripts
//! what kind of failure it was.
use std::{io, process::ExitCode};

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The exit code for a status from the server. Usage errors caught before any call exit 2
/// through clap, like `InvalidArgument`.
pub fn exit_code(code: Code) -> u8 {
    match code {
        Code::InvalidArgument => 2,
        Code::NotFound => 3,
        Code::FailedPrecondition | Code::AlreadyExists => 4,
        Code::Unauthenticated | Code::PermissionDenied => 5,
        _ => 1,
    }
}

/// Prints `err` to stderr and picks the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if let Some(status) = err.downcast_ref::<Status>() {
        return report_status(status);
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

fn report_status(status: &Status) -> ExitCode {
    let message = match status.message() {
        "" => status.code().description(),
        message => message,
    };
    eprintln!("error: {message}");
    if let Some(bad_request) = status.get_details_bad_request() {
        for violation in bad_request.field_violations {
            eprintln!("  {}: {}", violation.field, violation.description);
        }
    }
    ExitCode::from(exit_code(status.code()))
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
        assert_eq!(exit_code(Code::Unavailable), 1);
        assert_eq!(exit_code(Code::Internal), 1);
    }
}
