//! sea-orm entities, one module per table. Enum-like columns hold the types of `super::values`.

pub mod delivery {
    use sea_orm::entity::prelude::*;

    use crate::db::values::{DeliveryState, MessageKind};

    /// One message to one recipient, from enqueue to its final state. The source of truth:
    /// queues carry only its id.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notify_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub idempotency_key: String,
        pub org_id: Uuid,
        pub kind: MessageKind,
        pub recipient: String,
        pub recipient_name: String,
        /// Template variables as a JSON object, sealed (`crate::seal`): they hold the link.
        /// Emptied (`{}`) once the delivery is final, so links do not outlive their email.
        pub variables: String,
        pub invite_id: String,
        pub cohort_id: String,
        pub state: DeliveryState,
        pub attempts: i32,
        pub last_error: String,
        pub message_id: String,
        /// When the next attempt is due (the first one: now or `not_before`).
        pub next_attempt_at: ChronoDateTimeUtc,
        /// When the id was last handed to the queue; the reconciler publishes stale ones again.
        pub published_at: ChronoDateTimeUtc,
        /// A worker holds the delivery until then: two copies of one queue entry never send
        /// twice at the same time.
        pub lease_until: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        pub sent_at: Option<ChronoDateTimeUtc>,
        /// The W3C `traceparent` the sender gave: sending continues that trace.
        pub traceparent: Option<String>,
        /// The shipped locale's tag the message is rendered in.
        pub locale: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod suppression {
    use sea_orm::entity::prelude::*;

    /// An address that hard-bounced: nothing is sent to it until it is removed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notify_suppressions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub address: String,
        pub reason: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unsubscribe {
    use sea_orm::entity::prelude::*;

    /// An address that asked one organization for no more mail: nothing of that
    /// organization's is sent to it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notify_unsubscribes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub address: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod template {
    use sea_orm::entity::prelude::*;

    use crate::db::values::MessageKind;

    /// An organization's own template for one kind of message, in one language.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notify_language_templates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: MessageKind,
        /// A shipped locale's tag, or `''` for every language without a template of its own.
        #[sea_orm(primary_key, auto_increment = false)]
        pub locale: String,
        pub subject: String,
        pub text_body: String,
        pub html_body: String,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
