//! The success path of every RPC.
use beckon_proto::invite::v1::*;
use beckon_tests::{on_both_databases, Backend, TestApp};
use prost_types::FieldMask;

on_both_databases!(
    jobs_can_be_created_read_listed_and_updated,
    candidates_are_created_or_updated_by_email,
    an_invite_carries_its_link_only_when_created,
    invites_are_listed_by_job_status_label_and_email,
    lists_page_through_every_row_once,
    members_can_be_added_listed_and_updated,
    api_keys_are_shown_once_listed_and_revoked,
    the_caller_can_see_its_organization_and_key,
);

async fn jobs_can_be_created_read_listed_and_updated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut jobs = app.jobs();
    let job = jobs
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "Data engineer".into(),
                assessment_url: "https://assess.example.com/t/42".into(),
                defaults: Some(InviteDefaults {
                    expiry_days: 7,
                    time_limit_minutes: 90,
                    message: "Good luck!".into(),
                }),
                ..Job::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(job.state, JobState::Open as i32);
    assert_eq!(
        job.defaults.as_ref().map(|d| d.time_limit_minutes),
        Some(90)
    );

    let fetched = jobs
        .get_job(GetJobRequest { id: job.id.clone() })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched, job);

    let updated = jobs
        .update_job(UpdateJobRequest {
            job: Some(Job {
                id: job.id.clone(),
                title: "Senior data engineer".into(),
                state: JobState::Closed as i32,
                ..Job::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["title".into(), "state".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.title, "Senior data engineer");
    assert_eq!(updated.state, JobState::Closed as i32);
    assert_eq!(
        updated.assessment_url, job.assessment_url,
        "not in the mask"
    );

    app.create_job("Another").await;
    let open = jobs
        .list_jobs(ListJobsRequest {
            state: JobState::Open as i32,
            ..ListJobsRequest::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(open.jobs.len(), 1);
    assert_eq!(open.jobs[0].title, "Another");
}

async fn candidates_are_created_or_updated_by_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut candidates = app.candidates();
    let first = candidates
        .upsert_candidate(UpsertCandidateRequest {
            candidate: Some(Candidate {
                email: "Grace@Example.com".into(),
                name: "Grace".into(),
                ..Candidate::default()
            }),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(first.email, "grace@example.com");
    let second = candidates
        .upsert_candidate(UpsertCandidateRequest {
            candidate: Some(Candidate {
                email: "grace@example.com".into(),
                name: "Grace Hopper".into(),
                external_id: "ats-7".into(),
                ..Candidate::default()
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(second.id, first.id, "same email, same candidate");
    assert_eq!(second.name, "Grace Hopper");
    let fetched = candidates
        .get_candidate(GetCandidateRequest { id: first.id })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched.external_id, "ats-7");
    let listed = candidates
        .list_candidates(ListCandidatesRequest {
            email: "grace@example.com".into(),
            ..ListCandidatesRequest::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.candidates.len(), 1);
}

async fn an_invite_carries_its_link_only_when_created(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("QA").await;
    let created = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "alan@example.com".into(),
            candidate_name: "Alan Turing".into(),
            labels: vec!["spring".into(), "referral".into()],
            time_limit_minutes: 45,
            ..CreateInviteRequest::default()
        })
        .await
        .expect("create")
        .into_inner();
    let token = created
        .link_url
        .strip_prefix(&format!("{}/i/", app.base_url))
        .expect("link built from the public base URL");
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    let invite = created.invite.expect("invite");
    assert_eq!(invite.status, InviteStatus::Sent as i32);
    assert_eq!(invite.delivery_status, DeliveryStatus::NotRequested as i32);
    assert_eq!(invite.labels, ["referral", "spring"]);
    assert_eq!(invite.time_limit_minutes, 45);
    assert!(!invite.candidate_id.is_empty());

    let fetched = app
        .invites()
        .get_invite(GetInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched, invite);
    let encoded = format!("{fetched:?}");
    assert!(
        !encoded.contains(token),
        "no later response carries the token"
    );

    let events = app
        .invites()
        .list_invite_events(ListInviteEventsRequest {
            invite_id: invite.id,
            ..ListInviteEventsRequest::default()
        })
        .await
        .expect("events")
        .into_inner()
        .events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "created");
    assert!(events[0].actor.starts_with("key:"));
}

async fn invites_are_listed_by_job_status_label_and_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job_a = app.create_job("A").await;
    let job_b = app.create_job("B").await;
    let mut invites = app.invites();
    for (job, email, label) in [
        (&job_a, "one@example.com", "x"),
        (&job_a, "two@example.com", "y"),
        (&job_b, "three@example.com", "x"),
    ] {
        invites
            .create_invite(CreateInviteRequest {
                job_id: job.id.clone(),
                candidate_email: email.into(),
                labels: vec![label.into()],
                ..CreateInviteRequest::default()
            })
            .await
            .expect("create");
    }
    let list = |request: ListInvitesRequest| {
        let mut invites = app.invites();
        async move {
            invites
                .list_invites(request)
                .await
                .expect("list")
                .into_inner()
                .invites
                .into_iter()
                .map(|i| i.candidate_email)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(ListInvitesRequest {
            job_id: job_a.id.clone(),
            ..Default::default()
        })
        .await,
        ["two@example.com", "one@example.com"],
        "newest first"
    );
    assert_eq!(
        list(ListInvitesRequest {
            label: "x".into(),
            ..Default::default()
        })
        .await,
        ["three@example.com", "one@example.com"]
    );
    assert_eq!(
        list(ListInvitesRequest {
            candidate_email: "TWO@example.com".into(),
            ..Default::default()
        })
        .await,
        ["two@example.com"]
    );
    assert_eq!(
        list(ListInvitesRequest {
            status: InviteStatus::Opened as i32,
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    assert_eq!(
        list(ListInvitesRequest {
            status: InviteStatus::Sent as i32,
            job_id: job_b.id.clone(),
            label: "x".into(),
            ..Default::default()
        })
        .await,
        ["three@example.com"]
    );
}

async fn lists_page_through_every_row_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(app.create_job(&format!("Job {i}")).await.id);
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = app
            .jobs()
            .list_jobs(ListJobsRequest {
                page_size: 3,
                page_token: page_token.clone(),
                ..ListJobsRequest::default()
            })
            .await
            .expect("list")
            .into_inner();
        pages += 1;
        seen.extend(page.jobs.into_iter().map(|j| j.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    made.reverse();
    assert_eq!(seen, made);
    assert_eq!(pages, 3);
}

async fn members_can_be_added_listed_and_updated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut org = app.organization();
    let member = org
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "lead@example.com".into(),
                name: "Team Lead".into(),
                notify_started: true,
                notify_submitted: true,
                admin: true,
                ..Member::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    assert!(member.admin);
    let updated = org
        .update_member(UpdateMemberRequest {
            member: Some(Member {
                id: member.id.clone(),
                notify_started: false,
                ..Member::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["notify_started".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert!(!updated.notify_started);
    assert!(updated.notify_submitted);
    assert_eq!(updated.name, "Team Lead");
    assert!(updated.admin);
    // Without a mask, every field but `admin` is replaced: a client that predates it never
    // takes it away.
    let updated = org
        .update_member(UpdateMemberRequest {
            member: Some(Member {
                id: member.id.clone(),
                name: "Team Lead".into(),
                notify_submitted: true,
                ..Member::default()
            }),
            update_mask: None,
        })
        .await
        .expect("update without a mask")
        .into_inner();
    assert!(updated.admin && !updated.notify_started && updated.notify_submitted);
    let listed = org
        .list_members(ListMembersRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.members, [updated]);

    let duplicate = org
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "LEAD@example.com".into(),
                ..Member::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("same email twice");
    assert_eq!(duplicate.code(), tonic::Code::AlreadyExists);
}

async fn api_keys_are_shown_once_listed_and_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut org = app.organization();
    let created = org
        .create_api_key(CreateApiKeyRequest {
            name: "ATS integration".into(),
            scope: ApiKeyScope::Invites as i32,
            request_id: String::new(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let key = created.api_key.expect("key");
    assert!(created.secret.starts_with(&key.prefix));
    assert!(created.secret.starts_with("bk_"));

    let listed = org
        .list_api_keys(ListApiKeysRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.api_keys.len(), 2, "bootstrap key and the new one");
    assert!(!format!("{listed:?}").contains(&created.secret));

    // The new key works until it is revoked.
    app.jobs_as(&created.secret)
        .list_jobs(ListJobsRequest::default())
        .await
        .expect("new key works");
    let revoked = org
        .revoke_api_key(RevokeApiKeyRequest { id: key.id })
        .await
        .expect("revoke")
        .into_inner();
    assert!(revoked.revoke_time.is_some());
    let refused = app
        .jobs_as(&created.secret)
        .list_jobs(ListJobsRequest::default())
        .await
        .expect_err("revoked key");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
}

async fn the_caller_can_see_its_organization_and_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let links_key = app.key_with_scope(ApiKeyScope::Links).await;
    let caller = app
        .organization_as(&links_key)
        .get_caller(GetCallerRequest {})
        .await
        .expect("whoami")
        .into_inner();
    assert_eq!(caller.organization_name, "My organization");
    assert_eq!(
        caller.api_key.map(|k| k.scope),
        Some(ApiKeyScope::Links as i32)
    );
    assert_eq!(caller.api_version, "1.0");
}
