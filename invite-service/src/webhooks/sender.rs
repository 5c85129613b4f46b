//! One delivery attempt: a signed POST to an endpoint, and what came of it.
//!
//! The client never follows a redirect (a 3xx is a failure, as Standard Webhooks says, and a
//! redirect could lead anywhere), uses no proxy (a proxy would resolve names out of our
//! sight), and resolves every name through `resolve_checked`, so each new connection checks the
//! addresses it is about to use. IP-literal hosts never reach a resolver, so the URL is checked
//! again before each request. Only the first 4 KiB of an answer are read, to show the
//! endpoint's owner; the rest is dropped.
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use reqwest::{
    dns::{Addrs, Name, Resolve, Resolving},
    header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER},
    redirect, Method, StatusCode,
};
use url::Url;

use super::destination::{resolve_checked, DestinationError, DestinationPolicy};

/// Standard Webhooks recommends 15 to 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// How much of an answer is kept to show the endpoint's owner.
pub const EXCERPT_BYTES: usize = 4096;
/// A receiver's Retry-After is honoured up to this; a longer one would park the message.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// Error texts are for a list of attempts: one short line.
const ERROR_CHARS: usize = 300;

/// The Standard Webhooks headers of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `webhook-id`: the message's id, the same on every attempt (the receiver's dedup key).
    pub id: String,
    /// `webhook-timestamp`: this attempt's time, in Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`: from `domain::webhook_secret::sign`.
    pub signature: String,
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult {
    /// The answer's status, `None` when there was no answer.
    pub status: Option<u16>,
    /// From the start of the attempt to the answer's headers (or to the failure).
    pub latency: Duration,
    /// At most the first 4 KiB of the answer's body, as UTF-8 (invalid bytes replaced).
    pub response_excerpt: String,
    /// A 429's or 503's Retry-After, at most `MAX_RETRY_AFTER`.
    pub retry_after: Option<Duration>,
    /// Why there was no (complete) answer: refused destination, connect failure, timeout. Never
    /// holds the secret or the body.
    pub error: Option<String>,
}

impl AttemptResult {
    /// Delivered: a 2xx answer. A 3xx is a failure and is not followed.
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }

    /// 410 Gone: the receiver wants no more webhooks at this endpoint.
    pub fn gone(&self) -> bool {
        self.status == Some(StatusCode::GONE.as_u16())
    }

    fn failed(error: String, latency: Duration) -> Self {
        Self {
            status: None,
            latency,
            response_excerpt: String::new(),
            retry_after: None,
            error: Some(error),
        }
    }
}

/// Sends webhooks. One per process: it holds the connection pool.
#[derive(Clone, Debug)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<DestinationPolicy>,
    timeout: Duration,
}

impl Sender {
    /// A sender that sends only where `policy` allows and gives each attempt `timeout`, from
    /// connecting to the end of the (cut) answer.
    pub fn new(policy: DestinationPolicy, timeout: Duration) -> anyhow::Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .https_only(!policy.allow_http)
            .timeout(timeout)
            .dns_resolver(Arc::new(CheckedResolver {
                policy: policy.clone(),
            }))
            .user_agent(concat!("Beckon-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the webhook HTTP client")?;
        Ok(Self {
            client,
            policy,
            timeout,
        })
    }

