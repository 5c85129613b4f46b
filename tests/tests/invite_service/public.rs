//! Public registration links: a job's `/p/{token}` page and PublicRegistrationService.Register,
//! end to end through the outbox, notify-service and a real SMTP server; turning links off and
//! rotating them; the abuse limits.
use std::time::Duration;

use beckon_proto::invite::v1::{
    public_registration_service_client::PublicRegistrationServiceClient, *,
};
use beckon_tests::{
    error_reason, on_both_databases, smtp::to, smtp::SmtpServer, violated_fields, Backend, TestApp,
};
use tonic::{transport::Channel, Code};
use tonic_types::StatusExt;

on_both_databases!(
    a_registered_candidate_gets_their_own_working_link_by_email,
    a_known_email_sees_the_same_page_and_gets_its_invite_link_again,
    a_link_turned_off_answers_like_an_unknown_one_until_turned_on_again,
    rotating_the_public_link_kills_the_old_url,
    bad_or_refused_registrations_write_nothing,
    only_keys_that_may_change_the_job_control_its_public_link,
    a_closed_job_says_registrations_are_closed,
    a_flood_from_one_address_is_cut_off_with_retry_info,
    a_forwarded_for_header_counts_only_from_a_trusted_proxy,
    the_same_email_registering_at_once_makes_one_invite,
    the_email_and_link_limits_stand_alone,
    the_email_and_link_limits_stand_alone_on_redis,
);

const WAIT: Duration = Duration::from_secs(30);

fn registrations(app: &TestApp) -> PublicRegistrationServiceClient<Channel> {
    PublicRegistrationServiceClient::new(app.channel.clone())
}

/// Turns the job's public link on and returns its URL (shown this once).
async fn make_public(app: &TestApp, job_id: &str) -> String {
    let answer = set_public(app, job_id, true).await;
    assert!(answer.job.expect("job").public_link_enabled);
    assert!(!answer.public_url.is_empty(), "a new link is shown");
    answer.public_url
}

async fn set_public(app: &TestApp, job_id: &str, enabled: bool) -> SetJobPublicLinkResponse {
    app.jobs()
        .set_job_public_link(SetJobPublicLinkRequest {
            job_id: job_id.into(),
            enabled,
        })
        .await
        .expect("set public link")
        .into_inner()
}

fn token_of(url: &str) -> String {
    url.rsplit('/').next().expect("a token").to_string()
}

async fn register_form(app: &TestApp, url: &str, name: &str, email: &str) -> reqwest::Response {
    app.http
        .post(url)
        .form(&[("name", name), ("email", email)])
        .send()
        .await
        .expect("POST")
}

