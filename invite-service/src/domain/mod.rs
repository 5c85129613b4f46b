//! What Beckon's words mean, free of transport and storage: states and their transitions,
//! key scopes, input validation and secrets.
pub mod roster;
pub mod secret;
pub mod validate;

use beckon_common::text_enum;

text_enum!(
    /// Whether a job takes new invites.
    JobState { Open = "open", Closed = "closed" }
);

text_enum!(
    /// Where a bulk invite is: making invites, then (when it sends email) waiting until every
    /// member's email has a final outcome, then done.
    CohortState { Running = "running", Sending = "sending", Done = "done" }
);

text_enum!(
    /// Where a cohort member is: waiting for its invite, invited, or failed (with a reason).
    MemberState { Pending = "pending", Invited = "invited", Failed = "failed" }
);

text_enum!(
    /// Where an invite is in its life. `Revoked` and `Expired` are ends.
    InviteStatus {
        Created = "created",
        Sent = "sent",
        Opened = "opened",
        Started = "started",
        Submitted = "submitted",
        Revoked = "revoked",
        Expired = "expired",
    }
);

text_enum!(
    /// What happened to the invite's email, tracked beside its status.
    DeliveryStatus {
        NotRequested = "not_requested",
        Queued = "queued",
        Sent = "sent",
        Deferred = "deferred",
        Failed = "failed",
        Suppressed = "suppressed",
    }
);

text_enum!(
    /// What an API key may do.
    Scope { Admin = "admin", Invites = "invites", Links = "links" }
);

text_enum!(
    /// Entries of an invite's audit trail.
    EventKind {
        Created = "created",
        Sent = "sent",
        Opened = "opened",
        Started = "started",
        Submitted = "submitted",
        Revoked = "revoked",
        Reissued = "reissued",
        Reopened = "reopened",
        Unlocked = "unlocked",
        Resent = "resent",
        Expired = "expired",
        DeliveryFailed = "delivery_failed",
        Reminded = "reminded",
    }
);

impl InviteStatus {
    /// Revoked and expired links answer exactly like unknown ones.
    pub fn link_is_dead(self) -> bool {
        matches!(self, InviteStatus::Revoked | InviteStatus::Expired)
    }

    /// The states from which the candidate's Start button moves the invite to `Started`.
    pub const STARTABLE: &'static [InviteStatus] = &[
        InviteStatus::Created,
        InviteStatus::Sent,
        InviteStatus::Opened,
    ];

    /// States that a first open moves to `Opened`.
    pub const UNOPENED: &'static [InviteStatus] = &[InviteStatus::Created, InviteStatus::Sent];

    /// States in which the invite can still be revoked, reissued, resent or completed.
    pub const LIVE: &'static [InviteStatus] = &[
        InviteStatus::Created,
        InviteStatus::Sent,
        InviteStatus::Opened,
        InviteStatus::Started,
    ];
}

/// The things a key can be asked to do, each allowed to some scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    ReadJobs,
    WriteJobs,
    Candidates,
    CreateInvites,
    ReadInvites,
    ManageInvites,
    ManageOrganization,
}

impl Action {
    pub fn describe(self) -> &'static str {
        match self {
            Action::ReadJobs => "reading jobs",
            Action::WriteJobs => "changing jobs",
            Action::Candidates => "managing candidates",
            Action::CreateInvites => "creating invites",
            Action::ReadInvites => "reading invites",
            Action::ManageInvites => "changing invites",
            Action::ManageOrganization => "managing members and API keys",
        }
    }
}

impl Scope {
    pub fn allows(self, action: Action) -> bool {
        match self {
            Scope::Admin => true,
            Scope::Invites => action != Action::ManageOrganization,
            Scope::Links => matches!(
                action,
                Action::ReadJobs | Action::CreateInvites | Action::ReadInvites
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_round_trip() {
        for status in InviteStatus::ALL {
            assert_eq!(InviteStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(Scope::parse("root"), None);
    }

    #[test]
    fn links_scope_can_only_make_and_read_links() {
        assert!(Scope::Links.allows(Action::CreateInvites));
        assert!(!Scope::Links.allows(Action::ManageInvites));
        assert!(!Scope::Invites.allows(Action::ManageOrganization));
        assert!(Scope::Admin.allows(Action::ManageOrganization));
    }
}
