//! Invite statuses in the words recruiters use (the Interview Edge and CodeInterview lists say
//! "invited", not "sent").
use beckon_proto::invite::v1::InviteStatus;

/// The word shown in the recent-links list for an invite's status.
pub fn status_word(status: i32) -> &'static str {
    match InviteStatus::try_from(status) {
        Ok(InviteStatus::Created | InviteStatus::Sent) => "invited",
        Ok(InviteStatus::Opened) => "opened",
        Ok(InviteStatus::Started) => "started",
        Ok(InviteStatus::Submitted) => "submitted",
        Ok(InviteStatus::Revoked) => "revoked",
        Ok(InviteStatus::Expired) => "expired",
        // A newer server's status this extension doesn't know yet.
        Ok(InviteStatus::Unspecified) | Err(_) => "unknown",
    }
}

/// The second line of a recent link: the job, and the application id it was tied to, if any.
pub fn recent_job_line(job_title: &str, external_id: &str) -> String {
    match (job_title.trim(), external_id.trim()) {
        (title, "") => title.to_string(),
        ("", id) => format!("application {id}"),
        (title, id) => format!("{title} · application {id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_and_sent_both_read_as_invited() {
        assert_eq!(status_word(InviteStatus::Created as i32), "invited");
        assert_eq!(status_word(InviteStatus::Sent as i32), "invited");
    }

    #[test]
    fn the_candidates_progress_reads_as_opened_started_submitted() {
        assert_eq!(status_word(InviteStatus::Opened as i32), "opened");
        assert_eq!(status_word(InviteStatus::Started as i32), "started");
        assert_eq!(status_word(InviteStatus::Submitted as i32), "submitted");
        assert_eq!(status_word(InviteStatus::Revoked as i32), "revoked");
    }

    #[test]
    fn a_recent_link_shows_its_application_id_when_it_has_one() {
        assert_eq!(recent_job_line("Backend engineer", ""), "Backend engineer");
        assert_eq!(
            recent_job_line("Backend engineer", "app-42"),
            "Backend engineer · application app-42"
        );
        assert_eq!(recent_job_line("", "app-42"), "application app-42");
    }

    #[test]
    fn unknown_statuses_from_a_newer_server_do_not_break_the_list() {
        assert_eq!(status_word(42), "unknown");
    }
}
