//! Concurrent writes share a transaction (CreateInvite and the page's beacon are group-committed):
//! a request refused among them fails alone and writes nothing, the others are all written, and
//! every open of a batch is counted.
use std::{future::Future, sync::Arc};

use beckon_proto::invite::v1::*;
use beckon_tests::{error_reason, on_both_databases, violated_fields, Backend, TestApp};
use tokio::sync::Barrier;
use tonic::{Code, Status};
use tonic_types::StatusExt;

on_both_databases!(
    concurrent_creates_are_written_but_the_refused_ones,
    concurrent_beacons_are_all_counted,
);

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// Runs every call at once, released together from a barrier so that they land in the same
/// batches, and returns the answers in the calls' order.
async fn all_at_once<T, Fut>(calls: Vec<Fut>) -> Vec<T>
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(calls.len()));
    let tasks = calls.into_iter().map(|call| {
        let barrier = Arc::clone(&barrier);
        tokio::spawn(async move {
            barrier.wait().await;
            call.await
        })
    });
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|task| task.expect("task"))
        .collect()
}

async fn all_invites(app: &TestApp) -> Vec<Invite> {
    app.invites()
        .list_invites(ListInvitesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .invites
}

/// What a call should get.
#[derive(Clone, Debug)]
enum Expect {
    Created,
    Refused(Code, &'static str),
}

async fn concurrent_creates_are_written_but_the_refused_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let closed = app.create_job("Closed").await;
    app.jobs()
        .update_job(UpdateJobRequest {
            job: Some(Job {
                id: closed.id.clone(),
                state: JobState::Closed as i32,
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .expect("close");
    let holder = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "holder@example.com".into(),
            external_id: "app-held".into(),
            ..Default::default()
        })
        .await
        .expect("holder")
        .into_inner()
        .invite
        .expect("invite");

    let good = |i: usize| CreateInviteRequest {
        job_id: job.id.clone(),
        candidate_email: format!("c{i}@example.com"),
        candidate_name: format!("Candidate {i}"),
        send_email: i.is_multiple_of(2),
        labels: vec![format!("wave-{}", i % 3)],
        external_id: format!("app-{i}"),
        request_id: if i.is_multiple_of(4) {
            uuid::Uuid::new_v4().to_string()
        } else {
            String::new()
        },
        ..Default::default()
    };
    let mut requests: Vec<(CreateInviteRequest, Expect)> =
        (0..24).map(|i| (good(i), Expect::Created)).collect();
    // One candidate named by two calls at once: one candidate row.
    for name in ["Shared One", "Shared Two"] {
        requests.push((
            CreateInviteRequest {
                job_id: job.id.clone(),
                candidate_email: "shared@example.com".into(),
                candidate_name: name.into(),
                ..Default::default()
            },
            Expect::Created,
        ));
    }
    requests.push((
        CreateInviteRequest {
            job_id: closed.id.clone(),
            ..good(100)
        },
        Expect::Refused(Code::FailedPrecondition, "JOB_CLOSED"),
    ));
    requests.push((
        CreateInviteRequest {
            external_id: "app-held".into(),
            ..good(101)
        },
        Expect::Refused(Code::AlreadyExists, ""),
    ));
    requests.push((
        CreateInviteRequest {
            assignee_ids: vec![uuid::Uuid::now_v7().to_string()],
            ..good(102)
        },
        Expect::Refused(Code::InvalidArgument, ""),
    ));
    requests.push((
        CreateInviteRequest {
            job_id: uuid::Uuid::now_v7().to_string(),
            ..good(103)
        },
        Expect::Refused(Code::NotFound, ""),
    ));

    let calls = requests
        .iter()
        .map(|(request, _)| {
            let mut invites = app.invites();
            let request = request.clone();
            async move { invites.create_invite(request).await.map(|r| r.into_inner()) }
        })
        .collect();
    let answers: Vec<Result<CreateInviteResponse, Status>> = all_at_once(calls).await;

    let mut created = Vec::new();
    for ((request, expect), answer) in requests.iter().zip(&answers) {
        match (expect, answer) {
            (Expect::Created, Ok(answer)) => {
                let invite = answer.invite.clone().expect("invite");
                assert_eq!(invite.candidate_email, request.candidate_email);
                assert_eq!(invite.candidate_name, request.candidate_name);
                assert_eq!(invite.external_id, request.external_id);
                assert_eq!(invite.labels, request.labels);
                assert!(!answer.link_url.is_empty());
                created.push(invite);
            }
            (Expect::Refused(code, reason), Err(status)) => {
                assert_eq!(status.code(), *code, "{request:?}: {status:?}");
                if !reason.is_empty() {
                    assert_eq!(error_reason(status), *reason);
                }
                if *code == Code::AlreadyExists {
                    let named = status
                        .get_details_error_info()
                        .and_then(|info| info.metadata.get("invite_id").cloned());
                    assert_eq!(named.as_deref(), Some(holder.id.as_str()));
                }
                if *code == Code::InvalidArgument {
                    assert_eq!(violated_fields(status), ["assignee_ids[0]"]);
                }
            }
            (expect, answer) => panic!("{request:?}: expected {expect:?}, got {answer:?}"),
        }
    }

    // Exactly the accepted invites were written, each with its event, and nothing of the others.
    let mut stored: Vec<String> = all_invites(&app).await.into_iter().map(|i| i.id).collect();
    let mut expected: Vec<String> = created.iter().map(|i| i.id.clone()).collect();
    expected.push(holder.id.clone());
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected);
    for invite in &created {
        assert_eq!(app.event_kinds(&invite.id).await, ["created"]);
    }
    for refused in ["c100@example.com", "c101@example.com", "c102@example.com"] {
        let candidates = app
            .candidates()
            .list_candidates(ListCandidatesRequest {
                email: refused.into(),
                ..Default::default()
            })
            .await
            .expect("candidates")
            .into_inner()
            .candidates;
        assert!(candidates.is_empty(), "a refused create made {refused}");
    }
    let shared = app
        .candidates()
        .list_candidates(ListCandidatesRequest {
            email: "shared@example.com".into(),
            ..Default::default()
        })
        .await
        .expect("candidates")
        .into_inner()
        .candidates;
    assert_eq!(shared.len(), 1, "one candidate per email");
    assert!(["Shared One", "Shared Two"].contains(&shared[0].name.as_str()));
    let shared_invites: Vec<&Invite> = created
        .iter()
        .filter(|i| i.candidate_email == "shared@example.com")
        .collect();
    assert_eq!(shared_invites.len(), 2);
    assert!(shared_invites
        .iter()
        .all(|i| i.candidate_id == shared[0].id));

    // Calls with a request id replay their answer.
    for ((request, _), answer) in requests.iter().zip(&answers).take(24) {
        if request.request_id.is_empty() {
            continue;
        }
        let again = app
            .invites()
            .create_invite(request.clone())
            .await
            .expect("retry")
            .into_inner();
        let first = answer.as_ref().expect("created");
        assert_eq!(again.link_url, first.link_url);
        let (again, first) = (
            again.invite.expect("invite"),
            first.invite.clone().expect("invite"),
        );
        assert_eq!((again.id, again.create_time), (first.id, first.create_time));
    }
}

async fn concurrent_beacons_are_all_counted(backend: Backend) {
    const INVITES: usize = 3;
    const OPENS: usize = 12;
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let mut links = Vec::new();
    for i in 0..INVITES {
        let created = app
            .invites()
            .create_invite(CreateInviteRequest {
                job_id: job.id.clone(),
                candidate_email: format!("c{i}@example.com"),
                ..Default::default()
            })
            .await
            .expect("create")
            .into_inner();
        links.push((created.invite.expect("invite").id, created.link_url));
    }
    let calls = (0..INVITES * OPENS)
        .map(|i| {
            let request = app
                .http
                .post(format!("{}/opened", links[i % INVITES].1))
                .header("user-agent", CHROME);
            async move { request.send().await.expect("beacon").status() }
        })
        .collect();
    for status in all_at_once(calls).await {
        assert_eq!(status, 204);
    }
    for (id, _) in &links {
        let invite = app
            .invites()
            .get_invite(GetInviteRequest { id: id.clone() })
            .await
            .expect("get")
            .into_inner();
        assert_eq!(invite.open_count, OPENS as u32);
        assert_eq!(invite.status, InviteStatus::Opened as i32);
        assert!(invite.first_open_time.is_some());
        let details: Vec<String> = app
            .invites()
            .list_invite_events(ListInviteEventsRequest {
                invite_id: id.clone(),
                ..Default::default()
            })
            .await
            .expect("events")
            .into_inner()
            .events
            .into_iter()
            .filter(|e| e.kind == "opened")
            .map(|e| e.detail)
            .collect();
        assert_eq!(details.len(), OPENS);
        assert_eq!(
            details[0], "first open; browser: Chrome",
            "the first is first"
        );
        assert!(details[1..].iter().all(|d| d == "browser: Chrome"));
    }
}