async fn register_grpc(
    app: &TestApp,
    url: &str,
    name: &str,
    email: &str,
) -> Result<RegisterResponse, tonic::Status> {
    registrations(app)
        .register(RegisterRequest {
            public_token: token_of(url),
            name: name.into(),
            email: email.into(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn invites_of(app: &TestApp, job_id: &str) -> Vec<Invite> {
    app.invites()
        .list_invites(ListInvitesRequest {
            job_id: job_id.into(),
            ..Default::default()
        })
        .await
        .expect("list invites")
        .into_inner()
        .invites
}

async fn candidates(app: &TestApp) -> Vec<Candidate> {
    app.candidates()
        .list_candidates(ListCandidatesRequest::default())
        .await
        .expect("list candidates")
        .into_inner()
        .candidates
}

/// The page a link that never existed gets.
async fn unknown_page(app: &TestApp) -> String {
    let unknown = format!("{}/p/{}", app.base_url, "x".repeat(43));
    let page = app.get(&unknown).await;
    assert_eq!(page.status(), 404);
    page.text().await.expect("body")
}

async fn body(response: reqwest::Response) -> String {
    response.text().await.expect("body")
}

async fn a_registered_candidate_gets_their_own_working_link_by_email(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    app.organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "recruiter@acme.test".into(),
                name: "Recruiter".into(),
                notify_started: true,
                notify_submitted: true,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("member");
    let job = app.create_job("Backend engineer").await;
    let url = make_public(&app, &job.id).await;
    assert!(url.starts_with(&format!("{}/p/", app.base_url)), "{url}");
    let fetched = app
        .jobs()
        .get_job(GetJobRequest { id: job.id.clone() })
        .await
        .expect("get job")
        .into_inner();
    assert!(fetched.public_link_enabled);

    let page = app.get(&url).await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()
            .get("referrer-policy")
            .and_then(|v| v.to_str().ok()),
        Some("no-referrer"),
        "the link pages' security headers"
    );
    let html = body(page).await;
    assert!(html.contains("Backend engineer"), "{html}");
    assert!(html.contains(r#"name="email""#), "{html}");
    assert!(
        candidates(&app).await.is_empty(),
        "nobody shows up before registering"
    );

    let done = register_form(&app, &url, "Ada Lovelace", "Ada@Example.com").await;
    assert_eq!(done.status(), 200);
    assert!(body(done).await.contains("Check your email"));

    let mail = smtp.wait_for(WAIT, to("ada@example.com")).await;
    let email = mail
        .iter()
        .find(|m| m.to == ["ada@example.com"])
        .expect("the registration email arrived");
    assert_eq!(
        email.header("Subject").as_deref(),
        Some("Your link for Backend engineer")
    );
    let link = email
        .link_starting(&format!("{}/i/", app.base_url))
        .expect("the candidate's own link is in the email");
    let opened = app.get(&link).await;
    assert_eq!(opened.status(), 200);
    assert!(body(opened).await.contains("Ada Lovelace"));

    let invites = invites_of(&app, &job.id).await;
    assert_eq!(invites.len(), 1);
    let invite = &invites[0];
    assert_eq!(invite.source, "public");
    assert_eq!(invite.candidate_email, "ada@example.com");
    assert_eq!(invite.candidate_name, "Ada Lovelace");
    let invite = app
        .invite_when(&invite.id, |i| {
            i.delivery_status == DeliveryStatus::Sent as i32
        })
        .await;
    assert_eq!(
        invite.delivery_status,
        DeliveryStatus::Sent as i32,
        "the registration email's delivery shows on the invite"
    );
    assert_eq!(invite.send_count, 1);
    let people = candidates(&app).await;
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].email, "ada@example.com");

    // Nobody invited a public candidate: the organization's members hear when they start.
    assert_eq!(app.post(&format!("{link}/start")).await.status(), 303);
    let mail = smtp.wait_for(WAIT, to("recruiter@acme.test")).await;
    assert!(mail.iter().any(|m| m.to == ["recruiter@acme.test"]
        && m.header("Subject").as_deref() == Some("Ada Lovelace started Backend engineer")));
}

async fn a_known_email_sees_the_same_page_and_gets_its_invite_link_again(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let job = app.create_job("QA").await;
    // Grace was invited privately; her link was handed back to be shared by hand.
    let private = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "grace@example.com".into(),
            candidate_name: "Grace Hopper".into(),
            ..Default::default()
        })
        .await
        .expect("private invite")
        .into_inner();
    let url = make_public(&app, &job.id).await;

    let known = register_form(&app, &url, "Grace Hopper", "grace@example.com").await;
    let known_status = known.status();
    let known_page = body(known).await;
    let unknown = register_form(&app, &url, "Alan Turing", "alan@example.com").await;
    assert_eq!(known_status, unknown.status());
    let unknown_page = body(unknown).await;
    assert_eq!(
        known_page,
        unknown_page.replace("alan@example.com", "grace@example.com"),
        "the page does not tell a known email from a new one"
    );
    // Registering again: the same page again.
    let again = register_form(&app, &url, "Alan Turing", "alan@example.com").await;
    assert_eq!(body(again).await, unknown_page);

    let mail = smtp
        .wait_for(WAIT, |m| {
            m.iter().filter(|m| m.to == ["grace@example.com"]).count() == 1
                && m.iter().filter(|m| m.to == ["alan@example.com"]).count() == 2
        })
        .await;
    let prefix = format!("{}/i/", app.base_url);
    let links_to = |address: &str| -> Vec<String> {
        mail.iter()
            .filter(|m| m.to == [address])
            .filter_map(|m| m.link_starting(&prefix))
            .collect()
    };
    assert_eq!(
        links_to("grace@example.com"),
        [private.link_url],
        "Grace gets the link of the invite she has"
    );
    let alan = links_to("alan@example.com");
    assert_eq!(alan.len(), 2);
    assert_eq!(
        alan[0], alan[1],
        "a second registration resends the same link"
    );

    let invites = invites_of(&app, &job.id).await;
    assert_eq!(invites.len(), 2, "one invite each: {invites:?}");
    let grace = invites
        .iter()
        .find(|i| i.candidate_email == "grace@example.com")
        .expect("Grace's invite");
    assert_eq!(grace.source, "api", "her own invite, not a new one");
    let events: Vec<String> = app
        .invites()
        .list_invite_events(ListInviteEventsRequest {
            invite_id: grace.id.clone(),
            ..Default::default()
        })
        .await
        .expect("events")
        .into_inner()
        .events
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(events.contains(&"resent".to_string()), "{events:?}");
    assert_eq!(candidates(&app).await.len(), 2);
}

async fn a_link_turned_off_answers_like_an_unknown_one_until_turned_on_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Ops").await;
    let url = make_public(&app, &job.id).await;
    let unknown = unknown_page(&app).await;
    // A dead invite link's page offers a new link besides; what any dead link answers a post
    // with is the same.
    let dead_invite = app
        .post(&format!("{}/i/{}/start", app.base_url, "x".repeat(43)))
        .await;
    assert_eq!(dead_invite.status(), 404);
    assert_eq!(
        body(dead_invite).await,
        unknown,
        "the same page as a dead invite link"
    );

    let off = set_public(&app, &job.id, false).await;
    assert!(!off.job.expect("job").public_link_enabled);
    assert_eq!(off.public_url, "");
    let page = app.get(&url).await;
    assert_eq!(page.status(), 404);
    assert_eq!(body(page).await, unknown);
    let posted = register_form(&app, &url, "Ada", "ada@example.com").await;
    assert_eq!(posted.status(), 404);
    assert_eq!(body(posted).await, unknown);
    let status = register_grpc(&app, &url, "Ada", "ada@example.com")
        .await
        .expect_err("off");
    assert_eq!(status.code(), Code::NotFound);
    let never = registrations(&app)
        .register(RegisterRequest {
            public_token: "x".repeat(43),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown");
    assert_eq!(never.code(), Code::NotFound);
    assert_eq!(never.message(), status.message(), "told apart by nothing");

    // On again: the same URL works again, and cannot be shown again.
    let on = set_public(&app, &job.id, true).await;
    assert!(on.job.expect("job").public_link_enabled);
    assert_eq!(on.public_url, "");
    assert_eq!(app.get(&url).await.status(), 200);
    let again = set_public(&app, &job.id, true).await;
    assert_eq!(again.public_url, "", "already on: nothing new to show");
    assert_eq!(app.get(&url).await.status(), 200);
    assert!(invites_of(&app, &job.id).await.is_empty());
}

async fn rotating_the_public_link_kills_the_old_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Designer").await;
    let old = make_public(&app, &job.id).await;
    let rotate = || async {
        app.jobs()
            .rotate_job_public_link(RotateJobPublicLinkRequest {
                job_id: job.id.clone(),
            })
            .await
            .expect("rotate")
            .into_inner()
    };
    let rotated = rotate().await;
    let new = rotated.public_url;
    assert!(new.starts_with(&format!("{}/p/", app.base_url)), "{new}");
    assert_ne!(new, old);
    let unknown = unknown_page(&app).await;
    let page = app.get(&old).await;
    assert_eq!(page.status(), 404);
    assert_eq!(body(page).await, unknown, "exactly like an unknown link");
    assert_eq!(
        register_grpc(&app, &old, "Ada", "ada@example.com")
            .await
            .expect_err("old")
            .code(),
        Code::NotFound
    );
    assert_eq!(app.get(&new).await.status(), 200);
    assert_eq!(
        register_form(&app, &new, "Ada", "ada@example.com")
            .await
            .status(),
        200
    );
    assert_eq!(invites_of(&app, &job.id).await.len(), 1);

    // Rotating a link that is off gives a new one that works.
    set_public(&app, &job.id, false).await;
    let third = rotate().await;
    assert!(third.job.expect("job").public_link_enabled);
    assert_eq!(app.get(&new).await.status(), 404);
    assert_eq!(app.get(&third.public_url).await.status(), 200);
}

async fn bad_or_refused_registrations_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Analyst").await;
    let url = make_public(&app, &job.id).await;

    let status = register_grpc(&app, &url, "Ada", "not an email")
        .await
        .expect_err("bad email");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["email"]);
    let status = registrations(&app)
        .register(RegisterRequest::default())
        .await
        .expect_err("empty");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["public_token", "name", "email"]);

    let page = register_form(&app, &url, "Ada <Lovelace>", "ada@").await;
    assert_eq!(page.status(), 422);
    let html = body(page).await;
    assert!(
        html.contains("Please enter an email address such as"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="Ada &lt;Lovelace&gt;""#),
        "the name is kept, escaped: {html}"
    );
    let page = register_form(&app, &url, "", "ada@example.com").await;
    assert_eq!(page.status(), 422);
    assert!(body(page).await.contains("Please enter your name."));
    // Not a form at all: like an empty one.
    let page = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("POST");
    assert_eq!(page.status(), 422);

    assert!(invites_of(&app, &job.id).await.is_empty());
    assert!(candidates(&app).await.is_empty());
}

