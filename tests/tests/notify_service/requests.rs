//! Bad requests are refused whole, naming the field, and enqueue nothing; templates are checked.
use beckon_proto::notify::v1::*;
use beckon_tests::{
    notify::{NotifyApp, QueueBackend},
    on_every_queue,
    smtp::SmtpServer,
    violated_fields,
};

use crate::delivery::invite_message;

on_every_queue!(
    a_bad_batch_is_refused_whole_and_enqueues_nothing,
    templates_are_checked_saved_and_used,
    a_service_token_is_required_when_configured,
);

async fn a_bad_batch_is_refused_whole_and_enqueues_nothing(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    let good = invite_message("good-1", "good@example.com");
    let mut bad_recipient = invite_message("bad-1", "not an address");
    bad_recipient.recipient_name = "Eve\r\nBcc: all@example.com".into();
    let mut unknown_variable = invite_message("bad-2", "x@example.com");
    unknown_variable
        .variables
        .insert("salary".into(), "lots".into());
    let mut header_injection = invite_message("bad-3", "y@example.com");
    header_injection
        .variables
        .insert("position_title".into(), "Dev\nBcc: all@example.com".into());
    let err = app
        .client
        .enqueue_messages(EnqueueMessagesRequest {
            messages: vec![
                good.clone(),
                bad_recipient,
                unknown_variable,
                header_injection,
            ],
        })
        .await
        .expect_err("bad batch");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let mut fields = violated_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        [
            "messages[1].recipient",
            "messages[1].recipient_name",
            "messages[2].variables.salary",
            "messages[3].variables.position_title",
        ]
    );

    let oversized = EnqueueMessagesRequest {
        messages: (0..1001)
            .map(|i| invite_message(&format!("many-{i}"), "many@example.com"))
            .collect(),
    };
    let err = app
        .client
        .enqueue_messages(oversized)
        .await
        .expect_err("too many");
    assert_eq!(violated_fields(&err), ["messages"]);

    let listed = app
        .client
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(listed.deliveries.is_empty(), "nothing enqueued");
    app.stop().await;
    assert!(smtp.received().is_empty());
}