    /// POSTs `body` to `url` with the webhook headers. Never fails: every outcome is an
    /// `AttemptResult` for the delivery loop to record.
    pub async fn post(&self, url: &Url, headers: WebhookHeaders, body: Vec<u8>) -> AttemptResult {
        let mut fields = HeaderMap::new();
        fields.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("webhook-id", headers.id),
            ("webhook-timestamp", headers.timestamp.to_string()),
            ("webhook-signature", headers.signature),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                fields.insert(name, value);
            }
        }
        self.send(Method::POST, url, fields, Some(body)).await
    }

    /// Sends one request to `url` under the same rules as a webhook (the destination checked,
    /// no redirect, the timeout, the answer's start kept): what Beckon's calls back to an
    /// applicant tracking system go through. Never fails.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> AttemptResult {
        let started = Instant::now();
        // reqwest calls the resolver only for names; an IP literal is checked here. The URL
        // was checked when it was saved, but the policy may have changed since.
        if let Err(refused) = self.policy.check_url(url.as_str()) {
            return AttemptResult::failed(refused.to_string(), started.elapsed());
        }
        let mut request = self.client.request(method, url.clone()).headers(headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        let sent = request.send().await;
        let latency = started.elapsed();
        let mut response = match sent {
            Ok(response) => response,
            Err(err) => return AttemptResult::failed(self.describe(&err), latency),
        };
        let status = response.status();
        let retry_after = match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                retry_after(response.headers(), chrono::Utc::now())
            }
            _ => None,
        };
        let mut excerpt = Vec::new();
        let mut error = None;
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = EXCERPT_BYTES - excerpt.len();
                    excerpt.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                Err(err) => {
                    error = Some(self.describe(&err));
                    break;
                }
            }
        }
        AttemptResult {
            status: Some(status.as_u16()),
            latency,
            response_excerpt: lossy_excerpt(excerpt),
            retry_after,
            error,
        }
    }

    /// A short account of a failed request: the refusal, the timeout, or the innermost cause
    /// (never reqwest's own text, which holds the URL).
    fn describe(&self, err: &reqwest::Error) -> String {
        let mut cause: &dyn std::error::Error = err;
        let mut refused = None;
        while let Some(next) = cause.source() {
            if let Some(destination) = next.downcast_ref::<DestinationError>() {
                refused = Some(destination.to_string());
            }
            cause = next;
        }
        let text = if let Some(refused) = refused {
            refused
        } else if err.is_timeout() {
            format!("no complete answer within {:?}", self.timeout)
        } else if err.is_builder() {
            format!("the request could not be made: {cause}")
        } else if err.is_connect() {
            format!("could not connect: {cause}")
        } else {
            format!("the request failed: {cause}")
        };
        cut_chars(text, ERROR_CHARS)
    }
}

/// Resolves names for the client, refusing any that leads where webhooks may not go.
struct CheckedResolver {
    policy: Arc<DestinationPolicy>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            // Port 0: the client puts the URL's port on each address.
            let addrs: Vec<SocketAddr> = resolve_checked(&policy, name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Retry-After as delay-seconds or an HTTP-date (any of the three forms HTTP allows), at
/// most `MAX_RETRY_AFTER`; a date in the past is no delay.
fn retry_after(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits that overflow a u64 are "very long".
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let when = http_date(value)?;
        (when - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

fn http_date(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDateTime, TimeZone, Utc};
    if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    // RFC 850 and asctime, which HTTP recipients must still read.
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| Utc.from_utc_datetime(&naive))
}

/// The excerpt as text; a character cut at the 4 KiB mark is dropped, not replaced.
fn lossy_excerpt(mut bytes: Vec<u8>) -> String {
    if let Err(err) = std::str::from_utf8(&bytes) {
        if err.error_len().is_none() && bytes.len() >= EXCERPT_BYTES {
            bytes.truncate(err.valid_up_to());
        }
    }
    // PostgreSQL text holds no NUL: a receiver's binary answer must not fail the record.
    String::from_utf8_lossy(&bytes).replace('\0', "\u{FFFD}")
}

fn cut_chars(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    };

    use axum::{
        body::Bytes,
        extract::State,
        http::{HeaderMap as AxumHeaders, StatusCode as AxumStatus},
        response::IntoResponse,
        routing::post,
        Router,
    };

    /// Each request the receiver took at `/ok`: its headers and body.
    type Taken = Vec<(AxumHeaders, Vec<u8>)>;

    #[derive(Clone, Default)]
    struct Seen {
        requests: Arc<Mutex<Taken>>,
        ok_hits: Arc<AtomicUsize>,
    }

    async fn ok(State(seen): State<Seen>, headers: AxumHeaders, body: Bytes) -> &'static str {
        seen.ok_hits.fetch_add(1, Ordering::SeqCst);
        seen.requests
            .lock()
            .expect("not poisoned")
            .push((headers, body.to_vec()));
        "thanks"
    }

