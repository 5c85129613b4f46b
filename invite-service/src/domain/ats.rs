//! Beckon as an applicant tracking system's assessment partner: the one mapping both adapters
//! (`ats/greenhouse.rs`, `ats/ashby.rs`) share. An ATS's test (Greenhouse) or assessment type
//! (Ashby) is an open job; its interview or assessment is an invite, whose id it holds; what it
//! hears of the invite's life is `Progress`.
use super::{webhooks::WebhookEvent, InviteStatus};

pub use crate::db::values::Ats;

impl Ats {
    pub fn name(self) -> &'static str {
        match self {
            Ats::Greenhouse => "greenhouse",
            Ats::Ashby => "ashby",
        }
    }
}

/// What an ATS is told of, as its partner contract names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The candidate started (Ashby records the start time on "Started").
    Started,
    /// Reopened by the team after a submission: in progress again.
    Reopened,
    /// Submitted: the assessment is complete.
    Completed,
    /// Revoked or expired: the assessment will not be completed.
    Cancelled { reason: &'static str },
}

impl Progress {
    /// The change of an invite each ATS hears of, if any. Greenhouse asks only to be told of
    /// completion (then reads `test_status`); Ashby takes every change of its assessment.
    pub fn of(ats: Ats, event: WebhookEvent) -> Option<Self> {
        let progress = match event {
            WebhookEvent::InviteStarted => Progress::Started,
            WebhookEvent::InviteReopened => Progress::Reopened,
            WebhookEvent::InviteSubmitted => Progress::Completed,
            WebhookEvent::InviteRevoked => Progress::Cancelled {
                reason: "The invite was revoked in Beckon",
            },
            WebhookEvent::InviteExpired => Progress::Cancelled {
                reason: "The candidate's link expired before they submitted",
            },
            _ => return None,
        };
        match ats {
            Ats::Greenhouse => (progress == Progress::Completed).then_some(progress),
            Ats::Ashby => Some(progress),
        }
    }

    /// Whether any ATS hears of `event`: when none does, nothing is looked up.
    pub fn any_hears(event: WebhookEvent) -> bool {
        Progress::of(Ats::Ashby, event).is_some() || Progress::of(Ats::Greenhouse, event).is_some()
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

/// Ashby's `assessment_status` text for an invite's state, shown in Ashby as it is.
pub fn ashby_status(status: InviteStatus) -> &'static str {
    match status {
        InviteStatus::Created => "Created",
        InviteStatus::Sent => "Invited",
        InviteStatus::Opened => "Opened",
        InviteStatus::Started => "Started",
        InviteStatus::Submitted => "Completed",
        InviteStatus::Revoked => "Cancelled",
        InviteStatus::Expired => "Expired",
    }
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
        assert!(matches!(
            Progress::of(Ats::Ashby, WebhookEvent::InviteRevoked),
            Some(Progress::Cancelled { .. })
        ));
        assert_eq!(Progress::of(Ats::Ashby, WebhookEvent::InviteOpened), None);
        assert!(!Progress::any_hears(WebhookEvent::InviteOpened));
        assert_eq!(greenhouse_status(InviteStatus::Submitted), "complete");
    }
}
