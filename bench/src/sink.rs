//! A minimal SMTP sink on 127.0.0.1: accepts every message, keeps nothing but a count and the
//! time the last one arrived. Made for speed: bytes are read without UTF-8 checks and each reply
//! is one write, so the sink costs as little as a real SMTP conversation allows.
use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
    task::JoinHandle,
};

#[derive(Default)]
struct Shared {
    accepted: AtomicU64,
    bytes: AtomicU64,
    first: Mutex<Option<Instant>>,
    last: Mutex<Option<Instant>>,
    arrived: Notify,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: JoinHandle<()>,
}

/// Longest line or message accepted, so a confused client cannot grow memory without bound.
const MAX_MESSAGE: usize = 1024 * 1024;

impl SmtpSink {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the SMTP sink on 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, shared).await;
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            acceptor,
        })
    }

    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// When the first and the last accepted message arrived.
    pub fn first_and_last(&self) -> (Option<Instant>, Option<Instant>) {
        let get = |m: &Mutex<Option<Instant>>| *m.lock().unwrap_or_else(|p| p.into_inner());
        (get(&self.shared.first), get(&self.shared.last))
    }

    /// Waits until `count` messages were accepted in all; false if `within` ran out first.
    pub async fn wait_for(&self, count: u64, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.accepted() >= count {
                return true;
            }
            // Woken by each arrival, and at least every 100 ms in case a wake-up was missed.
            let wake = (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline);
            let _ = tokio::time::timeout_at(wake, notified).await;
            if tokio::time::Instant::now() >= deadline {
                return self.accepted() >= count;
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

fn starts_with_ignore_case(line: &[u8], prefix: &[u8]) -> bool {
    line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix)
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    write.write_all(b"220 beckon-bench-sink ESMTP\r\n").await?;
    let mut line = Vec::with_capacity(1024);
    let mut have_recipient = false;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let reply: &[u8] = if starts_with_ignore_case(&line, b"EHLO") {
            b"250-beckon-bench-sink\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n"
        } else if starts_with_ignore_case(&line, b"HELO") {
            b"250 beckon-bench-sink\r\n"
        } else if starts_with_ignore_case(&line, b"MAIL FROM:") {
            have_recipient = false;
            b"250 OK\r\n"
        } else if starts_with_ignore_case(&line, b"RCPT TO:") {
            have_recipient = true;
            b"250 OK\r\n"
        } else if starts_with_ignore_case(&line, b"DATA") {
            if !have_recipient {
                b"554 no valid recipients\r\n"
            } else {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut size = 0usize;
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == b".\r\n" {
                        break;
                    }
                    size += line.len();
                    if size > MAX_MESSAGE {
                        return Ok(());
                    }
                }
                have_recipient = false;
                let now = Instant::now();
                {
                    let mut first = shared.first.lock().unwrap_or_else(|p| p.into_inner());
                    first.get_or_insert(now);
                }
                *shared.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
                shared.bytes.fetch_add(size as u64, Ordering::Relaxed);
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                shared.arrived.notify_waiters();
                b"250 OK queued\r\n"
            }
        } else if starts_with_ignore_case(&line, b"RSET") {
            have_recipient = false;
            b"250 OK\r\n"
        } else if starts_with_ignore_case(&line, b"NOOP") {
            b"250 OK\r\n"
        } else if starts_with_ignore_case(&line, b"QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if line.len() > MAX_MESSAGE {
            return Ok(());
        } else {
            b"502 command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
