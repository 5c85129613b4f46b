//! WebhookService: endpoints, their secrets, and the messages and attempts sent to them.
use beckon_proto::invite::v1::{self as pb, webhook_service_server::WebhookService};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{convert, mask_paths, request_id, Api};
use crate::{
    config::Rate,
    domain::{validate::*, webhooks::WebhookEvent, Action, WebhookDeliveryStatus},
    error::ServiceError,
    store::{
        paging::Page,
        webhooks::{delivery, endpoints, EndpointChanges, NewEndpoint},
    },
    webhooks::{parse_message_id, resolve_checked, DestinationError, DestinationPolicy},
};

const MAX_DESCRIPTION: usize = 500;
/// The longest a rotated-out secret may keep signing.
const MAX_OVERLAP: chrono::Duration = chrono::Duration::days(7);
const DEFAULT_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

impl Api {
    pub fn webhook_service(&self) -> pb::webhook_service_server::WebhookServiceServer<Api> {
        let limit = self.store.config.max_request_bytes;
        pb::webhook_service_server::WebhookServiceServer::new(self.clone())
            .max_decoding_message_size(limit)
    }

    fn destinations(&self) -> Result<DestinationPolicy, ServiceError> {
        // Checked at start: this cannot fail on a running server.
        self.store
            .config
            .webhook_destinations()
            .map_err(|problem| ServiceError::Internal(anyhow::anyhow!(problem)))
    }
}

/// The URL, if it may receive webhooks: its form, and where its name resolves now. A name that
/// does not resolve yet is taken: it is checked again at every attempt.
async fn checked_url(
    v: &mut Violations,
    policy: &DestinationPolicy,
    field: &str,
    raw: &str,
) -> String {
    let raw = raw.trim();
    if raw.is_empty() {
        v.add(field, "is required");
        return String::new();
    }
    if raw.len() > MAX_URL {
        v.add(field, format!("must be at most {MAX_URL} characters"));
        return String::new();
    }
    match policy.check_url(raw) {
        Ok(url) => {
            let host = url.host_str().unwrap_or_default();
            let port = url.port_or_known_default().unwrap_or(443);
            match resolve_checked(policy, host, port).await {
                Ok(_)
                | Err(DestinationError::Unresolved { .. } | DestinationError::NoAddress { .. }) => {
                }
                Err(refused) => v.add(field, refused.to_string()),
            }
            url.to_string()
        }
        Err(refused) => {
            v.add(field, refused.to_string());
            String::new()
        }
    }
}