async fn only_keys_that_may_change_the_job_control_its_public_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Support").await;
    let other = app.other_organization_key().await;
    let status = app
        .jobs_as(&other)
        .set_job_public_link(SetJobPublicLinkRequest {
            job_id: job.id.clone(),
            enabled: true,
        })
        .await
        .expect_err("another organization's job");
    assert_eq!(status.code(), Code::NotFound);
    let status = app
        .jobs_as(&other)
        .rotate_job_public_link(RotateJobPublicLinkRequest {
            job_id: job.id.clone(),
        })
        .await
        .expect_err("another organization's job");
    assert_eq!(status.code(), Code::NotFound);
    let links = app.key_with_scope(ApiKeyScope::Links).await;
    let status = app
        .jobs_as(&links)
        .set_job_public_link(SetJobPublicLinkRequest {
            job_id: job.id.clone(),
            enabled: true,
        })
        .await
        .expect_err("links-only key");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = app
        .jobs()
        .set_job_public_link(SetJobPublicLinkRequest {
            job_id: "nope".into(),
            enabled: true,
        })
        .await
        .expect_err("bad id");
    assert_eq!(violated_fields(&status), ["job_id"]);
    let job = app
        .jobs()
        .get_job(GetJobRequest { id: job.id })
        .await
        .expect("get")
        .into_inner();
    assert!(!job.public_link_enabled, "nothing changed");
}

