//! EnrollmentService.RedeemEnrollment, which takes no key: the one-time code is the credential,
//! and a per-address limit stands in for authentication.
use beckon_proto::invite::v1::{self as pb, enrollment_service_server::EnrollmentService};
use tonic::{Request, Response, Status};

use super::{convert, keyless, public::Keyless, request_id};
use crate::{
    domain::{secret, validate::Violations},
    store::enrollments,
};

/// The code in what was pasted: a bare code, or the enrolment link with the code after `#`.
fn code_in(pasted: &str) -> &str {
    let pasted = pasted.trim();
    pasted.rsplit_once('#').map_or(pasted, |(_, code)| code)
}

#[tonic::async_trait]
impl EnrollmentService for Keyless {
    async fn redeem_enrollment(
        &self,
        request: Request<pb::RedeemEnrollmentRequest>,
    ) -> Result<Response<pb::RedeemEnrollmentResponse>, Status> {
        keyless(
            &self.store,
            &self.proxies,
            request,
            |client, req| async move {
                let mut v = Violations::new();
                let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
                let code = code_in(&req.code);
                let body = secret::enrollment_code_body(code);
                if code.is_empty() {
                    v.add("code", "is required");
                } else if body.is_none() {
                    v.add(
                        "code",
                        "is not an enrolment code (be_ and 43 letters, digits, - or _)",
                    );
                }
                v.finish()?;
                let Some(body) = body else {
                    return Err(crate::error::ServiceError::invalid("code", "is required"));
                };
                self.limits.admit_redemption(client).await?;
                let redeemed = enrollments::redeem(&self.store, body, request).await?;
                tracing::info!(key_id = %redeemed.key.id, "enrolment code traded for a key");
                Ok(pb::RedeemEnrollmentResponse {
                    api_key: Some(convert::api_key(redeemed.key)),
                    secret: redeemed.secret,
                    organization_name: redeemed.organization.name,
                })
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::code_in;

    #[test]
    fn the_code_is_found_in_a_pasted_link_or_alone() {
        assert_eq!(code_in(" be_abc "), "be_abc");
        assert_eq!(code_in("https://beckon.example/enroll#be_abc"), "be_abc");
    }
}