    /// A receiver on loopback, bound before the server starts, so it is ready at once.
    async fn receiver() -> (SocketAddr, Seen) {
        let seen = Seen::default();
        let app = Router::new()
            .route("/ok", post(ok))
            .route(
                "/redirect",
                post(|| async { (AxumStatus::FOUND, [("location", "/ok")]) }),
            )
            .route("/gone", post(|| async { AxumStatus::GONE }))
            .route(
                "/busy",
                post(|| async {
                    (
                        AxumStatus::SERVICE_UNAVAILABLE,
                        [("retry-after", "7")],
                        "later",
                    )
                }),
            )
            .route("/big", post(|| async { vec![b'x'; 1 << 20] }))
            .route(
                "/accents",
                post(|| async { format!("a{}", "é".repeat(EXCERPT_BYTES)) }),
            )
            .route(
                "/hang",
                post(|| async {
                    std::future::pending::<()>().await;
                    "never".into_response()
                }),
            )
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr, seen)
    }

    fn loopback_allowed(timeout: Duration) -> Sender {
        let policy = DestinationPolicy {
            allow_http: true,
            allowed_networks: vec!["127.0.0.0/8".parse().expect("network")],
        };
        Sender::new(policy, timeout).expect("client")
    }

    fn headers() -> WebhookHeaders {
        WebhookHeaders {
            id: "msg_1".into(),
            timestamp: 1_700_000_000,
            signature: "v1,c2lnbmF0dXJl".into(),
        }
    }

    fn url(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).expect("url")
    }

    #[tokio::test]
    async fn a_2xx_is_delivered_with_the_webhook_headers() {
        let (addr, seen) = receiver().await;
        let sender = loopback_allowed(DEFAULT_TIMEOUT);
        let result = sender
            .post(&url(addr, "/ok"), headers(), br#"{"type":"x"}"#.to_vec())
            .await;
        assert!(result.succeeded(), "{result:?}");
        assert!(!result.gone());
        assert_eq!(result.status, Some(200));
        assert_eq!(result.response_excerpt, "thanks");
        assert_eq!(result.error, None);
        assert_eq!(result.retry_after, None);

        let requests = seen.requests.lock().expect("not poisoned");
        let (got, body) = &requests[0];
        assert_eq!(body, br#"{"type":"x"}"#);
        let header = |name: &str| {
            got.get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        assert_eq!(header("content-type").as_deref(), Some("application/json"));
        assert_eq!(header("webhook-id").as_deref(), Some("msg_1"));
        assert_eq!(header("webhook-timestamp").as_deref(), Some("1700000000"));
        assert_eq!(
            header("webhook-signature").as_deref(),
            Some("v1,c2lnbmF0dXJl")
        );
        assert_eq!(
            header("user-agent"),
            Some(format!("Beckon-Webhooks/{}", env!("CARGO_PKG_VERSION")))
        );
    }

    #[tokio::test]
    async fn a_name_is_resolved_through_the_check() {
        let (addr, seen) = receiver().await;
        let policy = DestinationPolicy {
            allow_http: true,
            allowed_networks: vec![
                "127.0.0.0/8".parse().expect("network"),
                "::1/128".parse().expect("network"),
            ],
        };
        let sender = Sender::new(policy, DEFAULT_TIMEOUT).expect("client");
        let by_name = Url::parse(&format!("http://localhost:{}/ok", addr.port())).expect("url");
        let result = sender.post(&by_name, headers(), b"{}".to_vec()).await;
        assert!(result.succeeded(), "{result:?}");
        assert_eq!(seen.ok_hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_redirect_is_a_failure_and_is_not_followed() {
        let (addr, seen) = receiver().await;
        let result = loopback_allowed(DEFAULT_TIMEOUT)
            .post(&url(addr, "/redirect"), headers(), b"{}".to_vec())
            .await;
        assert_eq!(result.status, Some(302));
        assert!(!result.succeeded());
        assert_eq!(seen.ok_hits.load(Ordering::SeqCst), 0, "not followed");
    }

    #[tokio::test]
    async fn gone_and_retry_after_are_read() {
        let (addr, _) = receiver().await;
        let sender = loopback_allowed(DEFAULT_TIMEOUT);
        let gone = sender
            .post(&url(addr, "/gone"), headers(), b"{}".to_vec())
            .await;
        assert!(gone.gone() && !gone.succeeded(), "{gone:?}");

        let busy = sender
            .post(&url(addr, "/busy"), headers(), b"{}".to_vec())
            .await;
        assert_eq!(busy.status, Some(503));
        assert_eq!(busy.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(busy.response_excerpt, "later");
        assert!(!busy.succeeded() && !busy.gone());
    }

    #[tokio::test]
    async fn a_long_answer_is_cut_at_4_kib() {
        let (addr, _) = receiver().await;
        let sender = loopback_allowed(DEFAULT_TIMEOUT);
        let big = sender
            .post(&url(addr, "/big"), headers(), b"{}".to_vec())
            .await;
        assert!(big.succeeded(), "{big:?}");
        assert_eq!(big.response_excerpt.len(), EXCERPT_BYTES);
        assert_eq!(big.error, None);

        // A two-byte character across the mark is dropped whole.
        let accents = sender
            .post(&url(addr, "/accents"), headers(), b"{}".to_vec())
            .await;
        assert_eq!(accents.response_excerpt.len(), EXCERPT_BYTES - 1);
        assert!(!accents.response_excerpt.contains('\u{fffd}'));
    }

    #[tokio::test]
    async fn a_receiver_that_never_answers_times_out() {
        let (addr, _) = receiver().await;
        let result = loopback_allowed(Duration::from_millis(200))
            .post(&url(addr, "/hang"), headers(), b"{}".to_vec())
            .await;
        assert_eq!(result.status, None);
        let error = result.error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with("no complete answer within 200ms"),
            "{error}"
        );
        assert!(result.latency >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_refused_destination_is_never_connected_to() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("address");
        let policy = DestinationPolicy {
            allow_http: true,
            allowed_networks: Vec::new(),
        };
        let sender = Sender::new(policy, DEFAULT_TIMEOUT).expect("client");

        let literal = sender
            .post(&url(addr, "/"), headers(), b"secret body".to_vec())
            .await;
        assert_eq!(literal.status, None);
        let error = literal.error.unwrap_or_default();
        assert!(
            error.starts_with("the address 127.0.0.1 is loopback"),
            "{error}"
        );

        let by_name = Url::parse(&format!("http://localhost:{}/", addr.port())).expect("url");
        let named = sender
            .post(&by_name, headers(), b"secret body".to_vec())
            .await;
        let error = named.error.unwrap_or_default();
        assert!(
            error.starts_with("the host localhost resolves to "),
            "{error}"
        );
        assert!(!error.contains("secret body"));

        // Both posts are over; a connection would be waiting in the backlog by now.
        let accepted = listener.accept();
        assert!(
            matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{accepted:?}"
        );
    }

    #[tokio::test]
    async fn https_is_required_unless_http_is_allowed() {
        let sender = Sender::new(DestinationPolicy::default(), DEFAULT_TIMEOUT).expect("client");
        let result = sender
            .post(
                &Url::parse("http://hooks.example.com/").expect("url"),
                headers(),
                Vec::new(),
            )
            .await;
        assert!(result
            .error
            .unwrap_or_default()
            .starts_with("the webhook URL's scheme is http"),);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc2822("Wed, 21 Oct 2015 07:28:00 GMT")
            .expect("date")
            .with_timezone(&chrono::Utc);
        let read = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, value.parse().expect("header value"));
            retry_after(&headers, now)
        };
        assert_eq!(read("120"), Some(Duration::from_secs(120)));
        assert_eq!(read(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            read("Wed, 21 Oct 2015 07:29:30 GMT"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            read("Wednesday, 21-Oct-15 07:29:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            read("Wed Oct 21 07:28:10 2015"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(read("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(read("99999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(read("soon"), None);
        assert_eq!(read("-5"), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
