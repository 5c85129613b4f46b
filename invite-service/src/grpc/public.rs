//! Public registration links: JobService's SetJobPublicLink and RotateJobPublicLink (for keys
//! that may change jobs), and PublicRegistrationService.Register, which takes no key: the public
//! link's token is the credential, and the abuse limits stand in for authentication.
use std::sync::Arc;

use beckon_proto::invite::v1::{
    self as pb,
    enrollment_service_server::EnrollmentServiceServer,
    public_registration_service_server::{
        PublicRegistrationService, PublicRegistrationServiceServer,
    },
};
use tonic::{Request, Response, Status};

use super::{convert, keyless, Api};
use crate::{
    domain::{validate::Violations, Action},
    links::forwarded::TrustedProxies,
    store::{
        public::{self, Limits, PublicLinkChange, Registrant},
        Store,
    },
};

fn answer(change: PublicLinkChange) -> pb::SetJobPublicLinkResponse {
    pb::SetJobPublicLinkResponse {
        job: Some(convert::job(change.job)),
        public_url: change.public_url.unwrap_or_default(),
    }
}

pub async fn set_job_public_link(
    api: &Api,
    request: Request<pb::SetJobPublicLinkRequest>,
) -> Result<Response<pb::SetJobPublicLinkResponse>, Status> {
    api.call(request, Action::WriteJobs, |caller, req| async move {
        let mut v = Violations::new();
        let id = v.id("job_id", &req.job_id);
        v.finish()?;
        public::set_enabled(&api.store, &caller, id, req.enabled)
            .await
            .map(answer)
    })
    .await
}

pub async fn rotate_job_public_link(
    api: &Api,
    request: Request<pb::RotateJobPublicLinkRequest>,
) -> Result<Response<pb::SetJobPublicLinkResponse>, Status> {
    api.call(request, Action::WriteJobs, |caller, req| async move {
        let mut v = Violations::new();
        let id = v.id("job_id", &req.job_id);
        v.finish()?;
        public::rotate(&api.store, &caller, id).await.map(answer)
    })
    .await
}

/// The services that take no key: PublicRegistrationService (the gRPC twin of the `/p/{token}`
/// page, here) and EnrollmentService (`enrollment.rs`). Their abuse limits, by the client's
/// address, stand in for authentication.
#[derive(Clone)]
pub struct Keyless {
    pub(super) store: Store,
    pub(super) limits: Arc<Limits>,
    pub(super) proxies: TrustedProxies,
}

impl Keyless {
    pub fn new(store: Store, limits: Arc<Limits>) -> Self {
        Self {
            proxies: TrustedProxies::new(&store.config),
            store,
            limits,
        }
    }

    pub fn registration_server(self) -> PublicRegistrationServiceServer<Self> {
        let limit = self.store.config.max_request_bytes;
        PublicRegistrationServiceServer::new(self).max_decoding_message_size(limit)
    }

    pub fn enrollment_server(self) -> EnrollmentServiceServer<Self> {
        let limit = self.store.config.max_request_bytes;
        EnrollmentServiceServer::new(self).max_decoding_message_size(limit)
    }
}

#[tonic::async_trait]
impl PublicRegistrationService for Keyless {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        keyless(
            &self.store,
            &self.proxies,
            request,
            |client, req| async move {
                let mut v = Violations::new();
                if req.public_token.trim().is_empty() {
                    v.add("public_token", "is required");
                }
                let registrant = Registrant::parse(&mut v, &req.name, &req.email);
                let locale = v.locale("locale", &req.locale);
                let mut registrant = v.finish_with("email", registrant)?;
                registrant.locale = locale;
                let registered = public::register(
                    &self.store,
                    &self.limits,
                    req.public_token.trim(),
                    &registrant,
                    client,
                )
                .await?;
                registered.log();
                // The same answer for a known and an unknown email.
                Ok(pb::RegisterResponse {})
            },
        )
        .await
    }
}
