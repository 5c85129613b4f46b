use beckon_proto::invite::v1::{self as pb, organization_service_server::OrganizationService};
use tonic::{Request, Response, Status};

use super::{convert, mask_paths, request_id, Api};
use crate::{
    domain::{validate::*, Action},
    store::{
        enrollments,
        organization::{self as org, MemberChanges, NewMember, OrganizationChanges},
        paging::Page,
    },
};

/// How long an enrolment link works unless asked otherwise, and at most.
const DEFAULT_ENROLLMENT_HOURS: i32 = 72;
const MAX_ENROLLMENT_HOURS: i32 = 7 * 24;
/// The name of a key made by an enrolment when the admin gave none.
const DEFAULT_ENROLLMENT_KEY_NAME: &str = "Browser extension";

/// Reported by GetCaller so clients can tell an older server from a broken one.
pub const API_VERSION: &str = "1.0";

#[tonic::async_trait]
impl OrganizationService for Api {
    async fn get_caller(
        &self,
        request: Request<pb::GetCallerRequest>,
    ) -> Result<Response<pb::Caller>, Status> {
        self.call(request, Action::ReadCaller, |caller, _| async move {
            let (organization, key) = org::caller_details(&self.store, &caller).await?;
            Ok(pb::Caller {
                organization_id: organization.id.to_string(),
                organization_name: organization.name,
                api_key: Some(convert::api_key(key)),
                api_version: API_VERSION.into(),
            })
        })
        .await
    }

    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        self.call(request, Action::ReadCaller, |caller, _| async move {
            org::get_organization(&self.store, &caller)
                .await
                .map(convert::organization)
        })
        .await
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let o = req.organization.unwrap_or_default();
                let paths =
                    mask_paths(&mut v, req.update_mask, &["name", "default_locale"], || {
                        let mut paths = Vec::new();
                        if !o.name.is_empty() {
                            paths.push("name");
                        }
                        if !o.default_locale.is_empty() {
                            paths.push("default_locale");
                        }
                        paths
                    });
                let has = |p: &str| paths.iter().any(|path| path == p);
                let changes = OrganizationChanges {
                    name: has("name")
                        .then(|| v.required_line("organization.name", &o.name, MAX_TITLE)),
                    default_locale: has("default_locale").then(|| {
                        // Every chain ends here: it cannot be empty.
                        v.locale("organization.default_locale", &o.default_locale)
                            .unwrap_or_else(|| {
                                if o.default_locale.trim().is_empty() {
                                    v.add("organization.default_locale", "is required");
                                }
                                String::new()
                            })
                    }),
                };
                if paths.is_empty() {
                    v.add("update_mask", "names no field to update");
                }
                v.finish()?;
                org::update_organization(&self.store, &caller, changes)
                    .await
                    .map(convert::organization)
            },
        )
        .await
    }

    async fn create_member(
        &self,
        request: Request<pb::CreateMemberRequest>,
    ) -> Result<Response<pb::Member>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
                let m = req.member.unwrap_or_default();
                let email = v.required_email("member.email", &m.email);
                let name = v.single_line("member.name", &m.name, MAX_NAME);
                let time_zone = v.time_zone("member.time_zone", &m.time_zone);
                let locale = v.locale("member.locale", &m.locale);
                let new = NewMember {
                    email: v.finish_with("member.email", email)?,
                    name,
                    notify_started: m.notify_started,
                    notify_submitted: m.notify_submitted,
                    admin: m.admin,
                    time_zone,
                    locale,
                };
                org::create_member(&self.store, &caller, new, request)
                    .await
                    .map(convert::member)
            },
        )
        .await
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Result<Response<pb::ListMembersResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let page = Page::parse(&mut v, req.page_size, &req.page_token, "members".into());
                v.finish()?;
                let (rows, next_page_token) =
                    org::list_members(&self.store, &caller, &page).await?;
                Ok(pb::ListMembersResponse {
                    members: rows.into_iter().map(convert::member).collect(),
                    next_page_token,
                })
            },
        )
        .await
    }

    async fn update_member(
        &self,
        request: Request<pb::UpdateMemberRequest>,
    ) -> Result<Response<pb::Member>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let m = req.member.unwrap_or_default();
                let id = v.id("member.id", &m.id);
                let paths = mask_paths(
                    &mut v,
                    req.update_mask,
                    &[
                        "name",
                        "notify_started",
                        "notify_submitted",
                        "admin",
                        "time_zone",
                        "locale",
                    ],
                    // Booleans cannot be told apart from "not sent": without a mask, the fields
                    // a member had before `admin`, so older clients never take it away; a time
                    // zone when one is given.
                    || {
                        let mut paths = vec!["name", "notify_started", "notify_submitted"];
                        if !m.time_zone.is_empty() {
                            paths.push("time_zone");
                        }
                        if !m.locale.is_empty() {
                            paths.push("locale");
                        }
                        paths
                    },
                );
                let has = |p: &str| paths.iter().any(|path| path == p);
                let changes = MemberChanges {
                    name: has("name").then(|| v.single_line("member.name", &m.name, MAX_NAME)),
                    notify_started: has("notify_started").then_some(m.notify_started),
                    notify_submitted: has("notify_submitted").then_some(m.notify_submitted),
                    admin: has("admin").then_some(m.admin),
                    time_zone: has("time_zone")
                        .then(|| v.time_zone("member.time_zone", &m.time_zone)),
                    locale: has("locale").then(|| v.locale("member.locale", &m.locale)),
                };
                v.finish()?;
                org::update_member(&self.store, &caller, id, changes)
                    .await
                    .map(convert::member)
            },
        )
        .await
    }

    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
                let name = v.required_line("name", &req.name, MAX_NAME);
                let scope = convert::parse_scope(&mut v, "scope", req.scope);
                let owner =
                    (!req.member_id.trim().is_empty()).then(|| v.id("member_id", &req.member_id));
                v.finish()?;
                let Some(scope) = scope else {
                    return Err(crate::error::ServiceError::invalid("scope", "is required"));
                };
                let created =
                    org::create_key(&self.store, &caller, name, scope, owner, request).await?;
                Ok(pb::CreateApiKeyResponse {
                    api_key: Some(convert::api_key(created.key)),
                    secret: created.secret,
                })
            },
        )
        .await
    }

    async fn create_enrollment(
        &self,
        request: Request<pb::CreateEnrollmentRequest>,
    ) -> Result<Response<pb::CreateEnrollmentResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
                let member_id = v.id("member_id", &req.member_id);
                let key_name = if req.key_name.trim().is_empty() {
                    DEFAULT_ENROLLMENT_KEY_NAME.to_string()
                } else {
                    v.required_line("key_name", &req.key_name, MAX_NAME)
                };
                let hours = match req.valid_hours {
                    0 => DEFAULT_ENROLLMENT_HOURS,
                    h if (1..=MAX_ENROLLMENT_HOURS).contains(&h) => h,
                    _ => {
                        v.add(
                            "valid_hours",
                            format!("must be 1 to {MAX_ENROLLMENT_HOURS} (0 for {DEFAULT_ENROLLMENT_HOURS})"),
                        );
                        DEFAULT_ENROLLMENT_HOURS
                    }
                };
                v.finish()?;
                let created = enrollments::create(
                    &self.store,
                    &caller,
                    member_id,
                    key_name,
                    chrono::Duration::hours(i64::from(hours)),
                    request,
                )
                .await?;
                let enrollment = created.enrollment;
                Ok(pb::CreateEnrollmentResponse {
                    url: self.store.config.enrollment_url(&created.code),
                    code: created.code,
                    enrollment: Some(pb::Enrollment {
                        id: enrollment.id.to_string(),
                        member_id: enrollment.member_id.to_string(),
                        key_name: enrollment.key_name,
                        expire_time: Some(convert::timestamp(enrollment.expires_at)),
                    }),
                })
            },
        )
        .await
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let page = Page::parse(&mut v, req.page_size, &req.page_token, "keys".into());
                v.finish()?;
                let (rows, next_page_token) = org::list_keys(&self.store, &caller, &page).await?;
                Ok(pb::ListApiKeysResponse {
                    api_keys: rows.into_iter().map(convert::api_key).collect(),
                    next_page_token,
                })
            },
        )
        .await
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        self.call(
            request,
            Action::ManageOrganization,
            |caller, req| async move {
                let mut v = Violations::new();
                let id = v.id("id", &req.id);
                v.finish()?;
                org::revoke_key(&self.store, &caller, id)
                    .await
                    .map(convert::api_key)
            },
        )
        .await
    }
}
