//! `otlp_endpoint` and W3C trace context, from outside: a caller's `traceparent` (on gRPC and on
//! a link page) is continued by invite-service, carried through its outbox into
//! notify-service, and continued there when the email goes out; every log line written for it
//! names the trace, and both services export their spans to an OTLP collector (a double that
//! decodes them with the OpenTelemetry project's own protobuf definitions).
use std::time::Duration;

use beckon_proto::invite::v1::{invite_service_client::InviteServiceClient, CreateInviteRequest};
use beckon_tests::{
    otlp::Collector,
    process::{service, Running},
    smtp::{to, SmtpServer},
};
use tonic::{metadata::MetadataValue, transport::Channel, Request};

/// A caller's trace and span, as its `traceparent` names them.
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
/// Another caller's trace, for a link page.
const PAGE_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const TOKEN: &str = "notify-token-for-traces";
const BROWSER: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_trace_is_continued_through_the_outbox_into_notify_service() {
    let smtp = SmtpServer::start().await;
    let collector = Collector::start().await;
    let dir = tempfile::tempdir().expect("temp dir");

    let mut notify = service("notify-service");
    notify
        .env("BECKON_NOTIFY_LISTEN_ADDR", "127.0.0.1:0")
        .env("BECKON_NOTIFY_DATA_DIR", dir.path().join("notify"))
        .env("BECKON_NOTIFY_SMTP__HOST", "127.0.0.1")
        .env("BECKON_NOTIFY_SMTP__PORT", smtp.addr.port().to_string())
        .env("BECKON_NOTIFY_SMTP__SECURITY", "none")
        .env("BECKON_NOTIFY_AUTH_TOKEN", TOKEN)
        .env("BECKON_NOTIFY_LOG_FORMAT", "json")
        .env("BECKON_NOTIFY_OTLP_ENDPOINT", &collector.endpoint)
        // Logs of notify-service's own code only: the spans that carry the trace stay on.
        .env("RUST_LOG", "notify_service=info");
    let mut notify = Running::start(notify, "Beckon notify-service listening on").await;

    let mut invite = service("invite-service");
    invite
        .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
        .env("BECKON_DATA_DIR", dir.path().join("invite"))
        .env("BECKON_NOTIFY_ADDR", format!("http://{}", notify.addr))
        .env("BECKON_NOTIFY_TOKEN", TOKEN)
        .env("BECKON_LOG_FORMAT", "json")
        .env("BECKON_OTLP_ENDPOINT", &collector.endpoint);
    let mut invite = Running::start(invite, "Press Ctrl-C to stop.").await;

    // CreateInvite with the caller's traceparent; the email goes out through notify-service.
    let channel = Channel::from_shared(format!("http://{}", invite.addr))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let auth: MetadataValue<_> = format!("Bearer {}", invite.admin_key())
        .parse()
        .expect("ascii");
    let traceparent: MetadataValue<_> = format!("00-{TRACE}-{CALLER_SPAN}-01")
        .parse()
        .expect("ascii");
    let traced = move |mut request: Request<()>| {
        request.metadata_mut().insert("authorization", auth.clone());
        request
            .metadata_mut()
            .insert("traceparent", traceparent.clone());
        Ok::<_, tonic::Status>(request)
    };
    let job = beckon_tests::open_job(channel.clone(), traced.clone()).await;
    let link = InviteServiceClient::with_interceptor(channel, traced)
        .create_invite(CreateInviteRequest {
            job_id: job.id,
            candidate_email: "ada@example.com".into(),
            candidate_name: "Ada Lovelace".into(),
            send_email: true,
            ..CreateInviteRequest::default()
        })
        .await
        .expect("create invite")
        .into_inner()
        .link_url;
    let mail = smtp
        .wait_for(Duration::from_secs(30), to("ada@example.com"))
        .await;
    assert!(
        mail.iter().any(|m| m.to == ["ada@example.com"]),
        "the email arrived"
    );

    // A link page opened by a browser whose request carries another trace.
    let (_, token) = link.split_once("/i/").expect("a link page's address");
    let page = reqwest::Client::new()
        .get(format!("http://{}/i/{token}", invite.addr))
        .header("traceparent", format!("00-{PAGE_TRACE}-{CALLER_SPAN}-01"))
        .header("user-agent", BROWSER)
        .send()
        .await
        .expect("the link page");
    assert!(page.status().is_success(), "{}", page.status());
    // The page's beacon, as the browser sends it once the page is shown: logged.
    let beacon = reqwest::Client::new()
        .post(format!("http://{}/i/{token}/opened", invite.addr))
        .header("traceparent", format!("00-{PAGE_TRACE}-{CALLER_SPAN}-01"))
        .header("user-agent", BROWSER)
        .send()
        .await
        .expect("the beacon");
    assert!(beacon.status().is_success(), "{}", beacon.status());

    // SIGTERM: each exports what it has not yet, then exits.
    invite.terminate().await;
    notify.terminate().await;

    let spans = collector
        .wait_for(Duration::from_secs(10), |spans| {
            spans
                .iter()
                .any(|s| s.service == "notify-service" && s.trace_id == TRACE)
        })
        .await;
    let in_trace = |service: &str, trace: &str| {
        spans
            .iter()
            .filter(|s| s.service == service && s.trace_id == trace)
            .cloned()
            .collect::<Vec<_>>()
    };
    let invite_spans = in_trace("invite-service", TRACE);
    assert!(
        invite_spans
            .iter()
            .any(|s| s.name.ends_with("/CreateInvite") && s.parent_span_id == CALLER_SPAN),
        "invite-service continued the caller's trace under the caller's span: {spans:#?}"
    );
    let notify_spans = in_trace("notify-service", TRACE);
    assert!(
        notify_spans.iter().any(|s| s.name == "deliver email"
            && invite_spans.iter().any(|i| i.span_id == s.parent_span_id)),
        "notify-service sent the email in the trace, under invite-service's span: {spans:#?}"
    );
    assert!(
        !in_trace("invite-service", PAGE_TRACE).is_empty(),
        "the link page continued its caller's trace: {spans:#?}"
    );

    // Every log line written for the traced work names its trace.
    invite.drain_log().await;
    notify.drain_log().await;
    let page_lines: Vec<&String> = invite
        .log
        .iter()
        .filter(|line| line.contains("invite page shown"))
        .collect();
    assert!(!page_lines.is_empty(), "{:#?}", invite.log);
    for line in page_lines {
        assert!(
            line.contains(&format!("\"trace_id\":\"{PAGE_TRACE}\"")),
            "{line}"
        );
    }
    // A link's token reaches no log line and no span.
    for line in &invite.log {
        assert!(!line.contains(token), "a token in the log: {line}");
    }
    for span in &spans {
        assert!(!span.name.contains(token), "a token in a span: {span:?}");
    }
    let sent_lines: Vec<&String> = notify
        .log
        .iter()
        .filter(|line| line.contains("email sent"))
        .collect();
    assert_eq!(sent_lines.len(), 1, "{:#?}", notify.log);
    assert!(
        sent_lines[0].contains(&format!("\"trace_id\":\"{TRACE}\"")),
        "{}",
        sent_lines[0]
    );
}
