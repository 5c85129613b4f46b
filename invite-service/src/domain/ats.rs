//! Beckon as an applicant tracking system's assessment partner: the one mapping both adapters
//! (`ats/greenhouse.rs`, `ats/ashby.rs`) share. An ATS's test (Greenhouse) or assessment type
//! (Ashby) is an open job; its interview or assessment is an invite, whose id it holds; what it
//! hears of the invite's life is a `Progress`.
use super::{webhooks::WebhookEvent, InviteSource, InviteStatus};

pub use crate::db::values::{Ats, AtsProgress as Progress};

impl Ats {
    pub fn name(self) -> &'static str {
        self.invite_source().as_str()
    }

    /// The source of the invites it asks for.
    pub fn invite_source(self) -> InviteSource {
        match self {
            Ats::Greenhouse => InviteSource::Greenhouse,
            Ats::Ashby => InviteSource::Ashby,
        }
    }
}

impl Progress {
    /// The change of an invite each ATS hears of, if any. Greenhouse asks only to be told of
    /// completion (then reads `test_status`); Ashby takes every change of its assessment.
    pub fn of(ats: Ats, event: WebhookEvent) -> Option<Self> {
        let progress = match event {
            WebhookEvent::InviteStarted => Progress::Started,
            WebhookEvent::InviteReopened => Progress::Reopened,
            WebhookEvent::InviteSubmitted => Progress::Completed,
            WebhookEvent::InviteRevoked | WebhookEvent::InviteExpired => Progress::Cancelled,
            WebhookEvent::EmailFailed | WebhookEvent::EmailSuppressed => {
                Progress::EmailUndeliverable
            }
            _ => return None,
        };
        match ats {
            Ats::Greenhouse => (progress == Progress::Completed).then_some(progress),
            Ats::Ashby => Some(progress),
        }
    }

    /// Whether any ATS hears of `event` (Ashby hears of all Greenhouse does): when none does,
    /// nothing is looked up.
    pub fn any_hears(event: WebhookEvent) -> bool {
        Progress::of(Ats::Ashby, event).is_some()
    }

    /// What the ATS's user is told of why: a cancellation's reason, an email's failure.
    pub fn detail(event: WebhookEvent, happening: &str) -> String {
        match event {
            WebhookEvent::InviteRevoked => "The invite was revoked in Beckon".into(),
            WebhookEvent::InviteExpired => {
                "The candidate's link expired before they submitted".into()
            }
            WebhookEvent::EmailFailed => {
                format!("The invite email could not be delivered: {happening}")
            }
            WebhookEvent::EmailSuppressed => {
                "The invite email was not sent: the address is on the suppression list".into()
            }
            _ => String::new(),
        }
    }
}

/// Greenhouse's `partner_status`: its contract knows `complete`; until then the invite's own
/// state, which Greenhouse shows as it is.
pub fn greenhouse_status(status: InviteStatus) -> &'static str {
    match status {
        InviteStatus::Submitted => "complete",
        InviteStatus::Created | InviteStatus::Sent => "sent",
        InviteStatus::Opened => "opened",
        InviteStatus::Started => "in_progress",
        InviteStatus::Revoked => "cancelled",
        InviteStatus::Expired => "expired",
    }
}

/// Ashby's `assessment_status` text for a progress, shown in Ashby as it is ("Started" also
/// makes Ashby record the start time).
pub fn ashby_status(progress: Progress) -> &'static str {
    match progress {
        Progress::Started => "Started",
        Progress::Reopened => "Reopened",
        Progress::Completed => "Completed",
        Progress::Cancelled => "Cancelled",
        Progress::EmailUndeliverable => "Invite email not delivered",
    }
}

/// Whether an invite in this state is still being assessed: an ATS may not start another
/// assessment of the same application meanwhile.
pub fn in_progress(status: InviteStatus) -> bool {
    !matches!(
        status,
        InviteStatus::Submitted | InviteStatus::Revoked | InviteStatus::Expired
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greenhouse_hears_only_of_completion_and_ashby_of_every_change() {
        assert_eq!(
            Progress::of(Ats::Greenhouse, WebhookEvent::InviteSubmitted),
            Some(Progress::Completed)
        );
        assert_eq!(
            Progress::of(Ats::Greenhouse, WebhookEvent::InviteStarted),
            None
        );
        assert_eq!(
            Progress::of(Ats::Ashby, WebhookEvent::InviteStarted),
            Some(Progress::Started)
        );
        assert_eq!(
            Progress::of(Ats::Ashby, WebhookEvent::InviteExpired),
            Some(Progress::Cancelled)
        );
        assert_eq!(
            Progress::of(Ats::Ashby, WebhookEvent::EmailSuppressed),
            Some(Progress::EmailUndeliverable)
        );
        assert_eq!(Progress::of(Ats::Ashby, WebhookEvent::InviteOpened), None);
        assert!(!Progress::any_hears(WebhookEvent::InviteOpened));
        assert!(Progress::any_hears(WebhookEvent::InviteSubmitted));
        assert_eq!(greenhouse_status(InviteStatus::Submitted), "complete");
        assert!(!in_progress(InviteStatus::Submitted));
        assert!(in_progress(InviteStatus::Opened));
    }
}
