//! The services' gRPC health, as an orchestrator or a container's health check asks it.
//!
//! Besides each API's name and `""` (the server as a whole), which follow readiness (the
//! database, a configured Redis), every service registers [`LIVENESS`]: SERVING for as long as
//! the process serves at all, for liveness probes, which must not restart a process because its
//! database is down.
use std::{net::SocketAddr, time::Duration};

use tonic_health::{
    pb::{health_client::HealthClient, HealthCheckRequest},
    server::HealthReporter,
    ServingStatus,
};

/// The health service name that answers SERVING while the process runs.
pub const LIVENESS: &str = "liveness";

/// Registers [`LIVENESS`] in a server's health.
pub async fn register_liveness(health: &HealthReporter) {
    health
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;
}

/// The `health [--live]` command of a service named `binary`: asks the server at `listen_addr`
/// whether it is ready (or, `live`, whether it serves at all); exit status 0 when it is, else 1
/// with one line on stderr saying why.
pub async fn command(binary: &str, listen_addr: SocketAddr, live: bool) -> std::process::ExitCode {
    let service = if live { LIVENESS } else { "" };
    match probe(listen_addr, service, Duration::from_secs(3)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("{binary}: not healthy: {why}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Asks the server listening on `listen_addr` (an unspecified address means this host) for
/// `service`'s health: `Ok` when SERVING, else why not.
pub async fn probe(listen_addr: SocketAddr, service: &str, within: Duration) -> Result<(), String> {
    let mut addr = listen_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let asked = async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|err| err.to_string())?
            .connect()
            .await
            .map_err(|err| format!("nothing answers on {addr}: {err}"))?;
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_err(|status| format!("health check refused: {}", status.message()))?;
        match answer.into_inner().status() {
            tonic_health::pb::health_check_response::ServingStatus::Serving => Ok(()),
            other => Err(format!("{addr} is {}", other.as_str_name())),
        }
    };
    tokio::time::timeout(within, asked)
        .await
        .map_err(|_| format!("no answer from {addr} within {within:?}"))?
}
