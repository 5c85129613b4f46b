//! The gRPC edge of notify-service: the only code that knows prost types and `tonic::Status`.
mod convert;
pub mod status;

use std::sync::Arc;

use beckon_i18n::Locale;
use beckon_proto::notify::v1::{self as pb, notify_service_server::NotifyService};
use tonic::{metadata::MetadataMap, Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{self, RawMessage},
    error::{FieldViolation, NotifyError},
    queue::Queue,
    store::{DeliveryFilter, Store},
    templates::{self, TemplateSource},
};

pub const MAX_BATCH: usize = 1000;
const MAX_CHECK: usize = 10_000;
const MAX_PAGE_SIZE: i32 = 1000;
const DEFAULT_PAGE_SIZE: u64 = 100;

#[derive(Clone)]
pub struct NotifyApi {
    store: Store,
    queue: Arc<dyn Queue>,
}

impl NotifyApi {
    pub fn new(store: Store, queue: Arc<dyn Queue>) -> Self {
        Self { store, queue }
    }

    pub fn service(&self) -> pb::notify_service_server::NotifyServiceServer<NotifyApi> {
        pb::notify_service_server::NotifyServiceServer::new(self.clone())
            .max_decoding_message_size(self.store.config.max_request_bytes)
    }

    fn authorize(&self, metadata: &MetadataMap) -> Result<(), NotifyError> {
        let Some(expected) = &self.store.config.auth_token else {
            return Ok(());
        };
        let presented = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if tokens_match(presented, expected.expose()) {
            Ok(())
        } else {
            Err(NotifyError::Unauthenticated)
        }
    }

