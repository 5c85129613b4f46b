//! A webhook receiver for tests that checks every request with the official Standard Webhooks
//! library of another language (`tests/webhook-receiver/receiver.mjs`, Node's `standardwebhooks`),
//! so a signature passes only if an implementation that is not ours accepts it. It records every
//! request (which secrets verify it, and that the library refuses it tampered with or late) and
//! answers as told: a status, `Retry-After`, a redirect, a delay, a body, or not at all (down, then
//! up again on the same port).
use std::{path::PathBuf, process::Stdio, time::Duration};

use serde::Deserialize;
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
};

/// How long the receiver may take to start, and a control call to answer.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);

/// A request the receiver got, as it recorded it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// The request's path (and query).
    pub path: String,
    pub method: String,
    /// `webhook-id`, `webhook-timestamp` and `webhook-signature`, as sent.
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub signature: Option<String>,
    /// The body's `type`, when the body is a JSON object with a string `type`.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// The body as JSON; `Null` if it was not JSON.
    pub body: serde_json::Value,
    /// Every header, names lower-cased.
    pub headers: std::collections::BTreeMap<String, String>,
    /// For each secret configured when it arrived, in order: whether the library verified it.
    pub verified: Vec<bool>,
    /// Every secret's verification refused the body with one byte changed.
    pub tampered_rejected: bool,
    /// Every secret's verification refused the request with a timestamp ten minutes old.
    pub stale_rejected: bool,
    /// When it arrived, in milliseconds since the Unix epoch.
    pub received_at: u64,
}

impl Received {
    /// Verified under at least one secret, and the library refused it tampered with and late.
    pub fn all_verified(&self) -> bool {
        self.verified.iter().any(|v| *v) && self.tampered_rejected && self.stale_rejected
    }

    /// `webhook-timestamp` as Unix seconds.
    pub fn timestamp_secs(&self) -> Option<i64> {
        self.timestamp.as_deref()?.parse().ok()
    }
}

/// The running receiver; the process is killed when this is dropped.
pub struct WebhookReceiver {
    webhook_port: u16,
    control_port: u16,
    http: reqwest::Client,
    _child: Child,
    // Kept open: the receiver never sees its stdout closed.
    _stdout: Lines<BufReader<ChildStdout>>,
}

/// The receiver's directory in this crate.
fn receiver_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("webhook-receiver")
}

impl WebhookReceiver {
    /// Starts the receiver with these `whsec_…` secrets and waits for its "listening" line.
    pub async fn start(secrets: &[&str]) -> Self {
        let dir = receiver_dir();
        assert!(
            dir.join("node_modules/standardwebhooks/package.json")
                .is_file(),
            "the webhook receiver's npm packages are missing: run `npm ci` in {} \
             (scripts/test does it)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg("receiver.mjs")
            .current_dir(&dir)
            .env("SECRETS", secrets.join(","))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start `node receiver.mjs` (Node.js is needed; scripts/test installs it)");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = tokio::time::timeout(CONTROL_TIMEOUT, stdout.next_line())
            .await
            .expect("the webhook receiver printed no listening line in time")
            .expect("read the webhook receiver's stdout")
            .expect("the webhook receiver exited before listening");
        let port = |name: &str| -> u16 {
            line.strip_prefix("listening ")
                .and_then(|rest| {
                    rest.split(' ')
                        .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
                })
                .and_then(|port| port.parse().ok())
                .unwrap_or_else(|| panic!("no {name} port in the receiver's line {line:?}"))
        };
        Self {
            webhook_port: port("webhook"),
            control_port: port("control"),
            http: reqwest::Client::builder()
                .timeout(CONTROL_TIMEOUT)
                .build()
                .expect("HTTP client"),
            _child: child,
            _stdout: stdout,
        }
    }

    /// Where to send webhooks: `http://127.0.0.1:<port><path>`. The port stays the same across
    /// down and up.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.webhook_port)
    }