fn event_types(v: &mut Violations, field: &str, names: &[String]) -> Vec<WebhookEvent> {
    let mut events = Vec::new();
    for name in names {
        match WebhookEvent::parse(name.trim()) {
            Some(WebhookEvent::Ping) => v.add(
                field,
                "`ping` is sent only on request (SendWebhookPing), to every endpoint; leave it out",
            ),
            Some(event) if !events.contains(&event) => events.push(event),
            Some(_) => {}
            None => v.add(
                field,
                format!(
                    "`{name}` is not an event type; known: {}",
                    WebhookEvent::ALL
                        .iter()
                        .filter(|e| **e != WebhookEvent::Ping)
                        .map(|e| e.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    events
}

fn rate_limit(v: &mut Violations, field: &str, raw: &str) -> Option<Rate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<Rate>() {
        Ok(rate) => Some(rate),
        Err(problem) => {
            v.add(field, format!("{problem}, e.g. `50/second burst 50`"));
            None
        }
    }
}

fn message_status(v: &mut Violations, raw: i32) -> Option<WebhookDeliveryStatus> {
    match pb::WebhookMessageStatus::try_from(raw) {
        Ok(pb::WebhookMessageStatus::Unspecified) => None,
        Ok(pb::WebhookMessageStatus::Pending) => Some(WebhookDeliveryStatus::Pending),
        Ok(pb::WebhookMessageStatus::Delivered) => Some(WebhookDeliveryStatus::Delivered),
        Ok(pb::WebhookMessageStatus::Failed) => Some(WebhookDeliveryStatus::Failed),
        Err(_) => {
            v.add("status", "is not a WebhookMessageStatus");
            None
        }
    }
}

fn message_id_field(v: &mut Violations, field: &str, raw: &str) -> Uuid {
    match parse_message_id(raw.trim()) {
        Some(id) => id,
        None => {
            v.add(
                field,
                "must be a message id as returned by this API (msg_…)",
            );
            Uuid::nil()
        }
    }
}

#[tonic::async_trait]
impl WebhookService for Api {
    async fn create_webhook_endpoint(
        &self,
        request: Request<pb::CreateWebhookEndpointRequest>,
    ) -> Result<Response<pb::CreateWebhookEndpointResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
                let e = req.endpoint.unwrap_or_default();
                let policy = self.destinations()?;
                let new = NewEndpoint {
                    url: checked_url(&mut v, &policy, "endpoint.url", &e.url).await,
                    description: v.text("endpoint.description", &e.description, MAX_DESCRIPTION),
                    event_types: event_types(&mut v, "endpoint.event_types", &e.event_types),
                    // A new endpoint is on unless it says otherwise: proto3 cannot tell an unset
                    // bool from false, and an endpoint made to stay off is rare.
                    enabled: true,
                    rate_limit: rate_limit(&mut v, "endpoint.rate_limit", &e.rate_limit),
                };
                v.finish()?;
                let created = endpoints::create(&self.store, &caller, new, request).await?;
                Ok(pb::CreateWebhookEndpointResponse {
                    endpoint: Some(convert::webhook_endpoint(created.endpoint)),
                    secret: created.secret.expose(),
                })
            },
        )
        .await
    }

    async fn get_webhook_endpoint(
        &self,
        request: Request<pb::GetWebhookEndpointRequest>,
    ) -> Result<Response<pb::WebhookEndpoint>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let id = v.id("id", &req.id);
                v.finish()?;
                endpoints::get(&self.store, &caller, id)
                    .await
                    .map(convert::webhook_endpoint)
            },
        )
        .await
    }

    async fn list_webhook_endpoints(
        &self,
        request: Request<pb::ListWebhookEndpointsRequest>,
    ) -> Result<Response<pb::ListWebhookEndpointsResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let page = Page::parse(&mut v, req.page_size, &req.page_token, "endpoints".into());
                v.finish()?;
                let (rows, next_page_token) = endpoints::list(&self.store, &caller, &page).await?;
                Ok(pb::ListWebhookEndpointsResponse {
                    endpoints: rows.into_iter().map(convert::webhook_endpoint).collect(),
                    next_page_token,
                })
            },
        )
        .await
    }

    async fn update_webhook_endpoint(
        &self,
        request: Request<pb::UpdateWebhookEndpointRequest>,
    ) -> Result<Response<pb::WebhookEndpoint>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let e = req.endpoint.unwrap_or_default();
                let id = v.id("endpoint.id", &e.id);
                const FIELDS: &[&str] =
                    &["url", "description", "event_types", "enabled", "rate_limit"];
                // Without a mask: the fields sent. `enabled` cannot be told from "not sent", so
                // it needs the mask.
                let paths = mask_paths(&mut v, req.update_mask, FIELDS, || {
                    let mut sent = Vec::new();
                    if !e.url.is_empty() {
                        sent.push("url");
                    }
                    if !e.description.is_empty() {
                        sent.push("description");
                    }
                    if !e.event_types.is_empty() {
                        sent.push("event_types");
                    }
                    if !e.rate_limit.is_empty() {
                        sent.push("rate_limit");
                    }
                    sent
                });
                let has = |p: &str| paths.iter().any(|path| path == p);
                let policy = self.destinations()?;
                let url = if has("url") {
                    Some(checked_url(&mut v, &policy, "endpoint.url", &e.url).await)
                } else {
                    None
                };
                if paths.is_empty() {
                    v.add(
                        "update_mask",
                        "names nothing to change; list the fields to update (url, description, \
                         event_types, enabled, rate_limit)",
                    );
                }
                let changes = EndpointChanges {
                    url,
                    description: has("description")
                        .then(|| v.text("endpoint.description", &e.description, MAX_DESCRIPTION)),
                    event_types: has("event_types")
                        .then(|| event_types(&mut v, "endpoint.event_types", &e.event_types)),
                    enabled: has("enabled").then_some(e.enabled),
                    rate_limit: has("rate_limit")
                        .then(|| rate_limit(&mut v, "endpoint.rate_limit", &e.rate_limit)),
                };
                v.finish()?;
                endpoints::update(&self.store, &caller, id, changes)
                    .await
                    .map(convert::webhook_endpoint)
            },
        )
        .await
    }

    async fn delete_webhook_endpoint(
        &self,
        request: Request<pb::DeleteWebhookEndpointRequest>,
    ) -> Result<Response<pb::DeleteWebhookEndpointResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let id = v.id("id", &req.id);
                v.finish()?;
                endpoints::delete(&self.store, &caller, id).await?;
                Ok(pb::DeleteWebhookEndpointResponse {})
            },
        )
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        request: Request<pb::RotateWebhookSecretRequest>,
    ) -> Result<Response<pb::RotateWebhookSecretResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let id = v.id("id", &req.id);
                let overlap = match req.overlap {
                    None => DEFAULT_OVERLAP,
                    Some(d) if d.seconds < 0 || !(0..1_000_000_000).contains(&d.nanos) => {
                        v.add("overlap", "must be a duration of zero or more");
                        DEFAULT_OVERLAP
                    }
                    Some(d) => match chrono::Duration::try_seconds(d.seconds) {
                        Some(whole) if whole <= MAX_OVERLAP => {
                            whole + chrono::Duration::nanoseconds(i64::from(d.nanos))
                        }
                        _ => {
                            v.add("overlap", "must be at most 7 days");
                            DEFAULT_OVERLAP
                        }
                    },
                };
                v.finish()?;
                let rotated = endpoints::rotate_secret(&self.store, &caller, id, overlap).await?;
                Ok(pb::RotateWebhookSecretResponse {
                    endpoint: Some(convert::webhook_endpoint(rotated.endpoint)),
                    secret: rotated.secret.expose(),
                })
            },
        )
        .await
    }

    async fn send_webhook_ping(
        &self,
        request: Request<pb::SendWebhookPingRequest>,
    ) -> Result<Response<pb::WebhookMessage>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let id = v.id("endpoint_id", &req.endpoint_id);
                v.finish()?;
                delivery::ping(&self.store, &caller, id)
                    .await
                    .map(convert::webhook_message)
            },
        )
        .await
    }

    async fn list_webhook_messages(
        &self,
        request: Request<pb::ListWebhookMessagesRequest>,
    ) -> Result<Response<pb::ListWebhookMessagesResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let endpoint_id = v.id("endpoint_id", &req.endpoint_id);
                let status = message_status(&mut v, req.status);
                let filter = format!("messages {endpoint_id} {}", req.status);
                let page = Page::parse(&mut v, req.page_size, &req.page_token, filter);
                v.finish()?;
                let (rows, next_page_token) =
                    delivery::list_messages(&self.store, &caller, endpoint_id, status, &page)
                        .await?;
                Ok(pb::ListWebhookMessagesResponse {
                    messages: rows.into_iter().map(convert::webhook_message).collect(),
                    next_page_token,
                })
            },
        )
        .await
    }

    async fn list_webhook_attempts(
        &self,
        request: Request<pb::ListWebhookAttemptsRequest>,
    ) -> Result<Response<pb::ListWebhookAttemptsResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let endpoint_id = v.id("endpoint_id", &req.endpoint_id);
                let message = (!req.message_id.trim().is_empty())
                    .then(|| message_id_field(&mut v, "message_id", &req.message_id));
                let filter = format!("attempts {endpoint_id} {}", req.message_id.trim());
                let page = Page::parse(&mut v, req.page_size, &req.page_token, filter);
                v.finish()?;
                let (rows, next_page_token) =
                    delivery::list_attempts(&self.store, &caller, endpoint_id, message, &page)
                        .await?;
                Ok(pb::ListWebhookAttemptsResponse {
                    attempts: rows.into_iter().map(convert::webhook_attempt).collect(),
                    next_page_token,
                })
            },
        )
        .await
    }

    async fn replay_webhook_message(
        &self,
        request: Request<pb::ReplayWebhookMessageRequest>,
    ) -> Result<Response<pb::WebhookMessage>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let endpoint_id = v.id("endpoint_id", &req.endpoint_id);
                let message = message_id_field(&mut v, "message_id", &req.message_id);
                v.finish()?;
                delivery::replay(&self.store, &caller, endpoint_id, message)
                    .await
                    .map(convert::webhook_message)
            },
        )
        .await
    }

    async fn replay_failed_webhook_messages(
        &self,
        request: Request<pb::ReplayFailedWebhookMessagesRequest>,
    ) -> Result<Response<pb::ReplayFailedWebhookMessagesResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let endpoint_id = v.id("endpoint_id", &req.endpoint_id);
                let since = match &req.since {
                    Some(ts) => convert::from_timestamp(&mut v, "since", ts),
                    None => {
                        v.add("since", "is required: messages created since when");
                        None
                    }
                };
                v.finish()?;
                let since = since.ok_or_else(|| ServiceError::invalid("since", "is required"))?;
                let replayed =
                    delivery::replay_failed(&self.store, &caller, endpoint_id, since).await?;
                Ok(pb::ReplayFailedWebhookMessagesResponse {
                    replayed: u32::try_from(replayed).unwrap_or(u32::MAX),
                })
            },
        )
        .await
    }
}
