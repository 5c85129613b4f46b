//! A webhook receiver for `beckon-bench webhooks`: HTTP/1.1 on 127.0.0.1, answers every POST 204
//! at once, counts the requests and the distinct `webhook-id`s, and keeps each arrival's time.
//! It verifies nothing (the end-to-end tests do, with the Standard Webhooks library) and keeps
//! no bodies.
use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
    Router,
};
use tokio::{sync::Notify, task::JoinHandle};

/// Arrival times kept at most (the rest are counted, not timed).
const MAX_ARRIVALS: usize = 1_000_000;

#[derive(Default)]
struct Shared {
    requests: AtomicU64,
    seen: Mutex<Seen>,
    arrived: Notify,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    arrivals: Vec<Instant>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// What arrived since the last `reset`.
pub struct Arrivals {
    pub requests: u64,
    pub distinct: u64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

impl Receiver {
    /// Bound before it returns: the address is known and taking connections.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the webhook receiver on 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/hook", post(take))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.shared.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    pub fn distinct(&self) -> u64 {
        self.seen().ids.len() as u64
    }

    /// Forgets everything that arrived.
    pub fn reset(&self) {
        let mut seen = self.seen();
        seen.ids.clear();
        seen.arrivals.clear();
        self.shared.requests.store(0, Ordering::Relaxed);
    }

    pub fn arrivals(&self) -> Arrivals {
        let seen = self.seen();
        Arrivals {
            requests: self.requests(),
            distinct: seen.ids.len() as u64,
            first: seen.arrivals.iter().min().copied(),
            last: seen.arrivals.iter().max().copied(),
        }
    }

    /// Waits until `count` distinct messages have arrived, at most `within`.
    pub async fn wait_for(&self, count: u64, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.distinct() >= count {
                return true;
            }
            let wake = (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline);
            let _ = tokio::time::timeout_at(wake, notified).await;
            if tokio::time::Instant::now() >= deadline {
                return self.distinct() >= count;
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One webhook: counted, its time kept, answered 204. The body is read (by axum) and dropped.
async fn take(State(shared): State<Arc<Shared>>, headers: HeaderMap, _body: Bytes) -> StatusCode {
    let at = Instant::now();
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    {
        let mut seen = shared.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.ids.insert(id);
        if seen.arrivals.len() < MAX_ARRIVALS {
            seen.arrivals.push(at);
        }
    }
    shared.arrived.notify_waiters();
    StatusCode::NO_CONTENT
}
