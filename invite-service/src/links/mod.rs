//! The candidate's link pages, served on the same port as gRPC:
//! `GET /i/{token}` shows the invite (and so does `HEAD`, without the body), changing nothing;
//! a dead link shows the same page whatever made it dead, with a form whose `POST /i/{token}`
//! asks for a new link (`store::renewals`), answered alike whether or not the address matched:
//! link scanners and chat previews fetch links before the person does. The page's script posts
//! `POST /i/{token}/opened` once the browser shows it, which counts the open unless a known
//! link preview sent it (`agent.rs`); `POST /i/{token}/start` starts the invite once, counts the
//! open if nothing did, and sends the candidate on to the assessment; `/p/{token}` is a job's
//! public registration page (`public.rs`); `/enroll` explains an enrolment link for the browser
//! extension (its code rides in the fragment, never sent here); `/u/{token}` stops an
//! organization's mail to a candidate (`GET` asks, `POST` does it: the List-Unsubscribe one-click
//! of RFC 8058, which mail clients send without a page). Every page carries a strict
//! Content-Security-Policy (`csp.rs`). Tokens are never logged.
mod agent;
mod csp;
pub mod forwarded;
mod public;

use std::{collections::BTreeMap, net::IpAddr, sync::Arc, time::Duration};

use axum::{
    extract::{rejection::FormRejection, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Extension, Form, Router,
};
use beckon_i18n::Locale;
use minijinja::{context, Environment};
use serde::Deserialize;
use tonic::transport::server::TcpConnectInfo;
use tower_http::{limit::RequestBodyLimitLayer, set_header::SetResponseHeaderLayer};
use uuid::Uuid;

use self::{agent::Agent, csp::Policies, forwarded::TrustedProxies};
use crate::{
    domain::{
        email::Email,
        time_zone::{local_time, TimeZone},
        InviteStatus,
    },
    error::{retry_after_secs, ServiceError},
    metrics::PageOutcome,
    store::{
        links::{self, LiveLink, OpenSignal, StartOutcome, UnsubscribeTarget},
        organization,
        public::Limits,
        renewals::{self, Asked, Renewal},
        Store,
    },
};

/// Bytes set aside for a rendered page: more than any page here (the invite page with its inline
/// style is about 5 KB).
const PAGE_CAPACITY: usize = 16 * 1024;

/// The page templates, checked when the server starts; the 404 pages rendered once per
/// language, so every dead link read in a language gets exactly the same bytes.
struct Pages {
    templates: Environment<'static>,
    not_found: BTreeMap<Locale, String>,
    /// What `GET` of a dead invite link shows: the 404 page with the form to ask for a new link.
    dead_link: BTreeMap<Locale, String>,
    policies: Policies,
}

impl Pages {
    fn load() -> anyhow::Result<Self> {
        let mut templates = Environment::new();
        beckon_i18n::add_to(&mut templates);
        // Inline, byte for byte what the Content-Security-Policy's hashes were computed from.
        templates.add_global(
            "page_style",
            minijinja::Value::from_safe_string(csp::PAGE_STYLE.to_string()),
        );
        templates.add_global(
            "opened_script",
            minijinja::Value::from_safe_string(csp::OPENED_SCRIPT.to_string()),
        );
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("invite.html", include_str!("templates/invite.html")),
            ("not_found.html", include_str!("templates/not_found.html")),
            ("error.html", include_str!("templates/error.html")),
            ("public.html", include_str!("templates/public.html")),
            (
                "public_sent.html",
                include_str!("templates/public_sent.html"),
            ),
            (
                "public_closed.html",
                include_str!("templates/public_closed.html"),
            ),
            (
                "rate_limited.html",
                include_str!("templates/rate_limited.html"),
            ),
            ("enroll.html", include_str!("templates/enroll.html")),
            (
                "unsubscribe.html",
                include_str!("templates/unsubscribe.html"),
            ),
            ("dead_link.html", include_str!("templates/dead_link.html")),
            (
                "renewal_sent.html",
                include_str!("templates/renewal_sent.html"),
            ),
        ] {
            templates.add_template(name, source)?;
        }
        let (mut not_found, mut dead_link) = (BTreeMap::new(), BTreeMap::new());
        for locale in Locale::ALL {
            let context = context! { locale => locale.tag() };
            not_found.insert(
                locale,
                templates.get_template("not_found.html")?.render(&context)?,
            );
            dead_link.insert(
                locale,
                templates.get_template("dead_link.html")?.render(&context)?,
            );
        }
        Ok(Self {
            templates,
            not_found,
            dead_link,
            policies: Policies::new()?,
        })
    }

    /// A page in a language.
    fn render(&self, name: &str, locale: Locale, ctx: minijinja::Value) -> String {
        // Into a buffer the size of a page, not a string grown a few bytes at a time: growing
        // it cost about a fifth of rendering the invite page.
        let mut page = Vec::with_capacity(PAGE_CAPACITY);
        self.templates
            .get_template(name)
            .and_then(|t| {
                t.render_captured_to(context! { locale => locale.tag(), ..ctx }, &mut page)
            })
            .map_err(anyhow::Error::from)
            .and_then(|_| Ok(String::from_utf8(page)?))
            .unwrap_or_else(|err| {
                tracing::error!(error = ?err, template = name, "link page template failed");
                beckon_i18n::text(locale, "error-title", &[])
            })
    }

    /// The page of a link that does not work, the same for every one in a language.
    fn not_found(&self, locale: Locale) -> String {
        self.not_found.get(&locale).cloned().unwrap_or_default()
    }

    fn dead_link(&self, locale: Locale) -> String {
        self.dead_link.get(&locale).cloned().unwrap_or_default()
    }
}

