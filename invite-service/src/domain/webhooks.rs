//! What a webhook tells: the event types an endpoint can take, and which change of an invite is
//! which of them.
use std::fmt;

use super::EventKind;

/// Why Beckon turned an endpoint off, as `disabled_reason` says it; the admins' email says it in
/// their language.
pub const DISABLED_GONE: &str = "the receiver answered 410 Gone";
pub const DISABLED_FAILING: &str = "every delivery failed for too long";

/// An event type, as named in the message's `type` and in an endpoint's filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    InviteCreated,
    InviteSent,
    InviteOpened,
    InviteStarted,
    InviteSubmitted,
    InviteReopened,
    InviteRevoked,
    InviteReissued,
    InviteExpired,
    InviteLocked,
    InviteUnlocked,
    EmailDelivered,
    EmailFailed,
    EmailSuppressed,
    CohortCompleted,
    /// Sent only when an admin asks, to the endpoint named; never filtered out.
    Ping,
}

impl WebhookEvent {
    pub const ALL: &'static [WebhookEvent] = &[
        WebhookEvent::InviteCreated,
        WebhookEvent::InviteSent,
        WebhookEvent::InviteOpened,
        WebhookEvent::InviteStarted,
        WebhookEvent::InviteSubmitted,
        WebhookEvent::InviteReopened,
        WebhookEvent::InviteRevoked,
        WebhookEvent::InviteReissued,
        WebhookEvent::InviteExpired,
        WebhookEvent::InviteLocked,
        WebhookEvent::InviteUnlocked,
        WebhookEvent::EmailDelivered,
        WebhookEvent::EmailFailed,
        WebhookEvent::EmailSuppressed,
        WebhookEvent::CohortCompleted,
        WebhookEvent::Ping,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WebhookEvent::InviteCreated => "invite.created",
            WebhookEvent::InviteSent => "invite.sent",
            WebhookEvent::InviteOpened => "invite.opened",
            WebhookEvent::InviteStarted => "invite.started",
            WebhookEvent::InviteSubmitted => "invite.submitted",
            WebhookEvent::InviteReopened => "invite.reopened",
            WebhookEvent::InviteRevoked => "invite.revoked",
            WebhookEvent::InviteReissued => "invite.reissued",
            WebhookEvent::InviteExpired => "invite.expired",
            WebhookEvent::InviteLocked => "invite.locked",
            WebhookEvent::InviteUnlocked => "invite.unlocked",
            WebhookEvent::EmailDelivered => "email.delivered",
            WebhookEvent::EmailFailed => "email.failed",
            WebhookEvent::EmailSuppressed => "email.suppressed",
            WebhookEvent::CohortCompleted => "cohort.completed",
            WebhookEvent::Ping => "ping",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|event| event.name() == name)
    }

    /// The webhook an invite's audit event becomes, if any. A resend or reminder is a request
    /// to send: what receivers hear of is its outcome (`email.*`).
    pub fn of_invite_event(kind: EventKind) -> Option<Self> {
        Some(match kind {
            EventKind::Created => WebhookEvent::InviteCreated,
            EventKind::Sent => WebhookEvent::InviteSent,
            EventKind::Opened => WebhookEvent::InviteOpened,
            EventKind::Started => WebhookEvent::InviteStarted,
            EventKind::Submitted => WebhookEvent::InviteSubmitted,
            EventKind::Revoked => WebhookEvent::InviteRevoked,
            // A renewal is a new link too: the invite is live again.
            EventKind::Reissued | EventKind::Renewed => WebhookEvent::InviteReissued,
            EventKind::Reopened => WebhookEvent::InviteReopened,
            EventKind::Locked => WebhookEvent::InviteLocked,
            EventKind::Unlocked => WebhookEvent::InviteUnlocked,
            EventKind::Expired => WebhookEvent::InviteExpired,
            EventKind::Resent
            | EventKind::Reminded
            | EventKind::DeliveryFailed
            | EventKind::RenewalRequested
            | EventKind::Rescheduled => return None,
        })
    }

    /// Whether an endpoint taking `filter` (empty: all) takes this event.
    pub fn wanted_by(self, filter: &[String]) -> bool {
        self == WebhookEvent::Ping || filter.is_empty() || filter.iter().any(|f| f == self.name())
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back() {
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(event.name()), Some(*event));
        }
        assert_eq!(WebhookEvent::parse("invite.exploded"), None);
    }

    #[test]
    fn an_empty_filter_takes_everything() {
        assert!(WebhookEvent::InviteOpened.wanted_by(&[]));
        let only = vec!["invite.submitted".to_string()];
        assert!(WebhookEvent::InviteSubmitted.wanted_by(&only));
        assert!(!WebhookEvent::InviteOpened.wanted_by(&only));
        assert!(WebhookEvent::Ping.wanted_by(&only));
    }
}
