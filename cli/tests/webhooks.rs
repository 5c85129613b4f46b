//! End-to-end tests of `invitectl webhooks` against a real invite-service, booted in-process on
//! SQLite by beckon-tests' `TestApp`, as in `invitectl.rs`.
//!
//! The endpoint URL is under `.invalid`, which never resolves: the server accepts it (names are checked again at every attempt) and every
//! attempt fails, so no receiver is needed and nothing leaves the machine.
mod common;

use beckon_tests::{Backend, TestApp};
use common::Ctl;
use serde_json::Value;

const URL: &str = "https://hooks.invalid/beckon";

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn bad_webhook_arguments_are_refused_before_any_call() {
    let ctl = Ctl::unreachable();
    for (args, named) in [
        (&["webhooks", "update", "wh1"][..], "--url"),
        (
            &["webhooks", "update", "wh1", "--enable", "--disable"],
            "--disable",
        ),
        (
            &["webhooks", "rotate-secret", "wh1", "--overlap", "soon"],
            "--overlap",
        ),
        (
            &["webhooks", "replay-failed", "wh1", "--since", "yesterday"],
            "--since",
        ),
        (
            &["webhooks", "create", URL, "--request-id", "abc"],
            "--request-id",
        ),
    ] {
        let run = ctl.run(args).await;
        run.assert_code(2);
        assert!(run.stderr.contains(named), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    // The alias.
    let help = ctl.run(&["webhook", "--help"]).await;
    help.assert_code(0);
    assert!(help.stdout.contains("rotate-secret"), "{}", help.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_endpoints_are_created_changed_and_deleted() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);

    // The secret, once, after the headline; the warning on stderr.
    let created = ctl
        .run(&[
            "webhooks",
            "create",
            URL,
            "--description",
            "ATS",
            "--event",
            "invite.submitted",
        ])
        .await;
    created.assert_code(0);
    let id = created.id();
    assert!(
        created
            .stdout
            .starts_with(&format!("webhook {id}\nsecret whsec_")),
        "{}",
        created.stdout
    );
    assert!(
        created.stderr.contains("shown only now"),
        "{}",
        created.stderr
    );

    // The same request id makes no second endpoint.
    let request_id = "0190f0f0-0000-4000-8000-000000000001";
    let args = ["webhooks", "create", URL, "--request-id", request_id];
    let first = ctl.json(&args).await;
    assert!(text(&first["secret"]).starts_with("whsec_"), "{first}");
    let again = ctl.json(&args).await;
    assert_eq!(again["endpoint"]["id"], first["endpoint"]["id"]);

    let listed = ctl.run(&["webhooks", "list"]).await;
    listed.assert_code(0);
    assert!(
        listed.stdout.starts_with("ID") && listed.stdout.contains(&id),
        "{}",
        listed.stdout
    );
    let listed = ctl.json(&["webhooks", "list"]).await;
    assert_eq!(listed["endpoints"].as_array().map(Vec::len), Some(2));

    // Only the fields given change.
    let updated = ctl
        .json(&["webhooks", "update", &id, "--disable", "--description", ""])
        .await;
    assert_eq!(updated["enabled"], false);
    assert_eq!(updated["description"], "");
    assert_eq!(updated["url"], URL);
    assert_eq!(updated["event_types"][0], "invite.submitted");
    let updated = ctl
        .json(&["webhook", "update", &id, "--enable", "--all-events"])
        .await;
    assert_eq!(updated["enabled"], true);
    assert_eq!(updated["event_types"], Value::Array(Vec::new()));
    assert_eq!(updated["description"], "");

    let refused = ctl
        .run(&["webhooks", "update", &id, "--event", "invite.nonsense"])
        .await;
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("endpoint.event_types") && refused.stderr.contains("(--event)"),
        "{}",
        refused.stderr
    );

    // A new secret, once; the old one signs beside it for the overlap.
    let rotated = ctl
        .json(&["webhooks", "rotate-secret", &id, "--overlap", "1h"])
        .await;
    let secret = text(&rotated["secret"]);
    assert!(secret.starts_with("whsec_") && !created.stdout.contains(&secret));
    assert!(rotated["endpoint"]["previous_secret_expire_time"].is_string());
    let too_long = ctl
        .run(&["webhooks", "rotate-secret", &id, "--overlap", "8d"])
        .await;
    too_long.assert_code(2);
    assert!(
        too_long.stderr.contains("overlap (--overlap)"),
        "{}",
        too_long.stderr
    );

    // Delete says what it deleted; the endpoint is gone.
    let deleted = ctl.run(&["webhooks", "delete", &id]).await;
    deleted.assert_code(0);
    assert!(
        deleted.stdout.starts_with(&format!("webhook {id}\n")) && deleted.stdout.contains(URL),
        "{}",
        deleted.stdout
    );
    assert!(deleted.stdout.contains("deleted"), "{}", deleted.stdout);
    ctl.run(&["webhooks", "get", &id]).await.assert_code(3);
    ctl.run(&["webhooks", "delete", &id]).await.assert_code(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_messages_attempts_and_replays() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ctl = Ctl::new(&app);
    let created = ctl.json(&["webhooks", "create", URL]).await;
    let id = text(&created["endpoint"]["id"]);

    let ping = ctl.json(&["webhooks", "ping", &id]).await;
    let message = text(&ping["id"]);
    assert!(message.starts_with("msg_"), "{ping}");
    assert_eq!(ping["event_type"], "ping");
    assert_eq!(ping["endpoint_id"], id.as_str());

    let messages = ctl.run(&["webhooks", "messages", &id]).await;
    messages.assert_code(0);
    assert!(
        messages.stdout.starts_with("ID") && messages.stdout.contains(&message),
        "{}",
        messages.stdout
    );
    assert!(messages.stdout.contains("ping"), "{}", messages.stdout);
    let delivered = ctl
        .json(&["webhooks", "messages", &id, "--status", "delivered"])
        .await;
    assert_eq!(delivered["messages"], Value::Array(Vec::new()));

    // The name never resolves: every attempt fails, each with its reason.
    let attempts = app
        .when(
            async || {
                ctl.json(&["webhooks", "attempts", &id, "--message", &message])
                    .await
            },
            |json| json["attempts"].as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let attempt = &attempts["attempts"][0];
    assert_eq!(attempt["succeeded"], false);
    assert_eq!(attempt["message_id"], message.as_str());
    assert!(!text(&attempt["error"]).is_empty(), "{attempt}");
    let table = ctl.run(&["webhooks", "attempts", &id]).await;
    table.assert_code(0);
    assert!(table.stdout.starts_with("ATTEMPT TIME"), "{}", table.stdout);

    let replayed = ctl.json(&["webhooks", "replay", &id, &message]).await;
    assert_eq!(replayed["id"], message.as_str());
    assert_eq!(replayed["status"], "pending");

    let since = ctl
        .json(&["webhooks", "replay-failed", &id, "--since", "1h"])
        .await;
    assert!(since["replayed"].is_u64(), "{since}");
    let text_run = ctl
        .run(&[
            "webhooks",
            "replay-failed",
            &id,
            "--since",
            "2026-01-01T00:00:00Z",
        ])
        .await;
    text_run.assert_code(0);
    assert!(text_run.stdout.contains("due again"), "{}", text_run.stdout);

    let bad = ctl.run(&["webhooks", "replay", &id, "not-a-message"]).await;
    bad.assert_code(2);
    assert!(bad.stderr.contains("message_id (MSG_ID"), "{}", bad.stderr);
}
