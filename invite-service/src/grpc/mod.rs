//! The gRPC edge: the only code that knows prost types and `tonic::Status`. Each handler
//! authorizes the caller, validates the message into domain input, calls `crate::store`, and
//! converts the answer back.
mod ats;
mod candidates;
mod cohorts;
mod convert;
mod enrollment;
mod invites;
mod jobs;
mod organization;
mod public;
pub mod status;
mod webhooks;

pub use public::Keyless;

use std::future::Future;

use beckon_proto::invite::v1 as pb;
use tonic::{metadata::MetadataMap, Request, Response, Status};

use crate::{
    domain::{secret::sha256_hex, validate::Violations, Action},
    error::ServiceError,
    store::{idempotency::RequestId, organization as org, Caller, Store},
};

/// Shared by every service implementation.
#[derive(Clone)]
pub struct Api {
    store: Store,
    /// Wakes the cohort worker when a bulk call stored new members.
    cohort_work: std::sync::Arc<tokio::sync::Notify>,
    /// Turns true when the server stops: a stream still open ends then, so that it does not
    /// hold the shutdown until its bound.
    stopping: tokio::sync::watch::Receiver<bool>,
}

impl Api {
    pub fn new(
        store: Store,
        cohort_work: std::sync::Arc<tokio::sync::Notify>,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Self {
            store,
            cohort_work,
            stopping,
        }
    }

    /// Authorizes, runs the handler, and maps its error to a status.
    async fn call<Req, Res, Fut>(
        &self,
        request: Request<Req>,
        action: Action,
        handler: impl FnOnce(Caller, Req) -> Fut,
    ) -> Result<Response<Res>, Status>
    where
        Fut: Future<Output = Result<Res, ServiceError>>,
    {
        // Counted when answered, or as cancelled if the deadline or the client ends it first.
        let observation = self.store.metrics.rpc.start(
            request
                .extensions()
                .get::<beckon_common::metrics::RpcPath>(),
        );
        let result = async {
            let caller = self.authorize(request.metadata(), action).await?;
            handler(caller, request.into_inner()).await
        }
        .await;
        let answer = result.map(Response::new).map_err(status::to_status);
        if let Some(observation) = observation {
            observation.finish(match &answer {
                Ok(_) => tonic::Code::Ok,
                Err(status) => status.code(),
            });
        }
        answer
    }

    async fn authorize(
        &self,
        metadata: &MetadataMap,
        action: Action,
    ) -> Result<Caller, ServiceError> {
        let key = metadata
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .ok_or(ServiceError::MissingKey)?;
        let caller = org::authenticate(&self.store, key.trim()).await?;
        if caller.scope.allows(action) {
            Ok(caller)
        } else {
            Err(ServiceError::PermissionDenied(action))
        }
    }

    pub fn job_service(&self) -> pb::job_service_server::JobServiceServer<Api> {
        let limit = self.store.config.max_request_bytes;
        pb::job_service_server::JobServiceServer::new(self.clone()).max_decoding_message_size(limit)
    }

    pub fn candidate_service(&self) -> pb::candidate_service_server::CandidateServiceServer<Api> {
        let limit = self.store.config.max_request_bytes;
        pb::candidate_service_server::CandidateServiceServer::new(self.clone())
            .max_decoding_message_size(limit)
    }

    pub fn invite_service(&self) -> pb::invite_service_server::InviteServiceServer<Api> {
        let limit = self.store.config.max_request_bytes;
        pb::invite_service_server::InviteServiceServer::new(self.clone())
            .max_decoding_message_size(limit)
    }

    pub fn organization_service(
        &self,
    ) -> pb::organization_service_server::OrganizationServiceServer<Api> {
        let limit = self.store.config.max_request_bytes;
        pb::organization_service_server::OrganizationServiceServer::new(self.clone())
            .max_decoding_message_size(limit)
    }
}

/// A call that takes no key (a public registration, an enrolment code's trade): counted like
/// every RPC, and handled with the client's address, for the abuse limits that stand in for
/// authentication (a forwarded header counts only when a trusted proxy sent it).
async fn keyless<Req, Res, Fut>(
    store: &Store,
    proxies: &crate::links::forwarded::TrustedProxies,
    request: Request<Req>,
    handler: impl FnOnce(Option<std::net::IpAddr>, Req) -> Fut,
) -> Result<Response<Res>, Status>
where
    Fut: Future<Output = Result<Res, ServiceError>>,
{
    let observation = store.metrics.rpc.start(
        request
            .extensions()
            .get::<beckon_common::metrics::RpcPath>(),
    );
    let forwarded: Vec<&str> = request
        .metadata()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let client = proxies.client_address(request.remote_addr(), &forwarded);
    let answer = handler(client, request.into_inner())
        .await
        .map(Response::new)
        .map_err(status::to_status);
    if let Some(observation) = observation {
        observation.finish(
            answer
                .as_ref()
                .map_or_else(Status::code, |_| tonic::Code::Ok),
        );
    }
    answer
}

/// A create call's request id with a fingerprint of the rest of the message, so that a reused
/// request id with another body is refused.
fn request_id<M: prost::Message + Clone>(
    v: &mut Violations,
    message: &M,
    raw_request_id: &str,
    clear_request_id: impl FnOnce(&mut M),
) -> Option<RequestId> {
    let request_id = v.request_id(raw_request_id)?;
    let mut body = message.clone();
    clear_request_id(&mut body);
    Some(RequestId {
        request_id,
        body_fingerprint: sha256_hex(&body.encode_to_vec()),
    })
}

/// The paths of an update mask, or the non-empty fields when no mask was sent (AIP-134).
fn mask_paths(
    v: &mut Violations,
    mask: Option<prost_types::FieldMask>,
    allowed: &[&str],
    populated: impl FnOnce() -> Vec<&'static str>,
) -> Vec<String> {
    let paths = match mask {
        Some(mask) if !mask.paths.is_empty() => mask.paths,
        _ => populated().into_iter().map(String::from).collect(),
    };
    for path in &paths {
        if !allowed.contains(&path.as_str()) {
            v.add(
                "update_mask",
                format!(
                    "`{path}` cannot be updated; allowed: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
    paths
}
