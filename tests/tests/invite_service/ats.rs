//! Beckon as an assessment partner, from the ATS's side: `AtsDouble` makes the calls
//! Greenhouse's and Ashby's docs describe, with their documented bodies, and receives Beckon's
//! calls back. On both databases.
use base64::{engine::general_purpose::STANDARD, Engine};
use beckon_proto::invite::v1::*;
use beckon_tests::{ats::AtsDouble, on_both_databases, smtp::SmtpServer, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

on_both_databases!(
    greenhouse_sends_a_test_and_hears_when_it_is_complete,
    greenhouse_calls_are_authenticated_and_scoped_to_the_organization,
    ashby_starts_an_assessment_and_hears_every_change_in_order,
    ashby_is_told_why_an_assessment_cannot_start,
    a_callback_receiver_that_was_down_gets_every_call_in_order,
    identical_asks_at_once_make_one_invite,
    the_routes_are_served_only_behind_https_unless_allowed,
    a_refused_callback_keeps_being_tried_and_can_be_tried_now,
    a_suppressed_address_is_refused_with_the_reason,
    a_long_outage_holds_up_no_interview_and_sends_each_call_once_in_order,
);

/// A server whose calls back may go to the double on loopback, retried fast, serving the ATS
/// routes over plain HTTP, with Ashby's API on the double.
async fn app_for(backend: Backend, double: &AtsDouble) -> TestApp {
    app_with_schedule(backend, double, "100ms 100ms 100ms 100ms 100ms 100ms 100ms").await
}

async fn app_with_schedule(backend: Backend, double: &AtsDouble, schedule: &str) -> TestApp {
    let ashby = double.url("/ashby/");
    TestApp::spawn_with(backend, |config| {
        config.ats_allow_http = true;
        config.ashby_api_url = ashby;
        config.webhook_allow_http = true;
        config.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        config.webhook_retry_schedule = schedule.into();
    })
    .await
}

fn route(app: &TestApp, path: &str) -> String {
    format!("{}/ats/{path}", app.base_url)
}

/// Greenhouse's documented `send_test` body, for `test` and `url`.
fn send_test_body(test: &str, email: &str, url: &str) -> Value {
    json!({
        "partner_test_id": test,
        "candidate": {
            "first_name": "Harry",
            "last_name": "Potter",
            "preferred_name": null,
            "resume_url": "https://hogwarts.com/resume",
            "phone_number": "123-456-7890",
            "email": email,
            "greenhouse_profile_url": "https://app.greenhouse.io/people/17681532?application_id=26234709"
        },
        "sent_by": "test_sender@example.org",
        "url": url
    })
}

/// Ashby's `assessment.start` body, as its schema has it.
fn start_body(assessment_type: &str, application: &str, email: &str) -> Value {
    json!({
        "assessment_type_id": assessment_type,
        "candidate": {
            "ashby_id": "c0a8e0a4-1f7e-4d1c-9a57-6a8a4b6b2f11",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": email,
            "ashby_profile_url": "https://app.ashbyhq.com/candidates/c0a8e0a4"
        },
        "application": {"ashby_id": application, "status": "Active"},
        "job": {
            "ashby_id": "5b1e8a47-0d44-4b1e-9a0f-3c6f2b8e7d21",
            "name": "Backend engineer",
            "ashby_job_url": "https://app.ashbyhq.com/jobs/5b1e8a47",
            "hiringTeam": [{"userId": "u1", "firstName": "Grace", "lastName": "Hopper",
                            "email": "grace@example.com", "role": "Hiring Manager"}]
        }
    })
}

/// Starts the invite as the candidate would: a new link (a reissue), then its Start button.
async fn candidate_starts(app: &TestApp, invite_id: &str) {
    let link = app
        .invites()
        .reissue_invite(ReissueInviteRequest {
            id: invite_id.into(),
            ..Default::default()
        })
        .await
        .expect("reissue")
        .into_inner()
        .link_url;
    assert_eq!(app.post(&format!("{link}/start")).await.status(), 303);
}

async fn candidate_submits(app: &TestApp, invite_id: &str) {
    candidate_starts(app, invite_id).await;
    app.invites()
        .complete_invite(CompleteInviteRequest {
            id: invite_id.into(),
        })
        .await
        .expect("complete");
}

async fn set_ashby_key(app: &TestApp, key: &str) {
    app.ats()
        .set_ats_api_key(SetAtsApiKeyRequest {
            ats: Ats::Ashby as i32,
            api_key: key.into(),
        })
        .await
        .expect("set the Ashby key");
}

fn basic(key: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{key}:")))
}

async fn greenhouse_sends_a_test_and_hears_when_it_is_complete(backend: Backend) {
    let double = AtsDouble::start().await;
    let app = app_for(backend, &double).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    let job = app.create_job("Backend engineer").await;
    let closed = app.create_job("Closed role").await;
    app.close_job(&closed.id).await;

    let (status, tests) = double
        .call(
            Method::GET,
            &route(&app, "greenhouse/list_tests"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        tests,
        json!([{"partner_test_id": job.id, "partner_test_name": "Backend engineer"}])
    );

    let callback = double.url("/integrations/testing_partners/take_home_tests/12345");
    let body = send_test_body(&job.id, "hpotter@hogwarts.edu", &callback);
    let (status, sent) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &key,
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let interview = sent["partner_interview_id"]
        .as_str()
        .expect("id")
        .to_string();
    // Greenhouse retries: the same test, email and URL answer the same interview; another
    // email is another interview.
    let (status, again) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &key,
            Some(body),
        )
        .await;
    assert_eq!((status, &again), (200, &sent));
    let sibling = send_test_body(&job.id, "ginny@hogwarts.edu", &callback);
    let (status, other) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &key,
            Some(sibling),
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(other, sent);

    let invite = app
        .invites()
        .get_invite(GetInviteRequest {
            id: interview.clone(),
        })
        .await
        .expect("the interview is an invite")
        .into_inner();
    assert_eq!(invite.candidate_email, "hpotter@hogwarts.edu");
    assert_eq!(invite.candidate_name, "Harry Potter");
    assert_eq!(invite.job_id, job.id);
    assert_eq!(invite.source, "greenhouse");
    assert!(
        invite.external_id.starts_with("greenhouse:"),
        "{}",
        invite.external_id
    );

    let status_url = route(
        &app,
        &format!("greenhouse/test_status?partner_interview_id={interview}"),
    );
    let (status, before) = double.call(Method::GET, &status_url, &key, None).await;
    assert_eq!(status, 200);
    assert_ne!(before["partner_status"], "complete", "{before}");
    assert_eq!(before["partner_profile_url"], Value::Null);

    candidate_submits(&app, &interview).await;
    let calls = app
        .when(async || double.received().await, |r| !r.is_empty())
        .await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    let patch = &calls[0];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(
        patch.path,
        "/integrations/testing_partners/take_home_tests/12345"
    );
    assert_eq!(patch.body, "", "no body");
    assert_eq!(
        patch.authorization,
        basic(&key),
        "the same Basic header Greenhouse sends"
    );

    let (status, after) = double.call(Method::GET, &status_url, &key, None).await;
    assert_eq!(status, 200);
    assert_eq!(after["partner_status"], "complete", "{after}");
    assert_eq!(
        after["partner_profile_url"],
        "https://assess.example.com/start"
    );
    assert!(after["metadata"]["Completed At"].is_string(), "{after}");
    assert!(
        after["metadata"]
            .as_object()
            .expect("metadata")
            .values()
            .all(|v| !v.is_object() && !v.is_array()),
        "metadata is flat: {after}"
    );

    // A closed job is not a test Greenhouse can send.
    let body = send_test_body(&closed.id, "ron@hogwarts.edu", &double.url("/t/2"));
    let (status, _) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &key,
            Some(body),
        )
        .await;
    assert_eq!(status, 400);

    // Greenhouse reports an answer it could not use: kept for the admins.
    let report = json!({
        "api_call": "test_status",
        "errors": ["partner_status is 'complete' but partner_profile url is missing"],
        "partner_test_id": job.id,
        "partner_test_name": "Backend engineer",
        "partner_interview_id": interview,
        "candidate_email": "hpotter@hogwarts.edu"
    });
    let (status, answer) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/response_error"),
            &key,
            Some(report),
        )
        .await;
    assert_eq!((status, answer), (200, json!({"status": 200})));
    let errors = app
        .ats()
        .list_ats_errors(ListAtsErrorsRequest { page_size: 0 })
        .await
        .expect("list errors")
        .into_inner()
        .errors;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].api_call, "test_status");
    assert_eq!(errors[0].invite_id, interview);
    assert_eq!(errors[0].ats, Ats::Greenhouse as i32);
    assert!(errors[0].report.contains("partner_profile url is missing"));
}

