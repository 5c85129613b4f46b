//! HAProxy (Debian's package) in front of service replicas, as a production load balancer for
//! gRPC: one frontend per service, cleartext HTTP/2 on both sides, round robin, a replica that
//! stops answering taken out within a fraction of a second, and a request that could not reach
//! one sent to another.
use std::{fmt::Write as _, net::SocketAddr, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

use crate::redis_server::free_port;

pub struct Haproxy {
    _child: Child,
    _dir: tempfile::TempDir,
    /// Each frontend's address, in the order the backends were given.
    pub frontends: Vec<SocketAddr>,
}

impl Haproxy {
    /// Starts HAProxy with one frontend per `(name, replicas)`; listening on each when this
    /// returns.
    pub async fn start(services: &[(&str, Vec<SocketAddr>)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let frontends: Vec<SocketAddr> = services
            .iter()
            .map(|_| SocketAddr::from(([127, 0, 0, 1], free_port())))
            .collect();
        let mut config = String::from(
            "global\n  maxconn 4096\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n\
             \x20 retries 3\n  option redispatch\n  retry-on conn-failure\n",
        );
        for ((name, replicas), frontend) in services.iter().zip(&frontends) {
            let _ = write!(
                config,
                "frontend {name}\n  bind {frontend} proto h2\n  default_backend {name}\n\
                 backend {name}\n  balance roundrobin\n"
            );
            for (n, replica) in replicas.iter().enumerate() {
                let _ = writeln!(
                    config,
                    "  server {name}-{n} {replica} proto h2 check inter 200ms fall 1 rise 2"
                );
            }
        }
        let file = dir.path().join("haproxy.cfg");
        std::fs::write(&file, &config).expect("write haproxy.cfg");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy is installed (scripts/test installs it)");
        // HAProxy says nothing when it listens: each frontend is tried until it answers.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        for frontend in &frontends {
            while tokio::net::TcpStream::connect(frontend).await.is_err() {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "haproxy did not listen on {frontend}:\n{config}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Self {
            _child: child,
            _dir: dir,
            frontends,
        }
    }
}