/// The language the browser asks for (`Accept-Language`), if Beckon ships it.
fn browser_locale(headers: &HeaderMap) -> Option<Locale> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(Locale::from_accept_language)
}

/// The language of a page about something the server knows: `own` (e.g. the invite's), else
/// the browser's, else `then` (e.g. the job's), else the organization's default (read only
/// when nothing before decided), else English.
async fn page_locale(
    store: &Store,
    headers: &HeaderMap,
    own: Option<&str>,
    then: Option<&str>,
    org_id: Uuid,
) -> Locale {
    if let Some(locale) = Locale::first_of([own]).or_else(|| browser_locale(headers)) {
        return locale;
    }
    if let Some(locale) = Locale::first_of([then]) {
        return locale;
    }
    match organization::default_locale(store, org_id).await {
        Ok(default) => Locale::first_of([default.as_deref()]),
        Err(err) => {
            tracing::debug!(error = ?err, "link page: the organization's language could not be read");
            None
        }
    }
    .unwrap_or(Locale::FALLBACK)
}

/// The language of a page about nothing the server may tell (a dead link's, an error's): the
/// browser's, else English. The page says nothing of whether the link ever existed.
fn anonymous_locale(headers: &HeaderMap) -> Locale {
    browser_locale(headers).unwrap_or(Locale::FALLBACK)
}

struct LinkState {
    store: Store,
    pages: Pages,
    /// The public registration page's abuse limits, shared with the gRPC API's.
    limits: Arc<Limits>,
    proxies: TrustedProxies,
}

/// A request's path as logs and traces name it: a link page's token (`/i/<token>/…`,
/// `/p/<token>`, `/u/<token>`) replaced, since a token may reach neither; any other path as it
/// is.
pub fn route_of(path: &str) -> String {
    let mut segments = path.splitn(4, '/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some(""), Some(page @ ("i" | "p" | "u")), Some(_token)) => match segments.next() {
            Some(rest) => format!("/{page}/{{token}}/{rest}"),
            None => format!("/{page}/{{token}}"),
        },
        _ => path.to_owned(),
    }
}