async fn greenhouse_calls_are_authenticated_and_scoped_to_the_organization(backend: Backend) {
    let double = AtsDouble::start().await;
    let app = app_for(backend, &double).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    let job = app.create_job("Backend engineer").await;
    let body = send_test_body(&job.id, "hpotter@hogwarts.edu", &double.url("/t/1"));
    let (_, sent) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &key,
            Some(body),
        )
        .await;
    let interview = sent["partner_interview_id"]
        .as_str()
        .expect("id")
        .to_string();
    let list = route(&app, "greenhouse/list_tests");

    // No key, a wrong one, a key of another scope, a password: 401.
    let client = reqwest::Client::new();
    assert_eq!(client.get(&list).send().await.expect("get").status(), 401);
    let (status, _) = double.call(Method::GET, &list, "bk_nope_nope", None).await;
    assert_eq!(status, 401);
    let (status, _) = double.call(Method::GET, &list, &app.admin_key, None).await;
    assert_eq!(status, 401, "an admin key is not an ATS key");
    let with_password = client
        .get(&list)
        .basic_auth(&key, Some("secret"))
        .send()
        .await
        .expect("get");
    assert_eq!(with_password.status(), 401);
    // The ATS key calls no RPC but GetCaller.
    let refused = app
        .jobs_as(&key)
        .list_jobs(ListJobsRequest::default())
        .await
        .expect_err("an ATS key lists no jobs over gRPC");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    // Another organization's ATS key sees nothing of this one.
    let other_admin = app.other_organization_key().await;
    let other = app
        .organization_as(&other_admin)
        .create_api_key(CreateApiKeyRequest {
            name: "greenhouse".into(),
            scope: ApiKeyScope::Ats as i32,
            ..Default::default()
        })
        .await
        .expect("other ats key")
        .into_inner()
        .secret;
    let (status, tests) = double.call(Method::GET, &list, &other, None).await;
    assert_eq!((status, tests), (200, json!([])));
    let status_url = route(
        &app,
        &format!("greenhouse/test_status?partner_interview_id={interview}"),
    );
    let (status, _) = double.call(Method::GET, &status_url, &other, None).await;
    assert_eq!(status, 404);
    let body = send_test_body(&job.id, "ron@hogwarts.edu", &double.url("/t/2"));
    let (status, _) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &other,
            Some(body),
        )
        .await;
    assert_eq!(status, 404, "another organization's test");
    let (status, _) = double
        .call(
            Method::GET,
            &route(&app, "greenhouse/test_status?partner_interview_id=12345"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Bad input is refused, naming the field, and writes nothing.
    let mut bad = send_test_body(&job.id, "not an address", &double.url("/t/3"));
    bad["url"] = json!("ftp://example.com/x");
    let (status, answer) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &key,
            Some(bad),
        )
        .await;
    assert_eq!(status, 400);
    let text = answer.to_string();
    assert!(
        text.contains("candidate.email") && text.contains("url"),
        "{text}"
    );
    let invites = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner()
        .invites;
    assert_eq!(invites.len(), 1);
}