async fn templates_are_checked_saved_and_used(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    let org = invite_message("x", "x@example.com").organization_id;
    let default = app
        .client
        .get_template(GetTemplateRequest {
            organization_id: org.clone(),
            kind: MessageKind::Invite as i32,
            locale: String::new(),
        })
        .await
        .expect("get")
        .into_inner();
    assert!(default.is_default);

    let err = app
        .client
        .put_template(PutTemplateRequest {
            template: Some(Template {
                organization_id: org.clone(),
                kind: MessageKind::Invite as i32,
                subject: "Hi {{ shoe_size }}".into(),
                text_body: "{{ link }}".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("unknown variable");
    assert_eq!(violated_fields(&err), ["template.subject"]);

    app.client
        .put_template(PutTemplateRequest {
            template: Some(Template {
                organization_id: org.clone(),
                kind: MessageKind::Invite as i32,
                subject: "{{ organization_name }} would like to meet you".into(),
                text_body: "Dear {{ candidate_name }}, open {{ link }}".into(),
                html_body: String::new(),
                is_default: false,
                // For every language without a template of its own.
                locale: String::new(),
            }),
        })
        .await
        .expect("put");
    let preview = app
        .client
        .render_preview(RenderPreviewRequest {
            message: Some(invite_message("preview-1", "ada@example.com")),
        })
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(preview.subject, "Acme would like to meet you");
    assert_eq!(
        preview.text_body,
        "Dear Ada Lovelace, open https://beckon.example/i/abc123"
    );

    crate::delivery::enqueue(
        &mut app,
        vec![invite_message("custom-1", "ada@example.com")],
    )
    .await;
    let mail = smtp
        .wait_for(std::time::Duration::from_secs(20), |m| !m.is_empty())
        .await;
    assert_eq!(
        mail[0].header("Subject").as_deref(),
        Some("Acme would like to meet you")
    );

    // A template per language; the one above is for every language without its own.
    let template = |locale: &str, subject: &str, text_body: &str| PutTemplateRequest {
        template: Some(Template {
            organization_id: org.clone(),
            kind: MessageKind::Invite as i32,
            locale: locale.into(),
            subject: subject.into(),
            text_body: text_body.into(),
            ..Default::default()
        }),
    };
    app.client
        .put_template(template("de", "Hallo {{ candidate_name }}", "{{ link }}"))
        .await
        .expect("a German template");
    for (bad, field) in [
        (template("xx", "x", "x"), "template.locale"),
        (
            template("de", "x", "{{ t('no-such-text') }}"),
            "template.text_body",
        ),
    ] {
        let err = app.client.put_template(bad).await.expect_err("refused");
        assert_eq!(violated_fields(&err), [field]);
    }
    let get = |locale: &str| GetTemplateRequest {
        organization_id: org.clone(),
        kind: MessageKind::Invite as i32,
        locale: locale.into(),
    };
    let german = app
        .client
        .get_template(get("de"))
        .await
        .expect("get")
        .into_inner();
    assert_eq!((german.locale.as_str(), german.is_default), ("de", false));
    assert_eq!(german.subject, "Hallo {{ candidate_name }}");
    let french = app
        .client
        .get_template(get("fr-CA"))
        .await
        .expect("get")
        .into_inner();
    assert_eq!((french.locale.as_str(), french.is_default), ("", false));
    // The one for every language reads back as saved, beside a language's own.
    app.client
        .put_template(template("en", "Hello {{ candidate_name }}", "{{ link }}"))
        .await
        .expect("an English template");
    let every = app
        .client
        .get_template(get(""))
        .await
        .expect("get")
        .into_inner();
    assert_eq!((every.locale.as_str(), every.is_default), ("", false));
    assert_eq!(
        every.subject,
        "{{ organization_name }} would like to meet you"
    );
    let err = app
        .client
        .get_template(get("xx"))
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&err), ["locale"]);

    let preview = |locale: &str| {
        let mut message = invite_message("preview-2", "ada@example.com");
        message.locale = locale.into();
        RenderPreviewRequest {
            message: Some(message),
        }
    };
    let rendered = app
        .client
        .render_preview(preview("de"))
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(rendered.subject, "Hallo Ada Lovelace");
    let rendered = app
        .client
        .render_preview(preview("es"))
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(rendered.subject, "Acme would like to meet you");
    let err = app
        .client
        .render_preview(preview("xx"))
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&err), ["message.locale"]);

    // Without the template for every language, French is the built-in one, in French.
    for _ in 0..2 {
        app.client
            .delete_template(DeleteTemplateRequest {
                organization_id: org.clone(),
                kind: MessageKind::Invite as i32,
                locale: String::new(),
            })
            .await
            .expect("delete, twice alike");
    }
    let french = app
        .client
        .get_template(get("fr"))
        .await
        .expect("get")
        .into_inner();
    assert_eq!((french.locale.as_str(), french.is_default), ("fr", true));
    let position = invite_message("x", "x@example.com").variables["position_title"].clone();
    let rendered = app
        .client
        .render_preview(preview("fr"))
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(
        rendered.subject,
        beckon_i18n::text(
            beckon_i18n::Locale::Fr,
            "invite-subject",
            &[("position", position.as_str().into())]
        )
    );
    app.stop().await;
}

async fn a_service_token_is_required_when_configured(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn_with(backend, &smtp, |c| {
        c.auth_token = Some(notify_service::config::Secret::new("s3cret"));
    })
    .await;
    let err = app
        .client
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let mut request = tonic::Request::new(ListDeliveriesRequest::default());
    request
        .metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().expect("ascii"));
    app.client
        .list_deliveries(request)
        .await
        .expect("with the token");
    app.stop().await;
}
