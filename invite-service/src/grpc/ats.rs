//! AtsService: what Beckon's calls back to an applicant tracking system need (the
//! organization's key for the ATS's API), and what the ATS reported about Beckon's answers.
use beckon_proto::invite::v1::{self as pb, ats_service_server::AtsService};
use tonic::{Request, Response, Status};

use super::{convert, Api};
use crate::{
    db::entities::ats_callback,
    domain::{ats::Ats, validate::Violations, Action, WebhookDeliveryStatus},
    error::ServiceError,
    store::{
        ats::{self as store_ats, callbacks},
        Caller,
    },
};

/// An API key of an ATS, pasted: bounded and on one line.
const MAX_API_KEY: usize = 500;

impl Api {
    pub fn ats_service(&self) -> pb::ats_service_server::AtsServiceServer<Api> {
        let limit = self.store.config.max_request_bytes;
        pb::ats_service_server::AtsServiceServer::new(self.clone()).max_decoding_message_size(limit)
    }

    async fn ats_connection(
        &self,
        caller: &Caller,
        ats: Ats,
    ) -> Result<pb::AtsConnection, ServiceError> {
        let set_at = store_ats::api_key_set_at(&self.store, caller, ats).await?;
        Ok(pb::AtsConnection {
            ats: wire_ats(ats) as i32,
            api_key_set: set_at.is_some(),
            update_time: set_at.map(convert::timestamp),
        })
    }
}

fn wire_ats(ats: Ats) -> pb::Ats {
    match ats {
        Ats::Greenhouse => pb::Ats::Greenhouse,
        Ats::Ashby => pb::Ats::Ashby,
    }
}

fn parse_ats(v: &mut Violations, value: i32) -> Option<Ats> {
    match pb::Ats::try_from(value) {
        Ok(pb::Ats::Greenhouse) => Some(Ats::Greenhouse),
        Ok(pb::Ats::Ashby) => Some(Ats::Ashby),
        Ok(pb::Ats::Unspecified) => {
            v.add("ats", "is required: GREENHOUSE or ASHBY");
            None
        }
        Err(_) => {
            v.add("ats", format!("{value} is not an Ats"));
            None
        }
    }
}

fn wire_callback(callback: ats_callback::Model) -> pb::AtsCallback {
    pb::AtsCallback {
        id: callback.id.to_string(),
        ats: wire_ats(callback.ats) as i32,
        invite_id: callback.invite_id.to_string(),
        status: match callback.status {
            WebhookDeliveryStatus::Pending => pb::WebhookMessageStatus::Pending,
            WebhookDeliveryStatus::Delivered => pb::WebhookMessageStatus::Delivered,
            WebhookDeliveryStatus::Failed => pb::WebhookMessageStatus::Failed,
        } as i32,
        attempt_count: callback.attempt_count,
        last_response_status: callback.last_response_status.unwrap_or(0),
        last_error: callback.last_error,
        create_time: Some(convert::timestamp(callback.created_at)),
        next_attempt_time: (callback.status == WebhookDeliveryStatus::Pending)
            .then(|| convert::timestamp(callback.next_attempt_at)),
    }
}

#[tonic::async_trait]
impl AtsService for Api {
    async fn set_ats_api_key(
        &self,
        request: Request<pb::SetAtsApiKeyRequest>,
    ) -> Result<Response<pb::AtsConnection>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let ats = parse_ats(&mut v, req.ats);
                if ats == Some(Ats::Greenhouse) {
                    v.add(
                    "ats",
                    "Greenhouse needs no key of its own: its callbacks carry the key it presents",
                );
                }
                let key = v.single_line("api_key", &req.api_key, MAX_API_KEY);
                let ats = v.finish_with("ats", ats)?;
                let key = (!key.is_empty()).then_some(key);
                store_ats::set_api_key(&self.store, &caller, ats, key.as_deref()).await?;
                self.ats_connection(&caller, ats).await
            },
        )
        .await
    }

    async fn get_ats_connection(
        &self,
        request: Request<pb::GetAtsConnectionRequest>,
    ) -> Result<Response<pb::AtsConnection>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let ats = parse_ats(&mut v, req.ats);
                let ats = v.finish_with("ats", ats)?;
                self.ats_connection(&caller, ats).await
            },
        )
        .await
    }

    async fn list_ats_errors(
        &self,
        request: Request<pb::ListAtsErrorsRequest>,
    ) -> Result<Response<pb::ListAtsErrorsResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let size = match req.page_size {
                    0 => 100,
                    n if (1..=1000).contains(&n) => n as u64,
                    _ => {
                        return Err(ServiceError::invalid(
                            "page_size",
                            "must be between 0 and 1000",
                        ))
                    }
                };
                let errors = store_ats::list_errors(&self.store, &caller, size).await?;
                Ok(pb::ListAtsErrorsResponse {
                    errors: errors
                        .into_iter()
                        .map(|e| pb::AtsError {
                            id: e.id.to_string(),
                            ats: wire_ats(e.ats) as i32,
                            api_call: e.api_call,
                            invite_id: e.invite_id.map(|id| id.to_string()).unwrap_or_default(),
                            report: e.report,
                            create_time: Some(convert::timestamp(e.created_at)),
                        })
                        .collect(),
                })
            },
        )
        .await
    }

    async fn list_ats_callbacks(
        &self,
        request: Request<pb::ListAtsCallbacksRequest>,
    ) -> Result<Response<pb::ListAtsCallbacksResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let invite_id =
                    (!req.invite_id.trim().is_empty()).then(|| v.id("invite_id", &req.invite_id));
                let status = match pb::WebhookMessageStatus::try_from(req.status) {
                    Ok(pb::WebhookMessageStatus::Unspecified) => None,
                    Ok(pb::WebhookMessageStatus::Pending) => Some(WebhookDeliveryStatus::Pending),
                    Ok(pb::WebhookMessageStatus::Delivered) => {
                        Some(WebhookDeliveryStatus::Delivered)
                    }
                    Ok(pb::WebhookMessageStatus::Failed) => Some(WebhookDeliveryStatus::Failed),
                    Err(_) => {
                        v.add(
                            "status",
                            format!("{} is not a WebhookMessageStatus", req.status),
                        );
                        None
                    }
                };
                let size = v.page_size(req.page_size);
                v.finish()?;
                let found = callbacks::list(&self.store, &caller, invite_id, status, size).await?;
                Ok(pb::ListAtsCallbacksResponse {
                    callbacks: found.into_iter().map(wire_callback).collect(),
                })
            },
        )
        .await
    }

    async fn retry_ats_callback(
        &self,
        request: Request<pb::RetryAtsCallbackRequest>,
    ) -> Result<Response<pb::AtsCallback>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let id = v.id("id", &req.id);
                v.finish()?;
                callbacks::retry_now(&self.store, &caller, id)
                    .await
                    .map(wire_callback)
            },
        )
        .await
    }
}