pub fn router(store: Store, limits: Arc<Limits>) -> anyhow::Result<Router> {
    let pages = Pages::load()?;
    let document_policy = pages.policies.document.clone();
    let state = Arc::new(LinkState {
        proxies: TrustedProxies::new(&store.config),
        store,
        pages,
        limits,
    });
    Ok(Router::new()
        // `get` answers HEAD too: the same status and headers, no body.
        .route("/i/{token}", get(show).post(ask_for_new_link))
        .route("/i/{token}/opened", post(opened))
        .route("/i/{token}/start", post(start))
        .route("/p/{token}", get(public::show).post(public::register))
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
        // The extension's enrolment link: the code is in the fragment, never sent here.
        .route("/enroll", get(enroll))
        .route("/enroll/", get(enroll))
        .with_state(state)
        // Anything larger than a form post is refused unread.
        .layer(RequestBodyLimitLayer::new(16 * 1024))
        // Pages that need more (the invite page, the registration form) set their own.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            document_policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        )))
}

fn not_found(pages: &Pages, locale: Locale) -> Response {
    with_language(
        (StatusCode::NOT_FOUND, Html(pages.not_found(locale))).into_response(),
        locale,
    )
}

/// Says the page's language (`Content-Language`), and that it depends on the browser's
/// `Accept-Language` (`Vary`), so no cache hands one reader's language to another.
fn with_language(mut response: Response, locale: Locale) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(locale.tag()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-language"));
    response
}

/// A dead invite link's page, the same for every one; its form posts to the link itself.
fn dead_link(pages: &Pages, status: StatusCode, body: String, locale: Locale) -> Response {
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        pages.policies.registration.clone(),
    );
    with_language(response, locale)
}

/// The client's address: tonic's server puts the TCP peer on every request, these pages' too;
/// a forwarded header only counts when a trusted proxy sent it.
fn client_address(
    state: &LinkState,
    connection: Option<Extension<TcpConnectInfo>>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let peer = connection.and_then(|Extension(info)| info.remote_addr());
    state.proxies.client_address(peer, &forwarded)
}

/// What there were too many of in a short time.
#[derive(Clone, Copy)]
enum TooMany {
    Registrations,
    Renewals,
}

/// Too many registrations or requests for a new link in a short time.
fn rate_limited_page(
    pages: &Pages,
    locale: Locale,
    token: &str,
    retry_after: Duration,
    too_many: TooMany,
) -> Response {
    let seconds = retry_after_secs(retry_after);
    let wait = match seconds {
        0..=59 => beckon_i18n::text(
            locale,
            "retry-in-seconds",
            &[("seconds", (seconds as i64).into())],
        ),
        60..=3599 => beckon_i18n::text(
            locale,
            "retry-in-minutes",
            &[("minutes", (seconds.div_ceil(60) as i64).into())],
        ),
        _ => beckon_i18n::text(locale, "retry-later", &[]),
    };
    let too_many = match too_many {
        TooMany::Registrations => "too-many-registrations",
        TooMany::Renewals => "too-many-renewals",
    };
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Html(pages.render(
            "rate_limited.html",
            locale,
            context! { token => token, wait => wait, too_many => too_many },
        )),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    with_language(response, locale)
}

