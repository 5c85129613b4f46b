//! A job's public registration page: `GET /p/{token}` shows the form, `POST /p/{token}`
//! registers (form fields `name` and `email`). Unknown and turned-off links get the plain 404
//! page; a closed job's link says registrations are closed. Success says the same thing
//! whether or not the email was known. Tokens and emails are never logged.
use std::{collections::BTreeMap, sync::Arc};

use axum::{
    extract::{rejection::FormRejection, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    Extension, Form,
};
use beckon_i18n::Locale;
use minijinja::context;
use serde::Deserialize;
use tonic::transport::server::TcpConnectInfo;

use super::{
    anonymous_locale, browser_locale, client_address, failure, not_found, page_locale,
    rate_limited_page, with_language, LinkState, Pages, TooMany,
};
use crate::{
    db::entities::job,
    domain::validate::Violations,
    error::ServiceError,
    store::public::{self, Registrant},
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct RegistrationForm {
    // Missing fields are empty ones: the page says what is missing.
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

pub(super) async fn show(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let pages = &state.pages;
    match public::find(&state.store, &token).await {
        Ok(Some(job)) => {
            let locale = registration_locale(&state, &headers, &job).await;
            match public::takes_registrations(&job) {
                true => form_page(
                    pages,
                    locale,
                    StatusCode::OK,
                    &job,
                    &token,
                    &RegistrationForm::default(),
                    &BTreeMap::new(),
                ),
                false => closed_page(pages, locale, StatusCode::OK, &job),
            }
        }
        Ok(None) => not_found(pages, anonymous_locale(&headers)),
        Err(err) => failure(pages, anonymous_locale(&headers), err),
    }
}

/// The registration page's language: the browser's, else the job's, else the organization's
/// default.
async fn registration_locale(state: &LinkState, headers: &HeaderMap, job: &job::Model) -> Locale {
    page_locale(
        &state.store,
        headers,
        None,
        job.locale.as_deref(),
        job.org_id,
    )
    .await
}

pub(super) async fn register(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    connection: Option<Extension<TcpConnectInfo>>,
    headers: HeaderMap,
    form: Result<Form<RegistrationForm>, FormRejection>,
) -> Response {
    let pages = &state.pages;
    // The link first: a dead link's answer does not depend on what was posted to it.
    let job = match public::find(&state.store, &token).await {
        Ok(Some(job)) => job,
        Ok(None) => return not_found(pages, anonymous_locale(&headers)),
        Err(err) => return failure(pages, anonymous_locale(&headers), err),
    };
    let locale = registration_locale(&state, &headers, &job).await;
    if !public::takes_registrations(&job) {
        return closed_page(pages, locale, StatusCode::CONFLICT, &job);
    }
    // A body that is not a form is answered like an empty form.
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let mut v = Violations::new();
    let registrant = Registrant::parse(&mut v, &form.name, &form.email);
    let mut registrant = match v.finish_with("email", registrant) {
        Ok(registrant) => registrant,
        Err(err) => {
            let errors = friendly_errors(&form, &err);
            return form_page(
                pages,
                locale,
                StatusCode::UNPROCESSABLE_ENTITY,
                &job,
                &token,
                &form,
                &errors,
            );
        }
    };
    // The language the person read the form in, when their browser chose it: their emails
    // keep it.
    registrant.locale = browser_locale(&headers).map(|locale| locale.tag().to_string());
    let client = client_address(&state, connection, &headers);
    match public::register(&state.store, &state.limits, &token, &registrant, client).await {
        Ok(registered) => {
            registered.log();
            with_language(
                Html(pages.render(
                    "public_sent.html",
                    locale,
                    context! { job_title => job.title, email => registrant.email.as_str() },
                ))
                .into_response(),
                locale,
            )
        }
        // The link was turned off, rotated or closed a moment ago: like any dead link.
        Err(ServiceError::NotFound(_)) => not_found(pages, anonymous_locale(&headers)),
        Err(ServiceError::FailedPrecondition { .. }) => {
            closed_page(pages, locale, StatusCode::CONFLICT, &job)
        }
        Err(ServiceError::RateLimited { retry_after, .. }) => {
            rate_limited_page(pages, locale, &token, retry_after, TooMany::Registrations)
        }
        Err(err) => failure(pages, locale, err),
    }
}

fn form_page(
    pages: &Pages,
    locale: Locale,
    status: StatusCode,
    job: &job::Model,
    token: &str,
    form: &RegistrationForm,
    errors: &BTreeMap<&str, &str>,
) -> Response {
    let mut response = (
        status,
        Html(pages.render(
            "public.html",
            locale,
            context! {
                job_title => job.title,
                token => token,
                name => form.name,
                email => form.email,
                errors => errors,
            },
        )),
    )
        .into_response();
    // The form posts to its own URL.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        pages.policies.registration.clone(),
    );
    with_language(response, locale)
}

fn closed_page(pages: &Pages, locale: Locale, status: StatusCode, job: &job::Model) -> Response {
    with_language(
        (
            status,
            Html(pages.render(
                "public_closed.html",
                locale,
                context! { job_title => job.title },
            )),
        )
            .into_response(),
        locale,
    )
}

/// What the page says about each bad field (the id of its text): for people, where the API's
/// violations are for programs.
fn friendly_errors(
    form: &RegistrationForm,
    err: &ServiceError,
) -> BTreeMap<&'static str, &'static str> {
    let mut errors = BTreeMap::new();
    if let ServiceError::InvalidArgument(violations) = err {
        for violation in violations {
            match violation.field.as_str() {
                "name" if form.name.trim().is_empty() => errors.insert("name", "name-missing"),
                "name" => errors.insert("name", "name-invalid"),
                "email" if form.email.trim().is_empty() => errors.insert("email", "email-missing"),
                _ => errors.insert("email", "email-invalid"),
            };
        }
    }
    errors
}
