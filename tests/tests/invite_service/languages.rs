//! The reader's language, through the whole system: a candidate's emails and pages in the
//! invite's language, else the job's, else the organization's default (the pages follow the
//! browser's `Accept-Language` before the job's); a member's notices in their own; an
//! organization's template per language; a language Beckon does not ship refused, writing
//! nothing. What each text should say comes from the shipped catalog itself.
use std::time::Duration;

use beckon_i18n::{text, Arg, Locale};
use beckon_proto::{
    invite::v1::{public_registration_service_client::PublicRegistrationServiceClient, *},
    notify::v1::{
        notify_service_client::NotifyServiceClient, GetTemplateRequest, MessageKind,
        PutTemplateRequest, Template,
    },
};
use beckon_tests::{
    on_both_databases,
    smtp::{to, ReceivedMail, SmtpServer},
    violated_fields, Backend, TestApp,
};

on_both_databases!(every_reader_gets_their_own_language);

const WAIT: Duration = Duration::from_secs(30);
const POSITION: &str = "Backend engineer";

async fn mail_to(smtp: &SmtpServer, address: &str) -> ReceivedMail {
    let mail = smtp.wait_for(WAIT, to(address)).await;
    mail.into_iter()
        .find(|m| m.to == [address])
        .expect("a message to the address")
}

/// A call to notify-service with its service token.
fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.parse().expect("ascii"));
    request
}

/// A page's language (`Content-Language`), its `Vary` and its body.
async fn page(url: &str, accept_language: Option<&str>) -> (String, String, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(languages) = accept_language {
        request = request.header("accept-language", languages);
    }
    let response = request.send().await.expect("GET");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (language, vary) = (header("content-language"), header("vary"));
    let body = response.text().await.expect("page");
    // minijinja escapes `/` and `'` in HTML.
    let body = body.replace("&#x2f;", "/").replace("&#x27;", "'");
    (language, vary, body)
}

