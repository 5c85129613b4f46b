//! What Beckon's words mean, free of transport and storage: states and their transitions,
//! key scopes, input validation and secrets.
pub mod ats;
pub mod email;
pub mod ids;
pub mod roster;
pub mod seal;
pub mod secret;
pub mod time_zone;
pub mod validate;
pub mod webhook_secret;
pub mod webhooks;

// The values of enum-like columns are declared with the schema, which fixes the text each is
// stored as; what they mean is here.
pub use crate::db::values::{
    AssigneeIds, CohortState, DeliveryStatus, EventKind, EventTypes, InviteSource, InviteStatus,
    JobState, Labels, MemberDelivery, MemberState, MessageKind, OutboxState, ReportedDelivery,
    Scope, WebhookDeliveryStatus,
};

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

impl MessageKind {
    /// The candidate's own emails, which carry the link and whose outcome is the invite's
    /// delivery status; the others tell the team.
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
            | MessageKind::TeamRenewalRequested
            | MessageKind::WebhookDisabled => false,
        }
    }
}

impl ReportedDelivery {
    /// Nothing more will happen to the message: its outbox row is done.
    pub fn is_final(self) -> bool {
        match self {
            ReportedDelivery::Sent
            | ReportedDelivery::Failed
            | ReportedDelivery::Suppressed
            | ReportedDelivery::Skipped => true,
            ReportedDelivery::Queued | ReportedDelivery::Deferred => false,
        }
    }

    /// What it makes of the invite's (or cohort member's) email; `None` for a skip, which the
    /// outbox records itself.
    pub fn delivery_status(self) -> Option<DeliveryStatus> {
        match self {
            ReportedDelivery::Queued => Some(DeliveryStatus::Queued),
            ReportedDelivery::Deferred => Some(DeliveryStatus::Deferred),
            ReportedDelivery::Sent => Some(DeliveryStatus::Sent),
            ReportedDelivery::Failed => Some(DeliveryStatus::Failed),
            ReportedDelivery::Suppressed => Some(DeliveryStatus::Suppressed),
            ReportedDelivery::Skipped => None,
        }
    }
}

/// The things a key can be asked to do, each allowed to some scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Asking who the key is (GetCaller): every scope may.
    ReadCaller,
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
            Action::ReadCaller => "asking who the key is",
            Action::ReadJobs => "reading jobs",
            Action::WriteJobs => "changing jobs",
            Action::Candidates => "managing candidates",
            Action::CreateInvites => "creating invites",
            Action::ReadInvites => "reading invites",
            Action::ManageInvites => "changing invites",
            Action::ManageOrganization => "managing the organization, its members and API keys",
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
                Action::ReadCaller | Action::ReadJobs | Action::CreateInvites | Action::ReadInvites
            ),
            // An ATS key works on the ATS's own routes (`ats/`), which check for it by name.
            Scope::Ats => action == Action::ReadCaller,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_scope_can_only_make_and_read_links() {
        assert!(Scope::Links.allows(Action::CreateInvites));
        assert!(!Scope::Links.allows(Action::ManageInvites));
        assert!(!Scope::Invites.allows(Action::ManageOrganization));
        assert!(Scope::Admin.allows(Action::ManageOrganization));
        assert!(!Scope::Ats.allows(Action::ReadJobs));
    }
}