async fn a_closed_job_says_registrations_are_closed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Intern").await;
    let url = make_public(&app, &job.id).await;
    app.jobs()
        .update_job(UpdateJobRequest {
            job: Some(Job {
                id: job.id.clone(),
                state: JobState::Closed as i32,
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .expect("close");
    let page = app.get(&url).await;
    assert_eq!(page.status(), 200);
    let html = body(page).await;
    assert!(html.contains("no longer accepting registrations"), "{html}");
    assert!(!html.contains("<form"));
    let posted = register_form(&app, &url, "Ada", "ada@example.com").await;
    assert_eq!(posted.status(), 409);
    let status = register_grpc(&app, &url, "Ada", "ada@example.com")
        .await
        .expect_err("closed");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&status), "JOB_CLOSED");
    assert!(invites_of(&app, &job.id).await.is_empty());
}

async fn a_flood_from_one_address_is_cut_off_with_retry_info(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_rate_per_link = "1000/minute burst 1000".parse().expect("rate");
        c.public_rate_per_address = "3/hour burst 3".parse().expect("rate");
        c.public_rate_per_email = "1000/minute burst 1000".parse().expect("rate");
    })
    .await;
    let job = app.create_job("Backend engineer").await;
    let url = make_public(&app, &job.id).await;
    for i in 0..3 {
        register_grpc(&app, &url, "Flood", &format!("flood{i}@example.com"))
            .await
            .expect("within the address's burst");
    }
    let status = register_grpc(&app, &url, "Flood", "flood3@example.com")
        .await
        .expect_err("past the limit");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(error_reason(&status), "RATE_LIMITED");
    let retry = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("RetryInfo says when");
    assert!(
        retry > Duration::from_secs(60) && retry <= Duration::from_secs(1200),
        "about one interval of 20 minutes: {retry:?}"
    );

    let page = register_form(&app, &url, "Flood", "flood4@example.com").await;
    assert_eq!(page.status(), 429);
    let retry_after: u64 = page
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((60..=1200).contains(&retry_after), "{retry_after}");
    assert!(body(page).await.contains("Please try again"));
    // Seeing the form costs nothing.
    assert_eq!(app.get(&url).await.status(), 200);

    let invites = invites_of(&app, &job.id).await;
    assert_eq!(invites.len(), 3, "refused registrations wrote nothing");
    assert_eq!(candidates(&app).await.len(), 3);
}