async fn every_reader_gets_their_own_language(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;

    // The organization's default: English until changed; one not shipped is refused.
    let organization = app
        .organization()
        .get_organization(GetOrganizationRequest {})
        .await
        .expect("get")
        .into_inner();
    assert_eq!(organization.default_locale, "en");
    let update = |tag: &str| UpdateOrganizationRequest {
        organization: Some(Organization {
            default_locale: tag.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["default_locale".into()],
        }),
    };
    for bad in ["klingon", "ja", ""] {
        let refused = app
            .organization()
            .update_organization(update(bad))
            .await
            .expect_err("not a shipped language");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{bad}");
        assert_eq!(violated_fields(&refused), ["organization.default_locale"]);
    }
    let unchanged = app
        .organization()
        .get_organization(GetOrganizationRequest {})
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        unchanged.default_locale, "en",
        "a refused update writes nothing"
    );
    let updated = app
        .organization()
        .update_organization(update("de"))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.default_locale, "de");
    let invites_key = app.key_with_scope(ApiKeyScope::Invites).await;
    let refused = app
        .organization_as(&invites_key)
        .update_organization(update("fr"))
        .await
        .expect_err("admins only");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    // A member who reads French.
    let refused = app
        .organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "grace@acme.test".into(),
                locale: "xx".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("not a language");
    assert_eq!(violated_fields(&refused), ["member.locale"]);
    let grace = app
        .organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "grace@acme.test".into(),
                name: "Grace Hopper".into(),
                notify_started: true,
                locale: "fr-CH".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("member")
        .into_inner();
    assert_eq!(grace.locale, "fr-CH");

    // A job hired in Spanish, and one that says nothing.
    let spanish_job = app
        .jobs()
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: POSITION.into(),
                assessment_url: "https://assess.example/start".into(),
                locale: "es".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("job")
        .into_inner();
    assert_eq!(spanish_job.locale, "es");
    let plain_job = app.create_job(POSITION).await;

    let create = |job: &Job, email: &str, locale: &str| CreateInviteRequest {
        job_id: job.id.clone(),
        candidate_email: email.into(),
        candidate_name: "Ada Lovelace".into(),
        send_email: true,
        ttl: Some(prost_types::Duration {
            seconds: 7 * 24 * 3600,
            nanos: 0,
        }),
        assignee_ids: vec![grace.id.clone()],
        locale: locale.into(),
        ..Default::default()
    };
    let refused = app
        .invites()
        .create_invite(create(&plain_job, "nobody@example.com", "tlh"))
        .await
        .expect_err("not shipped");
    assert_eq!(violated_fields(&refused), ["locale"]);
    // It says which languages there are.
    let why = tonic_types::StatusExt::get_details_bad_request(&refused)
        .map(|bad| bad.field_violations[0].description.clone())
        .unwrap_or_default();
    assert!(why.contains("en, de, fr, es, pt-BR"), "{why}");
    let listed = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner()
        .invites;
    assert!(listed.is_empty(), "a refused create writes nothing");

    // No language anywhere but the organization's: German.
    let german = app
        .invites()
        .create_invite(create(&plain_job, "ada@example.com", ""))
        .await
        .expect("create")
        .into_inner();
    let position = [("position", Arg::Text(POSITION))];
    let received = mail_to(&smtp, "ada@example.com").await;
    assert_eq!(received.header("Content-Language").as_deref(), Some("de"));
    let mail = received.decoded();
    assert_eq!(mail.subject, text(Locale::De, "invite-subject", &position));
    assert!(
        mail.text
            .starts_with(&text(Locale::De, "greeting", &[("name", "Ada".into())])),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains(&text(Locale::De, "personal-link", &[])),
        "{}",
        mail.text
    );
    // The expiry's date in German.
    let months = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    assert!(
        months.iter().any(|m| mail.text.contains(m)),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("lang=\"de\""), "{}", mail.html);

    // The job's Spanish, and an invite's own Brazilian Portuguese over it.
    app.invites()
        .create_invite(create(&spanish_job, "alan@example.com", ""))
        .await
        .expect("create");
    let mail = mail_to(&smtp, "alan@example.com").await.decoded();
    assert_eq!(mail.subject, text(Locale::Es, "invite-subject", &position));
    let portuguese = app
        .invites()
        .create_invite(create(&spanish_job, "bia@example.com", "pt-br"))
        .await
        .expect("create")
        .into_inner();
    assert_eq!(portuguese.invite.as_ref().expect("invite").locale, "pt-BR");
    let mail = mail_to(&smtp, "bia@example.com").await.decoded();
    assert_eq!(
        mail.subject,
        text(Locale::PtBr, "invite-subject", &position)
    );

    // Pages: the invite's language first, whatever the browser says.
    let start = text(Locale::PtBr, "invite-start", &[]);
    for browser in [None, Some("fr-FR,fr;q=0.9")] {
        let (language, _, body) = page(&portuguese.link_url, browser).await;
        assert_eq!(language, "pt-BR");
        assert!(body.contains("<html lang=\"pt-BR\">"), "{body}");
        assert!(body.contains(&start), "{body}");
    }
    // An invite without one: the browser's, else (none it ships) the job's, else the default.
    let (language, vary, body) = page(&german.link_url, Some("fr-CH, en;q=0.5")).await;
    assert_eq!(language, "fr");
    assert!(vary.to_lowercase().contains("accept-language"), "{vary}");
    assert!(
        body.contains(&text(Locale::Fr, "invite-start", &[])),
        "{body}"
    );
    let (language, _, _) = page(&german.link_url, Some("ja, zh;q=0.8")).await;
    assert_eq!(language, "de");
    let (language, _, _) = page(&german.link_url, None).await;
    assert_eq!(language, "de");
    // A dead link's page says nothing of the invite: the browser's language, else English.
    let dead = format!("{}x", &german.link_url[..german.link_url.len() - 1]);
    let (language, _, body) = page(&dead, Some("es-MX")).await;
    assert_eq!(language, "es");
    assert!(
        body.contains(&text(Locale::Es, "renewal-submit", &[])),
        "{body}"
    );
    let (language, _, _) = page(&dead, None).await;
    assert_eq!(language, "en");

    // The team hears in its member's language.
    assert_eq!(
        app.post(&format!("{}/start", portuguese.link_url))
            .await
            .status(),
        303
    );
    let told = mail_to(&smtp, "grace@acme.test").await.decoded();
    assert_eq!(
        told.subject,
        text(
            Locale::Fr,
            "team-started-subject",
            &[
                ("candidate", "Ada Lovelace".into()),
                ("position", POSITION.into())
            ]
        )
    );

    // A registration keeps its language: the one the form was read in (the browser's), or the
    // one a client gives.
    let public_url = app
        .jobs()
        .set_job_public_link(SetJobPublicLinkRequest {
            job_id: plain_job.id.clone(),
            enabled: true,
        })
        .await
        .expect("public link")
        .into_inner()
        .public_url;
    let (language, _, form) = page(&public_url, Some("fr-FR,fr;q=0.9")).await;
    assert_eq!(language, "fr");
    assert!(
        form.contains(&text(Locale::Fr, "registration-submit", &[])),
        "{form}"
    );
    let registered = reqwest::Client::new()
        .post(&public_url)
        .header("accept-language", "fr-FR,fr;q=0.9")
        .form(&[
            ("name", "Emilie du Chatelet"),
            ("email", "emilie@example.com"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(registered.status(), 200);
    let mail = mail_to(&smtp, "emilie@example.com").await.decoded();
    assert_eq!(
        mail.subject,
        text(Locale::Fr, "registration-subject", &position)
    );
    let mut registrations = PublicRegistrationServiceClient::new(app.channel.clone());
    let register = |email: &str, locale: &str| RegisterRequest {
        public_token: public_url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        name: "Hedy Lamarr".into(),
        email: email.into(),
        locale: locale.into(),
    };
    let refused = registrations
        .register(register("hedy@example.com", "xx"))
        .await
        .expect_err("not a language");
    assert_eq!(violated_fields(&refused), ["locale"]);
    registrations
        .register(register("hedy@example.com", "es-AR"))
        .await
        .expect("registered");
    let mail = mail_to(&smtp, "hedy@example.com").await.decoded();
    assert_eq!(
        mail.subject,
        text(Locale::Es, "registration-subject", &position)
    );

    // A cohort's language, and a row's own (a CSV column) over it.
    let cohort = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: plain_job.id.clone(),
            csv: "email,language,time_zone\n\
                  priya@example.com,,\n\
                  lina@example.com,es-MX,America/Mexico_City\n"
                .into(),
            locale: "fr".into(),
            ..Default::default()
        })
        .await
        .expect("bulk")
        .into_inner();
    let invites = app.invites_to("priya@example.com").await;
    assert_eq!(invites[0].locale, "fr", "{cohort:?}");
    let lina = app.invites_to("lina@example.com").await;
    assert_eq!(lina[0].locale, "es-MX");
    assert_eq!(lina[0].time_zone, "America/Mexico_City");

    // The organization's own template in German; French keeps the built-in one.
    let mut notify =
        NotifyServiceClient::connect(format!("http://{}", app.in_process_notify().local_addr))
            .await
            .expect("notify-service");
    let org_id = organization.id.clone();
    // The in-process notify-service takes the token made for this run.
    let token = app
        .store()
        .config
        .notify_token
        .as_ref()
        .map(|token| format!("Bearer {}", token.expose()))
        .unwrap_or_default();
    notify
        .put_template(authed(
            &token,
            PutTemplateRequest {
                template: Some(Template {
                    organization_id: org_id.clone(),
                    kind: MessageKind::Invite as i32,
                    locale: "de".into(),
                    subject: "Willkommen bei {{ organization_name }}: {{ position_title }}".into(),
                    text_body: "{{ t('start-here', link=link) }}".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect("put a German template");
    let french = notify
        .get_template(authed(
            &token,
            GetTemplateRequest {
                organization_id: org_id.clone(),
                kind: MessageKind::Invite as i32,
                locale: "fr".into(),
            },
        ))
        .await
        .expect("get")
        .into_inner();
    assert!(french.is_default);
    assert_eq!(french.locale, "fr");
    app.invites()
        .create_invite(create(&plain_job, "carl@example.com", ""))
        .await
        .expect("create");
    let mail = mail_to(&smtp, "carl@example.com").await.decoded();
    assert!(
        mail.subject.starts_with("Willkommen bei "),
        "{}",
        mail.subject
    );
    assert!(
        mail.text
            .starts_with(&text(Locale::De, "start-here", &[("link", "".into())])),
        "{}",
        mail.text
    );
    app.invites()
        .create_invite(create(&plain_job, "dora@example.com", "fr"))
        .await
        .expect("create");
    let mail = mail_to(&smtp, "dora@example.com").await.decoded();
    assert_eq!(mail.subject, text(Locale::Fr, "invite-subject", &position));
}