async fn ashby_starts_an_assessment_and_hears_every_change_in_order(backend: Backend) {
    let double = AtsDouble::start().await;
    let app = app_for(backend, &double).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    let connection = app
        .ats()
        .set_ats_api_key(SetAtsApiKeyRequest {
            ats: Ats::Ashby as i32,
            api_key: "ashby-key-0123456789".into(),
        })
        .await
        .expect("set the Ashby key")
        .into_inner();
    assert!(connection.api_key_set);
    let job = app.create_job("Backend engineer").await;
    let other_job = app.create_job("Data analyst").await;

    let (status, list) = double
        .call(
            Method::POST,
            &route(&app, "ashby/assessment.list"),
            &key,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["success"], true);
    let ids: Vec<&str> = list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["assessment_type_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [job.id.as_str(), other_job.id.as_str()]);
    assert_eq!(list["results"][0]["name"], "Backend engineer");

    let start = route(&app, "ashby/assessment.start");
    let application = "9f3c2f0e-6b1a-4c8e-8d0b-1a2b3c4d5e6f";
    let body = start_body(&job.id, application, "ada@example.com");
    let (status, started) = double
        .call(Method::POST, &start, &key, Some(body.clone()))
        .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["success"], true);
    let assessment = started["results"]["assessment_id"]
        .as_str()
        .expect("assessment id")
        .to_string();
    // A retry answers the same assessment; another type while this one is in progress is 409.
    let (status, again) = double.call(Method::POST, &start, &key, Some(body)).await;
    assert_eq!((status, &again), (200, &started));
    let (status, _) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&other_job.id, application, "ada@example.com")),
        )
        .await;
    assert_eq!(status, 409);

    candidate_submits(&app, &assessment).await;
    let calls = app
        .when(async || double.received().await, |r| r.len() >= 2)
        .await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in &calls {
        assert_eq!(
            (call.method.as_str(), call.path.as_str()),
            ("POST", "/ashby/assessment.update")
        );
        assert_eq!(call.authorization, basic("ashby-key-0123456789"));
        assert_eq!(call.accept, "application/json; version=1");
    }
    let started = calls[0].json();
    assert_eq!(started["assessment_id"], assessment.as_str());
    assert!(started["timestamp"].as_i64().expect("ms") > 1_600_000_000_000);
    assert_eq!(
        started["assessment_status"],
        json!({"identifier": "beckon_status", "label": "Status", "type": "string", "value": "Started"})
    );
    let completed = calls[1].json();
    assert_eq!(completed["assessment_status"]["value"], "Completed");
    assert_eq!(completed["assessment_result"]["type"], "string");
    assert_eq!(
        completed["assessment_profile_url"],
        json!({"identifier": "beckon_profile", "label": "Assessment", "type": "url",
               "value": "https://assess.example.com/start"})
    );
    for update in [&started, &completed] {
        for value in update
            .as_object()
            .expect("object")
            .iter()
            .filter(|(k, _)| k.as_str() != "assessment_id" && k.as_str() != "timestamp")
            .flat_map(|(_, v)| v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]))
        {
            for field in ["identifier", "label", "type", "value"] {
                assert!(value.get(field).is_some(), "{field} missing in {value}");
            }
            let kind = value["type"].as_str().expect("type");
            assert!(
                [
                    "numeric_score",
                    "numeric_duration_minutes",
                    "url",
                    "string",
                    "boolean_success"
                ]
                .contains(&kind),
                "{kind}"
            );
        }
    }

    // The first is submitted: the application may be assessed with another type now.
    let (status, second) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&other_job.id, application, "ada@example.com")),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    let second = second["results"]["assessment_id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_ne!(second, assessment);

    // Reopened by the team: Ashby hears it, in order after the completion.
    app.invites()
        .reopen_invite(ReopenInviteRequest {
            id: assessment.clone(),
        })
        .await
        .expect("reopen");
    let calls = app
        .when(async || double.received().await, |r| r.len() >= 3)
        .await;
    assert_eq!(calls[2].json()["assessment_status"]["value"], "Reopened");

    // Cancelled in Ashby: the invite is revoked, and Ashby is not told what it did itself.
    let (status, cancelled) = double
        .call(
            Method::POST,
            &route(&app, "ashby/assessment.cancel"),
            &key,
            Some(json!({"assessment_id": second})),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["results"]["assessment_id"], second.as_str());
    let invite = app
        .invites()
        .get_invite(GetInviteRequest { id: second.clone() })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(invite.status, InviteStatus::Revoked as i32);

    // Revoked in Beckon, and another expired: Ashby hears each, with the reason.
    let (_, third) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&job.id, "app-3", "cy@example.com")),
        )
        .await;
    let third = third["results"]["assessment_id"]
        .as_str()
        .expect("id")
        .to_string();
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: third.clone(),
            ..Default::default()
        })
        .await
        .expect("revoke");
    let (_, fourth) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&job.id, "app-4", "di@example.com")),
        )
        .await;
    let fourth = fourth["results"]["assessment_id"]
        .as_str()
        .expect("id")
        .to_string();
    app.backdate_expiry(&fourth).await;
    let calls = app
        .when(async || double.received().await, |r| r.len() >= 5)
        .await;
    assert_eq!(calls.len(), 5, "nothing for Ashby's own cancel: {calls:?}");
    let reasons: Vec<(String, String)> = calls[3..]
        .iter()
        .map(|c| {
            let body = c.json();
            (
                body["assessment_id"].as_str().unwrap_or("").to_string(),
                body["cancelled_reason"]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    assert!(
        reasons.contains(&(third.clone(), "The invite was revoked in Beckon".into())),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(id, reason)| id == &fourth && reason.contains("expired")),
        "{reasons:?}"
    );
}

async fn ashby_is_told_why_an_assessment_cannot_start(backend: Backend) {
    let double = AtsDouble::start().await;
    let app = app_for(backend, &double).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    set_ashby_key(&app, "ashby-key").await;
    let job = app.create_job("Backend engineer").await;
    app.close_job(&job.id).await;
    let start = route(&app, "ashby/assessment.start");
    let (status, answer) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&job.id, "app-1", "ada@example.com")),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["message"].as_str().expect("a message Ashby shows");
    assert!(message.contains("closed"), "{message}");

    let mut bad = start_body(&job.id, "", "nobody");
    bad["candidate"]["first_name"] = json!("line\nbreak");
    let (status, answer) = double.call(Method::POST, &start, &key, Some(bad)).await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["message"].as_str().expect("message");
    for field in [
        "candidate.email",
        "candidate.first_name",
        "application.ashby_id",
    ] {
        assert!(message.contains(field), "{field} in {message}");
    }
    let (status, answer) = double
        .call(Method::POST, &start, &key, Some(json!({"candidate": 1})))
        .await;
    assert_eq!(status, 422, "{answer}");

    // A key removed after the start: calls back wait for a new one instead of being lost.
    let open = app.create_job("Open role").await;
    let (_, started) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&open.id, "app-2", "ada@example.com")),
        )
        .await;
    let assessment = started["results"]["assessment_id"]
        .as_str()
        .expect("id")
        .to_string();
    app.ats()
        .set_ats_api_key(SetAtsApiKeyRequest {
            ats: Ats::Ashby as i32,
            api_key: String::new(),
        })
        .await
        .expect("remove the key");
    candidate_starts(&app, &assessment).await;
    // Attempted by whichever round comes first, this one or the loop's.
    let waiting = app
        .when(
            async || {
                app.ats()
                    .list_ats_callbacks(ListAtsCallbacksRequest {
                        invite_id: assessment.clone(),
                        ..Default::default()
                    })
                    .await
                    .expect("list")
                    .into_inner()
                    .callbacks
            },
            |callbacks| callbacks.iter().any(|c| !c.last_error.is_empty()),
        )
        .await;
    assert!(double.received().await.is_empty());
    assert_eq!(waiting[0].status, WebhookMessageStatus::Pending as i32);
    assert!(
        waiting[0].last_error.contains("no Ashby API key"),
        "{}",
        waiting[0].last_error
    );
    // Without a key, Ashby is told at once that nothing can start.
    let (status, answer) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&open.id, "app-5", "eve@example.com")),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or("")
            .contains("no Ashby API key"),
        "{answer}"
    );
    set_ashby_key(&app, "late-key").await;
    let calls = app
        .when(async || double.received().await, |r| !r.is_empty())
        .await;
    assert_eq!(calls[0].json()["assessment_status"]["value"], "Started");
    assert_eq!(calls[0].authorization, basic("late-key"));

    let refused = app
        .ats()
        .set_ats_api_key(SetAtsApiKeyRequest {
            ats: Ats::Greenhouse as i32,
            api_key: "x".into(),
        })
        .await
        .expect_err("Greenhouse takes no key");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
}