fn tight_address_limit(c: &mut invite_service::Config) {
    c.public_rate_per_link = "1000/minute burst 1000".parse().expect("rate");
    c.public_rate_per_address = "2/hour burst 2".parse().expect("rate");
    c.public_rate_per_email = "1000/minute burst 1000".parse().expect("rate");
}

async fn register_from(
    app: &TestApp,
    url: &str,
    email: &str,
    forwarded_for: &str,
) -> Result<RegisterResponse, tonic::Status> {
    let mut request = tonic::Request::new(RegisterRequest {
        public_token: token_of(url),
        name: "Proxied".into(),
        email: email.into(),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "x-forwarded-for",
        forwarded_for.parse().expect("ASCII header"),
    );
    registrations(app)
        .register(request)
        .await
        .map(tonic::Response::into_inner)
}

async fn a_forwarded_for_header_counts_only_from_a_trusted_proxy(backend: Backend) {
    // Without a trusted proxy the header is the client's to forge: it is ignored, and the TCP
    // peer's allowance runs out whatever it says.
    let app = TestApp::spawn_with(backend, tight_address_limit).await;
    let job = app.create_job("Proxied").await;
    let url = make_public(&app, &job.id).await;
    for i in 0..2 {
        register_from(
            &app,
            &url,
            &format!("p{i}@example.com"),
            &format!("198.51.100.{i}"),
        )
        .await
        .expect("within the peer's allowance");
    }
    let page = app
        .http
        .post(&url)
        .header("x-forwarded-for", "198.51.100.99")
        .form(&[("name", "Forger"), ("email", "forger@example.com")])
        .send()
        .await
        .expect("POST");
    assert_eq!(
        page.status(),
        429,
        "a forged header does not escape the limit"
    );
    let status = register_from(&app, &url, "p2@example.com", "198.51.100.2")
        .await
        .expect_err("forged");
    assert_eq!(status.code(), Code::ResourceExhausted);

    // Behind a trusted proxy (here: the test itself), each forwarded client has its own.
    let app = TestApp::spawn_with(backend, |c| {
        tight_address_limit(c);
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let job = app.create_job("Proxied").await;
    let url = make_public(&app, &job.id).await;
    for i in 0..4 {
        // A client's own entries come first; the proxy appends the address it saw.
        register_from(
            &app,
            &url,
            &format!("q{i}@example.com"),
            &format!("10.9.9.9, 198.51.100.{i}"),
        )
        .await
        .expect("a client of its own");
    }
    let page = app
        .http
        .post(&url)
        .header("x-forwarded-for", "198.51.100.50")
        .form(&[("name", "Page"), ("email", "page@example.com")])
        .send()
        .await
        .expect("POST");
    assert_eq!(page.status(), 200, "the page reads the header too");
    for i in 0..2 {
        register_from(&app, &url, &format!("r{i}@example.com"), "198.51.100.77")
            .await
            .expect("within that client's allowance");
    }
    let status = register_from(&app, &url, "r2@example.com", "198.51.100.77")
        .await
        .expect_err("that client is over its limit");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(invites_of(&app, &job.id).await.len(), 7);
}

async fn the_same_email_registering_at_once_makes_one_invite(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_rate_per_address = "1000/minute burst 1000".parse().expect("rate");
        c.public_rate_per_email = "1000/minute burst 1000".parse().expect("rate");
    })
    .await;
    // A candidate already (no new candidate row whose unique email would serialize them).
    app.candidates()
        .upsert_candidate(UpsertCandidateRequest {
            candidate: Some(Candidate {
                email: "ada@example.com".into(),
                name: "Ada Lovelace".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("candidate");
    let job = app.create_job("Popular").await;
    let url = make_public(&app, &job.id).await;
    let attempts = (0..8).map(|_| register_grpc(&app, &url, "Ada", "ada@example.com"));
    for result in futures::future::join_all(attempts).await {
        result.expect("registered");
    }
    let invites = invites_of(&app, &job.id).await;
    assert_eq!(invites.len(), 1, "{invites:?}");
    assert_eq!(candidates(&app).await.len(), 1);
}

async fn the_email_and_link_limits_stand_alone(backend: Backend) {
    email_and_link_limits(backend, false).await
}

async fn the_email_and_link_limits_stand_alone_on_redis(backend: Backend) {
    email_and_link_limits(backend, true).await
}

/// Every request comes from 127.0.0.1, so the address limit is set out of the way: the email's
/// and the link's allowances are tested on their own, and each refusal must take nothing from
/// the others.
async fn email_and_link_limits(backend: Backend, redis: bool) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_rate_per_link = "3/hour burst 3".parse().expect("rate");
        c.public_rate_per_address = "1000/minute burst 1000".parse().expect("rate");
        c.public_rate_per_email = "1/hour burst 1".parse().expect("rate");
        if redis {
            c.redis_url = Some(beckon_tests::notify::redis_url());
            // Limits of their own: other tests share this Redis and this client address.
            c.redis_key_prefix = format!("test-{}", uuid::Uuid::now_v7().simple());
        }
    })
    .await;
    let first = app.create_job("First").await;
    let second = app.create_job("Second").await;
    let (a, b) = (
        make_public(&app, &first.id).await,
        make_public(&app, &second.id).await,
    );
    let refused = |result: Result<RegisterResponse, tonic::Status>| {
        let status = result.expect_err("refused");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert!(status.get_details_retry_info().is_some());
    };

    register_grpc(&app, &a, "Ada", "ada@example.com")
        .await
        .expect("first registration");
    // The email's allowance holds over every public link.
    refused(register_grpc(&app, &a, "Ada", "ada@example.com").await);
    refused(register_grpc(&app, &b, "Ada", "ada@example.com").await);
    assert_eq!(
        register_form(&app, &a, "Ada", "ada@example.com")
            .await
            .status(),
        429
    );
    // Those refusals took nothing from the link: two more people fit its burst of three.
    register_grpc(&app, &a, "Bob", "bob@example.com")
        .await
        .expect("second on the first link");
    register_grpc(&app, &a, "Carol", "carol@example.com")
        .await
        .expect("third on the first link");
    refused(register_grpc(&app, &a, "Dave", "dave@example.com").await);
    // A flood on one link leaves the other alone, and took nothing from Dave's allowance.
    register_grpc(&app, &b, "Dave", "dave@example.com")
        .await
        .expect("the other link is unaffected");

    assert_eq!(invites_of(&app, &first.id).await.len(), 3);
    assert_eq!(invites_of(&app, &second.id).await.len(), 1);
}
