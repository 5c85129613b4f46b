//! Test support for the edges of both services: raw gRPC and gRPC-web requests that no typed
//! client would send, reflection listings, health, and a database connection that can be cut.
use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};
use tonic::{transport::Channel, Status};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};
use tonic_reflection::pb::v1::{
    server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
    server_reflection_response::MessageResponse, ServerReflectionRequest,
};

/// A body that is no protobuf message: field 1 with wire type 7, which does not exist.
pub const INVALID_WIRE_TYPE: &[u8] = &[0x0f, 0x01];

/// `message` as one uncompressed gRPC frame.
fn frame(message: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    body
}

/// Calls `path` (`/package.Service/Method`) over HTTP/2 with `message` as the request's bytes,
/// as no typed client would, and returns the status of a trailers-only answer.
pub async fn raw_grpc_call(addr: SocketAddr, path: &str, message: &[u8]) -> Status {
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("HTTP/2 client");
    let response = client
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(frame(message))
        .send()
        .await
        .expect("raw gRPC call");
    assert_eq!(response.status(), 200);
    Status::from_header_map(response.headers()).expect("a trailers-only answer with a status")
}

/// Calls `path` over gRPC-web (HTTP/1.1) as a browser would, with `message` as the request's
/// bytes, and returns the status (from the headers of a trailers-only answer).
pub async fn raw_grpc_web_call(addr: SocketAddr, path: &str, message: &[u8]) -> Status {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(frame(message))
        .send()
        .await
        .expect("raw gRPC-web call");
    assert_eq!(response.status(), 200);
    Status::from_header_map(response.headers()).expect("a trailers-only answer with a status")
}

/// The services the server's reflection lists, sorted.
pub async fn listed_services(channel: Channel) -> Vec<String> {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    match reflection_answer(channel, request)
        .await
        .expect("reflection answer")
    {
        MessageResponse::ListServicesResponse(list) => {
            let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            names.sort();
            names
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

/// Whether the server's reflection can describe `symbol` (a file containing it).
pub async fn reflection_describes(channel: Channel, symbol: &str) -> bool {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(symbol.into())),
    };
    match reflection_answer(channel, request).await {
        Ok(MessageResponse::FileDescriptorResponse(_)) => true,
        Ok(MessageResponse::ErrorResponse(_)) => false,
        Err(status) if status.code() == tonic::Code::NotFound => false,
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

/// The one answer to `request`, or the status the stream ended with.
async fn reflection_answer(
    channel: Channel,
    request: ServerReflectionRequest,
) -> Result<MessageResponse, Status> {
    let mut answers = ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter([request]))
        .await?
        .into_inner();
    Ok(answers
        .message()
        .await?
        .expect("one answer")
        .message_response
        .expect("an answer with content"))
}

/// The health the server reports for `service` ("" for the server as a whole).
pub async fn health(channel: Channel, service: &str) -> ServingStatus {
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status;
    ServingStatus::try_from(status).expect("a known serving status")
}

/// Waits, on the health Watch stream, until `service` reports `expected`; panics after
/// `within`.
pub async fn wait_for_health(
    channel: Channel,
    service: &str,
    expected: ServingStatus,
    within: Duration,
) {
    let mut updates = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .expect("health watch")
        .into_inner();
    let reached = tokio::time::timeout(within, async {
        while let Some(update) = updates.message().await.expect("health update") {
            if update.status == expected as i32 {
                return;
            }
        }
        panic!("the health stream of {service:?} ended");
    })
    .await;
    assert!(
        reached.is_ok(),
        "{service:?} did not turn {expected:?} within {within:?}"
    );
}

/// Checks the log of an outage of `database` (a database name): the service reported it once
/// when it went and once when it came back, and none of its calls logged it at WARN or above
/// (`call_targets`: the log targets of the code that answers calls).
pub fn assert_outage_logged_once(database: &str, call_targets: &[&str]) {
    let lines = crate::logs::lines();
    let about = |level: tracing::Level, words: &str| {
        lines
            .iter()
            .filter(|line| {
                line.level == level && line.text.contains(database) && line.text.contains(words)
            })
            .count()
    };
    assert_eq!(
        about(tracing::Level::WARN, "cannot be reached"),
        1,
        "{lines:#?}"
    );
    assert_eq!(
        about(tracing::Level::INFO, "reachable again"),
        1,
        "{lines:#?}"
    );
    let per_call: Vec<_> = lines
        .iter()
        .filter(|line| line.level <= tracing::Level::WARN)
        .filter(|line| call_targets.iter().any(|t| line.target.starts_with(t)))
        .collect();
    assert!(per_call.is_empty(), "logged per call: {per_call:#?}");
}

/// A TCP proxy in front of a database server whose connection can be cut and restored: a real
/// outage as the service sees it. Cut, it drops every connection it carries and holds new ones
/// unanswered (as an unreachable host does) until restored.
pub struct CuttableProxy {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl CuttableProxy {
    /// Listens on loopback and forwards to `target` (`host:port`).
    pub async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (up, up_rx) = watch::channel(true);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(carry(client, target.clone(), up_rx.clone()));
            }
        });
        Self { addr, up, accept }
    }

    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }

    /// `url` (`postgres://user@host:port/db`) with this proxy as its host and port.
    pub fn url_through(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (user, rest) = rest.split_once('@').expect("a URL with a user");
        let (_, path) = rest.split_once('/').expect("a URL with a database");
        format!("{scheme}://{user}@{}/{path}", self.addr)
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Carries one connection while the proxy is up; cut, drops it. A connection that arrives
/// while cut is held unanswered until the proxy is restored, then dropped.
async fn carry(mut client: TcpStream, target: String, mut up: watch::Receiver<bool>) {
    if !*up.borrow_and_update() {
        let _restored = up.wait_for(|up| *up).await.is_ok();
        return;
    }
    let Ok(mut server) = TcpStream::connect(&target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = async { up.wait_for(|up| !*up).await.is_ok() } => {
            let _ = client.shutdown().await;
        }
    }
}
