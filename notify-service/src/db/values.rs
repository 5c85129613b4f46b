//! The values of enum-like columns, each stored as the short text given here. sea-orm reads
//! them back checked: a row holding text that is none of them fails to load (an internal error
//! naming the value). The stored texts must never change: rows written by earlier versions hold
//! them. `crate::domain` re-exports these types and owns their meaning.
use sea_orm::entity::prelude::*;

/// What a message is for; each kind has its own default template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum MessageKind {
    #[sea_orm(string_value = "invite")]
    Invite,
    #[sea_orm(string_value = "resend")]
    Resend,
    #[sea_orm(string_value = "team_started")]
    TeamStarted,
    #[sea_orm(string_value = "team_submitted")]
    TeamSubmitted,
    #[sea_orm(string_value = "public_registration")]
    PublicRegistration,
    #[sea_orm(string_value = "inviter_copy")]
    InviterCopy,
    #[sea_orm(string_value = "reminder")]
    Reminder,
    #[sea_orm(string_value = "webhook_disabled")]
    WebhookDisabled,
    #[sea_orm(string_value = "team_renewal_requested")]
    TeamRenewalRequested,
    #[sea_orm(string_value = "rescheduled")]
    Rescheduled,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl MessageKind {
    pub fn all() -> impl Iterator<Item = MessageKind> {
        <MessageKind as sea_orm::Iterable>::iter()
    }
}

/// Where a delivery is. `Sent`, `Failed` and `Suppressed` are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum DeliveryState {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "deferred")]
    Deferred,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "suppressed")]
    Suppressed,
}

beckon_common::display_as_stored!(MessageKind, DeliveryState);

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    /// The texts rows already hold: changing one would strand them.
    #[test]
    fn stored_texts_stay_as_they_were() {
        let kinds: Vec<String> = MessageKind::iter().map(|k| k.to_value()).collect();
        assert_eq!(
            kinds.join(" "),
            "invite resend team_started team_submitted public_registration inviter_copy reminder webhook_disabled team_renewal_requested rescheduled cancelled"
        );
        let states: Vec<String> = DeliveryState::iter().map(|s| s.to_value()).collect();
        assert_eq!(states.join(" "), "queued sent deferred failed suppressed");
        assert!(DeliveryState::try_from_value(&"lost".into()).is_err());
    }
}