    /// Sets how the receiver answers, e.g. `{"status":503,"retryAfter":2,"times":3}`,
    /// `{"status":410}`, `{"status":302,"location":"…"}`, `{"delayMs":500}`, `{"body":"…"}`,
    /// `{"down":true}`; returns once it is in effect.
    pub async fn set_mode(&self, mode: serde_json::Value) {
        self.control(reqwest::Method::POST, "/mode", Some(mode), None)
            .await;
    }

    /// Replaces the secrets requests are verified with.
    pub async fn set_secrets(&self, secrets: &[&str]) {
        let body = serde_json::json!({ "secrets": secrets });
        self.control(reqwest::Method::POST, "/secrets", Some(body), None)
            .await;
    }

    /// Every request received so far, in order.
    pub async fn received(&self) -> Vec<Received> {
        self.received_list("/received", None).await
    }

    /// Waits until at least `count` requests were received or `timeout` passed; every request
    /// received by then.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let path = format!("/received?count={count}&timeoutMs={}", timeout.as_millis());
        self.received_list(&path, Some(timeout + CONTROL_TIMEOUT))
            .await
    }

    /// Forgets what was received.
    pub async fn reset(&self) {
        self.control(reqwest::Method::POST, "/reset", None, None)
            .await;
    }

    async fn received_list(&self, path: &str, timeout: Option<Duration>) -> Vec<Received> {
        let body = self
            .control(reqwest::Method::GET, path, None, timeout)
            .await;
        serde_json::from_slice(&body).expect("the receiver's list of requests")
    }

    /// One control call; panics with the receiver's error if it refuses.
    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        timeout: Option<Duration>,
    ) -> Vec<u8> {
        let url = format!("http://127.0.0.1:{}{path}", self.control_port);
        let mut request = self.http.request(method, &url);
        if let Some(body) = &body {
            request = request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).expect("JSON"));
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("webhook receiver control {path}: {e}"));
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("webhook receiver control {path}: {e}"));
        assert!(
            status.is_success(),
            "webhook receiver control {path} {body:?}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    use base64::{engine::general_purpose::STANDARD, Engine};
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OTHER: &str = "whsec_dGhlIG90aGVyIHNlY3JldCwgMzIgYnl0ZXMgbG9uZw==";
    const WAIT: Duration = Duration::from_secs(10);

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, computed here, not by the library.
    fn sign(secret: &str, id: &str, timestamp: u64, body: &str) -> String {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
            .expect("base64 secret");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC key");
        mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(WAIT)
            .build()
            .expect("client")
    }

    async fn post(
        client: &reqwest::Client,
        url: &str,
        secret: &str,
        body: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let timestamp = now();
        client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", "msg_test")
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(secret, "msg_test", timestamp, body),
            )
            .body(body.to_string())
            .send()
            .await
    }

    #[tokio::test]
    async fn the_library_verifies_what_we_sign_and_refuses_the_rest() {
        let receiver = WebhookReceiver::start(&[OTHER, SECRET]).await;
        let client = client();
        let body = r#"{"type":"invite.opened","data":{"invite_id":"x"}}"#;
        let response = post(&client, &receiver.url("/hooks/a"), SECRET, body)
            .await
            .expect("post");
        assert_eq!(response.status(), 200);
        // Signed with a secret the receiver does not have.
        let response = post(
            &client,
            &receiver.url("/hooks/b"),
            "whsec_d3Jvbmc=",
            r#"{"type":"invite.sent"}"#,
        )
        .await
        .expect("post");
        assert_eq!(response.status(), 200, "a failed check is still answered");

        let got = receiver.wait_for(2, WAIT).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].path, "/hooks/a");
        assert_eq!(got[0].event_type.as_deref(), Some("invite.opened"));
        assert_eq!(got[0].body["data"]["invite_id"], "x");
        assert_eq!(got[0].id.as_deref(), Some("msg_test"));
        assert!(got[0]
            .timestamp_secs()
            .is_some_and(|t| t.abs_diff(now() as i64) < 60));
        assert_eq!(got[0].verified, [false, true]);
        assert!(got[0].all_verified(), "{:?}", got[0]);
        assert_eq!(got[1].verified, [false, false]);
        assert!(!got[1].all_verified());
        assert!(got[1].tampered_rejected && got[1].stale_rejected);

        // New secrets apply to what comes next.
        receiver.set_secrets(&[OTHER]).await;
        receiver.reset().await;
        post(&client, &receiver.url("/"), OTHER, "{}")
            .await
            .expect("post");
        let got = receiver.wait_for(1, WAIT).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].verified, [true]);
        assert!(got[0].all_verified());
        assert_eq!(got[0].event_type, None);
    }

    #[tokio::test]
    async fn modes_answer_as_told() {
        let receiver = WebhookReceiver::start(&[SECRET]).await;
        let client = client();
        let url = receiver.url("/hook");

        receiver
            .set_mode(serde_json::json!({ "status": 503, "retryAfter": 2, "times": 2 }))
            .await;
        for _ in 0..2 {
            let response = post(&client, &url, SECRET, "{}").await.expect("post");
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers()["retry-after"], "2");
        }
        let response = post(&client, &url, SECRET, "{}").await.expect("post");
        assert_eq!(response.status(), 200, "back to 200 after `times`");
        assert!(response.headers().get("retry-after").is_none());

        receiver
            .set_mode(serde_json::json!({ "status": 410 }))
            .await;
        for _ in 0..2 {
            let response = post(&client, &url, SECRET, "{}").await.expect("post");
            assert_eq!(response.status(), 410, "without `times`, until changed");
        }

        let elsewhere = "http://127.0.0.1:1/elsewhere";
        receiver
            .set_mode(serde_json::json!({ "status": 302, "location": elsewhere }))
            .await;
        let response = post(&client, &url, SECRET, "{}").await.expect("post");
        assert_eq!(response.status(), 302);
        assert_eq!(response.headers()["location"], elsewhere);

        receiver
            .set_mode(serde_json::json!({ "delayMs": 300, "body": "later" }))
            .await;
        let started = Instant::now();
        let response = post(&client, &url, SECRET, "{}").await.expect("post");
        assert_eq!(response.status(), 200);
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(response.text().await.expect("body"), "later");
        receiver
            .set_mode(serde_json::json!({ "status": 200 }))
            .await;

        // Down: refused, even on the connection the client kept alive; up: the same port again.
        receiver.set_mode(serde_json::json!({ "down": true })).await;
        let refused = post(&client, &url, SECRET, "{}")
            .await
            .expect_err("down refuses");
        assert!(refused.is_connect(), "{refused:?}");
        receiver
            .set_mode(serde_json::json!({ "down": false }))
            .await;
        let response = post(&client, &url, SECRET, "{}").await.expect("post");
        assert_eq!(response.status(), 200);

        // Every request that arrived was recorded and verified; none while down.
        let got = receiver.wait_for(8, WAIT).await;
        assert_eq!(got.len(), 8);
        assert!(got.iter().all(Received::all_verified), "{got:?}");
        assert!(got.windows(2).all(|w| w[0].received_at <= w[1].received_at));
    }

    #[tokio::test]
    async fn wait_for_returns_what_arrived_when_time_runs_out() {
        let receiver = WebhookReceiver::start(&[]).await;
        let started = Instant::now();
        let got = receiver.wait_for(1, Duration::from_millis(200)).await;
        assert!(got.is_empty());
        assert!(started.elapsed() >= Duration::from_millis(200));
        let response = client()
            .post(receiver.url("/unsigned"))
            .body("not json")
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 200);
        let got = receiver.received().await;
        assert_eq!(got.len(), 1);
        assert!(got[0].verified.is_empty() && !got[0].all_verified());
        assert_eq!(got[0].body, serde_json::Value::Null);
    }
}
