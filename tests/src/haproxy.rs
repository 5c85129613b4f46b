//! HAProxy (Debian's package) in front of service replicas, as a production load balancer for
//! gRPC: one frontend per service, cleartext HTTP/2 on both sides, round robin, a replica that
//! stops answering taken out within a fraction of a second, and a request that could not reach
//! one sent to another.
//!
//! Its frontends listen on sockets this process binds first and hands over (`bind fd@N`), so
//! they take connections from the moment `start` returns. It runs under a small shell that
//! stops it when the pipe from this process closes: when the `Haproxy` is dropped, or when the
//! test process ends, however it ends.
use std::{
    fmt::Write as _,
    net::{SocketAddr, TcpListener},
    os::fd::AsRawFd,
    process::Stdio,
};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use tokio::process::{Child, ChildStdin, Command};

pub struct Haproxy {
    /// Closing it stops HAProxy.
    _keepalive: Option<ChildStdin>,
    _shell: Child,
    _dir: tempfile::TempDir,
    /// Each frontend's address, in the order the services were given.
    pub frontends: Vec<SocketAddr>,
}

impl Haproxy {
    /// Starts HAProxy with one frontend per `(name, replicas)`.
    pub async fn start(services: &[(&str, Vec<SocketAddr>)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let listeners: Vec<TcpListener> = services
            .iter()
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a frontend"))
            .collect();
        let mut config = String::from(
            "global\n  maxconn 4096\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n\
             \x20 retries 3\n  option redispatch\n  retry-on conn-failure\n",
        );
        for ((name, replicas), listener) in services.iter().zip(&listeners) {
            // Inherited by HAProxy: std opens sockets close-on-exec.
            fcntl(listener, FcntlArg::F_SETFD(FdFlag::empty())).expect("an inheritable socket");
            let fd = listener.as_raw_fd();
            let _ = write!(
                config,
                "frontend {name}\n  bind fd@{fd} proto h2\n  default_backend {name}\n\
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
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(r#"haproxy -db -f "$1" & pid=$!; read -r _; kill $pid; wait $pid"#)
            .arg("sh")
            .arg(&file)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy is installed (scripts/test installs it)");
        let frontends = listeners
            .iter()
            .map(|listener| listener.local_addr().expect("a frontend's address"))
            .collect();
        // HAProxy holds its own copies now; later children must not inherit ours.
        drop(listeners);
        Self {
            _keepalive: shell.stdin.take(),
            _shell: shell,
            _dir: dir,
            frontends,
        }
    }
}