    async fn call<Req, Res, Fut>(
        &self,
        request: Request<Req>,
        handler: impl FnOnce(Req) -> Fut,
    ) -> Result<Response<Res>, Status>
    where
        Fut: std::future::Future<Output = Result<Res, NotifyError>>,
    {
        // Counted when answered, or as cancelled if the deadline or the client ends it first.
        let observation = self.store.metrics.rpc.start(
            request
                .extensions()
                .get::<beckon_common::metrics::RpcPath>(),
        );
        let result = async {
            self.authorize(request.metadata())?;
            handler(request.into_inner()).await
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
}

/// Compares digests in constant time: the time says nothing about where the tokens differ,
/// nor about their lengths.
fn tokens_match(presented: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    Sha256::digest(presented.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into()
}

fn page(
    violations: &mut Vec<FieldViolation>,
    page_size: i32,
    page_token: &str,
) -> (u64, Option<String>) {
    let size = match page_size {
        0 => DEFAULT_PAGE_SIZE,
        1..=MAX_PAGE_SIZE => page_size as u64,
        _ => {
            violations.push(FieldViolation {
                field: "page_size".into(),
                description: format!("must be between 1 and {MAX_PAGE_SIZE}, or 0"),
            });
            DEFAULT_PAGE_SIZE
        }
    };
    let after = (!page_token.is_empty()).then(|| page_token.to_string());
    (size, after)
}

#[tonic::async_trait]
impl NotifyService for NotifyApi {
    async fn enqueue_messages(
        &self,
        request: Request<pb::EnqueueMessagesRequest>,
    ) -> Result<Response<pb::EnqueueMessagesResponse>, Status> {
        self.call(request, |req| async move {
            if req.messages.is_empty() {
                return Err(NotifyError::invalid("messages", "at least one message"));
            }
            if req.messages.len() > MAX_BATCH {
                return Err(NotifyError::invalid(
                    "messages",
                    format!("at most {MAX_BATCH} messages per call"),
                ));
            }
            let mut violations = Vec::new();
            let mut messages = Vec::with_capacity(req.messages.len());
            for (i, m) in req.messages.iter().enumerate() {
                let field = format!("messages[{i}]");
                let not_before = m.not_before.as_ref().and_then(|ts| {
                    let at = convert::from_timestamp(ts);
                    if at.is_none() {
                        violations.push(FieldViolation {
                            field: format!("{field}.not_before"),
                            description: "is not a valid timestamp".into(),
                        });
                    }
                    at
                });
                let raw = RawMessage {
                    idempotency_key: &m.idempotency_key,
                    organization_id: &m.organization_id,
                    kind: convert::kind(m.kind),
                    recipient: &m.recipient,
                    recipient_name: &m.recipient_name,
                    variables: &m.variables,
                    not_before,
                    invite_id: &m.invite_id,
                    cohort_id: &m.cohort_id,
                    traceparent: &m.traceparent,
                    locale: &m.locale,
                };
                if let Some(message) = domain::validate_message(&field, raw, &mut violations) {
                    messages.push(message);
                }
            }
            let mut seen = std::collections::HashSet::new();
            for (i, m) in messages.iter().enumerate() {
                if !seen.insert(m.idempotency_key.as_str()) {
                    violations.push(FieldViolation {
                        field: format!("messages[{i}].idempotency_key"),
                        description: "appears twice in this batch".into(),
                    });
                }
            }
            domain::finish(violations)?;
            let stored = self.store.enqueue(&messages).await?;
            let (now_due, later): (Vec<_>, Vec<_>) = stored
                .iter()
                .filter(|(d, is_new)| *is_new && d.state == domain::DeliveryState::Queued)
                .map(|(d, _)| d)
                .partition(|d| d.next_attempt_at <= chrono::Utc::now());
            // Stored first, then published: if publishing fails the call fails, and the
            // reconciler (or the caller's retry) publishes the stored deliveries later.
            let ids: Vec<Uuid> = now_due.iter().map(|d| d.id).collect();
            self.queue.publish(&ids).await?;
            for d in later {
                self.queue.publish_at(d.id, d.next_attempt_at).await?;
            }
            Ok(pb::EnqueueMessagesResponse {
                deliveries: stored
                    .into_iter()
                    .map(|(d, _)| convert::delivery(d))
                    .collect(),
            })
        })
        .await
    }

    async fn get_delivery(
        &self,
        request: Request<pb::GetDeliveryRequest>,
    ) -> Result<Response<pb::Delivery>, Status> {
        self.call(request, |req| async move {
            if req.id.trim().is_empty() {
                return Err(NotifyError::invalid("id", "is required"));
            }
            self.store
                .deliveries_by_ids_or_keys(&[req.id.trim().to_string()])
                .await?
                .into_iter()
                .next()
                .map(convert::delivery)
                .ok_or(NotifyError::NotFound("delivery"))
        })
        .await
    }

    async fn batch_get_deliveries(
        &self,
        request: Request<pb::BatchGetDeliveriesRequest>,
    ) -> Result<Response<pb::BatchGetDeliveriesResponse>, Status> {
        self.call(request, |req| async move {
            if req.ids.len() > MAX_BATCH {
                return Err(NotifyError::invalid(
                    "ids",
                    format!("at most {MAX_BATCH} ids per call"),
                ));
            }
            let rows = self.store.deliveries_by_ids_or_keys(&req.ids).await?;
            Ok(pb::BatchGetDeliveriesResponse {
                deliveries: rows.into_iter().map(convert::delivery).collect(),
            })
        })
        .await
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        self.call(request, |req| async move {
            let mut violations = Vec::new();
            let org_id = if req.organization_id.is_empty() {
                None
            } else {
                match Uuid::parse_str(&req.organization_id) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        violations.push(FieldViolation {
                            field: "organization_id".into(),
                            description: "must be a UUID".into(),
                        });
                        None
                    }
                }
            };
            let state = match req.state {
                0 => None,
                value => {
                    let state = convert::state(value);
                    if state.is_none() {
                        violations.push(FieldViolation {
                            field: "state".into(),
                            description: format!("{value} is not a DeliveryState"),
                        });
                    }
                    state
                }
            };
            let (size, after) = page(&mut violations, req.page_size, &req.page_token);
            let after = match after.map(|t| Uuid::parse_str(&t)) {
                None => None,
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => {
                    violations.push(FieldViolation {
                        field: "page_token".into(),
                        description: "is not a page token returned by this API".into(),
                    });
                    None
                }
            };
            domain::finish(violations)?;
            let filter = DeliveryFilter {
                org_id,
                invite_id: (!req.invite_id.is_empty()).then_some(req.invite_id),
                cohort_id: (!req.cohort_id.is_empty()).then_some(req.cohort_id),
                state,
            };
            let (rows, last) = self.store.list_deliveries(&filter, after, size).await?;
            let next_page_token = last.map(|id| id.to_string()).unwrap_or_default();
            Ok(pb::ListDeliveriesResponse {
                deliveries: rows.into_iter().map(convert::delivery).collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn list_suppressions(
        &self,
        request: Request<pb::ListSuppressionsRequest>,
    ) -> Result<Response<pb::ListSuppressionsResponse>, Status> {
        self.call(request, |req| async move {
            let mut violations = Vec::new();
            let (size, after) = page(&mut violations, req.page_size, &req.page_token);
            domain::finish(violations)?;
            let (rows, last) = self.store.list_suppressions(after, size).await?;
            let next_page_token = last.unwrap_or_default();
            Ok(pb::ListSuppressionsResponse {
                suppressions: rows
                    .into_iter()
                    .map(|s| pb::Suppression {
                        address: s.address,
                        reason: s.reason,
                        create_time: Some(convert::timestamp(s.created_at)),
                    })
                    .collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn check_suppressions(
        &self,
        request: Request<pb::CheckSuppressionsRequest>,
    ) -> Result<Response<pb::CheckSuppressionsResponse>, Status> {
        self.call(request, |req| async move {
            if req.addresses.len() > MAX_CHECK {
                return Err(NotifyError::invalid(
                    "addresses",
                    format!("at most {MAX_CHECK} per call"),
                ));
            }
            let addresses: Vec<String> = req
                .addresses
                .iter()
                .map(|a| a.trim().to_lowercase())
                .collect();
            let org_id = match req.organization_id.trim() {
                "" => None,
                id => Some(Uuid::parse_str(id).map_err(|_| {
                    NotifyError::invalid("organization_id", "must be an organization id (a UUID)")
                })?),
            };
            Ok(pb::CheckSuppressionsResponse {
                suppressed: self.store.suppressed_among(org_id, &addresses).await?,
            })
        })
        .await
    }

    async fn delete_suppression(
        &self,
        request: Request<pb::DeleteSuppressionRequest>,
    ) -> Result<Response<pb::DeleteSuppressionResponse>, Status> {
        self.call(request, |req| async move {
            let address = req.address.trim().to_lowercase();
            if !domain::email_ok(&address) {
                return Err(NotifyError::invalid("address", "must be an email address"));
            }
            if self.store.unsuppress(&address).await? {
                Ok(pb::DeleteSuppressionResponse {})
            } else {
                Err(NotifyError::NotFound("suppression"))
            }
        })
        .await
    }

    async fn unsubscribe(
        &self,
        request: Request<pb::UnsubscribeRequest>,
    ) -> Result<Response<pb::UnsubscribeResponse>, Status> {
        self.call(request, |req| async move {
            let mut violations = Vec::new();
            let org_id = Uuid::parse_str(req.organization_id.trim()).ok();
            if org_id.is_none() {
                violations.push(FieldViolation {
                    field: "organization_id".into(),
                    description: "must be an organization id (a UUID)".into(),
                });
            }
            let address = req.address.trim().to_lowercase();
            if !domain::email_ok(&address) {
                violations.push(FieldViolation {
                    field: "address".into(),
                    description: "must be an email address".into(),
                });
            }
            domain::finish(violations)?;
            if let Some(org_id) = org_id {
                self.store.unsubscribe(org_id, &address).await?;
            }
            Ok(pb::UnsubscribeResponse {})
        })
        .await
    }

    async fn get_template(
        &self,
        request: Request<pb::GetTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        self.call(request, |req| async move {
            let (org_id, kind, locale) =
                template_key(&req.organization_id, req.kind, &req.locale, "")?;
            let Some(locale) = locale else {
                // The template for every language, as it was saved.
                return Ok(
                    match self.store.stored_template(org_id, kind, None).await? {
                        Some(source) => convert::template(org_id, kind, source, false, None),
                        None => convert::template(
                            org_id,
                            kind,
                            templates::default_template(kind),
                            true,
                            Some(Locale::FALLBACK),
                        ),
                    },
                );
            };
            Ok(match self.store.org_template(org_id, kind, locale).await? {
                Some((source, for_locale)) => {
                    convert::template(org_id, kind, source, false, for_locale)
                }
                None => convert::template(
                    org_id,
                    kind,
                    templates::default_template(kind),
                    true,
                    Some(locale),
                ),
            })
        })
        .await
    }

    async fn put_template(
        &self,
        request: Request<pb::PutTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        self.call(request, |req| async move {
            let t = req.template.unwrap_or_default();
            let (org_id, kind, locale) =
                template_key(&t.organization_id, t.kind, &t.locale, "template.")?;
            let source = TemplateSource {
                subject: t.subject,
                text_body: t.text_body,
                html_body: t.html_body,
            };
            templates::validate(&source, "template")?;
            self.store
                .put_template(org_id, kind, locale, &source)
                .await?;
            Ok(convert::template(org_id, kind, source, false, locale))
        })
        .await
    }

    async fn delete_template(
        &self,
        request: Request<pb::DeleteTemplateRequest>,
    ) -> Result<Response<pb::DeleteTemplateResponse>, Status> {
        self.call(request, |req| async move {
            let (org_id, kind, locale) =
                template_key(&req.organization_id, req.kind, &req.locale, "")?;
            self.store.delete_template(org_id, kind, locale).await?;
            Ok(pb::DeleteTemplateResponse {})
        })
        .await
    }

    async fn render_preview(
        &self,
        request: Request<pb::RenderPreviewRequest>,
    ) -> Result<Response<pb::RenderedMessage>, Status> {
        self.call(request, |req| async move {
            let m = req.message.unwrap_or_default();
            let mut violations = Vec::new();
            let raw = RawMessage {
                idempotency_key: if m.idempotency_key.is_empty() {
                    "preview"
                } else {
                    &m.idempotency_key
                },
                organization_id: &m.organization_id,
                kind: convert::kind(m.kind),
                recipient: &m.recipient,
                recipient_name: &m.recipient_name,
                variables: &m.variables,
                not_before: None,
                invite_id: &m.invite_id,
                cohort_id: &m.cohort_id,
                traceparent: &m.traceparent,
                locale: &m.locale,
            };
            let message = domain::validate_message("message", raw, &mut violations);
            domain::finish(violations)?;
            let message = message.ok_or_else(|| NotifyError::invalid("message", "is not valid"))?;
            let source = match self
                .store
                .org_template(message.org_id, message.kind, message.locale)
                .await?
            {
                Some((source, _)) => source,
                None => templates::default_template(message.kind),
            };
            let rendered = templates::render(
                &source,
                &message.variables,
                &message.recipient_name,
                message.locale,
            )
            .map_err(|e| NotifyError::invalid("message.variables", e.to_string()))?;
            Ok(pb::RenderedMessage {
                subject: rendered.subject,
                text_body: rendered.text_body,
                html_body: rendered.html_body,
                message_id: domain::message_id(
                    &message.idempotency_key,
                    &self.store.config.message_id_domain(),
                ),
            })
        })
        .await
    }
}

/// A template's organization, kind and language (`None`: every language).
fn template_key(
    organization_id: &str,
    kind: i32,
    locale: &str,
    prefix: &str,
) -> Result<(Uuid, domain::MessageKind, Option<Locale>), NotifyError> {
    let mut violations = Vec::new();
    let locale = match locale.trim() {
        "" => None,
        tag => match Locale::for_tag(tag) {
            Ok(locale) => Some(locale),
            Err(refused) => {
                violations.push(FieldViolation {
                    field: format!("{prefix}locale"),
                    description: refused.to_string(),
                });
                None
            }
        },
    };
    let org = Uuid::parse_str(organization_id).ok();
    if org.is_none() {
        violations.push(FieldViolation {
            field: format!("{prefix}organization_id"),
            description: "must be an organization id (a UUID)".into(),
        });
    }
    let kind = convert::kind(kind);
    if kind.is_none() {
        violations.push(FieldViolation {
            field: format!("{prefix}kind"),
            description: "must be a known MessageKind".into(),
        });
    }
    domain::finish(violations)?;
    match (org, kind) {
        (Some(org), Some(kind)) => Ok((org, kind, locale)),
        _ => Err(NotifyError::invalid("kind", "is required")),
    }
}