async fn a_callback_receiver_that_was_down_gets_every_call_in_order(backend: Backend) {
    let mut double = AtsDouble::start().await;
    let app = app_for(backend, &double).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    set_ashby_key(&app, "ashby-key").await;
    let job = app.create_job("Backend engineer").await;
    let start = route(&app, "ashby/assessment.start");
    let (_, started) = double
        .call(
            Method::POST,
            &start,
            &key,
            Some(start_body(&job.id, "app-1", "ada@example.com")),
        )
        .await;
    let assessment = started["results"]["assessment_id"]
        .as_str()
        .expect("id")
        .to_string();

    // Ashby answers 503 for a while, then is not there at all.
    double.answer_with(503).await;
    candidate_starts(&app, &assessment).await;
    app.when(async || double.received().await, |r| r.len() >= 2)
        .await;
    double.go_down().await;
    app.invites()
        .complete_invite(CompleteInviteRequest {
            id: assessment.clone(),
        })
        .await
        .expect("complete");
    for _ in 0..3 {
        app.run_background_round().await;
    }
    double.answer_with(200).await;
    double.come_back().await;
    let calls = app
        .when(
            async || double.received().await,
            |r| {
                r.iter()
                    .any(|c| c.json()["assessment_status"]["value"] == "Completed")
            },
        )
        .await;
    // Every 503 was of the first update: the second waited for it.
    let values: Vec<String> = calls
        .iter()
        .map(|c| {
            c.json()["assessment_status"]["value"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let first_completed = values
        .iter()
        .position(|v| v == "Completed")
        .expect("completed");
    assert!(
        values[..first_completed].iter().all(|v| v == "Started"),
        "{values:?}"
    );
    assert_eq!(first_completed + 1, values.len(), "{values:?}");
}

async fn identical_asks_at_once_make_one_invite(backend: Backend) {
    let double = AtsDouble::start().await;
    let app = app_for(backend, &double).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    set_ashby_key(&app, "ashby-key").await;
    let job = app.create_job("Backend engineer").await;
    let send = route(&app, "greenhouse/send_test");
    let body = send_test_body(&job.id, "hpotter@hogwarts.edu", &double.url("/t/1"));
    let start = route(&app, "ashby/assessment.start");
    let ashby = start_body(&job.id, "app-1", "ada@example.com");
    let answers = futures::future::join_all((0..10).map(|i| {
        let (url, body) = if i % 2 == 0 {
            (&send, body.clone())
        } else {
            (&start, ashby.clone())
        };
        double.call(Method::POST, url, &key, Some(body))
    }))
    .await;
    let mut greenhouse = std::collections::HashSet::new();
    let mut ashby = std::collections::HashSet::new();
    for (i, (status, answer)) in answers.iter().enumerate() {
        assert_eq!(*status, 200, "{answer}");
        if i % 2 == 0 {
            greenhouse.insert(answer["partner_interview_id"].to_string());
        } else {
            ashby.insert(answer["results"]["assessment_id"].to_string());
        }
    }
    assert_eq!((greenhouse.len(), ashby.len()), (1, 1));
    let invites = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner()
        .invites;
    assert_eq!(invites.len(), 2);
}

async fn the_routes_are_served_only_behind_https_unless_allowed(backend: Backend) {
    // The test server's public_base_url is http://…, and ats_allow_http is off by default.
    let app = TestApp::spawn(backend).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    let double = AtsDouble::start().await;
    let (status, answer) = double
        .call(
            Method::GET,
            &route(&app, "greenhouse/list_tests"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert!(answer["message"]
        .as_str()
        .expect("message")
        .contains("ats_allow_http"));
}

async fn a_refused_callback_keeps_being_tried_and_can_be_tried_now(backend: Backend) {
    beckon_tests::logs::capture();
    let double = AtsDouble::start().await;
    // Two quick tries, then an hour between tries: past the schedule, at its last wait.
    let app = app_with_schedule(backend, &double, "100ms 1h").await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    let ashby_key = format!("ashby-{}", uuid::Uuid::new_v4().simple());
    set_ashby_key(&app, &ashby_key).await;
    let job = app.create_job("Backend engineer").await;
    let (_, started) = double
        .call(
            Method::POST,
            &route(&app, "ashby/assessment.start"),
            &key,
            Some(start_body(&job.id, "app-1", "ada@example.com")),
        )
        .await;
    let assessment = started["results"]["assessment_id"]
        .as_str()
        .expect("id")
        .to_string();

    // Ashby refuses: after the quick tries the call waits an hour, still pending.
    double.answer_with(500).await;
    candidate_starts(&app, &assessment).await;
    let calls = |status: WebhookMessageStatus| ListAtsCallbacksRequest {
        invite_id: assessment.clone(),
        status: status as i32,
        page_size: 0,
    };
    app.when(async || double.received().await, |r| r.len() >= 2)
        .await;
    let pending = app
        .ats()
        .list_ats_callbacks(calls(WebhookMessageStatus::Pending))
        .await
        .expect("list")
        .into_inner()
        .callbacks;
    assert_eq!(pending.len(), 1);
    let callback = &pending[0];
    assert_eq!(callback.attempt_count, 2);
    assert_eq!(callback.last_response_status, 500);
    assert!(
        callback.last_error.contains("500"),
        "{}",
        callback.last_error
    );
    let next = callback
        .next_attempt_time
        .as_ref()
        .expect("a next try")
        .seconds;
    let in_an_hour = chrono::Utc::now().timestamp() + 3000;
    assert!(next > in_an_hour, "the last wait of the schedule, again");
    let failed = app
        .ats()
        .list_ats_callbacks(calls(WebhookMessageStatus::Failed))
        .await
        .expect("list")
        .into_inner()
        .callbacks;
    assert!(failed.is_empty(), "never given up");

    // Ashby is fixed; the admin has it tried now.
    double.answer_with(200).await;
    let retried = app
        .ats()
        .retry_ats_callback(RetryAtsCallbackRequest {
            id: callback.id.clone(),
        })
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(retried.status, WebhookMessageStatus::Pending as i32);
    assert_eq!(retried.attempt_count, 0);
    let delivered = app
        .when(
            async || {
                app.ats()
                    .list_ats_callbacks(calls(WebhookMessageStatus::Delivered))
                    .await
                    .expect("list")
                    .into_inner()
                    .callbacks
            },
            |c| !c.is_empty(),
        )
        .await;
    assert_eq!(delivered[0].id, callback.id);
    assert_eq!(delivered[0].attempt_count, 1);
    assert_eq!(double.received().await.len(), 3);

    // Another organization cannot see or retry it.
    let other = app.other_organization_key().await;
    let hidden = app
        .ats_as(&other)
        .retry_ats_callback(RetryAtsCallbackRequest {
            id: callback.id.clone(),
        })
        .await
        .expect_err("another organization's");
    assert_eq!(hidden.code(), tonic::Code::NotFound);

    // Neither key is in a log line or an attempt's error (the refusals were logged).
    assert!(beckon_tests::logs::lines()
        .iter()
        .any(|line| line.text.contains("ATS callback not taken")));
    for secret in [&key, &ashby_key] {
        assert!(!callback.last_error.contains(secret.as_str()));
        let logged: Vec<_> = beckon_tests::logs::lines()
            .into_iter()
            .filter(|line| line.text.contains(secret.as_str()))
            .collect();
        assert!(logged.is_empty(), "{logged:?}");
    }
}

async fn a_suppressed_address_is_refused_with_the_reason(backend: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.always("gone@example.com", 550);
    smtp.always("bounces@example.com", 550);
    let double = AtsDouble::start().await;
    let ashby = double.url("/ashby/");
    let app = TestApp::spawn_full(
        backend,
        |config| {
            config.ats_allow_http = true;
            config.ashby_api_url = ashby;
            config.webhook_allow_http = true;
            config.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        },
        Some(&smtp),
    )
    .await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    set_ashby_key(&app, "ashby-key").await;
    let job = app.create_job("Backend engineer").await;
    // An earlier email to the address bounced: it is on the suppression list.
    let bounced = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "gone@example.com".into(),
            candidate_name: "Gone".into(),
            send_email: true,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
        .invite
        .expect("invite");
    let bounced = app
        .invite_when(&bounced.id, |i| {
            i.delivery_status == DeliveryStatus::Failed as i32
        })
        .await;
    assert_eq!(bounced.delivery_status, DeliveryStatus::Failed as i32);

    let (status, answer) = double
        .call(
            Method::POST,
            &route(&app, "ashby/assessment.start"),
            &key,
            Some(start_body(&job.id, "app-1", "gone@example.com")),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["message"].as_str().expect("a message Ashby shows");
    assert!(
        message.contains("gone@example.com") && message.contains("suppression list"),
        "{message}"
    );
    let (status, _) = double
        .call(
            Method::POST,
            &route(&app, "greenhouse/send_test"),
            &key,
            Some(send_test_body(
                &job.id,
                "gone@example.com",
                &double.url("/t/1"),
            )),
        )
        .await;
    assert_eq!(
        status, 400,
        "Greenhouse knows 400 for a request it must not repeat as is"
    );
    let invites = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner()
        .invites;
    assert_eq!(invites.len(), 1, "nothing written for the refused asks");

    // An address not yet known to bounce: the assessment starts, its email bounces, and Ashby
    // hears that the candidate got nothing.
    let (status, started) = double
        .call(
            Method::POST,
            &route(&app, "ashby/assessment.start"),
            &key,
            Some(start_body(&job.id, "app-2", "bounces@example.com")),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let calls = app
        .when(async || double.received().await, |r| !r.is_empty())
        .await;
    let update = calls[0].json();
    assert_eq!(update["assessment_id"], started["results"]["assessment_id"]);
    assert_eq!(
        update["assessment_status"]["value"],
        "Invite email not delivered"
    );
    let email = update["metadata"]
        .as_array()
        .expect("metadata")
        .iter()
        .find(|m| m["identifier"] == "beckon_email")
        .expect("why, in the metadata")
        .clone();
    assert!(
        email["value"].as_str().unwrap_or("").contains("550"),
        "{email}"
    );
}

async fn a_long_outage_holds_up_no_interview_and_sends_each_call_once_in_order(backend: Backend) {
    // More interviews than a round takes, each with two calls waiting.
    const INTERVIEWS: usize = 80;
    let double = AtsDouble::start().await;
    let app = app_for(backend, &double).await;
    let key = app.key_with_scope(ApiKeyScope::Ats).await;
    set_ashby_key(&app, "ashby-key").await;
    let job = app.create_job("Backend engineer").await;
    double.answer_with(503).await;
    let mut assessments = Vec::new();
    for n in 0..INTERVIEWS {
        let (status, started) = double
            .call(
                Method::POST,
                &route(&app, "ashby/assessment.start"),
                &key,
                Some(start_body(
                    &job.id,
                    &format!("app-{n}"),
                    &format!("c{n}@example.com"),
                )),
            )
            .await;
        assert_eq!(status, 200, "{started}");
        let id = started["results"]["assessment_id"]
            .as_str()
            .expect("id")
            .to_string();
        candidate_submits(&app, &id).await;
        assessments.push(id);
    }
    // Every interview's first call has been refused at least once.
    app.when(
        async || double.received().await,
        |r| {
            assessments
                .iter()
                .all(|id| r.iter().any(|c| c.json()["assessment_id"] == id.as_str()))
        },
    )
    .await;
    double.answer_with(200).await;
    // Rounds racing each other (and the server's own loop) send nothing twice.
    let taken =
        |calls: &[beckon_tests::ats::Callback]| calls.iter().filter(|c| c.answered == 200).count();
    let all = app
        .when(
            async || {
                futures::join!(app.run_background_round(), app.run_background_round());
                double.received().await
            },
            |r| taken(r) >= 2 * INTERVIEWS,
        )
        .await;
    assert_eq!(taken(&all), 2 * INTERVIEWS, "each call taken once");
    for id in &assessments {
        let statuses: Vec<String> = all
            .iter()
            .filter(|c| c.answered == 200 && c.json()["assessment_id"] == id.as_str())
            .map(|c| {
                c.json()["assessment_status"]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(statuses, ["Started", "Completed"], "{id}");
    }
    let pending = app
        .ats()
        .list_ats_callbacks(ListAtsCallbacksRequest {
            status: WebhookMessageStatus::Pending as i32,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .callbacks;
    assert!(pending.is_empty());
}
