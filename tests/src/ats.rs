//! The applicant tracking system's side of the partner contracts, as their published docs
//! describe it: `AtsDouble` makes Greenhouse's and Ashby's calls to Beckon (the documented
//! paths, bodies and HTTP Basic auth: the key as user name, a blank password) and receives
//! Beckon's calls back (Greenhouse's `PATCH` to the test's URL, Ashby's `assessment.update`),
//! recording each. It can answer with a status on command, or go down and come back on the
//! same port.
use std::{net::SocketAddr, sync::Arc};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    Router,
};
use tokio::{
    net::TcpListener,
    sync::{oneshot, Mutex},
    task::JoinHandle,
};

/// One call Beckon made to the ATS.
#[derive(Clone, Debug)]
pub struct Callback {
    pub method: String,
    pub path: String,
    pub authorization: String,
    pub accept: String,
    pub body: String,
    /// The status the double answered it with.
    pub answered: u16,
}

impl Callback {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<Callback>,
    /// What to answer; 200 by default.
    answer: Option<u16>,
}

pub struct AtsDouble {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    /// The server, and what shuts it down (closing its kept-alive connections too).
    server: Option<(JoinHandle<()>, oneshot::Sender<()>)>,
    client: reqwest::Client,
}

async fn record(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut shared = shared.lock().await;
    let status = StatusCode::from_u16(shared.answer.unwrap_or(200)).unwrap_or(StatusCode::OK);
    shared.received.push(Callback {
        method: method.to_string(),
        path: uri.path().to_string(),
        authorization: header("authorization"),
        accept: header("accept"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: status.as_u16(),
    });
    // Ashby answers its API's calls with its envelope.
    (status, r#"{"success":true,"results":{}}"#)
}

impl AtsDouble {
    /// Listening on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let mut double = Self {
            addr,
            shared: Arc::default(),
            server: None,
            client: reqwest::Client::new(),
        };
        double.serve(listener);
        double
    }

    fn serve(&mut self, listener: TcpListener) {
        let app = Router::new()
            .fallback(record)
            .with_state(self.shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.server = Some((server, stop));
    }

    /// A URL on the double.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers every call with `status` from now on.
    pub async fn answer_with(&self, status: u16) {
        self.shared.lock().await.answer = Some(status);
    }

    /// Stops listening and closes its connections: calls are refused at connect.
    pub async fn go_down(&mut self) {
        if let Some((server, stop)) = self.server.take() {
            let _ = stop.send(());
            let _ = server.await;
        }
    }

    /// Listens again on the same port.
    pub async fn come_back(&mut self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("bind the same port");
        self.serve(listener);
    }

    pub async fn received(&self) -> Vec<Callback> {
        self.shared.lock().await.received.clone()
    }

    /// A call to Beckon as the ATS makes it: HTTP Basic with `key` and a blank password
    /// ("the API token, a colon, Base64-encoded"), JSON in and out. The status and the body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        key: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .request(method, url)
            .basic_auth(key, None::<&str>);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("a call to Beckon");
        let status = response.status().as_u16();
        let text = response.text().await.expect("an answer");
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, body)
    }
}

impl Drop for AtsDouble {
    fn drop(&mut self) {
        if let Some((server, _)) = self.server.take() {
            server.abort();
        }
    }
}
