//! AIP-155 request ids: a retried create returns the first answer, secret included, and writes
//! nothing new. See `domain::secret::IdempotencyKey` for how the secret is kept.
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::{
    db::entities::idempotency_key,
    domain::secret::IdempotencyKey,
    error::ServiceError,
    store::{now, Caller},
};

/// A create call's request id and a fingerprint of the rest of its body.
#[derive(Clone, Debug)]
pub struct RequestId {
    pub request_id: String,
    pub body_fingerprint: String,
}

/// The first answer to a request id: its resource, and the secret it carried, if any.
pub struct Replay {
    pub resource_id: Uuid,
    pub secret: Option<String>,
}

pub struct Idempotency {
    key: IdempotencyKey,
    fingerprint: String,
    org_id: Uuid,
}

impl Idempotency {
    pub fn new(caller: &Caller, method: &str, request: &RequestId) -> Self {
        Self::for_organization(caller.org_id, method, request)
    }

    /// For a call that has no key (an enrolment code's trade): its organization is the data's.
    pub fn for_organization(org_id: Uuid, method: &str, request: &RequestId) -> Self {
        Self {
            key: IdempotencyKey::new(org_id, method, &request.request_id),
            fingerprint: request.body_fingerprint.clone(),
            org_id,
        }
    }

    /// The first answer, if this request id was seen; an error if it came with another body.
    pub async fn replay(&self, db: &impl ConnectionTrait) -> Result<Option<Replay>, ServiceError> {
        idempotency_key::Entity::find_by_id(self.lookup_hash())
            .one(db)
            .await?
            .map(|row| self.replay_of(row))
            .transpose()
    }

    /// The stored row's key: how a batch looks up many request ids at once.
    pub(crate) fn lookup_hash(&self) -> String {
        self.key.lookup_hash()
    }

    /// The first answer kept in `row` (found by `lookup_hash`); an error if it came with
    /// another body.
    pub(crate) fn replay_of(&self, row: idempotency_key::Model) -> Result<Replay, ServiceError> {
        if row.request_hash != self.fingerprint {
            return Err(ServiceError::invalid(
                "request_id",
                "was already used for a different request; use a new request_id for new work",
            ));
        }
        let secret = if row.sealed_secret.is_empty() {
            None
        } else {
            Some(self.key.unseal(&row.sealed_secret).ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("sealed idempotent answer is corrupt"))
            })?)
        };
        Ok(Replay {
            resource_id: row.resource_id,
            secret,
        })
    }

    pub async fn record(
        &self,
        db: &impl ConnectionTrait,
        resource_id: Uuid,
        secret: Option<&str>,
    ) -> Result<(), ServiceError> {
        self.row(resource_id, secret).insert(db).await?;
        Ok(())
    }

    /// The row `record` writes, for writing many at once.
    pub(crate) fn row(
        &self,
        resource_id: Uuid,
        secret: Option<&str>,
    ) -> idempotency_key::ActiveModel {
        idempotency_key::ActiveModel {
            key_hash: Set(self.key.lookup_hash()),
            org_id: Set(self.org_id),
            request_hash: Set(self.fingerprint.clone()),
            resource_id: Set(resource_id),
            sealed_secret: Set(secret.map(|s| self.key.seal(s)).unwrap_or_default()),
            created_at: Set(now()),
        }
    }
}
