//! The popup's form and the "who is it for?" window: what must be filled in, and which request id
//! a submission carries so that a retry after a lost answer returns the first link instead of
//! making a second invite.
use serde::Deserialize;

use crate::errors::UserError;

/// What the recruiter asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InviteForm {
    pub job_id: String,
    pub job_title: String,
    pub candidate_name: String,
    pub candidate_email: String,
    pub send_email: bool,
    /// The ATS application the link is for, if the recruiter gave it.
    pub external_id: String,
}

impl InviteForm {
    /// A job, and someone to tell the link apart by (a name or an email).
    pub fn check(&self) -> Result<(), UserError> {
        if self.job_id.trim().is_empty() {
            return Err(UserError::no_job());
        }
        if self.candidate_name.trim().is_empty() && self.candidate_email.trim().is_empty() {
            return Err(UserError::no_candidate());
        }
        Ok(())
    }
}

/// The request id of the last submission that got no answer, kept for a retry of the same
/// submission (a form, an enrolment link).
#[derive(Debug)]
pub struct Retries<T> {
    unanswered: Option<(T, String)>,
}

impl<T> Default for Retries<T> {
    fn default() -> Self {
        Self { unanswered: None }
    }
}

impl<T: PartialEq + Clone> Retries<T> {
    /// The id to send: the unanswered one if this is the same submission again, else `fresh`.
    pub fn request_id(&mut self, form: &T, fresh: String) -> String {
        match &self.unanswered {
            Some((previous, id)) if previous == form => id.clone(),
            _ => {
                self.unanswered = Some((form.clone(), fresh.clone()));
                fresh
            }
        }
    }

    /// The server answered with what was asked for: the next submission is a new request. (A
    /// refusal keeps the id: the server recorded nothing for it, so reusing it is harmless.)
    pub fn answered(&mut self) {
        self.unanswered = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str) -> InviteForm {
        InviteForm {
            job_id: "job-1".into(),
            candidate_name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_form_needs_a_job_and_a_name_or_email() {
        assert!(form("Ada").check().is_ok());
        let email_only = InviteForm {
            candidate_email: "ada@example.com".into(),
            ..form("")
        };
        assert!(email_only.check().is_ok());
        assert_eq!(form(" ").check().expect_err("no one").kind, "no_candidate");
        let no_job = InviteForm {
            job_id: String::new(),
            ..form("Ada")
        };
        assert_eq!(no_job.check().expect_err("no job").kind, "no_job");
    }

    #[test]
    fn a_retry_of_the_same_form_reuses_its_request_id_until_answered() {
        let mut retries = Retries::<InviteForm>::default();
        assert_eq!(retries.request_id(&form("Ada"), "id-1".into()), "id-1");
        // The answer was lost: the same form again is the same request.
        assert_eq!(retries.request_id(&form("Ada"), "id-2".into()), "id-1");
        // A changed form is a new request.
        assert_eq!(retries.request_id(&form("Grace"), "id-3".into()), "id-3");
        retries.answered();
        assert_eq!(retries.request_id(&form("Grace"), "id-4".into()), "id-4");
    }
}
