//! Ids of different things, as different types, so that one cannot be passed for another.
//! The field is private; `from_uuid` and `uuid` convert at the edges (request parsing, entity
//! rows), where the kind of id is known.
use std::fmt;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        /// Debug as the bare id: page tokens fingerprint filters by their `Debug` form.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// An organization's id.
    OrgId
);
id_type!(
    /// A member's id (a person of the organization who may own keys and hear of invites).
    MemberId
);
id_type!(
    /// A job's id.
    JobId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_the_bare_uuid_that_page_tokens_fingerprint() {
        let id = Uuid::nil();
        assert_eq!(
            format!("{:?}", Some(JobId::from_uuid(id))),
            format!("{:?}", Some(id))
        );
    }
}
