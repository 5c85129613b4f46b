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
use minijinja::context;
use serde::Deserialize;
use tonic::transport::server::TcpConnectInfo;

use super::{client_address, failure, not_found, rate_limited_page, LinkState, Pages};
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
) -> Response {
    let pages = &state.pages;
    match public::find(&state.store, &token).await {
        Ok(Some(job)) if public::takes_registrations(&job) => form_page(
            pages,
            StatusCode::OK,
            &job,
            &token,
            &RegistrationForm::default(),
            &BTreeMap::new(),
        ),
        Ok(Some(job)) => closed_page(pages, StatusCode::OK, &job),
        Ok(None) => not_found(pages),
        Err(err) => failure(pages, err),
    }
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
        Ok(Some(job)) if public::takes_registrations(&job) => job,
        Ok(Some(job)) => return closed_page(pages, StatusCode::CONFLICT, &job),
        Ok(None) => return not_found(pages),
        Err(err) => return failure(pages, err),
    };
    // A body that is not a form is answered like an empty form.
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let mut v = Violations::new();
    let registrant = Registrant::parse(&mut v, &form.name, &form.email);
    let registrant = match v.finish_with("email", registrant) {
        Ok(registrant) => registrant,
        Err(err) => {
            let errors = friendly_errors(&form, &err);
            return form_page(
                pages,
                StatusCode::UNPROCESSABLE_ENTITY,
                &job,
                &token,
                &form,
                &errors,
            );
        }
    };
    let client = client_address(&state, connection, &headers);
    match public::register(&state.store, &state.limits, &token, &registrant, client).await {
        Ok(registered) => {
            registered.log();
            Html(pages.render(
                "public_sent.html",
                context! { job_title => job.title, email => registrant.email.as_str() },
            ))
            .into_response()
        }
        // The link was turned off, rotated or closed a moment ago.
        Err(ServiceError::NotFound(_)) => not_found(pages),
        Err(ServiceError::FailedPrecondition { .. }) => {
            closed_page(pages, StatusCode::CONFLICT, &job)
        }
        Err(ServiceError::RateLimited { retry_after, .. }) => rate_limited_page(
            pages,
            &token,
            retry_after,
            "registrations",
            "Back to the registration form",
        ),
        Err(err) => failure(pages, err),
    }
}

fn form_page(
    pages: &Pages,
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
    response
}

fn closed_page(pages: &Pages, status: StatusCode, job: &job::Model) -> Response {
    (
        status,
        Html(pages.render("public_closed.html", context! { job_title => job.title })),
    )
        .into_response()
}

/// What the page says about each bad field: for people, where the API's violations are for
/// programs.
fn friendly_errors(
    form: &RegistrationForm,
    err: &ServiceError,
) -> BTreeMap<&'static str, &'static str> {
    let mut errors = BTreeMap::new();
    if let ServiceError::InvalidArgument(violations) = err {
        for violation in violations {
            match violation.field.as_str() {
                "name" if form.name.trim().is_empty() => {
                    errors.insert("name", "Please enter your name.")
                }
                "name" => errors.insert(
                    "name",
                    "Please enter your name on one line, in at most 200 characters.",
                ),
                "email" if form.email.trim().is_empty() => {
                    errors.insert("email", "Please enter your email address.")
                }
                _ => errors.insert(
                    "email",
                    "Please enter an email address such as ada@example.com.",
                ),
            };
        }
    }
    errors
}