fn failure(pages: &Pages, locale: Locale, err: ServiceError) -> Response {
    let status = match err {
        // The database watcher logs the outage once; the browser may try again.
        ServiceError::Unavailable(_) => {
            tracing::debug!(error = ?err, "link page: database unavailable");
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => {
            tracing::error!(error = ?err, "link page failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    with_language(
        (
            status,
            Html(pages.render("error.html", locale, context! {})),
        )
            .into_response(),
        locale,
    )
}

/// Which invite page: the one a link shows, whose script reports the open and whose Start form
/// leads to the assessment, or the one a refused Start answers with (no form, no script).
#[derive(Clone, Copy, PartialEq, Eq)]
enum InvitePage {
    Shown,
    StartRefused,
}

fn invite_page(
    pages: &Pages,
    locale: Locale,
    link: &LiveLink,
    token: &str,
    state: &str,
    page: InvitePage,
) -> Response {
    let mut response = Html(pages.render(
        "invite.html",
        locale,
        context! {
            job_title => link.job.title,
            candidate_name => link.invite.candidate_name,
            message => link.invite.message,
            time_limit_minutes => link.invite.time_limit_minutes,
            // In the candidate's own time zone, named, with its offset.
            expires => link.invite.expires_at.map(|at| {
                local_time(at, TimeZone::from_stored(link.invite.time_zone.as_deref()), locale)
            }),
            token => token,
            state => state,
            beacon => page == InvitePage::Shown,
        },
    ))
    .into_response();
    let policy = match page {
        InvitePage::Shown => pages.policies.invite(&link.job.assessment_url),
        InvitePage::StartRefused => pages.policies.document.clone(),
    };
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    with_language(response, locale)
}

/// The invite page's language: the invite's, else the browser's, else the job's, else the
/// organization's default.
async fn link_locale(store: &Store, headers: &HeaderMap, link: &LiveLink) -> Locale {
    page_locale(
        store,
        headers,
        link.invite.locale.as_deref(),
        link.job.locale.as_deref(),
        link.invite.org_id,
    )
    .await
}

/// Who sent the request, from its `User-Agent` (none: an unknown browser).
fn agent(headers: &HeaderMap) -> Agent {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    Agent::from_user_agent(user_agent)
}

/// What the page shows for an invite in this state.
fn page_state(link: &LiveLink) -> &'static str {
    match link.invite.status {
        InviteStatus::Submitted => "submitted",
        _ if link.invite.locked => "locked",
        InviteStatus::Started => "started",
        _ => "ready",
    }
}

/// The same page for everyone, people and link previews alike; showing it counts nothing.
async fn show(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let pages = &state.pages;
    let metrics = &state.store.metrics;
    match links::find(&state.store, &token).await {
        Ok(Some(link)) => {
            tracing::debug!(invite_id = %link.invite.id, "invite page fetched");
            metrics.link_page(PageOutcome::Live);
            let locale = link_locale(&state.store, &headers, &link).await;
            invite_page(
                pages,
                locale,
                &link,
                &token,
                page_state(&link),
                InvitePage::Shown,
            )
        }
        Ok(None) => {
            metrics.link_page(PageOutcome::Dead);
            let locale = anonymous_locale(&headers);
            dead_link(
                pages,
                StatusCode::NOT_FOUND,
                pages.dead_link(locale),
                locale,
            )
        }
        Err(err) => failure(pages, anonymous_locale(&headers), err),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewLinkForm {
    #[serde(default)]
    email: String,
}

/// The dead link page's form: whatever the link and the address, the same answer; the work
/// (a renewal, or the team asked) happens only when the link expired and the address is its
/// candidate's.
async fn ask_for_new_link(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    connection: Option<Extension<TcpConnectInfo>>,
    headers: HeaderMap,
    form: Result<Form<NewLinkForm>, FormRejection>,
) -> Response {
    let pages = &state.pages;
    let locale = anonymous_locale(&headers);
    // A body that is not a form is answered like an empty form.
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(_) => {
            let error = match form.email.trim().is_empty() {
                true => "email-missing",
                false => "email-invalid",
            };
            let body = pages.render(
                "dead_link.html",
                locale,
                context! { email => form.email, error => error },
            );
            return dead_link(pages, StatusCode::UNPROCESSABLE_ENTITY, body, locale);
        }
    };
    let client = client_address(&state, connection, &headers);
    match renewals::ask(&state.store, &state.limits, &token, &email, client).await {
        Ok(due) => {
            // Answered before the work is done, so the answer takes as long whether or not the
            // address matched. A crash in between loses the ask; the candidate asks again.
            if let Some(renewal) = due {
                let store = state.store.clone();
                tokio::spawn(async move { carry_out(&store, renewal).await });
            } else {
                tracing::debug!("a new link was asked for; none is due");
            }
            with_language(
                Html(pages.render(
                    "renewal_sent.html",
                    locale,
                    context! { email => email.as_str() },
                ))
                .into_response(),
                locale,
            )
        }
        Err(ServiceError::RateLimited { retry_after, .. }) => {
            rate_limited_page(pages, locale, &token, retry_after, TooMany::Renewals)
        }
        Err(err) => failure(pages, locale, err),
    }
}

/// How to use an enrolment link; the same page for every link (the code never reaches here).
/// For team members, in English like the extension it sets up.
async fn enroll(State(state): State<Arc<LinkState>>) -> Response {
    Html(state.pages.render("enroll.html", Locale::En, context! {})).into_response()
}

/// The page's beacon: a browser showed the page. A dead link answers like every dead link.
async fn opened(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let pages = &state.pages;
    let found = match agent(&headers) {
        Agent::Browser(browser) => {
            let found = links::count_open(&state.store, &token, browser, OpenSignal::Beacon).await;
            if let Ok(Some(invite_id)) = &found {
                tracing::info!(%invite_id, browser, "invite page shown");
                state.store.metrics.open_beacon();
            }
            found
        }
        Agent::Preview(name) => {
            let found = links::find(&state.store, &token).await;
            if let Ok(Some(link)) = &found {
                tracing::info!(invite_id = %link.invite.id, agent = name, "link preview not counted as an open");
            }
            found.map(|found| found.map(|link| link.invite.id))
        }
    };
    match found {
        Ok(Some(_)) => StatusCode::NO_CONTENT.into_response(),
        Ok(None) => not_found(pages, anonymous_locale(&headers)),
        Err(err) => failure(pages, anonymous_locale(&headers), err),
    }
}

async fn start(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let pages = &state.pages;
    let anonymous = anonymous_locale(&headers);
    // A person pressed Start: that is an open, if the page's beacon did not count one already.
    if let Agent::Browser(browser) = agent(&headers) {
        match links::count_open(&state.store, &token, browser, OpenSignal::Start).await {
            Ok(Some(_)) => {}
            Ok(None) => return not_found(pages, anonymous),
            Err(err) => return failure(pages, anonymous, err),
        }
    }
    match links::start(&state.store, &token).await {
        Ok(Some(StartOutcome::Started(link))) => {
            tracing::info!(invite_id = %link.invite.id, "invite started");
            match assessment_url(&link) {
                Some(url) => Redirect::to(&url).into_response(),
                None => failure(
                    pages,
                    link_locale(&state.store, &headers, &link).await,
                    ServiceError::Internal(anyhow::anyhow!(
                        "job {} has an unusable assessment URL",
                        link.job.id
                    )),
                ),
            }
        }
        // Refused: the page again, saying why, with no form and no script.
        Ok(Some(StartOutcome::Locked(link))) => {
            refused_start(&state, &headers, &link, &token, "locked").await
        }
        Ok(Some(StartOutcome::Submitted(link))) => {
            refused_start(&state, &headers, &link, &token, "submitted").await
        }
        Ok(None) => not_found(pages, anonymous),
        Err(err) => failure(pages, anonymous, err),
    }
}

/// The invite page answering a Start it refused (`state` says why), in the link's language.
async fn refused_start(
    state: &LinkState,
    headers: &HeaderMap,
    link: &LiveLink,
    token: &str,
    why: &str,
) -> Response {
    let locale = link_locale(&state.store, headers, link).await;
    let page = invite_page(
        &state.pages,
        locale,
        link,
        token,
        why,
        InvitePage::StartRefused,
    );
    (StatusCode::CONFLICT, page).into_response()
}

/// The unsubscribe page's language: the invite's, else the browser's, else the job's, else the
/// organization's default.
fn unsubscribe_locale(headers: &HeaderMap, target: &UnsubscribeTarget) -> Locale {
    Locale::first_of([target.locale.as_deref()])
        .or_else(|| browser_locale(headers))
        .or_else(|| {
            Locale::first_of([
                target.job_locale.as_deref(),
                Some(target.default_locale.as_str()),
            ])
        })
        .unwrap_or(Locale::FALLBACK)
}

/// Asks before unsubscribing: a link scanner's GET changes nothing.
async fn unsubscribe_page(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let pages = &state.pages;
    match links::unsubscribe_target(&state.store, &token).await {
        Ok(Some(target)) => {
            let locale = unsubscribe_locale(&headers, &target);
            let mut response = Html(pages.render(
                "unsubscribe.html",
                locale,
                context! { organization_name => target.organization_name, token => token, done => false },
            ))
            .into_response();
            // Its form posts to this page.
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                pages.policies.registration.clone(),
            );
            with_language(response, locale)
        }
        Ok(None) => not_found(pages, anonymous_locale(&headers)),
        Err(err) => failure(pages, anonymous_locale(&headers), err),
    }
}

/// The page's button, or a mail client's one-click POST (RFC 8058; its body,
/// `List-Unsubscribe=One-Click`, need not be read): answered only once notify-service has it.
async fn unsubscribe(
    State(state): State<Arc<LinkState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let pages = &state.pages;
    let target = match links::unsubscribe_target(&state.store, &token).await {
        Ok(Some(target)) => target,
        Ok(None) => return not_found(pages, anonymous_locale(&headers)),
        Err(err) => return failure(pages, anonymous_locale(&headers), err),
    };
    let locale = unsubscribe_locale(&headers, &target);
    if let Err(err) =
        crate::relay::unsubscribe(&state.store.config, target.org_id, &target.email).await
    {
        tracing::warn!(invite_id = %target.invite_id, error = ?err, "notify-service did not record an unsubscribe; the candidate may try again");
        return failure(pages, locale, ServiceError::Unavailable(err));
    }
    tracing::info!(invite_id = %target.invite_id, "candidate unsubscribed from the organization's email");
    with_language(
        Html(pages.render(
            "unsubscribe.html",
            locale,
            context! { organization_name => target.organization_name, done => true },
        ))
        .into_response(),
        locale,
    )
}

/// Carries out a candidate's due request for a new link, and says what came of it.
async fn carry_out(store: &Store, renewal: Renewal) {
    let invite_id = renewal.invite_id;
    match renewals::carry_out(store, renewal).await {
        Ok(Asked::Renewed) => {
            tracing::info!(%invite_id, "expired invite renewed: the candidate asked")
        }
        Ok(Asked::TeamAsked) => {
            tracing::info!(%invite_id, "the team is asked to renew an expired invite")
        }
        Ok(Asked::AlreadyAsked) => {
            tracing::info!(%invite_id, "a renewal was asked for again; the team was asked already")
        }
        Ok(Asked::NobodyToAsk) => tracing::warn!(
            %invite_id,
            "a renewal waits for approval, but the invite has no assignee or inviter and the organization no admin to ask"
        ),
        Ok(Asked::Nothing) => tracing::debug!(%invite_id, "a renewal was due, but no longer"),
        Err(err) => {
            tracing::error!(%invite_id, error = ?err, "a candidate's request for a new link failed")
        }
    }
}

/// The job's assessment URL with the invite's id added, so the platform knows who arrived.
fn assessment_url(link: &LiveLink) -> Option<String> {
    let mut url = url::Url::parse(&link.job.assessment_url).ok()?;
    url.query_pairs_mut()
        .append_pair("invite_id", &link.invite.id.to_string());
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_route_never_names_a_token() {
        assert_eq!(super::route_of("/i/s3cr3t"), "/i/{token}");
        assert_eq!(super::route_of("/i/s3cr3t/opened"), "/i/{token}/opened");
        assert_eq!(super::route_of("/p/s3cr3t"), "/p/{token}");
        assert_eq!(super::route_of("/u/s3cr3t"), "/u/{token}");
        assert_eq!(
            super::route_of("/beckon.invite.v1.InviteService/CreateInvite"),
            "/beckon.invite.v1.InviteService/CreateInvite"
        );
        assert_eq!(
            super::route_of("/ats/ashby/assessment.start"),
            "/ats/ashby/assessment.start"
        );
    }

    use super::*;

    #[test]
    fn every_page_template_loads() {
        let pages = Pages::load().expect("templates parse");
        assert!(pages
            .not_found(Locale::En)
            .contains("This link is not available"));
        assert!(pages.not_found(Locale::De).contains("lang=\"de\""));
    }

    /// Every candidate page, in each of its states, with values unlike any word of a text.
    fn every_page(locale: Locale) -> Vec<(String, String)> {
        let pages = Pages::load().expect("templates parse");
        let wait = beckon_i18n::text(locale, "retry-in-seconds", &[("seconds", 5.into())]);
        let mut contexts = Vec::new();
        for state in ["ready", "started", "submitted", "locked"] {
            contexts.push((
                "invite.html",
                context! {
                    job_title => "Zqjob", candidate_name => "Zqcandidate", message => "Zqmessage",
                    time_limit_minutes => 45, expires => "Zqexpires", token => "Zqtoken",
                    state => state, beacon => true,
                },
            ));
        }
        for error in [None, Some("email-missing"), Some("email-invalid")] {
            contexts.push((
                "dead_link.html",
                context! { email => "Zqemail", error => error },
            ));
        }
        contexts.push(("not_found.html", context! {}));
        contexts.push(("error.html", context! {}));
        contexts.push((
            "public.html",
            context! {
                job_title => "Zqjob", token => "Zqtoken", name => "Zqname", email => "Zqemail",
                errors => context! { name => "name-missing", email => "email-invalid" },
            },
        ));
        contexts.push((
            "public.html",
            context! { job_title => "Zqjob", token => "Zqtoken", errors => context! { name => "name-invalid", email => "email-missing" } },
        ));
        contexts.push((
            "public_sent.html",
            context! { job_title => "Zqjob", email => "Zqemail" },
        ));
        contexts.push(("public_closed.html", context! { job_title => "Zqjob" }));
        for too_many in ["too-many-registrations", "too-many-renewals"] {
            contexts.push((
                "rate_limited.html",
                context! { token => "Zqtoken", wait => wait.clone(), too_many => too_many },
            ));
        }
        for done in [false, true] {
            contexts.push((
                "unsubscribe.html",
                context! { organization_name => "Zqorganization", token => "Zqtoken", done => done },
            ));
        }
        contexts.push(("renewal_sent.html", context! { email => "Zqemail" }));
        contexts
            .into_iter()
            .enumerate()
            .map(|(i, (name, ctx))| {
                let page = pages
                    .templates
                    .get_template(name)
                    .and_then(|t| t.render(context! { locale => locale.tag(), ..ctx }))
                    .unwrap_or_else(|err| panic!("{name} in {locale}: {err:#}"));
                (format!("{name} #{i}"), page)
            })
            .collect()
    }

    #[test]
    fn every_candidate_page_reads_in_every_shipped_language_with_no_english_left() {
        let english = every_page(Locale::En);
        let mut problems = Vec::new();
        for locale in Locale::ALL {
            let values = [
                "Zqjob",
                "Zqcandidate",
                "Zqmessage",
                "Zqexpires",
                "Zqtoken",
                "Zqemail",
                "Zqname",
                "Zqorganization",
            ];
            for ((name, en), (_, page)) in english.iter().zip(every_page(locale)) {
                let left = beckon_i18n::audit::english_left(locale, en, &page, &values);
                if !left.is_empty() {
                    problems.push(format!("{name} in {locale}: English left: {left:?}"));
                }
                if locale != Locale::En && en == &page {
                    problems.push(format!("{name} in {locale}: the same as English"));
                }
                if !page.contains(&format!("<html lang=\"{}\">", locale.tag())) {
                    problems.push(format!("{name} in {locale}: does not name its language"));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_waiting_reader_is_told_how_long_in_their_language() {
        let five = beckon_i18n::text(Locale::De, "retry-in-seconds", &[("seconds", 5.into())]);
        let one = beckon_i18n::text(Locale::De, "retry-in-seconds", &[("seconds", 1.into())]);
        assert!(
            five.contains('5') && one.contains('1') && five != one,
            "{five} / {one}"
        );
    }
}
